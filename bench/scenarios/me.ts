/** (a) `{ me { id } }` over HTTP, 32 connections: ties vs a bare Apollo Server 5 on express5. */
import autocannon from 'autocannon';
import { type BenchContext, startChild, tokenFor, type Usage, window } from '../context.js';
import { GraphQLHttp } from '../load.js';
import { type Row, row, Samples } from '../stats.js';

const CONNECTIONS = 32;
const QUERY = '{ me { id } }';

interface Side {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
  usage: Usage;
}

async function side(ctx: BenchContext, mode: 'ties' | 'apollo', userId: string): Promise<Side> {
  const child = await startChild(ctx, mode);
  try {
    const token = await tokenFor(userId);
    // Preflight: the right answer, once (this also admits the user to ties).
    const client = new GraphQLHttp(child.url, 1);
    const data = await client.post<{ me: { id: string } }>(QUERY, {}, token);
    client.close();
    if (!data.me?.id) throw new Error(`${mode}: unexpected me answer ${JSON.stringify(data)}`);
    const opts = (seconds: number): autocannon.Options => ({
      url: `${child.url}/graphql`,
      method: 'POST',
      connections: CONNECTIONS,
      duration: seconds,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: QUERY }),
      // Every answer checked (counted in `mismatches`).
      verifyBody: (b) => typeof b === 'string' && b.includes('{"data":{"me":{"id":"'),
    });
    if (ctx.warmSeconds > 0) await autocannon(opts(ctx.warmSeconds));
    // Latency from autocannon's own per-response timings (float ms; its histogram keeps whole ms).
    const samples = new Samples(5_000_000);
    const w = await window(child);
    const r = await new Promise<autocannon.Result>((resolve, reject) => {
      const inst = autocannon(opts(ctx.seconds), (err, res) => (err ? reject(err) : resolve(res)));
      inst.on('response', (_c: unknown, status: number, _bytes: number, ms: number) => {
        if (status === 200) samples.add(ms);
      });
    });
    const usage = await w.end();
    const [p50, p99] = samples.percentiles([50, 99]);
    return {
      rps: r.requests.total / r.duration,
      p50: p50!,
      p99: p99!,
      requests: r.requests.total,
      non2xx: r.non2xx,
      errors: r.errors + r.timeouts + r.mismatches,
      usage,
    };
  } finally {
    await child.stop();
  }
}

export async function benchMe(ctx: BenchContext): Promise<{ rows: Row[]; raw: unknown }> {
  ctx.log('(a) me { id }: bare Apollo…');
  const base = await side(ctx, 'apollo', 'bench-me');
  ctx.log(`    ${base.rps.toFixed(0)} req/s; ties…`);
  const ours = await side(ctx, 'ties', 'bench-me');
  ctx.log(`    ${ours.rps.toFixed(0)} req/s`);
  const s = '(a) me{id} HTTP ×32';
  const rows = [
    row(s, 'throughput', 'req/s', ours.rps, base.rps, 'higher'),
    row(s, 'latency p50', 'ms', ours.p50, base.p50, 'lower'),
    row(s, 'latency p99', 'ms', ours.p99, base.p99, 'lower'),
    row(
      s,
      'server CPU per request',
      'ms',
      (ours.usage.serverCores * 1000) / ours.rps,
      (base.usage.serverCores * 1000) / base.rps,
      'lower',
    ),
    row(s, 'server CPU', 'cores', ours.usage.serverCores, base.usage.serverCores, 'none'),
    row(s, 'non-2xx + errors', 'count', ours.non2xx + ours.errors, base.non2xx + base.errors, 'lower'),
  ];
  return { rows, raw: { ours, baseline: base } };
}
