// SPEC G12 — archive, then dissolve: a party of a conversation exports exactly what they see of it
// now, streamed page by page into a file under `<DATA_DIR>/exports/` (plain JSON Lines, or those
// inside an AES-256-GCM envelope; export.format.ts documents both), and gets a 15-minute link that
// serves the file to them only (export.route.ts).

import { randomBytes, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Viewer } from '../auth.js';
import { systemClock } from '../clock.js';
import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import { fileStore } from '../files/files.store.js';
import { inForceDissolution } from '../groups/dissolution.store.js';
import { findConversationOf, listMessagesPages, type Reader } from '../messages/messages.store.js';
import type { ConversationRow } from '../messages/messages.tables.js';
import { paymentsOfMessages } from '../payments/payments.store.js';
import { historyVisible } from '../retention/retention.rules.js';
import { starredBy } from '../retention/retention.store.js';
import type { Deps } from '../shared/deps.js';
import { isUuid, malformedId } from '../shared/ids.js';
import { ok, onField, type Result, refuse } from '../shared/result.js';
import {
  type ArchiveMessage,
  deriveKey,
  FORMAT_NAME,
  FORMAT_VERSION,
  lineOf,
  Meter,
  NONCE_BYTES,
  SALT_BYTES,
  sealStream,
} from './export.format.js';
import {
  archiveStillReadable,
  checkPassphrase,
  expiresAtOf,
  linkLive,
  type Omissions,
  omissionsAt,
} from './export.rules.js';
import {
  deleteExpiredExports,
  deleteExport,
  findExport,
  insertExport,
  knownExportIds,
} from './export.store.js';
import type { ExportFormat, ExportRow } from './export.tables.js';

/** What an export needs: no bus, no proofs — a script can run it against a database directly. */
export type ExportDeps = Pick<Deps, 'config' | 'db' | 'clock' | 'logger'>;

export interface ExportConversationInput {
  conversationId: string;
  /** Given: the encrypted envelope; absent or null: the plain archive. */
  passphrase?: string | null;
}

/** Messages read per statement, and written per chunk: bounds the memory an export holds. */
export const EXPORT_PAGE = 500;
/** Expired rows deleted per prune statement. */
const PRUNE_BATCH = 100;
/** A `.part` file not written to for this long is a crashed export's leftover (file-system time). */
const STALE_PART_MS = 60 * 60 * 1000; // 1 hour
const FILE_NAME = /^([0-9a-f-]{36})\.(jsonl|tiesx|part)$/;

/**
 * Where archives are written: `<DATA_DIR>/exports/`; with the in-memory database (`memory://`, tests
 * and throw-away runs) a directory of this process under the system's temporary directory (one per
 * process: a prune takes files no row of its own database names for leftovers).
 */
export const exportsDir = (config: Pick<Config, 'dataDir'>): string =>
  config.dataDir === 'memory://'
    ? join(tmpdir(), `ties-exports-${process.pid}`)
    : join(config.dataDir, 'exports');

/** The link a client downloads an export from (with its bearer token). */
export const exportUrl = (e: Pick<ExportRow, 'id'>): string => `/exports/${e.id}`;

/**
 * G12: writes the archive of `input.conversationId` as `viewer` sees it now and records its link.
 * Refuses BAD_USER_INPUT (malformed id; a passphrase outside 8–1024 characters) and NOT_FOUND (not
 * a party: a direct conversation the viewer cannot see, a group they are not a member of — a
 * dissolved group keeps its members); a refusal writes nothing. Every read runs in one read-only
 * REPEATABLE READ transaction, so the archive is one instant's view (on the embedded database that
 * transaction holds its one connection while the file is written).
 */
