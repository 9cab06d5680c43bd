// Pure checks for attachments: what a file sent with a message may be. No I/O.
import { ok, type Result, refuse } from '../shared/result.js';
import { charLength, storableText } from '../shared/text.js';

/** The longest file name, in characters (Unicode code points). */
export const MAX_FILE_NAME = 255;

/** Base64 characters that `bytes` decoded bytes take (with padding). */
export const base64Length = (bytes: number): number => 4 * Math.ceil(bytes / 3);

/** Headroom the rest of a `sendMessage` request needs beside an attachment's base64. */
export const REQUEST_OVERHEAD_BYTES = 64 * 1024;

/** Whether an attachment of `maxAttachmentBytes` fits in one request of `maxRequestBytes`. */
export const attachmentFits = (maxAttachmentBytes: number, maxRequestBytes: number): boolean =>
  base64Length(maxAttachmentBytes) + REQUEST_OVERHEAD_BYTES <= maxRequestBytes;

/** `n` bytes for people: `512 KiB`, `1.5 MiB`, `100 bytes`. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

/** A file name is 1 to 255 characters without '/', '\' or U+0000; BAD_USER_INPUT otherwise. */
export function checkFileName(name: string): Result<string> {
  const length = name.length <= 2 * MAX_FILE_NAME ? charLength(name) : Infinity;
  if (length < 1 || length > MAX_FILE_NAME || /[/\\]/.test(name) || !storableText(name)) {
    return refuse(
      'BAD_USER_INPUT',
      `A file name is 1 to ${MAX_FILE_NAME} characters without '/', '\\' or U+0000.`,
    );
  }
  return ok(name);
}

/**
 * The bytes of standard padded base64 (RFC 4648 §4: `A–Z a–z 0–9 + /`, `=` padding, no whitespace),
 * at most `max` decoded; BAD_USER_INPUT otherwise. Too long a string is refused before decoding.
 */
export function decodeFileBytes(base64: string, max: number): Result<Buffer> {
  const tooLarge = () =>
    refuse('BAD_USER_INPUT', `An attachment is at most ${max} bytes (${formatBytes(max)}) once decoded.`);
  if (base64.length > base64Length(max)) return tooLarge();
  const bytes = Buffer.from(base64, 'base64');
  // Node's decoder skips what it cannot read; only the canonical encoding of what it read is accepted.
  if (bytes.toString('base64') !== base64) {
    return refuse('BAD_USER_INPUT', 'The attachment bytes are not valid base64 (standard alphabet, padded).');
  }
  return bytes.length > max ? tooLarge() : ok(bytes);
}
