// G2 ownership transfer, N3 for members who leave or are removed, R7 common groups, and
// membership under concurrency.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/db/client.js';
import { names } from '../support/client.js';
import { openTestEnv, type TestEnv } from '../support/fixture.js';
import { collect } from '../support/server.js';

let env: TestEnv;
beforeAll(async () => {
  env = await openTestEnv();
});
afterAll(() => env?.close());

const codes = (r: { userErrors: { code: string }[] }) => r.userErrors.map((e) => e.code);
const roles = async (who: string, groupId: string) =>
  Object.fromEntries((await env.groups.members(who, groupId)).map((m) => [m.user.id, m.role]));

describe('G2 ownership transfer', () => {
  it('accepted: the target is OWNER and the old owner MEMBER, in one step; the old owner may leave then', async () => {
    const [o, t, m] = names('xfer-accept', 'o', 't', 'm');
    const group = await env.groups.make(o, [t, m]);
    expect(codes(await env.groups.leave(o, group.id))).toEqual(['FORBIDDEN']); // not before a transfer
    const offered = await env.groups.transfer(o, group.id, t);
    expect(offered.transfer).toMatchObject({
      status: 'PENDING',
      from: { id: o },
      to: { id: t },
      settledAt: null,
    });
    expect(codes(await env.groups.transfer(o, group.id, m))).toEqual(['ALREADY_EXISTS']); // one at a time
    expect((await env.groups.get(m, group.id))?.owner.id).toBe(o); // nothing changes before the answer
    const answered = await env.groups.respond(t, offered.transfer!.id, true);
    expect(answered.userErrors).toEqual([]);
    expect(answered.transfer?.status).toBe('ACCEPTED');
    expect(answered.group).toMatchObject({ owner: { id: t }, viewerRole: 'OWNER' });
    expect(await roles(m, group.id)).toEqual({ [o]: 'MEMBER', [t]: 'OWNER', [m]: 'MEMBER' });
    expect(codes(await env.groups.respond(t, offered.transfer!.id, true))).toEqual(['FORBIDDEN']); // settled
    expect((await env.groups.leave(o, group.id)).userErrors).toEqual([]);
  });

  it('declined or cancelled: nothing else changes; a new transfer can follow', async () => {
    const [o, t] = names('xfer-decline', 'o', 't');
    const group = await env.groups.make(o, [t]);
    const first = (await env.groups.transfer(o, group.id, t)).transfer!;
    expect((await env.groups.respond(t, first.id, false)).transfer?.status).toBe('DECLINED');
    const second = (await env.groups.transfer(o, group.id, t)).transfer!;
    expect(codes(await env.groups.cancel(t, second.id))).toEqual(['FORBIDDEN']); // only its owner cancels
    expect((await env.groups.cancel(o, second.id)).transfer?.status).toBe('CANCELLED');
    expect(codes(await env.groups.respond(t, second.id, true))).toEqual(['FORBIDDEN']);
    expect(await roles(o, group.id)).toEqual({ [o]: 'OWNER', [t]: 'MEMBER' });
  });

  it('lapses when the target leaves or is removed', async () => {
    const [o, t1, t2] = names('xfer-lapse', 'o', 't1', 't2');
    const group = await env.groups.make(o, [t1, t2]);
    const a = (await env.groups.transfer(o, group.id, t1)).transfer!;
    await env.groups.leave(t1, group.id);
    const b = (await env.groups.transfer(o, group.id, t2)).transfer!;
    await env.groups.remove(o, group.id, t2);
    const statuses = await rows<{ id: string; status: string }>(
      env.db.handle.db,
      sql`SELECT id, status FROM ownership_transfers WHERE group_id = ${group.id}`,
    );
    expect(Object.fromEntries(statuses.map((s) => [s.id, s.status]))).toEqual({
      [a.id]: 'LAPSED',
      [b.id]: 'LAPSED',
    });
    expect((await env.groups.get(o, group.id))?.owner.id).toBe(o);
  });

  it('an accept racing a cancel ends in one of the two allowed states, never both', async () => {
    for (let i = 0; i < 10; i++) {
      const [o, t] = names(`xfer-race-${i}`, 'o', 't');
      const group = await env.groups.make(o, [t]);
      const offer = (await env.groups.transfer(o, group.id, t)).transfer!;
      const [accepted, cancelled] = await Promise.all([
        env.groups.respond(t, offer.id, true),
        env.groups.cancel(o, offer.id),
      ]);
      const won = [accepted.userErrors.length === 0, cancelled.userErrors.length === 0];
      expect(won.filter(Boolean)).toHaveLength(1);
      const owner = (await env.groups.get(t, group.id))!.owner.id;
      expect(owner).toBe(won[0] ? t : o);
      const [{ owners }] = (await rows<{ owners: number }>(
        env.db.handle.db,
        sql`SELECT count(*)::int AS owners FROM group_members WHERE group_id = ${group.id} AND role = 'OWNER'`,
      )) as [{ owners: number }];
      expect(owners).toBe(1);
    }
  });
});

const GROUP_NOTICES = `cursor __typename
  ... on GroupMemberChanged { groupId change userIds byUserId role }
  ... on OwnershipTransferChanged { transferId groupId status }
  ... on MessageReceived { conversationId messageId senderId }
  ... on FriendRequestReceived { fromUserId }`;

