// T1–T5 as a property (fast-check, model-based): random sends, periods, stars, leaving a group,
// legal holds placed and released, clock jumps from a second to three years, and sweeps — over
// the API against real Postgres. After every step the server must agree with a small model:
//   1. each reader's `messages` is exactly the model's view (T1, stars; a hold changes nothing);
//   2. the stored rows are exactly the model's: nothing deleted while in someone's view or held,
//      and after a sweep nothing left that is out of every view and unheld (T2, T3, T5);
//   3. rows kept only by a hold are exactly those the model says are purged-but-held;
//   4. `retentionStatus.visibleMessages` and `nextExpiryAt` are the model's, to the millisecond.
// Size: 20 runs × 10–28 steps (fixed seed), ~45 s; seeds 20261203 and 7 pass, and it fails when stars or holds are ignored by the sweep.
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/db/client.js';
import { errorsAt, names } from '../support/client.js';
import { openTestEnv, type TestEnv } from '../support/fixture.js';
import { type RetentionClient, retentionClient } from '../support/retention.js';

let env: TestEnv;
let ret: RetentionClient;
beforeAll(async () => {
  env = await openTestEnv();
  ret = retentionClient(env.api, env.db);
});
afterAll(() => env?.close());

const DAY_MS = 24 * 3600 * 1000;
const PERIODS = [
  { period: 'FOREVER', days: null },
  { period: 'DAYS', days: 1 },
  { period: 'DAYS', days: 7 },
  { period: 'DAYS', days: 30 },
  { period: 'THREE_MONTHS', days: 90 },
  { period: 'ONE_YEAR', days: 365 },
] as const;
const JUMPS = [1, 3600, 86_400, 10 * 86_400, 100 * 86_400, 400 * 86_400, 3 * 365 * 86_400];

type Cmd =
  | { t: 'send'; conv: number; who: number }
  | { t: 'policy'; who: number; conv: number | null; p: number }
  | { t: 'star'; who: number; msg: number; starred: boolean }
  | { t: 'hold'; scope: 'conv0' | 'conv1' | 'user'; who: number; fromDays: number | null }
  | { t: 'release'; idx: number }
  | { t: 'advance'; s: number }
  | { t: 'sweep' }
  | { t: 'leave' };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('send' as const), conv: fc.nat(1), who: fc.nat(2) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('policy' as const),
      who: fc.nat(4),
      conv: fc.option(fc.nat(1), { nil: null }),
      p: fc.nat(PERIODS.length - 1),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('star' as const),
      who: fc.nat(4),
      msg: fc.nat(40),
      starred: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('hold' as const),
      scope: fc.constantFrom('conv0' as const, 'conv1' as const, 'user' as const),
      who: fc.nat(4),
      fromDays: fc.option(fc.constantFrom(1, 30, 400), { nil: null }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('release' as const), idx: fc.nat(4) }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('advance' as const), s: fc.constantFrom(...JUMPS) }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('sweep' as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('leave' as const) }) },
);

interface MMessage {
  id: string;
  conv: number;
  sentAt: number;
  stars: Set<string>;
  deleted: boolean;
  /** Out of every view but kept by a hold: gone for every reader for good. */
  purged: boolean;
}
interface MHold {
  id: string;
  conv: number | null;
  user: string | null;
  from: number | null;
  active: boolean;
}

let run = 0;

/** One world: users a, b (a direct conversation) and o, x, y (a group); the model beside it. */
async function world() {
  const [a, b, o, x, y] = names(`prop${++run}`, 'a', 'b', 'o', 'x', 'y') as [
    string,
    string,
    string,
    string,
    string,
  ];
  const users = [a, b, o, x, y];
  const direct = await env.api.befriend(a, b);
  const group = await env.groups.make(o, [x, y]);
  const convs = [direct, group.conversation.id];
  const m = {
    users,
    convs,
    groupId: group.id,
    members: [
      [a, b],
      [o, x, y],
    ] as string[][],
    /** Everyone who ever was a party (a hold on a user covers the groups they left too). */
    ever: [
      [a, b],
      [o, x, y],
    ] as string[][],
    own: new Map<string, number | null>(), // `${user}|${conv}` → days
    defaults: new Map<string, number | null>(),
    messages: [] as MMessage[],
    holds: [] as MHold[],
    left: false,
  };
  return m;
}
type Model = Awaited<ReturnType<typeof world>>;

