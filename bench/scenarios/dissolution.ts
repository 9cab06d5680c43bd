/**
 * (f) Dissolve → finalize a big group: two groups of MEMBERS members whose conversations hold
 * BENCH_PURGE_MESSAGES (100,000) messages and BENCH_PURGE_FILES (1,000) files (~1 KiB each, on
 * as many of those messages), built by bulk SQL, identical in shape. Ours: group 1 dissolved
 * without kept history through `dissolveGroup`, the manual clock moved past the 48-hour undo
 * window, then `advanceDissolutions` timed end to end (finalize: files deleted in one statement,
 * audit entry, notices; then the messages purged 5,000 per transaction). The floor: the same purge
 * of group 2 as raw autocommit DELETEs through `pg` (the files in one, then the messages 5,000 at
 * a time until none is left), after group 1 is refilled so that `messages` is as large as it was
 * for ours. Before each side: VACUUM ANALYZE and a CHECKPOINT. Interference: `sendMessage` to a third, small group at SEND_RATE/s
 * through ties' service layer in this process all along, its latency measured alone (before),
 * while ours runs and while the floor runs. Statements are counted on each side's own pool (the
 * global counter of instrument.ts would also count the concurrent sends).
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { ManualClock } from '../../src/clock.js';
import type { Database } from '../../src/db/client.js';
import {
  advanceDissolutions,
  type DissolutionSweep,
  dissolveGroup,
} from '../../src/groups/dissolution.service.js';
import { createGroup } from '../../src/groups/groups.service.js';
import { requestVerificationCode } from '../../src/groups/stepup.service.js';
import { sendMessage } from '../../src/messages/messages.service.js';
import type { Deps } from '../../src/shared/deps.js';
import { ensureUser } from '../../src/users/users.store.js';
import { type BenchContext, serviceDeps, viewerOf } from '../context.js';
import { sleep } from '../load.js';
import { type Row, row, Samples } from '../stats.js';

const MEMBERS = 20;
/** sendMessage calls per second in the interference load (open loop: one every 20 ms). */
export const SEND_RATE = 50;
/** Messages per DELETE in the floor (ties' PURGE_BATCH). */
const BATCH = 5_000;
const HOURS_48 = 48 * 3600;

export function envInt(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max)
    throw new Error(`${name} must be an integer in [${min}, ${max}]`);
  return v;
}

// --- statements per pool -------------------------------------------------------------------------

export interface PoolCounter {
  statements: number;
  /** Time per kind of statement (its verb and first table), for where the time goes. */
  byKind: Map<string, { n: number; ms: number }>;
}

const kindOf = (text: string): string => {
  const t = text.replace(/\s+/g, ' ').trim().toLowerCase();
  const verb = t.split(' ', 1)[0] ?? '';
  const table = /(?:from|into|update) "?(\w+)"?/.exec(t)?.[1];
  return table ? `${verb} ${table}` : verb;
};

/**
 * Counts (and times) every statement sent on `pool`'s connections: a wrapper on each client's
 * `query` as the pool connects it, so it must be attached before the pool's first connection.
 */
export function countPool(pool: pg.Pool): PoolCounter {
  if (pool.totalCount > 0) throw new Error('countPool: attach before the first connection');
  const c: PoolCounter = { statements: 0, byKind: new Map() };
  pool.on('connect', (client) => {
    const original = client.query.bind(client) as (...a: unknown[]) => unknown;
    (client as unknown as { query: unknown }).query = (...args: unknown[]) => {
      const q = args[0] as string | { text?: string } | undefined;
      const text = typeof q === 'string' ? q : q?.text;
      if (!text) return original(...args);
      c.statements++;
      const kind = kindOf(text);
      const t0 = performance.now();
      const done = () => {
        const k = c.byKind.get(kind) ?? { n: 0, ms: 0 };
        k.n++;
        k.ms += performance.now() - t0;
        c.byKind.set(kind, k);
      };
      const last = args[args.length - 1];
      if (typeof last === 'function') {
        args[args.length - 1] = (...r: unknown[]) => {
          done();
          return (last as (...a: unknown[]) => unknown)(...r);
        };
        return original(...args);
      }
      const out = original(...args);
      if (out && typeof (out as Promise<unknown>).then === 'function')
        (out as Promise<unknown>).then(done, done);
      return out;
    };
  });
  return c;
}

