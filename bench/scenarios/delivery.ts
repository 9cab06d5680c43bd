/**
 * (i) Realistic delivery: BENCH_DELIVERY_SUBSCRIBERS (10,000) users, each subscribed to `notices`
 * on the ties child over graphql-ws with its own token; BENCH_DELIVERY_SENDERS (64) of them send
 * direct messages to their friends (every other subscriber is the friend of one sender) through
 * the real `sendMessage` mutation over HTTP, with an idempotency key. Phase 1: BENCH_DELIVERY_RATE
 * (1,000) sends/s open loop (issued on schedule whatever is in flight, the senders in turn) for
 * BENCH_SECONDS; phase 2: closed loop (each sender sends again as soon as its previous send
 * returns) for BENCH_SECONDS. Every message must reach its recipient's subscription exactly once
 * (counted by message id); latency from the message's `sentAt` (server clock, set in the sending
 * transaction, so the commit is included) to its receipt here. The floor: the rows a sendMessage
 * writes, minus the notice and its wake-up (the rate-limit counter, then the message and its
 * idempotency key in one transaction), straight through `pg` from as many connections as there
 * are senders, closed loop.
 *
 * (j) The same load against two ties children on the same database: subscriber i on instance
 * i % 2, sends alternating between them (so about half the deliveries cross instances), beside
 * one instance — (i)'s figures when (i) ran earlier in this process with the same settings, else
 * a one-instance run inside (j) first.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { systemClock } from '../../src/clock.js';
import { respondToFriendRequest, sendFriendRequest } from '../../src/contacts/contacts.service.js';
import { fingerprintOf } from '../../src/idempotency/idempotency.js';
import { refreshT2 } from '../../src/retention/retention.store.js';
import { ensureUser } from '../../src/users/users.store.js';
import type { Child, ChildStats } from '../child.js';
import { type BenchContext, serviceDeps, startChild, tokenFor, viewerOf, window } from '../context.js';
import { instrumentPg } from '../instrument.js';
import { closedLoop, GraphQLHttp, sleep } from '../load.js';
import { type Row, row, Samples } from '../stats.js';
import { inBatches, type Subscriber, type SubscriberEvents } from '../ws-client.js';
import { envInt, type Latency, latencyOf, poolOf } from './dissolution.js';
import { drain, subscribeAll, waitFor } from './notices.js';

const QUERY =
  'subscription { notices { cursor at ... on MessageReceived { conversationId messageId senderId } } }';
const SEND =
  'mutation($i: SendMessageInput!) { sendMessage(input: $i) { message { id sentAt } userErrors { code message } } }';
/** HTTP sockets per instance: the open loop's sends reach the server instead of queueing here. */
const HTTP_SOCKETS = 256;
const P99_GOAL_MS = 100;
const FLOOR_GOAL = 0.7;
/** The rate-limit window of the ties child (bench/server.ts), for the floor's counter row. */
const RATE_WINDOW_MS = 60_000;
const MESSAGE_ID = Buffer.from('"messageId":"');
const UUID_LENGTH = 36;
const PREFIX = 'dl-';
const userOf = (i: number) => `${PREFIX}${String(i).padStart(5, '0')}`;
const bodyOf = (k: number) => `message ${k}: lorem ipsum dolor sit amet, consectetur adipiscing elit`;

interface Settings {
  subscribers: number;
  senders: number;
  rate: number;
}

function settingsOf(): Settings {
  const senders = envInt('BENCH_DELIVERY_SENDERS', 64, 1, 1000);
  return {
    senders,
    subscribers: envInt('BENCH_DELIVERY_SUBSCRIBERS', 10_000, 2 * senders, 15_000),
    rate: envInt('BENCH_DELIVERY_RATE', 1000, 1, 100_000),
  };
}

// --- friendships -----------------------------------------------------------------------------------

/** Sender s's friends: their subscriber index and the pair's conversation. */
interface Setup {
  friends: { sub: number; conversationId: string }[][];
}

/**
 * Every non-sender j is a friend of sender j % senders, as a request from the sender accepted by j
 * leaves it: the accepted request, both FRIEND entries, the DIRECT conversation (its T2 instant
 * recomputed by ties' own `refreshT2`) and the four notices (received; changed ×2, accepted).
 */
