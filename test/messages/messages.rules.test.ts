// Message bodies as pure checks (who may message whom is SPEC §1: test/contacts/contacts.rules.test.ts).
import { describe, expect, it } from 'vitest';
import { checkBody, MAX_BODY } from '../../src/messages/messages.rules.js';

describe('message body', () => {
  it('accepts 1 to 10,000 characters', () => {
    expect(MAX_BODY).toBe(10_000);
    expect(checkBody('a')).toEqual({ ok: true });
    expect(checkBody('a'.repeat(10_000))).toEqual({ ok: true });
  });

  it('counts characters (code points), not UTF-16 units', () => {
    expect(checkBody('𝄞'.repeat(10_000))).toEqual({ ok: true });
    expect(checkBody('𝄞'.repeat(10_001))).toMatchObject({ ok: false, error: { code: 'BAD_USER_INPUT' } });
  });

  it.each([
    ['empty', ''],
    ['only whitespace', ' \n\t'],
    ['over 10,000 characters', 'a'.repeat(10_001)],
    ['holding U+0000, which Postgres cannot store', 'a\u0000b'],
  ])('refuses a body %s with BAD_USER_INPUT', (_what, body) => {
    expect(checkBody(body)).toMatchObject({ ok: false, error: { code: 'BAD_USER_INPUT' } });
  });
});
