import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../src/auth.js';
import { systemClock } from '../../src/clock.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { eventually } from '../support/notices.js';
import { collect, TEST_SECRET } from '../support/server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

/** Starts `src/main.ts` as a real process and resolves with it and the URL it logged. */
async function startProcess(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string; out: () => string }> {
  const child = spawn(TSX, ['src/main.ts'], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env } });
  let out = '';
  child.stdout!.on('data', (d) => {
    out += String(d);
  });
  child.stderr!.on('data', (d) => {
    out += String(d);
  });
  const url = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      const m = /"url":"(http:\/\/[^"]+)\/graphql".*ties is listening/.exec(out);
      if (m) resolve(m[1]!);
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited ${code} before listening:\n${out}`)));
  });
  return { child, url, out: () => out };
}

// A real process on real Postgres: the shell (main.ts) owns SIGTERM, drains, and exits 0.
describe('process: SIGTERM stops the server gracefully', () => {
  let db: TestDatabase;
  const dataDir = mkdtempSync(join(tmpdir(), 'ties-process-'));
  beforeAll(async () => {
    db = await createTestDatabase('pg');
  });
  afterAll(async () => {
    await db?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('closes a live subscription with 1001, finishes, and exits 0 (in development mode, where Apollo would add its own handler)', async () => {
    const { child, url, out } = await startProcess({
      NODE_ENV: 'development',
      DATABASE_URL: db.url!,
      JWT_SECRET: TEST_SECRET,
      PORT: '0',
      LOG_LEVEL: 'info',
      DATA_DIR: dataDir,
      SWEEP_INTERVAL_SECONDS: '1',
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const token = await signToken(TEST_SECRET, { userId: 'pat', ttlSeconds: 600, now: systemClock.now() });
    const { createClient } = await import('graphql-ws');
    const WebSocket = (await import('ws')).default;
    const closes: number[] = [];
    const client = createClient({
      url: `${url.replace('http', 'ws')}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
      lazy: false,
      onNonLazyError: () => {},
      on: { closed: (e) => closes.push((e as { code: number }).code) },
    });
    const sub = collect(client, 'subscription { notices { cursor } }');
    // The subscription is registered once the process reports one live stream.
    for (let i = 0; i < 600; i++) {
      const metrics = await (await fetch(`${url}/metrics`)).text();
      if (/^ties_notice_streams 1$/m.test(metrics)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^ties_notice_streams 1$/m);

    child.kill('SIGTERM');
    await eventually(() => closes.length > 0, 'the socket to close');
    expect(closes[0]).toBe(1001);
    expect(await exited).toBe(0);
    expect(out()).toContain('"msg":"stopped"');
    expect(out()).not.toContain('graceful stop took longer');
    await sub.settle().catch(() => {});
    await client.dispose();
  });
});