const BEFRIEND = `
  WITH p AS (SELECT s, f FROM unnest($1::text[], $2::text[]) AS p(s, f)),
  r AS (
    INSERT INTO friend_requests (from_id, to_id, greeting, status, hidden, created_at, responded_at)
    SELECT s, f, NULL, 'ACCEPTED', false, $3, $4 FROM p RETURNING id, from_id, to_id),
  e AS (
    INSERT INTO contact_entries (owner_id, peer_id, state, since, state_before_block)
    SELECT v.o, v.q, 'FRIEND', $4, NULL FROM p CROSS JOIN LATERAL (VALUES (p.f, p.s), (p.s, p.f)) v(o, q)),
  c AS (
    INSERT INTO conversations (kind, user_low, user_high, created_at)
    SELECT 'DIRECT', least(s, f), greatest(s, f), $4 FROM p RETURNING id, user_low, user_high)
  INSERT INTO notices (recipient_ids, kind, payload, at)
  SELECT n.recipient_ids, n.kind, n.payload, n.at FROM (
    SELECT 0 AS step, r.id AS rid, ARRAY[r.to_id] AS recipient_ids, 'FriendRequestReceived' AS kind,
           jsonb_build_object('requestId', r.id, 'fromUserId', r.from_id, 'greeting', NULL) AS payload,
           $3::timestamptz AS at
    FROM r
    UNION ALL
    SELECT v.step, r.id, v.recipient_ids, v.kind, v.payload, $4::timestamptz
    FROM r JOIN c ON c.user_low = least(r.from_id, r.to_id) AND c.user_high = greatest(r.from_id, r.to_id)
    CROSS JOIN LATERAL (VALUES
      (1, ARRAY[r.to_id], 'ContactChanged', jsonb_build_object('peerId', r.from_id, 'state', 'FRIEND', 'deviceId', NULL)),
      (2, ARRAY[r.from_id], 'ContactChanged', jsonb_build_object('peerId', r.to_id, 'state', 'FRIEND', 'deviceId', NULL)),
      (3, ARRAY[r.from_id], 'FriendRequestAccepted',
          jsonb_build_object('requestId', r.id, 'byUserId', r.to_id, 'conversationId', c.id))
    ) v(step, recipient_ids, kind, payload)
  ) n
  ORDER BY n.step = 0 DESC, n.rid, n.step`;

/**
 * Everything stored about a pair (requester `a`, accepter `b`), ids and instants replaced by
 * placeholders: equal for two pairs befriended the same way.
 */
async function pairShape(pool: pg.Pool, a: string, b: string): Promise<string> {
  const q = async (text: string) => (await pool.query(text, [a, b])).rows;
  const requests = await q(
    'SELECT * FROM friend_requests WHERE (from_id, to_id) IN (($1, $2), ($2, $1)) ORDER BY created_at',
  );
  const [conversation] = await q(
    'SELECT * FROM conversations WHERE user_low = least($1, $2) AND user_high = greatest($1, $2)',
  );
  let text = JSON.stringify({
    users: await q('SELECT * FROM users WHERE id IN ($1, $2) ORDER BY id = $1 DESC'),
    requests,
    entries: await q(
      'SELECT * FROM contact_entries WHERE (owner_id, peer_id) IN (($1, $2), ($2, $1)) ORDER BY owner_id = $1 DESC',
    ),
    conversation,
    // The pair's notices: to one of them, about the other.
    notices: await q(
      `SELECT recipient_ids, kind, payload, at FROM notices
       WHERE recipient_ids && ARRAY[$1, $2]::text[]
         AND ARRAY[$1, $2]::text[] <@ (recipient_ids || ARRAY[payload->>'peerId', payload->>'byUserId', payload->>'fromUserId'])
       ORDER BY id`,
    ),
  });
  const names: [unknown, string][] = [
    [a, 'a'],
    [b, 'b'],
    [conversation?.id, 'conversation'],
    ...requests.map((r, i): [unknown, string] => [r.id, `request ${i}`]),
  ];
  for (const [id, name] of names)
    if (typeof id === 'string') text = text.replaceAll(`"${id}"`, `"<${name}>"`);
  return text.replace(/"\d{4}-\d\d-\d\dT[\d:.]+Z"/g, '"<instant>"');
}

/**
 * The users and friendships, by bulk SQL (seconds for 10,000 pairs, where ties' use cases would
 * take minutes); checked against one pair befriended through ties' service layer
 * (`sendFriendRequest`, then `respondToFriendRequest` accepting it): the same rows, or the
 * scenario fails.
 */
