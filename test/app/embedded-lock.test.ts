import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { signToken } from '../../src/auth.js';
import { systemClock } from '../../src/clock.js';
import { DataDirLockedError, LOCK_FILE, lockDataDir } from '../../src/db/lock.js';
import { runCli, startProcess } from '../support/process.js';
import { TEST_SECRET } from '../support/server.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'ties-lock-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A pid that ran on this host and has ended. */
function deadPid(): number {
  return Number(execFileSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).trim());
}

/** Writes a lock file as another process would have left it; `ageMs` back-dates it. */
function plantLock(dir: string, owner: object | string, ageMs = 0): void {
  const path = join(dir, LOCK_FILE);
  writeFileSync(path, typeof owner === 'string' ? owner : JSON.stringify(owner));
  const then = new Date(systemClock.now().getTime() - ageMs);
  utimesSync(path, then, then);
}

const owner = (over: object) => ({
  pid: process.pid,
  processStart: null,
  hostname: hostname(),
  command: 'someone',
  since: '2026-12-01T00:00:00.000Z',
  ...over,
});

describe('lockDataDir: one owner, stale locks taken over', () => {
  it('refuses a second lock while the first is held, naming its owner; release lets the next one in', () => {
    const dir = tempDir();
    const first = lockDataDir(dir);
    const held = readFileSync(first.path, 'utf8');
    expect(JSON.parse(held)).toMatchObject({ pid: process.pid, hostname: hostname() });
    let refusal: unknown;
    try {
      lockDataDir(dir);
    } catch (err) {
      refusal = err;
    }
    expect(refusal).toBeInstanceOf(DataDirLockedError);
    expect((refusal as DataDirLockedError).owner?.pid).toBe(process.pid);
    expect((refusal as Error).message).toContain(`kill ${process.pid}`);
    expect((refusal as Error).message).toContain('DATABASE_URL');
    expect(readFileSync(first.path, 'utf8')).toBe(held); // the refusal changed nothing
    first.release();
    first.release(); // idempotent
    expect(readdirSync(dir)).toEqual([]);
    lockDataDir(dir).release();
  });

  it('takes over a lock whose process has ended (kill -9, power loss)', () => {
    const dir = tempDir();
    plantLock(dir, owner({ pid: deadPid() }));
    const lock = lockDataDir(dir);
    expect(JSON.parse(readFileSync(lock.path, 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('takes over a lock whose pid was reused by another process (another start time)', () => {
    const dir = tempDir();
    plantLock(dir, owner({ pid: process.pid, processStart: '1' }));
    const lock = lockDataDir(dir);
    expect(JSON.parse(readFileSync(lock.path, 'utf8')).command).not.toBe('someone');
    lock.release();
  });

  it('from another host, or unreadable: held while fresh, taken over once not refreshed for a minute', () => {
    const dir = tempDir();
    plantLock(dir, owner({ hostname: 'elsewhere', pid: 1 }));
    expect(() => lockDataDir(dir)).toThrow(/process 1 \(someone\) on elsewhere/);
    plantLock(dir, owner({ hostname: 'elsewhere', pid: 1 }), 61_000);
    lockDataDir(dir).release();

    plantLock(dir, '{"pid": 4'); // a crash while writing it
    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
    plantLock(dir, '{"pid": 4', 61_000);
    lockDataDir(dir).release();
    expect(readdirSync(dir)).toEqual([]);
  });
});

/** sha256 of every file under `dir`, by relative path. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else out[path.slice(dir.length)] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

// Real processes on a real embedded database (PGlite under DATA_DIR).
describe('embedded database: one process per DATA_DIR', () => {
  const env = (dataDir: string) => ({
    NODE_ENV: 'development',
    JWT_SECRET: TEST_SECRET,
    PORT: '0',
    LOG_LEVEL: 'info', // startProcess reads the URL from the 'listening' line
    DATA_DIR: dataDir,
    SWEEP_INTERVAL_SECONDS: '0',
  });
  const tokenOf = (userId: string) =>
    signToken(TEST_SECRET, { userId, ttlSeconds: 600, now: systemClock.now() });
  const gql = async <T>(url: string, userId: string, query: string, variables: object = {}) => {
    const r = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await tokenOf(userId)}` },
      body: JSON.stringify({ query, variables }),
    });
    expect(r.status).toBe(200);
    return ((await r.json()) as { data: T }).data;
  };
  /** Sends a friend request from `from` to `to` (creating both users) and returns its id once answered. */
  const befriend = async (url: string, from: string, to: string): Promise<string> => {
    await gql(url, to, '{ me { id } }');
    const d = await gql<{ sendFriendRequest: { request: { id: string } | null } }>(
      url,
      from,
      'mutation($u: ID!) { sendFriendRequest(input: { userId: $u }) { request { id } } }',
      { u: to },
    );
    return d.sendFriendRequest.request!.id;
  };
  /** The ids of the friend requests `userId` has received. */
  const received = async (url: string, userId: string): Promise<string[]> => {
    const d = await gql<{ friendRequests: { edges: { node: { id: string } }[] } }>(
      url,
      userId,
      '{ friendRequests(direction: INCOMING, first: 50) { edges { node { id } } } }',
    );
    return d.friendRequests.edges.map((e) => e.node.id);
  };

  it('a second server, npm run sweep and npm run db:migrate are refused and change nothing; the first keeps serving every row', async () => {
    const dataDir = tempDir();
    const first = await startProcess(env(dataDir));
    try {
      const requestId = await befriend(first.url, 'lock-ann', 'lock-bob');
      const before = snapshot(dataDir);
      const pid = first.child.pid!;
      const scripts = ['src/main.ts', 'src/jobs/sweep-cli.ts', 'src/db/migrate-cli.ts'];
      const runs = await Promise.all(scripts.map((script) => runCli(script, env(dataDir))));
      for (const [i, run] of runs.entries()) {
        const script = scripts[i];
        expect(run.code, `${script}: ${run.stderr}`).toBe(75);
        expect(run.stderr).toContain(`in use by process ${pid}`);
        expect(run.stderr).toContain('DATABASE_URL');
        expect(run.stderr).not.toMatch(/\bat .+\.ts:\d+/); // a message, not a stack
      }
      expect(snapshot(dataDir)).toEqual(before);
      // The first still serves what it committed, and takes new writes.
      expect(await received(first.url, 'lock-bob')).toEqual([requestId]);
      const second = await befriend(first.url, 'lock-cy', 'lock-bob');
      expect((await received(first.url, 'lock-bob')).sort()).toEqual([requestId, second].sort());
    } finally {
      first.child.kill('SIGTERM');
      await new Promise((r) => first.child.once('exit', r));
    }
    expect(readdirSync(dataDir)).not.toContain(LOCK_FILE); // released on a graceful stop
  });

  it('kill -9 and restart, three times: each restart opens the directory and keeps every answered write', async () => {
    const dataDir = tempDir();
    const answered: string[] = [];
    for (let round = 0; round < 3; round++) {
      const server = await startProcess(env(dataDir));
      expect((await received(server.url, 'crash-bob')).sort()).toEqual([...answered].sort());
      answered.push(await befriend(server.url, `crash-${round}`, 'crash-bob'));
      const exited = new Promise((r) => server.child.once('exit', r));
      server.child.kill('SIGKILL');
      await exited;
      expect(readdirSync(dataDir)).toContain(LOCK_FILE); // left behind by the crash
    }
    const last = await startProcess(env(dataDir));
    try {
      expect((await received(last.url, 'crash-bob')).sort()).toEqual([...answered].sort());
    } finally {
      last.child.kill('SIGTERM');
      await new Promise((r) => last.child.once('exit', r));
    }
  });
});
