// Issue #3: SPEC §1 (R1–R4, R6) as a model, checked against the real service on Postgres.
//
// Random command sequences over four users (request, accept, decline, delete SILENT|NOTIFY, block
// with or without deleteHistory, unblock, send a message, advance the clock, sweep) run against
// both the real use cases and the plain reference model below; after every step, each user's view
// of each peer, each side's retention status and message count, the pending requests each user
// sees must agree; a deletion's notices to the peer follow R2/R6.
//
// The model is written from SPEC.md §1 and the descriptions in schema/contacts.graphql,
// schema/messages.graphql and schema/retention.graphql, on purpose NOT from
// src/contacts/contacts.rules.ts. Where SPEC is silent it follows the SDL:
//  - R1: a request to someone who blocks you is PENDING for you and never shown to them, even after
//    they unblock; asking again once the block is lifted shows it (the SDL's "answers with the
//    existing request"). A block hides the other's pending request and leaves the blocker's own as
//    it is; accepting that one (or crossing it) befriends only the accepting side, behind the block.
//  - R1: a request while the peer has a pending request to you that you can see makes you friends at
//    once (crossing requests), and answers every pending request between the two.
//  - R1/R2: ALREADY_EXISTS while you see the peer as a friend (even if they one-way deleted you);
//    FORBIDDEN while you block them. A deleter who asks a peer that still has them (looking through
//    a block: a block hides, it does not delete) is a friend again at once (R2).
//  - R2/R8: a one-way delete or a block is invisible to the other side; MUTUALLY_DELETED shows once
//    both sides have deleted (a side that deleted and then blocked still counts as deleted).
//  - R3: the buffer starts when the second side deletes (purgeAt = t + 30 days) and ends when the
//    two are friends again; accepting after purgeAt purges first (an empty conversation). Between
//    purgeAt and the sweep the state still reads BUFFERED with restorable false (see the report on
//    issue #3: SPEC says "status reads PURGED" at purgeAt; the sweeper is what purges).
//  - R4: block-and-delete purges the pair's messages at once for both parties; unblock returns the
//    blocker to what they had before the block, and after a block-and-delete that is "deleted"
//    (a stranger stays a stranger). Block alone keeps history and messaging returns as it was.
//  - Messages (messages.graphql): the sender who deleted the peer gets NOT_FRIENDS, the blocker
//    FORBIDDEN, the side the peer deleted or blocked VERIFICATION_REQUIRED.
//  - A party sees the pair's conversation only while it holds an entry about the peer: a stranger
//    someone blocked must not find a conversation with them (R1: the block stays invisible). So a
//    sender or viewer without an entry gets NOT_FOUND, as when there is no conversation at all.
//  - Retention (retention.graphql): ACTIVE for a friend (the party a peer silently deleted or
//    blocked sees ACTIVE), PURGED once purged until a new friendship, else BLOCKED /
//    ONE_WAY_DELETED / BUFFERED; restorable while the history is kept and purgeAt (if any) is ahead.
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Viewer } from '../../src/auth.js';
import { DAY, HOUR, ManualClock, SECOND } from '../../src/clock.js';
import {
  blockContact,
  deleteContact,
  getContact,
  respondToFriendRequest,
  sendFriendRequest,
  unblockContact,
} from '../../src/contacts/contacts.service.js';
import { listPending } from '../../src/contacts/contacts.store.js';
import { rows } from '../../src/db/client.js';
import { runSweep } from '../../src/jobs/sweep.js';
import { sendMessage } from '../../src/messages/messages.service.js';
import { findDirect } from '../../src/messages/messages.store.js';
import { retentionStatus } from '../../src/retention/retention.service.js';
import type { Deps } from '../../src/shared/deps.js';
import type { Result } from '../../src/shared/result.js';
import { ensureUser } from '../../src/users/users.store.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startTestApp, type TestApp } from '../support/server.js';

const USERS = 4;
const START = new Date('2026-01-01T00:00:00.000Z');
const BUFFER_MS = 30 * DAY; // R3