export async function exportConversation(
  deps: ExportDeps,
  viewer: Pick<Viewer, 'userId'>,
  input: ExportConversationInput,
): Promise<Result<{ export: ExportRow }>> {
  const bad = malformedId('uuid', input.conversationId, ['input', 'conversationId']);
  if (bad) return bad;
  const passphrase = input.passphrase ?? null;
  if (passphrase !== null) {
    const checked = checkPassphrase(passphrase);
    if (!checked.ok) return onField(checked, ['input', 'passphrase']);
  }
  const now = deps.clock.now();
  const dir = exportsDir(deps.config);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await pruneExports(deps).catch((err) => deps.logger.warn({ err }, 'pruning expired exports failed'));

  const id = randomUUID();
  const format: ExportFormat = passphrase === null ? 'JSONL' : 'TIESX1';
  const fileName = `${id}.${format === 'JSONL' ? 'jsonl' : 'tiesx'}`;
  const part = join(dir, `${id}.part`);
  // scrypt (~0.1 s) before the transaction, so the snapshot is held only while writing.
  const salt = randomBytes(SALT_BYTES);
  const nonce = randomBytes(NONCE_BYTES);
  const key = passphrase === null ? null : await deriveKey(passphrase, salt);
  try {
    const written = await deps.db.transaction(
      async (tx) => {
        const c = await findConversationOf(tx, input.conversationId, viewer.userId);
        if (!c) return null;
        const d = c.groupId ? await inForceDissolution(tx, c.groupId) : undefined;
        const count = { messages: 0 };
        const source = Readable.from(
          archiveChunks(tx, { viewerId: viewer.userId, now }, c, omissionsAt(d, now), count),
          { objectMode: false },
        );
        const meter = new Meter();
        const sink = createWriteStream(part, { flags: 'wx', mode: 0o600 });
        if (key) await pipeline(source, sealStream(key, salt, nonce), meter, sink);
        else await pipeline(source, meter, sink);
        return { bytes: meter.bytes, sha256: meter.digest(), messages: count.messages };
      },
      { isolationLevel: 'repeatable read', accessMode: 'read only' },
    );
    if (!written) return refuse('NOT_FOUND', 'No such conversation.', ['input', 'conversationId']);
    // The row first, then the file under its final name: a prune running meanwhile never finds a
    // finished file without its row (it would take it for a leftover).
    const row = await insertExport(deps.db, {
      id,
      ownerId: viewer.userId,
      conversationId: input.conversationId,
      fileName,
      format,
      sha256: written.sha256,
      bytes: written.bytes,
      messageCount: written.messages,
      createdAt: now,
      expiresAt: expiresAtOf(now),
    });
    try {
      await rename(part, join(dir, fileName));
    } catch (err) {
      await deleteExport(deps.db, id);
      throw err;
    }
    return ok({ export: row });
  } finally {
    await rm(part, { force: true });
  }
}

/**
 * The archive's bytes, one page of messages per chunk: the header, each page's lines, the trailer.
 * Reads what `messages` shows the reader (`listMessagesPages`: their period, their stars, rows
 * purged under holds; nothing past R3's purge instant) and leaves out what G3 took away.
 */
async function* archiveChunks(
  tx: Db,
  reader: Reader,
  c: ConversationRow,
  omit: Omissions,
  count: { messages: number },
): AsyncGenerator<Buffer> {
  yield Buffer.from(
    lineOf({
      type: 'header',
      format: FORMAT_NAME,
      version: FORMAT_VERSION,
      conversationId: c.id,
      kind: c.kind,
      groupId: c.groupId,
      exportedFor: reader.viewerId,
      exportedAt: reader.now.toISOString(),
      order: 'newest-first',
    }),
  );
  let beforeSeq: number | null = null;
  // R3: nothing of the history is visible past its purge instant, swept or not.
  while (historyVisible(c, reader.now)) {
    const [page = []] = await listMessagesPages(tx, reader, [
      { conversationId: c.id, beforeSeq, limit: EXPORT_PAGE },
    ]);
    if (page.length === 0) break;
    const ids = page.map((m) => m.id);
    const starred = new Set(await starredBy(tx, reader.viewerId, ids));
    const files = new Map(
      (omit.files ? [] : await fileStore.describe(tx, ids)).map((f) => [f.messageId, f] as const),
    );
    const payments = new Map(
      (omit.payments ? [] : await paymentsOfMessages(tx, ids)).map((p) => [p.messageId!, p] as const),
    );
    let text = '';
    for (const m of page) {
      const f = files.get(m.id);
      const p = payments.get(m.id);
      const line: ArchiveMessage = {
        type: 'message',
        id: m.id,
        senderId: m.senderId,
        body: m.body,
        sentAt: m.sentAt.toISOString(),
        starred: starred.has(m.id),
        attachment: f ? { id: f.id, name: f.name, size: f.size, sha256: f.sha256 } : null,
        payment: p
          ? {
              id: p.id,
              amountCents: p.amountCents,
              currency: p.currency,
              fromUserId: p.payerId,
              toUserId: p.payeeId,
              createdAt: p.createdAt.toISOString(),
            }
          : null,
      };
      text += lineOf(line);
    }
    count.messages += page.length;
    yield Buffer.from(text, 'utf8');
    if (page.length < EXPORT_PAGE) break;
    beforeSeq = page[page.length - 1]!.seq;
  }
  yield Buffer.from(lineOf({ type: 'end', messages: count.messages }));
}

