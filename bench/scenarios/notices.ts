/**
 * (b) N graphql-ws subscribers (each its own user and token) on one server process; 200 notices/s
 * for BENCH_SECONDS, each to all N. Ours: ties in a child process, each notice published by this
 * process through `publish()` in its own transaction (one row, N recipients). Baseline: a bare
 * graphql-ws child broadcasting the same payload from memory when this process says so (IPC).
 * Latency: this process' clock, just before COMMIT (ours) / before the IPC send (baseline), to the
 * receipt of each delivery here.
 */

import type { DatabaseHandle } from '../../src/db/client.js';
import { publish } from '../../src/notices/notices.outbox.js';
import type { Child, ChildStats } from '../child.js';
import { type BenchContext, startChild, tokenFor, type Usage, window } from '../context.js';
import { sleep } from '../load.js';
import { type Row, row, Samples } from '../stats.js';
import { inBatches, Subscriber, type SubscriberEvents } from '../ws-client.js';

const CONNECT_CONCURRENCY = 50;
const PUBLISH_INFLIGHT = 8; // concurrent publishing transactions at most (ours)
const STALL_MS = 15_000; // drain ends early when nothing arrives for this long
const QUERY = 'subscription { notices { cursor ... on ConversationPurged { conversationId } } }';

interface Side {
  subscribers: number;
  published: number;
  publishSeconds: number;
  publishRate: number;
  expected: number;
  delivered: number;
  deliveriesPerSecond: number;
  drainSeconds: number;
  p50: number;
  p99: number;
  missing: number;
  duplicates: number;
  /** Never reached a subscriber whose socket the server closed. */
  undeliveredClosed: number;
  /** Never reached a subscriber still connected when the drain ended. */
  undeliveredOpen: number;
  /** Sockets closed while subscribed, by close code. */
  closes: Record<string, number>;
  closed: number;
  problems: number;
  firstProblem: string | undefined;
  /** Server event-loop delay over the publish + drain window, ms. */
  loopDelayMaxMs: number;
  loopDelayP99Ms: number;
  rssIdle: number;
  rssSubscribed: number;
  rssPerSubscriberKiB: number;
  rssPeak: number;
  connectSeconds: number;
  usage: Usage;
}

export async function waitFor(
  what: string,
  cond: () => Promise<boolean> | boolean,
  ms: number,
): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await cond())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * One subscriber per user, each with its own token, `CONNECT_CONCURRENCY` connecting at a time;
 * subscriber `i` (the index its events carry) connects to `servers[serverOf(i)]`. Each is added to
 * `subs` before it opens, so the caller can close them all even when one fails. Resolves once every
 * server counts its streams; returns the seconds from the first connection (tokens are made before).
 */
export async function subscribeAll(
  servers: Child[],
  users: string[],
  query: string,
  events: SubscriberEvents,
  subs: Subscriber[],
  opts: { mark?: string; serverOf?: (i: number) => number } = {},
): Promise<number> {
  const serverOf = opts.serverOf ?? (() => 0);
  const urls = servers.map((c) => `${c.url.replace('http', 'ws')}/graphql`);
  const tokens = await Promise.all(users.map((u) => tokenFor(u)));
  const start = performance.now();
  for (let i = 0; i < users.length; i++)
    subs.push(new Subscriber(i, urls[serverOf(i)]!, tokens[i]!, query, events, opts.mark));
  await inBatches(subs, CONNECT_CONCURRENCY, (s) => s.open());
  await Promise.all(
    servers.map((c, k) => {
      const want = users.filter((_, i) => serverOf(i) === k).length;
      return waitFor(`${want} streams`, async () => (await c.stats()).streams >= want, 60_000);
    }),
  );
  return (performance.now() - start) / 1000;
}

/**
 * Waits for deliveries after the last send: until `count()` reaches `expected`, nothing new has
 * arrived for STALL_MS, or `deadline` (a `performance.now()` instant) has passed.
 */
export async function drain(count: () => number, expected: number, deadline: number): Promise<void> {
  let lastCount = -1;
  let lastChange = performance.now();
  while (count() < expected && performance.now() < deadline) {
    if (count() !== lastCount) {
      lastCount = count();
      lastChange = performance.now();
    } else if (performance.now() - lastChange > STALL_MS) break;
    await sleep(100);
  }
}

/**
 * What one side of a fan-out run sends to whom. The default is (b): `ctx.subscribers` users
 * `sub-<mode>-<i>`, `ctx.noticeRate` notices/s of ConversationPurged published straight through
 * `publish()`. Scenario (e) sends group messages through the service layer instead.
 */
export interface FanOut {
  subscribers: number;
  rate: number;
  /** Measured notices: seq 1..total (0 is the preflight). */
  total: number;
  userOf(mode: 'ties' | 'ws', i: number): string;
  query: string;
  /** The bytes before a notice's decimal seq in a frame (see ws-client.ts). */
  mark?: string;
  /**
   * Makes notice `seq` on the ties side; calls `started()` at the instant latency counts from.
   * Default: one ConversationPurged row to every subscriber, `started` just before COMMIT.
   */
  publishOurs?(seq: number, started: () => void): Promise<void>;
}

