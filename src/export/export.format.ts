// G12: the two archive formats, written by the export service and read by `npm run export:open`.
// README "Exporting a conversation (G12)" documents the same, for people.
//
// PLAIN — `ties.conversation-export` version 1, JSON Lines: UTF-8, one JSON object per line, each
// line ending in "\n" (a body's own line breaks are escaped by JSON), in this order:
//   1. the header:  {"type":"header","format":"ties.conversation-export","version":1,
//                    "conversationId":"<uuid>","kind":"DIRECT"|"GROUP","groupId":"<uuid>"|null,
//                    "exportedFor":"<user id>","exportedAt":"<ISO-8601 UTC>","order":"newest-first"}
//   2. one line per message the exporting user sees at `exportedAt`, newest first (as `messages`
//      lists them):
//                   {"type":"message","id":"<uuid>","senderId":"<user id>","body":"…",
//                    "sentAt":"<ISO>","starred":true|false,
//                    "attachment":{"id":"<uuid>","name":"…","size":<bytes>,"sha256":"<hex>"}|null,
//                    "payment":{"id":"<uuid>","amountCents":<int>,"currency":"EUR",
//                               "fromUserId":"…","toUserId":"…","createdAt":"<ISO>"}|null}
//   3. the trailer: {"type":"end","messages":<how many message lines came before>}
// Nothing follows the trailer; a file without one is truncated.
//
// ENCRYPTED — the plain archive inside an envelope (`TIESX1`), a binary file:
//   offset 0       7 bytes   magic "TIESX1\n" (54 49 45 53 58 31 0a)
//   offset 7      16 bytes   salt, random per export
//   offset 23     12 bytes   nonce (the AES-GCM IV), random per export
//   offset 35      n bytes   AES-256-GCM ciphertext of the plain archive (n = its length)
//   offset 35 + n 16 bytes   the GCM authentication tag
// key = scrypt(passphrase as UTF-8 bytes, salt, 32 bytes, N = 2^15, r = 8, p = 1); the 35 header
// bytes (magic, salt, nonce) are the GCM additional authenticated data, so a flipped byte anywhere —
// header, ciphertext or tag — fails the tag, as does a wrong passphrase.
import { createCipheriv, createDecipheriv, createHash, type Hash, scrypt } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/** The plain format's name and version, in every header. */
export const FORMAT_NAME = 'ties.conversation-export';
export const FORMAT_VERSION = 1;

/** The envelope's first bytes. */
export const MAGIC = Buffer.from('TIESX1\n', 'latin1');
export const SALT_BYTES = 16;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
/** Magic, salt and nonce: what precedes the ciphertext (and is authenticated with it). */
export const ENVELOPE_HEADER_BYTES = MAGIC.length + SALT_BYTES + NONCE_BYTES;
const KEY_BYTES = 32; // AES-256
/** scrypt's cost: 2^15 × 8 × 128 bytes = 32 MiB of memory and ~0.1 s of CPU per derivation. */
export const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;

/** The first line of a plain archive. */
export interface ArchiveHeader {
  type: 'header';
  format: typeof FORMAT_NAME;
  version: typeof FORMAT_VERSION;
  conversationId: string;
  kind: 'DIRECT' | 'GROUP';
  groupId: string | null;
  exportedFor: string;
  exportedAt: string;
  order: 'newest-first';
}

/** One message line. */
export interface ArchiveMessage {
  type: 'message';
  id: string;
  senderId: string;
  body: string;
  sentAt: string;
  starred: boolean;
  attachment: { id: string; name: string; size: number; sha256: string } | null;
  payment: {
    id: string;
    amountCents: number;
    currency: string;
    fromUserId: string;
    toUserId: string;
    createdAt: string;
  } | null;
}

/** The last line. */
export interface ArchiveTrailer {
  type: 'end';
  messages: number;
}

export type ArchiveRecord = ArchiveHeader | ArchiveMessage | ArchiveTrailer;

/** One record as its line of the plain archive. */
export const lineOf = (r: ArchiveRecord): string => `${JSON.stringify(r)}\n`;

/** The AES-256 key of a passphrase and salt (scrypt, off the event loop). */
export function deriveKey(passphrase: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(Buffer.from(passphrase, 'utf8'), salt, KEY_BYTES, SCRYPT, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/** The 35 bytes in front of the ciphertext. */
export const envelopeHeader = (salt: Buffer, nonce: Buffer): Buffer => Buffer.concat([MAGIC, salt, nonce]);

/** Plain archive in, envelope out: header, ciphertext as it streams, the tag at the end. */
export function sealStream(key: Buffer, salt: Buffer, nonce: Buffer): Transform {
  const header = envelopeHeader(salt, nonce);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(header);
  let started = false;
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      if (!started) {
        started = true;
        this.push(header);
      }
      done(null, cipher.update(chunk));
    },
    flush(done: TransformCallback) {
      if (!started) this.push(header);
      this.push(cipher.final());
      done(null, cipher.getAuthTag());
    },
  });
}

