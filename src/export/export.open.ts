// `npm run export:open`'s work: verifies an archive (export.format.ts), decrypting the envelope as
// it streams, and writes the plain archive only once everything checked — the GCM tag included.
import { randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Transform, type TransformCallback, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  ArchiveChecker,
  type ArchiveHeader,
  deriveKey,
  ENVELOPE_HEADER_BYTES,
  MAGIC,
  Meter,
  SALT_BYTES,
  TAG_BYTES,
  TagMismatch,
  unsealStream,
} from './export.format.js';
import type { ExportFormat } from './export.tables.js';

/** A file that is not a valid archive, or cannot be opened with what was given. */
export class ArchiveError extends Error {
  override name = 'ArchiveError';
}

/** What a verified archive holds. */
export interface Opened {
  format: ExportFormat;
  header: ArchiveHeader;
  messages: number;
  /** SHA-256 (hex) and size of the file as given: what `ConversationExport` reported. */
  sha256: string;
  bytes: number;
  /** SHA-256 of the plain archive (the same as `sha256` for a plain file). */
  plainSha256: string;
  /** Where the plain archive was written, when asked. */
  out: string | undefined;
}

/** Passes on only the bytes at positions [start, end) of what flows through it. */
function slice(start: number, end: number): Transform {
  let at = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      const from = Math.max(start - at, 0);
      const to = Math.min(end - at, chunk.length);
      at += chunk.length;
      done(null, to > from ? chunk.subarray(from, to) : undefined);
    },
  });
}

const discard = () =>
  new Writable({
    write(_chunk, _enc, done) {
      done();
    },
  });

/**
 * Verifies `file` and, with `out`, writes the plain archive there. An encrypted file needs its
 * `passphrase`; its plaintext streams into a temporary file beside `out` that is renamed to `out`
 * only after the GCM tag verified and the content checked, and deleted otherwise — a wrong
 * passphrase or any altered byte leaves nothing behind. Throws ArchiveError saying what is wrong.
 */
export async function openArchive(
  file: string,
  opts: { passphrase?: string; out?: string },
): Promise<Opened> {
  if (opts.out !== undefined && resolve(opts.out) === resolve(file))
    throw new ArchiveError('--out must name another file than the archive');
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    throw new ArchiveError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let temp: string | undefined;
  try {
    const size = (await handle.stat()).size;
    const head = Buffer.alloc(Math.min(size, ENVELOPE_HEADER_BYTES));
    await handle.read(head, 0, head.length, 0);
    const encrypted = head.length >= MAGIC.length && head.subarray(0, MAGIC.length).equals(MAGIC);
    const fileMeter = new Meter();
    const checker = new ArchiveChecker();
    const plainMeter = new Meter();
    const steps: Transform[] = [fileMeter];
    if (encrypted) {
      if (opts.passphrase === undefined)
        throw new ArchiveError('the archive is encrypted: give --passphrase');
      if (size < ENVELOPE_HEADER_BYTES + TAG_BYTES)
        throw new ArchiveError('truncated: too short for an envelope');
      const tag = Buffer.alloc(TAG_BYTES);
      await handle.read(tag, 0, TAG_BYTES, size - TAG_BYTES);
      const key = await deriveKey(opts.passphrase, head.subarray(MAGIC.length, MAGIC.length + SALT_BYTES));
      steps.push(slice(ENVELOPE_HEADER_BYTES, size - TAG_BYTES), unsealStream(key, head, tag));
    }
    steps.push(checker, plainMeter);
    if (opts.out !== undefined) {
      const out = resolve(opts.out);
      temp = join(dirname(out), `.${basename(out)}.${randomBytes(6).toString('hex')}.part`);
    }
    const sink = temp ? (await open(temp, 'wx', 0o600)).createWriteStream() : discard();
    try {
      await pipeline([handle.createReadStream({ start: 0, autoClose: false }), ...steps, sink]);
    } catch (err) {
      if (err instanceof TagMismatch) throw new ArchiveError(err.message);
      throw err;
    }
    if (checker.problem) throw new ArchiveError(checker.problem);
    if (temp) await rename(temp, resolve(opts.out!));
    temp = undefined;
    return {
      format: encrypted ? 'TIESX1' : 'JSONL',
      header: checker.header!,
      messages: checker.messages,
      sha256: fileMeter.digest(),
      bytes: fileMeter.bytes,
      plainSha256: plainMeter.digest(),
      out: opts.out === undefined ? undefined : resolve(opts.out),
    };
  } finally {
    await handle.close().catch(() => {});
    if (temp) await rm(temp, { force: true });
  }
}