async function befriend(ctx: BenchContext, s: Settings): Promise<Setup> {
  const handle = await ctx.db.open(2);
  try {
    const pool = poolOf(handle.db);
    const users = Array.from({ length: s.subscribers }, (_, i) => userOf(i));
    const from: string[] = [];
    const to: string[] = [];
    for (let j = s.senders; j < s.subscribers; j++) {
      from.push(userOf(j % s.senders));
      to.push(userOf(j));
    }
    const accepted = systemClock.now();
    const requested = new Date(accepted.getTime() - 1000);
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('INSERT INTO users (id, name, created_at) SELECT u, u, $2 FROM unnest($1::text[]) u', [
        users,
        requested,
      ]);
      await c.query(BEFRIEND, [from, to, requested, accepted]);
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
    await refreshT2(handle.db, sql`c.kind = 'DIRECT' AND c.user_low LIKE ${`${PREFIX}%`}`, accepted);

    // One pair the product's way, to hold the bulk rows to.
    const deps = serviceDeps(handle.db);
    const [a, b] = ['dlcheck-a', 'dlcheck-b'];
    for (const u of [a, b]) await ensureUser(handle.db, u, undefined, systemClock.now());
    const sent = await sendFriendRequest(deps, viewerOf(a), { userId: b });
    if (!sent.ok) throw new Error(`sendFriendRequest: ${JSON.stringify(sent.error)}`);
    const acc = await respondToFriendRequest(deps, viewerOf(b), {
      requestId: sent.value.request.id,
      accept: true,
    });
    if (!acc.ok) throw new Error(`respondToFriendRequest: ${JSON.stringify(acc.error)}`);
    const product = await pairShape(pool, a, b);
    const bulk = await pairShape(pool, userOf(0), userOf(s.senders));
    if (product !== bulk)
      throw new Error(`bulk friendships differ from the product's:\n  product ${product}\n  bulk    ${bulk}`);

    const { rows } = await pool.query<{ id: string; user_low: string; user_high: string }>(
      `SELECT id, user_low, user_high FROM conversations WHERE kind = 'DIRECT' AND user_low LIKE $1`,
      [`${PREFIX}%`],
    );
    const friends: Setup['friends'] = Array.from({ length: s.senders }, () => []);
    const index = (u: string) => Number(u.slice(PREFIX.length));
    for (const r of rows) {
      const [x, y] = [index(r.user_low), index(r.user_high)];
      const [sender, friend] = x < s.senders ? [x, y] : [y, x];
      friends[sender]!.push({ sub: friend, conversationId: r.id });
    }
    if (friends.some((f) => f.length === 0)) throw new Error('a sender without friends');
    return { friends };
  } finally {
    await handle.close();
  }
}

const setups = new Map<string, Promise<Setup>>();
/** The friendships, made once per database and settings ((i) and (j) share them). */
function prepared(ctx: BenchContext, s: Settings): Promise<Setup> {
  const key = `${ctx.db.name}:${s.subscribers}:${s.senders}`;
  let p = setups.get(key);
  if (!p) {
    p = befriend(ctx, s);
    setups.set(key, p);
    p.catch(() => setups.delete(key));
  }
  return p;
}

// --- what arrived where ------------------------------------------------------------------------------

interface Sent {
  /** Server clock (Unix ms) of the message's `sentAt`; the rest is known once the send answered. */
  sentAt: number;
  sender: number;
  recipient: number;
  /** The instance the send went through. */
  via: number;
  atRecipient: number;
  atSender: number;
  elsewhere: number;
  /** First receipt at the recipient, Unix ms (this process' clock). */
  receivedAt: number;
  /** Frames that arrived before the send's answer did. */
  early: { sub: number; at: number }[] | undefined;
}

const blank = (): Sent => ({
  sentAt: Number.NaN,
  sender: -1,
  recipient: -1,
  via: -1,
  atRecipient: 0,
  atSender: 0,
  elsewhere: 0,
  receivedAt: Number.NaN,
  early: undefined,
});

/** One phase's messages by id: sent (answered), and every frame naming them, by subscriber. */
class Tracker {
  readonly messages = new Map<string, Sent>();
  /** Sends answered with a message (each one expected at its recipient, and at its sender). */
  expected = 0;
  /** Messages that reached their recipient / their sender's own subscription (at least once). */
  delivered = 0;
  echoed = 0;
  errors = 0;
  firstError: string | undefined;
  readonly sendLatency: Samples;

  /** `capacity`: the most send latencies kept. */
  constructor(capacity = 1_000_000) {
    this.sendLatency = new Samples(capacity);
  }

  arrived(sub: number, id: string, at: number): void {
    let m = this.messages.get(id);
    if (!m) {
      m = blank();
      this.messages.set(id, m);
    }
    if (m.sender >= 0) this.count(m, sub, at);
    else if (m.early) m.early.push({ sub, at });
    else m.early = [{ sub, at }];
  }

  sent(id: string, sentAt: number, sender: number, recipient: number, via: number): void {
    let m = this.messages.get(id);
    if (!m) {
      m = blank();
      this.messages.set(id, m);
    }
    Object.assign(m, { sentAt, sender, recipient, via });
    this.expected++;
    for (const a of m.early ?? []) this.count(m, a.sub, a.at);
    m.early = undefined;
  }

  failed(err: unknown): void {
    this.errors++;
    this.firstError ??= String((err as Error)?.message ?? err).slice(0, 300);
  }

  private count(m: Sent, sub: number, at: number): void {
    if (sub === m.recipient) {
      if (m.atRecipient++ === 0) {
        m.receivedAt = at;
        this.delivered++;
      }
    } else if (sub === m.sender) {
      if (m.atSender++ === 0) this.echoed++;
    } else m.elsewhere++;
  }
}

// --- one run against 1 or 2 instances ------------------------------------------------------------

