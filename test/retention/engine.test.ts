// The retention engine over the API (SPEC T1–T5), real Postgres, manual clock: each user's own
// period, stars, the physical purge once a message left every participant's view, legal holds that
// freeze every purge path without changing what anyone sees, and two sweepers at once.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/db/client.js';
import { runSweep } from '../../src/jobs/sweep.js';
import { errorsAt, names } from '../support/client.js';
import { openTestEnv, type TestEnv } from '../support/fixture.js';
import { OPERATOR, type RetentionClient, retentionClient } from '../support/retention.js';
import { startTestApp } from '../support/server.js';

let env: TestEnv;
let ret: RetentionClient;
beforeAll(async () => {
  env = await openTestEnv();
  ret = retentionClient(env.api, env.db);
});
afterAll(() => env?.close());

const DAY = 24 * 3600;
const sweep = async () => (await env.api.sweep()).run!;
const iso = (d: Date) => d.toISOString();

describe('T1/T2: each user their own period; purged once out of every view', () => {
  it('two periods on one conversation: each sees their own window; the row goes after the longer', async () => {
    const [a, b] = names('periods', 'a', 'b');
    const cid = await env.api.befriend(a!, b!);
    expect((await ret.setPolicy(a!, { conversationId: cid, period: 'DAYS', days: 30 })).userErrors).toEqual(
      [],
    );
    expect((await ret.setPolicy(b!, { period: 'THREE_MONTHS' })).policy).toEqual({
      conversationId: null,
      period: 'THREE_MONTHS',
      days: 90,
    });
    const sentAt = env.clock.now();
    await env.api.say(a!, cid, 'old');
    env.clock.advance(10 * DAY);
    await env.api.say(b!, cid, 'newer');
    const sa = await env.api.retention(a!, cid);
    expect(sa).toMatchObject({ period: 'DAYS', visibleMessages: 2 });
    expect(sa.nextExpiryAt).toBe(iso(new Date(sentAt.getTime() + 30 * DAY * 1000)));
    expect((await env.api.retention(b!, cid)).nextExpiryAt).toBe(
      iso(new Date(sentAt.getTime() + 90 * DAY * 1000)),
    );

    env.clock.set(new Date(sentAt.getTime() + 30 * DAY * 1000 + 1000));
    expect(await ret.bodies(a!, cid)).toEqual(['newer']);
    expect(await ret.bodies(b!, cid)).toEqual(['old', 'newer']);
    await sweep();
    expect(await ret.stored(cid)).toEqual({ rows: 2, held: 0 }); // b still sees both

    env.clock.set(new Date(sentAt.getTime() + 90 * DAY * 1000 + 1000));
    expect(await ret.bodies(b!, cid)).toEqual(['newer']);
    expect(await ret.bodies(a!, cid)).toEqual([]); // 'newer' left a's 30-day view long ago
    const run = await sweep();
    expect(run.purgedMessages).toBeGreaterThanOrEqual(1);
    expect(await ret.stored(cid)).toEqual({ rows: 1, held: 0 });
    env.clock.advance(10 * DAY);
    await sweep();
    expect(await ret.stored(cid)).toEqual({ rows: 0, held: 0 });
  });

  it('a star keeps a message in the starrer’s view only, and keeps its row until unstarred', async () => {
    const [a, b] = names('stars', 'a', 'b');
    const cid = await env.api.befriend(a!, b!);
    for (const u of [a!, b!]) await ret.setPolicy(u, { conversationId: cid, period: 'DAYS', days: 1 });
    const [kept, gone] = await env.api.say(a!, cid, 'kept', 'gone');
    expect((await ret.star(b!, kept!)).message).toEqual({ id: kept, starred: true });
    expect((await env.api.messages(a!, cid, 10)).edges.map((e) => e.node.starred)).toEqual([false, false]);
    env.clock.advance(2 * DAY);
    expect(await ret.bodies(b!, cid)).toEqual(['kept']);
    expect(await ret.bodies(a!, cid)).toEqual([]);
    expect(errorsAt(await ret.star(a!, kept!))).toEqual(['NOT_FOUND@input.messageId']); // out of a's view
    expect(errorsAt(await ret.star(b!, gone!))).toEqual(['NOT_FOUND@input.messageId']);
    await sweep();
    expect(await ret.stored(cid)).toEqual({ rows: 1, held: 0 });
    expect((await env.api.retention(b!, cid)).nextExpiryAt).toBeNull(); // only a starred one left
    await ret.star(b!, kept!, false);
    expect(await ret.bodies(b!, cid)).toEqual([]);
    await sweep();
    expect(await ret.stored(cid)).toEqual({ rows: 0, held: 0 });
  });

  it('a member who leaves stops keeping the group’s messages alive', async () => {
    const [o, x, y] = names('leave', 'o', 'x', 'y');
    const g = await env.groups.make(o!, [x!, y!]);
    const cid = g.conversation.id;
    for (const u of [o!, y!]) await ret.setPolicy(u, { period: 'DAYS', days: 1 });
    await env.api.say(o!, cid, 'hello');
    env.clock.advance(2 * DAY);
    expect(await ret.bodies(x!, cid)).toEqual(['hello']); // x keeps FOREVER
    expect(await ret.bodies(o!, cid)).toEqual([]);
    await sweep();
    expect(await ret.stored(cid)).toEqual({ rows: 1, held: 0 });
    expect((await env.groups.leave(x!, g.id)).userErrors).toEqual([]);
    await sweep();
    expect(await ret.stored(cid)).toEqual({ rows: 0, held: 0 });
  });

  it('two parties shortening their periods at the same moment still get their messages purged', async () => {
    for (let i = 0; i < 8; i++) {
      const [a, b] = names(`race${i}`, 'a', 'b');
      const cid = await env.api.befriend(a!, b!);
      await env.api.say(a!, cid, 'm0');
      await Promise.all([
        ret.setPolicy(a!, { period: 'DAYS', days: 1 }),
        ret.setPolicy(b!, { period: 'DAYS', days: 1 }),
      ]);
      env.clock.advance(2 * DAY);
      await sweep();
      expect(await ret.stored(cid)).toEqual({ rows: 0, held: 0 });
    }
  });

  it('refuses bad input and changes nothing', async () => {
    const [a, b, s] = names('badpolicy', 'a', 'b', 's');
    await env.api.token(s!);
    const cid = await env.api.befriend(a!, b!);
    const bad = async (input: Parameters<RetentionClient['setPolicy']>[1], who = a!) =>
      errorsAt(await ret.setPolicy(who, input));
    expect(await bad({ period: 'DAYS' })).toEqual(['BAD_USER_INPUT@input.days']);
    expect(await bad({ period: 'DAYS', days: 0 })).toEqual(['BAD_USER_INPUT@input.days']);
    expect(await bad({ period: 'DAYS', days: 36_501 })).toEqual(['BAD_USER_INPUT@input.days']);
    expect(await bad({ period: 'FOREVER', days: 3 })).toEqual(['BAD_USER_INPUT@input.days']);
    expect(await bad({ conversationId: 'nope', period: 'FOREVER' })).toEqual([
      'BAD_USER_INPUT@input.conversationId',
    ]);
    expect(await bad({ conversationId: cid, period: 'ONE_YEAR' }, s!)).toEqual([
      'NOT_FOUND@input.conversationId',
    ]);
    expect((await env.api.retention(a!, cid)).period).toBe('FOREVER');
    const [p] = await rows<{ n: number }>(
      env.db.handle.db,
      sql`SELECT count(*)::int AS n FROM retention_policies WHERE user_id IN (${a}, ${s})`,
    );
    expect(p!.n).toBe(0);
  });
});