/**
 * Ciphertext in, plaintext out, for an envelope whose header and tag were read apart. The plaintext
 * is NOT authentic until the stream ends without error (GCM verifies the tag in `final`): a reader
 * keeps it aside until then.
 */
export function unsealStream(key: Buffer, header: Buffer, tag: Buffer): Transform {
  const nonce = header.subarray(MAGIC.length + SALT_BYTES, ENVELOPE_HEADER_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAAD(header);
  decipher.setAuthTag(tag);
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      done(null, decipher.update(chunk));
    },
    flush(done: TransformCallback) {
      try {
        done(null, decipher.final());
      } catch {
        done(new TagMismatch());
      }
    },
  });
}

/** The GCM tag did not verify: a wrong passphrase, or the file was altered. */
export class TagMismatch extends Error {
  override name = 'TagMismatch';
  constructor() {
    super('authentication failed: wrong passphrase, or the file was altered or truncated');
  }
}

/** A pass-through that counts and hashes what flows through it (SHA-256, hex). */
export class Meter extends Transform {
  bytes = 0;
  private readonly hash: Hash = createHash('sha256');
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    done(null, chunk);
  }
  /** The digest, once the stream has ended. */
  digest(): string {
    return this.hash.digest('hex');
  }
}

/** Longest line a reader accepts: a message of 10,000 characters escaped is far below it. */
const MAX_LINE_BYTES = 1024 * 1024; // 1 MiB

/**
 * A pass-through that checks the plain format as it streams (header first, message lines, the
 * trailer last with the right count, nothing after it) holding one line at a time. It never fails
 * the stream: the first problem is kept in `problem`, read once the stream has ended — so a
 * decryption's tag failure is reported before any content problem it caused.
 */
export class ArchiveChecker extends Transform {
  header: ArchiveHeader | undefined;
  messages = 0;
  problem: string | undefined;
  private ended = false;
  private line = 1;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (!this.problem) this.scan(chunk);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (!this.problem && this.pendingBytes > 0) this.fail('the last line does not end in a line break');
    if (!this.problem && !this.ended) this.fail('truncated: no trailer line');
    done();
  }

  private scan(chunk: Buffer): void {
    let from = 0;
    for (let nl = chunk.indexOf(10, from); nl !== -1 && !this.problem; nl = chunk.indexOf(10, from)) {
      const part = chunk.subarray(from, nl);
      const whole = this.pending.length ? Buffer.concat([...this.pending, part]) : part;
      this.pending = [];
      this.pendingBytes = 0;
      const problem = this.record(whole);
      if (problem) this.fail(problem);
      from = nl + 1;
    }
    if (this.problem || from >= chunk.length) return;
    this.pending.push(chunk.subarray(from));
    this.pendingBytes += chunk.length - from;
    if (this.pendingBytes > MAX_LINE_BYTES) this.fail(`line ${this.line} is longer than 1 MiB`);
  }

  /** Takes one line in; answers what is wrong with it, if anything. */
  private record(bytes: Buffer): string | undefined {
    let r: Partial<ArchiveRecord> & Record<string, unknown>;
    try {
      r = JSON.parse(bytes.toString('utf8'));
    } catch {
      return `line ${this.line} is not JSON`;
    }
    if (typeof r !== 'object' || r === null) return `line ${this.line} is not an object`;
    if (this.ended) return `line ${this.line} follows the trailer`;
    if (!this.header) {
      if (r.type !== 'header' || r.format !== FORMAT_NAME)
        return `not a ${FORMAT_NAME} archive (no header line)`;
      if (r.version !== FORMAT_VERSION) return `unsupported version ${String(r.version)}`;
      if (typeof r.conversationId !== 'string' || typeof r.exportedFor !== 'string')
        return 'the header lacks conversationId or exportedFor';
      this.header = r as ArchiveHeader;
    } else if (r.type === 'message') {
      if (typeof r.id !== 'string' || typeof r.body !== 'string' || typeof r.senderId !== 'string')
        return `line ${this.line}: a message without id, senderId or body`;
      this.messages++;
    } else if (r.type === 'end') {
      if (r.messages !== this.messages)
        return `the trailer counts ${String(r.messages)} messages, the file has ${this.messages}`;
      this.ended = true;
    } else {
      return `line ${this.line} has an unknown type`;
    }
    this.line++;
    return undefined;
  }

  private fail(problem: string): void {
    this.problem = problem;
    this.pending = [];
    this.pendingBytes = 0;
  }
}
