// `npm run export:open -- <file> [--passphrase <p>] [--out <file>]` (G12): verifies a conversation
// archive and, for an encrypted one, decrypts it — writing `--out` only once the GCM tag verified.
// Prints what it holds and its SHA-256. Exit 0: valid; 1: not valid (nothing written); 2: usage.
import { parseArgs } from 'node:util';
import { ArchiveError, openArchive } from './export.open.js';

const usage = 'usage: npm run export:open -- <file> [--passphrase <passphrase>] [--out <file>]';
let args: { file: string; passphrase: string | undefined; out: string | undefined };
try {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { passphrase: { type: 'string' }, out: { type: 'string' } },
  });
  if (positionals.length !== 1) throw new TypeError('give exactly one archive file');
  args = { file: positionals[0]!, passphrase: values.passphrase, out: values.out };
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n${usage}\n`);
  process.exit(2);
}

try {
  const r = await openArchive(args.file, {
    ...(args.passphrase !== undefined ? { passphrase: args.passphrase } : {}),
    ...(args.out !== undefined ? { out: args.out } : {}),
  });
  const h = r.header;
  const lines = [
    `ok: a valid ${h.format} v${h.version} archive, ${r.format === 'TIESX1' ? 'encrypted (tag verified)' : 'plain'}`,
    `conversation: ${h.conversationId} (${h.kind}), exported for ${h.exportedFor} at ${h.exportedAt}`,
    `messages: ${r.messages}`,
    `sha256: ${r.sha256} (${r.bytes} bytes, the file as served)`,
    ...(r.format === 'TIESX1' ? [`plain sha256: ${r.plainSha256}`] : []),
    ...(r.format === 'JSONL' && args.passphrase !== undefined
      ? ['(not encrypted: --passphrase unused)']
      : []),
    ...(r.out ? [`written: ${r.out}`] : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} catch (err) {
  process.stderr.write(`export:open: ${err instanceof ArchiveError ? err.message : String(err)}\n`);
  process.exit(1);
}
