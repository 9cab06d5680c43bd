import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export type ChildMode = 'ties' | 'apollo' | 'ws';

export type ChildRequest = { id: number; cmd: 'stats' | 'gc' | 'stop' } | { cmd: 'publish'; seq: number };

export interface ChildStats {
  rss: number;
  heapUsed: number;
  /** user + system CPU time since the child started, µs. */
  cpuMicros: number;
  /** Event-loop utilisation since the child started (0..1). */
  elu: number;
  /** Live subscriptions (ties: the notice bus' streams; ws: feeds). */
  streams: number;
  /** SQL statements the process sent through `pg` (ties only), and of which the notice bus' polls. */
  statements: number;
  busStatements: number;
  /** Event-loop delay since the last `gcStats()` (which resets it), ms. */
  loopDelayMaxMs: number;
  loopDelayP99Ms: number;
}

const SERVER = fileURLToPath(new URL('./server.ts', import.meta.url));
const START_TIMEOUT_MS = 60_000;
const CALL_TIMEOUT_MS = 60_000;

/** A server under test in its own Node process (tsx loader inherited), with an RPC over IPC. */
export class Child {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (s: ChildStats) => void; reject: (e: Error) => void }
  >();
  private exited: Promise<void>;
  private constructor(
    readonly mode: ChildMode,
    private readonly proc: ChildProcess,
    readonly url: string,
  ) {
    this.exited = new Promise((r) => proc.once('exit', () => r()));
    proc.on('message', (m: { id?: number; result?: ChildStats; error?: string }) => {
      if (m.id === undefined) return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error) p.reject(new Error(`${mode} server: ${m.error}`));
      else p.resolve(m.result!);
    });
    proc.once('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`${mode} server exited (${code})`));
      this.pending.clear();
    });
  }

  static async start(mode: ChildMode, args: string[] = [], extraExecArgv: string[] = []): Promise<Child> {
    const proc = fork(SERVER, [mode, ...args], {
      execArgv: [...process.execArgv, '--expose-gc', ...extraExecArgv],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${mode} server did not start`)), START_TIMEOUT_MS);
      proc.on('message', (m: { event?: string; url?: string; error?: string }) => {
        if (m.event === 'ready') {
          clearTimeout(timer);
          resolve(m.url!);
        } else if (m.event === 'failed') {
          clearTimeout(timer);
          reject(new Error(`${mode} server failed: ${m.error}`));
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${mode} server exited (${code}) before it was ready`));
      });
    }).catch((err) => {
      if (proc.exitCode === null) proc.kill('SIGKILL');
      throw err;
    });
    return new Child(mode, proc, url);
  }

  get pid(): number {
    return this.proc.pid!;
  }

  private call(cmd: 'stats' | 'gc' | 'stop'): Promise<ChildStats> {
    const id = this.nextId++;
    return new Promise<ChildStats>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.mode} server: ${cmd} timed out`));
      }, CALL_TIMEOUT_MS);
      this.pending.set(id, {
        resolve: (s) => {
          clearTimeout(timer);
          resolve(s);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.proc.send({ id, cmd } satisfies ChildRequest);
    });
  }

  stats(): Promise<ChildStats> {
    return this.call('stats');
  }

  /** Full GC (the child runs with --expose-gc), then stats; restarts the event-loop delay histogram. */
  gcStats(): Promise<ChildStats> {
    return this.call('gc');
  }

  /** Fire and forget (ws mode): broadcast notice `seq` from memory. */
  publish(seq: number): void {
    this.proc.send({ cmd: 'publish', seq } satisfies ChildRequest);
  }

  /** Graceful stop, then waits for the process to exit (killed by its pid after 15 s). */
  async stop(): Promise<ChildStats | undefined> {
    if (this.proc.exitCode !== null) return undefined;
    let last: ChildStats | undefined;
    try {
      last = await this.call('stop');
    } catch {
      // fall through to the exit wait / kill
    }
    const killer = setTimeout(() => this.proc.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(killer);
    return last;
  }
}
