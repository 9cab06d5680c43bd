// Dissolving a group over the API (SPEC G3–G6, G11 entries, notices), real Postgres, manual clock:
// the lifecycle, the exact 48-hour undo, finalization with and without kept history, the 72-hour
// notice of large groups, payments leaving the group, protection, the preview, and the races.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { rows } from '../../src/db/client.js';
import { runSweep } from '../../src/jobs/sweep.js';
import { ensureUser } from '../../src/users/users.store.js';
import { errorsAt, names } from '../support/client.js';
import { openTestEnv, type TestEnv } from '../support/fixture.js';
import type { Group } from '../support/groups.js';
import { startTestApp } from '../support/server.js';

let env: TestEnv;
beforeAll(async () => {
  env = await openTestEnv();
});
afterAll(() => env?.close());

const HOUR = 3600;
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** A group of owner o, admin a, members b and c, with a message, a file, a payment and a pending transfer. */
async function furnished(tag: string) {
  const [o, a, b, c] = names(tag, 'o', 'a', 'b', 'c');
  const g = await env.groups.make(o, [a, b, c]);
  const cid = g.conversation.id;
  expect((await env.groups.setRole(o, g.id, a, 'ADMIN')).userErrors).toEqual([]);
  await env.rich.sent(o, cid, { body: 'first' });
  await env.rich.sent(b, cid, { body: 'a file', attachment: { name: 'notes.txt', bytes: b64('hello') } });
  await env.rich.sent(c, cid, { body: 'paid', payment: { amountCents: 1250, currency: 'EUR', toUserId: b } });
  expect((await env.groups.transfer(o, g.id, a)).userErrors).toEqual([]);
  return { g, cid, o, a, b, c, all: [o, a, b, c] };
}

/** Everything `who` can observe of the group: itself, members, messages with file bytes, ledger. */
async function observe(who: string, g: Group) {
  const r = await env.api.gql<{ group: unknown }>(
    who,
    `query($id: ID!) { group(id: $id) { id name kind owner { id } guardian { id } viewerRole memberCount
      dissolutionProtection createdAt conversation { id kind }
      members(first: 100) { edges { node { user { id } role joinedAt } } }
      pendingTransfer { id from { id } to { id } status createdAt settledAt } } }`,
    { id: g.id },
  );
  const messages = await env.rich.messages(who, g.conversation.id);
  const files = await Promise.all(
    messages
      .filter((m) => m.attachment)
      .map(async (m) => {
        const d = await env.rich.download(m.attachment!.url, { user: who });
        return { status: d.status, sha256: m.attachment!.sha256, bytes: d.bytes.toString('base64') };
      }),
  );
  return { group: r.group, messages, files, ledger: await env.rich.wholeLedger(who) };
}

async function stored(conversationId: string) {
  const [r] = await rows<{ messages: number; files: number; payments: number }>(
    env.db.handle.db,
    sql`SELECT (SELECT count(*)::int FROM messages WHERE conversation_id = ${conversationId}) AS messages,
               (SELECT count(*)::int FROM files f JOIN messages m ON m.id = f.message_id
                 WHERE m.conversation_id = ${conversationId}) AS files,
               (SELECT count(*)::int FROM payments WHERE conversation_id = ${conversationId}) AS payments`,
  );
  return r!;
}

async function auditKinds(groupId: string): Promise<string[]> {
  const rs = await rows<{ kind: string }>(
    env.db.handle.db,
    sql`SELECT kind FROM audit_entries WHERE subject_id = ${groupId} ORDER BY seq`,
  );
  return rs.map((r) => r.kind);
}

/** The GroupDissolutionChanged statuses `who` received for this group, in order. */
async function dissolutionNotices(who: string, groupId: string): Promise<string[]> {
  const { notices } = await env.api.notices(who);
  return notices
    .filter((n) => n.__typename === 'GroupDissolutionChanged' && n.groupId === groupId)
    .map((n) => n.status as string);
}

