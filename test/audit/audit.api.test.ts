// G11 over the API: reading a group's audit chain page by page with what it takes to recompute
// every hash, verifying it, its signed head, and who may see any of it.
import { sql } from 'drizzle-orm';
import { importJWK, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditData, GENESIS_HASH, hashEntry } from '../../src/audit/audit.chain.js';
import { rows } from '../../src/db/client.js';
import { names } from '../support/client.js';
import { openTestEnv, type TestEnv } from '../support/fixture.js';
import { appendSteps, auditClient, errorCode, type ServedEntry } from './trail.js';

let env: TestEnv;
let audit: ReturnType<typeof auditClient>;
beforeAll(async () => {
  env = await openTestEnv();
  audit = auditClient(env);
});
afterAll(() => env?.close());

const OPERATOR = { operator: 'audit-api-staff' };
const NO_SUCH_SUBJECT = '6f1c1a52-7e2b-4c55-9d4e-0b8f3a2d9c71';
const EMPTY = { ok: true, chains: 0, entries: 0, firstBroken: null };

/** The entry's hash recomputed from what the API served, as an outside verifier would. */
const recomputed = (e: ServedEntry) =>
  hashEntry({
    ...e,
    subjectKind: e.subjectKind as 'GROUP',
    data: JSON.parse(e.data) as AuditData,
    at: new Date(e.at),
  });