describe('N3: group notices reach current members only', () => {
  it('a removed member is told once and then receives nothing of the group, while the others do', async () => {
    const [o, kept, gone, marker] = names('n3-group', 'o', 'kept', 'gone', 'marker');
    await env.api.token(marker);
    const group = await env.groups.make(o, [kept, gone]);
    const subscribe = async (who: string) =>
      collect<{ notices: Record<string, unknown> }>(
        env.server.ws(await env.server.token(who)),
        `subscription { notices { ${GROUP_NOTICES} } }`,
      );
    const goneSub = await subscribe(gone);
    const keptSub = await subscribe(kept);
    await env.server.waitForStreams(2);
    expect((await env.groups.remove(o, group.id, gone)).userErrors).toEqual([]);
    await env.api.say(o, group.conversation.id, 'after the removal');
    expect((await env.groups.setRole(o, group.id, kept, 'ADMIN')).userErrors).toEqual([]);
    // A notice to `gone` committed after all of the above: once it arrives, everything before it has.
    await env.api.sendFriendRequest(marker, gone);
    // A fresh subscription may also replay notices committed just before it (JOINED): read from
    // the removal on.
    const fromRemoval = async (sub: typeof goneSub, last: (n: Record<string, unknown>) => boolean) => {
      let seen: Record<string, unknown>[] = [];
      for (let n = 1; !seen.some(last); n++) seen = (await sub.take(n)).map((r) => r.data!.notices);
      return seen.slice(seen.findIndex((x) => x.change === 'REMOVED'));
    };
    const goneSeen = await fromRemoval(goneSub, (x) => x.__typename === 'FriendRequestReceived');
    expect(goneSeen).toEqual([
      expect.objectContaining({
        __typename: 'GroupMemberChanged',
        change: 'REMOVED',
        userIds: [gone],
        byUserId: o,
      }),
      expect.objectContaining({ __typename: 'FriendRequestReceived', fromUserId: marker }),
    ]);
    const keptSeen = await fromRemoval(keptSub, (x) => x.change === 'ROLE_CHANGED');
    expect(keptSeen).toEqual([
      expect.objectContaining({ __typename: 'GroupMemberChanged', change: 'REMOVED', userIds: [gone] }),
      expect.objectContaining({
        __typename: 'MessageReceived',
        conversationId: group.conversation.id,
        senderId: o,
      }),
      expect.objectContaining({ __typename: 'GroupMemberChanged', change: 'ROLE_CHANGED', role: 'ADMIN' }),
    ]);
    // The pull form agrees: nothing of the group after the removal for `gone`.
    const pulled = await env.api.gql<{ notices: { edges: { node: { __typename: string } }[] } }>(
      gone,
      `query($after: String) { notices(after: $after, first: 100) { edges { node { __typename } } } }`,
      { after: (goneSeen[0] as { cursor: string }).cursor },
    );
    expect(pulled.notices.edges.map((e) => e.node.__typename)).toEqual(['FriendRequestReceived']);
  });

  it('a group message is one notice row, whatever the size of the group', async () => {
    const members = Array.from({ length: 40 }, (_, i) => `n3-rows-m${i}`);
    const group = await env.groups.make('n3-rows-o', members);
    const count = async () =>
      (
        await rows<{ n: number }>(
          env.db.handle.db,
          sql`SELECT count(*)::int AS n FROM notices WHERE kind = 'MessageReceived'
                AND payload->>'conversationId' = ${group.conversation.id}`,
        )
      )[0]!.n;
    await env.api.say(members[3]!, group.conversation.id, 'one', 'two');
    expect(await count()).toBe(2);
  });
});

describe('R7 common groups', () => {
  it('the same answer whatever the pair state: friends, deleted one way or both, blocked either way', async () => {
    const [a, b, c] = names('r7', 'a', 'b', 'c');
    const shared = await env.groups.make(a, [b, c]);
    const other = await env.groups.make(c, [a, b]);
    await env.groups.make(a, [c]); // b is not in it
    const expected = [other.id, shared.id].sort();
    const both = async () => [(await env.groups.common(a, b)).sort(), (await env.groups.common(b, a)).sort()];
    await env.api.befriend(a, b);
    expect(await both()).toEqual([expected, expected]);
    await env.api.deleteContact(a, b); // one way
    expect(await both()).toEqual([expected, expected]);
    await env.api.deleteContact(b, a); // mutual
    expect(await both()).toEqual([expected, expected]);
    await env.api.blockContact(a, b);
    expect(await both()).toEqual([expected, expected]);
    await env.api.blockContact(b, a, true);
    expect(await both()).toEqual([expected, expected]);
    // And the members still see each other in the shared group, and its messages.
    await env.api.say(b, shared.conversation.id, 'still here');
    expect(await env.api.bodies(a, shared.conversation.id)).toEqual(['still here']);
  });
});

describe('membership under concurrency', () => {
  it('50 users joining and leaving at once leave a consistent member list and exactly one OWNER', async () => {
    const users = Array.from({ length: 50 }, (_, i) => `conc-u${i}`);
    const group = await env.groups.make('conc-owner', users.slice(0, 25));
    for (const u of users.slice(25)) await env.api.token(u);
    await Promise.all([
      ...users.slice(0, 25).map((u) => env.groups.leave(u, group.id)),
      ...users.slice(25).map((u) => env.groups.invite('conc-owner', group.id, [u])),
    ]);
    const [state] = await rows<{ count: number; stored: number; owners: number }>(
      env.db.handle.db,
      sql`SELECT (SELECT count(*)::int FROM group_members WHERE group_id = ${group.id}) AS count,
                 (SELECT member_count FROM groups WHERE id = ${group.id}) AS stored,
                 (SELECT count(*)::int FROM group_members WHERE group_id = ${group.id} AND role = 'OWNER') AS owners`,
    );
    expect(state).toEqual({ count: 26, stored: 26, owners: 1 });
    expect((await env.groups.members('conc-owner', group.id)).map((m) => m.user.id).sort()).toEqual(
      ['conc-owner', ...users.slice(25)].sort(),
    );
  });
});