export interface Phase {
  /** Sends/s offered (open loop); null for the closed loop. */
  offered: number | null;
  issued: number;
  errors: number;
  firstError: string | undefined;
  /** Answered sends per second, from the first send to the last answer. */
  sendsPerSecond: number;
  /** Call → answer of sendMessage over HTTP. */
  send: Latency;
  peakInFlight: number;
  expected: number;
  delivered: number;
  /** Answered sends whose message never reached the recipient's subscription. */
  missing: number;
  /** Extra copies at the recipient. */
  duplicates: number;
  /** Frames at a subscriber that is neither recipient nor sender. */
  misdelivered: number;
  /** Frames naming a message no answered send of this phase returned. */
  unmatched: number;
  /** The sender's own copy (the notice goes to both parties). */
  echoMissing: number;
  echoDuplicates: number;
  /** sentAt → receipt at the recipient: all, sent through the recipient's instance, through the other. */
  latency: Latency;
  sameInstance: Latency;
  crossInstance: Latency;
  drainSeconds: number;
  /** SQL statements the server children sent per answered send: the requests' own, and the notice bus' polls. */
  statementsPerSend: number;
  busStatementsPerSend: number;
  serverCores: number[];
  serverLoopDelayMaxMs: number[];
  clientCores: number;
  clientElu: number;
  machineBusy: number;
  streamProblems: number;
}

export interface RunResult {
  instances: number;
  settings: Settings;
  connectSeconds: number;
  rssSubscribedMiB: number[];
  fixed: Phase;
  max: Phase;
  firstStreamProblem: string | undefined;
}

interface Run {
  children: Child[];
  http: GraphQLHttp[];
  tokens: string[];
  setup: Setup;
  current: Tracker;
  /** performance.now() → Unix ms (re-anchored at the start of each phase). */
  anchor: number;
  problems: number;
  firstProblem: string | undefined;
}

/** performance.now() → Unix ms, anchored at a tick of the wall clock (sub-millisecond receipts). */
function wallAnchor(): number {
  const d0 = Date.now();
  let d = d0;
  while (d === d0) d = Date.now();
  return d - performance.now();
}

type SendAnswer = {
  sendMessage: { message: { id: string; sentAt: string } | null; userErrors: { code: string }[] };
};

/** One sendMessage over HTTP from `sender` to a random friend through instance `via`; throws on failure. */
async function sendOne(run: Run, t: Tracker, tag: string, k: number, sender: number, via: number) {
  const friends = run.setup.friends[sender]!;
  const f = friends[Math.floor(Math.random() * friends.length)]!;
  const t0 = performance.now();
  try {
    const r = await run.http[via]!.post<SendAnswer>(
      SEND,
      { i: { conversationId: f.conversationId, body: bodyOf(k), idempotencyKey: `${tag}-${k}` } },
      run.tokens[sender],
    );
    const p = r.sendMessage;
    if (!p.message || p.userErrors.length > 0) throw new Error(`userErrors ${JSON.stringify(p.userErrors)}`);
    t.sendLatency.add(performance.now() - t0);
    t.sent(p.message.id, Date.parse(p.message.sentAt), sender, f.sub, via);
  } catch (err) {
    t.failed(err);
    throw err;
  }
}

/** `rate` sends/s for `seconds`, each issued on schedule whatever is in flight; senders in turn. */
async function openLoop(run: Run, t: Tracker, s: Settings, seconds: number) {
  const instances = run.children.length;
  const tag = randomUUID().slice(0, 8);
  const total = Math.round(s.rate * seconds);
  const pending = new Set<Promise<void>>();
  let peak = 0;
  const start = performance.now();
  for (let k = 0; k < total; k++) {
    const wait = start + (k * 1000) / s.rate - performance.now();
    if (wait >= 1) await sleep(wait);
    // Consecutive sends alternate instances; a sender's own sends do too (round k / senders shifts).
    const via = (k + Math.floor(k / s.senders)) % instances;
    const p = sendOne(run, t, tag, k, k % s.senders, via)
      .catch(() => {})
      .finally(() => pending.delete(p));
    pending.add(p);
    if (pending.size > peak) peak = pending.size;
  }
  await Promise.all(pending);
  return { issued: total, elapsedMs: performance.now() - start, peak };
}

/** Each sender sends again as soon as its previous send answered, for `seconds`. */
async function closedLoopSends(run: Run, t: Tracker, s: Settings, seconds: number) {
  const instances = run.children.length;
  const tag = randomUUID().slice(0, 8);
  const nth = new Array<number>(s.senders).fill(0);
  const r = await closedLoop({
    workers: s.senders,
    seconds,
    maxOps: Math.ceil(seconds * 50_000),
    maxErrors: 1000,
    prepare: (_w, i) => i,
    op: (w, k) => sendOne(run, t, tag, k, w, (w + nth[w]!++) % instances),
  });
  return { issued: r.ops + r.errors, elapsedMs: r.elapsedMs, peak: s.senders };
}

