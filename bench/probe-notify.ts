/**
 * Dev probe (not part of `npm run bench`): commits/s of small writing transactions at 16 clients,
 * with and without `pg_notify` before COMMIT (every ties write use case notifies). Postgres
 * serialises the commits of notifying transactions on one cluster-wide lock held through the WAL
 * flush, so they cannot share a flush (no group commit). The third mode notifies in its own
 * statement right after COMMIT (no xid, no WAL flush under the lock). Run: `npx tsx bench/probe-notify.ts`.
 */
import pg from 'pg';
import { createBenchDatabase } from './db.js';
import { closedLoop } from './load.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 4);
const bdb = await createBenchDatabase();
const pool = new pg.Pool({ connectionString: bdb.url, max: 16 });
pool.on('error', () => {});
try {
  await pool.query('create table probe (id bigserial primary key, v text)');
  type Mode = 'none' | 'in-tx' | 'after';
  const label = {
    none: 'without pg_notify     ',
    'in-tx': 'pg_notify in the tx   ',
    after: 'pg_notify after COMMIT',
  };
  for (const mode of ['none', 'in-tx', 'after', 'none', 'in-tx', 'after'] as Mode[]) {
    const r = await closedLoop({
      workers: 16,
      seconds,
      maxOps: 1_000_000,
      prepare: () => 0,
      op: async () => {
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
    process.stdout.write(
      `${label[mode]}: ${r.perSecond.toFixed(0)} commits/s, p50 ${p50!.toFixed(1)} ms, p99 ${p99!.toFixed(1)} ms\n`,
    );
  }
} finally {
  await pool.end();
  await bdb.drop();
}
