/**
 * (c) Issue 3: request → accept → delete → delete over HTTP, 16 clients, a fresh pair per cycle —
 * against the floor: the same SQL transactions straight through `pg` (bench/floor.ts).
 */
import pg from 'pg';
import {
  deleteContact,
  respondToFriendRequest,
  sendFriendRequest,
} from '../../src/contacts/contacts.service.js';
import { ensureUser } from '../../src/users/users.store.js';
import {
  type BenchContext,
  serviceDeps,
  startChild,
  tokenFor,
  type Usage,
  viewerOf,
  window,
} from '../context.js';
import { createPairUsers, floorCycle } from '../floor.js';
import { instrumentPg } from '../instrument.js';
import { closedLoop, GraphQLHttp, type LoopResult, sleep } from '../load.js';
import { type Row, row } from '../stats.js';

const CLIENTS = 16;
/** The ties default pool (src/db/client.ts); the floor gets the same. */
const POOL = 20;

const SEND = `mutation($u: ID!) { sendFriendRequest(input: { userId: $u }) { request { id } userErrors { code } } }`;
const ACCEPT = `mutation($r: ID!) { respondToFriendRequest(input: { requestId: $r, accept: true }) { contact { state } userErrors { code } } }`;
const DELETE = `mutation($u: ID!) { deleteContact(input: { userId: $u }) { contact { state } userErrors { code } } }`;

type Payload = { userErrors: { code: string }[]; contact?: { state: string } | null };
function expectOk(p: Payload | undefined, what: string, state?: string): void {
  if (!p || p.userErrors.length > 0) throw new Error(`${what}: ${JSON.stringify(p)}`);
  if (state && p.contact?.state !== state)
    throw new Error(`${what}: state ${p.contact?.state}, not ${state}`);
}

export interface CycleSide {
  loop: Omit<LoopResult, 'latency'>;
  p50: number;
  p99: number;
  usage: Usage;
  /** SQL statements one cycle sends (ties: without the notice bus' polls). */
  statementsPerCycle: number;
  /** ties only: the notice bus' poll statements per cycle, measured over the whole run. */
  busStatementsPerCycle?: number;
}

const summary = (r: LoopResult, usage: Usage, statementsPerCycle: number): CycleSide => {
  const [p50, p99] = r.latency.percentiles([50, 99]);
  const { latency: _l, ...loop } = r;
  return { loop, p50: p50!, p99: p99!, usage, statementsPerCycle };
};

async function ours(ctx: BenchContext, maxPairs: number): Promise<CycleSide> {
  const child = await startChild(ctx, 'ties');
  const http = new GraphQLHttp(child.url, CLIENTS);
  try {
    const cycle = async (p: { a: string; b: string; ta: string; tb: string }) => {
      const s = await http.post<{ sendFriendRequest: Payload & { request: { id: string } } }>(
        SEND,
        { u: p.b },
        p.ta,
      );
      expectOk(s.sendFriendRequest, 'sendFriendRequest');
      const r = await http.post<{ respondToFriendRequest: Payload }>(
        ACCEPT,
        { r: s.sendFriendRequest.request.id },
        p.tb,
      );
      expectOk(r.respondToFriendRequest, 'respondToFriendRequest', 'FRIEND');
      const d1 = await http.post<{ deleteContact: Payload }>(DELETE, { u: p.b }, p.ta);
      expectOk(d1.deleteContact, 'deleteContact (first)', 'DELETED_BY_ME');
      const d2 = await http.post<{ deleteContact: Payload }>(DELETE, { u: p.a }, p.tb);
      expectOk(d2.deleteContact, 'deleteContact (second)', 'MUTUALLY_DELETED');
    };
    let k = 0;
    const prepare = async () => {
      const i = k++;
      if (i >= maxPairs) throw new Error('out of prepared pairs');
      const a = `t${i}a`;
      const b = `t${i}b`;
      return { a, b, ta: await tokenFor(a), tb: await tokenFor(b) };
    };
    // One cycle alone: the statements it sends (the bus' polls apart).
    const s0 = await child.stats();
    await cycle(await prepare());
    await sleep(300);
    const s1 = await child.stats();
    const statements = s1.statements - s0.statements - (s1.busStatements - s0.busStatements);
    await warmUp(ctx, 'ties', maxPairs, prepare, (_w, p) => cycle(p));
    const b0 = await child.stats();
    const w = await window(child);
    const r = await closedLoop({
      workers: CLIENTS,
      seconds: ctx.seconds,
      maxOps: maxPairs - k,
      prepare,
      op: (_w, p) => cycle(p),
    });
    const usage = await w.end();
    const b1 = await child.stats();
    const side = summary(r, usage, statements);
    side.busStatementsPerCycle = (b1.busStatements - b0.busStatements) / Math.max(1, r.ops);
    return side;
  } finally {
    http.close();
    await child.stop();
  }
}

