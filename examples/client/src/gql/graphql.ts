/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/** A file to send with a message. */
export type AttachmentInput = {
  /**
   * The file's bytes, standard padded base64 (RFC 4648 §4, no line breaks); else `BAD_USER_INPUT`.
   * At most the server's `MAX_ATTACHMENT_BYTES` once decoded (default 524,288 bytes = 512 KiB); a
   * larger file is `BAD_USER_INPUT` naming the limit.
   */
  bytes: string;
  /** 1 to 255 characters (Unicode code points) without '/', '\' or U+0000; else `BAD_USER_INPUT`. */
  name: string;
};

/** The viewer's state toward a peer. A peer's one-way delete or block is invisible: the viewer still sees FRIEND (R2). */
export type ContactState =
  /** The viewer blocks the peer (R4); `unblockContact` returns to the state before the block (deleted, after a block and delete). */
  | 'BLOCKED_BY_ME'
  /** The viewer deleted the peer; the peer may still have the viewer (R2). */
  | 'DELETED_BY_ME'
  /** The viewer has the peer as a friend (whatever the peer did since, R2). */
  | 'FRIEND'
  /** Both deleted each other (R3). */
  | 'MUTUALLY_DELETED';

/**
 * Every code a client can receive, in `userErrors` or in a top-level error's `extensions.code` —
 * besides Apollo Server's own `BAD_REQUEST` and `OPERATION_RESOLUTION_FAILURE` for an HTTP request
 * that is malformed or names no runnable operation. Closed: codes are added, never renamed.
 */
export type ErrorCode =
  /** It exists already (an accepted friendship, an answered request). */
  | 'ALREADY_EXISTS'
  /** Top-level only: the HTTP request itself is malformed (not JSON, too large, no query). Nothing ran. */
  | 'BAD_REQUEST'
  /** The input is malformed or out of range; `field` names it. */
  | 'BAD_USER_INPUT'
  /** N1: the cursor is older than the notices kept (7 days at least); subscribe again without `after`. */
  | 'CURSOR_EXPIRED'
  /** The viewer may not do this (a rule refuses it, e.g. G1's permissions); nothing changed. */
  | 'FORBIDDEN'
  /** Top-level only: the document is not valid GraphQL syntax. Nothing ran. */
  | 'GRAPHQL_PARSE_FAILED'
  /**
   * Top-level only: the operation was refused before it ran — it does not fit the schema, or it
   * passes one of the server's operation limits (depth, aliases, directives, tokens, length, cost;
   * the message names the limit). Nothing ran.
   */
  | 'GRAPHQL_VALIDATION_FAILED'
  /**
   * G3: the group is dissolved (from `effectiveAt` on, until restored) and so read-only: sending,
   * inviting, removing, leaving, roles, transfers, protection and verification codes are refused. Also
   * `dissolveGroup` while a dissolution is already under way (waiting for the guardian, scheduled,
   * effective or final).
   */
  | 'GROUP_DISSOLVED'
  /**
   * G4: `dissolveGroup` on an ENTERPRISE group whose dissolution protection is on; the owner turns it
   * off first (`setDissolutionProtection`).
   */
  | 'GROUP_PROTECTED'
  /** An unexpected fault; the message is hidden and `extensions.requestId` is in the server log. */
  | 'INTERNAL_SERVER_ERROR'
  /**
   * G7: the `verificationCode` is wrong, used, expired (valid 10 minutes), replaced by a newer code, or
   * void after 5 wrong tries. A wrong code counts a try: the only thing a refused dissolution records.
   */
  | 'INVALID_CODE'
  /** No such thing visible to the viewer. */
  | 'NOT_FOUND'
  /** The action needs a friendship that the viewer does not have. */
  | 'NOT_FRIENDS'
  /** Top-level only: an automatic persisted query's hash is unknown here; send the query with its hash. */
  | 'PERSISTED_QUERY_NOT_FOUND'
  /**
   * Too many requests: a signed-in user's mutations (each root mutation field counts one), or
   * requests without a valid token from one address, passed the limit of the current window.
   * Nothing changed. In `userErrors` (mutations) `retryAfterSeconds` says when to try again; as a
   * top-level error (HTTP 429 with a `Retry-After` header) `extensions.retryAfterSeconds` does.
   */
  | 'RATE_LIMITED'
  /**
   * Top-level only (HTTP 503 with `Connection: close` and `Retry-After`): this server is stopping and
   * the request arrived after it stopped taking work. Nothing ran; send it again — a new connection
   * reaches another instance.
   */
  | 'SERVICE_UNAVAILABLE'
  /**
   * G7: this dissolution needs a verification code and none was given (the owner's 4th dissolution in
   * 24 hours, a device the owner never dissolved a group from, or an EDUCATION group; the message
   * names the reasons). Call `requestVerificationCode`, then pass `verificationCode`.
   */
  | 'STEP_UP_REQUIRED'
  /** No valid token (top-level errors only). */
  | 'UNAUTHENTICATED'
  /**
   * R2/R4: the peer does not accept messages from the viewer right now. The same answer whether the
   * peer deleted or blocked the viewer, so the viewer cannot tell which.
   */
  | 'VERIFICATION_REQUIRED'
  /**
   * Too late: `cancelDissolution` after the dissolution took effect (G5), `restoreGroup` after the
   * 48-hour undo window (G6), `confirmDissolution` after the guardian's 72 hours (G9).
   */
  | 'WINDOW_CLOSED';