describe('T3: legal holds freeze every purge path, and nobody can tell', () => {
  it('during an R3 buffer: users see PURGED as usual, the rows stay; release → the next sweep deletes', async () => {
    const [a, b] = names('hold-r3', 'a', 'b');
    const cid = await env.api.befriend(a!, b!);
    await env.api.say(a!, cid, 'one', 'two');
    await env.api.deleteContact(a!, b!);
    await env.api.deleteContact(b!, a!);
    const hold = await ret.hold({ conversationId: cid });
    env.clock.advance(30 * DAY);
    const run = await sweep();
    expect(run.heldBack).toBeGreaterThanOrEqual(2);
    expect(await ret.stored(cid)).toEqual({ rows: 2, held: 2 });
    const status = await env.api.retention(a!, cid);
    expect(status).toMatchObject({ state: 'PURGED', reason: 'R3', visibleMessages: 0, holds: null });
    const { notices } = await env.api.notices(b!);
    expect(notices.filter((n) => n.__typename === 'ConversationPurged').at(-1)).toMatchObject({
      conversationId: cid,
      purgedMessages: 2, // what left the view — the same without a hold
    });
    // An operator sees the hold on the conversation.
    const op = await env.api.gqlAs<{ retentionStatus: { holds: { id: string }[] } }>(
      OPERATOR,
      { operator: true },
      'query($id: ID!) { retentionStatus(conversationId: $id) { holds { id } } }',
      { id: cid },
    );
    expect(op.retentionStatus.holds.map((h) => h.id)).toEqual([hold.id]);
    expect((await ret.release(hold.id)).hold).toMatchObject({ active: false, releasedBy: OPERATOR });
    expect(errorsAt(await ret.release(hold.id))).toEqual(['BAD_USER_INPUT@input.holdId']);
    await sweep();
    expect(await ret.stored(cid)).toEqual({ rows: 0, held: 0 });
  });

  it('before a block-and-delete (a hold on a user): the rows stay, both sides see what they would', async () => {
    const [a, b] = names('hold-r4', 'a', 'b');
    const cid = await env.api.befriend(a!, b!);
    await env.api.say(b!, cid, 'x', 'y');
    expect((await env.rich.send(b!, cid, { body: 'z', idempotencyKey: 'k-z' })).userErrors).toEqual([]);
    const hold = await ret.hold({ userId: b! });
    const blocked = await env.api.blockContact(a!, b!, true);
    // A retry of the purged send answers as it would without the hold.
    expect(errorsAt(await env.rich.send(b!, cid, { body: 'z', idempotencyKey: 'k-z' }))).toEqual([
      'NOT_FOUND@input.idempotencyKey',
    ]);
    expect(blocked.retention).toMatchObject({ state: 'PURGED', reason: 'R4', visibleMessages: 0 });
    expect(await ret.stored(cid)).toEqual({ rows: 3, held: 3 });
    expect(await ret.bodies(b!, cid)).toEqual([]); // the blocked side sees the purge too (R4)
    await sweep();
    expect(await ret.stored(cid)).toEqual({ rows: 3, held: 3 });
    await ret.release(hold.id);
    await sweep();
    expect(await ret.stored(cid)).toEqual({ rows: 0, held: 0 });
  });

  it('during a dissolution undo window (a hold on the group): finalization keeps the rows and files', async () => {
    const [o, m] = names('hold-g3', 'o', 'm');
    const g = await env.groups.make(o!, [m!]);
    const cid = g.conversation.id;
    await env.rich.sent(m!, cid, { body: 'file', attachment: { name: 'a.txt', bytes: 'aGk=' } });
    await env.api.say(o!, cid, 'plain');
    await env.groups.dissolve(o!, g.id, false);
    const hold = await ret.hold({ groupId: g.id });
    env.clock.advance(48 * 3600);
    await sweep();
    expect(await ret.stored(cid)).toEqual({ rows: 2, held: 2 });
    const [f] = await rows<{ n: number }>(
      env.db.handle.db,
      sql`SELECT count(*)::int AS n FROM files f JOIN messages x ON x.id = f.message_id WHERE x.conversation_id = ${cid}`,
    );
    expect(f!.n).toBe(1);
    expect(await env.api.retention(m!, cid)).toMatchObject({ state: 'DISSOLVED', visibleMessages: 0 });
    expect(await ret.bodies(m!, cid)).toEqual([]);
    await ret.release(hold.id);
    await sweep();
    expect(await ret.stored(cid)).toEqual({ rows: 0, held: 0 });
  });

  it('payment records keep their links under a hold (R3 purge, G3 leaving); the ledgers read as without one', async () => {
    const world = async (tag: string, held: boolean) => {
      const [a, b, o] = names(tag, 'a', 'b', 'o');
      const cid = await env.api.befriend(a!, b!);
      const pay = { amountCents: 500, currency: 'EUR' };
      await env.rich.sent(a!, cid, { body: 'direct', payment: { ...pay, toUserId: b! } });
      const g = await env.groups.make(o!, [a!, b!]);
      await env.rich.sent(a!, g.conversation.id, { body: 'group', payment: { ...pay, toUserId: o! } });
      if (held) {
        await ret.hold({ conversationId: cid });
        await ret.hold({ groupId: g.id });
      }
      await env.api.deleteContact(a!, b!);
      await env.api.deleteContact(b!, a!);
      await env.groups.dissolve(o!, g.id, true);
      return { a: a!, b: b!, o: o!, cid, gid: g.conversation.id };
    };
    const plain = await world('pay-plain', false);
    const held = await world('pay-held', true);
    env.clock.advance(30 * DAY); // past R3's buffer and G3's 72 hours
    await sweep();
    const ledgers = async (w: typeof plain) =>
      JSON.stringify(
        await Promise.all(
          [w.a, w.b, w.o].map(async (u) =>
            (await env.rich.ledger(u)).edges
              .map(({ node: p }) => ({
                amount: p.amountCents,
                conversation: p.conversationId !== null,
                message: p.messageId !== null,
              }))
              // Both were paid at the same instant: the ledger orders them by their random ids.
              .sort((x, y) => Number(x.conversation) - Number(y.conversation)),
          ),
        ),
      );
    expect(await ledgers(held)).toBe(await ledgers(plain));
    // a: paid in the group (left it: no links) and directly (purged message, the conversation stays).
    expect(JSON.parse(await ledgers(plain))[0]).toEqual([
      { amount: 500, conversation: false, message: false },
      { amount: 500, conversation: true, message: false },
    ]);
    const links = async (w: typeof plain) =>
      rows<{ c: number; m: number }>(
        env.db.handle.db,
        sql`SELECT count(p.conversation_id)::int AS c, count(p.message_id)::int AS m FROM payments p
            JOIN users u ON u.id = p.payer_id WHERE u.id = ${w.a}`,
      );
    expect(await links(plain)).toEqual([{ c: 1, m: 0 }]); // the direct one keeps its conversation
    expect(await links(held)).toEqual([{ c: 2, m: 2 }]); // the hold kept every link
  });

  it('released, a hold lets go of the files and payment links it kept through a kept-history dissolution', async () => {
    const [o, m] = names('hold-keep', 'o', 'm');
    const g = await env.groups.make(o!, [m!]);
    const cid = g.conversation.id;
    await env.rich.sent(m!, cid, {
      body: 'file and payment',
      attachment: { name: 'a.txt', bytes: 'aGk=' },
      payment: { amountCents: 700, currency: 'EUR', toUserId: o! },
    });
    const hold = await ret.hold({ groupId: g.id });
    await env.groups.dissolve(o!, g.id, true);
    env.clock.advance(72 * 3600); // past undoUntil (48 h) and paymentsLeaveAt (72 h)
    await sweep();
    const kept = async () =>
      (
        await rows<{ files: number; links: number; due: number }>(
          env.db.handle.db,
          sql`SELECT (SELECT count(*)::int FROM files f JOIN messages x ON x.id = f.message_id
                       WHERE x.conversation_id = ${cid}) AS files,
                     (SELECT count(p.message_id)::int FROM payments p JOIN users u ON u.id = p.payer_id
                       WHERE u.id = ${m!}) AS links,
                     (SELECT count(*)::int FROM dissolutions WHERE group_id = ${g.id} AND next_due_at IS NOT NULL) AS due`,
        )
      )[0];
    expect(await kept()).toEqual({ files: 1, links: 1, due: 0 });
    const before = await env.rich.messages(m!, cid);
    expect(before.map((x) => [x.body, x.attachment, x.payment])).toEqual([['file and payment', null, null]]);
    await ret.release(hold.id);
    expect((await kept())!.due).toBe(1);
    const run = await sweep();
    expect(run).toMatchObject({ purgedFiles: 1, paymentsDetached: 1 });
    expect(await kept()).toEqual({ files: 0, links: 0, due: 0 });
    expect(await env.rich.messages(m!, cid)).toEqual(before); // nobody sees a difference
    expect(await sweep()).toMatchObject({ purgedFiles: 0, paymentsDetached: 0, dissolutionsFinalized: 0 });
  });

  it('an ordinary user’s view is identical with and without a hold (T2 expiry too)', async () => {
    const world = async (tag: string, held: boolean) => {
      const [a, b] = names(tag, 'a', 'b');
      const cid = await env.api.befriend(a!, b!);
      for (const u of [a!, b!]) await ret.setPolicy(u, { conversationId: cid, period: 'DAYS', days: 1 });
      const [m1] = await env.api.say(a!, cid, 'first', 'second');
      await ret.star(b!, m1!);
      if (held) await ret.hold({ userId: a! });
      return { a: a!, b: b!, cid };
    };
    const plain = await world('same-plain', false);
    const held = await world('same-held', true);
    env.clock.advance(2 * DAY);
    await sweep();
    // Everything each user can ask, with ids and names normalized away.
    const seen = async (w: typeof plain) => {
      const out: unknown[] = [];
      for (const u of [w.a, w.b]) {
        const r = await env.api.gql(
          u,
          `query($id: ID!) {
            retentionStatus(conversationId: $id) { state period nextExpiryAt purgeAt purgedAt restorable restorableUntil reason visibleMessages holds { id } }
            messages(conversationId: $id, first: 100) { edges { node { body sentAt starred } } }
            contacts(first: 10) { edges { node { state since } } } }`,
          { id: w.cid },
        );
        const { notices } = await env.api.notices(u);
        out.push(
          r,
          notices.map((n) => [n.__typename, n.at]),
        );
      }
      return JSON.stringify(out);
    };
    expect(await seen(held)).toBe(await seen(plain));
    expect(await ret.stored(plain.cid)).toEqual({ rows: 1, held: 0 }); // b's star keeps 'first'
    expect(await ret.stored(held.cid)).toEqual({ rows: 2, held: 1 }); // 'second' kept, hidden
  });

  it('is for operators only, with exactly one scope; the list is theirs', async () => {
    const [u] = names('hold-who', 'u');
    await env.api.token(u!);
    expect(errorsAt(await ret.placeHold(u!, { userId: u! }))).toEqual(['FORBIDDEN@']);
    expect(
      errorsAt(await ret.placeHold(OPERATOR, { userId: u!, groupId: crypto.randomUUID() }, true)),
    ).toEqual(['BAD_USER_INPUT@input']);
    expect(errorsAt(await ret.placeHold(OPERATOR, {}, true))).toEqual(['BAD_USER_INPUT@input']);
    expect(errorsAt(await ret.placeHold(OPERATOR, { userId: u!, reason: ' ' }, true))).toEqual([
      'BAD_USER_INPUT@input.reason',
    ]);
    expect(
      errorsAt(
        await ret.placeHold(
          OPERATOR,
          { userId: u!, from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' },
          true,
        ),
      ),
    ).toEqual(['BAD_USER_INPUT@input.to']);
    const listed = await env.api.raw(u!, '{ legalHolds(first: 5) { edges { node { id } } } }');
    expect(listed.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    const h = await ret.hold({ userId: u!, reason: 'subpoena 7' });
    const list = await env.api.gqlAs<{ legalHolds: { edges: { node: { id: string; reason: string } }[] } }>(
      OPERATOR,
      { operator: true },
      '{ legalHolds(first: 100) { edges { node { id reason } } } }',
    );
    expect(list.legalHolds.edges[0]!.node).toEqual({ id: h.id, reason: 'subpoena 7' });
    const [a] = await rows<{ kind: string }>(
      env.db.handle.db,
      sql`SELECT kind FROM audit_entries WHERE subject_id = ${h.id} ORDER BY seq`,
    );
    expect(a!.kind).toBe('LEGAL_HOLD_PLACED');
    await ret.release(h.id);
  });
});

describe('T5: one engine, safe twice over', () => {
  it('two sweepers at once purge each expired message once and never deadlock', async () => {
    const cids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const [a, b] = names(`twice${i}`, 'a', 'b');
      const cid = await env.api.befriend(a!, b!);
      for (const u of [a!, b!]) await ret.setPolicy(u, { conversationId: cid, period: 'DAYS', days: 1 });
      await env.api.say(a!, cid, 'm1', 'm2', 'm3');
      cids.push(cid);
    }
    env.clock.advance(2 * DAY);
    const second = await startTestApp(await env.db.openAnother(), { clock: env.clock });
    try {
      const runs = await Promise.all([runSweep(env.server.app.deps), runSweep(second.app.deps)]);
      expect(runs[0]!.purgedMessages + runs[1]!.purgedMessages).toBeGreaterThanOrEqual(18);
    } finally {
      await second.stop();
    }
    for (const cid of cids) expect(await ret.stored(cid)).toEqual({ rows: 0, held: 0 });
    // Each run that did something appended its counts to the sweeper's audit chain.
    const [n] = await rows<{ n: number }>(
      env.db.handle.db,
      sql`SELECT count(*)::int AS n FROM audit_entries WHERE kind = 'SWEEP_RUN'`,
    );
    expect(n!.n).toBeGreaterThan(0);
    // And to /metrics.
    const metrics = await (await fetch(`${env.server.url}/metrics`)).text();
    expect(metrics).toMatch(/^ties_sweep_items_total\{count="purgedMessages"\} \d+$/m);
    expect(metrics).toMatch(/^ties_sweep_runs_total \d+$/m);
  });
});
