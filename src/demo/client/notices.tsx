// The viewer's notice log: the `notices` subscription over graphql-ws, resumed with
// `notices(after: cursor)` after a reload or a dropped connection, so nothing appears twice and
// nothing is missed. The log and its last cursor are kept in localStorage, per user.
//
// First visit (no cursor kept): Query.notices pages through what the server still keeps (oldest
// first) to its `endCursor`, then the subscription goes live from exactly there. From then on
// every (re)connection subscribes with `after` = the last cursor seen; an entry whose cursor is in
// the log already is dropped.
import { type Client, createClient } from 'graphql-ws/client';
import { DemoError, type Session, WS_URL } from './api.js';

const NOTICE_FIELDS = `cursor at __typename
  ... on FriendRequestReceived { requestId fromUserId greeting }
  ... on FriendRequestAccepted { requestId byUserId conversationId }
  ... on ContactRemovedYou { byUserId }
  ... on ContactChanged { peerId state deviceId }
  ... on MessageReceived { conversationId messageId senderId message { body } }
  ... on ConversationPurged { conversationId reason purgedMessages }
  ... on GroupMemberChanged { groupId change userIds byUserId role }
  ... on OwnershipTransferChanged { transferId groupId fromUserId toUserId transferStatus: status }
  ... on GroupDissolutionChanged { groupId dissolutionId dissolutionStatus: status keepHistory effectiveAt undoUntil byOwnerId endReason }
  ... on DissolutionReviewDecided { reviewId reviewStatus: status dissolvedGroupIds refusedGroupIds }`;

const PULL = `query DemoNotices($after: String) { notices(after: $after, first: 50) {
  edges { node { ${NOTICE_FIELDS} } } pageInfo { hasNextPage endCursor } } }`;
const LIVE = `subscription DemoLive($after: String) { notices(after: $after) { ${NOTICE_FIELDS} } }`;

/** A notice as the server sends it (the fields of its kind only). */
export type Notice = { cursor: string; at: string; __typename: string } & Record<string, unknown>;

/** One line of the log. */
export interface NoticeEntry {
  cursor: string;
  at: string;
  kind: string;
  text: string;
}

export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'offline';

const MAX_ENTRIES = 500;
const short = (id: unknown) => String(id ?? '').slice(0, 8);
const list = (ids: unknown) => (Array.isArray(ids) ? ids.join(', ') : '');

/** What a notice says, in a line. */
export function describe(n: Notice): string {
  switch (n.__typename) {
    case 'FriendRequestReceived':
      return `${n.fromUserId} sent you a friend request${n.greeting ? `: “${n.greeting}”` : ''}`;
    case 'FriendRequestAccepted':
      return `${n.byUserId} accepted your friend request`;
    case 'ContactRemovedYou':
      return `${n.byUserId} removed you and chose to tell you (R6)`;
    case 'ContactChanged':
      return `your view of ${n.peerId} is now ${n.state ?? 'no entry'}`;
    case 'MessageReceived': {
      const body = (n.message as { body?: string } | null)?.body;
      return `message from ${n.senderId}: ${body === undefined ? '(purged)' : `“${body}”`}`;
    }
    case 'ConversationPurged':
      return `conversation ${short(n.conversationId)} purged (${n.reason}, ${n.purgedMessages} messages)`;
    case 'GroupMemberChanged':
      return `group ${short(n.groupId)}: ${list(n.userIds)} ${String(n.change).toLowerCase()} (by ${n.byUserId}${n.role ? `, role ${n.role}` : ''})`;
    case 'OwnershipTransferChanged':
      return `group ${short(n.groupId)}: ownership transfer ${n.fromUserId} → ${n.toUserId} ${n.transferStatus}`;
    case 'GroupDissolutionChanged':
      return `group ${short(n.groupId)}: dissolution ${n.dissolutionStatus}${n.byOwnerId ? ` (by ${n.byOwnerId})` : ''}${n.endReason ? `, ${n.endReason}` : ''}`;
    case 'DissolutionReviewDecided':
      return `batch dissolution ${n.reviewStatus}: dissolved ${list(n.dissolvedGroupIds) || 'none'}`;
    default:
      return n.__typename;
  }
}

