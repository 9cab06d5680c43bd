// One process per embedded database. PGlite is a single-process database: two processes that open
// the same files each keep their own copy in memory and overwrite each other's writes, silently.
// So opening it takes `DATA_DIR/ties.lock`, created atomically (O_EXCL) and naming its owner; a
// second server, `npm run sweep` or `npm run db:migrate` on the same directory is refused before
// anything is opened. A lock left by a crashed process (kill -9, power loss) is recognized as
// stale and taken over, so a crash never leaves the directory unusable:
// - on the same host, the owner is gone when its pid is not running, or runs but started at
//   another time than the lock says (the pid was reused);
// - from another host (a container recreated on a shared volume), the owner refreshes the file's
//   modification time every HEARTBEAT_MS; one not refreshed for STALE_AFTER_MS is stale.
// No library does this: proper-lockfile detects staleness by age alone (a restart right after a
// kill -9 would be refused until the lock ages) and records no owner to name in the refusal.
import {
  closeSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../clock.js';

export const LOCK_FILE = 'ties.lock';
const HEARTBEAT_MS = 10_000;
const STALE_AFTER_MS = 60_000;

/** Who holds a data directory: written into the lock file. */
export interface LockOwner {
  pid: number;
  /** The process's start time as the kernel counts it (Linux `/proc/<pid>/stat`), to tell pid reuse. */
  processStart: string | null;
  hostname: string;
  command: string;
  /** When the lock was taken (ISO 8601). */
  since: string;
}

/** The data directory is held by a live process: nothing was opened or changed. */
export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly owner: LockOwner | undefined,
  ) {
    const who = owner
      ? `process ${owner.pid} (${owner.command}) on ${owner.hostname}, since ${owner.since}`
      : 'another process (its lock file could not be read)';
    super(
      [
        `the embedded database in ${dataDir} is in use by ${who}.`,
        'Only one process may open an embedded database; nothing was opened or changed. Instead:',
        `  - stop that process first (Ctrl-C in its terminal${owner ? `, or kill ${owner.pid}` : ''}), then run this again;`,
        '  - to sweep while the server runs, ask it (operators): mutation { runRetentionSweep { run { purgedConversations } } }',
        '  - migrations need no command while the server runs: it applied them when it started;',
        '  - to run several processes on one database, use PostgreSQL: DATABASE_URL=postgres://…',
      ].join('\n'),
    );
    this.name = 'DataDirLockedError';
  }
}

/** A held lock: `release()` removes the file if it is still ours (idempotent). */
export interface DataDirLock {
  readonly path: string;
  release(): void;
}

/** The kernel's start time of `pid` (field 22 of /proc/<pid>/stat), or null where /proc is absent. */
function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

function readOwner(path: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
    return typeof owner.pid === 'number' ? owner : undefined;
  } catch {
    return undefined;
  }
}

/** True when the lock at `path`, owned by `owner`, was left by a process that no longer runs. */
function isStale(path: string, owner: LockOwner | undefined): boolean {
  let mtimeMs: number;
  try {
    mtimeMs = statSync(path).mtimeMs;
  } catch {
    return false; // gone meanwhile: the next attempt creates it
  }
  const age = systemClock.now().getTime() - mtimeMs;
  // Unreadable (a crash while writing it) or from another host: only its age can tell.
  if (!owner || owner.hostname !== hostname()) return age > STALE_AFTER_MS;
  if (!isRunning(owner.pid)) return true;
  const start = processStart(owner.pid);
  return owner.processStart !== null && start !== null && start !== owner.processStart;
}

/**
 * Takes the exclusive lock on `dataDir` or throws DataDirLockedError. The caller must `release()`
 * it when it closes the database; it is also released if the process exits without closing.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const path = join(dataDir, LOCK_FILE);
  const me: LockOwner = {
    pid: process.pid,
    processStart: processStart(process.pid),
    hostname: hostname(),
    command: process.argv.slice(1).join(' ').slice(0, 200) || process.argv0,
    since: systemClock.now().toISOString(),
  };
  const content = `${JSON.stringify(me)}\n`;
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      try {
        writeSync(fd, content);
      } finally {
        closeSync(fd);
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = readOwner(path);
    if (attempt >= 3 || !isStale(path, owner)) throw new DataDirLockedError(dataDir, owner);
    takeOver(path, owner);
  }

  let released = false;
  const heartbeat = setInterval(() => {
    try {
      const now = systemClock.now();
      utimesSync(path, now, now);
    } catch {
      // the directory went away; release() will find nothing to remove
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();
  const release = (): void => {
    if (released) return;
    released = true;
    clearInterval(heartbeat);
    process.off('exit', release);
    try {
      if (readFileSync(path, 'utf8') === content) unlinkSync(path);
    } catch {
      // already gone
    }
  };
  process.on('exit', release); // process.exit() without closing the database
  return { path, release };
}

/**
 * Removes a stale lock without ever removing a live one that replaced it meanwhile (two processes
 * starting at once after a crash): the file is first renamed aside, atomically, then checked; if it
 * turns out to be another process's fresh lock, it is put back.
 */
function takeOver(path: string, stale: LockOwner | undefined): void {
  const aside = `${path}.stale-${process.pid}`;
  try {
    renameSync(path, aside);
  } catch {
    return; // somebody else moved it: try again from the start
  }
  const moved = readOwner(aside);
  const same = JSON.stringify(moved) === JSON.stringify(stale);
  if (!same) {
    try {
      linkSync(aside, path); // put back; fails only if a newer lock exists, which then rules
    } catch {
      // a newer lock exists
    }
  }
  try {
    unlinkSync(aside);
  } catch {
    // nothing to clean
  }
}
