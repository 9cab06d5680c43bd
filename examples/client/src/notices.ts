/**
 * A notice stream that resumes without gaps or duplicates.
 *
 * The server does the hard part: `subscription { notices(after: $cursor) }` replays every notice
 * after the cursor, then goes live, each notice once and in cursor order (README, "How notices stay
 * exact"). What a client must add is small, and all of it is here:
 *
 * 1. Keep the cursor of the last notice handed to the application (and persist it if the app
 *    wants to survive restarts: `CursorStore`). It is the only state: the server keeps the rest.
 * 2. On every (re)connect, subscribe with `after:` that cursor — not the cursor of the first
 *    subscribe. graphql-ws re-sends an operation's payload on every reconnect; our payload reads
 *    `variables` when the message is sent, so each reconnect asks for what comes after the cursor
 *    as it is then (enisdenjo/graphql-ws#90).
 * 3. Never hand a notice out twice: notices the old socket delivered but the app has not been
 *    handed yet are forgotten when the new connection is acknowledged (the replay brings them
 *    again), and a replayed notice whose cursor the app has already been handed — the one in the
 *    app's hands while the resubscribe went out — is dropped.
 * 4. A cursor the server no longer keeps (`CURSOR_EXPIRED`, after 7+ days offline) cannot resume:
 *    the app reloads its state from queries (`onResync`) and the stream continues from a cursor
 *    taken before that reload.
 */
