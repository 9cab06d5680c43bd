// sendMessage's idempotency key (API.md): a client's retry after a network error never sends twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MESSAGE, names, storedMessages } from '../support/client.js';
import { openTestEnv, type TestEnv } from '../support/fixture.js';

let env: TestEnv;
beforeAll(async () => {
  env = await openTestEnv();
});
afterAll(() => env?.close());

interface Sent {
  message: { id: string; body: string; sentAt: string } | null;
  userErrors: { code: string; field: string[] | null }[];
}

const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) {
  message { ${MESSAGE} } userErrors { code message field } } }`;

const send = async (who: string, conversationId: string, body: string, idempotencyKey?: string) =>
  (await env.api.gql<{ sendMessage: Sent }>(who, SEND, { input: { conversationId, body, idempotencyKey } }))
    .sendMessage;

const HOUR_S = 3600;

describe('sendMessage with an idempotency key', () => {
  it('the same key twice stores one message and answers it both times; notices are not repeated', async () => {
    const [a, b] = names('idem-seq', 'a', 'b');
    const conversationId = await env.api.befriend(a, b);
    const first = await send(a, conversationId, 'hello', 'key-1');
    expect(first.userErrors).toEqual([]);
    env.clock.advance(60);
    const again = await send(a, conversationId, 'hello', 'key-1');
    expect(again).toEqual(first); // the same message, its first sentAt
    expect(await storedMessages(env.db, conversationId)).toBe(1);
    const received = (await env.api.notices(b)).notices.filter((n) => n.__typename === 'MessageReceived');
    expect(received).toHaveLength(1);
    // Another key is another message; so is the same key from the peer (keys are per user).
    const other = await send(a, conversationId, 'hello', 'key-2');
    const peers = await send(b, conversationId, 'hello', 'key-1');
    expect(new Set([first.message!.id, other.message!.id, peers.message!.id]).size).toBe(3);
    expect(await storedMessages(env.db, conversationId)).toBe(3);
  });

  it('the same key eight times at once stores one message and answers the same message to all', async () => {
    const [a, b] = names('idem-race', 'a', 'b');
    const conversationId = await env.api.befriend(a, b);
    await env.api.token(a);
    const all = await Promise.all(Array.from({ length: 8 }, () => send(a, conversationId, 'once', 'race')));
    expect(all.map((r) => r.userErrors)).toEqual(Array.from({ length: 8 }, () => []));
    expect(new Set(all.map((r) => r.message?.id)).size).toBe(1);
    expect(await storedMessages(env.db, conversationId)).toBe(1);
    expect(await env.api.bodies(b, conversationId)).toEqual(['once']);
  });

  it('without a key, two sends are two messages', async () => {
    const [a, b] = names('idem-none', 'a', 'b');
    const conversationId = await env.api.befriend(a, b);
    await send(a, conversationId, 'same');
    await send(a, conversationId, 'same');
    expect(await storedMessages(env.db, conversationId)).toBe(2);
  });

  it('a key reused for another body or conversation within 24 h is BAD_USER_INPUT and stores nothing', async () => {
    const [a, b, c] = names('idem-reuse', 'a', 'b', 'c');
    const ab = await env.api.befriend(a, b);
    const ac = await env.api.befriend(a, c);
    await send(a, ab, 'first', 'k');
    for (const [conversationId, body] of [
      [ab, 'second'],
      [ac, 'first'],
    ] as const) {
      const r = await send(a, conversationId, body, 'k');
      expect(r.message).toBeNull();
      expect(r.userErrors).toEqual([
        { code: 'BAD_USER_INPUT', message: expect.any(String), field: ['input', 'idempotencyKey'] },
      ]);
    }
    expect(await storedMessages(env.db, ab)).toBe(1);
    expect(await storedMessages(env.db, ac)).toBe(0);
  });

  it('a key answers the first result for 24 hours; after that it sends anew, and the sweep prunes the old record', async () => {
    const [a, b] = names('idem-window', 'a', 'b');
    const conversationId = await env.api.befriend(a, b);
    const first = await send(a, conversationId, 'ping', 'daily');
    env.clock.advance(24 * HOUR_S - 1);
    expect((await send(a, conversationId, 'ping', 'daily')).message?.id).toBe(first.message!.id);
    env.clock.advance(1);
    const later = await send(a, conversationId, 'ping', 'daily');
    expect(later.userErrors).toEqual([]);
    expect(later.message?.id).not.toBe(first.message!.id);
    expect(await storedMessages(env.db, conversationId)).toBe(2);
    // The new record answers from now on.
    expect((await send(a, conversationId, 'ping', 'daily')).message?.id).toBe(later.message!.id);
    env.clock.advance(24 * HOUR_S);
    const op = await env.api.token('idem-operator', { operator: true });
    const swept = await env.server.http<{ runRetentionSweep: { run: { prunedIdempotencyKeys: number } } }>(
      'mutation { runRetentionSweep { run { prunedIdempotencyKeys } } }',
      {},
      op,
    );
    expect(swept.data?.runRetentionSweep.run.prunedIdempotencyKeys).toBeGreaterThanOrEqual(1);
  });

  it('a refused send is not remembered: its retry with the same key is decided anew', async () => {
    const [a, b] = names('idem-refused', 'a', 'b');
    const conversationId = await env.api.befriend(a, b);
    await env.api.deleteContact(b, a); // R2: b no longer accepts a's messages
    const refused = await send(a, conversationId, 'are you there?', 'retry');
    expect(refused.userErrors.map((e) => e.code)).toEqual(['VERIFICATION_REQUIRED']);
    await env.api.sendFriendRequest(b, a); // R2: b re-adds a
    const retried = await send(a, conversationId, 'are you there?', 'retry');
    expect(retried.userErrors).toEqual([]);
    expect(await storedMessages(env.db, conversationId)).toBe(1);
  });

  it('when the first message was purged since, the retry answers NOT_FOUND and sends nothing', async () => {
    const [a, b] = names('idem-purged', 'a', 'b');
    const conversationId = await env.api.befriend(a, b);
    await send(a, conversationId, 'soon gone', 'gone');
    await env.api.blockContact(b, a, true); // R4: block and delete purges the history
    expect(await storedMessages(env.db, conversationId)).toBe(0);
    const r = await send(a, conversationId, 'soon gone', 'gone');
    expect(r.message).toBeNull();
    expect(r.userErrors.map((e) => [e.code, e.field])).toEqual([['NOT_FOUND', ['input', 'idempotencyKey']]]);
    expect(await storedMessages(env.db, conversationId)).toBe(0);
  });

  it.each([
    ['empty', ''],
    ['256 characters', 'k'.repeat(256)],
    ['a control character', 'a\nb'],
  ])('a key that is %s is BAD_USER_INPUT on input.idempotencyKey and stores nothing', async (_what, key) => {
    const [a, b] = names(`idem-bad-${key.length}`, 'a', 'b');
    const conversationId = await env.api.befriend(a, b);
    const r = await send(a, conversationId, 'x', key);
    expect(r.userErrors.map((e) => [e.code, e.field])).toEqual([
      ['BAD_USER_INPUT', ['input', 'idempotencyKey']],
    ]);
    expect(await storedMessages(env.db, conversationId)).toBe(0);
    expect((await send(a, conversationId, 'x', 'k'.repeat(255))).userErrors).toEqual([]);
  });
});
