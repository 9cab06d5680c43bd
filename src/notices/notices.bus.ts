import type { Logger } from 'pino';
import type { Database, DatabaseHandle, Db, Listener } from '../db/client.js';
import { comparePositions, type Position } from './notices.position.js';
import { frontier, NOTICE_CHANNEL, readFinalAfter, readHorizon, type StoredNotice } from './notices.store.js';

const FEED_BATCH = 1000; // rows per instance-wide poll query
const REPLAY_BATCH = 500; // rows per replay page of one subscriber
const PENDING_RETRY_MS = [5, 20, 50, 100, 250, 500]; // waiting for an older transaction to finish
const SAFETY_POLL_MS = 5_000; // default: a poll even without NOTIFY, in case a wake-up was lost
/**
 * Live notices buffered per subscriber. A subscriber that falls further behind drops its buffer
 * and reads on from the table (replay) — bounded memory, nothing lost, nothing twice.
 */
export const DEFAULT_MAX_QUEUE = 10_000;

/** Why a stream refused or ended. */
export class StreamError extends Error {
  constructor(
    readonly code: 'CURSOR_EXPIRED',
    message: string,
  ) {
    super(message);
  }
}

/**
 * The instance's notice bus: one LISTEN connection, one instance-wide feed that reads each new
 * final notice once and hands it to the local subscribers of its recipients (N4). Streams replay
 * from the table, then go live, de-duplicating by position (N1).
 */
export class NoticeBus {
  private position: Position = { xid: 0n, id: 0n };
  private readonly subscribers = new Map<string, Set<NoticeStream>>();
  private listener: Listener | undefined;
  private polling = false;
  private again = false;
  private retry = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private held = false;
  private safetyTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Resolves when the current poll (if any) settles; for orderly shutdown. */
  private pollDone: Promise<void> = Promise.resolve();
  /**
   * No stream was open when a wake-up came, so the feed did not poll: its position is behind, and
   * the next `open` first moves it to the frontier (nobody here was owed what lies between).
   */
  private idle = false;
  private resyncing: Promise<void> | undefined;
  /** Feed polls run (a metric for tests and the bench). */
  polls = 0;
  delivered = 0;

  constructor(
    private readonly handle: DatabaseHandle,
    private readonly logger: Logger,
    /** Live notices buffered per subscriber before it falls back to replay. */
    readonly maxQueue = DEFAULT_MAX_QUEUE,
    /**
     * A poll even without NOTIFY, in case a wake-up was lost. It is not what delivers a notice held
     * back behind an older transaction (the bus re-polls for that itself); tests set it far out to
     * show so.
     */
    readonly safetyPollMs = SAFETY_POLL_MS,
  ) {}

  /**
   * True while the last poll found a committed notice after the feed's position that is not final
   * yet (an older transaction still runs): the bus re-polls until it is.
   */
  get heldBack(): boolean {
    return this.held;
  }

  /** The feed's position: every notice at or before it was final and has been handed out. */
  get feedPosition(): Position {
    return this.position;
  }

  get db(): Database {
    return this.handle.db;
  }

  /** True while the LISTEN connection is up (`/readyz`). */
  get connected(): boolean {
    return this.listener?.connected === true;
  }

  /** Number of live streams on this instance. */
  get streamCount(): number {
    let n = 0;
    for (const s of this.subscribers.values()) n += s.size;
    return n;
  }

  async start(): Promise<void> {
    this.position = await frontier(this.db);
    this.listener = await this.handle.listen(NOTICE_CHANNEL, () => this.wake());
    this.safetyTimer = setInterval(() => this.wake(), this.safetyPollMs);
    this.safetyTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.safetyTimer) clearInterval(this.safetyTimer);
    for (const set of this.subscribers.values()) for (const s of set) s.end();
    this.subscribers.clear();
    await this.listener?.close();
    await this.pollDone;
  }

  /**
   * Asks for a poll; polls never overlap, and a wake during a poll runs one more. With no stream
   * open on this instance there is no one to hand a notice to: the feed skips the poll (a stream
   * opened later starts from the frontier; one with a cursor replays from the table).
   */
  wake(): void {
    if (this.stopped) return;
    if (this.subscribers.size === 0 && !this.polling) {
      this.idle = true;
      return;
    }
    if (this.polling) {
      this.again = true;
      return;
    }
    this.polling = true;
    this.pollDone = this.poll()
      .catch((err) => {
        this.logger.warn({ err }, 'notice poll failed; retrying');
        this.scheduleRetry();
      })
      .finally(() => {
        this.polling = false;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  private async poll(): Promise<void> {
    this.polls++;
    let delivered = 0;
    let pending: boolean;
    for (;;) {
      // One statement per page: the final notices and whether a later one is still held back.
      const page = await readFinalAfter(
        this.handle.feedDb,
        this.position,
        FEED_BATCH,
        undefined,
        undefined,
        true,
      );
      delivered += page.items.length;
      for (const n of page.items) {
        this.position = n.position;
        for (const r of n.recipientIds) {
          const set = this.subscribers.get(r);
          if (set) for (const s of set) s.push(n);
        }
      }
      pending = page.pending;
      if (page.items.length < FEED_BATCH) break;
    }
    // Back off only while stalled behind an older transaction; progress starts the back-off afresh.
    if (delivered > 0) this.retry = 0;
    // The pending flag was read under the same horizon as the last page: an older transaction
    // that ends after it (and wrote no notice, so sends no wake-up) is caught by the re-poll.
    this.held = pending;
    if (this.held) this.scheduleRetry();
    else this.retry = 0;
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.stopped) return;
    const delay = PENDING_RETRY_MS[Math.min(this.retry++, PENDING_RETRY_MS.length - 1)]!;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.wake();
    }, delay);
  }

  /**
   * Opens a stream of `userId`'s notices after `after` (or from now). Registers for live
   * notices first, then replays, so nothing falls between the two (N1).
   * Throws `StreamError('CURSOR_EXPIRED')` when `after` is older than what is kept.
   */
  async open(userId: string, after: Position | null): Promise<NoticeStream> {
    // Every open waits for one resync of an idle feed, so none registers at a stale position.
    if (this.idle) this.resyncing ??= this.resync();
    const resynced = this.resyncing;
    if (resynced) await resynced;
    // Everything up to the feed's position is final; replay reads at least that far.
    const stream = new NoticeStream(this, userId, after, this.position);
    const set = this.subscribers.get(userId) ?? new Set<NoticeStream>();
    this.subscribers.set(userId, set);
    set.add(stream);
    // Wake-ups skipped while the resync ran (no stream yet) are made up for now.
    if (resynced) this.wake();
    if (after) {
      try {
        await assertNotExpired(this.db, after);
      } catch (err) {
        this.unregister(stream);
        throw err;
      }
    }
    return stream;
  }

  /** Moves an idle feed to the frontier: every notice committed later lands after it. */
  private async resync(): Promise<void> {
    try {
      await this.pollDone;
      const f = await frontier(this.db);
      if (comparePositions(f, this.position) > 0) this.position = f;
      this.idle = false;
    } finally {
      this.resyncing = undefined;
    }
  }

  /** @internal */
  unregister(stream: NoticeStream): void {
    const set = this.subscribers.get(stream.userId);
    if (!set) return;
    set.delete(stream);
    if (set.size === 0) this.subscribers.delete(stream.userId);
  }

  /** @internal */
  countDelivery(): void {
    this.delivered++;
  }

  /** Streams that fell behind and went back to replay (a metric). */
  fallbacks = 0;

  /** @internal */
  countFallback(): void {
    this.fallbacks++;
  }
}

