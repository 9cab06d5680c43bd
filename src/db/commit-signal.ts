// Wake-ups sent after COMMIT instead of inside it. A `pg_notify` in a transaction makes Postgres
// take a lock that serializes the commits of every notifying transaction of the cluster; a chat
// backend notifies on almost every write, so that lock would cap the whole product. Instead a
// transaction only records that it wrote something others wait for, and once it has committed the
// handle wakes its own listeners directly and sends one coalesced NOTIFY for the other instances.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from 'pino';

/** What a running transaction (opened through a handle's `db.transaction`) will signal on commit. */
interface TxScope {
  channels: Set<string>;
  /** Committed (or rolled back): a late write in a context that inherited the scope signals itself. */
  ended: boolean;
}

const scope = new AsyncLocalStorage<TxScope>();

/**
 * Records that the current transaction wrote something listeners on `channel` wait for: they are
 * woken once it commits, and never if it rolls back. Returns false outside such a transaction (an
 * autocommit statement): the caller must then wake the listeners itself.
 */
export function signalOnCommit(channel: string): boolean {
  const s = scope.getStore();
  if (!s || s.ended) return false;
  s.channels.add(channel);
  return true;
}

/** How often at most one instance sends the wake-up of one channel to the others. */
export const DEFAULT_COALESCE_MS = 5;

/**
 * One handle's side of the wake-ups: local listeners are called at once after a commit; the other
 * instances get a NOTIFY (payload: this handle's tag, so it ignores its own) at most once per
 * `coalesceMs` — the first commit of a quiet spell sends at once, the commits after it during the
 * window share one NOTIFY at its end. A wake-up lost to a crash between COMMIT and NOTIFY is
 * covered by the listeners' own safety poll.
 */
export class CommitSignals {
  private readonly local = new Map<string, Set<() => void>>();
  private readonly windows = new Map<string, { timer: NodeJS.Timeout; pending: boolean }>();
  private readonly sending = new Set<Promise<void>>();
  private closed = false;
  /** NOTIFY statements sent (a metric for tests and the bench). */
  sent = 0;

  constructor(
    /** Sends the NOTIFY to the other instances; undefined when there are none (PGlite). */
    private readonly notify: ((channel: string, tag: string) => Promise<void>) | undefined,
    readonly tag: string,
    private readonly logger: Logger,
    readonly coalesceMs = DEFAULT_COALESCE_MS,
  ) {}

  /** Adds a local listener of `channel`; returns its removal. */
  onLocal(channel: string, wake: () => void): () => void {
    const set = this.local.get(channel) ?? new Set();
    this.local.set(channel, set);
    set.add(wake);
    return () => {
      set.delete(wake);
      if (set.size === 0) this.local.delete(channel);
    };
  }

  /** Runs `fn` as a transaction whose signals fire after it commits. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const s: TxScope = { channels: new Set(), ended: false };
    try {
      const result = await scope.run(s, fn);
      for (const channel of s.channels) this.committed(channel);
      return result;
    } finally {
      s.ended = true;
    }
  }

  /** Something on `channel` committed: wake local listeners now, the other instances soon. */
  committed(channel: string): void {
    for (const wake of this.local.get(channel) ?? []) wake();
    if (!this.notify || this.closed) return;
    const w = this.windows.get(channel);
    if (w) {
      w.pending = true;
      return;
    }
    this.send(channel);
    this.openWindow(channel);
  }

  private openWindow(channel: string): void {
    const timer = setTimeout(() => {
      const w = this.windows.get(channel);
      this.windows.delete(channel);
      if (w?.pending && !this.closed) {
        this.send(channel);
        this.openWindow(channel);
      }
    }, this.coalesceMs);
    timer.unref();
    this.windows.set(channel, { timer, pending: false });
  }

  private send(channel: string): void {
    const p = this.notify!(channel, this.tag)
      .then(() => {
        this.sent++;
      })
      .catch((err) => this.logger.warn({ err, channel }, 'wake-up NOTIFY failed; the safety poll covers it'));
    this.sending.add(p);
    void p.finally(() => this.sending.delete(p));
  }

  /** Sends what is still pending at once and waits for every NOTIFY in flight (orderly stop). */
  async flush(): Promise<void> {
    for (const [channel, w] of [...this.windows]) {
      clearTimeout(w.timer);
      this.windows.delete(channel);
      if (w.pending && this.notify) this.send(channel);
    }
    this.closed = true;
    await Promise.all([...this.sending]);
  }
}
