// G11 as pure functions: the canonical encoding, the hash, and the chain walk. No database.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AuditValue,
  auditDataProblem,
  type ChainEntry,
  type ChainHead,
  canonicalJson,
  encodeEntry,
  GENESIS_HASH,
  hashEntry,
  linkEntry,
  MAX_DATA_DEPTH,
  newEntryProblem,
  verifyChain,
} from '../../src/audit/audit.chain.js';

const SUBJECT = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
const OTHER = '9b2f0a57-3c1e-4d8a-b6f0-2a4c6e8d0f13';
const T0 = new Date('2026-01-01T00:00:00.000Z');

/** A valid chain of `n` entries of SUBJECT, a minute apart. */
function chainOf(n: number, subjectId = SUBJECT): { entries: ChainEntry[]; head: ChainHead } {
  const entries: ChainEntry[] = [];
  let head: ChainHead = { subjectId, length: 0, hash: GENESIS_HASH };
  for (let i = 0; i < n; i++) {
    const e = linkEntry(head, {
      subjectId,
      subjectKind: 'GROUP',
      kind: i === 0 ? 'DISSOLUTION_REQUESTED' : 'DISSOLUTION_SCHEDULED',
      actorId: i === 0 ? 'alice' : null,
      data: { step: i + 1, keepHistory: true, counts: { cards: 2, phones: [1, 2] } },
      at: new Date(T0.getTime() + i * 60_000),
    });
    entries.push(e);
    head = { subjectId, length: e.seq, hash: e.hash };
  }
  return { entries, head };
}

/** The chain with entry `seq` changed by `edit` (nothing recomputed, as a tamperer with SQL would). */
const edited = (entries: ChainEntry[], seq: number, edit: Partial<ChainEntry>) =>
  entries.map((e) => (e.seq === seq ? { ...e, ...edit } : e));

/** A check's outcome as `CODE@seq`, or `ok`. */
const outcome = (entries: ChainEntry[], head?: ChainHead): string => {
  const r = verifyChain(entries, head);
  return r.ok ? 'ok' : `${r.broken.code}@${r.broken.seq}`;
};

// The canonical function of examples/verify-audit.mjs (and of the README), taken from the script
// itself so the test proves what users run.
const script = readFileSync(new URL('../../examples/verify-audit.mjs', import.meta.url), 'utf8');
const scriptCanonical = new Function(
  `${/function canonical\(value\) \{[\s\S]*?\n\}/.exec(script)![0]}; return canonical;`,
)() as (value: unknown) => string;

