// G1 across the whole matrix: every group mutation (and sending) × every standing — owner, admin,
// member, former member, non-member, operator. Allowed ones succeed; refused ones answer the
// documented code on the documented field, and the group's rows are exactly as before.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/db/client.js';
import { openTestEnv, type TestEnv } from '../support/fixture.js';
import type { Payload } from '../support/groups.js';

let env: TestEnv;
beforeAll(async () => {
  env = await openTestEnv();
});
afterAll(() => env?.close());

type Standing = 'owner' | 'admin' | 'member' | 'former' | 'stranger' | 'operator';
const STANDINGS: Standing[] = ['owner', 'admin', 'member', 'former', 'stranger', 'operator'];

/** Everything stored about a group: its row, members, transfers, dissolutions, audit entries, messages. */
async function snapshot(groupId: string) {
  return rows(
    env.db.handle.db,
    sql`SELECT json_build_object(
          'group', (SELECT row_to_json(g) FROM groups g WHERE g.id = ${groupId}),
          'members', (SELECT json_agg(m ORDER BY m.user_id) FROM group_members m WHERE m.group_id = ${groupId}),
          'transfers', (SELECT json_agg(t ORDER BY t.id) FROM ownership_transfers t WHERE t.group_id = ${groupId}),
          'dissolutions', (SELECT json_agg(d ORDER BY d.id) FROM dissolutions d WHERE d.group_id = ${groupId}),
          'audit', (SELECT count(*) FROM audit_entries a WHERE a.subject_id = ${groupId}),
          'messages', (SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id
                       WHERE c.group_id = ${groupId})) AS s`,
  );
}

let n = 0;
/**
 * A fresh ENTERPRISE group: owner, admin, member, a second member (the usual target), a former
 * member (joined, then left), and two users who never belonged (one an operator); a pending
 * transfer from the owner to `target` when asked.
 */
async function world(withTransfer = false) {
  const p = `perm${++n}`;
  const u = {
    owner: `${p}-owner`,
    admin: `${p}-admin`,
    member: `${p}-member`,
    target: `${p}-target`,
    former: `${p}-former`,
    stranger: `${p}-stranger`,
    operator: `${p}-operator`,
    newcomer: `${p}-newcomer`,
  };
  await env.api.token(u.operator, { operator: true });
  await env.api.token(u.stranger);
  await env.api.token(u.newcomer);
  const group = await env.groups.make(u.owner, [u.admin, u.member, u.target, u.former], 'ENTERPRISE');
  expect((await env.groups.setRole(u.owner, group.id, u.admin, 'ADMIN')).userErrors).toEqual([]);
  expect((await env.groups.leave(u.former, group.id)).userErrors).toEqual([]);
  const transfer = withTransfer ? (await env.groups.transfer(u.owner, group.id, u.target)).transfer!.id : '';
  return { u, group, transfer };
}

/** The user acting with `standing` (the operator acts with an operator token). */
const actor = (u: Awaited<ReturnType<typeof world>>['u'], s: Standing) => u[s];

interface Case {
  what: string;
  withTransfer?: boolean;
  run: (w: Awaited<ReturnType<typeof world>>, who: string) => Promise<Payload<object>>;
  /** The expected outcome per standing: 'ok', or `CODE@field.path`. */
  expect: Record<Standing, string>;
}

const NF_GROUP = 'NOT_FOUND@input.groupId';
const FORBID_GROUP = 'FORBIDDEN@input.groupId';
const NF_TRANSFER = 'NOT_FOUND@input.transferId';
/** G1: what only the owner may do. */
const OWNER_ONLY: Record<Standing, string> = {
  owner: 'ok',
  admin: FORBID_GROUP,
  member: FORBID_GROUP,
  former: NF_GROUP,
  stranger: NF_GROUP,
  operator: NF_GROUP,
};

const CASES: Case[] = [
  {
    what: 'inviteToGroup',
    run: (w, who) => env.groups.invite(who, w.group.id, [w.u.newcomer]),
    expect: {
      owner: 'ok',
      admin: 'ok',
      member: 'ok',
      former: NF_GROUP,
      stranger: NF_GROUP,
      operator: NF_GROUP,
    },
  },
  {
    what: 'removeFromGroup (a member)',
    run: (w, who) => env.groups.remove(who, w.group.id, w.u.target),
    expect: {
      owner: 'ok',
      admin: 'ok',
      member: FORBID_GROUP,
      former: NF_GROUP,
      stranger: NF_GROUP,
      operator: NF_GROUP,
    },
  },
  {
    what: 'leaveGroup',
    run: (w, who) => env.groups.leave(who, w.group.id),
    expect: {
      owner: FORBID_GROUP,
      admin: 'ok',
      member: 'ok',
      former: NF_GROUP,
      stranger: NF_GROUP,
      operator: NF_GROUP,
    },
  },
  {
    what: 'setMemberRole (a member to ADMIN)',
    run: (w, who) => env.groups.setRole(who, w.group.id, w.u.target, 'ADMIN'),
    expect: OWNER_ONLY,
  },
  {
    what: 'transferOwnership (to a member)',
    run: (w, who) => env.groups.transfer(who, w.group.id, w.u.target),
    expect: OWNER_ONLY,
  },
  {
    what: 'setDissolutionProtection',
    run: (w, who) => env.groups.protect(who, w.group.id, true),
    expect: OWNER_ONLY,
  },
  {
    what: 'dissolveGroup',
    run: (w, who) => env.groups.dissolve(who, w.group.id, true),
    expect: OWNER_ONLY,
  },
  {
    what: 'respondToOwnershipTransfer (a transfer to another member)',
    withTransfer: true,
    run: (w, who) => env.groups.respond(who, w.transfer, true),
    expect: {
      owner: 'FORBIDDEN@input.transferId',
      admin: NF_TRANSFER,
      member: NF_TRANSFER,
      former: NF_TRANSFER,
      stranger: NF_TRANSFER,
      operator: NF_TRANSFER,
    },
  },
  {
    what: 'cancelOwnershipTransfer',
    withTransfer: true,
    run: (w, who) => env.groups.cancel(who, w.transfer),
    expect: {
      owner: 'ok',
      admin: NF_TRANSFER,
      member: NF_TRANSFER,
      former: NF_TRANSFER,
      stranger: NF_TRANSFER,
      operator: NF_TRANSFER,
    },
  },
  {
    what: 'sendMessage (to the group conversation)',
    run: (w, who) => env.api.sendMessage(who, w.group.conversation.id, 'hello'),
    expect: {
      owner: 'ok',
      admin: 'ok',
      member: 'ok',
      former: 'NOT_FOUND@input.conversationId',
      stranger: 'NOT_FOUND@input.conversationId',
      operator: 'NOT_FOUND@input.conversationId',
    },
  },
];

