import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { ArchiveHeader, ArchiveMessage, ArchiveTrailer } from '../../src/export/export.format.js';
import { USER_ERRORS, type UserError } from '../support/client.js';
import type { TestEnv } from '../support/fixture.js';
import { runCli } from '../support/process.js';

export interface ExportAnswer {
  export: { url: string; expiresAt: string; sha256: string; bytes: number } | null;
  userErrors: UserError[];
}

/** exportConversation as `who`. */
export async function exportAs(
  env: TestEnv,
  who: string,
  conversationId: string,
  passphrase?: string,
): Promise<ExportAnswer> {
  const r = await env.api.gql<{ exportConversation: ExportAnswer }>(
    who,
    `mutation($input: ExportConversationInput!) { exportConversation(input: $input) {
      export { url expiresAt sha256 bytes } ${USER_ERRORS} } }`,
    { input: { conversationId, ...(passphrase !== undefined ? { passphrase } : {}) } },
  );
  return r.exportConversation;
}

/** `exportAs`, failing on a refusal. */
export async function exported(env: TestEnv, who: string, conversationId: string, passphrase?: string) {
  const r = await exportAs(env, who, conversationId, passphrase);
  if (!r.export) throw new Error(`exportConversation refused: ${JSON.stringify(r.userErrors)}`);
  return r.export;
}

export interface Cli {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `npm run export:open -- <args>` as npm runs it (`tsx src/export/export-cli.ts`), as one node
 * process with tsx's loader; `nodeArgs` go to node (a heap limit).
 */
export function openCli(args: string[], nodeArgs: string[] = []): Promise<Cli> {
  return runCli('src/export/export-cli.ts', {}, { args, nodeArgs });
}

/** A number the command printed after `label: `. */
export function printed(out: string, label: string): string | undefined {
  return new RegExp(`^${label}: (\\S+)`, 'm').exec(out)?.[1];
}

/** A plain archive read back: its header, message lines and trailer. */
export function readArchive(path: string): {
  header: ArchiveHeader;
  messages: ArchiveMessage[];
  trailer: ArchiveTrailer;
} {
  const lines = readFileSync(path, 'utf8').split('\n');
  if (lines.pop() !== '') throw new Error('the archive does not end in a line break');
  const records = lines.map((l) => JSON.parse(l));
  return {
    header: records[0] as ArchiveHeader,
    messages: records.slice(1, -1) as ArchiveMessage[],
    trailer: records[records.length - 1] as ArchiveTrailer,
  };
}

/** SHA-256 (hex) of a file, streamed. */
export async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}
