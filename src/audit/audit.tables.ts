import { integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import type { AuditData, SubjectKind } from './audit.chain.js';

/**
 * G11: the hash-chained audit log, one chain per subject (a group; later a legal hold). Entries
 * are only ever appended (`appendAudit`), each carrying the hash of the one before, so an edit, a
 * deletion or a reordering shows (audit.chain.ts says how the hash is made). No foreign keys: the
 * evidence outlives the group, its members and the users who acted.
 */
export const auditEntries = pgTable(
  'audit_entries',
  {
    /** The chain: a group id for subject kind GROUP. */
    subjectId: uuid('subject_id').notNull(),
    subjectKind: text('subject_kind').$type<SubjectKind>().notNull(),
    /** 1, 2, 3… within the subject's chain, without gaps. */
    seq: integer('seq').notNull(),
    /** What happened: DISSOLUTION_REQUESTED, DISSOLUTION_SCHEDULED, … (upper snake case). */
    kind: text('kind').notNull(),
    /** The user who acted; null for the system (the sweeper). */
    actorId: text('actor_id'),
    /** Step-specific facts, JSON values the canonical encoding allows (see `AuditData`). */
    data: jsonb('data').$type<AuditData>().notNull(),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull(),
    /** `hash` of entry seq − 1; 64 zeros for seq 1. */
    prevHash: text('prev_hash').notNull(),
    /** SHA-256 (hex) of the entry's canonical JSON, `prevHash` included. */
    hash: text('hash').notNull(),
  },
  (t) => [primaryKey({ columns: [t.subjectId, t.seq] })],
);

/**
 * The head of each chain: its length and last hash. Appends to one chain lock this row, so they
 * are serialized per subject and unrelated subjects never wait on each other. The signed head
 * (`auditHead`) is made from it.
 */
export const auditHeads = pgTable('audit_heads', {
  subjectId: uuid('subject_id').primaryKey(),
  subjectKind: text('subject_kind').$type<SubjectKind>().notNull(),
  /** Entries in the chain: the seq of the last one (0 before the first append). */
  length: integer('length').notNull(),
  /** `hash` of the last entry (64 zeros before the first append). */
  hash: text('hash').notNull(),
});

export type AuditEntryRow = typeof auditEntries.$inferSelect;
export type AuditHeadRow = typeof auditHeads.$inferSelect;