interface PullAnswer {
  notices: {
    edges: { node: Notice }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

interface Stored {
  cursor: string | undefined;
  entries: NoticeEntry[];
}

const storageKey = (userId: string) => `ties-demo/notices/${userId}`;

function load(userId: string): Stored {
  try {
    const s = JSON.parse(localStorage.getItem(storageKey(userId)) ?? 'null') as Stored | null;
    if (s && Array.isArray(s.entries)) return { cursor: s.cursor ?? undefined, entries: s.entries };
  } catch {
    // unreadable: start afresh
  }
  return { cursor: undefined, entries: [] };
}

/** The codes with which the server refuses a kept cursor: start again from what it keeps. */
const CURSOR_REFUSED = new Set(['CURSOR_EXPIRED', 'BAD_USER_INPUT']);

/**
 * One user's live notice stream. `onChange` gets the log and the connection state whenever either
 * changes; `onNotice` gets each notice that was not in the log yet.
 */
export class NoticeStream {
  private stored: Stored;
  private seen: Set<string>;
  private state: StreamState = 'connecting';
  private client: Client | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private failures = 0;
  private stopped = false;
  private lastError = '';

  constructor(
    private readonly session: Session,
    private readonly onChange: (entries: NoticeEntry[], state: StreamState, error: string) => void,
    private readonly onNotice: (n: Notice) => void,
  ) {
    this.stored = load(session.userId);
    this.seen = new Set(this.stored.entries.map((e) => e.cursor));
  }

  get entries(): NoticeEntry[] {
    return this.stored.entries;
  }

  start(): void {
    window.addEventListener('online', this.wentOnline);
    window.addEventListener('offline', this.wentOffline);
    this.emit();
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    window.removeEventListener('online', this.wentOnline);
    window.removeEventListener('offline', this.wentOffline);
    clearTimeout(this.timer);
    this.drop();
  }

  private readonly wentOnline = () => {
    clearTimeout(this.timer);
    this.failures = 0;
    if (!this.client) void this.connect();
  };

  private readonly wentOffline = () => {
    // The socket may linger half-open: close it now and resume from the cursor once back.
    clearTimeout(this.timer);
    this.drop();
    this.setState('offline');
  };

  private emit(): void {
    this.onChange(this.stored.entries, this.state, this.lastError);
  }

  private setState(state: StreamState, error = ''): void {
    this.state = state;
    this.lastError = error;
    this.emit();
  }

  private persist(): void {
    try {
      localStorage.setItem(storageKey(this.session.userId), JSON.stringify(this.stored));
    } catch {
      // storage full or refused: the log lives on in memory
    }
  }

  /** Adds a notice unless its cursor is in the log; moves the cursor on either way. */
  private accept(n: Notice): void {
    if (this.seen.has(n.cursor)) return;
    this.seen.add(n.cursor);
    const entries = [
      ...this.stored.entries,
      { cursor: n.cursor, at: n.at, kind: n.__typename, text: describe(n) },
    ];
    this.stored = { cursor: n.cursor, entries: entries.slice(-MAX_ENTRIES) };
    this.persist();
    this.emit();
    this.onNotice(n);
  }

  private drop(): void {
    const client = this.client;
    this.client = undefined;
    if (client) void client.dispose();
  }

  private retry(error: string): void {
    this.drop();
    if (this.stopped) return;
    if (!navigator.onLine) {
      this.setState('offline');
      return;
    }
    this.failures++;
    this.setState('reconnecting', error);
    const delay = Math.min(10_000, 500 * 2 ** Math.min(this.failures - 1, 5));
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.connect(), delay);
  }

  /** First visit (or a cursor the server refused): reads what the server keeps, up to its end. */
  private async catchUp(): Promise<void> {
    let after: string | null = null;
    for (;;) {
      const r: PullAnswer = await this.session.gql<PullAnswer>(PULL, { after });
      for (const e of r.notices.edges) this.accept(e.node);
      after = r.notices.pageInfo.endCursor ?? after;
      if (!r.notices.pageInfo.hasNextPage) break;
    }
    this.stored = { ...this.stored, cursor: after ?? undefined };
    this.persist();
  }

  private async connect(): Promise<void> {
    if (this.stopped || this.client) return;
    if (!navigator.onLine) return this.setState('offline');
    this.setState(this.failures ? 'reconnecting' : 'connecting', this.lastError);
    try {
      if (this.stored.cursor === undefined) await this.catchUp();
    } catch (err) {
      return this.retry(err instanceof Error ? err.message : String(err));
    }
    if (this.stopped || this.client) return;
    let pongTimer: ReturnType<typeof setTimeout> | undefined;
    let socket: WebSocket | undefined;
    const client = createClient({
      url: WS_URL,
      lazy: true,
      retryAttempts: 0, // reconnection is ours: it resubscribes from the last cursor, not the first
      keepAlive: 10_000,
      connectionParams: async () => ({ authorization: `Bearer ${(await this.session.token()).token}` }),
      on: {
        connected: (s) => {
          socket = s as WebSocket;
          if (this.client !== client) return;
          this.failures = 0;
          this.setState('live');
        },
        ping: (received) => {
          // No pong within 5 s: the connection is dead though the socket has not noticed.
          if (!received)
            pongTimer = setTimeout(() => {
              if (socket?.readyState === WebSocket.OPEN) socket.close(4408, 'Pong timeout');
            }, 5_000);
        },
        pong: (received) => {
          if (received) clearTimeout(pongTimer);
        },
        closed: () => clearTimeout(pongTimer),
      },
    });
    this.client = client;
    client.subscribe<{ notices: Notice }>(
      { query: LIVE, variables: { after: this.stored.cursor ?? null } },
      {
        next: (r) => {
          if (this.client !== client) return;
          if (r.data?.notices) this.accept(r.data.notices);
        },
        error: (err) => {
          if (this.client !== client) return;
          const errors = Array.isArray(err)
            ? (err as { message: string; extensions?: { code?: string } }[])
            : [];
          const refused = errors.find((e) => CURSOR_REFUSED.has(e.extensions?.code ?? ''));
          if (refused) {
            // The kept cursor is too old (or from another database): read on from what is kept.
            this.stored = { ...this.stored, cursor: undefined };
            this.persist();
          }
          this.retry(describeError(err));
        },
        complete: () => {
          if (this.client === client) this.retry('The server ended the stream.');
        },
      },
    );
  }
}

function describeError(err: unknown): string {
  if (Array.isArray(err)) return err.map((e: { message?: string }) => e.message).join('; ');
  if (err instanceof DemoError || err instanceof Error) return err.message;
  const close = err as { code?: number; reason?: string };
  if (typeof close?.code === 'number')
    return `connection closed (${close.code}${close.reason ? `: ${close.reason}` : ''})`;
  return 'connection lost';
}
