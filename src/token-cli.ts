// `npm run token -- <userId> [--operator] [--device <id>] [--name <name>] [--ttl 1h]`
// Prints one token, alone on the last line, valid for a server started from this directory and configuration.
import { parseArgs } from 'node:util';
import { parseTtl, signToken } from './auth.js';
import { systemClock } from './clock.js';
import { ConfigError, loadConfig } from './config.js';

const usage = 'usage: npm run token -- <userId> [--operator] [--device <id>] [--name <name>] [--ttl 1h]';
try {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      operator: { type: 'boolean', default: false },
      device: { type: 'string' },
      name: { type: 'string' },
      ttl: { type: 'string', default: '1h' },
    },
  });
  const userId = positionals[0];
  const ttlSeconds = parseTtl(values.ttl);
  if (!userId || positionals.length > 1 || ttlSeconds === null) {
    process.stderr.write(`${usage}\n`);
    process.exit(2);
  }
  const config = loadConfig();
  const token = await signToken(config.jwtSecret, {
    userId,
    operator: values.operator,
    ttlSeconds,
    now: systemClock.now(),
    ...(values.device ? { deviceId: values.device } : {}),
    ...(values.name ? { name: values.name } : {}),
  });
  process.stdout.write(`${token}\n`);
} catch (err) {
  process.stderr.write(
    `${err instanceof ConfigError || err instanceof TypeError ? err.message : String(err)}\n${usage}\n`,
  );
  process.exit(2);
}
