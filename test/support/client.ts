import { readFileSync } from 'node:fs';
// A GraphQL client for the contacts, messages and retention API tests: one method per operation,
// the documents written once. Every call goes over HTTP to a started app, as a real client would.
import { sql } from 'drizzle-orm';
import { rows } from '../../src/db/client.js';
import type { TestDatabase } from './db.js';
import { settleNotices } from './notices.js';
import type { GraphQLResponse, TestApp } from './server.js';

export const USER_ERRORS = 'userErrors { code message field }';
export const CONTACT = 'user { id name } state since conversation { id kind peer { id } }';
export const RETENTION =
  'conversationId state period nextExpiryAt purgeAt purgedAt restorable restorableUntil reason visibleMessages holds { id reason placedAt }';
export const REQUEST = 'id from { id } to { id } greeting status createdAt';
export const PREVIEW =
  'action allowed refusal stateBefore stateAfter retentionStateAfter purgeAt restorable messagesPurged reason';
export const MESSAGE = 'id conversationId sender { id } body sentAt starred';
export const NOTICE_FIELDS = `__typename cursor at
  ... on FriendRequestReceived { requestId fromUserId greeting request { ${REQUEST} } }
  ... on FriendRequestAccepted { requestId byUserId conversationId }
  ... on ContactRemovedYou { byUserId }
  ... on ContactChanged { peerId state deviceId }
  ... on MessageReceived { conversationId messageId senderId message { ${MESSAGE} } }
  ... on ConversationPurged { conversationId reason purgedMessages }
  ... on GroupDissolutionChanged { groupId dissolutionId status keepHistory effectiveAt undoUntil byOwnerId endReason }
  ... on DissolutionReviewDecided { reviewId dissolvedGroupIds refusedGroupIds reviewStatus: status }`;

/** A payload's refusals as `CODE@input.field` strings (just `CODE@` without a field): easy to compare. */
export const errorsAt = (r: { userErrors: { code: string; field?: string[] | null }[] }): string[] =>
  r.userErrors.map((e) => `${e.code}@${(e.field ?? []).join('.')}`);

export const SWEEP_RUN =
  'purgedMessages purgedConversations purgedFiles dissolutionsLapsed dissolutionsEffective dissolutionsFinalized paymentsDetached heldBack';
export interface SweepRun {
  purgedMessages: number;
  purgedConversations: number;
  purgedFiles: number;
  dissolutionsLapsed: number;
  dissolutionsEffective: number;
  dissolutionsFinalized: number;
  paymentsDetached: number;
  heldBack: number;
}

export interface UserError {
  code: string;
  message: string;
  field: string[] | null;
}
export interface Contact {
  user: { id: string; name: string };
  state: string;
  since: string;
  conversation: { id: string; kind: string; peer: { id: string } | null };
}
export interface Retention {
  conversationId: string;
  state: string;
  period: string;
  nextExpiryAt: string | null;
  purgeAt: string | null;
  purgedAt: string | null;
  restorable: boolean;
  restorableUntil: string | null;
  reason: string;
  visibleMessages: number;
  holds: unknown[] | null;
}
export interface FriendRequest {
  id: string;
  from: { id: string };
  to: { id: string };
  greeting: string | null;
  status: string;
  createdAt: string;
}
export interface Preview {
  action: string;
  allowed: boolean;
  refusal: string | null;
  stateBefore: string | null;
  stateAfter: string | null;
  retentionStateAfter: string;
  purgeAt: string | null;
  restorable: boolean;
  messagesPurged: number;
  reason: string;
}
export interface Message {
  id: string;
  conversationId: string;
  sender: { id: string };
  body: string;
  sentAt: string;
  starred: boolean;
}
export interface Notice {
  __typename: string;
  cursor: string;
  at: string;
  [field: string]: unknown;
}
export interface Page<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}
export interface PairChange {
  contact: Contact | null;
  retention: Retention | null;
  userErrors: UserError[];
}

