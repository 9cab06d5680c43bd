// G11: how an audit entry is encoded and hashed, and how a chain is verified. Pure: plain data in,
// plain data out (the only import with a side is node:crypto's SHA-256, which touches nothing).
//
// An entry's hash is `sha256hex(utf8(canonical(E)))` where E is the object
//   { subjectId, subjectKind, seq, kind, actorId, data, at, prevHash }
// (`at` as `Date.toISOString()`, `actorId` null for the system), and canonical() is RFC 8785 (JSON
// Canonicalization Scheme). `prevHash` is the previous entry's hash, 64 zeros for seq 1. A verifier
// in any language recomputes every hash and link from the entries alone; examples/verify-audit.mjs
// does it in a few lines of plain JavaScript.
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

/** What a chain is about: one chain per subject. */
export const SUBJECT_KINDS = ['GROUP', 'LEGAL_HOLD', 'SWEEP'] as const;
export type SubjectKind = (typeof SUBJECT_KINDS)[number];

/**
 * A JSON value an entry's `data` may hold. Deliberately the values on which RFC 8785 and a plain
 * sorted-keys `JSON.stringify` agree, and that Postgres `jsonb` gives back unchanged: strings
 * (well-formed UTF-16, no U+0000), safe integers, booleans, null, arrays and plain objects.
 * No fractions (RFC 8785's number format is easy to get wrong elsewhere), no big integers (jsonb
 * would hand them back rounded), no dates (write them as ISO strings).
 */
export type AuditValue = string | number | boolean | null | AuditValue[] | { [key: string]: AuditValue };
/** An entry's `data`: an object of `AuditValue`s. */
export type AuditData = { [key: string]: AuditValue };

/** The `prevHash` of seq 1 (and the hash of an empty chain's head): 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

/** Deepest nesting `data` may have (levels of arrays and objects). */
export const MAX_DATA_DEPTH = 16;

/** What the caller of `appendAudit` says happened. */
export interface NewAuditEntry {
  subjectId: string;
  subjectKind: SubjectKind;
  /** Upper snake case: DISSOLUTION_REQUESTED, DISSOLUTION_SCHEDULED, … */
  kind: string;
  /** The user who acted; null for the system (the sweeper). */
  actorId: string | null;
  data: AuditData;
  at: Date;
}

/** An entry as stored and served. */
export interface ChainEntry extends NewAuditEntry {
  /** 1, 2, 3… within the chain. */
  seq: number;
  /** The hash of entry seq − 1 (`GENESIS_HASH` for seq 1). */
  prevHash: string;
  /** `hashEntry` of the other fields. */
  hash: string;
}

/** Where a chain ends: its length (the last seq) and the last entry's hash. */
export interface ChainHead {
  subjectId: string;
  length: number;
  hash: string;
}

/** An entry kind: upper snake case, 1 to 64 characters. */
const KIND = /^[A-Z][A-Z0-9_]{0,63}$/;
// A lone surrogate: RFC 8785 refuses it, and JSON.stringify would escape it where jsonb refuses it.
const LONE_SURROGATE = /\p{Surrogate}/u;

function stringProblem(s: string, where: string): string | null {
  if (s.includes('\u0000')) return `${where}: U+0000 cannot be stored`;
  if (LONE_SURROGATE.test(s)) return `${where}: a lone surrogate is not JSON text`;
  return null;
}

function valueProblem(v: unknown, where: string, depth: number): string | null {
  if (v === null || typeof v === 'boolean') return null;
  if (typeof v === 'string') return stringProblem(v, where);
  if (typeof v === 'number') return Number.isSafeInteger(v) ? null : `${where}: not a safe integer`;
  if (typeof v !== 'object') return `${where}: a ${typeof v} is not JSON`;
  if (depth >= MAX_DATA_DEPTH) return `${where}: nested deeper than ${MAX_DATA_DEPTH}`;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      if (!(i in v)) return `${where}[${i}]: a hole is not JSON`;
      const p = valueProblem(v[i], `${where}[${i}]`, depth + 1);
      if (p) return p;
    }
    return null;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return `${where}: not a plain object`;
  for (const [k, x] of Object.entries(v)) {
    const p = stringProblem(k, `${where} key`) ?? valueProblem(x, `${where}.${k}`, depth + 1);
    if (p) return p;
  }
  return null;
}