describe('G11 the canonical encoding (RFC 8785) and the hash', () => {
  it('encodes the eight fields with sorted keys and no whitespace, and hashes the UTF-8 bytes with SHA-256', () => {
    const e = {
      subjectId: SUBJECT,
      subjectKind: 'GROUP' as const,
      seq: 1,
      kind: 'DISSOLUTION_REQUESTED',
      actorId: 'alice',
      data: { note: 'é✓', members: 3, keepHistory: true },
      at: T0,
      prevHash: GENESIS_HASH,
    };
    const text =
      '{"actorId":"alice","at":"2026-01-01T00:00:00.000Z","data":{"keepHistory":true,"members":3,"note":"é✓"},' +
      `"kind":"DISSOLUTION_REQUESTED","prevHash":"${'0'.repeat(64)}","seq":1,"subjectId":"${SUBJECT}","subjectKind":"GROUP"}`;
    expect(encodeEntry(e)).toBe(text);
    expect(hashEntry(e)).toBe(createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex'));
    expect(hashEntry(e)).toBe('37b540a8932c7b810f9c0d7548acb6057dfab80102076ef32c5545998216763e');
    expect(hashEntry({ ...e, actorId: null })).not.toBe(hashEntry(e));
  });

  it('sorts keys by UTF-16 code units, as RFC 8785 §3.2.3 does', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    const order = ['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33'];
    const expected = `{${order.map((k) => `${JSON.stringify(k)}:${JSON.stringify(input[k as keyof typeof input])}`).join(',')}}`;
    expect(canonicalJson(input)).toBe(expected);
    expect(scriptCanonical(input)).toBe(expected);
  });

  it('the README function equals RFC 8785 on every value audit data may hold', () => {
    const text = fc.string({ unit: 'binary', maxLength: 12 }).filter((s) => !s.includes('\u0000'));
    const { value } = fc.letrec<{ value: AuditValue }>((tie) => ({
      value: fc.oneof(
        { depthSize: 'small', maxDepth: 4 },
        text,
        fc.maxSafeInteger(),
        fc.integer({ min: -1000, max: 1000 }),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(text, tie('value'), { maxKeys: 5 }),
      ),
    }));
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: 'binary', maxLength: 8 }), value), (data) => {
        fc.pre(!Object.keys(data).some((k) => k.includes('\u0000')));
        expect(auditDataProblem(data)).toBeNull();
        expect(scriptCanonical(data)).toBe(canonicalJson(data));
        // What jsonb hands back (parsed JSON) encodes the same.
        expect(canonicalJson(JSON.parse(JSON.stringify(data)))).toBe(canonicalJson(data));
      }),
      { numRuns: 200 },
    );
  });

  it('data holds only strings, safe integers, booleans, null, arrays and plain objects', () => {
    const holey: number[] = [];
    holey[0] = 1;
    holey[2] = 3;
    let deep: AuditValue = 1;
    for (let i = 0; i < MAX_DATA_DEPTH; i++) deep = [deep];
    const refused: [string, unknown][] = [
      ['a fraction', { x: 1.5 }],
      ['NaN', { x: Number.NaN }],
      ['an unsafe integer', { x: 2 ** 53 }],
      ['a lone surrogate', { x: 'a\ud800' }],
      ['a lone surrogate in a key', { '\udc00': 1 }],
      ['U+0000', { x: 'a\u0000b' }],
      ['a date', { x: new Date(0) }],
      ['a map', { x: new Map() }],
      ['undefined', { x: undefined }],
      ['a bigint', { x: 1n }],
      ['a hole', { x: holey }],
      ['too deep', { x: deep }],
      ['an array at the top', [1]],
      ['null at the top', null],
    ];
    for (const [what, data] of refused) expect(auditDataProblem(data), what).not.toBeNull();
    expect(auditDataProblem({ x: [1, 'é', true, null, { y: -3 }], ключ: '😀' })).toBeNull();
  });

  it('refuses a kind that is not upper snake case, an unknown subject kind and an invalid instant', () => {
    const ok = {
      subjectId: SUBJECT,
      subjectKind: 'GROUP' as const,
      kind: 'DISSOLUTION_REQUESTED',
      actorId: null,
      data: {},
      at: T0,
    };
    expect(newEntryProblem(ok)).toBeNull();
    expect(newEntryProblem({ ...ok, kind: 'dissolution requested' })).toMatch(/^kind/);
    expect(newEntryProblem({ ...ok, kind: '' })).toMatch(/^kind/);
    expect(newEntryProblem({ ...ok, subjectKind: 'USER' as never })).toMatch(/^subjectKind/);
    expect(newEntryProblem({ ...ok, at: new Date(Number.NaN) })).toMatch(/^at/);
  });
});

