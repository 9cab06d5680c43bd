// Drives the live demo (scripts/build-demo.mjs → .demo/, served at /demo) in headless Chromium as
// two users side by side, alice and bob, friends with messages. It checks what each screen shows:
// a silent one-way deletion (R2) changes nothing on the peer's screen; a mutual deletion shows
// BUFFERED with the same purgeAt on both; the notice log survives a reload without duplicates and
// catches up exactly once on the notices produced while the browser was offline.
// Set DEMO_SCREENSHOTS=<dir> to keep a screenshot of both windows after each step there.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page, WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPage, launchChromium, recordedPage, until } from '../support/browser.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startTestApp, type TestApp } from '../support/server.js';

const SCREENSHOTS = process.env.DEMO_SCREENSHOTS;

interface Window {
  user: string;
  context: BrowserContext;
  page: Page;
}

describe('the live demo in a browser, as alice and bob side by side', () => {
  let db: TestDatabase;
  let t: TestApp;
  let browser: Browser;
  let alice: Window;
  let bob: Window;
  /** Every URL the pages requested (HTTP and WebSocket), for the "nothing from another host" check. */
  const requested: string[] = [];
  const pageErrors: string[] = [];
  const tokens = new Map<string, string>();
  let step = 0;
  /** The conversation of the group alice makes with bob while bob is offline. */
  let climbing = '';

  /** A token for `userId` from the demo's own endpoint (which also creates the cast's user rows). */
  async function token(userId: string): Promise<string> {
    let tok = tokens.get(userId);
    if (!tok) {
      const res = await fetch(`${t.url}/demo/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userId }),
      });
      expect(res.status).toBe(200);
      tok = ((await res.json()) as { token: string }).token;
      tokens.set(userId, tok);
    }
    return tok;
  }

  /** GraphQL as `userId`; fails on any top-level error or userError. */
  async function gql<T>(userId: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const r = await t.http<T>(query, variables, await token(userId));
    if (r.errors?.length || !r.data) throw new Error(`GraphQL errors: ${JSON.stringify(r.errors)}`);
    for (const payload of Object.values(r.data as Record<string, { userErrors?: unknown[] }>)) {
      if (payload?.userErrors?.length) throw new Error(`userErrors: ${JSON.stringify(payload.userErrors)}`);
    }
    return r.data;
  }

  /** `userId`'s notices after `after`, as the server keeps them (cursors, oldest first). */
  async function serverNotices(
    userId: string,
    after: string | null,
  ): Promise<{ cursor: string; kind: string }[]> {
    const r = await gql<{ notices: { edges: { node: { cursor: string; __typename: string } }[] } }>(
      userId,
      'query($after: String) { notices(after: $after, first: 100) { edges { node { cursor __typename } } } }',
      { after },
    );
    return r.notices.edges.map((e) => ({ cursor: e.node.cursor, kind: e.node.__typename }));
  }

  async function open(user: string, peer: string): Promise<Window> {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await recordedPage(context, requested, pageErrors, `${user}: `);
    const res = await page.goto(`${t.url}/demo?as=${user}&chat=${peer}`);
    expect(res?.status()).toBe(200);
    const w = { user, context, page };
    await live(w);
    return w;
  }

  /** The notice stream is connected (after the page caught up with what the server keeps). */
  const live = (w: Window) =>
    until(
      () => w.page.getByTestId('conn-status').getAttribute('data-state'),
      (s) => s === 'live',
      `${w.user}'s notice stream to be live`,
    );

  /** The text a person reads in the contacts, chat and notice-log regions. */
  const screenText = (w: Window) =>
    Promise.all(['contacts', 'chat', 'notice-log'].map((id) => w.page.getByTestId(id).innerText()));

  /** The cursors of the notice log's entries, in the order shown. */
  const logCursors = (w: Window) =>
    w.page
      .getByTestId('notice')
      .evaluateAll((els) =>
        els.map(
          (el) =>
            (el as unknown as { getAttribute(n: string): string | null }).getAttribute('data-cursor') ?? '',
        ),
      );

  const textOf = (w: Window, testid: string) => w.page.getByTestId(testid).innerText();

  async function shoot(name: string): Promise<void> {
    step++;
    if (!SCREENSHOTS) return;
    mkdirSync(SCREENSHOTS, { recursive: true });
    for (const w of [alice, bob]) {
      if (!w) continue;
      const file = `${String(step).padStart(2, '0')}-${name}-${w.user}.png`;
      await w.page.screenshot({ path: join(SCREENSHOTS, file), fullPage: true });
    }
  }

  beforeAll(async () => {
    // A no-op when .demo/ is up to date; rejects (with the build's output) when the build fails.
    await buildPage('build-demo.mjs');
    db = await createTestDatabase('pg');
    // TIME_TRAVEL on: the page shows the operator's clock control (the last test uses it).
    t = await startTestApp(db.handle, { config: { timeTravel: true } });
    browser = await launchChromium();

    // alice and bob are friends and have talked (through GraphQL, as a client app would).
    const sent = await gql<{ sendFriendRequest: { request: { id: string } } }>(
      'alice',
      'mutation { sendFriendRequest(input: { userId: "bob", greeting: "hi!" }) { request { id } userErrors { code } } }',
    );
    const accepted = await gql<{ respondToFriendRequest: { contact: { conversation: { id: string } } } }>(
      'bob',
      'mutation($id: ID!) { respondToFriendRequest(input: { requestId: $id, accept: true }) { contact { conversation { id } } userErrors { code } } }',
      { id: sent.sendFriendRequest.request.id },
    );
    const conversationId = accepted.respondToFriendRequest.contact.conversation.id;
    const send =
      'mutation($c: ID!, $b: String!) { sendMessage(input: { conversationId: $c, body: $b }) { message { id } userErrors { code } } }';
    await gql('alice', send, { c: conversationId, b: 'hello bob' });
    await gql('bob', send, { c: conversationId, b: 'hi alice, how are you?' });

    alice = await open('alice', 'bob');
    bob = await open('bob', 'alice');
  }, 180_000);

  afterAll(async () => {
    await alice?.context.close();
    await bob?.context.close();
    await browser?.close();
    await t?.stop();
    await db?.drop();
  });

  it('R2: alice deletes bob silently and nothing changes on bob’s screen', async () => {
    for (const w of [alice, bob]) {
      await until(
        () => w.page.getByTestId('message').count(),
        (n) => n === 2,
        `${w.user}'s two messages`,
      );
      await until(
        () => textOf(w, 'retention-state'),
        (s) => s === 'ACTIVE',
        `${w.user}'s retention`,
      );
    }
    await shoot('friends');
    const bobBefore = await screenText(bob);
    const bobCursors = await logCursors(bob);
    expect(bobBefore[0]).toContain('Alice');
    expect(bobBefore[1]).toContain('hello bob');

    // The preview first: what the deletion would do, nothing changed yet.
    await alice.page.getByTestId('action-delete').click();
    const preview = await until(
      () => textOf(alice, 'preview'),
      (s) => s.includes('DELETED_BY_ME'),
      'the deletion preview',
    );
    expect(preview).toContain('told nothing');
    expect(preview).toContain('R2');
    await shoot('alice-previews-delete');
    await alice.page.getByTestId('preview-confirm').click();

    // alice's own notice (her view changed) arrives in her log, and her screen follows it.
    await until(
      () => alice.page.getByTestId('notice-log').innerText(),
      (s) => s.includes('your view of bob is now DELETED_BY_ME'),
      "alice's ContactChanged notice",
    );
    await until(
      () => textOf(alice, 'retention-state'),
      (s) => s === 'ONE_WAY_DELETED',
      "alice's retention",
    );
    expect(
      await alice.page.locator('[data-testid="contact"][data-user="bob"]').getAttribute('data-state'),
    ).toBe('DELETED_BY_ME');

    // The server has nothing for bob after his last cursor, and his screen reads exactly as before.
    expect(await serverNotices('bob', bobCursors.at(0) ?? null)).toEqual([]);
    await live(bob);
    expect(await screenText(bob)).toEqual(bobBefore);
    expect(await textOf(bob, 'retention-state')).toBe('ACTIVE');
    await shoot('alice-deleted-bob-silently');
  });

  it('R3: bob deletes alice too, and both screens show BUFFERED with the same purgeAt', async () => {
    await bob.page.getByTestId('action-delete').click();
    await until(
      () => textOf(bob, 'preview'),
      (s) => s.includes('Confirm'),
      "bob's preview",
    );
    await bob.page.getByTestId('preview-confirm').click();

    const purgeAt: string[] = [];
    for (const w of [bob, alice]) {
      await until(
        () => textOf(w, 'retention-state'),
        (s) => s === 'BUFFERED',
        `${w.user}'s BUFFERED state`,
      );
      const at = await until(
        () => textOf(w, 'retention-purge-at'),
        (s) => s.length > 0,
        `${w.user}'s purgeAt`,
      );
      purgeAt.push(at);
      expect(
        await w.page
          .locator(`[data-testid="contact"][data-user="${w === bob ? 'alice' : 'bob'}"]`)
          .getAttribute('data-state'),
      ).toBe('MUTUALLY_DELETED');
      expect(await textOf(w, 'retention-countdown')).toMatch(/\d+ s$/);
    }
    expect(purgeAt[0]).toBe(purgeAt[1]);
    // 30 days after the server clock's now (the test server's clock stands still).
    const iso = await bob.page.getByTestId('retention-purge-at').getAttribute('data-iso');
    expect(iso).toBe(new Date(t.clock.now().getTime() + 30 * 86_400_000).toISOString());
    await shoot('mutually-deleted-buffered');
  });

  it('a reload keeps bob’s notice log, each notice once, and it goes on live', async () => {
    const before = await logCursors(bob);
    expect(before.length).toBeGreaterThan(0);
    await bob.page.reload();
    await live(bob);
    const after = await logCursors(bob);
    expect(after).toEqual(before);
    expect(new Set(after).size).toBe(after.length);

    // A new notice still arrives live after the reload, once.
    await gql(
      'carol',
      'mutation { sendFriendRequest(input: { userId: "bob" }) { request { id } userErrors { code } } }',
    );
    const [fresh] = await until(
      () => serverNotices('bob', before.at(0) ?? null),
      (n) => n.length === 1,
      "carol's request among bob's notices on the server",
    );
    const cursors = await until(
      () => logCursors(bob),
      (c) => c.includes(fresh!.cursor),
      'the new notice in bob’s log',
    );
    expect(cursors.filter((c) => c === fresh!.cursor)).toHaveLength(1);
    expect(new Set(cursors).size).toBe(cursors.length);
    await until(
      () => bob.page.locator('[data-testid="incoming-request"][data-from="carol"]').count(),
      (n) => n === 1,
      "carol's request on bob's screen",
    );
    await shoot('bob-reloaded');
  });

  it('offline: the notices produced meanwhile appear exactly once when bob is back', async () => {
    const before = await logCursors(bob);
    const last = before.at(0) ?? null; // newest first
    await bob.context.setOffline(true);
    await until(
      () => bob.page.getByTestId('conn-status').getAttribute('data-state'),
      (s) => s === 'offline',
      "bob's page to notice it is offline",
    );

    // As alice, meanwhile: a friend request, a group with bob, a message in it — three notices for bob.
    await gql(
      'alice',
      'mutation { sendFriendRequest(input: { userId: "bob" }) { request { id } userErrors { code } } }',
    );
    const group = await gql<{ createGroup: { group: { conversation: { id: string } } } }>(
      'alice',
      'mutation { createGroup(input: { name: "Climbing", kind: STANDARD, memberIds: ["bob"] }) { group { conversation { id } } userErrors { code } } }',
    );
    climbing = group.createGroup.group.conversation.id;
    await gql(
      'alice',
      'mutation($c: ID!) { sendMessage(input: { conversationId: $c, body: "Saturday?" }) { message { id } userErrors { code } } }',
      { c: climbing },
    );
    const missed = await serverNotices('bob', last);
    expect(missed.map((n) => n.kind)).toEqual([
      'FriendRequestReceived',
      'GroupMemberChanged',
      'MessageReceived',
    ]);
    // Nothing reached the page while it was offline.
    expect(await logCursors(bob)).toEqual(before);
    await shoot('bob-offline');

    await bob.context.setOffline(false);
    await live(bob);
    const after = await until(
      () => logCursors(bob),
      (c) => missed.every((n) => c.includes(n.cursor)),
      'the missed notices in bob’s log',
    );
    expect(after).toHaveLength(before.length + missed.length);
    expect(new Set(after).size).toBe(after.length);
    // Newest first: the three missed ones, in the server's order, above everything from before.
    expect(after.slice(0, 3)).toEqual(missed.map((n) => n.cursor).reverse());
    expect(after.slice(3)).toEqual(before);
    const log = await textOf(bob, 'notice-log');
    expect(log).toContain('alice sent you a friend request');
    expect(log).toContain('message from alice: “Saturday?”');
    // The screen followed the notices: alice's request and the group are shown.
    await until(
      () => bob.page.locator('[data-testid="incoming-request"][data-from="alice"]').count(),
      (n) => n === 1,
      "alice's request on bob's screen",
    );
    await until(
      () => textOf(bob, 'groups'),
      (s) => s.includes('Climbing'),
      'the group on bob’s screen',
    );

    // Another reload: still each notice once.
    await bob.page.reload();
    await live(bob);
    expect(await logCursors(bob)).toEqual(after);
    await shoot('bob-back-online');
  });

  it('a connection dropped without an offline event resumes from the last cursor, each notice once', async () => {
    // bob's socket goes through the test: it can drop it and refuse reconnections for a while.
    let refusing = false;
    let refused = 0;
    const open: { page: WebSocketRoute; server: WebSocketRoute }[] = [];
    await bob.page.routeWebSocket(/\/graphql$/, (ws) => {
      if (refusing) {
        refused++;
        void ws.close({ code: 1012, reason: 'dropped by the test' });
        return;
      }
      open.push({ page: ws, server: ws.connectToServer() });
    });
    await bob.page.reload();
    await live(bob);
    expect(open).toHaveLength(1);
    const before = await logCursors(bob);

    refusing = true;
    await open[0]!.server.close();
    await open[0]!.page.close({ code: 1012, reason: 'dropped by the test' });
    await until(
      () => bob.page.getByTestId('conn-status').getAttribute('data-state'),
      (s) => s === 'reconnecting',
      "bob's page to notice the drop",
    );
    await until(
      () => Promise.resolve(refused),
      (n) => n >= 1,
      'a refused reconnection',
    );

    const send =
      'mutation($c: ID!, $b: String!) { sendMessage(input: { conversationId: $c, body: $b }) { message { id } userErrors { code } } }';
    await gql('alice', send, { c: climbing, b: 'still there?' });
    await gql('alice', send, { c: climbing, b: 'Sunday then.' });
    const missed = await serverNotices('bob', before.at(0) ?? null);
    expect(missed.map((n) => n.kind)).toEqual(['MessageReceived', 'MessageReceived']);
    expect(await logCursors(bob)).toEqual(before);

    refusing = false;
    await live(bob);
    const after = await until(
      () => logCursors(bob),
      (c) => missed.every((n) => c.includes(n.cursor)),
      'the missed notices in bob’s log',
    );
    expect(after).toEqual([...missed.map((n) => n.cursor).reverse(), ...before]);
    expect(await textOf(bob, 'notice-log')).toContain('message from alice: “Sunday then.”');
    await bob.page.unrouteAll();
    await shoot('bob-reconnected');
  });

  it('groups: alice creates one, dissolves it after the preview (with a step-up code), sees the undo countdown and restores it', async () => {
    const page = alice.page;
    await page.getByTestId('group-name').fill('Book club');
    await page.getByTestId('group-member-carol').check();
    await page.getByTestId('group-create').click();
    await until(
      () => textOf(alice, 'group-title'),
      (s) => s === 'Book club',
      'the new group opened',
    );
    await until(
      () => textOf(alice, 'group-members'),
      (s) => s.includes('Alice (owner)') && s.includes('Carol (member)'),
      'the members',
    );

    // The preview first: nothing changes; this first dissolution from the device needs a code (G7).
    await page.getByTestId('dissolve-preview').click();
    const preview = await until(
      () => textOf(alice, 'dissolution-preview'),
      (s) => s.includes('verification code'),
      'the dissolution preview',
    );
    expect(preview).toContain('EFFECTIVE');
    expect(preview).toContain('NEW_DEVICE');
    await shoot('alice-previews-dissolution');
    await page.getByTestId('dissolve-request-code').click();
    await until(
      () => textOf(alice, 'flash'),
      (s) => s.includes('Code sent'),
      'the code sent',
    );
    await page.getByTestId('dissolve-read-code').click();
    await until(
      () => page.getByTestId('dissolve-code').inputValue(),
      (v) => /^\d{6}$/.test(v),
      'the code filled in',
    );
    await page.getByTestId('dissolve-confirm').click();

    await until(
      () => textOf(alice, 'dissolution-status'),
      (s) => s === 'EFFECTIVE',
      'the dissolution in force',
    );
    const undoUntil = await page.getByTestId('undo-until').getAttribute('data-iso');
    expect(undoUntil).toBe(new Date(t.clock.now().getTime() + 48 * 3_600_000).toISOString());
    expect(await textOf(alice, 'undo-countdown')).toMatch(/^(1 d 23 h|2 d 0 h)/);
    await until(
      () => textOf(alice, 'notice-log'),
      (s) => s.includes('dissolution EFFECTIVE'),
      "alice's GroupDissolutionChanged notice",
    );
    await shoot('alice-dissolved-group');

    await page.getByTestId('group-restore').click();
    await until(
      () => textOf(alice, 'dissolution-status'),
      (s) => s === 'RESTORED',
      'the group restored',
    );
    await until(
      () => textOf(alice, 'notice-log'),
      (s) => s.includes('dissolution RESTORED'),
      'the restore notice',
    );

    // TIME_TRAVEL: the operator control moves the server clock (as olga, the demo's operator).
    const before = t.clock.now().getTime();
    await page.getByTestId('advance-day').click();
    await until(
      () => Promise.resolve(t.clock.now().getTime()),
      (ms) => ms === before + 86_400_000,
      'the clock moved',
    );
    await until(
      () => textOf(alice, 'server-now'),
      (s) => s.startsWith(new Date(before + 86_400_000).toISOString().slice(0, 10)),
      'the page to show the new server time',
    );
    await shoot('alice-restored-group-and-advanced-clock');
  });

  it('without ?as= the page lets a newcomer pick a demo user', async () => {
    const page = await alice.context.newPage();
    await page.goto(`${t.url}/demo`);
    for (const u of ['alice', 'bob', 'carol', 'dan', 'olga'])
      expect(await page.getByTestId(`pick-${u}`).getAttribute('href')).toBe(`/demo?as=${u}`);
    if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, '00-picker.png'), fullPage: true });
    await page.close();
  });

  it('loaded from this server alone, with no page errors', () => {
    const foreign = requested.filter((u) => !/^(data|blob):/.test(u) && new URL(u).hostname !== '127.0.0.1');
    expect(foreign).toEqual([]);
    expect(requested.some((u) => u.endsWith('/demo/demo.js'))).toBe(true);
    expect(requested.some((u) => u.startsWith(`${t.url.replace('http', 'ws')}/graphql`))).toBe(true);
    expect(pageErrors).toEqual([]);
  });
});