async function measure(
  ctx: BenchContext,
  run: Run,
  offered: number | null,
  drive: (t: Tracker) => Promise<{ issued: number; elapsedMs: number; peak: number }>,
): Promise<Phase> {
  const instances = run.children.length;
  const before: ChildStats[] = [];
  for (const c of run.children) before.push(await c.gcStats()); // also restarts the loop-delay histogram
  const t = new Tracker();
  run.current = t;
  run.anchor = wallAnchor();
  const problems0 = run.problems;
  const windows = await Promise.all(run.children.map((c) => window(c)));
  const d = await drive(t);
  const sendEnd = performance.now();
  // Both copies of every answered message: the recipient's and the sender's own.
  await drain(() => t.delivered + t.echoed, 2 * t.expected, sendEnd + ctx.drainSeconds * 1000);
  const drainSeconds = (performance.now() - sendEnd) / 1000;
  const usages = await Promise.all(windows.map((w) => w.end()));
  const stats = await Promise.all(run.children.map((c) => c.stats()));

  const all = new Samples(t.expected);
  const same = new Samples(t.expected);
  const cross = new Samples(t.expected);
  let missing = 0;
  let duplicates = 0;
  let misdelivered = 0;
  let unmatched = 0;
  let echoMissing = 0;
  let echoDuplicates = 0;
  for (const m of t.messages.values()) {
    if (m.sender < 0) {
      unmatched += m.early?.length ?? 0;
      continue;
    }
    misdelivered += m.elsewhere;
    if (m.atSender === 0) echoMissing++;
    else echoDuplicates += m.atSender - 1;
    if (m.atRecipient === 0) {
      missing++;
      continue;
    }
    duplicates += m.atRecipient - 1;
    const ms = m.receivedAt - m.sentAt;
    all.add(ms);
    (m.via === m.recipient % instances ? same : cross).add(ms);
  }
  return {
    offered,
    issued: d.issued,
    errors: t.errors,
    firstError: t.firstError,
    sendsPerSecond: (t.expected / d.elapsedMs) * 1000,
    send: latencyOf(t.sendLatency),
    peakInFlight: d.peak,
    expected: t.expected,
    delivered: t.delivered,
    missing,
    duplicates,
    misdelivered,
    unmatched,
    echoMissing,
    echoDuplicates,
    latency: latencyOf(all),
    sameInstance: latencyOf(same),
    crossInstance: latencyOf(cross),
    drainSeconds,
    statementsPerSend:
      stats.reduce(
        (a, x, k) => a + x.statements - x.busStatements - before[k]!.statements + before[k]!.busStatements,
        0,
      ) / t.expected,
    busStatementsPerSend:
      stats.reduce((a, x, k) => a + x.busStatements - before[k]!.busStatements, 0) / t.expected,
    serverCores: usages.map((u) => u.serverCores),
    serverLoopDelayMaxMs: stats.map((x) => x.loopDelayMaxMs),
    clientCores: usages[0]!.clientCores,
    clientElu: usages[0]!.clientElu,
    machineBusy: usages[0]!.machineBusy,
    streamProblems: run.problems - problems0,
  };
}

const describe = (p: Phase): string =>
  `${p.sendsPerSecond.toFixed(0)} sends/s, ${p.errors} errors; delivered ${p.delivered}/${p.expected} ` +
  `(${p.missing} missing, ${p.duplicates} duplicates, ${p.echoMissing} sender copies missing), ` +
  `p50 ${p.latency.p50.toFixed(1)} ms p99 ${p.latency.p99.toFixed(1)} ms, drained in ${p.drainSeconds.toFixed(1)} s; ` +
  `send p50 ${p.send.p50.toFixed(0)} ms; ${p.statementsPerSend.toFixed(1)} statements + ` +
  `${p.busStatementsPerSend.toFixed(2)} bus polls per send; ` +
  `server ${p.serverCores.map((c) => c.toFixed(2)).join(' + ')} cores, client ${p.clientCores.toFixed(2)} cores` +
  (p.firstError ? `; first error: ${p.firstError}` : '');