/** What a `GroupMemberChanged` notice reports. */
export type GroupMemberChange =
  /** `userIds` joined (created with the group, or invited). */
  | 'JOINED'
  /** `userIds` left. */
  | 'LEFT'
  /** `userIds` were removed by `byUserId`; sent once to the removed user too. */
  | 'REMOVED'
  /** `userIds` have the role `role` now (also the two sides of an accepted transfer). */
  | 'ROLE_CHANGED';

/** A payment to send with a message. */
export type PaymentInput = {
  /** A whole number of cents (minor units) from 1 to 100,000,000; else `BAD_USER_INPUT`. */
  amountCents: number;
  /** Three uppercase letters (ISO 4217, e.g. `EUR`); else `BAD_USER_INPUT`. */
  currency: string;
  /**
   * Who is paid: in a DIRECT conversation the peer, in a GROUP conversation a current member other
   * than the viewer. The viewer, or a malformed id, is `BAD_USER_INPUT`; anyone else `NOT_FOUND`.
   */
  toUserId: string | number;
};

/** What sendMessage takes. */
export type SendMessageInput = {
  /** Optional: a file sent with the message (at most one). A refused send stores nothing. */
  attachment?: AttachmentInput | null | undefined;
  /** 1 to 10,000 characters (Unicode code points), not only whitespace, without U+0000; else `BAD_USER_INPUT`. */
  body: string;
  /** A conversation id (a UUID); else `BAD_USER_INPUT`. One the viewer is no party of is `NOT_FOUND`. */
  conversationId: string | number;
  /**
   * Optional, chosen by the client for each new message (a UUID is a good choice; 1 to 255
   * characters): the same key from the same user within 24 hours answers the first call's message
   * and creates nothing new, also when both calls arrive at once, so a retry after a network error
   * never sends twice. Reusing a key for a different conversation, body, attachment or payment
   * within 24 hours is `BAD_USER_INPUT`. Only a successful send is remembered: a refused one
   * changed nothing, so its retry is decided anew.
   */
  idempotencyKey?: string | null | undefined;
  /** Optional: a payment to one other party of the conversation, recorded with the message. A refused send records nothing. */
  payment?: PaymentInput | null | undefined;
};

type NoticeFields_ContactChanged_Fragment = { __typename: 'ContactChanged', peerId: string, state: ContactState | null, deviceId: string | null, cursor: string, at: string };

type NoticeFields_ContactRemovedYou_Fragment = { __typename: 'ContactRemovedYou', byUserId: string, cursor: string, at: string };

type NoticeFields_ConversationPurged_Fragment = { __typename: 'ConversationPurged', conversationId: string, reason: string, purgedMessages: number, cursor: string, at: string };

type NoticeFields_DissolutionReviewDecided_Fragment = { __typename: 'DissolutionReviewDecided', cursor: string, at: string };

type NoticeFields_FriendRequestAccepted_Fragment = { __typename: 'FriendRequestAccepted', requestId: string, byUserId: string, conversationId: string, cursor: string, at: string };

type NoticeFields_FriendRequestReceived_Fragment = { __typename: 'FriendRequestReceived', requestId: string, fromUserId: string, greeting: string | null, cursor: string, at: string };

type NoticeFields_GroupDissolutionChanged_Fragment = { __typename: 'GroupDissolutionChanged', cursor: string, at: string };

type NoticeFields_GroupMemberChanged_Fragment = { __typename: 'GroupMemberChanged', groupId: string, change: GroupMemberChange, userIds: Array<string>, cursor: string, at: string };

type NoticeFields_MessageReceived_Fragment = { __typename: 'MessageReceived', conversationId: string, messageId: string, senderId: string, cursor: string, at: string };

type NoticeFields_OwnershipTransferChanged_Fragment = { __typename: 'OwnershipTransferChanged', cursor: string, at: string };