// --- the reference model ---------------------------------------------------------------------------

type EntryState = 'FRIEND' | 'DELETED' | 'BLOCKED';
type Base = 'FRIEND' | 'DELETED' | null;
type View = 'FRIEND' | 'DELETED_BY_ME' | 'MUTUALLY_DELETED' | 'BLOCKED_BY_ME' | null;

interface ModelEntry {
  state: EntryState;
  /** While BLOCKED: what unblock returns to. */
  beforeBlock: Base;
}

interface ModelRequest {
  from: number;
  to: number;
  status: 'PENDING' | 'ACCEPTED' | 'DECLINED' | 'CANCELLED';
  hidden: boolean;
}

interface ModelConversation {
  messages: number;
  mutualSince: Date | null;
  purgeAt: Date | null;
  purged: boolean;
  purgedAt: Date | null;
}

/** What a command answers: OK or the refusal's code, and for requests the request's status. */
interface Answer {
  code: string;
  status?: string;
}

interface RetentionSeen {
  state: string;
  purgeAt: string | null;
  purgedAt: string | null;
  restorable: boolean;
  visibleMessages: number;
}

/** Everything compared after each step. Keys name users by index: `0→1` is user 0 about user 1. */
interface Observation {
  views: Record<string, View>;
  retention: Record<string, RetentionSeen | 'no conversation' | 'NOT_FOUND'>;
  incoming: Record<number, string[]>;
  outgoing: Record<number, string[]>;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);
const others = (a: number): number[] => [...Array(USERS).keys()].filter((b) => b !== a);

class Model {
  now = START;
  readonly requests: ModelRequest[] = [];
  private readonly entries = new Map<string, ModelEntry>();
  private readonly conversations = new Map<string, ModelConversation>();

  entry(a: number, b: number): ModelEntry | null {
    return this.entries.get(`${a}→${b}`) ?? null;
  }

  private put(a: number, b: number, e: ModelEntry | null): void {
    if (e) this.entries.set(`${a}→${b}`, e);
    else this.entries.delete(`${a}→${b}`);
  }

  /** What a's entry stands for, looking through a block (a block hides, it does not delete). */
  private base(a: number, b: number): Base {
    const e = this.entry(a, b);
    if (!e) return null;
    return e.state === 'BLOCKED' ? e.beforeBlock : e.state;
  }

  /** R2/R3/R8: a's view of b. */
  view(a: number, b: number): View {
    const e = this.entry(a, b);
    if (!e) return null;
    if (e.state === 'FRIEND') return 'FRIEND';
    if (e.state === 'BLOCKED') return 'BLOCKED_BY_ME';
    return this.base(b, a) === 'DELETED' ? 'MUTUALLY_DELETED' : 'DELETED_BY_ME';
  }

  conversation(a: number, b: number): ModelConversation | undefined {
    return this.conversations.get(a < b ? `${a}-${b}` : `${b}-${a}`);
  }

  /** The pair's one conversation, made by its first friendship or block. */
  private touch(a: number, b: number): ModelConversation {
    const key = a < b ? `${a}-${b}` : `${b}-${a}`;
    let c = this.conversations.get(key);
    if (!c) {
      c = { messages: 0, mutualSince: null, purgeAt: null, purged: false, purgedAt: null };
      this.conversations.set(key, c);
    }
    return c;
  }

  /** R3 purges as of purgeAt (whenever the rows go); R4 purges now. */
  private purge(c: ModelConversation, rule: 'R3' | 'R4'): void {
    c.messages = 0;
    c.purged = true;
    c.purgedAt = rule === 'R3' && c.purgeAt ? c.purgeAt : this.now;
    c.purgeAt = null;
  }

  private pendingIndex(from: number, to: number): number {
    return this.requests.findIndex((r) => r.from === from && r.to === to && r.status === 'PENDING');
  }

