import { randomUUID } from 'node:crypto';
// The safeguards on dissolution over the API (SPEC G7–G9), real Postgres, manual clock: step-up
// codes from the development sender, batch review by operators, guardian confirmation.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/db/client.js';
import { addCounts, scrubBody } from '../../src/groups/scrub.rules.js';
import { errorsAt, names } from '../support/client.js';
import { openTestEnv, type TestEnv } from '../support/fixture.js';
import { DISSOLUTION, type Dissolution, OWNER_DEVICE } from '../support/groups.js';

let env: TestEnv;
beforeAll(async () => {
  env = await openTestEnv();
});
afterAll(() => env?.close());

const HOUR = 3600;
const OPERATOR = 'rita-reviewer';

async function codeRows(userId: string) {
  return rows<{ code_hash: string; tries: number; used_at: string | null }>(
    env.db.handle.db,
    sql`SELECT code_hash, tries, used_at FROM verification_codes WHERE user_id = ${userId} ORDER BY created_at`,
  );
}

/** A fresh code for `who` on `groupId` (the clock moves a minute first: one code a minute). */
async function freshCode(who: string, groupId: string, device = OWNER_DEVICE): Promise<string> {
  env.clock.advance(61);
  const r = await env.groups.requestCode(who, groupId, device);
  expect(r.userErrors).toEqual([]);
  return env.api.latestCode(who, groupId)!;
}

