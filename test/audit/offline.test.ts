// G11 offline: examples/verify-audit.mjs (the README's script, node:crypto and jose only) checks a
// real trail, a saved signed head and the proof key fetched over the API — and names the entry
// where a tampered copy, a truncated trail or a rewritten one breaks.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditData, canonicalJson, linkEntry } from '../../src/audit/audit.chain.js';
import { names } from '../support/client.js';
import { openTestEnv, type TestEnv } from '../support/fixture.js';
import { ROOT } from '../support/process.js';
import { appendSteps, auditClient, type ServedEntry, type SignedHead } from './trail.js';

let env: TestEnv;
let audit: ReturnType<typeof auditClient>;
let dir: string;
beforeAll(async () => {
  env = await openTestEnv();
  audit = auditClient(env);
  dir = mkdtempSync(join(tmpdir(), 'ties-audit-'));
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await env?.close();
});

/** Runs the script on these three JSON documents: its exit code and what it printed. */
async function verifyOffline(
  trail: unknown,
  head: SignedHead,
  key: unknown,
): Promise<{ code: number; out: string }> {
  const files = ['trail.json', 'head.json', 'key.json'].map((f) => join(dir, f));
  [trail, head, key].forEach((doc, i) => {
    writeFileSync(files[i]!, JSON.stringify(doc));
  });
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['examples/verify-audit.mjs', ...files],
      { cwd: ROOT },
      (err, stdout, stderr) => {
        resolve({ code: err ? Number(err.code ?? 1) : 0, out: `${stdout}${stderr}`.trim() });
      },
    );
  });
}

describe('G11 verifying a trail offline against a saved signed head', () => {
  let groupId: string;
  let member: string;
  let trail: ServedEntry[];
  let saved: SignedHead;
  let key: Record<string, string>;

  beforeAll(async () => {
    const [o, a] = names('offline', 'o', 'a');
    member = a;
    groupId = (await env.groups.make(o, [a])).id;
    await appendSteps(env, groupId, o, 4);
    trail = await audit.trail(member, groupId, 3);
    saved = await audit.head(member, groupId);
    key = await audit.proofKey();
  });

  it('passes on the real trail, head and key, given as entries or as the connection', async () => {
    const r = await verifyOffline(trail, saved, key);
    expect(r).toMatchObject({ code: 0 });
    expect(r.out).toMatch(new RegExp(`^OK: 4 entries of ${groupId}`));
    const page = (await audit.trailPage(member, groupId, 100)).data!.auditTrail;
    expect((await verifyOffline(page, saved, key)).code).toBe(0);
  });

  it('fails on a tampered copy, naming the entry', async () => {
    const copy = trail.map((e) =>
      e.seq === 2
        ? { ...e, data: canonicalJson({ ...(JSON.parse(e.data) as AuditData), keepHistory: true }) }
        : e,
    );
    expect(await verifyOffline(copy, saved, key)).toEqual({
      code: 1,
      out: 'BROKEN at seq 2: HASH_MISMATCH: entry 2 is not what was hashed',
    });
    const reordered = [trail[0]!, trail[2]!, trail[1]!, trail[3]!];
    expect((await verifyOffline(reordered, saved, key)).out).toMatch(/^BROKEN at seq 2: MISSING_ENTRY/);
  });

  it('fails on a trail shorter than the saved head, and on one rewritten up to it', async () => {
    expect(await verifyOffline(trail.slice(0, 2), saved, key)).toMatchObject({
      code: 1,
      out: expect.stringMatching(/^BROKEN at seq 3: TRUNCATED/),
    });
    // A forger's copy: entry 4 rewritten with its hash recomputed, so every link holds.
    const last = trail[3]!;
    const forged = linkEntry(
      { length: 3, hash: last.prevHash },
      { ...last, subjectKind: 'GROUP', data: { forged: true }, at: new Date(last.at) },
    );
    const rewritten = [
      ...trail.slice(0, 3),
      { ...last, data: canonicalJson(forged.data), hash: forged.hash },
    ];
    expect(await verifyOffline(rewritten, saved, key)).toMatchObject({
      code: 1,
      out: expect.stringMatching(/^BROKEN at seq 4: HEAD_MISMATCH/),
    });
  });

  it('fails on a head whose signature does not verify', async () => {
    const [h, p, s] = saved.jws.split('.');
    const flipped = `${h}.${p}.${s!.startsWith('A') ? 'B' : 'A'}${s!.slice(1)}`;
    expect((await verifyOffline(trail, { ...saved, jws: flipped }, key)).out).toMatch(/SIGNATURE/);
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
    const inflated = Buffer.from(JSON.stringify({ ...claims, length: 2 })).toString('base64url');
    expect(
      (await verifyOffline(trail, { ...saved, length: 2, jws: `${h}.${inflated}.${s}` }, key)).code,
    ).toBe(1);
  });

  it('a chain that grew still holds its saved head; truncated on the server with its head rewound, only the saved head shows it', async () => {
    await appendSteps(env, groupId, null, 2);
    const grown = await audit.trail(member, groupId);
    expect(grown.length).toBe(6);
    expect((await verifyOffline(grown, saved, key)).code).toBe(0);

    await env.db.handle.db.execute(sql`DELETE FROM audit_entries WHERE subject_id = ${groupId} AND seq > 3`);
    await env.db.handle.db.execute(sql`UPDATE audit_heads SET length = 3,
      hash = (SELECT hash FROM audit_entries WHERE subject_id = ${groupId} AND seq = 3) WHERE subject_id = ${groupId}`);
    expect(await audit.verify(member, groupId)).toMatchObject({ ok: true, entries: 3 });

    const now = await audit.trail(member, groupId);
    expect(await verifyOffline(now, saved, key)).toEqual({
      code: 1,
      out: 'BROKEN at seq 4: TRUNCATED: the signed head counts 4 entries, the trail has 3',
    });
  });
});