  /**
   * The request `to` answers: the newest pending one from `from` it can see, else the newest
   * pending one it can see from anyone, else the newest one from `from` whatever its state (hidden
   * or answered); -1 when there is none (an unknown id).
   */
  requestToAnswer(to: number, from: number): number {
    const open = (r: ModelRequest) => r.to === to && r.status === 'PENDING' && !r.hidden;
    const fromThem = this.requests.findLastIndex((r) => open(r) && r.from === from);
    if (fromThem >= 0) return fromThem;
    const fromAnyone = this.requests.findLastIndex(open);
    if (fromAnyone >= 0) return fromAnyone;
    return this.requests.findLastIndex((r) => r.from === from && r.to === to);
  }

  /** R3: the buffer runs while both sides have deleted; a new friendship starts afresh. */
  private settle(a: number, b: number): void {
    const c = this.touch(a, b);
    const mutual = this.base(a, b) === 'DELETED' && this.base(b, a) === 'DELETED';
    if (mutual && !c.mutualSince) {
      c.mutualSince = this.now;
      c.purgeAt = c.purged ? null : new Date(this.now.getTime() + BUFFER_MS);
    }
    if (!mutual) {
      c.mutualSince = null;
      c.purgeAt = null;
    }
    if (this.base(a, b) === 'FRIEND' && this.base(b, a) === 'FRIEND') {
      c.purged = false;
      c.purgedAt = null;
    }
  }

  /** R1/R3: both sides friends; every pending request between them is answered. */
  private befriend(a: number, b: number): void {
    const c = this.touch(a, b);
    // R3: the buffer ran out before the re-add (the sweeper had not come yet): an empty conversation.
    if (c.purgeAt && c.purgeAt.getTime() <= this.now.getTime()) this.purge(c, 'R3');
    // A requester who blocked the other since asking keeps the block (and what it hid).
    for (const [x, y] of [
      [a, b],
      [b, a],
    ] as const) {
      if (this.entry(x, y)?.state !== 'BLOCKED') this.put(x, y, { state: 'FRIEND', beforeBlock: null });
    }
    for (const r of this.requests) {
      const between = (r.from === a && r.to === b) || (r.from === b && r.to === a);
      if (between && r.status === 'PENDING') r.status = 'ACCEPTED';
    }
    this.settle(a, b);
  }

  /** R1/R2: a asks b. `index`: the model request the answer is (new or existing), if pending. */
  request(a: number, b: number): Answer & { index?: number; fresh?: boolean } {
    const mine = this.entry(a, b);
    if (mine?.state === 'BLOCKED') return { code: 'FORBIDDEN' };
    if (mine?.state === 'FRIEND') return { code: 'ALREADY_EXISTS' };
    if (mine?.state === 'DELETED' && this.base(b, a) === 'FRIEND') {
      this.put(a, b, { state: 'FRIEND', beforeBlock: null }); // R2: restored at once
      this.settle(a, b);
      return { code: 'OK', status: 'ACCEPTED' };
    }
    const peerBlocks = this.entry(b, a)?.state === 'BLOCKED';
    const theirs = this.pendingIndex(b, a);
    if (theirs >= 0 && !this.requests[theirs]!.hidden) {
      this.befriend(a, b);
      return { code: 'OK', status: 'ACCEPTED' };
    }
    const own = this.pendingIndex(a, b);
    if (own >= 0) {
      if (!peerBlocks) this.requests[own]!.hidden = false;
      return { code: 'OK', status: 'PENDING', index: own };
    }
    this.requests.push({ from: a, to: b, status: 'PENDING', hidden: peerBlocks });
    return { code: 'OK', status: 'PENDING', index: this.requests.length - 1, fresh: true };
  }

  /** R1: the recipient answers request `index` (-1: a request that does not exist). */
  respond(index: number, accept: boolean): Answer {
    const r = this.requests[index];
    if (!r || r.hidden) return { code: 'NOT_FOUND' };
    if (r.status !== 'PENDING') return { code: 'ALREADY_EXISTS' };
    if (!accept) {
      r.status = 'DECLINED';
      return { code: 'OK' };
    }
    if (this.entry(r.to, r.from)?.state === 'BLOCKED') return { code: 'FORBIDDEN' };
    this.befriend(r.from, r.to);
    return { code: 'OK' };
  }

