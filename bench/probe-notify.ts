/**
 * Dev probe (not part of `npm run bench`): commits/s of small writing transactions at 16 clients,
 * with and without `pg_notify` before COMMIT (before issue 12 every ties write use case notified
 * there). Postgres serialises the commits of notifying transactions on one cluster-wide lock held
 * through the WAL flush, so they cannot share a flush (no group commit). The third mode notifies
 * in its own statement right after COMMIT (no xid, no WAL flush under the lock). The last two run
 * ties' own notice write (`publish` in `db.transaction` on a ties database handle): as it is now
 * (wake-up after COMMIT, coalesced: src/db/commit-signal.ts) and with the old NOTIFY added back
 * inside the transaction. Run: `npx tsx bench/probe-notify.ts`.
 */
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { openDatabase } from '../src/db/client.js';
import { migrateDatabase } from '../src/db/migrate.js';
import { publish } from '../src/notices/notices.outbox.js';
import { NOTICE_CHANNEL } from '../src/notices/notices.store.js';
import { silentLogger } from '../test/support/db.js';
import { createBenchDatabase } from './db.js';
import { closedLoop } from './load.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 4);
const bdb = await createBenchDatabase();
const pool = new pg.Pool({ connectionString: bdb.url, max: 16 });
pool.on('error', () => {});
const ties = await openDatabase({
  databaseUrl: bdb.url,
  dataDir: 'memory://',
  logger: silentLogger,
  poolSize: 16,
});
await migrateDatabase(ties);
const notice = (n: number) => [
  {
    recipientIds: [`u${n % 1000}`],
    kind: 'ConversationPurged',
    payload: { conversationId: 'c', reason: 'probe', purgedMessages: n },
  },
];
let seq = 0;
try {
  await pool.query('create table probe (id bigserial primary key, v text)');
  type Mode = 'none' | 'in-tx' | 'after' | 'ties' | 'ties-old';
  const label = {
    none: 'without pg_notify                     ',
    'in-tx': 'pg_notify in the tx                   ',
    after: 'pg_notify after COMMIT                ',
    ties: 'ties publish, wake-up after COMMIT    ',
    'ties-old': 'ties publish + pg_notify in the tx    ',
  };
  const modes: Mode[] = ['none', 'in-tx', 'after', 'ties', 'ties-old'];
  for (const mode of [...modes, ...modes]) {
    const sent0 = ties.signals.sent;
    const r = await closedLoop({
      workers: 16,
      seconds,
      maxOps: 1_000_000,
      prepare: () => 0,
      op: async () => {
        if (mode === 'ties' || mode === 'ties-old') {
          await ties.db.transaction(async (tx) => {
            await publish(tx, notice(seq++), new Date());
            if (mode === 'ties-old') await tx.execute(sql`SELECT pg_notify(${NOTICE_CHANNEL}, '')`);
          });
          return;
        }
        const c = await pool.connect();
        try {
          await c.query('begin');
          await c.query("insert into probe (v) values ('x')");
          if (mode === 'in-tx') await c.query("select pg_notify('probe', '')");
          await c.query('commit');
          if (mode === 'after') await c.query("select pg_notify('probe', '')");
        } finally {
          c.release();
        }
      },
    });
    const [p50, p99] = r.latency.percentiles([50, 99]);
    const notifies = mode === 'ties' ? `, ${ties.signals.sent - sent0} NOTIFYs sent after COMMIT` : '';
    process.stdout.write(
      `${label[mode]}: ${r.perSecond.toFixed(0)} commits/s, p50 ${p50!.toFixed(1)} ms, p99 ${p99!.toFixed(1)} ms${notifies}\n`,
    );
  }
} finally {
  await ties.close();
  await pool.end();
  await bdb.drop();
}