export async function side(
  ctx: BenchContext,
  mode: 'ties' | 'ws',
  publisher: DatabaseHandle,
  plan: FanOut = {
    subscribers: ctx.subscribers,
    rate: ctx.noticeRate,
    total: Math.round(ctx.noticeRate * ctx.seconds),
    userOf: (m, i) => `sub-${m}-${i}`,
    query: QUERY,
  },
): Promise<Side> {
  const n = plan.subscribers;
  const RATE = plan.rate;
  const total = plan.total;
  const stride = total + 1;
  const seen = new Uint8Array(n * stride);
  const t0 = new Float64Array(stride);
  const latency = new Samples(n * total);
  let delivered = 0;
  let lastReceipt = 0;
  let problems = 0;
  let firstProblem: string | undefined;
  const closedAt = new Float64Array(n); // 0 = open
  const closes: Record<string, number> = {};
  const events = {
    onNotice(sub: number, seq: number) {
      const now = performance.now();
      if (seq > total) return;
      const k = sub * stride + seq;
      const c = seen[k]!;
      if (c < 255) seen[k] = c + 1;
      if (seq === 0) return;
      delivered++;
      lastReceipt = now;
      if (c === 0) latency.add(now - t0[seq]!);
    },
    onProblem(sub: number, what: string) {
      problems++;
      firstProblem ??= `subscriber ${sub}: ${what}`;
    },
    onClosed(sub: number, code: number, reason: string) {
      closedAt[sub] = performance.now();
      const k = `${code}${reason ? ` ${reason}` : ''}`;
      closes[k] = (closes[k] ?? 0) + 1;
    },
  };

  const child: Child = await startChild(ctx, mode);
  const subs: Subscriber[] = [];
  try {
    const idle = await child.gcStats();
    const recipients = Array.from({ length: n }, (_, i) => plan.userOf(mode, i));
    const query = mode === 'ws' ? QUERY : plan.query;
    const mark = mode === 'ws' ? undefined : plan.mark;
    const connectSeconds = await subscribeAll([child], recipients, query, events, subs, { mark });
    const subscribed = await child.gcStats();

    let inflight = 0;
    const doPublish = async (seq: number): Promise<void> => {
      if (mode === 'ws') {
        t0[seq] = performance.now();
        child.publish(seq);
        return;
      }
      inflight++;
      try {
        if (plan.publishOurs) {
          await plan.publishOurs(seq, () => {
            t0[seq] = performance.now();
          });
          return;
        }
        await publisher.db.transaction(async (tx) => {
          await publish(
            tx,
            [
              {
                recipientIds: recipients,
                kind: 'ConversationPurged',
                payload: { conversationId: `bench-${seq}`, reason: 'R3', purgedMessages: 0 },
              },
            ],
            new Date(),
          );
          t0[seq] = performance.now(); // the callback returns, then Drizzle sends COMMIT
        });
      } finally {
        inflight--;
      }
    };

    // Preflight: one notice reaches every subscriber.
    await doPublish(0);
    await waitFor(
      'the preflight notice',
      () => {
        for (let s = 0; s < n; s++) if (seen[s * stride] === 0) return false;
        return true;
      },
      60_000,
    );

    let peak: ChildStats = subscribed;
    const sampler = setInterval(() => {
      child
        .stats()
        .then((s) => {
          if (s.rss > peak.rss) peak = s;
        })
        .catch(() => {});
    }, 1000);
    const w = await window(child);
    const pending = new Set<Promise<void>>();
    let publishErrors = 0;
    const start = performance.now();
    const hardStop = start + ctx.seconds * 1000 * 3; // a publisher far behind gives up (bounded)
    let published = 0;
    for (let seq = 1; seq <= total && performance.now() < hardStop; seq++) {
      const due = start + ((seq - 1) * 1000) / RATE;
      const wait = due - performance.now();
      if (wait >= 1) await sleep(wait);
      while (inflight >= PUBLISH_INFLIGHT) await Promise.race(pending);
      const p = doPublish(seq)
        .catch((err) => {
          publishErrors++;
          events.onProblem(-1, `publish ${seq} failed: ${err}`);
        })
        .finally(() => pending.delete(p));
      pending.add(p);
      published++;
    }
    await Promise.all(pending);
    const publishEnd = performance.now();
    const expected = (published - publishErrors) * n;
    await drain(() => delivered, expected, publishEnd + ctx.drainSeconds * 1000);
    const usage = await w.end();
    clearInterval(sampler);
    const end_ = await child.stats();

    // Missing = a gap before the newest notice a subscriber got; undelivered = never reached it.
    let missing = 0;
    let duplicates = 0;
    let undeliveredClosed = 0;
    let undeliveredOpen = 0;
    for (let s = 0; s < n; s++) {
      let newest = 0;
      for (let q = published; q >= 1; q--) {
        if (seen[s * stride + q]! > 0) {
          newest = q;
          break;
        }
      }
      for (let q = 1; q <= published; q++) {
        const c = seen[s * stride + q]!;
        if (c > 1) duplicates += c - 1;
        if (c === 0) {
          if (q < newest) missing++;
          else if (closedAt[s]! > 0) undeliveredClosed++;
          else undeliveredOpen++;
        }
      }
    }
    const [p50, p99] = latency.percentiles([50, 99]);
    const end = lastReceipt > 0 ? lastReceipt : performance.now();
    return {
      subscribers: n,
      published,
      publishSeconds: (publishEnd - start) / 1000,
      publishRate: (published / (publishEnd - start)) * 1000,
      expected,
      delivered,
      deliveriesPerSecond: (delivered / (end - start)) * 1000,
      drainSeconds: Math.max(0, (end - publishEnd) / 1000),
      p50: p50!,
      p99: p99!,
      missing,
      duplicates,
      undeliveredClosed,
      undeliveredOpen,
      closes,
      closed: Object.values(closes).reduce((a, b) => a + b, 0),
      problems,
      firstProblem,
      loopDelayMaxMs: end_.loopDelayMaxMs,
      loopDelayP99Ms: end_.loopDelayP99Ms,
      rssIdle: idle.rss,
      rssSubscribed: subscribed.rss,
      rssPerSubscriberKiB: (subscribed.rss - idle.rss) / n / 1024,
      rssPeak: peak.rss,
      connectSeconds,
      usage,
    };
  } finally {
    await inBatches(subs, 500, (s) => s.close());
    await child.stop();
  }
}