export const snapshot = (c: PoolCounter) => ({
  statements: c.statements,
  byKind: new Map([...c.byKind].map(([k, v]) => [k, { ...v }])),
});

/** The statements and time per kind since `before`, largest total time first. */
export function since(c: PoolCounter, before: ReturnType<typeof snapshot>) {
  const kinds = [...c.byKind]
    .map(([kind, v]) => {
      const b = before.byKind.get(kind) ?? { n: 0, ms: 0 };
      return { kind, n: v.n - b.n, ms: v.ms - b.ms };
    })
    .filter((k) => k.n > 0)
    .sort((a, b) => b.ms - a.ms);
  return { statements: c.statements - before.statements, kinds };
}

export const poolOf = (db: Database) => (db as unknown as { $client: pg.Pool }).$client;

// --- the interference load -----------------------------------------------------------------------

/**
 * `sendMessage` at SEND_RATE/s, open loop (a call every 1/SEND_RATE s whatever is in flight);
 * latency from the start of the call (its transaction and any wait for a connection included),
 * recorded into the current window's samples.
 */
export class SendLoad {
  private current: Samples | undefined;
  private stopped = false;
  private inFlight = new Set<Promise<void>>();
  private loop: Promise<void> | undefined;
  errors = 0;
  firstError: string | undefined;
  maxInFlight = 0;

  constructor(
    private deps: Deps,
    private conversationId: string,
    private senders: string[],
  ) {}

  start(): void {
    this.loop = (async () => {
      const interval = 1000 / SEND_RATE;
      let next = performance.now();
      for (let k = 0; !this.stopped; k++) {
        next += interval;
        this.fire(k);
        await sleep(Math.max(0, next - performance.now()));
      }
    })();
  }

  private fire(k: number): void {
    const samples = this.current;
    const t0 = performance.now();
    const p = sendMessage(this.deps, viewerOf(this.senders[k % this.senders.length]!), {
      conversationId: this.conversationId,
      body: `load ${k}`,
    })
      .then((r) => {
        if (!r.ok) throw new Error(`sendMessage: ${JSON.stringify(r.error)}`);
        samples?.add(performance.now() - t0);
      })
      .catch((err) => {
        this.errors++;
        this.firstError ??= String((err as Error)?.message ?? err);
      })
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight.size);
  }

  /** Records the sends started from now on into a new window (until the next `window`/`stop`). */
  window(): Samples {
    this.current = new Samples(1_000_000);
    return this.current;
  }

  /** Sends started from now on are not recorded. */
  pause(): void {
    this.current = undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    await Promise.all([...this.inFlight]);
  }
}

export interface Latency {
  p50: number;
  p99: number;
  max: number;
  count: number;
}

export const latencyOf = (s: Samples): Latency => {
  const [p50, p99, max] = s.percentiles([50, 99, 100]);
  return { p50: p50!, p99: p99!, max: max!, count: s.count };
};

// --- setup ---------------------------------------------------------------------------------------

export async function makeGroup(
  deps: Deps,
  db: Database,
  prefix: string,
): Promise<{ ids: string[]; groupId: string; conversationId: string }> {
  const ids = Array.from({ length: MEMBERS }, (_, i) => `${prefix}-${i}`);
  for (const id of ids) await ensureUser(db, id, undefined, deps.clock.now());
  const created = await createGroup(deps, viewerOf(ids[0]!), {
    name: prefix,
    kind: 'STANDARD',
    memberIds: ids,
  });
  if (!created.ok) throw new Error(`createGroup: ${JSON.stringify(created.error)}`);
  const groupId = created.value.group.id;
  const conversationId = (
    await db.query.conversations.findFirst({ where: (c, { eq }) => eq(c.groupId, groupId) })
  )?.id;
  if (!conversationId) throw new Error('the group has no conversation');
  return { ids, groupId, conversationId };
}

/**
 * `messages` messages (senders in turn, ~100-byte bodies, one a second up to now) and `files`
 * files of 1 KiB on evenly spaced ones of them, in two statements.
 */