export type Action = 'DELETE' | 'BLOCK' | 'BLOCK_AND_DELETE';

/**
 * Waits until every committed notice for `userId` is final for good, so `Query.notices` returns all
 * of them (see `settleNotices` for why "none pending" once is not enough). Waits for a condition,
 * never for a time.
 */
function noticesFinal(db: TestDatabase, userId: string): Promise<void> {
  return settleNotices(db.handle.db, { recipientId: userId, limitMs: 30_000 });
}

/** The API as a client uses it; users are created on first sight, each with one cached token. */
export function apiClient(t: TestApp, db: TestDatabase) {
  const tokens = new Map<string, Promise<string>>();

  /** A token for `userId` (the user row exists once this resolves). */
  function token(userId: string, opts: { operator?: boolean; deviceId?: string } = {}): Promise<string> {
    const key = `${userId}|${opts.operator ? 'op' : ''}|${opts.deviceId ?? ''}`;
    let p = tokens.get(key);
    if (!p) {
      p = (async () => {
        const tok = await t.token(userId, opts);
        await data(await t.http('{ me { id } }', {}, tok));
        return tok;
      })();
      tokens.set(key, p);
    }
    return p;
  }

  function data<T>(r: GraphQLResponse<T>): T {
    if (r.errors?.length || !r.data) throw new Error(`GraphQL errors: ${JSON.stringify(r.errors)}`);
    return r.data;
  }

  /** Runs `query` as `userId` and returns the raw response (errors included). */
  async function raw<T = Record<string, unknown>>(
    userId: string,
    query: string,
    variables: Record<string, unknown> = {},
  ): Promise<GraphQLResponse<T>> {
    return t.http<T>(query, variables, await token(userId));
  }

  /** Runs `query` as `userId`; throws on any top-level error. */
  async function gql<T = Record<string, unknown>>(
    userId: string,
    query: string,
    variables: Record<string, unknown> = {},
  ): Promise<T> {
    return data(await raw<T>(userId, query, variables));
  }

  /** `gql` with a token of these options (an operator's, another device's). */
  async function gqlAs<T = Record<string, unknown>>(
    userId: string,
    opts: { operator?: boolean; deviceId?: string },
    query: string,
    variables: Record<string, unknown> = {},
  ): Promise<T> {
    return data(await t.http<T>(query, variables, await token(userId, opts)));
  }

  /** G7: the last verification code the development sender wrote for `userId` and `groupId`. */
  function latestCode(userId: string, groupId: string): string | undefined {
    let text = '';
    try {
      text = readFileSync(t.app.deps.config.verificationFile, 'utf8');
    } catch {
      return undefined;
    }
    const lines = text
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, string>);
    return lines.reverse().find((l) => l.userId === userId && l.groupId === groupId)?.code;
  }

  const api = {
    token,
    latestCode,
    raw,
    gql,
    gqlAs,

    async sendFriendRequest(from: string, to: string, greeting?: string) {
      await token(to);
      const r = await gql<{
        sendFriendRequest: {
          request: FriendRequest | null;
          contact: Contact | null;
          userErrors: UserError[];
        };
      }>(
        from,
        `mutation($input: SendFriendRequestInput!) { sendFriendRequest(input: $input) {
          request { ${REQUEST} } contact { ${CONTACT} } ${USER_ERRORS} } }`,
        { input: { userId: to, ...(greeting !== undefined ? { greeting } : {}) } },
      );
      return r.sendFriendRequest;
    },

    async respond(who: string, requestId: string, accept: boolean) {
      const r = await gql<{
        respondToFriendRequest: {
          request: FriendRequest | null;
          contact: Contact | null;
          userErrors: UserError[];
        };
      }>(
        who,
        `mutation($input: RespondToFriendRequestInput!) { respondToFriendRequest(input: $input) {
          request { ${REQUEST} } contact { ${CONTACT} } ${USER_ERRORS} } }`,
        { input: { requestId, accept } },
      );
      return r.respondToFriendRequest;
    },

    /** R1: `a` asks, `b` accepts; returns the pair's conversation id. */
    async befriend(a: string, b: string): Promise<string> {
      const sent = await api.sendFriendRequest(a, b);
      if (sent.userErrors.length) throw new Error(`request refused: ${JSON.stringify(sent.userErrors)}`);
      const accepted = await api.respond(b, sent.request!.id, true);
      if (accepted.userErrors.length)
        throw new Error(`accept refused: ${JSON.stringify(accepted.userErrors)}`);
      return accepted.contact!.conversation.id;
    },

    async deleteContact(who: string, peer: string, notice?: 'SILENT' | 'NOTIFY'): Promise<PairChange> {
      const r = await gql<{ deleteContact: PairChange }>(
        who,
        `mutation($input: DeleteContactInput!) { deleteContact(input: $input) {
          contact { ${CONTACT} } retention { ${RETENTION} } ${USER_ERRORS} } }`,
        { input: { userId: peer, ...(notice ? { notice } : {}) } },
      );
      return r.deleteContact;
    },

    async blockContact(who: string, peer: string, deleteHistory?: boolean): Promise<PairChange> {
      const r = await gql<{ blockContact: PairChange }>(
        who,
        `mutation($input: BlockContactInput!) { blockContact(input: $input) {
          contact { ${CONTACT} } retention { ${RETENTION} } ${USER_ERRORS} } }`,
        { input: { userId: peer, ...(deleteHistory !== undefined ? { deleteHistory } : {}) } },
      );
      return r.blockContact;
    },

    async unblockContact(who: string, peer: string) {
      const r = await gql<{ unblockContact: { contact: Contact | null; userErrors: UserError[] } }>(
        who,
        `mutation($input: UnblockContactInput!) { unblockContact(input: $input) {
          contact { ${CONTACT} } ${USER_ERRORS} } }`,
        { input: { userId: peer } },
      );
      return r.unblockContact;
    },

    async requestDeletionProof(who: string, peer: string) {
      const r = await gql<{ requestDeletionProof: { proof: string | null; userErrors: UserError[] } }>(
        who,
        `mutation($input: RequestDeletionProofInput!) { requestDeletionProof(input: $input) { proof ${USER_ERRORS} } }`,
        { input: { userId: peer } },
      );
      return r.requestDeletionProof;
    },

    async sendMessage(who: string, conversationId: string, body: string) {
      const r = await gql<{ sendMessage: { message: Message | null; userErrors: UserError[] } }>(
        who,
        `mutation($input: SendMessageInput!) { sendMessage(input: $input) { message { ${MESSAGE} } ${USER_ERRORS} } }`,
        { input: { conversationId, body } },
      );
      return r.sendMessage;
    },

    /** Sends `bodies` in order and fails on any refusal; returns the message ids. */
    async say(who: string, conversationId: string, ...bodies: string[]): Promise<string[]> {
      const ids: string[] = [];
      for (const body of bodies) {
        const r = await api.sendMessage(who, conversationId, body);
        if (!r.message) throw new Error(`message refused: ${JSON.stringify(r.userErrors)}`);
        ids.push(r.message.id);
      }
      return ids;
    },

    async contact(who: string, peer: string): Promise<Contact | null> {
      return (
        await gql<{ contact: Contact | null }>(
          who,
          `query($id: ID!) { contact(userId: $id) { ${CONTACT} } }`,
          {
            id: peer,
          },
        )
      ).contact;
    },

    async contacts(who: string, first?: number, after?: string): Promise<Page<Contact>> {
      return (
        await gql<{ contacts: Page<Contact> }>(
          who,
          `query($first: Int, $after: String) { contacts(first: $first, after: $after) {
            edges { cursor node { ${CONTACT} } } pageInfo { hasNextPage endCursor } } }`,
          { first, after },
        )
      ).contacts;
    },

    async friendRequests(who: string, direction: 'INCOMING' | 'OUTGOING'): Promise<FriendRequest[]> {
      const r = await gql<{ friendRequests: Page<FriendRequest> }>(
        who,
        `query($d: RequestDirection!) { friendRequests(direction: $d, first: 100) {
          edges { cursor node { ${REQUEST} } } pageInfo { hasNextPage endCursor } } }`,
        { d: direction },
      );
      return r.friendRequests.edges.map((e) => e.node);
    },

    async retention(who: string, conversationId: string): Promise<Retention> {
      return (
        await gql<{ retentionStatus: Retention }>(
          who,
          `query($id: ID!) { retentionStatus(conversationId: $id) { ${RETENTION} } }`,
          { id: conversationId },
        )
      ).retentionStatus;
    },

    async messages(
      who: string,
      conversationId: string,
      first?: number,
      after?: string,
    ): Promise<Page<Message>> {
      return (
        await gql<{ messages: Page<Message> }>(
          who,
          `query($id: ID!, $first: Int, $after: String) { messages(conversationId: $id, first: $first, after: $after) {
            edges { cursor node { ${MESSAGE} } } pageInfo { hasNextPage endCursor } } }`,
          { id: conversationId, first, after },
        )
      ).messages;
    },

    /** The bodies `who` can read in the conversation, newest first. */
    async bodies(who: string, conversationId: string): Promise<string[]> {
      return (await api.messages(who, conversationId, 100)).edges.map((e) => e.node.body);
    },

    async preview(who: string, peer: string, action: Action): Promise<Preview> {
      return (
        await gql<{ deletionPreview: Preview }>(
          who,
          `query($id: ID!, $action: ContactAction!) { deletionPreview(userId: $id, action: $action) { ${PREVIEW} } }`,
          { id: peer, action },
        )
      ).deletionPreview;
    },

    /** Every notice kept for `who`, oldest first (`Query.notices`), and the cursor to continue from. */
    async notices(who: string): Promise<{ notices: Notice[]; endCursor: string }> {
      await noticesFinal(db, who);
      const all: Notice[] = [];
      let after: string | null = null;
      for (;;) {
        const r: { notices: Page<Notice> } = await gql<{ notices: Page<Notice> }>(
          who,
          `query($after: String) { notices(first: 100, after: $after) {
            edges { cursor node { ${NOTICE_FIELDS} } } pageInfo { hasNextPage endCursor } } }`,
          { after },
        );
        all.push(...r.notices.edges.map((e) => e.node));
        after = r.notices.pageInfo.endCursor;
        if (!r.notices.pageInfo.hasNextPage) return { notices: all, endCursor: after! };
      }
    },

    /** T5 as an operator: runs the sweep now (on the app's clock). */
    async sweep() {
      const tok = await token('operator-staff', { operator: true });
      const r = data(
        await t.http<{
          runRetentionSweep: {
            run: SweepRun | null;
            userErrors: UserError[];
          };
        }>(`mutation { runRetentionSweep { run { ${SWEEP_RUN} } ${USER_ERRORS} } }`, {}, tok),
      );
      return r.runRetentionSweep;
    },
  };
  return api;
}

export type Api = ReturnType<typeof apiClient>;

/** Message rows physically stored for a conversation ("purged" means deleted rows). */
export async function storedMessages(db: TestDatabase, conversationId: string): Promise<number> {
  const [r] = await rows<{ n: number }>(
    db.handle.db,
    sql`SELECT count(*)::int AS n FROM messages WHERE conversation_id = ${conversationId}`,
  );
  return r?.n ?? 0;
}

/** Distinct user ids for one test: `names('r1', 'a', 'b')` → `['r1-a', 'r1-b']`. */
export function names<const K extends string[]>(prefix: string, ...who: K): { [I in keyof K]: string } {
  return who.map((w) => `${prefix}-${w}`) as { [I in keyof K]: string };
}