describe('G11 verifyChain names the first broken link', () => {
  const { entries, head } = chainOf(5);

  it('a chain linked from 64 zeros, each hash recomputed, ending at its head, holds', () => {
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(entries[0]!.prevHash).toBe(GENESIS_HASH);
    expect(verifyChain(entries, head)).toEqual({ ok: true, entries: 5 });
    expect(verifyChain(entries)).toEqual({ ok: true, entries: 5 });
    expect(verifyChain([], { subjectId: SUBJECT, length: 0, hash: GENESIS_HASH })).toEqual({
      ok: true,
      entries: 0,
    });
  });

  it('an edited field is a HASH_MISMATCH at that entry', () => {
    expect(outcome(edited(entries, 3, { kind: 'DISSOLUTION_CANCELLED' }), head)).toBe('HASH_MISMATCH@3');
    expect(outcome(edited(entries, 3, { actorId: 'mallory' }), head)).toBe('HASH_MISMATCH@3');
    expect(outcome(edited(entries, 1, { actorId: null }), head)).toBe('HASH_MISMATCH@1');
    expect(outcome(edited(entries, 3, { data: { step: 3, keepHistory: false } }), head)).toBe(
      'HASH_MISMATCH@3',
    );
    expect(outcome(edited(entries, 3, { at: new Date(T0.getTime() + 1) }), head)).toBe('HASH_MISMATCH@3');
    expect(outcome(edited(entries, 3, { subjectKind: 'LEGAL_HOLD' }), head)).toBe('HASH_MISMATCH@3');
    expect(outcome(edited(entries, 3, { hash: 'f'.repeat(64) }), head)).toBe('HASH_MISMATCH@3');
    // Values no append could have written, as a tamperer could store them: still a break, not a fault.
    expect(outcome(edited(entries, 3, { at: new Date(Number.NaN) }), head)).toBe('HASH_MISMATCH@3');
    expect(outcome(edited(entries, 3, { data: { x: Number.POSITIVE_INFINITY } }), head)).toBe(
      'HASH_MISMATCH@3',
    );
  });

  it('an edited prevHash is a PREV_HASH_MISMATCH; an entry rewritten with its hash recomputed breaks the next link', () => {
    expect(outcome(edited(entries, 3, { prevHash: 'a'.repeat(64) }), head)).toBe('PREV_HASH_MISMATCH@3');
    const forged = { ...entries[2]!, data: { step: 3, keepHistory: false } };
    const rehashed = edited(entries, 3, { data: forged.data, hash: hashEntry(forged) });
    expect(outcome(rehashed, head)).toBe('PREV_HASH_MISMATCH@4');
  });

  it('a deleted entry or a changed seq is a MISSING_ENTRY where it was; a swap or a repeat is out of order', () => {
    expect(
      outcome(
        entries.filter((e) => e.seq !== 3),
        head,
      ),
    ).toBe('MISSING_ENTRY@3');
    expect(
      outcome(
        edited(entries, 3, { seq: 7 }).sort((a, b) => a.seq - b.seq),
        head,
      ),
    ).toBe('MISSING_ENTRY@3');
    const [a, b, c, d, e] = entries;
    expect(outcome([a!, c!, b!, d!, e!], head)).toBe('MISSING_ENTRY@2');
    expect(outcome([a!, b!, b!, c!, d!, e!], head)).toBe('SEQ_OUT_OF_ORDER@3');
    // Swapped contents, each keeping its place's seq (what swapping rows by UPDATE looks like).
    const swapped = [a!, { ...c!, seq: 2 }, { ...b!, seq: 3 }, d!, e!];
    expect(outcome(swapped, head)).toBe('PREV_HASH_MISMATCH@2');
  });

  it('a truncated chain is TRUNCATED against the head; entries past the head or another last hash are HEAD_MISMATCH', () => {
    expect(outcome(entries.slice(0, 3), head)).toBe('TRUNCATED@4');
    expect(outcome([], head)).toBe('TRUNCATED@1');
    expect(outcome(entries, { ...head, length: 4, hash: entries[3]!.hash })).toBe('HEAD_MISMATCH@5');
    expect(outcome(entries, { ...head, hash: 'b'.repeat(64) })).toBe('HEAD_MISMATCH@5');
    // Without a head only the links count: a truncated chain still holds.
    expect(outcome(entries.slice(0, 3))).toBe('ok');
  });

  it('a whole rewritten tail holds by itself, and only a head saved before shows it', () => {
    let tail: ChainHead = { subjectId: SUBJECT, length: 2, hash: entries[1]!.hash };
    const rewritten = entries.slice(0, 2);
    for (const e of entries.slice(2)) {
      const r = linkEntry(tail, { ...e, kind: 'DISSOLUTION_CANCELLED' });
      rewritten.push(r);
      tail = { subjectId: SUBJECT, length: r.seq, hash: r.hash };
    }
    expect(outcome(rewritten, tail)).toBe('ok');
    expect(outcome(rewritten, head)).toBe('HEAD_MISMATCH@5');
  });

  it("another chain's entries are a SUBJECT_MISMATCH", () => {
    const other = chainOf(2, OTHER);
    expect(outcome(other.entries, head)).toBe('SUBJECT_MISMATCH@1');
    expect(outcome([entries[0]!, { ...other.entries[1]!, prevHash: entries[0]!.hash }])).toBe(
      'SUBJECT_MISMATCH@2',
    );
    expect(outcome(entries, other.head)).toBe('SUBJECT_MISMATCH@1');
  });
});