async function fill(
  pool: pg.Pool,
  conversationId: string,
  senders: string[],
  messages: number,
  files: number,
) {
  await pool.query(
    `INSERT INTO messages (conversation_id, sender_id, body, sent_at)
     SELECT $1, ($2::text[])[1 + i % cardinality($2::text[])],
            'bench message ' || i || ' ' || repeat('x', 80), now() - ($3 - i) * interval '1 second'
     FROM generate_series(1, $3::int) AS i`,
    [conversationId, senders, messages],
  );
  if (files === 0) return;
  const step = Math.floor(messages / files);
  await pool.query(
    `INSERT INTO files (message_id, name, size, sha256, bytes, created_at)
     SELECT id, 'file-' || rn || '.bin', octet_length(b), encode(sha256(b), 'hex'), b, sent_at
     FROM (SELECT id, sent_at, rn, convert_to(repeat(md5(rn::text), 32), 'UTF8') AS b
           FROM (SELECT id, sent_at, row_number() OVER (ORDER BY seq) AS rn
                 FROM messages WHERE conversation_id = $1) m
           WHERE (rn - 1) % $2 = 0 AND rn <= $2::bigint * $3) f`,
    [conversationId, step, files],
  );
}

async function contentOf(
  pool: pg.Pool,
  conversationId: string,
): Promise<{ messages: number; files: number }> {
  const { rows } = await pool.query<{ messages: number; files: number }>(
    `SELECT (SELECT count(*)::int FROM messages WHERE conversation_id = $1) AS messages,
            (SELECT count(*)::int FROM files JOIN messages ON messages.id = files.message_id
              WHERE messages.conversation_id = $1) AS files`,
    [conversationId],
  );
  return rows[0]!;
}

async function expectContent(
  pool: pg.Pool,
  conversationId: string,
  want: { messages: number; files: number },
  what: string,
) {
  const got = await contentOf(pool, conversationId);
  if (got.messages !== want.messages || got.files !== want.files)
    throw new Error(
      `${what}: ${got.messages} messages and ${got.files} files, not ${want.messages} and ${want.files}`,
    );
}

/**
 * The same starting line for each side: dead rows vacuumed, statistics fresh, and a checkpoint (so
 * each side pays the same full-page writes). CHECKPOINT needs a superuser or pg_checkpoint.
 */
export async function settle(ctx: BenchContext, pool: pg.Pool): Promise<void> {
  await pool.query('VACUUM ANALYZE messages, files, conversations');
  await pool
    .query('CHECKPOINT')
    .catch((err) => ctx.log(`    CHECKPOINT refused (${(err as Error).message}); going on`));
}

// --- the floor -----------------------------------------------------------------------------------

/** The purge as raw autocommit statements: the files in one DELETE, then the messages by 5,000. */
async function floorPurge(
  pool: pg.Pool,
  conversationId: string,
): Promise<{ messages: number; files: number }> {
  const f = await pool.query(
    'DELETE FROM files WHERE message_id IN (SELECT id FROM messages WHERE conversation_id = $1)',
    [conversationId],
  );
  let messages = 0;
  for (;;) {
    const m = await pool.query(
      `DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE conversation_id = $1 LIMIT ${BATCH})`,
      [conversationId],
    );
    messages += m.rowCount ?? 0;
    if ((m.rowCount ?? 0) === 0) break;
  }
  return { messages, files: f.rowCount ?? 0 };
}

// --- the scenario --------------------------------------------------------------------------------

interface PurgeSide {
  ms: number;
  statements: number;
  kinds: { kind: string; n: number; ms: number }[];
  messagesPerSecond: number;
  during: Latency;
}