const daysOf = (m: Model, u: string, conv: number): number | null => {
  const k = `${u}|${conv}`;
  if (m.own.has(k)) return m.own.get(k)!;
  return m.defaults.has(u) ? m.defaults.get(u)! : null;
};
const inView = (m: Model, u: string, msg: MMessage, now: number): boolean => {
  if (msg.deleted || msg.purged) return false;
  const d = daysOf(m, u, msg.conv);
  return d === null || msg.sentAt > now - d * DAY_MS || msg.stars.has(u);
};
const held = (m: Model, msg: MMessage): boolean =>
  m.holds.some(
    (h) =>
      h.active &&
      (h.from === null || msg.sentAt >= h.from) &&
      (h.conv === msg.conv || (h.user !== null && m.ever[msg.conv]!.includes(h.user))),
  );

/** A sweep in the model: what left every participant's view goes (or is kept, hidden, if held). */
function sweepModel(m: Model, now: number) {
  for (const msg of m.messages) {
    if (msg.deleted) continue;
    const out = msg.purged || m.members[msg.conv]!.every((p) => !inView(m, p, msg, now));
    if (!out) continue;
    if (held(m, msg)) msg.purged = true;
    else msg.deleted = true;
  }
}

async function check(m: Model, label: string) {
  const now = env.clock.now().getTime();
  // 2 and 3: the stored rows.
  const stored = await rows<{ id: string; purged: boolean }>(
    env.db.handle.db,
    sql`SELECT id, purged_at IS NOT NULL AS purged FROM messages WHERE conversation_id IN (${m.convs[0]}, ${m.convs[1]})`,
  );
  const want = m.messages.filter((x) => !x.deleted);
  expect(stored.map((r) => r.id).sort(), `${label}: stored rows`).toEqual(want.map((x) => x.id).sort());
  expect(
    stored
      .filter((r) => r.purged)
      .map((r) => r.id)
      .sort(),
    `${label}: rows kept by a hold`,
  ).toEqual(
    want
      .filter((x) => x.purged)
      .map((x) => x.id)
      .sort(),
  );
  // 1 and 4: each reader's view and status.
  // One request per reader, both conversations at once: the messages and the status of each.
  const conversation = (k: number) =>
    `c${k}: conversation(id: $c${k}) { messages(first: 100) { edges { node { id } } }
       retention { visibleMessages nextExpiryAt } }`;
  for (const u of m.users) {
    const convs = [0, 1].filter((k) => m.members[k]!.includes(u));
    if (convs.length === 0) continue;
    const r = await env.api.gql<Record<string, Reading>>(
      u,
      `query(${convs.map((k) => `$c${k}: ID!`).join(', ')}) { ${convs.map(conversation).join(' ')} }`,
      Object.fromEntries(convs.map((k) => [`c${k}`, m.convs[k]])),
    );
    for (const conv of convs) {
      const got = r[`c${conv}`]!;
      const seen = got.messages.edges.map((e) => e.node.id);
      const visible = m.messages.filter((x) => x.conv === conv && inView(m, u, x, now));
      expect(seen.slice().sort(), `${label}: ${u} reads conv ${conv}`).toEqual(
        visible.map((x) => x.id).sort(),
      );
      expect(got.retention.visibleMessages, `${label}: ${u} visibleMessages`).toBe(visible.length);
      const d = daysOf(m, u, conv);
      const unstarred = visible.filter((x) => !x.stars.has(u) && d !== null && x.sentAt > now - d * DAY_MS);
      const next =
        d === null || visible.length === 0 || unstarred.length === 0
          ? null
          : new Date(Math.min(...unstarred.map((x) => x.sentAt)) + d * DAY_MS).toISOString();
      expect(got.retention.nextExpiryAt, `${label}: ${u} nextExpiryAt`).toBe(next);
    }
  }
}

interface Reading {
  messages: { edges: { node: { id: string } }[] };
  retention: { visibleMessages: number; nextExpiryAt: string | null };
}