/** An untimed warm-up of `op`, bounded to a quarter of the prepared pairs. */
async function warmUp<P>(
  ctx: BenchContext,
  label: string,
  maxPairs: number,
  prepare: () => P | Promise<P>,
  op: (w: number, p: P) => Promise<void>,
): Promise<void> {
  if (ctx.warmSeconds <= 0) return;
  const warm = await closedLoop({
    workers: CLIENTS,
    seconds: ctx.warmSeconds,
    maxOps: Math.floor(maxPairs / 4),
    prepare,
    op,
  });
  if (warm.errors > 0) throw new Error(`${label} cycle failed in warm-up: ${warm.firstError}`);
}

/**
 * A side that runs in this process: counts the SQL one cycle sends, warms up, then measures
 * `op` over fresh pairs `<prefix><i>a`/`<prefix><i>b`.
 */
async function inProcessSide(
  ctx: BenchContext,
  label: string,
  prefix: string,
  maxPairs: number,
  op: (w: number, p: { a: string; b: string }) => Promise<void>,
): Promise<CycleSide> {
  let k = 0;
  const prepare = () => {
    const i = k++;
    return { a: `${prefix}${i}a`, b: `${prefix}${i}b` };
  };
  const sql = instrumentPg();
  const s0 = sql.statements;
  await op(0, prepare());
  const statements = sql.statements - s0;
  await warmUp(ctx, label, maxPairs, prepare, op);
  const w = await window(undefined);
  const r = await closedLoop({ workers: CLIENTS, seconds: ctx.seconds, maxOps: maxPairs - k, prepare, op });
  return summary(r, await w.end(), statements);
}

function floor(ctx: BenchContext, pool: pg.Pool, maxPairs: number): Promise<CycleSide> {
  return inProcessSide(ctx, 'floor', 'f', maxPairs, (_w, p) => floorCycle(pool, p.a, p.b));
}

/**
 * The same cycle through ties' service layer in this process (Drizzle + domain rules, no HTTP,
 * GraphQL or auth): splits ties' cost between the layers. First sight of each user is an
 * `ensureUser`, as over HTTP.
 */
async function serviceLayer(ctx: BenchContext, maxPairs: number): Promise<CycleSide> {
  const handle = await ctx.db.open(POOL);
  const deps = serviceDeps(handle.db);
  const viewer = viewerOf;
  const op = async (_w: number, p: { a: string; b: string }) => {
    await ensureUser(handle.db, p.a, undefined, new Date());
    const s = await sendFriendRequest(deps, viewer(p.a), { userId: p.b });
    if (!s.ok) throw new Error(`sendFriendRequest: ${JSON.stringify(s.error)}`);
    await ensureUser(handle.db, p.b, undefined, new Date());
    const r = await respondToFriendRequest(deps, viewer(p.b), {
      requestId: s.value.request.id,
      accept: true,
    });
    if (!r.ok) throw new Error(`respondToFriendRequest: ${JSON.stringify(r.error)}`);
    const d1 = await deleteContact(deps, viewer(p.a), { userId: p.b, notice: 'SILENT' });
    if (!d1.ok) throw new Error(`deleteContact: ${JSON.stringify(d1.error)}`);
    const d2 = await deleteContact(deps, viewer(p.b), { userId: p.a, notice: 'SILENT' });
    if (!d2.ok || d2.value.contact?.state !== 'MUTUALLY_DELETED')
      throw new Error(`deleteContact (second): ${JSON.stringify(d2)}`);
  };
  return inProcessSide(ctx, 'service-layer', 's', maxPairs, op);
}