export async function benchDissolution(ctx: BenchContext): Promise<{ rows: Row[]; raw: unknown }> {
  const messages = envInt('BENCH_PURGE_MESSAGES', 100_000, 1, 10_000_000);
  const files = envInt('BENCH_PURGE_FILES', 1_000, 0, messages);

  // Three handles: setup and checks (raw pg), ours (drizzle, counted), the load (drizzle); the floor.
  const setupHandle = await ctx.db.open(4);
  const setup = poolOf(setupHandle.db);
  const oursHandle = await ctx.db.open(4);
  const oursCounter = countPool(poolOf(oursHandle.db));
  const loadHandle = await ctx.db.open(8);
  const floorPool = new pg.Pool({ connectionString: ctx.db.url, max: 1 });
  floorPool.on('error', () => {}); // an idle connection lost: the next query reports it
  const floorCounter = countPool(floorPool);
  let load: SendLoad | undefined;
  try {
    const clock = new ManualClock(new Date());
    const deps: Deps = { ...serviceDeps(oursHandle.db), clock };
    ctx.log(
      `(f) dissolve→finalize: two groups of ${MEMBERS} with ${messages} messages and ${files} files each…`,
    );
    const setupDeps = serviceDeps(setupHandle.db);
    const g1 = await makeGroup(setupDeps, setupHandle.db, 'bench-f1');
    const g2 = await makeGroup(setupDeps, setupHandle.db, 'bench-f2');
    const g3 = await makeGroup(setupDeps, setupHandle.db, 'bench-f3');
    const t0 = performance.now();
    await fill(setup, g1.conversationId, g1.ids, messages, files);
    await fill(setup, g2.conversationId, g2.ids, messages, files);
    const full = { messages, files };
    await expectContent(setup, g1.conversationId, full, 'group 1 after setup');
    await expectContent(setup, g2.conversationId, full, 'group 2 after setup');
    await setup.query('ANALYZE');
    ctx.log(`    filled in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    // The undo window starts now: ours is dissolved (untimed), the clock moves past it.
    // G7: a first dissolution needs a code; the development sender writes it to a file.
    const owner = viewerOf(g1.ids[0]!);
    const asked = await requestVerificationCode(deps, owner, { groupId: g1.groupId });
    if (!asked.ok) throw new Error(`requestVerificationCode: ${JSON.stringify(asked.error)}`);
    const dissolved = await dissolveGroup(deps, owner, {
      groupId: g1.groupId,
      keepHistory: false,
      verificationCode: lastCode(deps.config.verificationFile, owner.userId, g1.groupId),
    });
    if (!dissolved.ok) throw new Error(`dissolveGroup: ${JSON.stringify(dissolved.error)}`);
    if (dissolved.value.dissolution.status !== 'EFFECTIVE')
      throw new Error(`dissolveGroup: ${dissolved.value.dissolution.status}, not EFFECTIVE`);
    clock.advance(HOURS_48);

    load = new SendLoad(serviceDeps(loadHandle.db), g3.conversationId, g3.ids);
    load.start();
    if (ctx.warmSeconds > 0) await sleep(ctx.warmSeconds * 1000);
    await settle(ctx, setup);
    ctx.log(`    sendMessage ${SEND_RATE}/s alone for ${ctx.seconds} s…`);
    const aloneSamples = load.window();
    await sleep(ctx.seconds * 1000);
    load.pause();
    const alone = latencyOf(aloneSamples);
    ctx.log(
      `    p50 ${alone.p50.toFixed(1)} ms, p99 ${alone.p99.toFixed(1)} ms; ours (advanceDissolutions)…`,
    );

    // Ours.
    const o0 = snapshot(oursCounter);
    const oursSamples = load.window();
    const s0 = performance.now();
    const sweep: DissolutionSweep = await advanceDissolutions(deps, clock.now());
    const oursMs = performance.now() - s0;
    load.pause();
    const oursStats = since(oursCounter, o0);
    if (
      sweep.dissolutionsFinalized !== 1 ||
      sweep.filesDeleted !== files ||
      sweep.purgedMessages !== messages
    )
      throw new Error(`advanceDissolutions: ${JSON.stringify(sweep)}`);
    await expectContent(setup, g1.conversationId, { messages: 0, files: 0 }, 'group 1 after ours');
    await expectContent(setup, g2.conversationId, full, 'group 2 after ours');
    const ours: PurgeSide = {
      ms: oursMs,
      statements: oursStats.statements,
      kinds: oursStats.kinds,
      messagesPerSecond: (messages * 1000) / oursMs,
      during: latencyOf(oursSamples),
    };
    ctx.log(
      `    ${oursMs.toFixed(0)} ms, ${ours.statements} statements; sendMessage p99 ${ours.during.p99.toFixed(1)} ms ` +
        `(${ours.during.count} sends); by statement: ${top(ours.kinds)}`,
    );

    // The floor, from the same starting line: group 1 refilled first (untimed), so the floor purges
    // from a table as large as ours did (each batch's plan scans the whole of `messages`).
    await fill(setup, g1.conversationId, g1.ids, messages, files);
    await expectContent(setup, g1.conversationId, full, 'group 1 refilled');
    await settle(ctx, setup);
    ctx.log('    floor (raw DELETEs through pg)…');
    const f0 = snapshot(floorCounter);
    const floorSamples = load.window();
    const b0 = performance.now();
    const gone = await floorPurge(floorPool, g2.conversationId);
    const floorMs = performance.now() - b0;
    load.pause();
    const floorStats = since(floorCounter, f0);
    if (gone.messages !== messages || gone.files !== files)
      throw new Error(`floor purge: ${JSON.stringify(gone)}, not ${JSON.stringify(full)}`);
    await expectContent(setup, g2.conversationId, { messages: 0, files: 0 }, 'group 2 after the floor');
    const base: PurgeSide = {
      ms: floorMs,
      statements: floorStats.statements,
      kinds: floorStats.kinds,
      messagesPerSecond: (messages * 1000) / floorMs,
      during: latencyOf(floorSamples),
    };
    ctx.log(
      `    ${floorMs.toFixed(0)} ms, ${base.statements} statements; sendMessage p99 ${base.during.p99.toFixed(1)} ms ` +
        `(${base.during.count} sends); by statement: ${top(base.kinds)}`,
    );

    await load.stop();
    if (load.errors > 0) throw new Error(`${load.errors} sendMessage calls failed: ${load.firstError}`);
    const slowOurs = ours.during.p99 / alone.p99;
    const slowFloor = base.during.p99 / alone.p99;
    const verdict = (x: number) => (x <= 2 ? 'within' : 'OVER');
    ctx.log(
      `(f) goal: sendMessage p99 during the purge ≤ 2× alone — ours ${slowOurs.toFixed(2)}× ` +
        `(${verdict(slowOurs)}), floor ${slowFloor.toFixed(2)}× (${verdict(slowFloor)})`,
    );

    const s = `(f) dissolve→finalize ${messages} msgs + ${files} files, ${SEND_RATE} sends/s`;
    const rows = [
      row(s, 'purge time', 'ms', ours.ms, base.ms, 'lower'),
      row(s, 'SQL statements', 'count', ours.statements, base.statements, 'none'),
      row(s, 'messages purged', '/s', ours.messagesPerSecond, base.messagesPerSecond, 'higher'),
      row(s, 'sendMessage p50 during ours vs alone', 'ms', ours.during.p50, alone.p50, 'lower'),
      row(s, 'sendMessage p99 during ours vs alone', 'ms', ours.during.p99, alone.p99, 'lower'),
      row(s, 'sendMessage p50 during floor vs alone', 'ms', base.during.p50, alone.p50, 'lower'),
      row(s, 'sendMessage p99 during floor vs alone', 'ms', base.during.p99, alone.p99, 'lower'),
      row(s, 'sends measured during ours / floor', 'count', ours.during.count, base.during.count, 'none'),
    ];
    return {
      rows,
      raw: {
        messages,
        files,
        members: MEMBERS,
        sendRate: SEND_RATE,
        sweep,
        ours,
        floor: base,
        alone,
        maxInFlight: load.maxInFlight,
      },
    };
  } finally {
    await load?.stop();
    await floorPool.end();
    await loadHandle.close();
    await oursHandle.close();
    await setupHandle.close();
  }
}

/** The three kinds of statement that took longest, for the log. */
const top = (kinds: PurgeSide['kinds']) =>
  kinds
    .slice(0, 3)
    .map((k) => `${k.kind} ×${k.n} ${k.ms.toFixed(0)} ms`)
    .join(', ');

/** G7: the last code the development sender wrote for this user and group. */
function lastCode(file: string, userId: string, groupId: string): string {
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  for (const line of lines.reverse()) {
    const l = JSON.parse(line) as Record<string, string>;
    if (l.userId === userId && l.groupId === groupId) return l.code!;
  }
  throw new Error('no verification code was written');
}
