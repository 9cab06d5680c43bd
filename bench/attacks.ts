/**
 * `npm run bench:attacks` — how fast the front door refuses hostile operations, and how many SQL
 * statements one contacts page costs. One in-process server on a scratch database on the local
 * PostgreSQL (loopback only), dropped at the end. Prints one line per probe; no assertions (the
 * test suite asserts the answers, this measures them).
 *
 * Probes (each over HTTP and, where the transport differs, graphql-ws):
 *   fan-out     `query{...F0} fragment F0 on Query{...F1 ...F1} … fragment F20 on Query{now}`
 *   aliases     2,000 aliases of `contact(userId: …) { state }`
 *   5 MB (ws)   one 5 MB graphql-ws `subscribe` message (330,000 aliases of `now`)
 *   healthz     `/healthz` sent while each probe runs: how long it waited behind it
 *   contacts    statements for one `contacts(first: N)` page with `conversation { retention }`
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { signToken } from '../src/auth.js';
import { systemClock } from '../src/clock.js';
import { TEST_SECRET } from '../test/support/server.js';
import { Child } from './child.js';
import { createBenchDatabase } from './db.js';

function fanOut(levels = 20): string {
  const parts = ['query{...F0}'];
  for (let i = 0; i < levels; i++) parts.push(`fragment F${i} on Query{...F${i + 1} ...F${i + 1}}`);
  parts.push(`fragment F${levels} on Query{now}`);
  return parts.join(' ');
}

const aliasBomb = (n: number) =>
  `{${Array.from({ length: n }, (_, i) => `a${i}: contact(userId: "u${i}") { state }`).join(' ')}}`;

interface Timed {
  ms: number;
  healthzMs: number;
  answer: string;
}

/**
 * Runs `attack`, which calls `sent()` once its operation is on the wire (the clock starts there);
 * a `/healthz` probe goes out 5 ms later.
 */
async function timed(url: string, attack: (sent: () => void) => Promise<string>): Promise<Timed> {
  let t0 = 0;
  let health: Promise<number> = Promise.resolve(Number.NaN);
  const answer = await attack(() => {
    t0 = performance.now();
    health = (async () => {
      await new Promise((r) => setTimeout(r, 5));
      const h0 = performance.now();
      await fetch(`${url}/healthz`);
      return performance.now() - h0;
    })();
  });
  const ms = performance.now() - t0;
  return { ms, healthzMs: await health, answer };
}

async function httpAttack(url: string, token: string, query: string, sent = () => {}): Promise<string> {
  sent();
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
  });
  const body = (await res.json().catch(() => ({}))) as { errors?: { extensions?: { code?: string } }[] };
  return `${res.status} ${body.errors?.[0]?.extensions?.code ?? 'data'}`;
}

/** One graphql-ws socket: connection_init, then `subscribe` with `query`; resolves on the first answer or close. */
function wsAttack(url: string, token: string, query: string, sent = () => {}): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    ws.on('open', () =>
      ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } })),
    );
    ws.on('message', (raw) => {
      const msg = JSON.parse(String(raw)) as { type: string; payload?: unknown };
      if (msg.type === 'connection_ack') {
        ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
        sent();
      } else if (msg.type === 'next' || msg.type === 'error') {
        const p = msg.payload as
          | { errors?: { extensions?: { code?: string } }[] }
          | { extensions?: { code?: string } }[];
        const first = Array.isArray(p) ? p[0] : p.errors?.[0];
        resolve(`${msg.type} ${first?.extensions?.code ?? 'data'}`);
        ws.close();
      }
    });
    ws.on('close', (code) => resolve(`closed ${code}`));
    ws.on('error', () => {});
  });
}

/** Signs a token the bench's ties child accepts (it runs with the test secret). */
const tokenFor = (userId: string) =>
  signToken(TEST_SECRET, { userId, ttlSeconds: 3600, now: systemClock.now() });

async function gql<T>(url: string, token: string, query: string, variables: Record<string, unknown> = {}) {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: T; errors?: { extensions?: { code?: string } }[] };
}

async function main(): Promise<void> {
  const bench = await createBenchDatabase();
  // The server runs in its own process: a stalled event loop there shows in /healthz here.
  const server = await Child.start('ties', [bench.url]);
  const url = server.url;
  const sqlUsed = async () => {
    const s = await server.stats();
    return s.statements - s.busStatements;
  };
  try {
    const token = await tokenFor('attacker');
    const line = (name: string, r: Timed) =>
      console.log(
        `${name.padEnd(28)} ${r.ms.toFixed(1).padStart(9)} ms to answer   /healthz waited ${r.healthzMs
          .toFixed(1)
          .padStart(8)} ms   answer: ${r.answer}`,
      );
    await httpAttack(url, token, '{ me { id } }'); // warm-up
    line('fan-out, HTTP', await timed(url, (sent) => httpAttack(url, token, fanOut(), sent)));
    line('fan-out, graphql-ws', await timed(url, (sent) => wsAttack(url, token, fanOut(), sent)));
    const before = await sqlUsed();
    line('2,000 aliases, HTTP', await timed(url, (sent) => httpAttack(url, token, aliasBomb(2000), sent)));
    console.log(`${''.padEnd(28)} ${(await sqlUsed()) - before} SQL statements`);
    line(
      '2,000 aliases, graphql-ws',
      await timed(url, (sent) => wsAttack(url, token, aliasBomb(2000), sent)),
    );
    const huge = `{${Array.from({ length: 330_000 }, (_, i) => `alias_${i}: now`).join(' ')}}`;
    line(
      `${(huge.length / 1e6).toFixed(1)} MB message, graphql-ws`,
      await timed(url, (sent) => wsAttack(url, token, huge, sent)),
    );

    // Statements per contacts page: one viewer with 50 friends.
    const owner = await tokenFor('owner');
    await gql(url, owner, '{ me { id } }');
    for (let i = 0; i < 50; i++) {
      const peer = await tokenFor(`peer${i}`);
      await gql(url, peer, '{ me { id } }');
      const r = await gql<{ sendFriendRequest: { request: { id: string } } }>(
        url,
        owner,
        'mutation($u: ID!) { sendFriendRequest(input: { userId: $u }) { request { id } } }',
        { u: `peer${i}` },
      );
      await gql(
        url,
        peer,
        'mutation($r: ID!) { respondToFriendRequest(input: { requestId: $r, accept: true }) { contact { state } } }',
        { r: r.data!.sendFriendRequest.request.id },
      );
    }
    const page = `query($n: Int) { contacts(first: $n) { edges { node { state user { id name }
      conversation { id retention { state reason visibleMessages } } } } } }`;
    for (const n of [10, 50]) {
      await gql(url, owner, page, { n }); // warm (prepared statements)
      const s0 = await sqlUsed();
      const r = await gql<{ contacts: { edges: unknown[] } }>(url, owner, page, { n });
      const used = (await sqlUsed()) - s0;
      const got = r.data?.contacts.edges.length ?? r.errors?.[0]?.extensions?.code;
      console.log(`contacts page of ${String(got).padEnd(3)}              ${used} SQL statements`);
    }
  } finally {
    await server.stop();
    await bench.drop();
  }
}

await main();
