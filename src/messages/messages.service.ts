import { createHash } from 'node:crypto';
import type { Viewer } from '../auth.js';
import { decideSend } from '../contacts/contacts.rules.js';
import { loadEntries, lockPair } from '../contacts/contacts.store.js';
import type { Db } from '../db/client.js';
import { checkFileName, decodeFileBytes } from '../files/files.rules.js';
import { fileStore } from '../files/files.store.js';
import { dissolvedAt, GROUP_DISSOLVED } from '../groups/dissolution.rules.js';
import { inForceDissolution } from '../groups/dissolution.store.js';
import { permit } from '../groups/groups.rules.js';
import { lockGroup, memberIds, standingIn } from '../groups/groups.store.js';
import { checkIdempotencyKey, claimKey, fingerprintOf, rememberKey } from '../idempotency/idempotency.js';
import { publish } from '../notices/notices.outbox.js';
import { checkPayment } from '../payments/payments.rules.js';
import { insertPayment } from '../payments/payments.store.js';
import { historyVisible } from '../retention/retention.rules.js';
import type { Deps } from '../shared/deps.js';
import { isUuid, malformedId, requireId } from '../shared/ids.js';
import { ok, onField, type Result, refuse } from '../shared/result.js';
import { checkBody } from './messages.rules.js';
import {
  findConversationOf,
  findMessage,
  insertMessage,
  inViewNow,
  listConversationsOf,
} from './messages.store.js';
import type { ConversationRow, MessageRow } from './messages.tables.js';

/** The other party of a direct conversation. */
export const peerOf = (c: ConversationRow, userId: string): string =>
  c.userLow === userId ? c.userHigh! : c.userLow!;

/** A file to send: the name as given, the bytes base64 (decoded and checked by `sendMessage`). */
export interface AttachmentInput {
  name: string;
  bytes: string;
}

/** A payment to send to another party of the conversation. */
export interface PaymentInput {
  amountCents: number;
  currency: string;
  toUserId: string;
}

export interface SendMessageInput {
  conversationId: string;
  body: string;
  idempotencyKey?: string | null;
  attachment?: AttachmentInput | null;
  payment?: PaymentInput | null;
}

/** A checked attachment: its name and decoded bytes. */
interface CheckedFile {
  name: string;
  bytes: Buffer;
}

/**
 * The input checks that need no database, in the order the fields are named: the first refusal
 * (BAD_USER_INPUT naming its field), or the decoded attachment.
 */
function checkInput(
  deps: Deps,
  viewer: Viewer,
  input: SendMessageInput,
): Result<{ file: CheckedFile | null }> {
  const valid = checkBody(input.body);
  if (!valid.ok) return onField(valid, ['input', 'body']);
  const malformed = malformedId('uuid', input.conversationId, ['input', 'conversationId']);
  if (malformed) return malformed;
  const key = input.idempotencyKey ?? null;
  const badKey = key === null ? undefined : checkIdempotencyKey(key, ['input', 'idempotencyKey']);
  if (badKey) return badKey;
  let file: CheckedFile | null = null;
  if (input.attachment) {
    const name = checkFileName(input.attachment.name);
    if (!name.ok) return onField(name, ['input', 'attachment', 'name']);
    const bytes = decodeFileBytes(input.attachment.bytes, deps.config.limits.maxAttachmentBytes);
    if (!bytes.ok) return onField(bytes, ['input', 'attachment', 'bytes']);
    file = { name: name.value, bytes: bytes.value };
  }
  if (input.payment) {
    const p = input.payment;
    const amount = checkPayment(p.amountCents, p.currency);
    if (!amount.ok) return amount;
    const toField = ['input', 'payment', 'toUserId'];
    const badPayee = malformedId('user', p.toUserId, toField);
    if (badPayee) return badPayee;
    if (p.toUserId === viewer.userId) return refuse('BAD_USER_INPUT', 'You cannot pay yourself.', toField);
  }
  return ok({ file });
}

/**
 * What the same idempotency key must keep asking for. A message without attachment or payment
 * keeps the fingerprint it had before either existed (keys recorded before then still match).
 */
function fingerprintOfSend(input: SendMessageInput, file: CheckedFile | null): string {
  const p = input.payment;
  const extras =
    file || p
      ? [
          file && { name: file.name, sha256: createHash('sha256').update(file.bytes).digest('hex') },
          p && { amountCents: p.amountCents, currency: p.currency, toUserId: p.toUserId },
        ]
      : [];
  return fingerprintOf('sendMessage', [input.conversationId, input.body, ...extras]);
}

