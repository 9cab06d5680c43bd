import http from 'node:http';
import { Samples } from './stats.js';

export interface LoopOptions<P> {
  workers: number;
  seconds: number;
  /** Hard cap on operations started (every loop is bounded in count and time). */
  maxOps: number;
  /** Untimed preparation of operation `i` (tokens, ids). */
  prepare: (worker: number, i: number) => P | Promise<P>;
  /** The timed operation; throws on a wrong answer. */
  op: (worker: number, p: P) => Promise<void>;
  /** Stop early after this many failed operations. */
  maxErrors?: number;
}

export interface LoopResult {
  ops: number;
  errors: number;
  firstError: string | undefined;
  elapsedMs: number;
  perSecond: number;
  /** Per-operation latency, ms. */
  latency: Samples;
  hitMaxOps: boolean;
}

/** `workers` closed loops, each running one operation at a time until the deadline or `maxOps`. */
export async function closedLoop<P>(o: LoopOptions<P>): Promise<LoopResult> {
  const latency = new Samples(o.maxOps);
  let started = 0;
  let ops = 0;
  let errors = 0;
  let firstError: string | undefined;
  const maxErrors = o.maxErrors ?? 50;
  const t0 = performance.now();
  const deadline = t0 + o.seconds * 1000;
  const worker = async (w: number) => {
    while (performance.now() < deadline && started < o.maxOps && errors < maxErrors) {
      const p = await o.prepare(w, started++);
      const s = performance.now();
      try {
        await o.op(w, p);
        latency.add(performance.now() - s);
        ops++;
      } catch (err) {
        errors++;
        firstError ??= String((err as Error)?.message ?? err);
      }
    }
  };
  await Promise.all(Array.from({ length: o.workers }, (_, w) => worker(w)));
  const elapsedMs = performance.now() - t0;
  return {
    ops,
    errors,
    firstError,
    elapsedMs,
    perSecond: (ops / elapsedMs) * 1000,
    latency,
    hitMaxOps: started >= o.maxOps,
  };
}

export interface GraphQLResult<T> {
  data?: T;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/** A keep-alive HTTP client for POST /graphql (one socket per concurrent caller). */
export class GraphQLHttp {
  private readonly agent: http.Agent;
  private readonly target: URL;

  constructor(baseUrl: string, sockets: number) {
    this.target = new URL('/graphql', baseUrl);
    if (this.target.hostname !== '127.0.0.1') throw new Error('bench targets 127.0.0.1 only');
    this.agent = new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
  }

  /** POST; rejects on a non-200 status, a top-level error or a timeout (10 s). */
  post<T>(query: string, variables: Record<string, unknown>, token?: string): Promise<T> {
    const body = JSON.stringify({ query, variables });
    return new Promise<T>((resolve, reject) => {
      const req = http.request(
        {
          host: this.target.hostname,
          port: this.target.port,
          path: this.target.pathname,
          method: 'POST',
          agent: this.agent,
          timeout: 10_000,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            try {
              const r = JSON.parse(text) as GraphQLResult<T>;
              if (res.statusCode !== 200 || r.errors?.length || !r.data)
                reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 300)}`));
              else resolve(r.data);
            } catch {
              reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 300)}`));
            }
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('request timed out')));
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
