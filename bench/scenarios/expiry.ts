/**
 * (g) A sweep with nothing due over a big table, and (h) purging a million due messages (T2, T5).
 *
 * (g) BENCH_SWEEP_MESSAGES (10,000,000; 1,000,000 is the quick mode) messages over 10,000 direct
 * conversations, bulk-loaded with `generate_series`; 1 % of the conversations have both parties on
 * a 30-day period (their `t2_next_at` 30 days ahead), the rest keep FOREVER (no `t2_next_at`). Ours:
 * `runSweep` end to end, BENCH_SWEEP_RUNS (200) times — time per run and statements per run. The
 * floor: what finding due work by index must cost at the least — one autocommit index probe
 * (`… WHERE <due instant> <= now LIMIT 1`) for each kind of due work the sweep looks for (R3
 * buffers, dissolution steps, finalized group purges, T2 expiries), through `pg`.
 *
 * (h) BENCH_PURGE_DUE (1,000,000) due messages: 100 direct conversations of BENCH_PURGE_DUE/100
 * messages sent two days ago, both parties on a 1-day period. Ours: `expireDueMessages` (the T2 part
 * of the sweep) timed; the floor: the same purge of an identical second set as raw batched
 * `DELETE … WHERE ctid = ANY(ARRAY(SELECT ctid … LIMIT 5000))` per conversation through `pg`, after
 * the first set is refilled so the table is as large. A concurrent `sendMessage` load (50/s, the
 * (f) load) is measured alone, during ours and during the floor.
 */

import { sql } from 'drizzle-orm';
import pg from 'pg';
import { ManualClock } from '../../src/clock.js';
import { runSweep } from '../../src/jobs/sweep.js';
import { expireDueMessages } from '../../src/retention/retention.service.js';
import { refreshT2 } from '../../src/retention/retention.store.js';
import type { Deps } from '../../src/shared/deps.js';
import { type BenchContext, serviceDeps } from '../context.js';
import { sleep } from '../load.js';
import { type Row, row, Samples } from '../stats.js';
import {
  countPool,
  envInt,
  latencyOf,
  makeGroup,
  poolOf,
  SEND_RATE,
  SendLoad,
  settle,
  since,
  snapshot,
} from './dissolution.js';

const DAY = 24 * 3600;
/** A sweep needs metrics; the bench does not read them. */
const quietMetrics = {
  sweep() {},
  operation() {},
  error() {},
  rateLimited() {},
} as unknown as Deps['metrics'];

