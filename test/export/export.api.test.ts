// G12 — archive, then dissolve: exportConversation over the API, real Postgres, manual clock. The
// archive holds exactly what the exporter reads through `messages` (their period, their stars, G3's
// omissions); the encrypted envelope opens with the right passphrase only and any flipped byte
// fails; the link serves its owner only, until it expires; members export during the undo window.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/db/client.js';
import { ENVELOPE_HEADER_BYTES, MAGIC } from '../../src/export/export.format.js';
import { errorsAt, names } from '../support/client.js';
import { openTestEnv, type TestEnv } from '../support/fixture.js';
import { retentionClient } from '../support/retention.js';
import type { RichMessage } from '../support/rich-messages.js';
import { exportAs, exported, openCli, printed, readArchive, sha256Of } from './archive.js';

const HOUR = 3600;
const DAY = 24 * HOUR;
const b64 = (s: string) => Buffer.from(s).toString('base64');
const PASSPHRASE = 'correct horse battery staple';

let env: TestEnv;
let dataDir: string;
let work: string;
beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'ties-export-data-'));
  work = mkdtempSync(join(tmpdir(), 'ties-export-work-'));
  env = await openTestEnv({ config: { dataDir } });
});
afterAll(async () => {
  await env?.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

const exportsDir = () => join(dataDir, 'exports');
const exportFiles = () => {
  try {
    return readdirSync(exportsDir()).sort();
  } catch {
    return [];
  }
};
async function exportRows(): Promise<number> {
  const [r] = await rows<{ n: number }>(env.db.handle.db, sql`SELECT count(*)::int AS n FROM exports`);
  return r!.n;
}

/** Downloads a link as `who` (null: no token) into `work`; the status and, on 200, the file. */
async function download(url: string, who: string | null, name = `${Math.random()}.bin`) {
  const headers: Record<string, string> = who ? { authorization: `Bearer ${await env.api.token(who)}` } : {};
  const res = await fetch(`${env.server.url}${url}`, { headers });
  const bytes = Buffer.from(await res.arrayBuffer());
  const path = join(work, name);
  if (res.status === 200) writeFileSync(path, bytes);
  return { status: res.status, headers: res.headers, bytes, path };
}

/** Every message `who` reads through the API, newest first, page by page. */
async function allMessages(who: string, conversationId: string): Promise<RichMessage[]> {
  const out: RichMessage[] = [];
  let after: string | null = null;
  for (;;) {
    const r: {
      messages: { edges: { node: RichMessage }[]; pageInfo: { endCursor: string; hasNextPage: boolean } };
    } = await env.api.gql(
      who,
      `query($id: ID!, $after: String) { messages(conversationId: $id, first: 100, after: $after) {
          edges { node { id sender { id } body sentAt starred attachment { id name size sha256 }
            payment { id amountCents currency from { id } to { id } createdAt } } }
          pageInfo { endCursor hasNextPage } } }`,
      { id: conversationId, after },
    );
    out.push(...r.messages.edges.map((e) => e.node));
    if (!r.messages.pageInfo.hasNextPage) return out;
    after = r.messages.pageInfo.endCursor;
  }
}

/** The archive's message lines as the API shows messages (the same fields, the same order). */
const asApi = (path: string) =>
  readArchive(path).messages.map((m) => ({
    id: m.id,
    sender: { id: m.senderId },
    body: m.body,
    sentAt: m.sentAt,
    starred: m.starred,
    attachment: m.attachment,
    payment: m.payment && {
      id: m.payment.id,
      amountCents: m.payment.amountCents,
      currency: m.payment.currency,
      from: { id: m.payment.fromUserId },
      to: { id: m.payment.toUserId },
      createdAt: m.payment.createdAt,
    },
  }));

/**
 * Exports as `who` and downloads the link (its size and SHA-256 as answered); the plain archive's
 * path — opened with the command (`npm run export:open`) unless `command: false` (a plain archive
 * read as downloaded: the suites that follow G3 only look at its lines).
 */
async function archiveOf(
  who: string,
  conversationId: string,
  opts: { passphrase?: string; command?: boolean } = {},
) {
  const e = await exported(env, who, conversationId, opts.passphrase);
  const got = await download(e.url, who);
  expect(got.status).toBe(200);
  expect(got.bytes.length).toBe(e.bytes);
  expect(await sha256Of(got.path)).toBe(e.sha256);
  if (opts.command === false && !opts.passphrase) return { out: got.path, export: e, file: got.path };
  const out = join(work, `${who}-${Math.random()}.jsonl`);
  const passphrase = opts.passphrase ? ['--passphrase', opts.passphrase] : [];
  const cli = await openCli([got.path, ...passphrase, '--out', out]);
  expect(cli.stderr).toBe('');
  expect(cli.code).toBe(0);
  expect(printed(cli.stdout, 'sha256')).toBe(e.sha256);
  expect(printed(cli.stdout, 'messages')).toBe(String(readArchive(out).messages.length));
  return { out, cli, export: e, file: got.path };
}

describe('G12: the archive holds exactly what the exporter sees', () => {
  it('a member exports the group: the same messages as `messages`, newest first, stars, files, payments', async () => {
    const [o, a, b] = names('exp-view', 'o', 'a', 'b');
    const g = await env.groups.make(o, [a, b]);
    const cid = g.conversation.id;
    const retention = retentionClient(env.api, env.db);
    const m1 = await env.rich.sent(o, cid, { body: 'old, starred by a' });
    const m2 = await env.rich.sent(a, cid, {
      body: 'old with a file, starred by b',
      attachment: { name: 'notes.txt', bytes: b64('hello') },
    });
    await env.rich.sent(b, cid, {
      body: 'old with a payment\nover two lines "quoted" ✓',
      payment: { amountCents: 1250, currency: 'EUR', toUserId: o },
    });
    expect((await retention.star(a, m1.id)).userErrors).toEqual([]);
    expect((await retention.star(b, m2.id)).userErrors).toEqual([]);
    // b keeps one day only (T1); a keeps everything.
    expect((await retention.setPolicy(b, { period: 'DAYS', days: 1 })).userErrors).toEqual([]);
    env.clock.advance(2 * DAY);
    await env.rich.sent(o, cid, { body: 'recent' });
    await env.rich.sent(a, cid, {
      body: 'recent with a file',
      attachment: { name: 'b.bin', bytes: b64('xyz') },
    });

    const ofA = await archiveOf(a, cid);
    const seenByA = await allMessages(a, cid);
    expect(seenByA).toHaveLength(5);
    expect(asApi(ofA.out)).toEqual(seenByA);
    expect(printed(ofA.cli!.stdout, 'messages')).toBe('5');
    const { header, trailer } = readArchive(ofA.out);
    expect(header).toEqual({
      type: 'header',
      format: 'ties.conversation-export',
      version: 1,
      conversationId: cid,
      kind: 'GROUP',
      groupId: g.id,
      exportedFor: a,
      exportedAt: env.clock.now().toISOString(),
      order: 'newest-first',
    });
    expect(trailer).toEqual({ type: 'end', messages: 5 });
    expect(asApi(ofA.out).find((m) => m.id === m1.id)!.starred).toBe(true);
    expect(readArchive(ofA.out).messages.some((m) => m.payment?.amountCents === 1250)).toBe(true);

    // b's period dropped the old messages, except the one b starred (T2).
    const ofB = await archiveOf(b, cid);
    const seenByB = await allMessages(b, cid);
    expect(seenByB.map((m) => m.body)).toEqual([
      'recent with a file',
      'recent',
      'old with a file, starred by b',
    ]);
    expect(asApi(ofB.out)).toEqual(seenByB);
    expect(asApi(ofB.out)[2]).toMatchObject({
      id: m2.id,
      starred: true,
      attachment: { name: 'notes.txt', size: 5 },
    });
  });

  it('a party of a direct conversation exports it; the other party gets their own archive', async () => {
    const [p, q] = names('exp-direct', 'p', 'q');
    const cid = await env.api.befriend(p, q);
    await env.rich.sent(p, cid, { body: 'hi q' });
    await env.rich.sent(q, cid, { body: 'hi p' });
    for (const who of [p, q]) {
      const { out } = await archiveOf(who, cid);
      expect(asApi(out)).toEqual(await allMessages(who, cid));
      expect(readArchive(out).header).toMatchObject({ kind: 'DIRECT', groupId: null, exportedFor: who });
    }
  });

  it('a non-member gets NOT_FOUND, a malformed id or passphrase BAD_USER_INPUT; nothing is written', async () => {
    const [o, a, x] = names('exp-refused', 'o', 'a', 'x');
    await env.api.token(x);
    const g = await env.groups.make(o, [a]);
    await env.rich.sent(o, g.conversation.id, { body: 'secret' });
    const before = { rows: await exportRows(), files: exportFiles() };
    const refused = await exportAs(env, x, g.conversation.id);
    expect(refused.export).toBeNull();
    expect(errorsAt(refused)).toEqual(['NOT_FOUND@input.conversationId']);
    expect(errorsAt(await exportAs(env, x, g.conversation.id, PASSPHRASE))).toEqual([
      'NOT_FOUND@input.conversationId',
    ]);
    // The same answer as for a conversation that does not exist.
    expect(errorsAt(await exportAs(env, a, '00000000-0000-4000-8000-000000000000'))).toEqual([
      'NOT_FOUND@input.conversationId',
    ]);
    expect(errorsAt(await exportAs(env, a, 'not-a-uuid'))).toEqual(['BAD_USER_INPUT@input.conversationId']);
    expect(errorsAt(await exportAs(env, a, g.conversation.id, 'seven77'))).toEqual([
      'BAD_USER_INPUT@input.passphrase',
    ]);
    expect(errorsAt(await exportAs(env, a, g.conversation.id, 'x'.repeat(1025)))).toEqual([
      'BAD_USER_INPUT@input.passphrase',
    ]);
    expect({ rows: await exportRows(), files: exportFiles() }).toEqual(before);
    // A removed member is a non-member.
    expect((await env.groups.remove(o, g.id, a)).userErrors).toEqual([]);
    expect(errorsAt(await exportAs(env, a, g.conversation.id))).toEqual(['NOT_FOUND@input.conversationId']);
  });
});

describe('G12: the encrypted envelope', () => {
  let cid: string;
  let owner: string;
  let file: string;
  beforeAll(async () => {
    const [o, a] = names('exp-crypt', 'o', 'a');
    owner = a;
    const g = await env.groups.make(o, [a]);
    cid = g.conversation.id;
    for (let i = 0; i < 30; i++)
      await env.rich.sent(i % 2 ? o : a, cid, { body: `message ${i} ${'·'.repeat(i)}` });
    const e = await exported(env, a, cid, PASSPHRASE);
    const got = await download(e.url, a, 'archive.tiesx');
    file = got.path;
    expect(got.bytes.subarray(0, MAGIC.length).toString('latin1')).toBe('TIESX1\n');
  });

  it('opens with the right passphrase: the plain archive of the same instant, byte for byte', async () => {
    const plain = await exported(env, owner, cid);
    const out = join(work, 'decrypted.jsonl');
    const cli = await openCli([file, '--passphrase', PASSPHRASE, '--out', out]);
    expect(cli.code).toBe(0);
    expect(printed(cli.stdout, 'messages')).toBe('30');
    expect(printed(cli.stdout, 'plain sha256')).toBe(plain.sha256);
    expect(await sha256Of(out)).toBe(plain.sha256);
    expect(asApi(out)).toEqual(await allMessages(owner, cid));
  });

  it('a wrong passphrase, no passphrase, or a flipped byte of salt, nonce, ciphertext or tag fails: exit 1, no output', async () => {
    const bytes = readFileSync(file);
    const flipped = (at: number, name: string) => {
      const copy = Buffer.from(bytes);
      copy[at] = copy[at]! ^ 0x01;
      const path = join(work, name);
      writeFileSync(path, copy);
      return path;
    };
    const cases: [string, string[]][] = [
      ['wrong passphrase', [file, '--passphrase', 'correct horse battery stapler']],
      ['no passphrase', [file]],
      ['salt', [flipped(MAGIC.length + 3, 'salt.tiesx'), '--passphrase', PASSPHRASE]],
      ['nonce', [flipped(ENVELOPE_HEADER_BYTES - 2, 'nonce.tiesx'), '--passphrase', PASSPHRASE]],
      ['ciphertext', [flipped(ENVELOPE_HEADER_BYTES + 40, 'ciphertext.tiesx'), '--passphrase', PASSPHRASE]],
      ['last ciphertext byte', [flipped(bytes.length - 17, 'last.tiesx'), '--passphrase', PASSPHRASE]],
      ['tag', [flipped(bytes.length - 1, 'tag.tiesx'), '--passphrase', PASSPHRASE]],
      ['magic', [flipped(2, 'magic.tiesx'), '--passphrase', PASSPHRASE]],
    ];
    const outDir = mkdtempSync(join(work, 'out-'));
    const results = await Promise.all(
      cases.map(async ([name, args]) => ({
        name,
        cli: await openCli([...args, '--out', join(outDir, `${name}.jsonl`)]),
      })),
    );
    for (const { name, cli } of results) {
      expect({ name, code: cli.code, stdout: cli.stdout }).toEqual({ name, code: 1, stdout: '' });
      expect(cli.stderr).toMatch(/^export:open: /);
    }
    const byName = Object.fromEntries(results.map((r) => [r.name, r.cli.stderr]));
    for (const n of ['wrong passphrase', 'salt', 'nonce', 'ciphertext', 'last ciphertext byte', 'tag'])
      expect(byName[n]).toMatch(/authentication failed/);
    expect(byName['no passphrase']).toMatch(/encrypted: give --passphrase/);
    // Nothing left behind: no output, no temporary file.
    expect(readdirSync(outDir)).toEqual([]);
  });

  it('a truncated plain archive fails (no trailer)', async () => {
    const { file: plain } = await archiveOf(owner, cid, { command: false });
    const text = readFileSync(plain, 'utf8');
    const cut = join(work, 'cut.jsonl');
    writeFileSync(cut, text.slice(0, text.lastIndexOf('{"type":"end"')));
    const cli = await openCli([cut]);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/truncated: no trailer line/);
  });
});

describe('G12: the link', () => {
  it('serves its owner only (another user 404, no token 401) until expiresAt, then it is gone', async () => {
    const [o, a] = names('exp-link', 'o', 'a');
    const g = await env.groups.make(o, [a]);
    await env.rich.sent(o, g.conversation.id, { body: 'to keep' });
    const made = env.clock.now();
    const e = await exported(env, a, g.conversation.id);
    expect(e.url).toMatch(/^\/exports\/[0-9a-f-]{36}$/);
    expect(e.expiresAt).toBe(new Date(made.getTime() + 15 * 60 * 1000).toISOString());

    const other = await download(e.url, o);
    expect(other.status).toBe(404);
    expect(other.headers.get('content-disposition')).toBeNull();
    const anonymous = await download(e.url, null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
    expect((await download('/exports/00000000-0000-4000-8000-000000000000', a)).status).toBe(404);
    expect((await download('/exports/not-an-id', a)).status).toBe(404);

    env.clock.advance(15 * 60 - 1);
    const owned = await download(e.url, a);
    expect(owned.status).toBe(200);
    expect(owned.headers.get('etag')).toBe(`"${e.sha256}"`);
    expect(owned.headers.get('cache-control')).toBe('private, no-store');
    expect(owned.headers.get('x-content-type-options')).toBe('nosniff');
    expect(owned.headers.get('content-disposition')).toBe(
      `attachment; filename*=UTF-8''ties-export-${g.conversation.id}.jsonl`,
    );
    const id = e.url.split('/').pop()!;
    expect(exportFiles()).toContain(`${id}.jsonl`);

    env.clock.advance(1);
    expect((await download(e.url, a)).status).toBe(404);
    // Gone: the row and the file.
    expect(exportFiles()).not.toContain(`${id}.jsonl`);
    const [left] = await rows<{ n: number }>(
      env.db.handle.db,
      sql`SELECT count(*)::int AS n FROM exports WHERE id = ${id}`,
    );
    expect(left!.n).toBe(0);
  });

  it('an expired link nobody fetched is pruned by the next export', async () => {
    const [o, a] = names('exp-prune', 'o', 'a');
    const g = await env.groups.make(o, [a]);
    const e = await exported(env, a, g.conversation.id);
    const id = e.url.split('/').pop()!;
    expect(exportFiles()).toContain(`${id}.jsonl`);
    env.clock.advance(16 * 60);
    await exported(env, o, g.conversation.id);
    expect(exportFiles()).not.toContain(`${id}.jsonl`);
  });

  it('a member removed after exporting can no longer download it', async () => {
    const [o, a] = names('exp-left', 'o', 'a');
    const g = await env.groups.make(o, [a]);
    const e = await exported(env, a, g.conversation.id);
    expect((await env.groups.remove(o, g.id, a)).userErrors).toEqual([]);
    expect((await download(e.url, a)).status).toBe(404);
  });
});

describe('G12 with G3: archive, then dissolve', () => {
  it('members export during the undo window; after it a kept history leaves out files, then payments', async () => {
    const [o, a, b] = names('exp-dissolve', 'o', 'a', 'b');
    const g = await env.groups.make(o, [a, b]);
    const cid = g.conversation.id;
    await env.rich.sent(o, cid, { body: 'first' });
    await env.rich.sent(a, cid, { body: 'a file', attachment: { name: 'plan.txt', bytes: b64('plan') } });
    await env.rich.sent(b, cid, {
      body: 'paid',
      payment: { amountCents: 700, currency: 'USD', toUserId: a },
    });
    const r = await env.groups.dissolve(o, g.id, false);
    expect(r.userErrors).toEqual([]);

    // Undo window: everything as before, for every member (the owner too).
    for (const who of [o, a, b]) {
      const { out } = await archiveOf(who, cid, who === b ? { passphrase: PASSPHRASE } : { command: false });
      expect(asApi(out)).toEqual(await allMessages(who, cid));
      expect(readArchive(out).messages).toHaveLength(3);
      expect(readArchive(out).messages.filter((m) => m.attachment || m.payment)).toHaveLength(2);
    }
    env.clock.advance(48 * HOUR - 60);
    expect(readArchive((await archiveOf(a, cid, { command: false })).out).messages).toHaveLength(3);

    // Without kept history the history is gone at undoUntil: an empty archive, as `messages` is.
    env.clock.advance(60);
    const { out: after } = await archiveOf(a, cid, { command: false });
    expect(readArchive(after).messages).toEqual([]);
    expect(await allMessages(a, cid)).toEqual([]);

    // A kept history: files leave at undoUntil, payments 72 hours after the dissolution took effect.
    const [o2, c, d] = names('exp-kept', 'o', 'c', 'd');
    const g2 = await env.groups.make(o2, [c, d]);
    const cid2 = g2.conversation.id;
    await env.rich.sent(c, cid2, { body: 'a file', attachment: { name: 'plan.txt', bytes: b64('plan') } });
    await env.rich.sent(d, cid2, {
      body: 'paid',
      payment: { amountCents: 700, currency: 'USD', toUserId: c },
    });
    expect((await env.groups.dissolve(o2, g2.id, true)).userErrors).toEqual([]);
    env.clock.advance(48 * HOUR);
    const kept = readArchive((await archiveOf(c, cid2, { command: false })).out).messages;
    expect(kept.map((m) => [m.body, m.attachment, m.payment?.amountCents ?? null])).toEqual([
      ['paid', null, 700],
      ['a file', null, null],
    ]);
    expect(asApi((await archiveOf(d, cid2, { command: false })).out)).toEqual(await allMessages(d, cid2));
    env.clock.advance(24 * HOUR);
    const later = readArchive((await archiveOf(c, cid2, { command: false })).out).messages;
    expect(later.map((m) => [m.body, m.attachment, m.payment])).toEqual([
      ['paid', null, null],
      ['a file', null, null],
    ]);
    expect(asApi((await archiveOf(c, cid2, { command: false })).out)).toEqual(await allMessages(c, cid2));
  });
});
