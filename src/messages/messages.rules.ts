// Pure checks for direct messages. Who may message whom is SPEC §1 and lives in contacts.rules.ts.
import { charLength, type Refusal, storableText } from '../contacts/contacts.rules.js';

/** The longest message body, in characters (Unicode code points). */
export const MAX_BODY = 10_000;

/** A body is 1 to MAX_BODY characters, not only whitespace, and storable; BAD_USER_INPUT otherwise. */
export function checkBody(body: string): { ok: true } | Refusal {
  const fits = body.length <= 2 * MAX_BODY && charLength(body) <= MAX_BODY; // a code point is ≤ 2 units
  if (body.trim().length === 0 || !fits || !storableText(body)) {
    return { ok: false, code: 'BAD_USER_INPUT', message: `A message has 1 to ${MAX_BODY} characters.` };
  }
  return { ok: true };
}

/** The retention facts that decide whether a conversation's history can be read. */
export interface HistoryFacts {
  purgeAt: Date | null;
}

/**
 * R3: at `purgeAt` the history is gone, whether or not the sweeper has deleted the rows yet: no
 * read shows a message past its purge instant (the sweeper only makes it physical).
 */
export function historyVisible(c: HistoryFacts, now: Date): boolean {
  return c.purgeAt === null || c.purgeAt.getTime() > now.getTime();
}