export async function benchNotices(ctx: BenchContext): Promise<{ rows: Row[]; raw: unknown }> {
  const publisher = await ctx.db.open(PUBLISH_INFLIGHT);
  const RATE = ctx.noticeRate;
  ctx.log(`(b) notices: ${ctx.subscribers} subscribers × ${RATE}/s for ${ctx.seconds} s; bare graphql-ws…`);
  const base = await side(ctx, 'ws', publisher);
  ctx.log(
    `    ${base.deliveriesPerSecond.toFixed(0)} deliveries/s, drained in ${base.drainSeconds.toFixed(1)} s; ties…`,
  );
  const ours = await side(ctx, 'ties', publisher);
  ctx.log(
    `    ${ours.deliveriesPerSecond.toFixed(0)} deliveries/s, drained in ${ours.drainSeconds.toFixed(1)} s`,
  );
  const s = `(b) notices ${ctx.subscribers} subs × ${RATE}/s`;
  const mib = (b: number) => b / 1024 / 1024;
  const rows = [
    row(s, 'commit→delivery p50', 'ms', ours.p50, base.p50, 'lower'),
    row(s, 'commit→delivery p99', 'ms', ours.p99, base.p99, 'lower'),
    row(s, 'deliveries', '/s', ours.deliveriesPerSecond, base.deliveriesPerSecond, 'higher'),
    row(s, 'notices published', '/s', ours.publishRate, base.publishRate, 'higher'),
    row(s, 'drain after last publish', 's', ours.drainSeconds, base.drainSeconds, 'lower'),
    row(s, 'RSS per subscriber', 'KiB', ours.rssPerSubscriberKiB, base.rssPerSubscriberKiB, 'lower'),
    row(s, 'server peak RSS', 'MiB', mib(ours.rssPeak), mib(base.rssPeak), 'lower'),
    row(
      s,
      'server CPU per delivery',
      'µs',
      (ours.usage.serverCores * 1e6) / ours.deliveriesPerSecond,
      (base.usage.serverCores * 1e6) / base.deliveriesPerSecond,
      'lower',
    ),
    row(s, 'server CPU', 'cores', ours.usage.serverCores, base.usage.serverCores, 'none'),
    row(s, 'client event-loop busy', '%', ours.usage.clientElu * 100, base.usage.clientElu * 100, 'none'),
    row(s, 'missing (gaps)', 'count', ours.missing, base.missing, 'lower'),
    row(s, 'duplicates', 'count', ours.duplicates, base.duplicates, 'lower'),
    row(s, 'sockets closed by the server', 'count', ours.closed, base.closed, 'lower'),
    row(s, 'undelivered: socket closed', 'count', ours.undeliveredClosed, base.undeliveredClosed, 'lower'),
    row(s, 'undelivered: not drained in time', 'count', ours.undeliveredOpen, base.undeliveredOpen, 'lower'),
    row(s, 'other stream problems', 'count', ours.problems, base.problems, 'lower'),
    row(s, 'server event-loop delay max', 'ms', ours.loopDelayMaxMs, base.loopDelayMaxMs, 'lower'),
  ];
  return { rows, raw: { ours, baseline: base } };
}
