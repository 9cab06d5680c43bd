import type { Viewer } from '../auth.js';
import { decideSend } from '../contacts/contacts.rules.js';
import { loadEntries, lockPair } from '../contacts/contacts.store.js';
import type { Db } from '../db/client.js';
import { checkIdempotencyKey, claimKey, fingerprintOf, rememberKey } from '../idempotency/idempotency.js';
import { publish } from '../notices/notices.outbox.js';
import { historyVisible } from '../retention/retention.rules.js';
import type { Deps } from '../shared/deps.js';
import { isUuid, malformedId, requireId } from '../shared/ids.js';
import { ok, onField, type Result, refuse } from '../shared/result.js';
import { checkBody } from './messages.rules.js';
import { findConversationOf, findMessage, insertMessage, listConversationsOf } from './messages.store.js';
import type { ConversationRow, MessageRow } from './messages.tables.js';

/** The other party of a direct conversation. */
export const peerOf = (c: ConversationRow, userId: string): string =>
  c.userLow === userId ? c.userHigh! : c.userLow!;

/**
 * `sendMessage`: refused per SPEC §1 (R2: VERIFICATION_REQUIRED, the same for a peer's delete and
 * block); a malformed conversation id → BAD_USER_INPUT, an unknown one → NOT_FOUND. Holds the pair
 * lock shared, so no message lands after an R4 purge in the same instant. With an idempotency key,
 * a second call of the same user with the same key within 24 hours answers the first call's
 * message and creates nothing (also when both arrive at once); only a successful send is
 * remembered, as a refused one created nothing.
 */
export async function sendMessage(
  deps: Deps,
  viewer: Viewer,
  input: { conversationId: string; body: string; idempotencyKey?: string | null },
): Promise<Result<{ message: MessageRow }>> {
  const body = input.body;
  const valid = checkBody(body);
  if (!valid.ok) return onField(valid, ['input', 'body']);
  const field = ['input', 'conversationId'];
  const malformed = malformedId('uuid', input.conversationId, field);
  if (malformed) return malformed;
  const key = input.idempotencyKey ?? null;
  const keyField = ['input', 'idempotencyKey'];
  const badKey = key === null ? undefined : checkIdempotencyKey(key, keyField);
  if (badKey) return badKey;
  const fingerprint = fingerprintOf('sendMessage', [input.conversationId, body]);
  return deps.db.transaction(async (tx) => {
    if (key !== null) {
      const claim = await claimKey(tx, viewer.userId, key, fingerprint, deps.clock.now(), keyField);
      if (!claim.ok) return claim;
      if (claim.value.first) {
        const first = await findMessage(tx, claim.value.resultId);
        return first
          ? ok({ message: first })
          : refuse(
              'NOT_FOUND',
              'The message first sent with this idempotency key no longer exists.',
              keyField,
            );
      }
    }
    const conversation = await findConversationOf(tx, input.conversationId, viewer.userId);
    if (conversation?.kind !== 'DIRECT') return refuse('NOT_FOUND', 'No such conversation.', field);
    const peerId = peerOf(conversation, viewer.userId);
    await lockPair(tx, viewer.userId, peerId, 'shared');
    const { ab, ba } = await loadEntries(tx, viewer.userId, peerId);
    const d = decideSend({ mine: ab, theirs: ba });
    if (!d.ok) return onField(d, field);
    const now = deps.clock.now();
    const message = await insertMessage(tx, {
      conversationId: conversation.id,
      senderId: viewer.userId,
      body,
      sentAt: now,
    });
    await publish(
      tx,
      [
        {
          recipientIds: [peerId, viewer.userId],
          kind: 'MessageReceived',
          payload: { conversationId: conversation.id, messageId: message.id, senderId: viewer.userId },
        },
      ],
      now,
    );
    if (key !== null) await rememberKey(tx, viewer.userId, key, fingerprint, message.id, now);
    return ok({ message });
  });
}

/** A conversation the viewer is a party of, or null; throws BAD_USER_INPUT for a malformed id. */
export async function getConversation(db: Db, viewerId: string, id: string): Promise<ConversationRow | null> {
  requireId('uuid', id);
  return (await findConversationOf(db, id, viewerId)) ?? null;
}

export { listConversationsOf };

/** A message the viewer may read (a party of its conversation), or null (also once purged, R3). */
export async function findMessageFor(
  db: Db,
  viewerId: string,
  id: string,
  now: Date,
): Promise<MessageRow | null> {
  if (!isUuid(id)) return null;
  const m = await findMessage(db, id);
  if (!m) return null;
  const c = await findConversationOf(db, m.conversationId, viewerId);
  return c && historyVisible(c, now) ? m : null;
}