describe('G7: step-up verification', () => {
  it('a first dissolution from a new device needs a code; the second from that device does not', async () => {
    const [o] = names('stepdev', 'o');
    const g1 = await env.groups.make(o!, ['stepdev-m1']);
    const g2 = await env.groups.make(o!, ['stepdev-m2']);
    const g3 = await env.groups.make(o!, ['stepdev-m3']);
    // Without a device id, always new.
    expect(errorsAt(await env.groups.dissolveWith(o!, { groupId: g1.id, keepHistory: true }))).toEqual([
      'STEP_UP_REQUIRED@input.verificationCode',
    ]);
    const p = await env.groups.preview(o!, g1.id, true);
    expect(p).toMatchObject({ stepUpRequired: true, stepUpReasons: ['NEW_DEVICE'] });
    expect(await env.groups.dissolution(o!, g1.id)).toBeNull(); // nothing changed
    const code = await freshCode(o!, g1.id);
    expect(
      (
        await env.groups.dissolveWith(
          o!,
          { groupId: g1.id, keepHistory: true, verificationCode: code },
          OWNER_DEVICE,
        )
      ).dissolution?.status,
    ).toBe('EFFECTIVE');
    // The same device again: no code.
    expect(
      (await env.groups.dissolveWith(o!, { groupId: g2.id, keepHistory: true }, OWNER_DEVICE)).dissolution
        ?.status,
    ).toBe('EFFECTIVE');
    expect((await env.groups.preview(o!, g3.id, true)).stepUpReasons).toEqual(['NEW_DEVICE']); // no device
    // Another device: a code again.
    expect(
      errorsAt(await env.groups.dissolveWith(o!, { groupId: g3.id, keepHistory: true }, 'tablet')),
    ).toEqual(['STEP_UP_REQUIRED@input.verificationCode']);
    // The code is never stored in clear.
    for (const r of await codeRows(o!)) {
      expect(r.code_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(r.code_hash).not.toContain(code);
    }
  });

  it('the 4th dissolution within 24 h needs a code; the 4th after 24 h does not', async () => {
    const [o] = names('fourth', 'o');
    const gs = [];
    for (let i = 0; i < 5; i++) gs.push(await env.groups.make(o!, [`fourth-m${i}`]));
    for (let i = 0; i < 3; i++)
      expect((await env.groups.dissolve(o!, gs[i]!.id, true)).userErrors).toEqual([]);
    expect(
      errorsAt(await env.groups.dissolveWith(o!, { groupId: gs[3]!.id, keepHistory: true }, OWNER_DEVICE)),
    ).toEqual(['STEP_UP_REQUIRED@input.verificationCode']);
    expect((await env.groups.preview(o!, gs[3]!.id, true)).stepUpReasons).toContain('FOURTH_IN_A_DAY');
    env.clock.advance(24 * HOUR + 1);
    expect(
      (await env.groups.dissolveWith(o!, { groupId: gs[3]!.id, keepHistory: true }, OWNER_DEVICE)).dissolution
        ?.status,
    ).toBe('EFFECTIVE');
  });

  it('a code works once, not after 10 min, not after 5 wrong tries; one request a minute', async () => {
    const [o] = names('codes', 'o');
    const gs = [];
    for (let i = 0; i < 3; i++) gs.push(await env.groups.make(o!, [`codes-m${i}`]));
    const dissolveWith = (groupId: string, verificationCode: string) =>
      env.groups.dissolveWith(o!, { groupId, keepHistory: false, verificationCode }, 'new-phone');

    // Expired after 10 minutes.
    let code = await freshCode(o!, gs[0]!.id, 'new-phone');
    expect(errorsAt(await env.groups.requestCode(o!, gs[0]!.id))).toEqual(['RATE_LIMITED@input.groupId']);
    env.clock.advance(10 * 60);
    expect(errorsAt(await dissolveWith(gs[0]!.id, code))).toEqual(['INVALID_CODE@input.verificationCode']);

    // Five wrong tries void it, even the right one after.
    code = await freshCode(o!, gs[0]!.id, 'new-phone');
    const wrong = code === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i++) {
      expect(errorsAt(await dissolveWith(gs[0]!.id, wrong))).toEqual(['INVALID_CODE@input.verificationCode']);
    }
    expect(errorsAt(await dissolveWith(gs[0]!.id, code))).toEqual(['INVALID_CODE@input.verificationCode']);
    expect(await env.groups.dissolution(o!, gs[0]!.id)).toBeNull();

    // A good code works once; a code is for its group only.
    code = await freshCode(o!, gs[0]!.id, 'new-phone');
    expect(errorsAt(await dissolveWith(gs[1]!.id, code))).toEqual(['INVALID_CODE@input.verificationCode']);
    expect((await dissolveWith(gs[0]!.id, code)).dissolution?.status).toBe('EFFECTIVE');
    const again = await env.groups.dissolveWith(
      o!,
      { groupId: gs[2]!.id, keepHistory: false, verificationCode: code },
      'other-phone',
    );
    expect(errorsAt(again)).toEqual(['INVALID_CODE@input.verificationCode']);
    const used = (await codeRows(o!)).filter((r) => r.used_at !== null);
    expect(used).toHaveLength(1);
  });

  it('the development sender writes one JSON line per code under the configured file', () => {
    const lines = readFileSync(env.server.app.deps.config.verificationFile, 'utf8').trim().split('\n');
    const last = JSON.parse(lines.at(-1)!) as Record<string, string>;
    expect(Object.keys(last).sort()).toEqual(['at', 'code', 'expiresAt', 'groupId', 'userId']);
    expect(last.code).toMatch(/^\d{6}$/);
  });
});