/**
 * The export `userId` may download at `now` and the path of its file; null (answer 404) when there
 * is none, it is another user's, its link expired (then its row and file are deleted), the user no
 * longer is a party (left the group), or an R3/G3 purge instant passed since it was made. The
 * archive is served as it was made: a period or star changed meanwhile does not rewrite it.
 */
export async function downloadableExport(
  deps: ExportDeps,
  userId: string,
  id: string,
): Promise<{ row: ExportRow; path: string } | null> {
  if (!isUuid(id)) return null;
  const row = await findExport(deps.db, id);
  if (!row || row.ownerId !== userId) return null;
  const now = deps.clock.now();
  const path = join(exportsDir(deps.config), row.fileName);
  if (!linkLive(row, now)) {
    await deleteExport(deps.db, row.id);
    await rm(path, { force: true });
    return null;
  }
  const c = await findConversationOf(deps.db, row.conversationId, userId);
  return c && archiveStillReadable(row.createdAt, c, now) ? { row, path } : null;
}

/** What a prune removed. */
export interface Pruned {
  /** Expired links: rows deleted (their files too, where this instance holds them). */
  expired: number;
  /** Files in this instance's directory without a row (another instance pruned it; a crash). */
  leftovers: number;
}

/**
 * Deletes expired exports (rows by index, at `deps.clock.now()`, and their files) and files of this
 * instance's exports directory that no row names any more. Runs before every export; idempotent;
 * any number of instances at once (`SKIP LOCKED`).
 */
export async function pruneExports(deps: ExportDeps): Promise<Pruned> {
  const dir = exportsDir(deps.config);
  const now = deps.clock.now();
  let expired = 0;
  for (;;) {
    const names = await deleteExpiredExports(deps.db, now, PRUNE_BATCH);
    for (const name of names) await rm(join(dir, name), { force: true });
    expired += names.length;
    if (names.length < PRUNE_BATCH) break;
  }
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return { expired, leftovers: 0 };
  }
  const done = new Map<string, string>();
  let leftovers = 0;
  for (const name of entries) {
    const m = FILE_NAME.exec(name);
    if (!m) continue;
    if (m[2] !== 'part') {
      done.set(m[1]!, name);
      continue;
    }
    // An export in progress writes its `.part` file continuously; one idle for an hour crashed.
    const info = await stat(join(dir, name)).catch(() => undefined);
    // File times are the file system's wall clock, not the app's (time-travel) clock.
    if (info && systemClock.now().getTime() - info.mtimeMs > STALE_PART_MS) {
      await rm(join(dir, name), { force: true });
      leftovers++;
    }
  }
  const known = await knownExportIds(deps.db, [...done.keys()]);
  for (const [id, name] of done) {
    if (known.has(id)) continue;
    await rm(join(dir, name), { force: true });
    leftovers++;
  }
  return { expired, leftovers };
}
