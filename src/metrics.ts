import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { NoticeBus } from './notices/notices.bus.js';

export type Transport = 'http' | 'ws';

/** What `/metrics` exposes (Prometheus text format), and the calls that feed it. */
export interface Metrics {
  readonly registry: Registry;
  /** One finished operation: its duration feeds the histogram, an error code the error counter. */
  operation(name: string | null | undefined, transport: Transport, seconds: number): void;
  /** A top-level error answered, by code. */
  error(code: string, transport: Transport): void;
  /** A request refused by a rate limit (`mutation` per user, `anonymous` per address). */
  rateLimited(limit: 'mutation' | 'anonymous'): void;
  /** One retention sweep's counts (T5). */
  sweep(counts: SweepCounts): void;
}

/** What a sweep reports to `/metrics` (every count of `SweepRun`). */
export type SweepCounts = { durationMs: number } & { [count: string]: number };

/** Distinct operation names kept as label values; later ones count as `other` (bounded cardinality). */
const MAX_OPERATION_NAMES = 200;
const NAME = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;

/** The process's default metrics, the notice stream's, and per-operation durations and errors. */
export function createMetrics(bus: NoticeBus): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'ties_notice_streams',
    help: 'Live notice subscriptions on this instance.',
    registers: [registry],
    collect() {
      this.set(bus.streamCount);
    },
  });
  // The bus counts; a scrape adds what it counted since the last scrape, so these stay counters.
  const counterOf = (name: string, help: string, read: () => number) => {
    let seen = 0;
    return new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const now = read();
        if (now > seen) this.inc(now - seen);
        seen = now;
      },
    });
  };
  counterOf(
    'ties_notices_delivered_total',
    'Notices handed to subscribers by this instance.',
    () => bus.delivered,
  );
  counterOf(
    'ties_notice_stream_fallbacks_total',
    'Times a subscription fell too far behind and read on from the table instead of its buffer.',
    () => bus.fallbacks,
  );
  const durations = new Histogram({
    name: 'ties_graphql_operation_duration_seconds',
    help: 'GraphQL operations from receipt to answer (subscriptions: until set up), by operation name.',
    labelNames: ['operation', 'transport'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'ties_graphql_errors_total',
    help: 'Top-level GraphQL errors answered, by code.',
    labelNames: ['code', 'transport'],
    registers: [registry],
  });
  const limited = new Counter({
    name: 'ties_rate_limited_total',
    help: 'Requests refused by a rate limit.',
    labelNames: ['limit'],
    registers: [registry],
  });
  const sweeps = new Counter({
    name: 'ties_sweep_runs_total',
    help: 'Retention sweeps run by this instance.',
    registers: [registry],
  });
  const swept = new Counter({
    name: 'ties_sweep_items_total',
    help: 'What retention sweeps did, by count (purgedMessages, purgedFiles, heldBack, …).',
    labelNames: ['count'],
    registers: [registry],
  });
  const sweepSeconds = new Histogram({
    name: 'ties_sweep_duration_seconds',
    help: 'How long a retention sweep took.',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [registry],
  });
  const names = new Set<string>();
  const label = (name: string | null | undefined): string => {
    if (!name) return 'anonymous';
    if (!NAME.test(name)) return 'other';
    if (names.has(name)) return name;
    if (names.size >= MAX_OPERATION_NAMES) return 'other';
    names.add(name);
    return name;
  };
  return {
    registry,
    operation: (name, transport, seconds) =>
      durations.observe({ operation: label(name), transport }, seconds),
    error: (code, transport) => errors.inc({ code, transport }),
    rateLimited: (limit) => limited.inc({ limit }),
    sweep: ({ durationMs, ...counts }) => {
      sweeps.inc();
      sweepSeconds.observe(durationMs / 1000);
      for (const [count, n] of Object.entries(counts)) if (n > 0) swept.inc({ count }, n);
    },
  };
}
