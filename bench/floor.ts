/**
 * The floor for scenarios (c) and (d): the statements ties sends for each use case (checked with
 * bench/trace-sql.ts), as plain SQL straight through `pg` — the same round trips and the same
 * transactions, with no HTTP, GraphQL, auth, Drizzle or domain logic, and no notice bus. No
 * NOTIFY either: since issue 12 ties sends its wake-ups after COMMIT, coalesced (a few per second
 * per instance at most, src/db/commit-signal.ts), so the floor leaves them out altogether.
 */
import type pg from 'pg';

const CONV = 'id, kind, user_low, user_high, created_at, mutual_since, purge_at, purged_at, purged_by';
const REQ = 'id, from_id, to_id, greeting, status, hidden, created_at, responded_at';
const MUTUAL_DELETE_BUFFER_MS = 30 * 24 * 3600 * 1000;

const SQL = {
  ensureUser: 'insert into users (id, name, created_at) values ($1, $2, $3) on conflict (id) do nothing',
  // The pair lock with the peer's existence, then entries and conversation (contacts.store.ts
  // `lockPairAndFindPeer`, `loadPairForUpdate`): two round trips since issue 12, as in ties.
  lockAndPeer:
    'WITH l AS MATERIALIZED (SELECT pg_advisory_xact_lock(hashtextextended($1, 0))) SELECT EXISTS (SELECT 1 FROM users WHERE id = $2) AS found FROM l',
  pairForUpdate: `WITH c AS (SELECT ${CONV} FROM conversations WHERE user_low = $1 AND user_high = $2 FOR UPDATE) SELECT e.owner_id, e.state, e.since, e.state_before_block, c.* FROM (SELECT 1) AS one LEFT JOIN c ON true LEFT JOIN contact_entries e ON (e.owner_id = $3 AND e.peer_id = $4) OR (e.owner_id = $4 AND e.peer_id = $3)`,
  convByPair: `select ${CONV} from conversations where (user_low = $1 and user_high = $2)`,
  // findConversationOf: a party that holds an entry about the peer (messages.store.ts `partyOf`).
  convOf: `select ${CONV} from conversations where (id = $1 and ((user_low = $2 or user_high = $3) and (kind <> 'DIRECT' OR EXISTS (SELECT 1 FROM contact_entries WHERE owner_id = $4 AND peer_id = CASE WHEN user_low = $5 THEN user_high ELSE user_low END))))`,
  pending: `select ${REQ} from friend_requests where (from_id = $1 and to_id = $2 and status = $3)`,
  pendingBothWays: `select ${REQ} from friend_requests where (((from_id = $1 and to_id = $2) or (from_id = $2 and to_id = $1)) and status = 'PENDING')`,
  request: `select ${REQ} from friend_requests where id = $1`,
  insertRequest: `insert into friend_requests (id, from_id, to_id, greeting, status, hidden, created_at, responded_at) values (default, $1, $2, $3, $4, $5, $6, $7) returning ${REQ}`,
  acceptRequest: `update friend_requests set status = $1, responded_at = $2 where id = $3 returning ${REQ}`,
  saveEntry:
    'insert into contact_entries (owner_id, peer_id, state, since, state_before_block) values ($1, $2, $3, $4, $5) on conflict (owner_id, peer_id) do update set state = $6, since = $7, state_before_block = $8',
  createConversation: `insert into conversations (id, kind, user_low, user_high, created_at, mutual_since, purge_at, purged_at, purged_by) values (default, $1, $2, $3, $4, default, default, default, default) returning ${CONV}`,
  updateRetention: `update conversations set mutual_since = $1, purge_at = $2, purged_at = $3, purged_by = $4 where id = $5 returning ${CONV}`,
  countMessages: 'select count(*) from messages where conversation_id = $1',
} as const;

const notices = (n: number) =>
  `insert into notices (id, xid, recipient_ids, kind, payload, at) values ${Array.from(
    { length: n },
    (_, i) => `(default, default, $${4 * i + 1}, $${4 * i + 2}, $${4 * i + 3}, $${4 * i + 4})`,
  ).join(', ')}`;
const NOTICES_1 = notices(1);
const NOTICES_2 = notices(2);
const NOTICES_3 = notices(3);

type Notice = [string[], string, Record<string, unknown>];
const noticeParams = (items: Notice[], at: Date) =>
  items.flatMap(([to, kind, payload]) => [to, kind, JSON.stringify(payload), at]);

/** The pair-lock key as ties builds it (src/contacts/contacts.store.ts `pairKey`). */
const pairKey = (a: string, b: string) => {
  const [low, high] = a < b ? [a, b] : [b, a];
  return `${low.length}:${low}:${high}`;
};
const ordered = (a: string, b: string): [string, string] => (a < b ? [a, b] : [b, a]);

async function inTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query('begin');
    const r = await fn(c);
    await c.query('commit');
    return r;
  } catch (err) {
    await c.query('rollback').catch(() => {});
    throw err;
  } finally {
    c.release();
  }
}

/** A pair lock and load, as `withPair` does. */
async function withPair(c: pg.PoolClient, actor: string, peer: string) {
  await c.query(SQL.lockAndPeer, [pairKey(actor, peer), peer]);
  const [low, high] = ordered(actor, peer);
  const pair = await c.query<{ id: string | null }>(SQL.pairForUpdate, [low, high, actor, peer]);
  return pair.rows[0]?.id ? pair.rows[0] : undefined;
}