import type { DocumentTypeDecoration, ResultOf, VariablesOf } from '@graphql-typed-document-node/core';
import { type Client, createClient, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import type { NoticeFieldsFragment, NoticeFrontierQuery } from './gql/graphql.js';
import { graphql } from './gql/index.js';

/** One notice, as selected below; `__typename` tells the kinds apart. */
export type Notice = NoticeFieldsFragment;

graphql(`
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
`);

const NoticesSubscription = graphql(`
  subscription Notices($after: String) {
    notices(after: $after) {
      ...NoticeFields
    }
  }
`);

/**
 * The cursor right after the newest notice kept for the viewer. `Query.notices` says:
 * "`pageInfo.endCursor` is always set: pass it to the `notices` subscription to continue live from
 * exactly here". Only `pageInfo` is selected: the pages are walked, not downloaded.
 */
const NoticeFrontier = graphql(`
  query NoticeFrontier($after: String) {
    notices(after: $after, first: 100) {
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

/** Where the cursor lives between notices, reconnects and restarts. */
export interface CursorStore {
  load(): Promise<string | null> | string | null;
  /** Called after each notice the app handled; the stream waits for it before the next one. */
  save(cursor: string): Promise<void> | void;
}

/** The cursor in memory: a reconnect resumes exactly; a restart of the process starts over. */
export function memoryCursorStore(initial: string | null = null): CursorStore & { cursor: string | null } {
  return {
    cursor: initial,
    load() {
      return this.cursor;
    },
    save(cursor) {
      this.cursor = cursor;
    },
  };
}

/**
 * Why the app must reload its state from queries before notices continue:
 * - `NO_CURSOR`: a first start (nothing stored yet);
 * - `CURSOR_EXPIRED`: the stored cursor is older than the notices the server keeps (7 days at least);
 * - `CURSOR_REJECTED`: the stored cursor is not one of the server's (`BAD_USER_INPUT`; a corrupted store).
 */
export type ResyncReason = 'NO_CURSOR' | 'CURSOR_EXPIRED' | 'CURSOR_REJECTED';

/** A GraphQL error as the server sends it; clients branch on `extensions.code`. */
export interface ServerError {
  message: string;
  extensions?: { code?: string; [key: string]: unknown };
}

/** The stream stopped for good; the cursor in the store is still exact, so a new stream resumes. */
export class NoticeStreamError extends Error {
  /** The WebSocket close code, when a close ended the stream (4403: get a new token). */
  readonly closeCode: number | undefined;
  /** With close code 4429: seconds the server asked the client to wait before connecting again. */
  readonly retryAfterSeconds: number | undefined;
  /** The server's errors, when it refused the operation. */
  readonly errors: readonly ServerError[];

  constructor(
    message: string,
    details: {
      closeCode?: number;
      retryAfterSeconds?: number;
      errors?: readonly ServerError[];
      cause?: unknown;
    } = {},
  ) {
    super(message, { cause: details.cause });
    this.name = 'NoticeStreamError';
    this.closeCode = details.closeCode;
    this.retryAfterSeconds = details.retryAfterSeconds;
    this.errors = details.errors ?? [];
  }
}

export interface NoticeStreamOptions {
  /** `ws://host:4000/graphql` (or `wss://`). */
  url: string;
  /** The bearer token, or a function asked on every (re)connect (so a refreshed token is used). */
  token: string | (() => string | Promise<string>);
  /** Handles one notice; the next one waits until it resolves, and the cursor moves only then. */
  onNotice(notice: Notice): void | Promise<void>;
  /**
   * Reload what the app shows from queries. Called before the first notice when there is no usable
   * cursor. Notices that follow may describe changes the reloaded state already shows: apply them
   * as "make it so", not as increments.
   */
  onResync(reason: ResyncReason): void | Promise<void>;
  /** Default: in memory. Persist it to resume across restarts. */
  store?: CursorStore;
  /** Connection state, for a status line. */
  onStatus?(status: 'connecting' | 'live' | 'reconnecting'): void;
  /** Consecutive failed connection attempts before the stream gives up (default 10). */
  retryAttempts?: number;
  /** Backoff between attempts: full jitter over `min(maxDelayMs, baseDelayMs × 2^attempt)`. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /**
   * Ping the server this often (ms; 0 = never). A pong missing for `pongTimeoutMs` means the
   * connection is dead without a close (a NAT dropped it): it is cut and resumed.
   */
  keepAliveMs?: number;
  pongTimeoutMs?: number;
  /** Default: the `ws` package. A browser passes `WebSocket`. */
  webSocketImpl?: unknown;
}

/**
 * Close codes ties or graphql-ws use, and whether a reconnect can help:
 *
 * NOT retried — the stream ends with a `NoticeStreamError`; the app fixes the cause and opens a new
 * stream on the same store, which resumes exactly:
 * - 4403: the token is missing, bad or expired (also closed so when a live socket's token expires).
 *   Retrying with the same token would be refused forever: get a new token first.
 * - 4429: too many connections without a valid token from this address. graphql-ws itself never
 *   retries 4429 (for it, "too many initialisation requests"); ties sends it only to a socket that
 *   has no valid token, so it is a token problem too. Its reason says when to try again:
 *   `retryAfterSeconds` on the error. Wait at least that long.
 * - 4400, 4401, 4406, 4409, 4500, 4004, 4005 and 1002–1011 except 1005/1006 (graphql-ws treats
 *   these as fatal): a protocol mismatch or a bug; the same request would fail the same way. 1009:
 *   a message over the server's `MAX_REQUEST_BYTES`.
 *
 * Retried with backoff (up to `retryAttempts` consecutive failures):
 * - 1001: the server is stopping (any instance will do; the cursor resumes on it);
 * - 1006 / 1005 / network errors (refused, reset, DNS): the connection was lost;
 * - 1012, 1013, 1014, 4499 (terminated: a missed pong), 4408, 4504 (handshake timeouts).
 */
export const FATAL_CLOSE_CODES: ReadonlySet<number> = new Set([4403, 4429]);

const isCloseEvent = (e: unknown): e is { code: number; reason: string } =>
  typeof e === 'object' && e !== null && 'code' in e && 'reason' in e;

/** Cursors the app was handed, remembered to drop a replayed one. Only the last few can recur. */
const REMEMBERED_CURSORS = 256;

export interface NoticeStream {
  /** The cursor of the last notice handed to the app (null before the first). */
  readonly cursor: string | null;
  /** Diagnostics: notices dropped because the app had been handed them already. */
  readonly duplicatesDropped: number;
  /** Resolves when `close()` ended the stream; rejects with a `NoticeStreamError` when it failed. */
  readonly done: Promise<void>;
  /** Stops the stream (waits for the notice in the app's hands) and closes the socket. */
  close(): Promise<void>;
}

/** Opens the stream: resumes after the stored cursor, or has the app resync first. */
export function openNoticeStream(options: NoticeStreamOptions): NoticeStream {
  const store = options.store ?? memoryCursorStore();
  const baseDelayMs = options.baseDelayMs ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const keepAliveMs = options.keepAliveMs ?? 10_000;
  const pongTimeoutMs = options.pongTimeoutMs ?? 5_000;

  let cursor: string | null = null;
  const handed: string[] = []; // the last REMEMBERED_CURSORS cursors handed to the app, in order
  const handedSet = new Set<string>();
  let queue: Notice[] = []; // received, not handed yet
  let pumping = false;
  let idle: Promise<void> = Promise.resolve();
  let duplicatesDropped = 0;
  let closing = false;
  let unsubscribe: (() => void) | undefined;
  let pongTimer: ReturnType<typeof setTimeout> | undefined;

  let settle!: { resolve: () => void; reject: (e: unknown) => void };
  const done = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  done.catch(() => {}); // the app may only look at it later

  const client: Client = createClient({
    url: options.url,
    webSocketImpl: options.webSocketImpl ?? WebSocket,
    lazy: true,
    connectionParams: async () => ({
      authorization: `Bearer ${typeof options.token === 'string' ? options.token : await options.token()}`,
    }),
    keepAlive: keepAliveMs,
    retryAttempts: options.retryAttempts ?? 10,
    shouldRetry: (e) => !isCloseEvent(e) || !FATAL_CLOSE_CODES.has(e.code),
    retryWait: (retries) => {
      const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** retries);
      return new Promise((r) => setTimeout(r, Math.random() * ceiling));
    },
    on: {
      connecting: (reconnecting) => options.onStatus?.(reconnecting ? 'reconnecting' : 'connecting'),
      connected: () => {
        // Everything the old socket sent has arrived (it closed before this one opened); what of it
        // the app has not been handed yet is replayed after the cursor, so it is forgotten here.
        queue = [];
        options.onStatus?.('live');
      },
      ping: (received) => {
        if (!received && pongTimeoutMs > 0) pongTimer = setTimeout(() => client.terminate(), pongTimeoutMs); // 4499: retried
      },
      pong: (received) => {
        if (received) clearTimeout(pongTimer);
      },
      closed: () => clearTimeout(pongTimer),
    },
  });

  const fail = (err: NoticeStreamError) => {
    if (closing) return;
    closing = true;
    unsubscribe?.();
    void client.dispose();
    settle.reject(err);
  };

  /**
   * Hands queued notices to the app one at a time; the cursor moves after each. One loop at a
   * time (`pumping`); `idle` settles when it has nothing left.
   */
  const pump = () => {
    if (pumping) return;
    pumping = true;
    idle = (async () => {
      try {
        for (let n = queue.shift(); n && !closing; n = queue.shift()) {
          if (handedSet.has(n.cursor)) {
            duplicatesDropped++;
            continue;
          }
          remember(n.cursor);
          await options.onNotice(n);
          cursor = n.cursor;
          await store.save(n.cursor);
        }
      } catch (err) {
        fail(new NoticeStreamError(`onNotice or the cursor store failed: ${String(err)}`, { cause: err }));
      } finally {
        pumping = false;
      }
    })();
  };

  const remember = (c: string) => {
    handed.push(c);
    handedSet.add(c);
    if (handed.length > REMEMBERED_CURSORS) handedSet.delete(handed.shift()!);
  };

  /** The frontier cursor, asked over the same socket (so the query shares its reconnects). */
  const frontier = async (): Promise<string> => {
    let after: string | null = null;
    for (;;) {
      const r: FormattedExecutionResult<NoticeFrontierQuery, unknown> = await execute(
        client,
        NoticeFrontier,
        { after },
      );
      const page = r.data?.notices.pageInfo;
      if (!page?.endCursor) throw new NoticeStreamError('Query.notices failed', { errors: r.errors ?? [] });
      if (!page.hasNextPage) return page.endCursor;
      after = page.endCursor;
    }
  };

  /** Takes a cursor first, then lets the app reload: nothing committed after that read is missed. */
  const resync = async (reason: ResyncReason) => {
    await idle; // the app finishes the notice in its hands before it reloads
    const fresh = await frontier();
    await options.onResync(reason);
    cursor = fresh;
    await store.save(fresh);
  };

  const subscribe = () => {
    if (closing) return;
    let refused: ResyncReason | undefined;
    unsubscribe = client.subscribe<ResultOf<typeof NoticesSubscription>>(
      {
        query: NoticesSubscription.toString(),
        // Read when graphql-ws sends the subscribe message — on the first connect and again on
        // every reconnect — so each (re)subscribe resumes from the cursor as it is then. (graphql-ws
        // 6 serializes the payload at each send; test/examples/client.test.ts fails if it stops.)
        get variables(): VariablesOf<typeof NoticesSubscription> {
          return { after: cursor };
        },
      },
      {
        next: (r) => {
          if (r.data?.notices) {
            queue.push(r.data.notices);
            pump();
            return;
          }
          // Refused when it opened: a `next` with the error, then `complete`.
          refused = resyncReason(r.errors);
          if (!refused)
            fail(new NoticeStreamError('The notices subscription failed', { errors: r.errors ?? [] }));
        },
        error: (e: unknown) => {
          // Refused while replaying (a prune overtook it): graphql-ws `error` message, an array.
          const reason = Array.isArray(e) ? resyncReason(e as ServerError[]) : undefined;
          if (reason) restart(reason);
          else fail(toStreamError(e));
        },
        complete: () => {
          if (refused) restart(refused);
          else if (!closing) fail(new NoticeStreamError('The server ended the notices subscription'));
        },
      },
    );
  };

  const restart = (reason: ResyncReason) => {
    unsubscribe = undefined;
    resync(reason).then(subscribe, (err: unknown) => fail(toStreamError(err)));
  };

  void (async () => {
    try {
      cursor = (await store.load()) || null; // "" would mean "from now" to the server: treat it as none
      if (cursor === null) await resync('NO_CURSOR');
      subscribe();
    } catch (err) {
      fail(toStreamError(err));
    }
  })();

  return {
    get cursor() {
      return cursor;
    },
    get duplicatesDropped() {
      return duplicatesDropped;
    },
    done,
    async close() {
      if (closing) return done.catch(() => {});
      closing = true;
      unsubscribe?.();
      await idle;
      await client.dispose();
      settle.resolve();
      return done;
    },
  };
}