  /** R2/R3 (the notice level, R6, changes only who is told: checked by the Delete step). */
  delete(a: number, b: number): Answer {
    if (this.entry(a, b)?.state !== 'FRIEND') return { code: 'NOT_FRIENDS' };
    this.put(a, b, { state: 'DELETED', beforeBlock: null });
    this.settle(a, b);
    return { code: 'OK' };
  }

  /** R4 (and R1: the blocked one's request is hidden; the blocker's own stays, so the block cannot be seen). */
  block(a: number, b: number, deleteHistory: boolean): Answer {
    const e = this.entry(a, b);
    if (e?.state === 'BLOCKED' && !deleteHistory) return { code: 'ALREADY_EXISTS' };
    let before: Base = e ? (e.state === 'BLOCKED' ? e.beforeBlock : e.state) : null;
    if (deleteHistory && before !== null) before = 'DELETED';
    this.put(a, b, { state: 'BLOCKED', beforeBlock: before });
    for (const r of this.requests) {
      if (r.status !== 'PENDING') continue;
      if (r.from === b && r.to === a) r.hidden = true;
    }
    const c = this.touch(a, b);
    if (deleteHistory) this.purge(c, 'R4');
    this.settle(a, b);
    return { code: 'OK' };
  }

  /** R4. */
  unblock(a: number, b: number): Answer {
    const e = this.entry(a, b);
    if (e?.state !== 'BLOCKED') return { code: 'NOT_FOUND' };
    this.put(a, b, e.beforeBlock ? { state: e.beforeBlock, beforeBlock: null } : null);
    this.settle(a, b);
    return { code: 'OK' };
  }

  /** SPEC §1 table and messages.graphql. */
  send(a: number, b: number): Answer {
    const c = this.conversation(a, b);
    const mine = this.entry(a, b)?.state;
    if (!c || !mine) return { code: 'NOT_FOUND' }; // no conversation the sender may see
    if (mine === 'DELETED') return { code: 'NOT_FRIENDS' };
    if (mine === 'BLOCKED') return { code: 'FORBIDDEN' };
    if (this.entry(b, a)?.state !== 'FRIEND') return { code: 'VERIFICATION_REQUIRED' };
    c.messages++;
    return { code: 'OK' };
  }

  /** T5/R3: purges every conversation whose buffer ran out. */
  sweep(): { conversations: number; messages: number } {
    let conversations = 0;
    let messages = 0;
    for (const c of this.conversations.values()) {
      if (c.purgeAt && c.purgeAt.getTime() <= this.now.getTime()) {
        conversations++;
        messages += c.messages;
        this.purge(c, 'R3');
      }
    }
    return { conversations, messages };
  }

  /** T4 from a's side. */
  retention(a: number, b: number): RetentionSeen | 'no conversation' | 'NOT_FOUND' {
    const c = this.conversation(a, b);
    if (!c) return 'no conversation';
    const v = this.view(a, b);
    if (v === null) return 'NOT_FOUND'; // hidden from a party without an entry (a stranger it blocked)
    const seen = { purgeAt: null, purgedAt: null, restorable: false, visibleMessages: c.messages };
    if (v === 'FRIEND') return { ...seen, state: 'ACTIVE' };
    if (c.purged) return { ...seen, state: 'PURGED', purgedAt: iso(c.purgedAt) };
    // R3: "at purgeAt its messages are purged; status reads PURGED" — even before the sweep runs.
    if (c.purgeAt && c.purgeAt.getTime() <= this.now.getTime()) {
      return { ...seen, state: 'PURGED', purgedAt: iso(c.purgeAt), visibleMessages: 0 };
    }
    const state = v === 'BLOCKED_BY_ME' ? 'BLOCKED' : v === 'DELETED_BY_ME' ? 'ONE_WAY_DELETED' : 'BUFFERED';
    const restorable = c.purgeAt === null || c.purgeAt.getTime() > this.now.getTime();
    return { ...seen, state, purgeAt: iso(c.purgeAt), restorable };
  }