/** sendFriendRequest(a → b) on a fresh pair: returns the request id. */
export async function floorSend(pool: pg.Pool, a: string, b: string): Promise<string> {
  const now = new Date();
  await pool.query(SQL.ensureUser, [a, a, now]);
  return inTransaction(pool, async (c) => {
    await withPair(c, a, b);
    await c.query(SQL.pendingBothWays, [a, b]);
    const r = await c.query<{ id: string }>(SQL.insertRequest, [a, b, null, 'PENDING', false, now, null]);
    const requestId = r.rows[0]!.id;
    await c.query(
      NOTICES_1,
      noticeParams([[[b], 'FriendRequestReceived', { requestId, fromUserId: a, greeting: null }]], now),
    );
    return requestId;
  });
}

/** respondToFriendRequest(accept) by b: returns the new conversation id. */
export async function floorAccept(pool: pg.Pool, a: string, b: string, requestId: string): Promise<string> {
  const now = new Date();
  await pool.query(SQL.ensureUser, [b, b, now]);
  await pool.query(SQL.request, [requestId]);
  return inTransaction(pool, async (c) => {
    await withPair(c, b, a);
    await c.query(SQL.request, [requestId]);
    await c.query(SQL.saveEntry, [b, a, 'FRIEND', now, null, 'FRIEND', now, null]);
    await c.query(SQL.saveEntry, [a, b, 'FRIEND', now, null, 'FRIEND', now, null]);
    const [low, high] = ordered(a, b);
    const conv = await c.query<{ id: string }>(SQL.createConversation, ['DIRECT', low, high, now]);
    const conversationId = conv.rows[0]!.id;
    await c.query(SQL.acceptRequest, ['ACCEPTED', now, requestId]);
    await c.query(SQL.pending, [b, a, 'PENDING']);
    await c.query(
      NOTICES_3,
      noticeParams(
        [
          [[b], 'ContactChanged', { peerId: a, state: 'FRIEND', deviceId: null }],
          [[a], 'ContactChanged', { peerId: b, state: 'FRIEND', deviceId: null }],
          [[a], 'FriendRequestAccepted', { requestId, byUserId: b, conversationId }],
        ],
        now,
      ),
    );
    return conversationId;
  });
}

/** deleteContact(SILENT) by `actor`; `second` = the peer deleted first (the pair becomes mutual). */
export async function floorDelete(
  pool: pg.Pool,
  actor: string,
  peer: string,
  second: boolean,
): Promise<void> {
  const now = new Date();
  await inTransaction(pool, async (c) => {
    const conv = await withPair(c, actor, peer);
    await c.query(SQL.saveEntry, [actor, peer, 'DELETED', now, null, 'DELETED', now, null]);
    if (second) {
      const purgeAt = new Date(now.getTime() + MUTUAL_DELETE_BUFFER_MS);
      await c.query(SQL.updateRetention, [now, purgeAt, null, null, conv!.id]);
      await c.query(
        NOTICES_2,
        noticeParams(
          [
            [[actor], 'ContactChanged', { peerId: peer, state: 'MUTUALLY_DELETED', deviceId: null }],
            [[peer], 'ContactChanged', { peerId: actor, state: 'MUTUALLY_DELETED', deviceId: null }],
          ],
          now,
        ),
      );
    } else {
      await c.query(
        NOTICES_1,
        noticeParams(
          [[[actor], 'ContactChanged', { peerId: peer, state: 'DELETED_BY_ME', deviceId: null }]],
          now,
        ),
      );
    }
    await c.query(SQL.countMessages, [conv!.id]);
  });
}

/** The whole cycle: request → accept → delete (a) → delete (b). */
export async function floorCycle(pool: pg.Pool, a: string, b: string): Promise<void> {
  const requestId = await floorSend(pool, a, b);
  await floorAccept(pool, a, b, requestId);
  await floorDelete(pool, a, b, false);
  await floorDelete(pool, b, a, true);
}

/** retentionStatus's read: the conversation (for a party with an entry), both entries and the count, in one statement — as `loadRetentionFacts`. */
export async function floorRetention(pool: pg.Pool, viewer: string, conversationId: string): Promise<void> {
  const r = await pool.query(
    `select c.*, row_to_json(mine) as mine, row_to_json(theirs) as theirs,
            (select count(*)::int from messages m where m.conversation_id = c.id) as stored_messages
     from conversations c
     join contact_entries mine on mine.owner_id = $2
       and mine.peer_id = case when c.user_low = $2 then c.user_high else c.user_low end
     left join contact_entries theirs on theirs.peer_id = $2
       and theirs.owner_id = case when c.user_low = $2 then c.user_high else c.user_low end
     where c.id = $1 and c.kind = 'DIRECT' and (c.user_low = $2 or c.user_high = $2)`,
    [conversationId, viewer],
  );
  if (!r.rows[0]) throw new Error('no such conversation');
}

/** Users `<prefix><k>a` and `<prefix><k>b` for k < pairs, in one statement. */
export async function createPairUsers(pool: pg.Pool, prefix: string, pairs: number): Promise<void> {
  await pool.query(
    `insert into users (id, name, created_at)
     select $1 || g || s, $1 || g || s, now() from generate_series(0, $2::int - 1) g, unnest(array['a', 'b']) s
     on conflict (id) do nothing`,
    [prefix, pairs],
  );
}

/** `n` messages in a conversation (for retentionStatus' count). */
export async function addMessages(pool: pg.Pool, conversationId: string, sender: string, n: number) {
  await pool.query(
    `insert into messages (conversation_id, sender_id, body, sent_at)
     select $1, $2, 'message ' || g, now() from generate_series(1, $3::int) g`,
    [conversationId, sender, n],
  );
}