/** Refuses a cursor at or before the pruning horizon: notices after it may be gone. */
export async function assertNotExpired(db: Db, after: Position): Promise<void> {
  const horizon = await readHorizon(db);
  if (horizon && comparePositions(after, horizon) <= 0) {
    throw new StreamError(
      'CURSOR_EXPIRED',
      'This cursor is older than the notices kept; start again without one.',
    );
  }
}

/**
 * One subscriber's notices: the replay pages first, then the live queue, each notice once and in
 * position order. An AsyncIterator whose `return()` ends it at once, even while it waits.
 */
export class NoticeStream implements AsyncIterableIterator<StoredNotice> {
  private last: Position | null;
  private replaying: boolean;
  private replayed: StoredNotice[] = [];
  private queue: StoredNotice[] = [];
  private wakeUp: (() => void) | undefined;
  private done = false;

  constructor(
    private readonly bus: NoticeBus,
    readonly userId: string,
    after: Position | null,
    /**
     * Up to here the feed handed notices out without this stream (before it registered, or
     * dropped when it fell behind): replay must cover it whatever the horizon says.
     */
    private settled: Position,
  ) {
    this.last = after;
    this.origin = settled;
    this.replaying = after !== null;
  }

  /** Where a stream opened without a cursor starts. */
  private readonly origin: Position;

  /** Called by the bus with each live notice for this user. */
  push(n: StoredNotice): void {
    if (this.done) return;
    if (this.queue.length >= this.bus.maxQueue) {
      // Too far behind: forget the buffer and read on from the table, from the last notice given.
      this.queue = [];
      this.last ??= this.origin;
      this.settled = n.position; // the feed is at `n` now: everything dropped is at or before it
      this.replaying = true;
      this.bus.countFallback();
      this.signal();
      return;
    }
    this.queue.push(n);
    this.signal();
  }

  private signal(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  private emit(n: StoredNotice): IteratorResult<StoredNotice> {
    this.last = n.position;
    this.bus.countDelivery();
    return { value: n, done: false };
  }

  async next(): Promise<IteratorResult<StoredNotice>> {
    for (;;) {
      if (this.done) return { value: undefined, done: true };
      const replayed = this.replayed.shift();
      if (replayed) return this.emit(replayed);
      if (this.replaying) {
        const from = this.last!;
        // Up to `settled` the feed already delivered (to others, not to this stream): replay must
        // cover it even if this read's horizon is more cautious; past it, live delivery takes over.
        const { items: page } = await readFinalAfter(
          this.bus.db,
          from,
          REPLAY_BATCH,
          this.userId,
          this.settled,
        );
        // A prune that committed before this page was read may have deleted notices after `from`;
        // it moved the horizon in the same transaction, so this check sees it (N1: no silent gap).
        await assertNotExpired(this.bus.db, from);
        if (page.length < REPLAY_BATCH) this.replaying = false;
        this.replayed = page;
        continue;
      }
      // Live: skip what replay (or an earlier live notice) already covered.
      const live = this.queue.shift();
      if (live) {
        if (this.last && comparePositions(live.position, this.last) <= 0) continue;
        return this.emit(live);
      }
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
      });
    }
  }

  /** Ends the stream (socket closed, bus stopping or the subscriber too slow). */
  end(): void {
    if (this.done) return;
    this.done = true;
    this.bus.unregister(this);
    this.signal();
  }

  async return(): Promise<IteratorResult<StoredNotice>> {
    this.end();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