  observe(): Observation {
    const o: Observation = {
      views: {},
      retention: {},
      incoming: {},
      outgoing: {},
    };
    for (let a = 0; a < USERS; a++) {
      for (const b of others(a)) {
        o.views[`${a}→${b}`] = this.view(a, b);
        o.retention[`${a}→${b}`] = this.retention(a, b);
      }
      const pending = this.requests.filter((r) => r.status === 'PENDING');
      o.incoming[a] = pending
        .filter((r) => r.to === a && !r.hidden)
        .map((r) => `${r.from}→${r.to}`)
        .sort();
      o.outgoing[a] = pending
        .filter((r) => r.from === a)
        .map((r) => `${r.from}→${r.to}`)
        .sort();
    }
    return o;
  }
}

// --- the real system ----------------------------------------------------------------------------

interface Real {
  deps: Deps;
  clock: ManualClock;
  /** The real id of each model request. */
  requestIds: string[];
}

const userId = (i: number): string => `user-${i}`;
const indexOf = (id: string): number => Number(id.slice('user-'.length));
const viewer = (i: number): Viewer => ({
  userId: userId(i),
  name: undefined,
  operator: false,
  deviceId: undefined,
  expiresAt: undefined,
});
const answerOf = <T>(r: Result<T>, status?: (v: T) => string): Answer =>
  r.ok ? { code: 'OK', ...(status ? { status: status(r.value) } : {}) } : { code: r.error.code };

async function observeReal(r: Real): Promise<Observation> {
  const { deps } = r;
  const o: Observation = { views: {}, retention: {}, incoming: {}, outgoing: {} };
  const work: Promise<void>[] = [];
  for (let a = 0; a < USERS; a++) {
    for (const b of others(a)) {
      work.push(
        (async () => {
          o.views[`${a}→${b}`] = (await getContact(deps, viewer(a), userId(b)))?.state ?? null;
          const c = await findDirect(deps.db, userId(a), userId(b));
          if (!c) {
            o.retention[`${a}→${b}`] = 'no conversation';
            return;
          }
          const s = await retentionStatus(deps, viewer(a), c.id);
          if (!s.ok) {
            if (s.error.code !== 'NOT_FOUND') throw new Error(`retentionStatus refused: ${s.error.code}`);
            o.retention[`${a}→${b}`] = 'NOT_FOUND';
            return;
          }
          const { state, purgeAt, purgedAt, restorable, visibleMessages } = s.value;
          o.retention[`${a}→${b}`] = {
            state,
            purgeAt: iso(purgeAt),
            purgedAt: iso(purgedAt),
            restorable,
            visibleMessages,
          };
        })(),
      );
    }
    for (const direction of ['INCOMING', 'OUTGOING'] as const) {
      work.push(
        (async () => {
          const list = await listPending(deps.db, userId(a), direction, null, 100);
          // As a set: requests made at the same instant have no defined order.
          const seen = list.map((q) => `${indexOf(q.fromId)}→${indexOf(q.toId)}`).sort();
          if (direction === 'INCOMING') o.incoming[a] = seen;
          else o.outgoing[a] = seen;
        })(),
      );
    }
  }
  await Promise.all(work);
  return o;
}

// --- commands ----------------------------------------------------------------------------------------

/** One step: the same command on the model and on the real service; answers and views must agree. */
abstract class Step implements fc.AsyncCommand<Model, Real> {
  check(): boolean {
    return true;
  }
  abstract step(m: Model, r: Real): Promise<void>;
  async run(m: Model, r: Real): Promise<void> {
    await this.step(m, r);
    expect(await observeReal(r), `after ${this.toString()}`).toEqual(m.observe());
  }
  abstract toString(): string;
}