describe('G3/G6: dissolve, then undo exactly', () => {
  it('restores after 47 h 59 min everything every member observed; read-only meanwhile', async () => {
    const f = await furnished('exact');
    const before = await Promise.all(f.all.map((u) => observe(u, f.g)));
    const started = env.clock.now();

    const r = await env.groups.dissolve(f.o, f.g.id, false);
    expect(r.userErrors).toEqual([]);
    expect(r.dissolution).toMatchObject({
      status: 'EFFECTIVE',
      keepHistory: false,
      requestedBy: { id: f.o },
      memberCount: 4,
      requestedAt: started.toISOString(),
      effectiveAt: started.toISOString(),
      undoUntil: new Date(started.getTime() + 48 * HOUR * 1000).toISOString(),
      paymentsVisibleUntil: new Date(started.getTime() + 72 * HOUR * 1000).toISOString(),
      finalizedAt: null,
      endedAt: null,
    });
    // Read-only: every change is refused, members still read everything.
    const cid = f.cid;
    expect(errorsAt(await env.rich.send(f.b, cid, { body: 'late' }))).toEqual([
      'GROUP_DISSOLVED@input.conversationId',
    ]);
    const [x] = names('exact-x', 'x');
    await env.api.token(x!);
    expect(errorsAt(await env.groups.invite(f.b, f.g.id, [x!]))).toEqual(['GROUP_DISSOLVED@input.groupId']);
    expect(errorsAt(await env.groups.leave(f.c, f.g.id))).toEqual(['GROUP_DISSOLVED@input.groupId']);
    expect(errorsAt(await env.groups.remove(f.o, f.g.id, f.c))).toEqual(['GROUP_DISSOLVED@input.groupId']);
    expect(errorsAt(await env.groups.setRole(f.o, f.g.id, f.b, 'ADMIN'))).toEqual([
      'GROUP_DISSOLVED@input.groupId',
    ]);
    const pending = (await env.api.gql<{ group: { pendingTransfer: { id: string } } }>(
      f.a,
      'query($id: ID!) { group(id: $id) { pendingTransfer { id } } }',
      { id: f.g.id },
    ))!.group.pendingTransfer;
    expect(errorsAt(await env.groups.respond(f.a, pending.id, true))).toEqual([
      'GROUP_DISSOLVED@input.transferId',
    ]);
    expect(errorsAt(await env.groups.protect(f.o, f.g.id, false))).toEqual(['GROUP_DISSOLVED@input.groupId']);
    expect(errorsAt(await env.groups.dissolve(f.o, f.g.id, true))).toEqual(['GROUP_DISSOLVED@input.groupId']);
    expect(await observe(f.b, f.g)).toEqual(before[2]);
    const status = await env.api.retention(f.b, cid);
    expect(status).toMatchObject({ state: 'DISSOLVED', reason: 'G3', visibleMessages: 3 });

    env.clock.advance(48 * HOUR - 60);
    expect((await env.api.sweep()).run).toMatchObject({ dissolutionsFinalized: 0, purgedMessages: 0 });
    const restored = await env.groups.restore(f.o, f.g.id);
    expect(restored.userErrors).toEqual([]);
    expect(restored.dissolution).toMatchObject({
      status: 'RESTORED',
      endedAt: env.clock.now().toISOString(),
    });
    const after = await Promise.all(f.all.map((u) => observe(u, f.g)));
    expect(after).toEqual(before);
    // And it is a live group again.
    expect((await env.rich.send(f.b, cid, { body: 'back' })).userErrors).toEqual([]);
    for (const u of f.all) expect(await dissolutionNotices(u, f.g.id)).toEqual(['EFFECTIVE', 'RESTORED']);
    expect(await auditKinds(f.g.id)).toEqual([
      'DISSOLUTION_REQUESTED',
      'DISSOLUTION_EFFECTIVE',
      'GROUP_RESTORED',
    ]);
  });

  it('refuses restore at 48 h (WINDOW_CLOSED); reads say FINALIZED at once, the sweep purges rows', async () => {
    const f = await furnished('final');
    const before = await stored(f.cid);
    expect(before).toEqual({ messages: 3, files: 1, payments: 1 });
    const ledgerB = await env.rich.wholeLedger(f.b);
    await env.groups.dissolve(f.o, f.g.id, false);
    env.clock.advance(48 * HOUR);
    expect(errorsAt(await env.groups.restore(f.o, f.g.id))).toEqual(['WINDOW_CLOSED@input.groupId']);
    // Before the sweep runs: the state and the reads follow the stored instants.
    expect((await env.groups.dissolution(f.b, f.g.id))?.status).toBe('FINALIZED');
    expect(await env.rich.messages(f.b, f.cid)).toEqual([]);
    expect(await stored(f.cid)).toEqual(before); // nothing deleted yet
    const run = (await env.api.sweep()).run!;
    expect(run).toMatchObject({ dissolutionsFinalized: 1 });
    expect(run.purgedMessages).toBeGreaterThanOrEqual(3);
    expect(await stored(f.cid)).toEqual({ messages: 0, files: 0, payments: 1 });
    expect(await env.api.retention(f.b, f.cid)).toMatchObject({ state: 'DISSOLVED', visibleMessages: 0 });
    // The ledger keeps the payment for good (its message is gone: messageId null).
    expect((await env.rich.wholeLedger(f.b)).map((p) => p.id)).toEqual(ledgerB.map((p) => p.id));
    // Idempotent.
    expect((await env.api.sweep()).run).toMatchObject({ dissolutionsFinalized: 0, purgedMessages: 0 });
    env.clock.advance(24 * HOUR);
    expect((await env.api.sweep()).run).toMatchObject({ paymentsDetached: 1 });
    expect(await stored(f.cid)).toEqual({ messages: 0, files: 0, payments: 0 });
    expect(await env.rich.wholeLedger(f.c)).toHaveLength(1);
    for (const u of f.all) expect(await dissolutionNotices(u, f.g.id)).toEqual(['EFFECTIVE', 'FINALIZED']);
    expect(await auditKinds(f.g.id)).toEqual([
      'DISSOLUTION_REQUESTED',
      'DISSOLUTION_EFFECTIVE',
      'DISSOLUTION_FINALIZED',
      'HISTORY_PURGED',
      'PAYMENTS_LEFT_GROUP',
    ]);
  });

  it('keeps history: the members at dissolution read every message for good; files go, payments leave at 72 h', async () => {
    const f = await furnished('keep');
    await env.groups.dissolve(f.o, f.g.id, true);
    env.clock.advance(48 * HOUR);
    const run = (await env.api.sweep()).run!;
    expect(run).toMatchObject({ dissolutionsFinalized: 1, purgedMessages: 0 });
    expect(run.purgedFiles).toBeGreaterThanOrEqual(1);
    expect(await stored(f.cid)).toEqual({ messages: 3, files: 0, payments: 1 });
    for (const u of f.all) {
      const ms = await env.rich.messages(u, f.cid);
      expect(ms.map((m) => m.body)).toEqual(['paid', 'a file', 'first']);
      expect(ms.every((m) => m.attachment === null)).toBe(true);
      expect(ms[0]!.payment).toMatchObject({ amountCents: 1250 }); // visible until effectiveAt + 72 h
    }
    expect(errorsAt(await env.rich.send(f.c, f.cid, { body: 'still here?' }))).toEqual([
      'GROUP_DISSOLVED@input.conversationId',
    ]);
    env.clock.advance(24 * HOUR);
    // Gone from the group at +72 h even before the sweep; then detached; the two ledgers keep it.
    expect((await env.rich.messages(f.b, f.cid))[0]!.payment).toBeNull();
    expect((await env.api.sweep()).run).toMatchObject({ paymentsDetached: 1 });
    expect((await env.rich.messages(f.b, f.cid))[0]!.payment).toBeNull();
    for (const u of [f.b, f.c]) {
      expect((await env.rich.wholeLedger(u)).map((p) => [p.amountCents, p.conversationId])).toEqual([
        [1250, null],
      ]);
    }
    expect(await env.api.retention(f.a, f.cid)).toMatchObject({ state: 'DISSOLVED', visibleMessages: 3 });
  });
});