describe('G11 the README walk-through: a real dissolution, verified offline', () => {
  it('dissolve → undo → dissolve → finalize leaves a trail that checks out against a head saved midway', async () => {
    const [o, a] = names('evidence', 'o', 'a');
    const g = await env.groups.make(o, [a]);
    expect((await env.groups.dissolve(o, g.id, false)).userErrors).toEqual([]);
    expect((await env.groups.restore(o, g.id)).userErrors).toEqual([]);
    const saved = await audit.head(a, g.id); // a member keeps this head
    expect((await env.groups.dissolve(o, g.id, true)).userErrors).toEqual([]);
    env.clock.advance(72 * 3600);
    await env.api.sweep();
    const trail = await audit.trail(a, g.id);
    expect(trail.map((e) => e.kind)).toEqual([
      'DISSOLUTION_REQUESTED',
      'DISSOLUTION_EFFECTIVE',
      'GROUP_RESTORED',
      'DISSOLUTION_REQUESTED',
      'DISSOLUTION_EFFECTIVE',
      'DISSOLUTION_FINALIZED',
      'PAYMENTS_LEFT_GROUP',
    ]);
    expect(trail.map((e) => e.actorId)).toEqual([o, o, o, o, o, null, null]);
    expect(await audit.verify(a, g.id)).toMatchObject({ ok: true, entries: 7 });
    const key = await audit.proofKey();
    const r = await verifyOffline(trail, saved, key);
    expect(r).toMatchObject({ code: 0 });
    expect(r.out).toMatch(new RegExp(`^OK: 7 entries of ${g.id}; .* \\(3 entries\\) is part of it$`));
    // Rewriting the undone step (say, to hide the restore) is caught by the head saved then.
    const forged = trail.map((e) => (e.seq === 3 ? { ...e, kind: 'DISSOLUTION_CANCELLED' } : e));
    expect((await verifyOffline(forged, saved, key)).out).toMatch(/^BROKEN at seq 3: HASH_MISMATCH/);
  });

  it('the README shows exactly examples/verify-audit.mjs', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const script = readFileSync(join(ROOT, 'examples/verify-audit.mjs'), 'utf8');
    expect(readme).toContain(`\`\`\`js\n${script}\`\`\``);
  });
});
