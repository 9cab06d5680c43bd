// T1–T3 over the API for the retention tests: periods, stars, legal holds, and what is stored.
import { sql } from 'drizzle-orm';
import { rows } from '../../src/db/client.js';
import { type Api, USER_ERRORS, type UserError } from './client.js';
import type { TestDatabase } from './db.js';

export const HOLD =
  'id userId conversationId groupId from to reason placedBy placedAt releasedBy releasedAt active';
export interface Hold {
  id: string;
  userId: string | null;
  conversationId: string | null;
  groupId: string | null;
  from: string | null;
  to: string | null;
  reason: string;
  placedBy: string;
  placedAt: string;
  releasedBy: string | null;
  releasedAt: string | null;
  active: boolean;
}
export interface PolicyInput {
  conversationId?: string;
  period: 'FOREVER' | 'ONE_YEAR' | 'THREE_MONTHS' | 'DAYS';
  days?: number;
}
export interface HoldInput {
  userId?: string;
  conversationId?: string;
  groupId?: string;
  from?: string;
  to?: string;
  reason?: string;
}

/** The operator every hold test acts as. */
export const OPERATOR = 'olga-operator';

export function retentionClient(api: Api, db: TestDatabase) {
  const asOperator = async <T>(query: string, variables: Record<string, unknown>) => {
    await api.token(OPERATOR, { operator: true });
    return api.gqlAs<T>(OPERATOR, { operator: true }, query, variables);
  };
  const r = {
    async setPolicy(who: string, input: PolicyInput) {
      return (
        await api.gql<{
          setRetentionPolicy: {
            policy: { conversationId: string | null; period: string; days: number | null } | null;
            status: { visibleMessages: number; period: string; nextExpiryAt: string | null } | null;
            userErrors: UserError[];
          };
        }>(
          who,
          `mutation($input: SetRetentionPolicyInput!) { setRetentionPolicy(input: $input) {
            policy { conversationId period days } status { visibleMessages period nextExpiryAt } ${USER_ERRORS} } }`,
          { input },
        )
      ).setRetentionPolicy;
    },
    async star(who: string, messageId: string, starred = true) {
      return (
        await api.gql<{
          starMessage: { message: { id: string; starred: boolean } | null; userErrors: UserError[] };
        }>(
          who,
          `mutation($input: StarMessageInput!) { starMessage(input: $input) { message { id starred } ${USER_ERRORS} } }`,
          { input: { messageId, starred } },
        )
      ).starMessage;
    },
    /** Places a hold as the operator; fails on a refusal. */
    async hold(input: HoldInput): Promise<Hold> {
      const res = await r.placeHold(OPERATOR, input, true);
      if (!res.hold) throw new Error(`placeLegalHold refused: ${JSON.stringify(res.userErrors)}`);
      return res.hold;
    },
    async placeHold(who: string, input: HoldInput, operator = false) {
      const query = `mutation($input: PlaceLegalHoldInput!) { placeLegalHold(input: $input) { hold { ${HOLD} } ${USER_ERRORS} } }`;
      const variables = { input: { reason: 'case 42', ...input } };
      const res = operator
        ? await asOperator<{ placeLegalHold: { hold: Hold | null; userErrors: UserError[] } }>(
            query,
            variables,
          )
        : await api.gql<{ placeLegalHold: { hold: Hold | null; userErrors: UserError[] } }>(
            who,
            query,
            variables,
          );
      return res.placeLegalHold;
    },
    async release(holdId: string) {
      return (
        await asOperator<{ releaseLegalHold: { hold: Hold | null; userErrors: UserError[] } }>(
          `mutation($input: ReleaseLegalHoldInput!) { releaseLegalHold(input: $input) { hold { ${HOLD} } ${USER_ERRORS} } }`,
          { input: { holdId } },
        )
      ).releaseLegalHold;
    },
    /** Message rows stored for a conversation: all, and those kept under a hold (`purged_at` set). */
    async stored(conversationId: string): Promise<{ rows: number; held: number }> {
      const [x] = await rows<{ rows: number; held: number }>(
        db.handle.db,
        sql`SELECT count(*)::int AS rows, count(purged_at)::int AS held FROM messages WHERE conversation_id = ${conversationId}`,
      );
      return x!;
    },
    /** The bodies `who` reads in a conversation, oldest first. */
    async bodies(who: string, conversationId: string): Promise<string[]> {
      return (await api.bodies(who, conversationId)).slice().reverse();
    },
  };
  return r;
}

export type RetentionClient = ReturnType<typeof retentionClient>;
