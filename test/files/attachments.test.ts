// Attachments: sendMessage's `attachment`, Message.attachment, GET /files/:id (bearer token, read
// access as messages have it), validation that stores nothing, and files going with their messages
// when they are purged (R3 sweep, R4 block and delete).
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/config.js';
import { errorsAt, names } from '../support/client.js';
import { openTestEnv, type TestEnv } from '../support/fixture.js';

const DAY_S = 24 * 60 * 60;
const MAX = DEFAULT_LIMITS.maxAttachmentBytes;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const file = (name: string, bytes: Buffer) => ({ name, bytes: bytes.toString('base64') });
const fields = errorsAt;

let env: TestEnv;
beforeAll(async () => {
  env = await openTestEnv();
});
afterAll(() => env?.close());

describe('an attachment in a DIRECT conversation', () => {
  it('round-trips through GET /files/:id for both parties, with the same size and sha256', async () => {
    const [a, b] = names('att-direct', 'a', 'b');
    const conversationId = await env.api.befriend(a, b);
    const bytes = randomBytes(200_000);
    const name = 'résumé (final)*.pdf';
    const message = await env.rich.sent(a, conversationId, { body: 'my cv', attachment: file(name, bytes) });
    expect(message.attachment).toEqual({
      id: message.attachment!.id,
      name,
      size: bytes.length,
      sha256: sha256(bytes),
      url: `/files/${message.attachment!.id}`,
    });
    // The peer reads it with the message, and downloads the same bytes.
    const [seen] = await env.rich.messages(b, conversationId);
    expect(seen!.attachment).toEqual(message.attachment);
    for (const who of [a, b]) {
      const got = await env.rich.download(message.attachment!.url, { user: who });
      expect(got.status).toBe(200);
      expect(got.bytes.length).toBe(bytes.length);
      expect(sha256(got.bytes)).toBe(sha256(bytes));
      expect(got.bytes.equals(bytes)).toBe(true);
      expect(got.headers.get('content-type')).toBe('application/octet-stream');
      expect(got.headers.get('content-disposition')).toBe(
        "attachment; filename*=UTF-8''r%C3%A9sum%C3%A9%20%28final%29%2A.pdf",
      );
      expect(got.headers.get('x-content-type-options')).toBe('nosniff');
      expect(got.headers.get('etag')).toBe(`"${sha256(bytes)}"`);
    }
    // A client holding the bytes revalidates with the ETag (fetch would send `no-cache` on its own).
    const again = await env.rich.download(
      message.attachment!.url,
      { user: b },
      { 'if-none-match': `"${sha256(bytes)}"`, 'cache-control': 'max-age=0' },
    );
    expect(again.status).toBe(304);
    expect(again.bytes.length).toBe(0);
    // A message without a file has none.
    const plain = await env.rich.sent(b, conversationId, { body: 'thanks' });
    expect(plain.attachment).toBeNull();
  });

  it('a stranger gets 404 (as for a file that does not exist); without or with a bad token 401', async () => {
    const [a, b, stranger] = names('att-access', 'a', 'b', 'stranger');
    const conversationId = await env.api.befriend(a, b);
    await env.api.token(stranger);
    const { attachment } = await env.rich.sent(a, conversationId, {
      attachment: file('x.bin', randomBytes(10)),
    });
    const url = attachment!.url;
    expect((await env.rich.download(url, { user: stranger })).status).toBe(404);
    expect((await env.rich.download('/files/00000000-0000-4000-8000-000000000000', { user: a })).status).toBe(
      404,
    );
    expect((await env.rich.download('/files/not-a-uuid', { user: a })).status).toBe(404);
    const anonymous = await env.rich.download(url, null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
    expect((await env.rich.download(url, { authorization: 'Bearer not-a-token' })).status).toBe(401);
    const forged = `Bearer ${(await env.api.token(a)).slice(0, -4)}AAAA`;
    expect((await env.rich.download(url, { authorization: forged })).status).toBe(401);
    // Nothing of the file shows in a refusal.
    const refused = await env.rich.download(url, { user: stranger });
    expect(refused.headers.get('etag')).not.toContain(attachment!.sha256);
    expect(refused.headers.get('content-disposition')).toBeNull();
  });
});

describe('an attachment in a GROUP conversation', () => {
  it('current members download it; a removed member and a stranger get 404', async () => {
    const [o, m1, m2, stranger] = names('att-group', 'o', 'm1', 'm2', 'stranger');
    await env.api.token(stranger);
    const group = await env.groups.make(o, [m1, m2]);
    const bytes = randomBytes(50_000);
    const message = await env.rich.sent(o, group.conversation.id, { attachment: file('notes.txt', bytes) });
    expect(message.attachment).toMatchObject({
      name: 'notes.txt',
      size: bytes.length,
      sha256: sha256(bytes),
    });
    for (const who of [o, m1, m2]) {
      const got = await env.rich.download(message.attachment!.url, { user: who });
      expect(got.status).toBe(200);
      expect(sha256(got.bytes)).toBe(sha256(bytes));
    }
    expect((await env.rich.download(message.attachment!.url, { user: stranger })).status).toBe(404);
    expect((await env.groups.remove(o, group.id, m2)).userErrors).toEqual([]);
    expect((await env.rich.download(message.attachment!.url, { user: m2 })).status).toBe(404);
    expect((await env.rich.download(message.attachment!.url, { user: m1 })).status).toBe(200);
  });
});

describe('refusals store nothing', () => {
  const [a, b] = names('att-refused', 'a', 'b');
  let conversationId: string;
  beforeAll(async () => {
    conversationId = await env.api.befriend(a, b);
  });

  it('a file over MAX_ATTACHMENT_BYTES is BAD_USER_INPUT on input.attachment.bytes, naming the limit; MAX itself is accepted', async () => {
    const before = await env.rich.stored();
    const r = await env.rich.send(a, conversationId, { attachment: file('big.bin', randomBytes(MAX + 1)) });
    expect(fields(r)).toEqual(['BAD_USER_INPUT@input.attachment.bytes']);
    expect(r.userErrors[0]!.message).toContain(String(MAX));
    expect(r.message).toBeNull();
    expect(await env.rich.stored()).toEqual(before);
    const exact = randomBytes(MAX);
    const ok = await env.rich.sent(a, conversationId, { attachment: file('max.bin', exact) });
    expect(ok.attachment!.size).toBe(MAX);
    expect(sha256((await env.rich.download(ok.attachment!.url, { user: b })).bytes)).toBe(sha256(exact));
  });

  it.each([
    ['not base64 at all', 'this is not base64!'],
    ['base64 without padding', 'YWJjZA'],
    ['base64 with a line break', 'YWJj\nZGVm'],
    ['the URL-safe alphabet', '-_-_'],
  ])('bytes as %s are BAD_USER_INPUT on input.attachment.bytes', async (_what, bytes) => {
    const before = await env.rich.stored();
    const r = await env.rich.send(a, conversationId, { attachment: { name: 'f.bin', bytes } });
    expect(fields(r)).toEqual(['BAD_USER_INPUT@input.attachment.bytes']);
    expect(await env.rich.stored()).toEqual(before);
  });

  it.each([
    ['empty', ''],
    ['with a slash', 'etc/passwd'],
    ['with a backslash', '..\\boot.ini'],
    ['with U+0000', 'a\u0000b'],
    ['of 256 characters', 'é'.repeat(256)],
  ])('a name %s is BAD_USER_INPUT on input.attachment.name', async (_what, name) => {
    const before = await env.rich.stored();
    const r = await env.rich.send(a, conversationId, { attachment: { name, bytes: 'YWJj' } });
    expect(fields(r)).toEqual(['BAD_USER_INPUT@input.attachment.name']);
    expect(await env.rich.stored()).toEqual(before);
  });

  it('a send refused after the input checks (a payment to a non-party) stores no file', async () => {
    const [c] = names('att-late', 'c');
    await env.api.token(c);
    const before = await env.rich.stored();
    const r = await env.rich.send(a, conversationId, {
      attachment: file('f.bin', randomBytes(100)),
      payment: { amountCents: 100, currency: 'EUR', toUserId: c },
    });
    expect(fields(r)).toEqual(['NOT_FOUND@input.payment.toUserId']);
    expect(await env.rich.stored()).toEqual(before);
  });
});

describe('the idempotency key covers the attachment', () => {
  it('the same key with the same file answers the first message; with another file or none, BAD_USER_INPUT', async () => {
    const [a, b] = names('att-idem', 'a', 'b');
    const conversationId = await env.api.befriend(a, b);
    const f = file('one.bin', randomBytes(1000));
    const first = await env.rich.sent(a, conversationId, { attachment: f, idempotencyKey: 'k1' });
    const before = await env.rich.stored();
    const again = await env.rich.send(a, conversationId, { attachment: f, idempotencyKey: 'k1' });
    expect(again.message).toEqual(first);
    for (const attachment of [file('one.bin', randomBytes(1000)), { ...f, name: 'two.bin' }, undefined]) {
      const r = await env.rich.send(a, conversationId, { attachment, idempotencyKey: 'k1' });
      expect(fields(r)).toEqual(['BAD_USER_INPUT@input.idempotencyKey']);
    }
    expect(await env.rich.stored()).toEqual(before);
  });
});

describe('files go with their messages', () => {
  it('R3: a mutual delete, 30 days, the sweep deletes the files and SweepRun.purgedFiles counts them', async () => {
    await env.api.sweep(); // whatever earlier tests left due
    const [a, b] = names('att-r3', 'a', 'b');
    const conversationId = await env.api.befriend(a, b);
    const withFiles = [
      await env.rich.sent(a, conversationId, { attachment: file('1.bin', randomBytes(300)) }),
      await env.rich.sent(b, conversationId, { attachment: file('2.bin', randomBytes(300)) }),
    ];
    await env.rich.sent(a, conversationId, { body: 'no file' });
    const ids = withFiles.map((m) => m.id);
    expect(await env.rich.filesOf(ids)).toBe(2);
    await env.api.deleteContact(a, b);
    await env.api.deleteContact(b, a);
    env.clock.advance(30 * DAY_S - 1);
    expect((await env.api.sweep()).run).toMatchObject({
      purgedMessages: 0,
      purgedConversations: 0,
      purgedFiles: 0,
    });
    expect(await env.rich.filesOf(ids)).toBe(2);
    env.clock.advance(1);
    const before = await env.rich.stored();
    expect((await env.api.sweep()).run).toMatchObject({
      purgedMessages: 3,
      purgedConversations: 1,
      purgedFiles: 2,
    });
    expect(await env.rich.filesOf(ids)).toBe(0);
    expect(await env.rich.stored()).toMatchObject({ messages: before.messages - 3, files: before.files - 2 });
    for (const who of [a, b])
      expect((await env.rich.download(withFiles[0]!.attachment!.url, { user: who })).status).toBe(404);
  });

  it('R4: block and delete deletes the files at once; neither party can download them', async () => {
    const [a, b] = names('att-r4', 'a', 'b');
    const conversationId = await env.api.befriend(a, b);
    const m = await env.rich.sent(b, conversationId, { attachment: file('gone.bin', randomBytes(300)) });
    expect((await env.rich.download(m.attachment!.url, { user: a })).status).toBe(200);
    const before = await env.rich.stored();
    expect((await env.api.blockContact(a, b, true)).userErrors).toEqual([]);
    expect(await env.rich.filesOf([m.id])).toBe(0);
    expect(await env.rich.stored()).toMatchObject({ messages: before.messages - 1, files: before.files - 1 });
    for (const who of [a, b])
      expect((await env.rich.download(m.attachment!.url, { user: who })).status).toBe(404);
  });
});
