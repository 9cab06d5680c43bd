// Payments sent with messages: Message.payment, the per-user ledger (Query.payments, newest first,
// keyset pages), who may be paid, validation that records nothing, and a ledger that outlives the
// messages (R4 block and delete).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorsAt, names } from '../support/client.js';
import { openTestEnv, type TestEnv } from '../support/fixture.js';
import type { Payment } from '../support/rich-messages.js';

const fields = errorsAt;

let env: TestEnv;
beforeAll(async () => {
  env = await openTestEnv();
});
afterAll(() => env?.close());

describe('a payment in a DIRECT conversation', () => {
  it('is on the message and in both the payer’s and the payee’s ledger, field for field', async () => {
    const [a, b, stranger] = names('pay-direct', 'a', 'b', 'stranger');
    const conversationId = await env.api.befriend(a, b);
    await env.api.token(stranger);
    env.clock.advance(60);
    const m = await env.rich.sent(a, conversationId, {
      body: 'for the tickets',
      payment: { amountCents: 12_50, currency: 'EUR', toUserId: b },
    });
    const expected: Payment = {
      id: m.payment!.id,
      amountCents: 1250,
      currency: 'EUR',
      from: { id: a },
      to: { id: b },
      createdAt: env.clock.now().toISOString(),
      conversationId,
      messageId: m.id,
    };
    expect(m.payment).toEqual(expected);
    expect(m.attachment).toBeNull();
    expect((await env.rich.messages(b, conversationId))[0]!.payment).toEqual(expected);
    expect(await env.rich.wholeLedger(a)).toEqual([expected]);
    expect(await env.rich.wholeLedger(b)).toEqual([expected]);
    expect(await env.rich.wholeLedger(stranger)).toEqual([]);
    // The largest amount is accepted.
    const max = await env.rich.sent(b, conversationId, {
      payment: { amountCents: 100_000_000, currency: 'USD', toUserId: a },
    });
    expect(max.payment).toMatchObject({ amountCents: 100_000_000, from: { id: b }, to: { id: a } });
  });

  it('the ledger is newest first, paged with first/after (each payment once, ties broken by id); a crafted cursor is BAD_USER_INPUT', async () => {
    const [a, b, c] = names('pay-pages', 'a', 'b', 'c');
    const ab = await env.api.befriend(a, b);
    const ac = await env.api.befriend(a, c);
    const sent: string[] = [];
    const pay = async (from: string, conversationId: string, to: string, amountCents: number) => {
      const m = await env.rich.sent(from, conversationId, {
        payment: { amountCents, currency: 'EUR', toUserId: to },
      });
      sent.push(m.payment!.id);
    };
    await pay(a, ab, b, 1);
    env.clock.advance(1);
    await pay(b, ab, a, 2); // a as payee
    env.clock.advance(1);
    await pay(a, ac, c, 3);
    await pay(c, ac, a, 4); // the same instant as the one before
    await pay(a, ab, b, 5);
    env.clock.advance(1);
    await pay(b, ab, a, 6);
    const all = await env.rich.wholeLedger(a);
    expect(new Set(all.map((p) => p.id))).toEqual(new Set(sent));
    // Newest first; the three of one instant by id, descending.
    const sameInstant = all.filter((p) => [3, 4, 5].includes(p.amountCents));
    expect(sameInstant.map((p) => p.id)).toEqual(
      sameInstant
        .map((p) => p.id)
        .sort()
        .reverse(),
    );
    expect(all.map((p) => p.amountCents)).toEqual([6, ...sameInstant.map((p) => p.amountCents), 2, 1]);
    expect(all[0]!.createdAt > all[1]!.createdAt).toBe(true);
    // Pages of 2 read the same list, each payment once.
    const first = await env.rich.ledger(a, 2);
    expect(first.edges.map((e) => e.node)).toEqual(all.slice(0, 2));
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = await env.rich.ledger(a, 2, first.pageInfo.endCursor!);
    expect(second.edges.map((e) => e.node)).toEqual(all.slice(2, 4));
    expect(await env.rich.wholeLedger(a, 2)).toEqual(all);
    expect(await env.rich.wholeLedger(a, 1)).toEqual(all);
    // b's ledger has only b's payments.
    expect((await env.rich.wholeLedger(b)).map((p) => p.amountCents)).toEqual([6, 5, 2, 1]);
    // Crafted cursors.
    const crafted = [
      'not-a-cursor',
      Buffer.from(JSON.stringify(['2026-01-01T00:00:00.000Z'])).toString('base64url'),
      Buffer.from(JSON.stringify(['2026-01-01T00:00:00.000Z', "x' OR 1=1"])).toString('base64url'),
      Buffer.from(JSON.stringify([12, sent[0]])).toString('base64url'),
    ];
    for (const after of crafted) {
      const r = await env.api.raw(
        a,
        'query($after: String) { payments(first: 2, after: $after) { edges { cursor } } }',
        {
          after,
        },
      );
      expect(r.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    }
  });
});

describe('refusals record nothing', () => {
  const [a, b, c] = names('pay-refused', 'a', 'b', 'c');
  let conversationId: string;
  beforeAll(async () => {
    conversationId = await env.api.befriend(a, b);
    await env.api.token(c);
  });

  it.each([
    [
      'someone not in the conversation',
      () => ({ amountCents: 100, currency: 'EUR', toUserId: c }),
      'NOT_FOUND@input.payment.toUserId',
    ],
    [
      'a user that does not exist',
      () => ({ amountCents: 100, currency: 'EUR', toUserId: 'nobody-at-all' }),
      'NOT_FOUND@input.payment.toUserId',
    ],
    [
      'yourself',
      () => ({ amountCents: 100, currency: 'EUR', toUserId: a }),
      'BAD_USER_INPUT@input.payment.toUserId',
    ],
    [
      'a malformed user id',
      () => ({ amountCents: 100, currency: 'EUR', toUserId: '' }),
      'BAD_USER_INPUT@input.payment.toUserId',
    ],
    [
      'zero cents',
      () => ({ amountCents: 0, currency: 'EUR', toUserId: b }),
      'BAD_USER_INPUT@input.payment.amountCents',
    ],
    [
      'a negative amount',
      () => ({ amountCents: -5, currency: 'EUR', toUserId: b }),
      'BAD_USER_INPUT@input.payment.amountCents',
    ],
    [
      'over 100,000,000 cents',
      () => ({ amountCents: 100_000_001, currency: 'EUR', toUserId: b }),
      'BAD_USER_INPUT@input.payment.amountCents',
    ],
    [
      'a lowercase currency',
      () => ({ amountCents: 100, currency: 'eur', toUserId: b }),
      'BAD_USER_INPUT@input.payment.currency',
    ],
    [
      'a four-letter currency',
      () => ({ amountCents: 100, currency: 'EURO', toUserId: b }),
      'BAD_USER_INPUT@input.payment.currency',
    ],
    [
      'a currency with a digit',
      () => ({ amountCents: 100, currency: 'E1R', toUserId: b }),
      'BAD_USER_INPUT@input.payment.currency',
    ],
  ])('a payment to %s is refused', async (_what, payment, expected) => {
    const before = await env.rich.stored();
    const r = await env.rich.send(a, conversationId, { payment: payment() });
    expect(fields(r)).toEqual([expected]);
    expect(r.message).toBeNull();
    expect(await env.rich.stored()).toEqual(before);
  });

  it('a payment the conversation refuses (the peer deleted the payer) records nothing', async () => {
    const [x, y] = names('pay-refused-r2', 'x', 'y');
    const xy = await env.api.befriend(x, y);
    await env.api.deleteContact(y, x);
    const before = await env.rich.stored();
    const r = await env.rich.send(x, xy, { payment: { amountCents: 100, currency: 'EUR', toUserId: y } });
    expect(fields(r)).toEqual(['VERIFICATION_REQUIRED@input.conversationId']);
    expect(await env.rich.stored()).toEqual(before);
    expect(await env.rich.wholeLedger(x)).toEqual([]);
  });
});

describe('the ledger outlives the messages', () => {
  it('after block and delete purges the conversation, both ledgers keep the payments, messageId null', async () => {
    const [a, b] = names('pay-r4', 'a', 'b');
    const conversationId = await env.api.befriend(a, b);
    const one = await env.rich.sent(a, conversationId, {
      payment: { amountCents: 700, currency: 'GBP', toUserId: b },
    });
    env.clock.advance(1);
    const two = await env.rich.sent(b, conversationId, {
      payment: { amountCents: 300, currency: 'GBP', toUserId: a },
    });
    const before = await env.rich.stored();
    expect((await env.api.blockContact(a, b, true)).userErrors).toEqual([]);
    expect(await env.rich.stored()).toEqual({ ...before, messages: before.messages - 2 });
    expect(await env.rich.messages(b, conversationId)).toEqual([]);
    const kept = [two.payment!, one.payment!].map((p) => ({ ...p, messageId: null }));
    expect(await env.rich.wholeLedger(a)).toEqual(kept);
    expect(await env.rich.wholeLedger(b)).toEqual(kept);
  });
});

describe('a payment in a GROUP conversation', () => {
  it('goes to a current member; not to a removed one, nor to a stranger', async () => {
    const [o, m1, m2, stranger] = names('pay-group', 'o', 'm1', 'm2', 'stranger');
    await env.api.token(stranger);
    const group = await env.groups.make(o, [m1, m2]);
    const conversationId = group.conversation.id;
    const m = await env.rich.sent(m1, conversationId, {
      payment: { amountCents: 999, currency: 'CHF', toUserId: m2 },
    });
    expect(m.payment).toMatchObject({
      amountCents: 999,
      currency: 'CHF',
      from: { id: m1 },
      to: { id: m2 },
      conversationId,
      messageId: m.id,
    });
    // Every member sees it on the message; payer and payee have it in their ledgers, the others not.
    expect((await env.rich.messages(o, conversationId))[0]!.payment).toEqual(m.payment);
    expect(await env.rich.wholeLedger(m1)).toEqual([m.payment]);
    expect(await env.rich.wholeLedger(m2)).toEqual([m.payment]);
    expect(await env.rich.wholeLedger(o)).toEqual([]);
    expect((await env.groups.remove(o, group.id, m2)).userErrors).toEqual([]);
    const before = await env.rich.stored();
    for (const toUserId of [m2, stranger]) {
      const r = await env.rich.send(m1, conversationId, {
        payment: { amountCents: 1, currency: 'CHF', toUserId },
      });
      expect(fields(r)).toEqual(['NOT_FOUND@input.payment.toUserId']);
    }
    expect(await env.rich.stored()).toEqual(before);
    // The removed member's ledger still has what they received.
    expect(await env.rich.wholeLedger(m2)).toEqual([m.payment]);
  });
});
