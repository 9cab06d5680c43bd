// Attachments on the embedded database (PGlite): bytea in and out, and the cascade with the message.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { names } from '../support/client.js';
import { openTestEnv, type TestEnv } from '../support/fixture.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let env: TestEnv;
beforeAll(async () => {
  env = await openTestEnv({ driver: 'pglite' });
});
afterAll(() => env?.close());

describe('attachments on PGlite', () => {
  it('round-trip through GET /files/:id and go with their message (R4 block and delete)', async () => {
    const [a, b] = names('att-lite', 'a', 'b');
    const conversationId = await env.api.befriend(a, b);
    const bytes = randomBytes(100_000);
    const m = await env.rich.sent(a, conversationId, {
      attachment: { name: 'lite.bin', bytes: bytes.toString('base64') },
    });
    expect(m.attachment).toMatchObject({ name: 'lite.bin', size: bytes.length, sha256: sha256(bytes) });
    const got = await env.rich.download(m.attachment!.url, { user: b });
    expect(got.status).toBe(200);
    expect(got.bytes.equals(bytes)).toBe(true);
    expect(got.headers.get('etag')).toBe(`"${sha256(bytes)}"`);
    expect(await env.rich.filesOf([m.id])).toBe(1);
    expect((await env.api.blockContact(a, b, true)).userErrors).toEqual([]);
    expect(await env.rich.filesOf([m.id])).toBe(0);
    expect((await env.rich.download(m.attachment!.url, { user: b })).status).toBe(404);
  });
});