describe('G5: more than 500 members', () => {
  it('announces to every member at once, stays active 72 h, can be cancelled, else takes effect', async () => {
    const [o] = names('large', 'o');
    await env.api.token(o!);
    const memberIds = Array.from({ length: 501 }, (_, i) => `${o}-m${i}`);
    for (const id of memberIds) await ensureUser(env.db.handle.db, id, undefined, env.clock.now());
    const g = await env.groups.make(o!, memberIds);
    expect(g.memberCount).toBe(502);
    const member = memberIds[7]!;

    const countNotices = async (status: string) => {
      const [r] = await rows<{ n: number }>(
        env.db.handle.db,
        sql`SELECT count(DISTINCT r)::int AS n FROM notices, unnest(recipient_ids) AS r
            WHERE kind = 'GroupDissolutionChanged' AND payload->>'groupId' = ${g.id} AND payload->>'status' = ${status}`,
      );
      return r!.n;
    };
    const r = await env.groups.dissolve(o!, g.id, true);
    expect(r.dissolution).toMatchObject({ status: 'SCHEDULED', memberCount: 502 });
    expect(await countNotices('SCHEDULED')).toBe(502);
    expect(await dissolutionNotices(member, g.id)).toEqual(['SCHEDULED']);

    env.clock.advance(72 * HOUR - 60);
    expect((await env.api.sweep()).run).toMatchObject({ dissolutionsEffective: 0 });
    expect((await env.groups.dissolution(member, g.id))?.status).toBe('SCHEDULED');
    expect((await env.rich.send(member, g.conversation.id, { body: 'still open' })).userErrors).toEqual([]);
    expect(errorsAt(await env.groups.restore(o!, g.id))).toEqual(['BAD_USER_INPUT@input.groupId']);
    const cancelled = await env.groups.cancelDissolution(o!, g.id);
    expect(cancelled.dissolution?.status).toBe('CANCELLED');
    expect(await countNotices('CANCELLED')).toBe(502);

    // Again, and this time nobody cancels: at 72 h it is EFFECTIVE, before and after the sweep.
    const again = await env.groups.dissolve(o!, g.id, true);
    expect(again.dissolution?.status).toBe('SCHEDULED');
    env.clock.advance(72 * HOUR);
    expect((await env.groups.dissolution(member, g.id))?.status).toBe('EFFECTIVE');
    expect(errorsAt(await env.groups.cancelDissolution(o!, g.id))).toEqual(['WINDOW_CLOSED@input.groupId']);
    expect((await env.api.sweep()).run).toMatchObject({ dissolutionsEffective: 1 });
    expect(await countNotices('EFFECTIVE')).toBe(502);
    expect(errorsAt(await env.rich.send(member, g.conversation.id, { body: 'too late' }))).toEqual([
      'GROUP_DISSOLVED@input.conversationId',
    ]);
  });
});

