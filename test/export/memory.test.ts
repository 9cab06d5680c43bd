import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rows } from '../../src/db/client.js';
import { names } from '../support/client.js';
import { openTestEnv, type TestEnv } from '../support/fixture.js';
import { runCli } from '../support/process.js';
import { openCli, printed, sha256Of } from './archive.js';

const MESSAGES = 100_000;
const HEAP_MB = 48;
const MB = 1024 * 1024;
/** Buffers alive at once: a few pages' worth, far below the ~115 MB archive. */
const BUFFER_LIMIT = 32 * MB;
/**
 * Resident size: node, tsx and the app's modules take ~140 MB before any work, scrypt 32 MB more;
 * an archive in memory would add its ~115 MB.
 */
const RSS_LIMIT = 256 * MB;
const PASSPHRASE = 'a long export, streamed';

let env: TestEnv;
let dataDir: string;
beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'ties-export-memory-'));
  env = await openTestEnv({ config: { dataDir } });
});
afterAll(async () => {
  await env?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

interface ChildAnswer {
  result: {
    ok: boolean;
    value?: { export: { id: string; fileName: string; sha256: string; bytes: number; messageCount: number } };
  };
  ms: number;
  maxRssBytes: number;
  peakHeapBytes: number;
  peakBufferBytes: number;
}

/** test/export/support/export-child.ts under a capped heap; its one JSON line. */
async function exportInChild(
  vars: Record<string, string>,
): Promise<{ code: number | null; answer?: ChildAnswer; stderr: string }> {
  const r = await runCli('test/export/support/export-child.ts', vars, {
    nodeArgs: [`--max-old-space-size=${HEAP_MB}`],
  });
  return {
    code: r.code,
    stderr: r.stderr,
    ...(r.code === 0 ? { answer: JSON.parse(r.stdout) as ChildAnswer } : {}),
  };
}

describe('G12: an export streams', () => {
  // ~20 s on an idle two-core machine; the timeout leaves room for suites running beside it.
  it(`exports ${MESSAGES.toLocaleString('en')} messages of 1 KiB with a ${HEAP_MB} MB heap, and opens them again`, {
    timeout: 180_000,
  }, async () => {
    const [o, a] = names('exp-memory', 'o', 'a');
    const g = await env.groups.make(o, [a]);
    const cid = g.conversation.id;
    const t0 = performance.now();
    // Bulk rows by SQL: 1,024 characters each (32 × an md5), sent a second apart before the clock's now.
    await env.db.handle.db.execute(sql`
      INSERT INTO messages (conversation_id, sender_id, body, sent_at)
      SELECT ${cid}, CASE WHEN i % 2 = 0 THEN ${o} ELSE ${a} END, repeat(md5(i::text), 32),
             ${env.clock.now()}::timestamptz - make_interval(secs => ${MESSAGES} - i)
      FROM generate_series(1, ${MESSAGES}) AS i`);
    const inserted = performance.now() - t0;

    const child = await exportInChild({
      DATABASE_URL: env.db.url!,
      DATA_DIR: dataDir,
      NOW: env.clock.now().toISOString(),
      VIEWER: a,
      CONVERSATION: cid,
      PASSPHRASE,
    });
    expect(child.stderr).toBe('');
    expect(child.code).toBe(0);
    const { result, maxRssBytes, peakHeapBytes, peakBufferBytes, ms } = child.answer!;
    expect(result.ok).toBe(true);
    const e = result.value!.export;
    expect(e.messageCount).toBe(MESSAGES);
    const file = join(dataDir, 'exports', e.fileName);
    expect(statSync(file).size).toBe(e.bytes);
    expect(e.bytes).toBeGreaterThan(MESSAGES * 1024);
    expect(await sha256Of(file)).toBe(e.sha256);
    expect(peakBufferBytes).toBeLessThan(BUFFER_LIMIT);
    expect(maxRssBytes).toBeLessThan(RSS_LIMIT);
    const [row] = await rows<{ sha256: string; bytes: number }>(
      env.db.handle.db,
      sql`SELECT sha256, bytes::float8 AS bytes FROM exports WHERE id = ${e.id}`,
    );
    expect(row).toEqual({ sha256: e.sha256, bytes: e.bytes });

    // The command decrypts and checks it streaming too, under the same cap.
    const t1 = performance.now();
    const opened = await openCli([file, '--passphrase', PASSPHRASE], [`--max-old-space-size=${HEAP_MB}`]);
    const openMs = performance.now() - t1;
    expect(opened.stderr).toBe('');
    expect(opened.code).toBe(0);
    expect(printed(opened.stdout, 'messages')).toBe(String(MESSAGES));
    expect(printed(opened.stdout, 'sha256')).toBe(e.sha256);
    console.info(
      `G12 memory: ${(e.bytes / MB).toFixed(1)} MiB archive; insert ${Math.round(inserted)} ms, export ${ms} ms` +
        ` (max RSS ${(maxRssBytes / MB).toFixed(0)} MiB, peak heap ${(peakHeapBytes / MB).toFixed(0)} MiB,` +
        ` peak Buffers ${(peakBufferBytes / MB).toFixed(1)} MiB), open ${Math.round(openMs)} ms`,
    );
  });
});
