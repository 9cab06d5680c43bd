/** (d) `retentionStatus(conversationId)` over HTTP, 16 clients — against the same SELECTs through `pg`. */
import pg from 'pg';
import { type BenchContext, startChild, tokenFor, type Usage, window } from '../context.js';
import { addMessages, createPairUsers, floorAccept, floorRetention, floorSend } from '../floor.js';
import { instrumentPg } from '../instrument.js';
import { closedLoop, GraphQLHttp, type LoopResult, sleep } from '../load.js';
import { type Row, row } from '../stats.js';

const CLIENTS = 16;
const POOL = 20;
const MESSAGES = 50;
const QUERY = `query($c: ID!) { retentionStatus(conversationId: $c) { state purgeAt restorable visibleMessages } }`;

interface Side {
  loop: Omit<LoopResult, 'latency'>;
  p50: number;
  p99: number;
  usage: Usage;
  statementsPerRequest: number;
}

const summary = (r: LoopResult, usage: Usage, statementsPerRequest: number): Side => {
  const [p50, p99] = r.latency.percentiles([50, 99]);
  const { latency: _l, ...loop } = r;
  return { loop, p50: p50!, p99: p99!, usage, statementsPerRequest };
};

export async function benchRetention(ctx: BenchContext): Promise<{ rows: Row[]; raw: unknown }> {
  const pool = new pg.Pool({ connectionString: ctx.db.url, max: POOL });
  pool.on('error', () => {}); // an idle connection lost: the next query reports it
  const maxOps = Math.ceil(40_000 * (ctx.seconds + 1));
  try {
    // One friendship with a conversation of MESSAGES messages per client; both sides read the same.
    await createPairUsers(pool, 'r', CLIENTS);
    const pairs: { viewer: string; conversationId: string }[] = [];
    for (let i = 0; i < CLIENTS; i++) {
      const a = `r${i}a`;
      const b = `r${i}b`;
      const conversationId = await floorAccept(pool, a, b, await floorSend(pool, a, b));
      await addMessages(pool, conversationId, a, MESSAGES);
      pairs.push({ viewer: a, conversationId });
    }
    await pool.query('analyze');

    ctx.log('(d) retentionStatus: floor (pg)…');
    const floorOp = (w: number) => floorRetention(pool, pairs[w]!.viewer, pairs[w]!.conversationId);
    const sql = instrumentPg();
    const f0 = sql.statements;
    await floorOp(0);
    const floorStatements = sql.statements - f0;
    if (ctx.warmSeconds > 0)
      await closedLoop({ workers: CLIENTS, seconds: ctx.warmSeconds, maxOps, prepare: () => 0, op: floorOp });
    let w = await window(undefined);
    const fr = await closedLoop({
      workers: CLIENTS,
      seconds: ctx.seconds,
      maxOps,
      prepare: () => 0,
      op: floorOp,
    });
    const base = summary(fr, await w.end(), floorStatements);
    ctx.log(`    ${base.loop.perSecond.toFixed(0)} req/s; ties…`);

    const child = await startChild(ctx, 'ties');
    const http = new GraphQLHttp(child.url, CLIENTS);
    let mine: Side;
    try {
      const tokens = await Promise.all(pairs.map((p) => tokenFor(p.viewer)));
      const op = async (worker: number) => {
        const d = await http.post<{ retentionStatus: { state: string; visibleMessages: number } }>(
          QUERY,
          { c: pairs[worker]!.conversationId },
          tokens[worker],
        );
        if (d.retentionStatus.state !== 'ACTIVE' || d.retentionStatus.visibleMessages !== MESSAGES)
          throw new Error(`unexpected retentionStatus ${JSON.stringify(d)}`);
      };
      await op(0); // admits the viewer (first sight)
      await sleep(100);
      const s0 = await child.stats();
      await op(0);
      const s1 = await child.stats();
      const statements = s1.statements - s0.statements - (s1.busStatements - s0.busStatements);
      if (ctx.warmSeconds > 0)
        await closedLoop({ workers: CLIENTS, seconds: ctx.warmSeconds, maxOps, prepare: () => 0, op });
      w = await window(child);
      const r = await closedLoop({ workers: CLIENTS, seconds: ctx.seconds, maxOps, prepare: () => 0, op });
      mine = summary(r, await w.end(), statements);
    } finally {
      http.close();
      await child.stop();
    }
    ctx.log(`    ${mine.loop.perSecond.toFixed(0)} req/s`);
    const s = '(d) retentionStatus ×16';
    const rows = [
      row(s, 'throughput', 'req/s', mine.loop.perSecond, base.loop.perSecond, 'higher'),
      row(s, 'latency p50', 'ms', mine.p50, base.p50, 'lower'),
      row(s, 'latency p99', 'ms', mine.p99, base.p99, 'lower'),
      row(
        s,
        'app CPU per request (ties server / floor process)',
        'ms',
        (mine.usage.serverCores * 1000) / mine.loop.perSecond,
        (base.usage.clientCores * 1000) / base.loop.perSecond,
        'lower',
      ),
      row(
        s,
        'SQL statements per request',
        'count',
        mine.statementsPerRequest,
        base.statementsPerRequest,
        'none',
      ),
      row(s, 'ties server CPU', 'cores', mine.usage.serverCores, Number.NaN, 'none'),
      row(s, 'machine CPU busy', '%', mine.usage.machineBusy * 100, base.usage.machineBusy * 100, 'none'),
      row(s, 'failed requests', 'count', mine.loop.errors, base.loop.errors, 'lower'),
    ];
    return { rows, raw: { ours: mine, floor: base } };
  } finally {
    await pool.end();
  }
}
