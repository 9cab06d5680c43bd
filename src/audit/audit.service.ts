// G11 use cases: appending to a subject's audit chain (inside the caller's transaction), reading a
// chain page by page, verifying chains, and signing a chain's head.
//
// Who may read a chain: operators, any chain; a user, the chain of a group they have a row in
// `group_members` for. A dissolved group keeps its member rows, so the members at dissolution (the
// "former members" of G11) keep reading its chain; someone who left or was removed earlier does not,
// and nobody does once the group row itself is purged (operators still do: the chain has no foreign
// key). Anyone else is answered as for a subject without a chain, so a chain's existence never leaks.
import { PgTransaction } from 'drizzle-orm/pg-core';
import type { Viewer } from '../auth.js';
import type { Database, Db } from '../db/client.js';
import type { Deps } from '../shared/deps.js';
import { isUserId, isUuid, malformedId } from '../shared/ids.js';
import { ok, type Result, refuse } from '../shared/result.js';
import {
  type ChainBreak,
  ChainVerifier,
  GENESIS_HASH,
  linkEntry,
  type NewAuditEntry,
  newEntryProblem,
} from './audit.chain.js';
import {
  type ChainScope,
  chainExists,
  chainSubjects,
  findHead,
  insertEntry,
  isGroupMember,
  listEntries,
  lockHead,
} from './audit.store.js';
import type { AuditEntryRow } from './audit.tables.js';

/** Entries read per statement while verifying: memory stays bounded whatever a chain's length. */
const VERIFY_PAGE = 500;
/** Chains listed per statement while verifying every chain the viewer may see. */
const SUBJECT_PAGE = 100;

/** The `typ` claim of a signed audit head. */
export const AUDIT_HEAD_TYP = 'ties-audit-head';

/**
 * G11: appends one step to the subject's chain, in the caller's transaction `tx` (so the entry
 * exists iff the step it records commits). Locks the chain's head until that transaction ends,
 * takes the next seq and links to the head's hash. Returns the stored entry. Throws a TypeError
 * (a fault, not a refusal) outside a transaction, for a subject id that is not a UUID, an actor id
 * that is not a user id, or a kind, instant or `data` that `newEntryProblem` refuses; throws when
 * the subject already has a chain of another subject kind.
 */
export async function appendAudit(tx: Db, entry: NewAuditEntry): Promise<AuditEntryRow> {
  if (!(tx instanceof PgTransaction)) throw new TypeError('appendAudit runs inside a transaction.');
  if (!isUuid(entry.subjectId)) throw new TypeError('appendAudit: subjectId is not a UUID.');
  if (entry.actorId !== null && !isUserId(entry.actorId))
    throw new TypeError('appendAudit: actorId is not a user id.');
  const problem = newEntryProblem(entry);
  if (problem) throw new TypeError(`appendAudit: ${problem}.`);
  const head = await lockHead(tx, entry.subjectId, entry.subjectKind);
  if (head.subjectKind !== entry.subjectKind) {
    throw new Error(
      `appendAudit: ${entry.subjectId} has a ${head.subjectKind} chain, not ${entry.subjectKind}.`,
    );
  }
  return insertEntry(tx, linkEntry(head, entry));
}

/** Whether the viewer may read the subject's chain (see the top of this file). */
async function mayRead(db: Db, viewer: Viewer, subjectId: string): Promise<boolean> {
  return viewer.operator || isGroupMember(db, subjectId, viewer.userId);
}

const noChain = () => refuse('NOT_FOUND', 'No such audit chain.');

/**
 * Up to `limit` entries of the subject's chain after seq `afterSeq`, oldest first. Refuses a
 * malformed id (BAD_USER_INPUT), and answers NOT_FOUND alike for a subject without a chain and
 * for one the viewer may not read.
 */
export async function auditTrail(
  db: Db,
  viewer: Viewer,
  subjectId: string,
  afterSeq: number,
  limit: number,
): Promise<Result<AuditEntryRow[]>> {
  const malformed = malformedId('uuid', subjectId, ['subjectId']);
  if (malformed) return malformed;
  if (!(await mayRead(db, viewer, subjectId)) || !(await chainExists(db, subjectId))) return noChain();
  return ok(await listEntries(db, subjectId, afterSeq, limit));
}

