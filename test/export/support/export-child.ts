// Runs one export against a database in a process of its own, so a test can give it a small heap
// (`node --max-old-space-size=48`): an archive built in memory would not fit. Prints one JSON line:
// the service's answer and the process's peak memory (V8 heap, Buffers, resident).
import { pino } from 'pino';
import { ManualClock } from '../../../src/clock.js';
import type { Config } from '../../../src/config.js';
import { openDatabase } from '../../../src/db/client.js';
import { exportConversation } from '../../../src/export/export.service.js';

const env = process.env;
const logger = pino({ level: 'silent' });
const database = await openDatabase({
  databaseUrl: env.DATABASE_URL,
  dataDir: 'memory://',
  logger,
  poolSize: 2,
});
let peakHeap = 0;
let peakBuffers = 0;
const sample = setInterval(() => {
  const m = process.memoryUsage();
  peakHeap = Math.max(peakHeap, m.heapUsed);
  peakBuffers = Math.max(peakBuffers, m.arrayBuffers);
}, 20);
const started = performance.now();
try {
  const r = await exportConversation(
    {
      config: { dataDir: env.DATA_DIR! } as Config,
      db: database.db,
      clock: new ManualClock(env.NOW!),
      logger,
    },
    { userId: env.VIEWER! },
    { conversationId: env.CONVERSATION!, ...(env.PASSPHRASE ? { passphrase: env.PASSPHRASE } : {}) },
  );
  clearInterval(sample);
  process.stdout.write(
    `${JSON.stringify({
      result: r,
      ms: Math.round(performance.now() - started),
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
      peakHeapBytes: peakHeap,
      peakBufferBytes: peakBuffers,
    })}\n`,
  );
} finally {
  clearInterval(sample);
  await database.close();
}