class Request extends Step {
  constructor(
    readonly a: number,
    readonly b: number,
  ) {
    super();
  }
  async step(m: Model, r: Real) {
    const got = await sendFriendRequest(r.deps, viewer(this.a), { userId: userId(this.b) });
    const want = m.request(this.a, this.b);
    expect(
      answerOf(got, (v) => v.request.status),
      this.toString(),
    ).toEqual({ code: want.code, ...(want.status ? { status: want.status } : {}) });
    if (got.ok && want.index !== undefined) {
      if (want.fresh) r.requestIds[want.index] = got.value.request.id;
      else expect(got.value.request.id, `${this} answers the pending request`).toBe(r.requestIds[want.index]);
    }
  }
  toString() {
    return `${this.a} requests ${this.b}`;
  }
}

class Respond extends Step {
  constructor(
    readonly to: number,
    readonly from: number,
    readonly accept: boolean,
  ) {
    super();
  }
  async step(m: Model, r: Real) {
    const index = m.requestToAnswer(this.to, this.from);
    const requestId = index >= 0 ? r.requestIds[index]! : randomUUID();
    const got = await respondToFriendRequest(r.deps, viewer(this.to), { requestId, accept: this.accept });
    expect(answerOf(got), this.toString()).toEqual(m.respond(index, this.accept));
  }
  toString() {
    return `${this.to} ${this.accept ? 'accepts' : 'declines'} ${this.from} (or whoever asked)`;
  }
}

/** R1 in one go, so random histories reach friendships (and what follows) often: a asks, b accepts. */
class Befriend extends Step {
  constructor(
    readonly a: number,
    readonly b: number,
  ) {
    super();
  }
  async step(m: Model, r: Real) {
    await new Request(this.a, this.b).run(m, r);
    await new Respond(this.b, this.a, true).step(m, r);
  }
  toString() {
    return `${this.a} requests ${this.b} and ${this.b} accepts`;
  }
}

class Delete extends Step {
  constructor(
    readonly a: number,
    readonly b: number,
    readonly notice: 'SILENT' | 'NOTIFY',
  ) {
    super();
  }
  async step(m: Model, r: Real) {
    const [mark] = await rows<{ id: string }>(
      r.deps.db,
      sql`SELECT coalesce(max(id), 0)::text AS id FROM notices`,
    );
    const peerViewBefore = m.view(this.b, this.a);
    const got = await deleteContact(r.deps, viewer(this.a), { userId: userId(this.b), notice: this.notice });
    const want = m.delete(this.a, this.b);
    expect(answerOf(got), this.toString()).toEqual(want);
    // R2/R6: the peer hears "removed you" once for NOTIFY, and nothing at all for SILENT unless its
    // own view changed (the deletion made the pair mutual, R3/R8).
    const told = await rows<{ kind: string }>(
      r.deps.db,
      sql`SELECT kind FROM notices WHERE id > ${mark!.id}::bigint AND recipient_ids @> ARRAY[${userId(this.b)}]::text[]`,
    );
    const removedYou = told.filter((n) => n.kind === 'ContactRemovedYou').length;
    const notify = want.code === 'OK' && this.notice === 'NOTIFY';
    expect(removedYou, `${this}: ContactRemovedYou to ${this.b}`).toBe(notify ? 1 : 0);
    if (!notify && m.view(this.b, this.a) === peerViewBefore) {
      expect(
        told.map((n) => n.kind),
        `${this}: ${this.b} is told nothing (R2)`,
      ).toEqual([]);
    }
  }
  toString() {
    return `${this.a} deletes ${this.b} (${this.notice})`;
  }
}

class Block extends Step {
  constructor(
    readonly a: number,
    readonly b: number,
    readonly deleteHistory: boolean,
  ) {
    super();
  }
  async step(m: Model, r: Real) {
    const got = await blockContact(r.deps, viewer(this.a), {
      userId: userId(this.b),
      deleteHistory: this.deleteHistory,
    });
    expect(answerOf(got), this.toString()).toEqual(m.block(this.a, this.b, this.deleteHistory));
  }
  toString() {
    return `${this.a} ${this.deleteHistory ? 'blocks and deletes' : 'blocks'} ${this.b}`;
  }
}