/**
 * `sendMessage`: to a direct conversation, refused per SPEC §1 (R2: VERIFICATION_REQUIRED, the same
 * for a peer's delete and block); to a group's, by any current member. A malformed conversation id
 * → BAD_USER_INPUT, an unknown one (or one the sender may not see) → NOT_FOUND. With an idempotency key,
 * a second call of the same user with the same key within 24 hours answers the first call's
 * message and creates nothing (also when both arrive at once); only a successful send is
 * remembered, as a refused one created nothing.
 *
 * An attachment is stored (`fileStore`) and a payment recorded in the message's transaction; a
 * payment goes to another party of the conversation — the DIRECT peer, or a current member of the
 * group (decided under the same lock as the audience) — else NOT_FOUND on `input.payment.toUserId`.
 * Every refusal comes before the first write, so a refused send stores nothing.
 */
export async function sendMessage(
  deps: Deps,
  viewer: Viewer,
  input: SendMessageInput,
): Promise<Result<{ message: MessageRow }>> {
  const checked = checkInput(deps, viewer, input);
  if (!checked.ok) return checked;
  const { file } = checked.value;
  const { body, payment } = input;
  const field = ['input', 'conversationId'];
  const key = input.idempotencyKey ?? null;
  const keyField = ['input', 'idempotencyKey'];
  const fingerprint = fingerprintOfSend(input, file);
  return deps.db.transaction(async (tx) => {
    if (key !== null) {
      const claim = await claimKey(tx, viewer.userId, key, fingerprint, deps.clock.now(), keyField);
      if (!claim.ok) return claim;
      if (claim.value.first) {
        const first = await findMessage(tx, claim.value.resultId, deps.clock.now());
        // Purged since (a row a legal hold keeps is purged all the same, T3): NOT_FOUND.
        return first && first.purgedAt === null
          ? ok({ message: first })
          : refuse(
              'NOT_FOUND',
              'The message first sent with this idempotency key no longer exists.',
              keyField,
            );
      }
    }
    const conversation = await findConversationOf(tx, input.conversationId, viewer.userId);
    if (!conversation) return refuse('NOT_FOUND', 'No such conversation.', field);
    const audience = await audienceOf(tx, conversation, viewer.userId, deps.clock.now());
    if (!audience.ok) return onField(audience, field);
    const recipientIds = audience.value;
    // The audience is the sender and every other party, as of this send (under its lock).
    if (payment && !recipientIds.includes(payment.toUserId)) {
      return refuse('NOT_FOUND', 'No such party of this conversation.', ['input', 'payment', 'toUserId']);
    }
    const now = deps.clock.now();
    const message = await insertMessage(tx, {
      conversationId: conversation.id,
      senderId: viewer.userId,
      body,
      sentAt: now,
    });
    if (file) await fileStore.put(tx, { messageId: message.id, name: file.name, bytes: file.bytes, now });
    if (payment) {
      await insertPayment(tx, {
        messageId: message.id,
        conversationId: conversation.id,
        groupId: conversation.groupId,
        payerId: viewer.userId,
        payeeId: payment.toUserId,
        amountCents: payment.amountCents,
        currency: payment.currency,
        createdAt: now,
      });
    }
    await publish(
      tx,
      [
        {
          recipientIds,
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

/**
 * Who receives a message the sender may send now, under the lock that keeps it so until commit:
 * DIRECT — both parties, if SPEC §1 lets the sender message the peer (the pair lock, shared, so no
 * message lands after an R4 purge in the same instant); GROUP — every current member (the group
 * row, shared, so no membership change interleaves: a member removed before sees nothing of it),
 * unless the group is DISSOLVED at `now` (G3: GROUP_DISSOLVED).
 */
async function audienceOf(
  tx: Db,
  c: ConversationRow,
  senderId: string,
  now: Date,
): Promise<Result<string[]>> {
  if (c.kind === 'DIRECT') {
    const peerId = peerOf(c, senderId);
    await lockPair(tx, senderId, peerId, 'shared');
    const { ab, ba } = await loadEntries(tx, senderId, peerId);
    const d = decideSend({ mine: ab, theirs: ba });
    return d.ok ? ok([peerId, senderId]) : d;
  }
  const groupId = c.groupId!;
  await lockGroup(tx, groupId, 'share');
  const allowed = permit(await standingIn(tx, groupId, senderId), 'SEND');
  if (!allowed.ok) return refuse('NOT_FOUND', 'No such conversation.');
  if (dissolvedAt(await inForceDissolution(tx, groupId), now)) return GROUP_DISSOLVED; // G3: read-only
  return ok(await memberIds(tx, groupId));
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
  const m = await findMessage(db, id, now);
  if (!m) return null;
  const c = await findConversationOf(db, m.conversationId, viewerId);
  return c && historyVisible(c, now) && (await inViewNow(db, { viewerId, now }, m)) ? m : null;
}