/** `pairs` direct conversations between fresh users `<prefix>-<i>a` / `<prefix>-<i>b`; their ids. */
async function makePairs(pool: pg.Pool, prefix: string, pairs: number): Promise<string[]> {
  await pool.query(
    `INSERT INTO users (id, name, created_at)
     SELECT $1 || '-' || lpad(i::text, 6, '0') || s, 'bench', now() FROM generate_series(1, $2::int) i, unnest(ARRAY['a','b']) s`,
    [prefix, pairs],
  );
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO conversations (kind, user_low, user_high, created_at)
     SELECT 'DIRECT', $1 || '-' || lpad(i::text, 6, '0') || 'a', $1 || '-' || lpad(i::text, 6, '0') || 'b', now()
     FROM generate_series(1, $2::int) i RETURNING id`,
    [prefix, pairs],
  );
  return rows.map((r) => r.id);
}

/** `perConversation` messages in each conversation, sent `ageSeconds` ago (one per millisecond before). */
async function fillPairs(pool: pg.Pool, ids: string[], perConversation: number, ageSeconds: number) {
  const chunk = 100; // conversations per statement
  for (let i = 0; i < ids.length; i += chunk) {
    await pool.query(
      `INSERT INTO messages (conversation_id, sender_id, body, sent_at)
       SELECT c.id, c.user_low, 'bench message ' || g || ' ' || repeat('x', 60),
              now() - $3 * interval '1 second' - ($2 - g) * interval '1 millisecond'
       FROM conversations c, generate_series(1, $2::int) g
       WHERE c.id = ANY($1::uuid[])`,
      [ids.slice(i, i + chunk), perConversation, ageSeconds],
    );
  }
}

/** Both parties of these conversations on a `days`-day period for them; `t2_next_at` recomputed. */
async function periodFor(deps: Deps, pool: pg.Pool, ids: string[], days: number, now: Date) {
  await pool.query(
    `INSERT INTO retention_policies (user_id, conversation_id, period, days, updated_at)
     SELECT u, c.id, 'DAYS', $2, now() FROM conversations c, unnest(ARRAY[c.user_low, c.user_high]) u
     WHERE c.id = ANY($1::uuid[])`,
    [ids, days],
  );
  await refreshT2(deps.db, sql`c.id = ANY(${sql.param(ids)}::uuid[])`, now);
}

async function count(pool: pg.Pool, ids: string[]): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM messages WHERE conversation_id = ANY($1::uuid[])',
    [ids],
  );
  return rows[0]!.n;
}

// --- (g) -----------------------------------------------------------------------------------------

export async function benchIdleSweep(ctx: BenchContext): Promise<{ rows: Row[]; raw: unknown }> {
  const total = envInt('BENCH_SWEEP_MESSAGES', 10_000_000, 10_000, 100_000_000);
  const runs = envInt('BENCH_SWEEP_RUNS', 200, 10, 100_000);
  const pairs = 10_000;
  const setupHandle = await ctx.db.open(2);
  const setup = poolOf(setupHandle.db);
  const oursHandle = await ctx.db.open(2);
  const counter = countPool(poolOf(oursHandle.db));
  const floorPool = new pg.Pool({ connectionString: ctx.db.url, max: 1 });
  floorPool.on('error', () => {});
  const floorCounter = countPool(floorPool);
  try {
    const clock = new ManualClock(new Date());
    const deps: Deps = { ...serviceDeps(oursHandle.db), clock, metrics: quietMetrics };
    ctx.log(`(g) idle sweep: loading ${total} messages over ${pairs} conversations…`);
    const t0 = performance.now();
    const ids = await makePairs(setup, 'bench-g', pairs);
    await fillPairs(setup, ids, Math.ceil(total / pairs), 3600);
    await periodFor(serviceDeps(setupHandle.db), setup, ids.slice(0, pairs / 100), 30, clock.now());
    await settle(ctx, setup);
    const loaded = await setup.query<{ n: number }>('SELECT count(*)::int AS n FROM messages');
    const loadSeconds = (performance.now() - t0) / 1000;
    ctx.log(`    ${loaded.rows[0]!.n} messages loaded in ${loadSeconds.toFixed(0)} s; ${runs} sweeps…`);
    await runSweep(deps); // warm
    const ours = new Samples(runs);
    const s0 = snapshot(counter);
    for (let i = 0; i < runs; i++) {
      const r0 = performance.now();
      const r = await runSweep(deps);
      ours.add(performance.now() - r0);
      if (r.purgedMessages !== 0) throw new Error(`(g) a sweep purged ${r.purgedMessages} messages`);
    }
    const oursStatements = since(counter, s0).statements / runs;
    const probes = [
      'SELECT id FROM conversations WHERE purge_at <= now() LIMIT 1',
      'SELECT id FROM dissolutions WHERE next_due_at <= now() LIMIT 1',
      "SELECT id FROM conversations WHERE kind = 'GROUP' AND purge_at <= now() LIMIT 1",
      'SELECT id FROM conversations WHERE t2_next_at <= now() LIMIT 1',
    ];
    for (const q of probes) await floorPool.query(q); // warm
    const floor = new Samples(runs);
    const f0 = snapshot(floorCounter);
    for (let i = 0; i < runs; i++) {
      const r0 = performance.now();
      for (const q of probes) await floorPool.query(q);
      floor.add(performance.now() - r0);
    }
    const floorStatements = since(floorCounter, f0).statements / runs;
    if (
      (await setup.query<{ n: number }>('SELECT count(*)::int AS n FROM messages')).rows[0]!.n !==
      loaded.rows[0]!.n
    )
      throw new Error('(g) messages were deleted');
    const [o50, o99] = ours.percentiles([50, 99]);
    const [f50, f99] = floor.percentiles([50, 99]);
    ctx.log(
      `    ours p50 ${o50!.toFixed(2)} ms p99 ${o99!.toFixed(2)} ms (goal < 5 ms); floor p50 ${f50!.toFixed(2)} ms`,
    );
    const s = `(g) idle sweep over ${(loaded.rows[0]!.n / 1e6).toFixed(1)}M messages`;
    return {
      rows: [
        row(s, 'time per run p50', 'ms', o50!, f50!, 'lower'),
        row(s, 'time per run p99', 'ms', o99!, f99!, 'lower'),
        row(s, 'statements per run', 'count', oursStatements, floorStatements, 'lower'),
      ],
      raw: { total: loaded.rows[0]!.n, loadSeconds, runs, ours: { o50, o99 }, floor: { f50, f99 } },
    };
  } finally {
    await floorPool.end();
    await setup.query('TRUNCATE messages, stars, retention_policies CASCADE').catch(() => {});
  }
}

// --- (h) -----------------------------------------------------------------------------------------

export async function benchDuePurge(ctx: BenchContext): Promise<{ rows: Row[]; raw: unknown }> {
  const due = envInt('BENCH_PURGE_DUE', 1_000_000, 1_000, 50_000_000);
  const convs = 100;
  const per = Math.ceil(due / convs);
  const setupHandle = await ctx.db.open(2);
  const setup = poolOf(setupHandle.db);
  const oursHandle = await ctx.db.open(2);
  const counter = countPool(poolOf(oursHandle.db));
  const loadHandle = await ctx.db.open(8);
  const floorPool = new pg.Pool({ connectionString: ctx.db.url, max: 1 });
  floorPool.on('error', () => {});
  const floorCounter = countPool(floorPool);
  let load: SendLoad | undefined;
  try {
    const clock = new ManualClock(new Date());
    const deps: Deps = { ...serviceDeps(oursHandle.db), clock, metrics: quietMetrics };
    const setupDeps = serviceDeps(setupHandle.db);
    ctx.log(`(h) due purge: 2 × ${convs} conversations × ${per} messages sent 2 days ago, 1-day periods…`);
    const a = await makePairs(setup, 'bench-ha', convs);
    const b = await makePairs(setup, 'bench-hb', convs);
    await fillPairs(setup, a, per, 2 * DAY);
    await fillPairs(setup, b, per, 2 * DAY);
    await periodFor(setupDeps, setup, a, 1, clock.now());
    const g = await makeGroup(setupDeps, setupHandle.db, 'bench-h-load');
    load = new SendLoad(serviceDeps(loadHandle.db), g.conversationId, g.ids);
    load.start();
    await settle(ctx, setup);
    const aloneSamples = load.window();
    await sleep(ctx.seconds * 1000);
    load.pause();
    const alone = latencyOf(aloneSamples);

    const o0 = snapshot(counter);
    const oursSamples = load.window();
    const t0 = performance.now();
    const r = await expireDueMessages(deps, clock.now());
    const oursMs = performance.now() - t0;
    load.pause();
    const oursStatements = since(counter, o0).statements;
    if (r.expiredMessages !== per * convs || (await count(setup, a)) !== 0)
      throw new Error(`(h) ours purged ${r.expiredMessages}, left ${await count(setup, a)}`);
    if ((await count(setup, b)) !== per * convs) throw new Error('(h) ours touched the floor set');
    const during = latencyOf(oursSamples);
    ctx.log(
      `    ours ${oursMs.toFixed(0)} ms, ${oursStatements} statements, sendMessage p99 ${during.p99.toFixed(1)} ms`,
    );

    await fillPairs(setup, a, per, 2 * DAY); // the same table size for the floor
    await settle(ctx, setup);
    const f0 = snapshot(floorCounter);
    const floorSamples = load.window();
    const t1 = performance.now();
    let deleted = 0;
    for (const id of b) {
      for (;;) {
        const d = await floorPool.query(
          'DELETE FROM messages WHERE ctid = ANY(ARRAY(SELECT ctid FROM messages WHERE conversation_id = $1 LIMIT 5000))',
          [id],
        );
        deleted += d.rowCount ?? 0;
        if ((d.rowCount ?? 0) < 5000) break;
      }
    }
    const floorMs = performance.now() - t1;
    load.pause();
    const floorStatements = since(floorCounter, f0).statements;
    if (deleted !== per * convs || (await count(setup, b)) !== 0)
      throw new Error(`(h) floor deleted ${deleted}`);
    const floorDuring = latencyOf(floorSamples);
    await load.stop();
    if (load.errors > 0) throw new Error(`(h) sendMessage failed ${load.errors}×: ${load.firstError}`);
    const s = `(h) purge ${((per * convs) / 1e6).toFixed(1)}M due messages, ${SEND_RATE} sends/s`;
    return {
      rows: [
        row(
          s,
          'messages purged',
          '/s',
          (per * convs * 1000) / oursMs,
          (per * convs * 1000) / floorMs,
          'higher',
        ),
        row(s, 'purge time', 'ms', oursMs, floorMs, 'lower'),
        row(s, 'SQL statements', 'count', oursStatements, floorStatements, 'lower'),
        row(s, 'sendMessage p99 during ours vs alone', 'ms', during.p99, alone.p99, 'lower'),
        row(s, 'sendMessage p99 during floor vs alone', 'ms', floorDuring.p99, alone.p99, 'lower'),
        row(s, 'sendMessage p50 during ours vs alone', 'ms', during.p50, alone.p50, 'lower'),
      ],
      raw: { oursMs, floorMs, oursStatements, floorStatements, alone, during, floorDuring },
    };
  } finally {
    await load?.stop();
    await floorPool.end();
  }
}
