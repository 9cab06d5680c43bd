// T4 retention status and the R3 purge instant, as pure functions of the facts and `now`. The pair
// rules that produce those facts (who deleted whom, when the buffer started) are SPEC §1 and live
// in contacts.rules.ts, which asks this module what they mean for the history.
import type { ContactState, ConversationFacts } from '../contacts/contacts.rules.js';

export type RetentionState = 'ACTIVE' | 'ONE_WAY_DELETED' | 'BUFFERED' | 'PURGED' | 'BLOCKED' | 'DISSOLVED';

/** T1: the period every user has until retention policies land. */
export const DEFAULT_PERIOD = 'FOREVER' as const;

/** The retention of a direct conversation as its viewer sees it (T4). */
export interface DirectRetention {
  state: RetentionState;
  purgeAt: Date | null;
  purgedAt: Date | null;
  restorable: boolean;
  restorableUntil: Date | null;
  /** The rule that decides the state: `T1`, `R2`, `R3`, `R4`. */
  reason: string;
}

/** What `RetentionStatus` resolves from. */
export interface RetentionView extends DirectRetention {
  conversationId: string;
  visibleMessages: number;
}

/** The retention facts that decide whether a conversation's history can be read. */
export interface HistoryFacts {
  purgeAt: Date | null;
}

/** R3: true when the buffer has run out: the messages must be purged before anything else happens. */
export function purgeDue(c: HistoryFacts, now: Date): boolean {
  return c.purgeAt !== null && c.purgeAt.getTime() <= now.getTime();
}

/**
 * R3: at `purgeAt` the history is gone, whether or not the sweeper has deleted the rows yet: no
 * read shows a message past its purge instant (the sweeper only makes it physical).
 */
export const historyVisible = (c: HistoryFacts, now: Date): boolean => !purgeDue(c, now);

/**
 * T4 for a direct conversation, from the side of a viewer whose view of the pair is `view` (null:
 * no entry). The peer's silent deletion or block is already hidden in `view` (R2).
 */
export function directRetention(view: ContactState | null, c: ConversationFacts, now: Date): DirectRetention {
  const none = { purgeAt: null, purgedAt: null, restorableUntil: null };
  if (view === null || view === 'FRIEND')
    return { state: 'ACTIVE', ...none, restorable: false, reason: 'T1' };
  if (c.purgedAt) {
    return { state: 'PURGED', ...none, purgedAt: c.purgedAt, restorable: false, reason: c.purgedBy ?? 'R3' };
  }
  // R3: at purgeAt the history is purged, even before the sweeper deletes the rows.
  if (purgeDue(c, now))
    return { state: 'PURGED', ...none, purgedAt: c.purgeAt, restorable: false, reason: 'R3' };
  const buffered = c.purgeAt !== null;
  const open = buffered ? c.purgeAt!.getTime() > now.getTime() : true;
  const deadline = buffered ? { purgeAt: c.purgeAt, purgedAt: null, restorableUntil: c.purgeAt } : none;
  if (view === 'BLOCKED_BY_ME') return { state: 'BLOCKED', ...deadline, restorable: open, reason: 'R4' };
  if (view === 'DELETED_BY_ME')
    return { state: 'ONE_WAY_DELETED', ...deadline, restorable: open, reason: 'R2' };
  return { state: 'BUFFERED', ...deadline, restorable: open, reason: 'R3' };
}
