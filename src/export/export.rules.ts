// SPEC G12 as pure decisions: who may ask (the service checks party-ship through the store), what a
// passphrase must look like, how long a link lives, and what G3 hides from a dissolved group's
// archive. No I/O.
import { type DissolutionFacts, filesGoneAt, paymentsGoneAt } from '../groups/dissolution.rules.js';
import { type Refusal, refuse } from '../shared/result.js';
import { charLength, storableText } from '../shared/text.js';

const MINUTE = 60 * 1000;
/** G12: a download link lives this long after the export was made (server clock). */
export const EXPORT_LINK_TTL_MS = 15 * MINUTE;
/** Shortest passphrase, in characters (Unicode code points). */
export const PASSPHRASE_MIN = 8;
/** Longest passphrase, in characters. */
export const PASSPHRASE_MAX = 1024;

/** A passphrase is 8 to 1024 characters without U+0000; BAD_USER_INPUT otherwise. */
export function checkPassphrase(p: string): { ok: true } | Refusal {
  // A string of more than 2 × max UTF-16 units has more than max code points: not counted.
  if (p.length > 2 * PASSPHRASE_MAX || !storableText(p)) return refusePassphrase();
  const n = charLength(p);
  return n >= PASSPHRASE_MIN && n <= PASSPHRASE_MAX ? { ok: true } : refusePassphrase();
}

const refusePassphrase = () =>
  refuse('BAD_USER_INPUT', `A passphrase has ${PASSPHRASE_MIN} to ${PASSPHRASE_MAX} characters.`);

/** When a link made at `now` stops working. */
export const expiresAtOf = (now: Date): Date => new Date(now.getTime() + EXPORT_LINK_TTL_MS);

/** Whether a link still works at `now` (it stops at `expiresAt` exactly). */
export const linkLive = (e: { expiresAt: Date }, now: Date): boolean => now.getTime() < e.expiresAt.getTime();

/**
 * R3/G3 for a link: the archive made at `madeAt` may still be served at `now` unless the
 * conversation's purge instant came between the two (the history it holds is gone for everyone).
 */
export function archiveStillReadable(madeAt: Date, c: { purgeAt: Date | null }, now: Date): boolean {
  if (c.purgeAt === null) return true;
  return c.purgeAt.getTime() > now.getTime() || c.purgeAt.getTime() <= madeAt.getTime();
}

/** What an archive of a conversation leaves out at `now` because G3 took it away from the group. */
export interface Omissions {
  /** G3: a dissolved group's files are gone from `undoUntil`: no attachment metadata. */
  files: boolean;
  /** G3: its payment records left the group at `paymentsLeaveAt`: no payments. */
  payments: boolean;
}

/** G3 for an archive: what the conversation's in-force dissolution (none for DIRECT) hides at `now`. */
export const omissionsAt = (d: DissolutionFacts | null | undefined, now: Date): Omissions => ({
  files: filesGoneAt(d, now),
  payments: paymentsGoneAt(d, now),
});