/** Why `data` cannot go into an entry (the first offending value, as a path), or null when it can. */
export function auditDataProblem(data: unknown): string | null {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return 'data: not an object';
  return valueProblem(data, 'data', 0);
}

/** Why `e` cannot be appended (subject kind, kind, instant or data), or null when it can. */
export function newEntryProblem(e: NewAuditEntry): string | null {
  if (!SUBJECT_KINDS.includes(e.subjectKind)) return `subjectKind: one of ${SUBJECT_KINDS.join(', ')}`;
  if (!KIND.test(e.kind)) return 'kind: upper snake case, 1 to 64 characters';
  if (!(e.at instanceof Date) || Number.isNaN(e.at.getTime())) return 'at: not a date';
  return auditDataProblem(e.data);
}

/** RFC 8785 canonical JSON of an allowed value (`AuditValue`): what `AuditEntry.data` serves. */
export function canonicalJson(value: AuditValue): string {
  return canonicalize(value)!;
}

/** The canonical JSON text an entry's hash is taken over (every field but `hash`). */
export function encodeEntry(e: Omit<ChainEntry, 'hash'>): string {
  return canonicalJson({
    subjectId: e.subjectId,
    subjectKind: e.subjectKind,
    seq: e.seq,
    kind: e.kind,
    actorId: e.actorId,
    data: e.data,
    at: e.at.toISOString(),
    prevHash: e.prevHash,
  });
}

/** The entry's hash: SHA-256 of its canonical JSON (UTF-8), in lowercase hex. */
export function hashEntry(e: Omit<ChainEntry, 'hash'>): string {
  return createHash('sha256').update(encodeEntry(e), 'utf8').digest('hex');
}

/** The entry that follows `head`: seq length + 1, linked to the head's hash, hashed. */
export function linkEntry(head: { length: number; hash: string }, e: NewAuditEntry): ChainEntry {
  const unhashed = { ...e, seq: head.length + 1, prevHash: head.hash };
  return { ...unhashed, hash: hashEntry(unhashed) };
}

/**
 * Why a chain is broken; `AuditBreak.reason` is `CODE: explanation`.
 * - SUBJECT_MISMATCH: the entry belongs to another chain.
 * - MISSING_ENTRY: no entry with the expected seq (deleted, or its seq changed).
 * - SEQ_OUT_OF_ORDER: an entry's seq repeats or goes back.
 * - PREV_HASH_MISMATCH: the entry does not link to the previous entry's hash.
 * - HASH_MISMATCH: the entry's hash is not the hash of its fields (a field was edited).
 * - TRUNCATED: the head (or a saved signed head) counts more entries than the chain has.
 * - HEAD_MISMATCH: entries past the head, or the head's hash is not the last entry's.
 */
export type BreakCode =
  | 'SUBJECT_MISMATCH'
  | 'MISSING_ENTRY'
  | 'SEQ_OUT_OF_ORDER'
  | 'PREV_HASH_MISMATCH'
  | 'HASH_MISMATCH'
  | 'TRUNCATED'
  | 'HEAD_MISMATCH';

/** The first broken link of a chain: the seq where it breaks (an entry, or where one is missing). */
export interface ChainBreak {
  subjectId: string;
  seq: number;
  code: BreakCode;
  /** `CODE: explanation`, for people and for `AuditBreak.reason`. */
  reason: string;
}

const broken = (subjectId: string, seq: number, code: BreakCode, why: string): ChainBreak => ({
  subjectId,
  seq,
  code,
  reason: `${code}: ${why}`,
});

