/**
 * `npm run bench`: every scenario beside its baseline, in one run, on a fresh database that is
 * dropped at the end. Prints a table (ours, baseline, ratio ours/baseline) and writes
 * bench/results/<timestamp>.json. See bench/README.md.
 *
 * Env: BENCH_SECONDS (10) measured seconds per side; BENCH_SUBSCRIBERS (2000) for (b);
 * BENCH_WARM_SECONDS (min(2, seconds/5)) untimed warm-up per side; BENCH_NOTICE_RATE (200)
 * notices/s in (b); BENCH_DRAIN_SECONDS (600) longest wait for (b)'s deliveries after the last
 * publish; BENCH_GROUP_MEMBERS (1000) the group size in (e); BENCH_PURGE_MESSAGES (100000) and
 * BENCH_PURGE_FILES (1000) the messages and files of each dissolved group's conversation in (f);
 * BENCH_SWEEP_MESSAGES (10000000) and BENCH_SWEEP_RUNS (200) the table size and runs of (g);
 * BENCH_PURGE_DUE (1000000) the due messages of (h); BENCH_DELIVERY_SUBSCRIBERS (10000),
 * BENCH_DELIVERY_SENDERS (64) and BENCH_DELIVERY_RATE (1000) sends/s the size and fixed rate of (i)
 * and (j) (BENCH_DRAIN_SECONDS bounds their drains too);
 * BENCH_ONLY (e.g. "a,c") a subset; BENCH_CPU_PROF=1 writes a CPU profile of every
 * server child to $TMPDIR/ties-bench-prof-<timestamp>/ (read with bench/prof-top.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { BenchContext } from './context.js';
import { createBenchDatabase } from './db.js';
import { instrumentPg } from './instrument.js';
import { benchCycle } from './scenarios/cycle.js';
import { benchDelivery, benchTwoInstances } from './scenarios/delivery.js';
import { benchDissolution } from './scenarios/dissolution.js';
import { benchDuePurge, benchIdleSweep } from './scenarios/expiry.js';
import { benchGroups } from './scenarios/groups.js';
import { benchMe } from './scenarios/me.js';
import { benchNotices } from './scenarios/notices.js';
import { benchRetention } from './scenarios/retention.js';
import { type Row, table } from './stats.js';

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));

function num(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min || v > max)
    throw new Error(`${name} must be a number in [${min}, ${max}]`);
  return v;
}

const SCENARIOS = {
  a: benchMe,
  b: benchNotices,
  c: benchCycle,
  d: benchRetention,
  e: benchGroups,
  f: benchDissolution,
  g: benchIdleSweep,
  h: benchDuePurge,
  i: benchDelivery,
  j: benchTwoInstances,
} as const;
type Key = keyof typeof SCENARIOS;

async function main(): Promise<void> {
  const seconds = num('BENCH_SECONDS', 10, 1, 600);
  const subscribers = Math.round(num('BENCH_SUBSCRIBERS', 2000, 1, 10_000));
  const warmSeconds = num('BENCH_WARM_SECONDS', Math.min(2, seconds / 5), 0, 60);
  const noticeRate = num('BENCH_NOTICE_RATE', 200, 1, 5000);
  const drainSeconds = num('BENCH_DRAIN_SECONDS', 600, 1, 3600);
  const only = (process.env.BENCH_ONLY ?? 'a,b,c,d,e,f,g,h,i,j').split(',').map((s) => s.trim()) as Key[];
  for (const k of only) if (!(k in SCENARIOS)) throw new Error(`BENCH_ONLY: unknown scenario ${k}`);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  // Profiles go outside the repository (only bench/results/*.json is gitignored).
  const profDir = `${tmpdir()}/ties-bench-prof-${stamp}`;
  const childExecArgv = process.env.BENCH_CPU_PROF === '1' ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];

  instrumentPg(); // counts the floor's statements (scenarios c, d)
  const started = Date.now();
  const log = (msg: string) =>
    process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}\n`);
  const load = loadavg();
  log(
    `bench: ${seconds}s per side, warm-up ${warmSeconds}s, ${subscribers} subscribers; ` +
      `${cpus().length} cores, load average ${load.map((l) => l.toFixed(2)).join(' ')}`,
  );
  const db = await createBenchDatabase();
  log(`database ${db.name}`);
  // Interrupted: drop the database anyway (the server children exit when this process does).
  let interrupted = false;
  const onSignal = (signal: string) => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log(`${signal}: dropping ${db.name} and exiting`);
    db.drop()
      .catch(() => {})
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  const ctx: BenchContext = {
    seconds,
    warmSeconds,
    subscribers,
    noticeRate,
    drainSeconds,
    db,
    childExecArgv,
    log,
  };
  const rows: Row[] = [];
  const raw: Record<string, unknown> = {};
  const failures: Record<string, string> = {};
  try {
    for (const k of only) {
      try {
        const r = await SCENARIOS[k](ctx);
        rows.push(...r.rows);
        raw[k] = r.raw;
      } catch (err) {
        failures[k] = String((err as Error)?.stack ?? err);
        log(`scenario ${k} failed: ${(err as Error)?.message ?? err}`);
      }
    }
  } finally {
    await db.drop();
    log(`dropped ${db.name}`);
  }

  const printed = table(rows);
  process.stdout.write(`\n${printed}\n`);
  for (const [k, f] of Object.entries(failures)) process.stdout.write(`\nscenario ${k} FAILED: ${f}\n`);

  mkdirSync(RESULTS, { recursive: true });
  const file = `${RESULTS}${stamp}.json`;
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        at: new Date(started).toISOString(),
        settings: { seconds, warmSeconds, subscribers, noticeRate, drainSeconds, only },
        machine: {
          cores: cpus().length,
          model: cpus()[0]?.model,
          memoryGiB: Math.round(totalmem() / 2 ** 30),
          loadAverageAtStart: load,
          loadAverageAtEnd: loadavg(),
          node: process.version,
        },
        rows,
        table: printed,
        raw,
        failures,
      },
      (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v),
      2,
    )}\n`,
  );
  log(`wrote ${file}`);
  if (childExecArgv.length > 0) log(`CPU profiles in ${profDir}`);
  if (Object.keys(failures).length > 0) process.exitCode = 1;
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error)?.stack ?? err}\n`);
  process.exitCode = 1;
});