describe('G1/G4 refusals and the preview', () => {
  it('refuses a protected group, a non-owner, a stranger, a malformed id — and changes nothing', async () => {
    const [o, m, s] = names('refuse', 'o', 'm', 's');
    await env.api.token(s!);
    const g = await env.groups.make(o!, [m!], 'ENTERPRISE');
    expect((await env.groups.protect(o!, g.id, true)).userErrors).toEqual([]);
    expect(errorsAt(await env.groups.dissolve(o!, g.id, false))).toEqual(['GROUP_PROTECTED@input.groupId']);
    expect(errorsAt(await env.groups.dissolve(m!, g.id, false))).toEqual(['FORBIDDEN@input.groupId']);
    expect(errorsAt(await env.groups.dissolve(s!, g.id, false))).toEqual(['NOT_FOUND@input.groupId']);
    expect(errorsAt(await env.groups.dissolve(o!, 'nope', false))).toEqual(['BAD_USER_INPUT@input.groupId']);
    expect(errorsAt(await env.groups.cancelDissolution(m!, g.id))).toEqual(['FORBIDDEN@input.groupId']);
    expect(errorsAt(await env.groups.restore(o!, g.id))).toEqual(['BAD_USER_INPUT@input.groupId']);
    expect(await env.groups.dissolution(o!, g.id)).toBeNull();
    expect(await auditKinds(g.id)).toEqual([]);
    expect(await dissolutionNotices(m!, g.id)).toEqual([]);
    const p = await env.groups.preview(o!, g.id, false);
    expect(p.refusals.map((e) => e.code)).toEqual(['GROUP_PROTECTED']);
    expect((await env.groups.preview(m!, g.id, false)).refusals.map((e) => e.code)).toEqual([
      'FORBIDDEN',
      'GROUP_PROTECTED',
    ]);
    const stranger = await env.api.raw(
      s!,
      'query($g: ID!) { dissolutionPreview(groupId: $g, keepHistory: true) { groupId } }',
      { g: g.id },
    );
    expect(stranger.errors?.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    // Only then, protection off, it goes ahead.
    await env.groups.protect(o!, g.id, false);
    expect((await env.groups.dissolve(o!, g.id, false)).dissolution?.status).toBe('EFFECTIVE');
  });

  it('previews exactly what dissolveGroup then does, changing nothing', async () => {
    const f = await furnished('preview');
    const p = await env.groups.preview(f.b, f.g.id, false);
    expect(p).toMatchObject({
      groupId: f.g.id,
      keepHistory: false,
      status: 'EFFECTIVE',
      memberCount: 4,
      messagesToPurge: 3,
      filesToDelete: 1,
      paymentsLeaving: 1,
    });
    expect(p.purgeAt).toBe(p.undoUntil);
    expect(p.refusals.map((e) => e.code)).toEqual(['FORBIDDEN']);
    expect((await env.groups.preview(f.o, f.g.id, true)).messagesToPurge).toBe(0);
    expect(await auditKinds(f.g.id)).toEqual([]);
    const owner = await env.groups.preview(f.o, f.g.id, false);
    expect(owner.refusals).toEqual([]);
    const d = (await env.groups.dissolve(f.o, f.g.id, false)).dissolution!;
    expect({
      status: d.status,
      effectiveAt: d.effectiveAt,
      undoUntil: d.undoUntil,
      pv: d.paymentsVisibleUntil,
    }).toEqual({
      status: owner.status,
      effectiveAt: owner.effectiveAt,
      undoUntil: owner.undoUntil,
      pv: owner.paymentsVisibleUntil,
    });
    expect(await env.api.retention(f.b, f.cid)).toMatchObject({
      purgeAt: owner.purgeAt,
      restorableUntil: owner.undoUntil,
    });
    expect((await env.groups.preview(f.o, f.g.id, false)).refusals.map((e) => e.code)).toEqual([
      'GROUP_DISSOLVED',
    ]);
  });
});

describe('races', () => {
  it('dissolve against send, invite, leave and transfer-accept: every end state allowed, nothing half-done', async () => {
    for (let round = 0; round < 4; round++) {
      const [o, a, b, c, x] = names(`race${round}`, 'o', 'a', 'b', 'c', 'x');
      await env.api.token(x!);
      const g = await env.groups.make(o!, [a!, b!, c!]);
      const t = (await env.groups.transfer(o!, g.id, a!)).transfer!;
      const [dis, sent, invited, left, accepted] = await Promise.all([
        env.groups.dissolve(o!, g.id, true),
        env.rich.send(b!, g.conversation.id, { body: 'race' }),
        env.groups.invite(b!, g.id, [x!]),
        env.groups.leave(c!, g.id),
        env.groups.respond(a!, t.id, true),
      ]);
      // Each of the others either went first (and fully happened) or came after (GROUP_DISSOLVED).
      const outcome = (r: { userErrors: { code: string }[] }) =>
        r.userErrors.length === 0 ? 'before' : r.userErrors[0]!.code;
      const members = (await env.groups.members(b!, g.id)).map((m) => [m.user.id, m.role]);
      const ids = members.map(([id]) => id);
      if (dis.userErrors.length) {
        // A transfer accepted first makes o a MEMBER: then o may not dissolve.
        expect(errorsAt(dis)).toEqual(['FORBIDDEN@input.groupId']);
        expect(outcome(accepted)).toBe('before');
        continue;
      }
      expect(['before', 'GROUP_DISSOLVED']).toContain(outcome(sent));
      expect((await env.rich.messages(b!, g.conversation.id)).length).toBe(
        outcome(sent) === 'before' ? 1 : 0,
      );
      expect(['before', 'GROUP_DISSOLVED']).toContain(outcome(invited));
      expect(ids.includes(x!)).toBe(outcome(invited) === 'before');
      expect(['before', 'GROUP_DISSOLVED']).toContain(outcome(left));
      expect(ids.includes(c!)).toBe(outcome(left) !== 'before');
      expect(outcome(accepted)).toBe('GROUP_DISSOLVED'); // o dissolved, so o was still owner then
      expect(members.filter(([, r]) => r === 'OWNER')).toEqual([[o, 'OWNER']]);
      const d = await env.groups.dissolution(b!, g.id);
      expect(d?.memberCount).toBe(ids.length);
    }
  });

  it('restore against the finalizing sweep of another instance: one of them wins, wholly', async () => {
    const outcomes = new Set<string>();
    for (let round = 0; round < 6; round++) {
      const f = await furnished(`rvs${round}`);
      const d = (await env.groups.dissolve(f.o, f.g.id, false)).dissolution!;
      // The API's clock is 1 ms inside the window; the other instance's clock is at its end.
      env.clock.set(new Date(new Date(d.undoUntil).getTime() - 1));
      const late = new ManualClock(d.undoUntil);
      const other = await startTestApp(await env.db.openAnother(), { clock: late });
      try {
        const [restored, run] = await Promise.all([
          env.groups.restore(f.o, f.g.id),
          runSweep(other.app.deps),
        ]);
        const status = (await env.groups.dissolution(f.b, f.g.id))!.status;
        const rows = await stored(f.cid);
        if (restored.userErrors.length === 0) {
          outcomes.add('restored');
          expect(status).toBe('RESTORED');
          expect(rows).toEqual({ messages: 3, files: 1, payments: 1 });
          expect(await auditKinds(f.g.id)).toEqual([
            'DISSOLUTION_REQUESTED',
            'DISSOLUTION_EFFECTIVE',
            'GROUP_RESTORED',
          ]);
        } else {
          outcomes.add('finalized');
          expect(errorsAt(restored)).toEqual(['WINDOW_CLOSED@input.groupId']);
          expect(run.dissolutionsFinalized).toBeGreaterThanOrEqual(1);
          expect(rows.messages + rows.files).toBe(0);
          expect((await auditKinds(f.g.id)).slice(0, 3)).toEqual([
            'DISSOLUTION_REQUESTED',
            'DISSOLUTION_EFFECTIVE',
            'DISSOLUTION_FINALIZED',
          ]);
        }
      } finally {
        await other.stop();
      }
      env.clock.set(new Date(new Date(d.undoUntil).getTime() + 73 * HOUR * 1000));
      await env.api.sweep();
    }
    expect(outcomes.size).toBeGreaterThan(0);
  });

  it('two sweepers finalize each group once', async () => {
    const groups = await Promise.all([0, 1, 2, 3, 4].map((i) => furnished(`two${i}`)));
    for (const f of groups) await env.groups.dissolve(f.o, f.g.id, false);
    env.clock.advance(72 * HOUR);
    const second = await startTestApp(await env.db.openAnother(), { clock: env.clock });
    try {
      const runs = await Promise.all([runSweep(env.server.app.deps), runSweep(second.app.deps)]);
      // (Groups of earlier tests may fall due too: each group is checked below.)
      expect(runs[0]!.dissolutionsFinalized + runs[1]!.dissolutionsFinalized).toBeGreaterThanOrEqual(5);
    } finally {
      await second.stop();
    }
    for (const f of groups) {
      expect(await stored(f.cid)).toEqual({ messages: 0, files: 0, payments: 0 });
      const kinds = await auditKinds(f.g.id);
      expect(kinds.filter((k) => k === 'DISSOLUTION_FINALIZED')).toHaveLength(1);
      expect(kinds.filter((k) => k === 'HISTORY_PURGED')).toHaveLength(1);
      expect(kinds.filter((k) => k === 'PAYMENTS_LEFT_GROUP')).toHaveLength(1);
      expect(await dissolutionNotices(f.c, f.g.id)).toEqual(['EFFECTIVE', 'FINALIZED']);
    }
  });
});