async function step(m: Model, c: Cmd, i: number) {
  const now = env.clock.now().getTime();
  switch (c.t) {
    case 'send': {
      const who = m.members[c.conv]![c.who % m.members[c.conv]!.length]!;
      const [id] = await env.api.say(who, m.convs[c.conv]!, `m${i}`);
      m.messages.push({
        id: id!,
        conv: c.conv,
        sentAt: now,
        stars: new Set(),
        deleted: false,
        purged: false,
      });
      return;
    }
    case 'policy': {
      const u = m.users[c.who]!;
      const conv = c.conv;
      if (conv !== null && !m.members[conv]!.includes(u)) return; // not a party: nothing to set
      const p = PERIODS[c.p]!;
      const r = await ret.setPolicy(u, {
        ...(conv !== null ? { conversationId: m.convs[conv]! } : {}),
        period: p.period,
        ...(p.period === 'DAYS' ? { days: p.days! } : {}),
      });
      expect(r.userErrors).toEqual([]);
      if (conv === null) m.defaults.set(u, p.days);
      else m.own.set(`${u}|${conv}`, p.days);
      return;
    }
    case 'star': {
      if (m.messages.length === 0) return;
      // Mostly a message someone may star now (then by one who reads it); else any, by anyone.
      const starrable = m.messages.filter((x) => m.members[x.conv]!.some((p) => inView(m, p, x, now)));
      const pool = c.msg % 4 !== 0 && starrable.length > 0 ? starrable : m.messages;
      const msg = pool[c.msg % pool.length]!;
      const readers = m.members[msg.conv]!.filter((p) => inView(m, p, msg, now));
      const u = pool === starrable ? readers[c.who % readers.length]! : m.users[c.who]!;
      const r = await ret.star(u, msg.id, c.starred);
      const readable = m.members[msg.conv]!.includes(u) && inView(m, u, msg, now);
      if (!readable) {
        expect(errorsAt(r)).toEqual(['NOT_FOUND@input.messageId']);
        return;
      }
      expect(r.userErrors).toEqual([]);
      if (c.starred) msg.stars.add(u);
      else msg.stars.delete(u);
      return;
    }
    case 'hold': {
      const from = c.fromDays === null ? null : now - c.fromDays * DAY_MS;
      const scope =
        c.scope === 'user'
          ? { userId: m.users[c.who]! }
          : { conversationId: m.convs[c.scope === 'conv0' ? 0 : 1]! };
      const h = await ret.hold({
        ...scope,
        ...(from !== null ? { from: new Date(from).toISOString() } : {}),
      });
      m.holds.push({
        id: h.id,
        conv: c.scope === 'user' ? null : c.scope === 'conv0' ? 0 : 1,
        user: c.scope === 'user' ? m.users[c.who]! : null,
        from,
        active: true,
      });
      return;
    }
    case 'release': {
      const active = m.holds.filter((h) => h.active);
      if (active.length === 0) return;
      const h = active[c.idx % active.length]!;
      expect((await ret.release(h.id)).userErrors).toEqual([]);
      h.active = false;
      return;
    }
    case 'advance':
      env.clock.advance(c.s);
      return;
    case 'sweep':
      await env.api.sweep();
      sweepModel(m, now);
      return;
    case 'leave': {
      if (m.left) return;
      const [, x] = m.members[1]!;
      expect((await env.groups.leave(x!, m.groupId)).userErrors).toEqual([]);
      m.members[1] = m.members[1]!.filter((u) => u !== x);
      m.left = true;
      return;
    }
  }
}

describe('T1–T5 property: the server agrees with the model after every step', () => {
  it('random sends, periods, stars, leaving, holds, clock jumps and sweeps', {
    timeout: 300_000,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(
        // Each user's default period first (mostly finite, so messages do leave every view).
        fc.array(fc.constantFrom(1, 1, 2, 3, 4, 5, 0), { minLength: 5, maxLength: 5 }),
        fc.array(cmdArb, { minLength: 10, maxLength: 28 }),
        async (defaults, cmds) => {
          const m = await world();
          for (const [who, p] of defaults.entries()) await step(m, { t: 'policy', who, conv: null, p }, -1);
          try {
            for (const [i, c] of cmds.entries()) {
              await step(m, c, i);
              await check(m, `step ${i} ${JSON.stringify(c)}`);
            }
            // A last sweep: whatever is out of every view and unheld is gone.
            await env.api.sweep();
            sweepModel(m, env.clock.now().getTime());
            await check(m, 'final sweep');
          } finally {
            for (const h of m.holds.filter((x) => x.active)) await ret.release(h.id);
          }
        },
      ),
      { numRuns: 20, seed: 20261203, endOnFailure: true },
    );
  });
});