/** Why the server refused a cursor, if it did. */
function resyncReason(errors: readonly ServerError[] | undefined): ResyncReason | undefined {
  const code = errors?.[0]?.extensions?.code;
  if (code === 'CURSOR_EXPIRED') return 'CURSOR_EXPIRED';
  // The only input of `notices` is the cursor: BAD_USER_INPUT means the server does not know it.
  if (code === 'BAD_USER_INPUT') return 'CURSOR_REJECTED';
  return undefined;
}

/** What graphql-ws reports (a close event, an error event, an operation's errors) as one error. */
function toStreamError(e: unknown): NoticeStreamError {
  if (e instanceof NoticeStreamError) return e;
  if (Array.isArray(e)) return new NoticeStreamError('The server refused the operation', { errors: e });
  if (isCloseEvent(e)) {
    const wait = /retry in (\d+) s/.exec(e.reason)?.[1];
    return new NoticeStreamError(`The socket closed with ${e.code}${e.reason ? ` (${e.reason})` : ''}`, {
      closeCode: e.code,
      ...(wait === undefined ? {} : { retryAfterSeconds: Number(wait) }),
    });
  }
  const message = e instanceof Error ? e.message : (e as { message?: unknown })?.message;
  return new NoticeStreamError(`The connection failed: ${String(message ?? e)}`, { cause: e });
}

/** One query or mutation over the socket, typed by its generated document. */
export function execute<TResult, TVariables>(
  client: Client,
  document: DocumentTypeDecoration<TResult, TVariables>,
  variables: TVariables,
): Promise<FormattedExecutionResult<TResult, unknown>> {
  return new Promise((resolve, reject) => {
    let result: FormattedExecutionResult<TResult, unknown> | undefined;
    client.subscribe<TResult, unknown>(
      { query: document.toString(), variables: variables as Record<string, unknown> },
      {
        next: (r) => {
          result = r;
        },
        error: reject,
        complete: () => (result ? resolve(result) : reject(new NoticeStreamError('No result'))),
      },
    );
  });
}
