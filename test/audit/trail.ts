// The audit tests' helpers: appending dissolution steps to a group's chain (as the dissolution
// service does, each in its own transaction) and the three G11 queries over HTTP.
import { appendAudit } from '../../src/audit/audit.service.js';
import type { AuditEntryRow } from '../../src/audit/audit.tables.js';
import type { TestEnv } from '../support/fixture.js';
import type { GraphQLResponse } from '../support/server.js';

/** The G11 dissolution steps, in the order a dissolution may take them. */
export const STEPS = [
  'DISSOLUTION_REQUESTED',
  'DISSOLUTION_SCHEDULED',
  'DISSOLUTION_CANCELLED',
  'DISSOLUTION_RESTORED',
  'DISSOLUTION_EFFECTIVE',
  'DISSOLUTION_FINALIZED',
] as const;

/** Appends `n` steps to the group's chain, one transaction each, a second apart on the test clock. */
export async function appendSteps(
  env: TestEnv,
  groupId: string,
  actorId: string | null,
  n: number,
): Promise<AuditEntryRow[]> {
  const out: AuditEntryRow[] = [];
  for (let i = 0; i < n; i++) {
    env.clock.advance(1);
    const entry = await env.db.handle.db.transaction((tx) =>
      appendAudit(tx, {
        subjectId: groupId,
        subjectKind: 'GROUP',
        kind: STEPS[i % STEPS.length]!,
        actorId: i % 2 === 0 ? actorId : null,
        data: {
          step: i + 1,
          keepHistory: i % 3 === 0,
          note: `étape ${i + 1} ✓`,
          counts: { cards: i, phones: 0 },
        },
        at: env.clock.now(),
      }),
    );
    out.push(entry);
  }
  return out;
}

/** An entry as `auditTrail` serves it. */
export interface ServedEntry {
  subjectId: string;
  subjectKind: string;
  seq: number;
  kind: string;
  actorId: string | null;
  data: string;
  at: string;
  prevHash: string;
  hash: string;
}
export interface Verification {
  ok: boolean;
  chains: number;
  entries: number;
  firstBroken: { subjectId: string; seq: number; reason: string } | null;
}
export interface SignedHead {
  subjectId: string;
  length: number;
  headHash: string;
  jws: string;
}

const ENTRY = 'subjectId subjectKind seq kind actorId data at prevHash hash';

/** Who asks: a user id, or `{ operator }` for compliance staff. */
export type Asker = string | { operator: string };

/** The three G11 queries as `who`, raw (errors included). */
export function auditClient(env: TestEnv) {
  const ask = async <T>(who: Asker, query: string, variables: Record<string, unknown>) => {
    const token =
      typeof who === 'string'
        ? await env.api.token(who)
        : await env.api.token(who.operator, { operator: true });
    return env.server.http<T>(query, variables, token);
  };
  const client = {
    trailPage: (who: Asker, subjectId: string, first?: number, after?: string | null) =>
      ask<{
        auditTrail: {
          edges: { cursor: string; node: ServedEntry }[];
          pageInfo: { hasNextPage: boolean; endCursor: string | null };
        };
      }>(
        who,
        `query($id: ID!, $first: Int, $after: String) { auditTrail(subjectId: $id, first: $first, after: $after) {
          edges { cursor node { ${ENTRY} } } pageInfo { hasNextPage endCursor } } }`,
        { id: subjectId, first, after },
      ),
    /** Every entry of the chain, page by page (`first` each); throws on an error. */
    async trail(who: Asker, subjectId: string, first = 100): Promise<ServedEntry[]> {
      const all: ServedEntry[] = [];
      for (let after: string | null = null; ; ) {
        const r = await client.trailPage(who, subjectId, first, after);
        if (r.errors) throw new Error(`auditTrail: ${JSON.stringify(r.errors)}`);
        all.push(...r.data!.auditTrail.edges.map((e) => e.node));
        if (!r.data!.auditTrail.pageInfo.hasNextPage) return all;
        after = r.data!.auditTrail.pageInfo.endCursor;
      }
    },
    verifyRaw: (who: Asker, subjectId?: string | null) =>
      ask<{ verifyAuditChain: Verification }>(
        who,
        `query($id: ID) { verifyAuditChain(subjectId: $id) { ok chains entries firstBroken { subjectId seq reason } } }`,
        { id: subjectId },
      ),
    async verify(who: Asker, subjectId?: string | null): Promise<Verification> {
      const r = await client.verifyRaw(who, subjectId);
      if (r.errors) throw new Error(`verifyAuditChain: ${JSON.stringify(r.errors)}`);
      return r.data!.verifyAuditChain;
    },
    headRaw: (who: Asker, subjectId: string) =>
      ask<{ auditHead: SignedHead }>(
        who,
        'query($id: ID!) { auditHead(subjectId: $id) { subjectId length headHash jws } }',
        { id: subjectId },
      ),
    async head(who: Asker, subjectId: string): Promise<SignedHead> {
      const r = await client.headRaw(who, subjectId);
      if (r.errors) throw new Error(`auditHead: ${JSON.stringify(r.errors)}`);
      return r.data!.auditHead;
    },
    async proofKey(): Promise<Record<string, string>> {
      const r = await ask<{ deletionProofKey: Record<string, string> }>(
        { operator: 'audit-key-reader' },
        '{ deletionProofKey { kty crv x y kid alg use } }',
        {},
      );
      return r.data!.deletionProofKey;
    },
  };
  return client;
}

/** A top-level error's code (undefined when there is none). */
export const errorCode = (r: GraphQLResponse<unknown>): string | undefined => r.errors?.[0]?.extensions?.code;

/** A break as `CODE@seq`, for short assertions ("ok" when none). */
export const breakAt = (v: Verification): string =>
  v.firstBroken ? `${v.firstBroken.reason.split(':')[0]}@${v.firstBroken.seq}` : 'ok';