export type NoticeFieldsFragment =
  | NoticeFields_ContactChanged_Fragment
  | NoticeFields_ContactRemovedYou_Fragment
  | NoticeFields_ConversationPurged_Fragment
  | NoticeFields_DissolutionReviewDecided_Fragment
  | NoticeFields_FriendRequestAccepted_Fragment
  | NoticeFields_FriendRequestReceived_Fragment
  | NoticeFields_GroupDissolutionChanged_Fragment
  | NoticeFields_GroupMemberChanged_Fragment
  | NoticeFields_MessageReceived_Fragment
  | NoticeFields_OwnershipTransferChanged_Fragment
;

export type NoticesSubscriptionVariables = Exact<{
  after?: string | null | undefined;
}>;


export type NoticesSubscription = { notices:
    | { __typename: 'ContactChanged', peerId: string, state: ContactState | null, deviceId: string | null, cursor: string, at: string }
    | { __typename: 'ContactRemovedYou', byUserId: string, cursor: string, at: string }
    | { __typename: 'ConversationPurged', conversationId: string, reason: string, purgedMessages: number, cursor: string, at: string }
    | { __typename: 'DissolutionReviewDecided', cursor: string, at: string }
    | { __typename: 'FriendRequestAccepted', requestId: string, byUserId: string, conversationId: string, cursor: string, at: string }
    | { __typename: 'FriendRequestReceived', requestId: string, fromUserId: string, greeting: string | null, cursor: string, at: string }
    | { __typename: 'GroupDissolutionChanged', cursor: string, at: string }
    | { __typename: 'GroupMemberChanged', groupId: string, change: GroupMemberChange, userIds: Array<string>, cursor: string, at: string }
    | { __typename: 'MessageReceived', conversationId: string, messageId: string, senderId: string, cursor: string, at: string }
    | { __typename: 'OwnershipTransferChanged', cursor: string, at: string }
   };

export type NoticeFrontierQueryVariables = Exact<{
  after?: string | null | undefined;
}>;


export type NoticeFrontierQuery = { notices: { pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type SendMessageMutationVariables = Exact<{
  input: SendMessageInput;
}>;


export type SendMessageMutation = { sendMessage: { message: { id: string, conversationId: string, body: string, sentAt: string, sender: { id: string } } | null, userErrors: Array<{ code: ErrorCode, message: string, field: Array<string> | null, retryAfterSeconds: number | null }> } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const NoticeFieldsFragmentDoc = new TypedDocumentString(`
    fragment NoticeFields on Notice {
  __typename
  cursor
  at
  ... on MessageReceived {
    conversationId
    messageId
    senderId
  }
  ... on FriendRequestReceived {
    requestId
    fromUserId
    greeting
  }
  ... on FriendRequestAccepted {
    requestId
    byUserId
    conversationId
  }
  ... on ContactRemovedYou {
    byUserId
  }
  ... on ContactChanged {
    peerId
    state
    deviceId
  }
  ... on ConversationPurged {
    conversationId
    reason
    purgedMessages
  }
  ... on GroupMemberChanged {
    groupId
    change
    userIds
  }
}
    `, {"fragmentName":"NoticeFields"}) as unknown as TypedDocumentString<NoticeFieldsFragment, unknown>;
export const NoticesDocument = new TypedDocumentString(`
    subscription Notices($after: String) {
  notices(after: $after) {
    ...NoticeFields
  }
}
    fragment NoticeFields on Notice {
  __typename
  cursor
  at
  ... on MessageReceived {
    conversationId
    messageId
    senderId
  }
  ... on FriendRequestReceived {
    requestId
    fromUserId
    greeting
  }
  ... on FriendRequestAccepted {
    requestId
    byUserId
    conversationId
  }
  ... on ContactRemovedYou {
    byUserId
  }
  ... on ContactChanged {
    peerId
    state
    deviceId
  }
  ... on ConversationPurged {
    conversationId
    reason
    purgedMessages
  }
  ... on GroupMemberChanged {
    groupId
    change
    userIds
  }
}`) as unknown as TypedDocumentString<NoticesSubscription, NoticesSubscriptionVariables>;
export const NoticeFrontierDocument = new TypedDocumentString(`
    query NoticeFrontier($after: String) {
  notices(after: $after, first: 100) {
    pageInfo {
      hasNextPage
      endCursor
    }
  }
}
    `) as unknown as TypedDocumentString<NoticeFrontierQuery, NoticeFrontierQueryVariables>;
export const SendMessageDocument = new TypedDocumentString(`
    mutation SendMessage($input: SendMessageInput!) {
  sendMessage(input: $input) {
    message {
      id
      conversationId
      body
      sentAt
      sender {
        id
      }
    }
    userErrors {
      code
      message
      field
      retryAfterSeconds
    }
  }
}
    `) as unknown as TypedDocumentString<SendMessageMutation, SendMessageMutationVariables>;