export async function benchCycle(ctx: BenchContext): Promise<{ rows: Row[]; raw: unknown }> {
  // Bounded: users for at most this many cycles (warm-up included) per side.
  const maxPairs = Math.max(2_000, Math.ceil(2_500 * (ctx.seconds + ctx.warmSeconds)));
  const pool = new pg.Pool({ connectionString: ctx.db.url, max: POOL });
  pool.on('error', () => {}); // an idle connection lost: the next query reports it
  try {
    ctx.log(`(c) cycle: creating ${2 * maxPairs} users per side…`);
    await createPairUsers(pool, 'f', maxPairs);
    await createPairUsers(pool, 't', maxPairs);
    await createPairUsers(pool, 's', maxPairs);
    await pool.query('analyze');
    ctx.log('    floor (pg)…');
    const base = await floor(ctx, pool, maxPairs);
    ctx.log(`    ${base.loop.perSecond.toFixed(0)} cycles/s; ties service layer in-process…`);
    const svc = await serviceLayer(ctx, maxPairs);
    ctx.log(`    ${svc.loop.perSecond.toFixed(0)} cycles/s; ties over HTTP…`);
    const mine = await ours(ctx, maxPairs);
    ctx.log(`    ${mine.loop.perSecond.toFixed(0)} cycles/s`);
    const s = '(c) request→accept→delete×2 ×16';
    const perCycle = (cores: number, perSecond: number) => (cores * 1000) / perSecond;
    const s2 = '(c′) same, service layer in-process';
    const rows = [
      row(s, 'throughput', 'cycles/s', mine.loop.perSecond, base.loop.perSecond, 'higher'),
      row(s, 'cycle p50', 'ms', mine.p50, base.p50, 'lower'),
      row(s, 'cycle p99', 'ms', mine.p99, base.p99, 'lower'),
      row(s, 'SQL statements per cycle', 'count', mine.statementsPerCycle, base.statementsPerCycle, 'none'),
      row(s, '+ notice-bus polls per cycle', 'count', mine.busStatementsPerCycle ?? Number.NaN, 0, 'none'),
      row(
        s,
        'app CPU per cycle (ties server / floor process)',
        'ms',
        perCycle(mine.usage.serverCores, mine.loop.perSecond),
        perCycle(base.usage.clientCores, base.loop.perSecond),
        'lower',
      ),
      row(s, 'ties server CPU', 'cores', mine.usage.serverCores, Number.NaN, 'none'),
      row(s, 'machine CPU busy', '%', mine.usage.machineBusy * 100, base.usage.machineBusy * 100, 'none'),
      row(s, 'failed cycles', 'count', mine.loop.errors, base.loop.errors, 'lower'),
      row(s2, 'throughput', 'cycles/s', svc.loop.perSecond, base.loop.perSecond, 'higher'),
      row(s2, 'cycle p50', 'ms', svc.p50, base.p50, 'lower'),
      row(
        s2,
        'process CPU per cycle',
        'ms',
        perCycle(svc.usage.clientCores, svc.loop.perSecond),
        perCycle(base.usage.clientCores, base.loop.perSecond),
        'lower',
      ),
      row(s2, 'SQL statements per cycle', 'count', svc.statementsPerCycle, base.statementsPerCycle, 'none'),
      row(s2, 'failed cycles', 'count', svc.loop.errors, base.loop.errors, 'lower'),
    ];
    return { rows, raw: { ours: mine, serviceLayer: svc, floor: base, maxPairs } };
  } finally {
    await pool.end();
  }
}
