import { type Logger, pino } from 'pino';
import type { Config } from './config.js';

/** The process logger: JSON lines on stdout (pretty in a terminal outside production). */
export function createLogger(config: Pick<Config, 'logLevel' | 'nodeEnv'>): Logger {
  const pretty = config.nodeEnv !== 'production' && process.stdout.isTTY;
  return pino({
    level: config.logLevel,
    base: { service: 'ties' },
    redact: ['req.headers.authorization', 'connectionParams.authorization'],
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l' } } } : {}),
  });
}