const outcome = (r: Payload<object>) =>
  r.userErrors.length === 0
    ? 'ok'
    : r.userErrors.map((e) => `${e.code}@${(e.field ?? []).join('.')}`).join(',');

describe('G1: every group mutation × every standing', () => {
  for (const c of CASES) {
    it.each(STANDINGS)(`${c.what} by the %s`, async (standing) => {
      const w = await world(c.withTransfer);
      const before = await snapshot(w.group.id);
      const r = await c.run(w, actor(w.u, standing));
      expect(outcome(r)).toBe(c.expect[standing]);
      if (c.expect[standing] === 'ok') expect(await snapshot(w.group.id)).not.toEqual(before);
      else expect(await snapshot(w.group.id)).toEqual(before);
    });
  }
});

describe('G1: who may be the target', () => {
  it.each([
    ['the owner removes an admin', 'owner', 'remove', 'admin', 'ok'],
    ['the owner removes itself', 'owner', 'remove', 'owner', 'FORBIDDEN@input.userId'],
    ['an admin removes another admin', 'admin2', 'remove', 'admin', 'FORBIDDEN@input.userId'],
    ['an admin removes the owner', 'admin', 'remove', 'owner', 'FORBIDDEN@input.userId'],
    ['an admin removes itself', 'admin', 'remove', 'admin', 'FORBIDDEN@input.userId'],
    ['anyone removes a non-member', 'owner', 'remove', 'stranger', 'NOT_FOUND@input.userId'],
    ['the owner demotes an admin', 'owner', 'role', 'admin', 'ok'],
    ['the owner changes its own role', 'owner', 'role', 'owner', 'FORBIDDEN@input.userId'],
    ['the owner transfers to itself', 'owner', 'transfer', 'owner', 'FORBIDDEN@input.toUserId'],
    ['the owner transfers to a non-member', 'owner', 'transfer', 'stranger', 'NOT_FOUND@input.toUserId'],
    ['the owner transfers to an admin', 'owner', 'transfer', 'admin', 'ok'],
  ])('%s', async (_what, by, action, whom, expected) => {
    const w = await world();
    const admin2 = `${w.u.owner}-admin2`;
    await env.api.token(admin2);
    expect((await env.groups.invite(w.u.owner, w.group.id, [admin2])).userErrors).toEqual([]);
    expect((await env.groups.setRole(w.u.owner, w.group.id, admin2, 'ADMIN')).userErrors).toEqual([]);
    const who = by === 'admin2' ? admin2 : w.u[by as 'owner' | 'admin'];
    const target = w.u[whom as 'owner' | 'admin' | 'stranger'];
    const before = await snapshot(w.group.id);
    const r =
      action === 'remove'
        ? await env.groups.remove(who, w.group.id, target)
        : action === 'role'
          ? await env.groups.setRole(who, w.group.id, target, 'MEMBER')
          : await env.groups.transfer(who, w.group.id, target);
    expect(outcome(r)).toBe(expected);
    if (expected !== 'ok') expect(await snapshot(w.group.id)).toEqual(before);
  });

  it('G4: protection is for ENTERPRISE groups only', async () => {
    const group = await env.groups.make('perm-std-owner', ['perm-std-member']);
    expect(outcome(await env.groups.protect('perm-std-owner', group.id, true))).toBe(
      'BAD_USER_INPUT@input.groupId',
    );
    expect((await env.groups.get('perm-std-owner', group.id))?.dissolutionProtection).toBe(false);
  });

  it('malformed ids are BAD_USER_INPUT on their field', async () => {
    const w = await world();
    expect(outcome(await env.groups.invite(w.u.owner, 'not-a-uuid', [w.u.newcomer]))).toBe(
      'BAD_USER_INPUT@input.groupId',
    );
    expect(outcome(await env.groups.remove(w.u.owner, w.group.id, ''))).toBe('BAD_USER_INPUT@input.userId');
    expect(outcome(await env.groups.respond(w.u.owner, 'nope', true))).toBe(
      'BAD_USER_INPUT@input.transferId',
    );
  });
});