describe('G9: guardian confirmation', () => {
  async function schoolGroup(tag: string) {
    const [o, m, guard] = names(tag, 'o', 'm', 'guard');
    const g = await env.groups.make(o!, [m!], 'EDUCATION', guard!);
    const p = await env.groups.preview(o!, g.id, true);
    expect(p).toMatchObject({ needsGuardian: true, status: 'PENDING_CONFIRMATION' });
    expect(p.stepUpReasons).toContain('EDUCATION');
    // Dual verification: even from a known device an EDUCATION group needs the code.
    const d = (await env.groups.dissolve(o!, g.id, true)).dissolution!;
    expect(d).toMatchObject({ status: 'PENDING_CONFIRMATION', endReason: null });
    expect(d.confirmBy).toBe(new Date(env.clock.now().getTime() + 72 * HOUR * 1000).toISOString());
    return { o: o!, m: m!, guard: guard!, g, d };
  }
  const confirm = (who: string, dissolutionId: string, confirmIt = true) =>
    env.api.gql<{
      confirmDissolution: {
        dissolution: Dissolution | null;
        userErrors: { code: string; field: string[] | null }[];
      };
    }>(
      who,
      `mutation($input: ConfirmDissolutionInput!) { confirmDissolution(input: $input) { dissolution { ${DISSOLUTION} } userErrors { code message field } } }`,
      { input: { dissolutionId, confirm: confirmIt } },
    );
  const statuses = async (who: string, groupId: string) =>
    (await env.api.notices(who)).notices
      .filter((n) => n.__typename === 'GroupDissolutionChanged' && n.groupId === groupId)
      .map((n) => `${n.status}${n.endReason ? `:${n.endReason}` : ''}`);

  const retention = async (who: string, conversationId: string) =>
    (
      await env.api.gql<{ retentionStatus: Record<string, unknown> }>(
        who,
        'query($id: ID!) { retentionStatus(conversationId: $id) { state purgeAt purgedAt restorable reason } }',
        { id: conversationId },
      )
    ).retentionStatus;

  it('confirm → it goes ahead; the guardian gets exactly the notices meant for them', async () => {
    const s = await schoolGroup('guard-ok');
    // Still a live group while waiting: its retention status plans nothing (G9), then G3 once confirmed.
    expect(await retention(s.m, s.g.conversation.id)).toEqual({
      state: 'ACTIVE',
      purgeAt: null,
      purgedAt: null,
      restorable: false,
      reason: 'G9',
    });
    expect((await env.rich.send(s.m, s.g.conversation.id, { body: 'still here' })).userErrors).toEqual([]);
    expect(errorsAt((await confirm(s.m, s.d.id)).confirmDissolution)).toEqual([
      'NOT_FOUND@input.dissolutionId',
    ]);
    env.clock.advance(HOUR);
    const r = (await confirm(s.guard, s.d.id)).confirmDissolution;
    expect(r.userErrors).toEqual([]);
    expect(r.dissolution).toMatchObject({ status: 'EFFECTIVE', group: null, groupId: s.g.id });
    expect(r.dissolution!.effectiveAt).toBe(env.clock.now().toISOString());
    expect(await retention(s.m, s.g.conversation.id)).toMatchObject({ state: 'DISSOLVED', reason: 'G3' });
    expect(errorsAt(await env.rich.send(s.m, s.g.conversation.id, { body: 'late' }))).toEqual([
      'GROUP_DISSOLVED@input.conversationId',
    ]);
    expect(await statuses(s.guard, s.g.id)).toEqual(['PENDING_CONFIRMATION', 'EFFECTIVE']);
    expect(await statuses(s.m, s.g.id)).toEqual(['PENDING_CONFIRMATION', 'EFFECTIVE']);
    // The guardian hears nothing of the group's other life.
    expect(
      (await env.api.notices(s.guard)).notices.every((n) => n.__typename === 'GroupDissolutionChanged'),
    ).toBe(true);
    // Undo still works for the owner; the guardian is not told.
    expect((await env.groups.restore(s.o, s.g.id)).userErrors).toEqual([]);
    expect(await statuses(s.guard, s.g.id)).toEqual(['PENDING_CONFIRMATION', 'EFFECTIVE']);
  });

  it('decline → cancelled (DECLINED); 72 h of silence → lapsed through the sweeper', async () => {
    const a = await schoolGroup('guard-no');
    const declined = (await confirm(a.guard, a.d.id, false)).confirmDissolution;
    expect(declined.dissolution).toMatchObject({ status: 'CANCELLED', endReason: 'DECLINED' });
    expect(await statuses(a.m, a.g.id)).toEqual(['PENDING_CONFIRMATION', 'CANCELLED:DECLINED']);

    const b = await schoolGroup('guard-silent');
    env.clock.advance(72 * HOUR - 60);
    expect((await env.groups.dissolution(b.m, b.g.id))?.status).toBe('PENDING_CONFIRMATION');
    env.clock.advance(60);
    expect((await env.groups.dissolution(b.m, b.g.id))?.status).toBe('CANCELLED'); // by the instants
    expect(await retention(b.m, b.g.conversation.id)).toMatchObject({ state: 'ACTIVE', reason: 'T1' });
    expect(errorsAt((await confirm(b.guard, b.d.id)).confirmDissolution)).toEqual([
      'WINDOW_CLOSED@input.dissolutionId',
    ]);
    const run = (await env.api.sweep()).run!;
    expect(run.dissolutionsLapsed).toBeGreaterThanOrEqual(1);
    expect(await env.groups.dissolution(b.m, b.g.id)).toMatchObject({
      status: 'CANCELLED',
      endReason: 'LAPSED',
    });
    expect(await statuses(b.guard, b.g.id)).toEqual(['PENDING_CONFIRMATION', 'CANCELLED:LAPSED']);
    // The group carries on, and can be dissolved again.
    expect((await env.rich.send(b.m, b.g.conversation.id, { body: 'on we go' })).userErrors).toEqual([]);
  });

  it('a lapsed request no longer stands in the way, before any sweep: preview, dissolveGroup and a batch see it over', async () => {
    const c = await schoolGroup('guard-lapsed');
    env.clock.advance(72 * HOUR); // lapsed at confirmBy; no sweep runs here
    expect((await env.groups.preview(c.o, c.g.id, true)).refusals).toEqual([]);
    const batch = (
      await env.api.gql<{
        dissolveGroups: { review: { items: { groupId: string; error: string | null }[] } };
      }>(
        c.o,
        'mutation($input: DissolveGroupsInput!) { dissolveGroups(input: $input) { review { items { groupId error } } userErrors { code } } }',
        { input: { groupIds: [c.g.id, randomUUID()], keepHistory: true } },
      )
    ).dissolveGroups.review;
    expect(batch.items.find((i) => i.groupId === c.g.id)?.error).toBeNull();
    const again = await env.groups.dissolve(c.o, c.g.id, true);
    expect(again.userErrors).toEqual([]);
    expect(again.dissolution).toMatchObject({ status: 'PENDING_CONFIRMATION' });
    expect(again.dissolution!.id).not.toBe(c.d.id);
    // The lapse was recorded on the way, as the sweeper would have: the guardian and the members told once.
    expect(await statuses(c.guard, c.g.id)).toEqual([
      'PENDING_CONFIRMATION',
      'CANCELLED:LAPSED',
      'PENDING_CONFIRMATION',
    ]);
    expect(await statuses(c.m, c.g.id)).toEqual([
      'PENDING_CONFIRMATION',
      'CANCELLED:LAPSED',
      'PENDING_CONFIRMATION',
    ]);
    expect((await env.api.sweep()).run!.dissolutionsLapsed).toBe(0);
    const r = (await confirm(c.guard, again.dissolution!.id)).confirmDissolution;
    expect(r.userErrors).toEqual([]);
    expect(r.dissolution).toMatchObject({ status: 'EFFECTIVE' });
  });
});

