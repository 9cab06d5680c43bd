// The example client (examples/client) against a real server on real PostgreSQL, through a real TCP
// proxy that loses connections: notices are handed to the app exactly once and in cursor order
// across drops, reconnects and restarts; a send retried after a lost answer creates one message.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CursorStore,
  memoryCursorStore,
  type Notice,
  type NoticeStream,
  openNoticeStream,
  type ResyncReason,
} from '../../examples/client/src/notices.js';
import { type SendOptions, sendMessage } from '../../examples/client/src/send.js';
import { DAY } from '../../src/clock.js';
import { pruneNotices } from '../../src/notices/notices.outbox.js';
import { openTestEnv, type TestEnv } from '../support/fixture.js';
import { eventually, settleNotices } from '../support/notices.js';
import { TcpProxy } from './tcp-proxy.js';

const PULL = `query ($after: String) { notices(after: $after, first: 100) {
  edges { cursor node { __typename cursor ... on MessageReceived { messageId } } }
  pageInfo { hasNextPage endCursor } } }`;
interface PullPage {
  notices: {
    edges: { cursor: string; node: { __typename: string; cursor: string; messageId?: string } }[];
    pageInfo: { hasNextPage: boolean; endCursor: string };
  };
}

/** An app: what it was handed, in order, and its resyncs. Its handler can be held on one notice. */
function recordingApp() {
  const handed: Notice[] = [];
  const resyncs: ResyncReason[] = [];
  let hold: { release: () => void; released: Promise<void>; taken?: Notice } | undefined;
  return {
    handed,
    resyncs,
    /** The next notice handed stays in the app's hands until `release()`. */
    holdNext() {
      let release!: () => void;
      const released = new Promise<void>((r) => {
        release = r;
      });
      hold = { release, released };
      return hold;
    },
    onResync(reason: ResyncReason) {
      resyncs.push(reason);
    },
    async onNotice(n: Notice) {
      handed.push(n);
      if (hold && !hold.taken) {
        hold.taken = n;
        await hold.released;
      }
    },
    messageIds: () => handed.flatMap((n) => (n.__typename === 'MessageReceived' ? [n.messageId] : [])),
  };
}

