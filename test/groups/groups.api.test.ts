// Groups over the API (SPEC §2 G1, G2; R7; T2/N3 for members who leave): creation, membership,
// the group conversation, ownership transfer, common groups.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { names } from '../support/client.js';
import { openTestEnv, type TestEnv } from '../support/fixture.js';

let env: TestEnv;
beforeAll(async () => {
  env = await openTestEnv();
});
afterAll(() => env?.close());

const codes = (r: { userErrors: { code: string; field?: string[] | null }[] }) =>
  r.userErrors.map((e) => `${e.code}@${(e.field ?? []).join('.')}`);

describe('createGroup', () => {
  it('makes the creator OWNER and the others MEMBERs, with one GROUP conversation; duplicates ignored', async () => {
    const [o, a, b] = names('create', 'o', 'a', 'b');
    for (const u of [o, a, b]) await env.api.token(u);
    const r = await env.groups.create(o, { name: '  Book club  ', memberIds: [a, b, a, o] });
    expect(r.userErrors).toEqual([]);
    expect(r.group).toMatchObject({
      name: 'Book club',
      kind: 'STANDARD',
      owner: { id: o },
      guardian: null,
      viewerRole: 'OWNER',
      memberCount: 3,
      dissolutionProtection: false,
      createdAt: env.clock.now().toISOString(),
      conversation: { kind: 'GROUP' },
    });
    const members = await env.groups.members(a, r.group!.id);
    expect(members.map((m) => [m.user.id, m.role]).sort()).toEqual(
      [
        [o, 'OWNER'],
        [a, 'MEMBER'],
        [b, 'MEMBER'],
      ].sort(),
    );
    expect(await env.groups.list(b)).toContain(r.group!.id);
    expect((await env.groups.get(a, r.group!.id))?.viewerRole).toBe('MEMBER');
  });

  it('refuses bad input, naming the field, and creates nothing', async () => {
    const [o, a, guard] = names('create-bad', 'o', 'a', 'guard');
    for (const u of [o, a, guard]) await env.api.token(u);
    const before = await env.groups.list(o);
    expect(codes(await env.groups.create(o, { name: ' ' }))).toEqual(['BAD_USER_INPUT@input.name']);
    expect(codes(await env.groups.create(o, { name: 'x'.repeat(101) }))).toEqual([
      'BAD_USER_INPUT@input.name',
    ]);
    expect(codes(await env.groups.create(o, { name: 'n', memberIds: [a, 'nobody-at-all'] }))).toEqual([
      'NOT_FOUND@input.memberIds',
    ]);
    expect(codes(await env.groups.create(o, { name: 'n', kind: 'EDUCATION', memberIds: [a] }))).toEqual([
      'BAD_USER_INPUT@input.guardianId',
    ]);
    expect(
      codes(await env.groups.create(o, { name: 'n', kind: 'EDUCATION', memberIds: [a], guardianId: a })),
    ).toEqual(['BAD_USER_INPUT@input.guardianId']);
    expect(
      codes(
        await env.groups.create(o, {
          name: 'n',
          kind: 'EDUCATION',
          memberIds: [a],
          guardianId: 'nobody-at-all',
        }),
      ),
    ).toEqual(['NOT_FOUND@input.guardianId']);
    expect(codes(await env.groups.create(o, { name: 'n', kind: 'STANDARD', guardianId: guard }))).toEqual([
      'BAD_USER_INPUT@input.guardianId',
    ]);
    expect(await env.groups.list(o)).toEqual(before);
    const edu = await env.groups.create(o, {
      name: 'Class 3',
      kind: 'EDUCATION',
      memberIds: [a],
      guardianId: guard,
    });
    expect(edu.group).toMatchObject({ kind: 'EDUCATION', guardian: { id: guard }, memberCount: 2 });
    expect(codes(await env.groups.invite(a, edu.group!.id, [guard]))).toEqual([
      'BAD_USER_INPUT@input.userIds',
    ]);
  });
});

describe('the group conversation', () => {
  it('members send and read; a non-member gets NOT_FOUND; the group shows in conversations with T1 retention', async () => {
    const [o, a, out] = names('chat', 'o', 'a', 'out');
    await env.api.token(out);
    const group = await env.groups.make(o, [a]);
    const cid = group.conversation.id;
    expect((await env.api.sendMessage(a, cid, 'hello group')).userErrors).toEqual([]);
    expect((await env.api.sendMessage(o, cid, 'hi a')).userErrors).toEqual([]);
    expect(await env.api.bodies(o, cid)).toEqual(['hi a', 'hello group']);
    expect(codes(await env.api.sendMessage(out, cid, 'let me in'))).toEqual([
      'NOT_FOUND@input.conversationId',
    ]);
    const outRead = await env.api.raw(
      out,
      'query($id: ID!) { messages(conversationId: $id) { edges { cursor } } }',
      {
        id: cid,
      },
    );
    expect(outRead.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(await env.api.retention(a, cid)).toMatchObject({
      state: 'ACTIVE',
      reason: 'T1',
      visibleMessages: 2,
    });
    const convs = await env.api.gql<{
      conversations: { edges: { node: { id: string; kind: string; group: { id: string } | null } }[] };
    }>(a, '{ conversations(first: 100) { edges { node { id kind group { id } } } } }');
    expect(convs.conversations.edges.map((e) => e.node)).toContainEqual({
      id: cid,
      kind: 'GROUP',
      group: { id: group.id },
    });
  });

  it('a member who leaves stops reading it at once; the others go on', async () => {
    const [o, a, b] = names('chat-leave', 'o', 'a', 'b');
    const group = await env.groups.make(o, [a, b]);
    const cid = group.conversation.id;
    await env.api.say(o, cid, 'before');
    expect((await env.groups.leave(a, group.id)).userErrors).toEqual([]);
    expect(await env.groups.get(a, group.id)).toBeNull();
    expect(await env.groups.list(a)).not.toContain(group.id);
    expect(codes(await env.api.sendMessage(a, cid, 'still here?'))).toEqual([
      'NOT_FOUND@input.conversationId',
    ]);
    await env.api.say(b, cid, 'after');
    expect(await env.api.bodies(o, cid)).toEqual(['after', 'before']);
  });
});
