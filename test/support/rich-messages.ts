// Messages that carry an attachment or a payment, the download route and the payment ledger, for
// the tests of test/files and test/payments. Every call goes over HTTP as a real client's would.
import { sql } from 'drizzle-orm';
import { rows } from '../../src/db/client.js';
import { MESSAGE, type Page, type UserError } from './client.js';
import type { TestEnv } from './fixture.js';

export const ATTACHMENT = 'id name size sha256 url';
export const PAYMENT = 'id amountCents currency from { id } to { id } createdAt conversationId messageId';
export const RICH_MESSAGE = `${MESSAGE} attachment { ${ATTACHMENT} } payment { ${PAYMENT} }`;

export interface Attachment {
  id: string;
  name: string;
  size: number;
  sha256: string;
  url: string;
}
export interface Payment {
  id: string;
  amountCents: number;
  currency: string;
  from: { id: string };
  to: { id: string };
  createdAt: string;
  conversationId: string | null;
  messageId: string | null;
}
export interface RichMessage {
  id: string;
  conversationId: string;
  sender: { id: string };
  body: string;
  sentAt: string;
  starred: boolean;
  attachment: Attachment | null;
  payment: Payment | null;
}
export interface SendInput {
  body?: string;
  attachment?: { name: string; bytes: string };
  payment?: { amountCents: number; currency: string; toUserId: string };
  idempotencyKey?: string;
}
export interface Download {
  status: number;
  headers: Headers;
  bytes: Buffer;
}

/** Rows physically stored in the tables these features write. */
export interface Stored {
  messages: number;
  files: number;
  payments: number;
}

export function richClient(env: Omit<TestEnv, 'rich'>) {
  const rich = {
    /** sendMessage with whatever the input carries (body 'hi' unless given). */
    async send(who: string, conversationId: string, input: SendInput) {
      const r = await env.api.gql<{ sendMessage: { message: RichMessage | null; userErrors: UserError[] } }>(
        who,
        `mutation($input: SendMessageInput!) { sendMessage(input: $input) {
          message { ${RICH_MESSAGE} } userErrors { code message field } } }`,
        { input: { conversationId, body: 'hi', ...input } },
      );
      return r.sendMessage;
    },

    /** `send`, failing on any refusal; returns the message. */
    async sent(who: string, conversationId: string, input: SendInput): Promise<RichMessage> {
      const r = await rich.send(who, conversationId, input);
      if (!r.message) throw new Error(`sendMessage refused: ${JSON.stringify(r.userErrors)}`);
      return r.message;
    },

    /** The conversation's messages as `who` reads them, newest first. */
    async messages(who: string, conversationId: string): Promise<RichMessage[]> {
      const r = await env.api.gql<{ messages: Page<RichMessage> }>(
        who,
        `query($id: ID!) { messages(conversationId: $id, first: 100) { edges { node { ${RICH_MESSAGE} } } } }`,
        { id: conversationId },
      );
      return r.messages.edges.map((e) => e.node);
    },

    /**
     * GET `url` (an `Attachment.url`, relative to the server): as `who` (a user id), with a raw
     * `Authorization` value, or with none (null).
     */
    async download(
      url: string,
      as: { user: string } | { authorization: string } | null,
      headers: Record<string, string> = {},
    ): Promise<Download> {
      const authorization =
        as === null ? undefined : 'user' in as ? `Bearer ${await env.api.token(as.user)}` : as.authorization;
      const res = await fetch(`${env.server.url}${url}`, {
        headers: { ...headers, ...(authorization ? { authorization } : {}) },
      });
      return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
    },

    /** One page of `who`'s payment ledger (`Query.payments`). */
    async ledger(who: string, first?: number, after?: string): Promise<Page<Payment>> {
      const r = await env.api.gql<{ payments: Page<Payment> }>(
        who,
        `query($first: Int, $after: String) { payments(first: $first, after: $after) {
          edges { cursor node { ${PAYMENT} } } pageInfo { hasNextPage endCursor } } }`,
        { first, after },
      );
      return r.payments;
    },

    /** Every payment of `who`'s ledger, newest first, read page by page (`first` each). */
    async wholeLedger(who: string, first = 100): Promise<Payment[]> {
      const all: Payment[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await rich.ledger(who, first, after);
        all.push(...page.edges.map((e) => e.node));
        if (!page.pageInfo.hasNextPage) return all;
        after = page.pageInfo.endCursor!;
      }
    },

    /** Rows stored now in messages, files and payments (the whole database). */
    async stored(): Promise<Stored> {
      const [r] = await rows<Stored>(
        env.db.handle.db,
        sql`SELECT (SELECT count(*)::int FROM messages) AS messages,
                   (SELECT count(*)::int FROM files) AS files,
                   (SELECT count(*)::int FROM payments) AS payments`,
      );
      return r!;
    },

    /** File rows stored for these messages. */
    async filesOf(messageIds: string[]): Promise<number> {
      const [r] = await rows<{ n: number }>(
        env.db.handle.db,
        sql`SELECT count(*)::int AS n FROM files WHERE message_id = ANY(${sql.param(messageIds)}::uuid[])`,
      );
      return r?.n ?? 0;
    },
  };
  return rich;
}

export type RichClient = ReturnType<typeof richClient>;