describe('examples/client: a notice stream that resumes without gaps or duplicates, retry-safe sends', () => {
  let env: TestEnv;
  let wsProxy: TcpProxy;
  let httpProxy: TcpProxy;
  let conversationId: string;
  let bobSends: SendOptions;
  const streams: NoticeStream[] = [];

  beforeAll(async () => {
    env = await openTestEnv();
    wsProxy = await TcpProxy.start(env.server.url);
    httpProxy = await TcpProxy.start(env.server.url);
    conversationId = await env.api.befriend('alice', 'bob');
    bobSends = { url: `${env.server.url}/graphql`, token: await env.api.token('bob'), baseDelayMs: 10 };
  });
  afterAll(async () => {
    await Promise.all(streams.map((s) => s.close()));
    await wsProxy?.stop();
    await httpProxy?.stop();
    await env?.close();
  });

  /** A stream as alice through the proxy, retrying fast (the test waits on conditions, not time). */
  const open = async (app: ReturnType<typeof recordingApp>, store: CursorStore, who = 'alice') => {
    const stream = openNoticeStream({
      url: wsProxy.wsUrl,
      token: await env.api.token(who),
      store,
      onNotice: (n) => app.onNotice(n),
      onResync: (r) => app.onResync(r),
      baseDelayMs: 10,
      maxDelayMs: 100,
      retryAttempts: 10_000,
    });
    streams.push(stream);
    return stream;
  };

  /** Bob sends `n` messages (the example's sendMessage, straight to the server); their ids in order. */
  const bobSays = async (n: number, tag: string): Promise<string[]> => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const r = await sendMessage({ conversationId, body: `${tag} ${i}` }, bobSends);
      if (!r.ok) throw new Error(`send refused: ${JSON.stringify(r.userErrors)}`);
      ids.push(r.message.id);
    }
    return ids;
  };

  /** Every notice the server keeps for `who` after `after`, in cursor order (the truth to compare with). */
  const serverNotices = async (who: string, after: string | null) => {
    await settleNotices(env.db.handle.db, { recipientId: who });
    const all: PullPage['notices']['edges'][number]['node'][] = [];
    for (let cursor = after; ; ) {
      const r = await env.api.gql<PullPage>(who, PULL, { after: cursor });
      all.push(...r.notices.edges.map((e) => e.node));
      if (!r.notices.pageInfo.hasNextPage) return all;
      cursor = r.notices.pageInfo.endCursor;
    }
  };

  const handedAll = (app: ReturnType<typeof recordingApp>, ids: string[]) =>
    eventually(() => ids.every((id) => app.messageIds().includes(id)), `${ids.length} messages handed out`);

  it('hands out every notice from before, during and after lost connections exactly once, in cursor order', async () => {
    const app = recordingApp();
    const store = memoryCursorStore();
    const stream = await open(app, store);
    // No cursor yet: the app loads its state first, then notices continue from a cursor taken before.
    await env.server.waitForStreams(1);
    expect(app.resyncs).toEqual(['NO_CURSOR']);
    const start = store.cursor;
    expect(start).toEqual(expect.any(String));

    // Before.
    const sent = await bobSays(3, 'before');
    await handedAll(app, sent);

    // During: a notice is in the app's hands when the connection is lost; more are committed while
    // the client cannot connect; the resubscribe goes out while that notice is still being handled.
    const hold = app.holdNext();
    sent.push(...(await bobSays(1, 'held')));
    await eventually(() => hold.taken !== undefined, 'the held notice to be handed');
    wsProxy.down = true;
    expect(wsProxy.cut()).toBe(1);
    await eventually(() => env.server.app.deps.bus.streamCount === 0, 'the server to drop the stream');
    sent.push(...(await bobSays(4, 'during')));
    await eventually(() => wsProxy.refused >= 1, 'a refused reconnect');
    wsProxy.down = false;
    await env.server.waitForStreams(1); // resubscribed, after the cursor before the held notice
    hold.release();
    await handedAll(app, sent);

    // After.
    sent.push(...(await bobSays(3, 'after')));
    await handedAll(app, sent);

    // A cut with notices committed right behind it, and the reconnect racing them.
    expect(wsProxy.cut()).toBe(1);
    sent.push(...(await bobSays(3, 'racing')));
    await handedAll(app, sent);

    // A restart: a new stream on the same store resumes exactly (the cursor is the only state).
    await stream.close();
    sent.push(...(await bobSays(2, 'offline')));
    const resumed = await open(app, store);
    sent.push(...(await bobSays(2, 'restarted')));
    await handedAll(app, sent);

    const truth = await serverNotices('alice', start);
    expect(app.handed.map((n) => n.cursor)).toEqual(truth.map((n) => n.cursor));
    expect(app.messageIds()).toEqual(sent);
    expect(new Set(app.handed.map((n) => n.cursor)).size).toBe(app.handed.length);
    expect(app.resyncs).toEqual(['NO_CURSOR']); // the restart resumed; it did not resync
    expect(store.cursor).toBe(truth.at(-1)?.cursor);
    // The replayed copy of the held notice was dropped, not handed out again; nothing else was
    // replayed twice (each resubscribe asked for what came after the cursor as it was then).
    expect(stream.duplicatesDropped).toBe(1);
    expect(wsProxy.accepted).toBeGreaterThanOrEqual(4);
    await resumed.close();
  });

  it('a send whose answer is lost is retried with the same idempotency key and creates one message', async () => {
    const app = recordingApp();
    const store = memoryCursorStore();
    const stream = await open(app, store);
    await eventually(() => app.resyncs.length === 1, 'the stream to start');
    const start = store.cursor;

    const cut = httpProxy.cutOnNextAnswer();
    const r = await sendMessage(
      { conversationId, body: 'sent once, answered once' },
      { ...bobSends, url: httpProxy.httpUrl },
    );
    await cut;
    expect(httpProxy.cuts).toBe(1);
    expect(httpProxy.posts).toBeGreaterThanOrEqual(2); // the lost attempt and the retry
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.attempts).toBeGreaterThanOrEqual(2);
    expect(r.message.body).toBe('sent once, answered once');

    const bodies = await env.api.bodies('alice', conversationId);
    expect(bodies.filter((b) => b === 'sent once, answered once')).toHaveLength(1);
    const ids = (await env.api.messages('alice', conversationId, 100)).edges
      .filter((e) => e.node.body === 'sent once, answered once')
      .map((e) => e.node.id);
    expect(ids).toEqual([r.message.id]);

    // One message, one notice: alice's stream hands it out once, as the server's record has it.
    await handedAll(app, [r.message.id]);
    const truth = await serverNotices('alice', start);
    expect(truth.filter((n) => n.messageId === r.message.id)).toHaveLength(1);
    expect(app.messageIds()).toEqual([r.message.id]);
    await stream.close();
  });

  it('a refused send is answered with its userErrors and never retried', async () => {
    const before = httpProxy.posts;
    const r = await sendMessage(
      { conversationId, body: '   ' }, // only whitespace: BAD_USER_INPUT
      { ...bobSends, url: httpProxy.httpUrl },
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.userErrors.map((e) => e.code)).toEqual(['BAD_USER_INPUT']);
    expect(r.attempts).toBe(1);
    expect(httpProxy.posts - before).toBe(1);
  });

  it('a refused token (close 4403) ends the stream at once, without retries, and keeps the cursor', async () => {
    const before = wsProxy.accepted;
    const store = memoryCursorStore();
    const app = recordingApp();
    const stream = openNoticeStream({
      url: wsProxy.wsUrl,
      token: 'not-a-token',
      store,
      onNotice: (n) => app.onNotice(n),
      onResync: (r) => app.onResync(r),
      baseDelayMs: 10,
      retryAttempts: 10_000,
    });
    streams.push(stream);
    await expect(stream.done).rejects.toMatchObject({ name: 'NoticeStreamError', closeCode: 4403 });
    expect(wsProxy.accepted - before).toBe(1);
    expect(app.resyncs).toEqual([]);
    expect(store.cursor).toBeNull();
  });

  it('a cursor older than the notices kept (CURSOR_EXPIRED) makes the app resync, then notices continue', async () => {
    // Runs last in this file: the prune removes everything older than 7 days.
    const carolChat = await env.api.befriend('carol', 'dave');
    const dave = { ...bobSends, token: await env.api.token('dave') };
    const old = await sendMessage({ conversationId: carolChat, body: 'old' }, dave);
    expect(old.ok).toBe(true);
    const kept = await serverNotices('carol', null);
    const stale = kept.at(-1)!.cursor;

    env.clock.advance((8 * DAY) / 1000);
    const missed = await sendMessage({ conversationId: carolChat, body: 'while away' }, dave);
    expect(missed.ok).toBe(true);
    await settleNotices(env.db.handle.db);
    expect(await pruneNotices(env.db.handle.db, env.clock.now())).toBeGreaterThan(0);

    const app = recordingApp();
    const store = memoryCursorStore(stale);
    await open(app, store, 'carol');
    await eventually(() => app.resyncs.length === 1, 'the resync');
    expect(app.resyncs).toEqual(['CURSOR_EXPIRED']);
    const fresh = await sendMessage({ conversationId: carolChat, body: 'after the resync' }, dave);
    if (!fresh.ok) throw new Error('send refused');
    await handedAll(app, [fresh.message.id]);
    // What came before the resync is in the reloaded state, not in the stream.
    expect(app.messageIds()).toEqual([fresh.message.id]);
    expect(store.cursor).toBe(app.handed.at(-1)?.cursor);
  });
});