describe('G8: batch review', () => {
  const review = (who: string, reviewId: string, approve: boolean, operator = false) =>
    env.api.gqlAs<{
      reviewDissolution: {
        review: {
          status: string;
          items: { groupId: string; error: string | null; dissolutionId: string | null }[];
        } | null;
        userErrors: { code: string; field: string[] | null }[];
      };
    }>(
      who,
      { operator },
      `mutation($input: ReviewDissolutionInput!) { reviewDissolution(input: $input) {
        review { status items { groupId error dissolutionId } } userErrors { code message field } } }`,
      { input: { reviewId, approve } },
    );
  const batch = (who: string, groupIds: string[], keepHistory = true) =>
    env.api.gql<{
      dissolveGroups: {
        review: { id: string; status: string; items: { groupId: string; error: string | null }[] } | null;
        userErrors: { code: string; field: string[] | null }[];
      };
    }>(
      who,
      `mutation($input: DissolveGroupsInput!) { dissolveGroups(input: $input) {
        review { id status items { groupId error } } userErrors { code message field } } }`,
      { input: { groupIds, keepHistory } },
    );

  it('approve dissolves exactly the groups still dissolvable; the requester is told', async () => {
    const [o, m, other] = names('batch', 'o', 'm', 'other');
    const a = await env.groups.make(o!, [m!]);
    const b = await env.groups.make(o!, [m!], 'ENTERPRISE');
    const c = await env.groups.make(o!, [m!]);
    const foreign = await env.groups.make(other!, [m!]);
    const r = (await batch(o!, [a.id, b.id, c.id, foreign.id])).dissolveGroups;
    expect(r.review?.status).toBe('PENDING_REVIEW');
    const errorOf = (id: string) => r.review!.items.find((i) => i.groupId === id)?.error;
    expect([a.id, b.id, c.id].map(errorOf)).toEqual([null, null, null]);
    expect(errorOf(foreign.id)).toBe('NOT_FOUND');
    expect(await env.groups.dissolution(m!, a.id)).toBeNull(); // nothing yet
    // Meanwhile b gets protected: at approval it is refused.
    await env.groups.protect(o!, b.id, true);
    expect(errorsAt((await review(o!, r.review!.id, true)).reviewDissolution)).toEqual(['FORBIDDEN@']);
    const decided = (await review(OPERATOR, r.review!.id, true, true)).reviewDissolution;
    expect(decided.review?.status).toBe('APPROVED');
    const outcome = Object.fromEntries(
      decided.review!.items.map((i) => [i.groupId, i.error ?? (i.dissolutionId ? 'DISSOLVED' : '?')]),
    );
    expect(outcome).toEqual({
      [a.id]: 'DISSOLVED',
      [b.id]: 'GROUP_PROTECTED',
      [c.id]: 'DISSOLVED',
      [foreign.id]: 'NOT_FOUND',
    });
    expect((await env.groups.dissolution(m!, a.id))?.status).toBe('EFFECTIVE');
    expect(await env.groups.dissolution(m!, b.id)).toBeNull();
    const told = (await env.api.notices(o!)).notices.filter(
      (n) => n.__typename === 'DissolutionReviewDecided',
    );
    expect(told.at(-1)).toMatchObject({ reviewId: r.review!.id, reviewStatus: 'APPROVED' });
    expect(errorsAt((await review(OPERATOR, r.review!.id, false, true)).reviewDissolution)).toEqual([
      'BAD_USER_INPUT@input.reviewId',
    ]);
  });

  it('reject changes nothing; bad batches are refused; the queue is for operators', async () => {
    const [o, m] = names('batch-no', 'o', 'm');
    const a = await env.groups.make(o!, [m!]);
    const b = await env.groups.make(o!, [m!]);
    expect(errorsAt((await batch(o!, [a.id])).dissolveGroups)).toEqual(['BAD_USER_INPUT@input.groupIds']);
    expect(errorsAt((await batch(o!, [a.id, 'nope'])).dissolveGroups)).toEqual([
      'BAD_USER_INPUT@input.groupIds',
    ]);
    const r = (await batch(o!, [a.id, b.id])).dissolveGroups.review!;
    const queue = await env.api.gqlAs<{ reviewQueue: { edges: { node: { id: string } }[] } }>(
      OPERATOR,
      { operator: true },
      '{ reviewQueue(first: 100) { edges { node { id } } } }',
    );
    expect(queue.reviewQueue.edges.map((e) => e.node.id)).toContain(r.id);
    const denied = await env.api.raw(o!, '{ reviewQueue(first: 5) { edges { node { id } } } }');
    expect(denied.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect((await review(OPERATOR, r.id, false, true)).reviewDissolution.review?.status).toBe('REJECTED');
    expect(await env.groups.dissolution(m!, a.id)).toBeNull();
    expect(await env.groups.dissolution(m!, b.id)).toBeNull();
  });
});

describe('G7: the production sender', () => {
  it('POSTs the code as JSON to the configured webhook; a failing gateway keeps no code', async () => {
    const received: Record<string, string>[] = [];
    let status = 200;
    const gateway = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        received.push(JSON.parse(body) as Record<string, string>);
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((ok) => gateway.listen(0, '127.0.0.1', ok));
    const port = (gateway.address() as AddressInfo).port;
    const hooked = await openTestEnv({
      config: { verificationSender: 'webhook', verificationWebhookUrl: `http://127.0.0.1:${port}/sms` },
    });
    try {
      const [o] = names('hook', 'o');
      const g = await hooked.groups.make(o!, ['hook-m']);
      expect((await hooked.groups.requestCode(o!, g.id)).userErrors).toEqual([]);
      expect(received).toHaveLength(1);
      expect(received[0]).toMatchObject({ userId: o, groupId: g.id, code: expect.stringMatching(/^\d{6}$/) });
      const ok = await hooked.groups.dissolveWith(o!, {
        groupId: g.id,
        keepHistory: true,
        verificationCode: received[0]!.code!,
      });
      expect(ok.dissolution?.status).toBe('EFFECTIVE');
      // A gateway that fails: the request fails, and no code is kept.
      status = 503;
      const g2 = await hooked.groups.make(o!, ['hook-m2']);
      hooked.clock.advance(61);
      const failed = await hooked.api.raw(
        o!,
        'mutation($g: ID!) { requestVerificationCode(input: { groupId: $g }) { expiresAt } }',
        { g: g2.id },
      );
      expect(failed.errors?.map((e) => e.extensions?.code)).toEqual(['INTERNAL_SERVER_ERROR']);
      const [n] = await rows<{ n: number }>(
        hooked.db.handle.db,
        sql`SELECT count(*)::int AS n FROM verification_codes WHERE group_id = ${g2.id}`,
      );
      expect(n!.n).toBe(0);
    } finally {
      await hooked.close();
      gateway.close();
    }
  });
});

describe('G10: financial scrubbing at finalization', () => {
  it('masks card, resident ID and mobile numbers in kept bodies, counts them in the audit entry; undo stays exact', async () => {
    const [o, m] = names('scrub', 'o', 'm');
    const g = await env.groups.make(o!, [m!], 'FINANCIAL');
    const cid = g.conversation.id;
    const bodies = [
      '请转账到 4111 1111 1111 1111，谢谢',
      'ID 11010519491231002X, phone +86 138-0013-8000',
      'order 1234567890123456 costs ¥1,234.56 on 2026-12-03',
    ];
    for (const body of bodies) await env.api.say(m!, cid, body);
    const readAll = async () => (await env.rich.messages(m!, cid)).map((x) => x.body).reverse();
    // Dissolved and restored inside the window: nothing scrubbed (the undo stays exact).
    await env.groups.dissolve(o!, g.id, true);
    await env.groups.restore(o!, g.id);
    expect(await readAll()).toEqual(bodies);
    // Dissolved again: unscrubbed until the window runs out, then scrubbed for every read at once
    // (by the instant, before any sweep), and in place once the sweeper records it final.
    await env.groups.dissolve(o!, g.id, true);
    env.clock.advance(48 * HOUR - 1);
    expect(await readAll()).toEqual(bodies);
    env.clock.advance(1);
    const expected = bodies.map((b) => scrubBody(b));
    expect(await readAll()).toEqual(expected.map((e) => e.body));
    const [firstId] = (await env.rich.messages(m!, cid)).map((x) => x.id).reverse();
    const starred = await env.api.gql<{ starMessage: { message: { body: string } } }>(
      m!,
      'mutation($id: ID!) { starMessage(input: { messageId: $id, starred: true }) { message { body } userErrors { code } } }',
      { id: firstId },
    );
    expect(starred.starMessage.message.body).toBe(expected[0]!.body);
    const [stored] = await rows<{ body: string }>(
      env.db.handle.db,
      sql`SELECT body FROM messages WHERE id = ${firstId}`,
    );
    expect(stored!.body).toBe(bodies[0]); // not yet scrubbed in place
    await env.api.sweep();
    expect(await readAll()).toEqual(expected.map((e) => e.body));
    expect((await readAll())[0]).toBe('请转账到 **** **** **** 1111，谢谢');
    expect((await readAll())[2]).toBe(bodies[2]); // a Luhn-invalid order number, an amount, a date
    const [entry] = await rows<{ data: Record<string, number> }>(
      env.db.handle.db,
      sql`SELECT data FROM audit_entries WHERE subject_id = ${g.id} AND kind = 'DISSOLUTION_FINALIZED'`,
    );
    const total = expected.reduce((a, e) => addCounts(a, e.counts), {
      bankCards: 0,
      residentIds: 0,
      mobiles: 0,
    });
    expect(total).toEqual({ bankCards: 1, residentIds: 1, mobiles: 1 });
    expect(entry!.data).toMatchObject({
      scrubbedMessages: 2,
      maskedBankCards: 1,
      maskedResidentIds: 1,
      maskedMobiles: 1,
    });
  });
});
