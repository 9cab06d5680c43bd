// T4 retention status: the view type; the direct-chat rules live in contacts.rules.ts (SPEC §1).
import type { RetentionView as PairRetention } from '../contacts/contacts.rules.js';

/** What `RetentionStatus` resolves from. */
export interface RetentionView extends PairRetention {
  conversationId: string;
  visibleMessages: number;
}

/** T1: the period every user has until retention policies land. */
export const DEFAULT_PERIOD = 'FOREVER' as const;