/** A chain's head as the server signs it. */
export interface SignedAuditHead {
  subjectId: string;
  length: number;
  headHash: string;
  /** ES256 compact JWS with the proof key: `sub`, `typ`, `subjectKind`, `length`, `headHash`, `iss`, `iat`. */
  jws: string;
}

/**
 * The subject's head (length and last hash), signed with the proof key at the clock's now, so a
 * verifier who keeps it can later prove a rewrite or a truncation (README "Verifying an audit
 * trail offline"). Refuses as `auditTrail` does (BAD_USER_INPUT, NOT_FOUND).
 */
export async function signedAuditHead(
  deps: Deps,
  viewer: Viewer,
  subjectId: string,
): Promise<Result<SignedAuditHead>> {
  const malformed = malformedId('uuid', subjectId, ['subjectId']);
  if (malformed) return malformed;
  const head = (await mayRead(deps.db, viewer, subjectId)) ? await findHead(deps.db, subjectId) : undefined;
  if (!head) return noChain();
  const claims = {
    sub: head.subjectId,
    typ: AUDIT_HEAD_TYP,
    subjectKind: head.subjectKind,
    length: head.length,
    headHash: head.hash,
  };
  const jws = await deps.proof.sign(claims, deps.clock.now());
  return ok({ subjectId: head.subjectId, length: head.length, headHash: head.hash, jws });
}

/** What `verifyAuditChain` answers. */
export interface AuditVerification {
  /** No break found. */
  ok: boolean;
  /** Chains checked (up to and including the first broken one). */
  chains: number;
  /** Entries checked in those chains. */
  entries: number;
  firstBroken: ChainBreak | null;
}

/**
 * Checks one stored chain against its head, in a read-only REPEATABLE READ transaction: one
 * snapshot for the head and every page, so an append running meanwhile is not mistaken for a
 * break. A missing head counts as an empty one (its entries are then past the head).
 */
async function verifyStored(db: Database, subjectId: string): Promise<ChainVerifier> {
  return db.transaction(
    async (tx) => {
      const head = await findHead(tx, subjectId);
      const verifier = new ChainVerifier(subjectId);
      for (let after = 0; ; ) {
        const page = await listEntries(tx, subjectId, after, VERIFY_PAGE);
        for (const e of page) if (verifier.next(e)) return verifier;
        if (page.length < VERIFY_PAGE) break;
        after = page.at(-1)!.seq;
      }
      verifier.finish(head ?? { subjectId, length: 0, hash: GENESIS_HASH });
      return verifier;
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  );
}

/**
 * G11: verifies the subject's chain, or with no subject every chain the viewer may read (an
 * operator: all; a user: those of the groups they are a member of), in subject id order, stopping
 * at the first break. A subject without a chain, or one the viewer may not read, verifies as
 * nothing (`ok`, 0 chains). Refuses a malformed id (BAD_USER_INPUT).
 */
export async function verifyAuditChains(
  db: Database,
  viewer: Viewer,
  subjectId: string | null | undefined,
): Promise<Result<AuditVerification>> {
  const result: AuditVerification = { ok: true, chains: 0, entries: 0, firstBroken: null };
  const check = async (id: string): Promise<boolean> => {
    const v = await verifyStored(db, id);
    result.chains++;
    result.entries += v.entries;
    result.firstBroken = v.firstBreak;
    result.ok = v.firstBreak === null;
    return result.ok;
  };
  if (subjectId !== null && subjectId !== undefined) {
    const malformed = malformedId('uuid', subjectId, ['subjectId']);
    if (malformed) return malformed;
    if ((await mayRead(db, viewer, subjectId)) && (await chainExists(db, subjectId))) await check(subjectId);
    return ok(result);
  }
  const scope: ChainScope = viewer.operator ? { all: true } : { all: false, memberId: viewer.userId };
  for (let after: string | null = null; ; ) {
    const subjects = await chainSubjects(db, scope, after, SUBJECT_PAGE);
    for (const id of subjects) if (!(await check(id))) return ok(result);
    if (subjects.length < SUBJECT_PAGE) return ok(result);
    after = subjects.at(-1)!;
  }
}