class Unblock extends Step {
  constructor(
    readonly a: number,
    readonly b: number,
  ) {
    super();
  }
  async step(m: Model, r: Real) {
    const got = await unblockContact(r.deps, viewer(this.a), { userId: userId(this.b) });
    expect(answerOf(got), this.toString()).toEqual(m.unblock(this.a, this.b));
  }
  toString() {
    return `${this.a} unblocks ${this.b}`;
  }
}

class Send extends Step {
  constructor(
    readonly a: number,
    readonly b: number,
  ) {
    super();
  }
  async step(m: Model, r: Real) {
    const c = await findDirect(r.deps.db, userId(this.a), userId(this.b));
    const got = await sendMessage(r.deps, viewer(this.a), {
      conversationId: c?.id ?? randomUUID(),
      body: `from ${this.a}`,
    });
    expect(answerOf(got), this.toString()).toEqual(m.send(this.a, this.b));
  }
  toString() {
    return `${this.a} messages ${this.b}`;
  }
}

class Advance extends Step {
  constructor(readonly hours: number) {
    super();
  }
  async step(m: Model, r: Real) {
    r.clock.advance((this.hours * HOUR) / SECOND);
    m.now = new Date(m.now.getTime() + this.hours * HOUR);
  }
  toString() {
    return `${this.hours} h pass`;
  }
}

class Sweep extends Step {
  async step(m: Model, r: Real) {
    const got = await runSweep(r.deps);
    const want = m.sweep();
    expect({ conversations: got.purgedConversations, messages: got.purgedMessages }, this.toString()).toEqual(
      want,
    );
  }
  toString() {
    return 'sweep';
  }
}

// Users 0 and 1 meet most often, so one pair goes deep; the other pairs add cross-talk.
const ordered = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<[number, number]>([0, 1], [1, 0]) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 0, max: USERS - 1 }), fc.integer({ min: 1, max: USERS - 1 }))
      .map(([a, d]): [number, number] => [a, (a + d) % USERS]),
  },
);

const commands = fc.commands(
  [
    ordered.map(([a, b]) => new Request(a, b)),
    ordered.map(([a, b]) => new Request(a, b)),
    ordered.map(([a, b]) => new Request(a, b)),
    ordered.map(([a, b]) => new Respond(a, b, true)),
    ordered.map(([a, b]) => new Respond(a, b, true)),
    ordered.map(([a, b]) => new Befriend(a, b)),
    ordered.map(([a, b]) => new Befriend(a, b)),
    ordered.map(([a, b]) => new Respond(a, b, false)),
    fc
      .tuple(ordered, fc.constantFrom('SILENT' as const, 'NOTIFY' as const))
      .map(([[a, b], n]) => new Delete(a, b, n)),
    fc
      .tuple(ordered, fc.constantFrom('SILENT' as const, 'NOTIFY' as const))
      .map(([[a, b], n]) => new Delete(a, b, n)),
    fc.tuple(ordered, fc.boolean()).map(([[a, b], d]) => new Block(a, b, d)),
    ordered.map(([a, b]) => new Unblock(a, b)),
    ordered.map(([a, b]) => new Send(a, b)),
    ordered.map(([a, b]) => new Send(a, b)),
    fc.integer({ min: 1, max: 40 * 24 }).map((h) => new Advance(h)),
    fc.constant(new Sweep()),
  ],
  { maxCommands: 25, size: 'max' },
);