describe('G11 auditTrail: a member reads the chain with the data to verify it', () => {
  it('serves every entry oldest first, page by page, each hash recomputable and linked to the one before', async () => {
    const [o, a] = names('trail', 'o', 'a');
    const g = await env.groups.make(o, [a]);
    const appended = await appendSteps(env, g.id, o, 5);

    const first = await audit.trailPage(a, g.id, 2);
    expect(first.data!.auditTrail.edges.map((e) => e.node.seq)).toEqual([1, 2]);
    expect(first.data!.auditTrail.pageInfo.hasNextPage).toBe(true);
    const second = await audit.trailPage(a, g.id, 2, first.data!.auditTrail.pageInfo.endCursor);
    expect(second.data!.auditTrail.edges.map((e) => e.node.seq)).toEqual([3, 4]);

    const trail = await audit.trail(a, g.id, 2);
    expect(trail.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(trail[0]).toEqual({
      subjectId: g.id,
      subjectKind: 'GROUP',
      seq: 1,
      kind: 'DISSOLUTION_REQUESTED',
      actorId: o,
      data: '{"counts":{"cards":0,"phones":0},"keepHistory":true,"note":"étape 1 ✓","step":1}',
      at: appended[0]!.at.toISOString(),
      prevHash: GENESIS_HASH,
      hash: appended[0]!.hash,
    });
    expect(trail[1]!.actorId).toBeNull();
    for (const [i, e] of trail.entries()) {
      expect(recomputed(e)).toBe(e.hash);
      expect(e.prevHash).toBe(i === 0 ? GENESIS_HASH : trail[i - 1]!.hash);
    }
    expect(await audit.trail(o, g.id)).toEqual(trail);
  });

  it('refuses a page size over 100, a malformed cursor and a malformed id with BAD_USER_INPUT', async () => {
    const [o] = names('trail-bad', 'o');
    const g = await env.groups.make(o, []);
    await appendSteps(env, g.id, o, 1);
    expect(errorCode(await audit.trailPage(o, g.id, 101))).toBe('BAD_USER_INPUT');
    expect(errorCode(await audit.trailPage(o, g.id, 10, 'not-a-cursor'))).toBe('BAD_USER_INPUT');
    expect(errorCode(await audit.trailPage(o, 'not-a-uuid'))).toBe('BAD_USER_INPUT');
    expect(errorCode(await audit.headRaw(o, 'not-a-uuid'))).toBe('BAD_USER_INPUT');
    expect(errorCode(await audit.verifyRaw(o, 'not-a-uuid'))).toBe('BAD_USER_INPUT');
    expect((await audit.trailPage(o, g.id, 0)).data!.auditTrail).toEqual({
      edges: [],
      pageInfo: { hasNextPage: true, endCursor: null },
    });
  });

  it('asks for a token', async () => {
    const r = await env.server.http(`{ verifyAuditChain { ok } }`);
    expect(errorCode(r)).toBe('UNAUTHENTICATED');
  });
});

describe('G11 verifyAuditChain', () => {
  it("verifies a chain, and with no id every chain of the viewer's groups", async () => {
    const [o, a, x] = names('verify', 'o', 'a', 'x');
    const g1 = await env.groups.make(o, [a]);
    const g2 = await env.groups.make(a, []);
    const g3 = await env.groups.make(x, []); // a is not a member
    const empty = await env.groups.make(a, [o]); // no chain
    await appendSteps(env, g1.id, o, 3);
    await appendSteps(env, g2.id, a, 4);
    await appendSteps(env, g3.id, x, 2);

    expect(await audit.verify(a, g1.id)).toEqual({ ok: true, chains: 1, entries: 3, firstBroken: null });
    expect(await audit.verify(a)).toEqual({ ok: true, chains: 2, entries: 7, firstBroken: null });
    expect(await audit.verify(o)).toEqual({ ok: true, chains: 1, entries: 3, firstBroken: null });
    expect(await audit.verify(a, empty.id)).toEqual(EMPTY);
  });
});

describe('G11 auditHead: the head signed with the proof key', () => {
  it('signs length and last hash; a head saved earlier stays part of the longer chain', async () => {
    const [o] = names('head', 'o');
    const g = await env.groups.make(o, []);
    const appended = await appendSteps(env, g.id, o, 3);
    const saved = await audit.head(o, g.id);
    expect(saved).toMatchObject({ subjectId: g.id, length: 3, headHash: appended[2]!.hash });

    const key = await importJWK(await audit.proofKey(), 'ES256');
    const { payload, protectedHeader } = await jwtVerify(saved.jws, key, { issuer: 'ties' });
    expect(protectedHeader).toMatchObject({ alg: 'ES256' });
    expect(payload).toMatchObject({
      sub: g.id,
      typ: 'ties-audit-head',
      subjectKind: 'GROUP',
      length: 3,
      headHash: appended[2]!.hash,
      iat: Math.floor(env.clock.now().getTime() / 1000),
    });

    await appendSteps(env, g.id, null, 2);
    const now = await audit.head(o, g.id);
    expect(now).toMatchObject({ length: 5 });
    const trail = await audit.trail(o, g.id);
    expect(trail[saved.length - 1]!.hash).toBe(saved.headHash);
    expect(trail.at(-1)!.hash).toBe(now.headHash);
  });
});

describe('G11 who may see a chain: operators, and the members of the group', () => {
  it('a non-member, a member who left and a stranger get the answers of a subject without a chain', async () => {
    const [o, a, leaver, stranger] = names('who', 'o', 'a', 'leaver', 'stranger');
    const g = await env.groups.make(o, [a, leaver]);
    await appendSteps(env, g.id, o, 2);
    expect((await env.groups.leave(leaver, g.id)).userErrors).toEqual([]);

    for (const who of [stranger, leaver]) {
      for (const subject of [g.id, NO_SUCH_SUBJECT]) {
        expect(errorCode(await audit.trailPage(who, subject))).toBe('NOT_FOUND');
        expect(errorCode(await audit.headRaw(who, subject))).toBe('NOT_FOUND');
        expect(await audit.verify(who, subject)).toEqual(EMPTY);
      }
      expect(await audit.verify(who)).toEqual(EMPTY);
    }
    // The same words whether the chain exists or not.
    const hidden = await audit.trailPage(stranger, g.id);
    const absent = await audit.trailPage(stranger, NO_SUCH_SUBJECT);
    expect(hidden.errors![0]!.message).toBe(absent.errors![0]!.message);
    // A member of a group without a chain: nothing either.
    const bare = await env.groups.make(a, []);
    expect(errorCode(await audit.trailPage(a, bare.id))).toBe('NOT_FOUND');
    expect(errorCode(await audit.headRaw(a, bare.id))).toBe('NOT_FOUND');
    // The members now still read it.
    expect((await audit.trail(a, g.id)).length).toBe(2);
  });

  it('an operator reads, signs and verifies any chain, and with no id every chain', async () => {
    const [o] = names('op', 'o');
    const g = await env.groups.make(o, []);
    await appendSteps(env, g.id, o, 3);
    expect((await audit.trail(OPERATOR, g.id)).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(await audit.head(OPERATOR, g.id)).toMatchObject({ subjectId: g.id, length: 3 });
    expect(await audit.verify(OPERATOR, g.id)).toEqual({
      ok: true,
      chains: 1,
      entries: 3,
      firstBroken: null,
    });
    expect(errorCode(await audit.trailPage(OPERATOR, NO_SUCH_SUBJECT))).toBe('NOT_FOUND');

    const [all] = await rows<{ chains: number; entries: number }>(
      env.db.handle.db,
      sql`SELECT count(*)::int AS chains, coalesce(sum(length), 0)::int AS entries FROM audit_heads`,
    );
    expect(all!.chains).toBeGreaterThanOrEqual(5);
    expect(await audit.verify(OPERATOR)).toEqual({ ok: true, ...all, firstBroken: null });
  });
});
