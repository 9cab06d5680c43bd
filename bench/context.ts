import { signToken } from '../src/auth.js';
import { systemClock } from '../src/clock.js';
import type { Database } from '../src/db/client.js';
import type { Deps } from '../src/shared/deps.js';
import { silentLogger } from '../test/support/db.js';
import { TEST_SECRET, testConfig } from '../test/support/server.js';
import { Child, type ChildMode, type ChildStats } from './child.js';
import type { BenchDatabase } from './db.js';
import { machineCpu } from './stats.js';

export interface BenchContext {
  /** Measured seconds per side (BENCH_SECONDS). */
  seconds: number;
  /** Untimed warm-up per side before the measured run. */
  warmSeconds: number;
  /** Subscribers in scenario (b) (BENCH_SUBSCRIBERS). */
  subscribers: number;
  /** Notices per second in (b) (BENCH_NOTICE_RATE, 200). */
  noticeRate: number;
  /** Longest wait for (b)'s deliveries after the last publish (BENCH_DRAIN_SECONDS). */
  drainSeconds: number;
  db: BenchDatabase;
  /** Extra node flags for server children (BENCH_CPU_PROF=1 adds --cpu-prof). */
  childExecArgv: string[];
  log(msg: string): void;
}

/** A token ties accepts (HS256 with the test secret the ties child uses). */
export const tokenFor = (userId: string, ttlSeconds = 3600): Promise<string> =>
  signToken(TEST_SECRET, { userId, ttlSeconds, now: systemClock.now() });

/** What a server child spent over a measured window. */
export interface Usage {
  /** CPU of the server process, in cores (1.0 = one core busy). */
  serverCores: number;
  /** Whole machine busy fraction (all cores, every process: Postgres, the client, other users). */
  machineBusy: number;
  /** Client (this process) event-loop utilisation. */
  clientElu: number;
  /** CPU of this process (the load generator; for a floor, the floor itself), in cores. */
  clientCores: number;
}

/** Starts measuring a window; `end()` returns the usage since. */
export async function window(child: Child | undefined): Promise<{ end(): Promise<Usage> }> {
  const before: ChildStats | undefined = child ? await child.stats() : undefined;
  const cpu = machineCpu();
  const elu = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  return {
    async end() {
      const wall = performance.now() - t0;
      const after = child ? await child.stats() : undefined;
      return {
        serverCores: before && after ? (after.cpuMicros - before.cpuMicros) / 1000 / wall : Number.NaN,
        machineBusy: cpu(),
        clientElu: performance.eventLoopUtilization(elu).utilization,
        clientCores: (() => {
          const c = process.cpuUsage(cpu0);
          return (c.user + c.system) / 1000 / wall;
        })(),
      };
    },
  };
}

export const startChild = (ctx: BenchContext, mode: ChildMode): Promise<Child> =>
  Child.start(mode, mode === 'ties' ? [ctx.db.url] : [], ctx.childExecArgv);

/** A signed-in user as the service layer takes it (what the auth middleware would build). */
export const viewerOf = (userId: string) => ({
  userId,
  name: undefined,
  operator: false,
  deviceId: undefined,
  expiresAt: undefined,
});

/**
 * Deps for calling ties' use cases in the bench process (no HTTP, GraphQL or auth): the database,
 * the wall clock, the test config. Only for use cases that need neither the notice bus (they
 * write notices, they do not deliver them), the proof signer nor the rate limiter.
 */
export const serviceDeps = (db: Database): Deps =>
  ({ config: testConfig(), db, clock: systemClock, logger: silentLogger }) as unknown as Deps;