/** Subscribes everyone to `instances` ties children, then runs the fixed-rate and the closed-loop phase. */
export async function deliveryRun(ctx: BenchContext, s: Settings, instances: number): Promise<RunResult> {
  const setup = await prepared(ctx, s);
  const run: Run = {
    children: [],
    http: [],
    tokens: await Promise.all(Array.from({ length: s.senders }, (_, i) => tokenFor(userOf(i)))),
    setup,
    current: new Tracker(1),
    anchor: wallAnchor(),
    problems: 0,
    firstProblem: undefined,
  };
  const problem = (what: string) => {
    run.problems++;
    run.firstProblem ??= what;
  };
  const events: SubscriberEvents = {
    onFrame(sub, data) {
      const i = data.indexOf(MESSAGE_ID);
      if (i < 0) return false;
      const from = i + MESSAGE_ID.length;
      run.current.arrived(
        sub,
        data.toString('latin1', from, from + UUID_LENGTH),
        run.anchor + performance.now(),
      );
      return true;
    },
    onNotice: (sub) => problem(`subscriber ${sub}: a notice without a message id`),
    onProblem: (sub, what) => problem(`subscriber ${sub}: ${what}`),
    onClosed: (sub, code, reason) => problem(`subscriber ${sub}: closed ${code} ${reason}`),
  };
  const subs: Subscriber[] = [];
  try {
    for (let k = 0; k < instances; k++) {
      const child = await startChild(ctx, 'ties');
      run.children.push(child);
      run.http.push(new GraphQLHttp(child.url, HTTP_SOCKETS));
    }
    const users = Array.from({ length: s.subscribers }, (_, i) => userOf(i));
    const connectSeconds = await subscribeAll(run.children, users, QUERY, events, subs, {
      serverOf: (i) => i % instances,
    });
    const rss = (await Promise.all(run.children.map((c) => c.gcStats()))).map((x) => x.rss / 2 ** 20);
    ctx.log(`    ${s.subscribers} subscribed in ${connectSeconds.toFixed(1)} s`);

    // Preflight: sender 0 through every instance; each message reaches its recipient.
    const pre = new Tracker(instances);
    run.current = pre;
    const tag = randomUUID().slice(0, 8);
    for (let via = 0; via < instances; via++) await sendOne(run, pre, tag, via, 0, via);
    await waitFor('the preflight messages', () => pre.delivered === instances, 60_000);

    if (ctx.warmSeconds > 0) {
      const warm = new Tracker(Math.ceil(s.rate * ctx.warmSeconds) + 1);
      run.current = warm;
      await openLoop(run, warm, s, ctx.warmSeconds);
      await drain(() => warm.delivered, warm.expected, performance.now() + 30_000);
      if (warm.errors > 0) ctx.log(`    warm-up: ${warm.errors} errors (${warm.firstError})`);
    }

    const fixed = await measure(ctx, run, s.rate, (t) => openLoop(run, t, s, ctx.seconds));
    ctx.log(`    at ${s.rate}/s: ${describe(fixed)}`);
    const max = await measure(ctx, run, null, (t) => closedLoopSends(run, t, s, ctx.seconds));
    ctx.log(`    closed loop: ${describe(max)}`);
    if (run.firstProblem) ctx.log(`    ${run.problems} stream problems; first: ${run.firstProblem}`);
    return {
      instances,
      settings: s,
      connectSeconds,
      rssSubscribedMiB: rss,
      fixed,
      max,
      firstStreamProblem: run.firstProblem,
    };
  } finally {
    await inBatches(subs, 500, (x) => x.close());
    for (const h of run.http) h.close();
    for (const c of run.children) await c.stop();
  }
}

// --- the floor -----------------------------------------------------------------------------------------

const FLOOR_SQL = {
  // The statements ties sends for these rows (bench/trace-sql.ts style), text for text.
  rateLimit:
    'insert into "rate_limits" ("key", "points", "expire") values ($1, $2, $3) on conflict ("key") do update set "points" = CASE WHEN "rate_limits"."expire" <= $4 THEN $5 ELSE "rate_limits"."points" + $6 END, "expire" = CASE WHEN "rate_limits"."expire" <= $7 THEN $8 ELSE "rate_limits"."expire" END returning "key", "points", "expire"',
  message:
    'insert into "messages" ("id", "seq", "conversation_id", "sender_id", "body", "sent_at", "purged_at") values (default, default, $1, $2, $3, $4, default) returning "id", "seq", "conversation_id", "sender_id", "body", "sent_at", "purged_at"',
  key: 'insert into "idempotency_keys" ("user_id", "key", "fingerprint", "result_id", "created_at") values ($1, $2, $3, $4, $5) on conflict ("user_id","key") do update set "user_id" = $6, "key" = $7, "fingerprint" = $8, "result_id" = $9, "created_at" = $10',
} as const;

/** What one sendMessage writes, minus its notice and wake-up: the counter, then message + key in one transaction. */
async function floorSend(pool: pg.Pool, sender: string, conversationId: string, body: string, key: string) {
  const now = new Date();
  const expire = new Date(now.getTime() + RATE_WINDOW_MS);
  await pool.query(FLOOR_SQL.rateLimit, [`mutation:${sender}`, 1, expire, now, 1, 1, now, expire]);
  const fingerprint = fingerprintOf('sendMessage', [conversationId, body]);
  const c = await pool.connect();
  try {
    await c.query('begin');
    const m = await c.query<{ id: string }>(FLOOR_SQL.message, [conversationId, sender, body, now]);
    const id = m.rows[0]!.id;
    await c.query(FLOOR_SQL.key, [sender, key, fingerprint, id, now, sender, key, fingerprint, id, now]);
    await c.query('commit');
  } catch (err) {
    await c.query('rollback').catch(() => {});
    throw err;
  } finally {
    c.release();
  }
}