/** The entry's hash, or null when a tampered value cannot be encoded (an invalid date, an infinite number). */
function hashOrNull(e: ChainEntry): string | null {
  try {
    return hashEntry(e);
  } catch {
    return null;
  }
}

/**
 * Walks one chain entry by entry (so a long chain is checked page by page, in constant memory):
 * `next` for each entry in the order read, then `finish` with the head. Each returns the first
 * break, or null while the chain holds; after a break it keeps returning that break.
 */
export class ChainVerifier {
  private expectedSeq = 1;
  private lastHash = GENESIS_HASH;
  private found: ChainBreak | null = null;
  /** Entries read so far. */
  entries = 0;

  constructor(readonly subjectId: string) {}

  /** The first break so far, or null. */
  get firstBreak(): ChainBreak | null {
    return this.found;
  }

  /** Checks the next entry: it belongs here, has the next seq, links to the last hash, hashes right. */
  next(e: ChainEntry): ChainBreak | null {
    if (this.found) return this.found;
    this.entries++;
    const seq = this.expectedSeq;
    const id = this.subjectId;
    if (e.subjectId !== id)
      this.found = broken(id, seq, 'SUBJECT_MISMATCH', `entry ${seq} is of ${e.subjectId}`);
    else if (e.seq > seq)
      this.found = broken(id, seq, 'MISSING_ENTRY', `no entry ${seq}; the next one is ${e.seq}`);
    else if (e.seq !== seq)
      this.found = broken(id, seq, 'SEQ_OUT_OF_ORDER', `expected entry ${seq}, found ${e.seq}`);
    else if (e.prevHash !== this.lastHash)
      this.found = broken(id, seq, 'PREV_HASH_MISMATCH', `prevHash is not the hash of entry ${seq - 1}`);
    else if (hashOrNull(e) !== e.hash)
      this.found = broken(
        id,
        seq,
        'HASH_MISMATCH',
        `hash is not the SHA-256 of entry ${seq}'s canonical JSON`,
      );
    else {
      this.expectedSeq = seq + 1;
      this.lastHash = e.hash;
    }
    return this.found;
  }

  /**
   * Ends the walk against the chain's head: same length and same last hash. Pass the stored head
   * (an absent one as length 0) or a signed head saved earlier; without one, only the links count.
   */
  finish(head?: ChainHead): ChainBreak | null {
    if (this.found || !head) return this.found;
    const length = this.expectedSeq - 1;
    const id = this.subjectId;
    if (head.subjectId !== id)
      this.found = broken(id, 1, 'SUBJECT_MISMATCH', `the head is of ${head.subjectId}`);
    else if (head.length > length)
      this.found = broken(
        id,
        length + 1,
        'TRUNCATED',
        `the head counts ${head.length} entries, the chain has ${length}`,
      );
    else if (head.length < length)
      this.found = broken(
        id,
        head.length + 1,
        'HEAD_MISMATCH',
        `entry ${head.length + 1} is past the head (length ${head.length})`,
      );
    else if (head.hash !== this.lastHash)
      this.found = broken(id, length, 'HEAD_MISMATCH', `the head's hash is not entry ${length}'s`);
    return this.found;
  }
}

/** The outcome of checking one chain. */
export type ChainCheck = { ok: true; entries: number } | { ok: false; entries: number; broken: ChainBreak };

/**
 * Checks a whole chain in memory: every entry in the order given (seq 1, 2, 3…), then the head
 * when one is given (else only the links). The subject is the head's, else the first entry's.
 */
export function verifyChain(entries: readonly ChainEntry[], head?: ChainHead): ChainCheck {
  const subjectId = head?.subjectId ?? entries[0]?.subjectId;
  if (subjectId === undefined) return { ok: true, entries: 0 };
  const v = new ChainVerifier(subjectId);
  for (const e of entries) if (v.next(e)) break;
  const found = v.finish(head);
  return found ? { ok: false, entries: v.entries, broken: found } : { ok: true, entries: v.entries };
}