// Hand-picked sequences, run before the random ones (fast-check `examples`).
const HOURS_A_DAY = 24;
const examples: Step[][] = [
  // R1: crossing requests become friendship, even when one of them was hidden by a lifted block.
  [new Block(1, 0, false), new Request(0, 1), new Unblock(1, 0), new Request(1, 0), new Request(0, 1)],
  // R3: mutual delete, re-add inside the buffer restores the history.
  [
    new Request(0, 1),
    new Respond(1, 0, true),
    new Send(0, 1),
    new Send(1, 0),
    new Delete(0, 1, 'SILENT'),
    new Send(1, 0),
    new Delete(1, 0, 'NOTIFY'),
    new Advance(29 * HOURS_A_DAY),
    new Sweep(),
    new Request(0, 1),
    new Respond(1, 0, true),
    new Send(0, 1),
  ],
  // R3: past purgeAt, the sweep purges; a re-add starts empty. And a re-add before the sweep.
  [
    new Request(0, 1),
    new Respond(1, 0, true),
    new Send(0, 1),
    new Delete(1, 0, 'SILENT'),
    new Delete(0, 1, 'SILENT'),
    new Advance(31 * HOURS_A_DAY),
    new Request(1, 0),
    new Sweep(),
    new Respond(0, 1, true),
    new Request(2, 3),
    new Respond(3, 2, true),
    new Send(3, 2),
    new Delete(2, 3, 'SILENT'),
    new Delete(3, 2, 'SILENT'),
    new Advance(30 * HOURS_A_DAY),
    new Request(3, 2),
    new Respond(2, 3, true),
    new Send(2, 3),
  ],
  // R2: a one-way deleter re-adds at once; R4 block and delete purges for both, unblock leaves deleted.
  [
    new Request(0, 1),
    new Respond(1, 0, true),
    new Send(1, 0),
    new Delete(0, 1, 'SILENT'),
    new Send(1, 0),
    new Request(1, 0),
    new Request(0, 1),
    new Send(0, 1),
    new Block(1, 0, true),
    new Send(0, 1),
    new Unblock(1, 0),
    new Request(1, 0),
    new Delete(0, 1, 'NOTIFY'),
    new Block(2, 3, false),
    new Request(3, 2),
    new Unblock(2, 3),
    new Respond(2, 3, true),
    new Request(3, 2),
  ],
  // R4: unblock returns to what was before the block (deleted, friend, stranger); a block does not
  // stop a running R3 buffer.
  [
    new Befriend(0, 1),
    new Delete(0, 1, 'SILENT'),
    new Block(0, 1, false),
    new Unblock(0, 1),
    new Send(0, 1),
    new Send(1, 0),
    new Block(1, 0, false),
    new Send(1, 0),
    new Unblock(1, 0),
    new Send(1, 0),
    new Block(2, 0, false),
    new Send(0, 2),
    new Unblock(2, 0),
    new Befriend(2, 3),
    new Send(3, 2),
    new Delete(2, 3, 'NOTIFY'),
    new Delete(3, 2, 'SILENT'),
    new Block(2, 3, false),
    new Advance(31 * HOURS_A_DAY),
    new Sweep(),
    new Unblock(2, 3),
    new Befriend(3, 2),
  ],
];

let database: TestDatabase;
let t: TestApp;

beforeAll(async () => {
  database = await createTestDatabase('pg');
  t = await startTestApp(database.handle);
});

afterAll(async () => {
  await t?.stop();
  await database?.drop();
});

/** A run's world: empty tables, four users, a clock of its own at START. */
async function fresh(): Promise<{ model: Model; real: Real }> {
  const db = database.handle.db;
  await db.execute(sql`TRUNCATE users, notices, notice_horizon CASCADE`);
  for (let i = 0; i < USERS; i++) await ensureUser(db, userId(i), undefined, START);
  const clock = new ManualClock(START);
  return { model: new Model(), real: { deps: { ...t.app.deps, clock }, clock, requestIds: [] } };
}

describe('SPEC §1 model: random pair histories agree with the reference model', () => {
  it('every step of request/accept/decline/delete/block/unblock/send/time/sweep matches', async () => {
    await fc.assert(
      fc.asyncProperty(commands, async (cmds) => {
        const { model, real } = await fresh();
        expect(await observeReal(real)).toEqual(model.observe());
        await fc.asyncModelRun(() => Promise.resolve({ model, real }), cmds);
      }),
      { numRuns: 40, examples: examples.map((e): [Iterable<fc.AsyncCommand<Model, Real>>] => [e]) },
    );
  });
});