export interface Floor {
  insertsPerSecond: number;
  statementsPerInsert: number;
  ops: number;
  errors: number;
  firstError: string | undefined;
  latency: Latency;
}

/** The floor: `senders` connections, each inserting as fast as it goes (closed loop), after a warm-up. */
async function floor(ctx: BenchContext, s: Settings, setup: Setup): Promise<Floor> {
  const pool = new pg.Pool({ connectionString: ctx.db.url, max: s.senders });
  let idleErrors = 0;
  // An idle connection that fails (terminated by someone else) must not take the bench down.
  pool.on('error', () => {
    idleErrors++;
  });
  try {
    const tag = randomUUID().slice(0, 8);
    const loop = (seconds: number, label: string) =>
      closedLoop({
        workers: s.senders,
        seconds,
        maxOps: Math.ceil(seconds * 50_000),
        prepare: (_w, i) => i,
        op: (w, k) => {
          const friends = setup.friends[w]!;
          const f = friends[Math.floor(Math.random() * friends.length)]!;
          return floorSend(pool, userOf(w), f.conversationId, bodyOf(k), `${label}-${tag}-${k}`);
        },
      });
    if (ctx.warmSeconds > 0) await loop(ctx.warmSeconds, 'warm');
    const counter = instrumentPg(); // this process sends nothing else meanwhile (the children are stopped)
    const s0 = counter.statements;
    const r = await loop(ctx.seconds, 'floor');
    return {
      statementsPerInsert: (counter.statements - s0) / Math.max(1, r.ops + r.errors),
      insertsPerSecond: r.perSecond,
      ops: r.ops,
      errors: r.errors + idleErrors,
      firstError: r.firstError ?? (idleErrors > 0 ? `${idleErrors} idle connections failed` : undefined),
      latency: latencyOf(r.latency),
    };
  } finally {
    await pool.end();
  }
}

// --- (i) and (j) ------------------------------------------------------------------------------------------

/** (i)'s one-instance run, for (j) to stand beside when it runs later in the same process. */
let single: { key: string; result: RunResult } | undefined;
const singleKey = (ctx: BenchContext, s: Settings) =>
  JSON.stringify([ctx.db.name, s, ctx.seconds, ctx.warmSeconds]);

const verdict = (met: boolean) => (met ? 'met' : 'NOT MET');

export async function benchDelivery(ctx: BenchContext): Promise<{ rows: Row[]; raw: unknown }> {
  const s = settingsOf();
  ctx.log(
    `(i) delivery: ${s.subscribers} subscribers, ${s.senders} senders; ${s.rate} sends/s, then closed loop, ` +
      `${ctx.seconds} s each; befriending…`,
  );
  const setup = await prepared(ctx, s);
  ctx.log('    one ties instance…');
  const ours = await deliveryRun(ctx, s, 1);
  single = { key: singleKey(ctx, s), result: ours };
  ctx.log(`    floor: ${s.senders} connections inserting through pg…`);
  const base = await floor(ctx, s, setup);
  ctx.log(
    `    ${base.insertsPerSecond.toFixed(0)} inserts/s, ${base.errors} errors` +
      (base.firstError ? ` (${base.firstError})` : ''),
  );
  const { fixed, max } = ours;
  const ratio = max.sendsPerSecond / base.insertsPerSecond;
  ctx.log(
    `(i) goal: highest sustained sends/s ≥ ${FLOOR_GOAL}× the floor's inserts/s — ` +
      `${max.sendsPerSecond.toFixed(0)} vs ${base.insertsPerSecond.toFixed(0)} = ${ratio.toFixed(2)}× ` +
      `(${verdict(ratio >= FLOOR_GOAL)})`,
  );
  const allOnce = fixed.missing === 0 && fixed.duplicates === 0 && fixed.errors === 0;
  ctx.log(
    `(i) goal: at ${s.rate}/s every message delivered once, p99 < ${P99_GOAL_MS} ms — ` +
      `${fixed.delivered}/${fixed.expected} delivered, ${fixed.missing} missing, ${fixed.duplicates} duplicates, ` +
      `${fixed.errors} errors (${verdict(allOnce)}); p99 ${fixed.latency.p99.toFixed(1)} ms ` +
      `(${verdict(fixed.latency.p99 < P99_GOAL_MS)})`,
  );

  const label = `(i) delivery ${s.subscribers} subs, ${s.senders} senders`;
  const at = `at ${s.rate}/s:`;
  const none = Number.NaN;
  const rows = [
    row(
      label,
      'highest sustained sends vs floor inserts',
      '/s',
      max.sendsPerSecond,
      base.insertsPerSecond,
      'higher',
    ),
    row(
      label,
      'SQL statements per send (closed loop; + bus polls) vs floor',
      'count',
      max.statementsPerSend + max.busStatementsPerSend,
      base.statementsPerInsert,
      'none',
    ),
    row(label, `${at} sends completed vs offered`, '/s', fixed.sendsPerSecond, s.rate, 'higher'),
    row(label, `${at} delivered vs expected`, 'count', fixed.delivered, fixed.expected, 'higher'),
    row(label, `${at} commit→delivery p50`, 'ms', fixed.latency.p50, none, 'lower'),
    row(label, `${at} commit→delivery p99`, 'ms', fixed.latency.p99, none, 'lower'),
    row(label, `${at} missing`, 'count', fixed.missing, none, 'lower'),
    row(label, `${at} duplicates`, 'count', fixed.duplicates, none, 'lower'),
    row(label, `${at} errors`, 'count', fixed.errors, none, 'lower'),
    row(label, 'closed loop: delivered vs expected', 'count', max.delivered, max.expected, 'higher'),
    row(label, 'closed loop: commit→delivery p50', 'ms', max.latency.p50, none, 'lower'),
    row(label, 'closed loop: commit→delivery p99', 'ms', max.latency.p99, none, 'lower'),
    row(label, 'closed loop: missing', 'count', max.missing, none, 'lower'),
    row(label, 'closed loop: duplicates', 'count', max.duplicates, none, 'lower'),
    row(label, 'closed loop: errors', 'count', max.errors, none, 'lower'),
    row(
      label,
      'stream problems (both phases)',
      'count',
      fixed.streamProblems + max.streamProblems,
      none,
      'lower',
    ),
  ];
  return { rows, raw: { ours, floor: base } };
}

export async function benchTwoInstances(ctx: BenchContext): Promise<{ rows: Row[]; raw: unknown }> {
  const s = settingsOf();
  ctx.log(
    `(j) two instances: ${s.subscribers} subscribers split between them, ${s.senders} senders alternating; ` +
      `${s.rate} sends/s, then closed loop, ${ctx.seconds} s each`,
  );
  let one: RunResult;
  let oneFrom: string;
  if (single?.key === singleKey(ctx, s)) {
    one = single.result;
    oneFrom = "(i)'s run";
    ctx.log("    one instance: (i)'s figures from this process");
  } else {
    ctx.log('    one instance (no (i) run to reuse)…');
    one = await deliveryRun(ctx, s, 1);
    oneFrom = 'run here';
  }
  ctx.log('    two instances…');
  const two = await deliveryRun(ctx, s, 2);
  ctx.log(
    `    cross-instance deliveries at ${s.rate}/s: ${two.fixed.crossInstance.count}, ` +
      `p50 ${two.fixed.crossInstance.p50.toFixed(1)} ms p99 ${two.fixed.crossInstance.p99.toFixed(1)} ms; ` +
      `same instance: ${two.fixed.sameInstance.count}, p50 ${two.fixed.sameInstance.p50.toFixed(1)} ms ` +
      `p99 ${two.fixed.sameInstance.p99.toFixed(1)} ms`,
  );
  const label = `(j) delivery, 2 instances vs 1, ${s.subscribers} subs`;
  const at = `at ${s.rate}/s:`;
  const both = (r: RunResult, f: (p: Phase) => number) => f(r.fixed) + f(r.max);
  const rows = [
    row(label, 'highest sustained sends', '/s', two.max.sendsPerSecond, one.max.sendsPerSecond, 'higher'),
    row(label, `${at} sends completed`, '/s', two.fixed.sendsPerSecond, one.fixed.sendsPerSecond, 'higher'),
    row(label, `${at} commit→delivery p50`, 'ms', two.fixed.latency.p50, one.fixed.latency.p50, 'lower'),
    row(label, `${at} commit→delivery p99`, 'ms', two.fixed.latency.p99, one.fixed.latency.p99, 'lower'),
    row(
      label,
      `${at} p99 cross-instance vs same-instance (2 instances)`,
      'ms',
      two.fixed.crossInstance.p99,
      two.fixed.sameInstance.p99,
      'lower',
    ),
    row(label, 'closed loop: commit→delivery p99', 'ms', two.max.latency.p99, one.max.latency.p99, 'lower'),
    row(
      label,
      'missing (both phases)',
      'count',
      both(two, (p) => p.missing),
      both(one, (p) => p.missing),
      'lower',
    ),
    row(
      label,
      'duplicates (both phases)',
      'count',
      both(two, (p) => p.duplicates),
      both(one, (p) => p.duplicates),
      'lower',
    ),
    row(
      label,
      'errors (both phases)',
      'count',
      both(two, (p) => p.errors),
      both(one, (p) => p.errors),
      'lower',
    ),
  ];
  return { rows, raw: { two, one, oneFrom } };
}
