// Drives the offline GraphiQL page (scripts/build-graphiql.mjs → .graphiql/) in headless Chromium:
// it loads from this server alone, runs a query with the Authorization header from the header editor,
// runs a subscription over graphql-ws that receives a notice published on the database, preloads the
// README's walk-throughs as named tabs, and keeps each tab's headers for the browser session only.
// Set GRAPHIQL_SCREENSHOTS=<dir> to keep a screenshot of each test's page there.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tabs as walkthroughTabs } from '../../src/graphiql/walkthroughs.js';
import { publish } from '../../src/notices/notices.outbox.js';
import { buildPage, launchChromium, recordedPage, until, WAIT_MS } from '../support/browser.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { startTestApp, type TestApp } from '../support/server.js';

const SCREENSHOTS = process.env.GRAPHIQL_SCREENSHOTS;

const QUERY_EDITOR = '.graphiql-query-editor .monaco-editor';
const HEADERS_TAB = '.graphiql-editor-tools button[data-name="headers"]';
const VARIABLES_TAB = '.graphiql-editor-tools button[data-name="variables"]';
const HEADERS_EDITOR = 'section.graphiql-editor-tool .graphiql-editor:not(.hidden) .monaco-editor';
const ACTIVE_TAB_NAME = '.graphiql-tab[aria-selected="true"] .graphiql-tab-button';
const TAB_NAMES = '.graphiql-tab .graphiql-tab-button';
const RESULT_LINES = '.graphiql-response .result-window .view-lines';
const DOCS_BUTTON = '.graphiql-sidebar button[aria-label="Show Documentation Explorer"]';
const DOC_EXPLORER = '.graphiql-doc-explorer';

/** Monaco renders spaces as U+00A0. */
const plain = (s: string | null): string => (s ?? '').replaceAll('\u00a0', ' ');

const textOf = async (locator: Locator): Promise<string> => plain(await locator.textContent());

/** The result pane as JSON: Monaco's line elements sorted by their position (DOM order is not line order). */
async function resultJson(page: Page): Promise<unknown> {
  const lines = await page.locator(`${RESULT_LINES} .view-line`).evaluateAll((els) =>
    // (The test's tsconfig has no DOM lib: the element is typed structurally.)
    els.map((el) => {
      const line = el as unknown as { style: { top: string }; textContent: string | null };
      return { top: Number.parseFloat(line.style.top), text: line.textContent ?? '' };
    }),
  );
  const text = lines
    .sort((a, b) => a.top - b.top)
    .map((l) => plain(l.text))
    .join('\n');
  return JSON.parse(text);
}

/** Replaces a Monaco editor's whole text (insertText, not typing: Monaco would auto-close brackets). */
async function setEditorText(page: Page, editor: Locator, text: string): Promise<void> {
  await editor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
  // Compared without whitespace: Monaco renders spaces as U+00A0 and the text is one short line here.
  const squash = (s: string) => s.replace(/\s+/g, '');
  await until(
    () => textOf(editor.locator('.view-lines')),
    (t) => squash(t) === squash(text),
    'the editor to show the new text',
  );
}

describe('GraphiQL in a browser', () => {
  let db: TestDatabase;
  let t: TestApp;
  let browser: Browser;
  let context: BrowserContext | undefined;
  /** Every URL the page requested (HTTP and WebSocket), for the "nothing from another host" check. */
  let requested: string[] = [];
  let pageErrors: string[] = [];

  beforeAll(async () => {
    // A no-op when .graphiql/ is up to date; rejects (with the build's output) when the build fails.
    await buildPage('build-graphiql.mjs');
    db = await createTestDatabase('pg');
    t = await startTestApp(db.handle);
    browser = await launchChromium();
  }, 180_000);

  afterEach(async (ctx) => {
    const page = context?.pages()[0];
    if (SCREENSHOTS && page) {
      mkdirSync(SCREENSHOTS, { recursive: true });
      const name = ctx.task.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
      await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
    }
    await context?.close();
    context = undefined;
  });

  afterAll(async () => {
    await browser?.close();
    await t?.stop();
    await db?.drop();
  });

  /**
   * A fresh browser context on GraphiQL, loaded, with `Authorization: Bearer <token>` in the header
   * editor (none when `token` is undefined: a newcomer's first look).
   */
  async function openGraphiql(token: string | undefined): Promise<Page> {
    requested = [];
    pageErrors = [];
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await recordedPage(context, requested, pageErrors);
    const res = await page.goto(`${t.url}/graphql`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-type']).toMatch(/^text\/html/);

    await until(
      () => page.locator(`${QUERY_EDITOR} .view-lines`).textContent({ timeout: WAIT_MS }).then(plain),
      (text) => text.includes('query Me'),
      'the default query in the operation editor',
    );

    if (token === undefined) return page;
    const headersTab = page.locator(HEADERS_TAB);
    if (!((await headersTab.getAttribute('class')) ?? '').split(/\s+/).includes('active'))
      await headersTab.click();
    await setEditorText(
      page,
      page.locator(HEADERS_EDITOR),
      JSON.stringify({ Authorization: `Bearer ${token}` }),
    );
    return page;
  }

  /** Puts `query` in the operation editor and runs it once the active tab has taken its operation name. */
  async function run(page: Page, query: string, operationName: string): Promise<void> {
    await setEditorText(page, page.locator(QUERY_EDITOR), query);
    await until(
      () => textOf(page.locator(ACTIVE_TAB_NAME)),
      (name) => name.includes(operationName),
      `the active tab to be named ${operationName}`,
    );
    await page.locator('button.graphiql-execute-button').click();
  }

  /** Hosts other than the app's own (127.0.0.1) that the page contacted. */
  const foreign = () =>
    requested.filter((u) => !/^(data|blob):/.test(u) && new URL(u).hostname !== '127.0.0.1');

  it('loads from this server alone and runs a query with the header editor’s token', async () => {
    const token = await t.token('alice');
    const page = await openGraphiql(token);
    await run(page, 'query Me { me { id } }', 'Me');

    await until(
      () => textOf(page.locator(RESULT_LINES)),
      (text) => text.includes('"alice"') || text.includes('"errors"'),
      'the query result',
    );
    expect(await resultJson(page)).toEqual({ data: { me: { id: 'alice' } } });

    // The page, its stylesheet, fonts, script and Monaco workers all came from the app.
    expect(requested.some((u) => u.endsWith('/graphiql/graphiql.js'))).toBe(true);
    expect(requested.some((u) => u.endsWith('/graphql'))).toBe(true);
    expect(foreign()).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('shows the schema in the docs pane on a fresh start, with no token', async () => {
    const page = await openGraphiql(undefined);
    await page.locator(DOCS_BUTTON).click();
    const docs = page.locator(DOC_EXPLORER);
    await until(
      () => textOf(docs),
      (text) => /Query/.test(text) && /Subscription/.test(text),
      'the root types in the docs pane',
    );
    await docs.getByText('Query', { exact: true }).first().click();
    // The Query type's fields, with the SDL's descriptions (the API reference).
    const fields = await until(
      () => textOf(docs),
      (text) => text.includes('retentionStatus') && text.includes('contacts'),
      'the fields of Query in the docs pane',
    );
    expect(fields).toMatch(/deletionPreview/);
    const body = await textOf(page.locator('body'));
    expect(body).not.toMatch(/Error fetching schema|exceeds the limit|limit of/);
    expect(foreign()).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('runs a subscription over graphql-ws that shows a notice published for the viewer', async () => {
    const user = 'carol';
    const token = await t.token(user);
    const page = await openGraphiql(token);
    const before = t.app.deps.bus.streamCount;
    await run(
      page,
      'subscription Live { notices { cursor __typename ... on ContactRemovedYou { byUserId } } }',
      'Live',
    );

    // The server has registered the subscription: anything committed from now on reaches it live.
    await t.waitForStreams(before + 1);
    await db.handle.db.transaction((tx) =>
      publish(
        tx,
        [{ recipientIds: [user], kind: 'ContactRemovedYou', payload: { byUserId: 'bob' } }],
        new Date(),
      ),
    );

    await until(
      () => textOf(page.locator(RESULT_LINES)),
      (text) => text.includes('ContactRemovedYou') || text.includes('"errors"'),
      'the notice in the result pane',
    );
    const result = (await resultJson(page)) as { data?: { notices?: { cursor?: unknown } } };
    expect(result).toMatchObject({ data: { notices: { __typename: 'ContactRemovedYou', byUserId: 'bob' } } });
    expect(typeof result.data?.notices?.cursor).toBe('string');

    // The socket went to this server, carrying the header editor's token (the server accepted it).
    expect(requested.some((u) => u.startsWith(`${t.url.replace('http', 'ws')}/graphql`))).toBe(true);
    expect(foreign()).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
  /** The page's localStorage and sessionStorage, as JSON text (every key). */
  const storages = (page: Page) =>
    page.evaluate(
      'JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage } })',
    ) as Promise<string>;

  /** Clicks the tab named `name` and waits for its operations in the editor. */
  async function openTab(page: Page, name: string): Promise<void> {
    await page
      .locator(TAB_NAMES)
      .filter({ hasText: new RegExp(`^${name}$`) })
      .click();
    await until(
      () => textOf(page.locator(ACTIVE_TAB_NAME)),
      (text) => text === name,
      `the tab ${name} to be active`,
    );
    await until(
      () => textOf(page.locator(`${QUERY_EDITOR} .view-lines`)),
      (text) => text.includes(`query ${name}`),
      `the operations of ${name} in the editor`,
    );
  }

  const headersText = (page: Page) => textOf(page.locator(`${HEADERS_EDITOR} .view-lines`));
  const squash = (s: string) => s.replace(/\s+/g, '');

  it('preloads the walk-throughs as named tabs; a tab keeps its headers for the session, never in localStorage', async () => {
    const page = await openGraphiql(undefined);
    const expected = ['Me', ...walkthroughTabs().map((tab) => tab.name)];
    const names = await until(
      async () => (await page.locator(TAB_NAMES).allTextContents()).map(plain),
      (n) => n.length >= expected.length,
      'the walk-through tabs',
    );
    expect(names).toEqual(expected);
    expect(names).toEqual(
      expect.arrayContaining(['RelationshipsAsAlice', 'RelationshipsAsBob', 'GroupsAsAnn']),
    );
    // The default tab says how to watch notices (a separate window).
    expect(await textOf(page.locator(`${QUERY_EDITOR} .view-lines`))).toMatch(/separate browser WINDOW/);

    // bob's tab: his operations, a placeholder header naming his token command; set his token and run.
    await openTab(page, 'RelationshipsAsBob');
    const headersTab = page.locator(HEADERS_TAB);
    if (!((await headersTab.getAttribute('class')) ?? '').split(/\s+/).includes('active'))
      await headersTab.click();
    expect(await headersText(page)).toContain('npm run token -- bob');
    const token = await t.token('bob');
    await setEditorText(
      page,
      page.locator(HEADERS_EDITOR),
      JSON.stringify({ Authorization: `Bearer ${token}` }),
    );
    // Several operations: the run button offers them by name.
    await page.locator('button.graphiql-execute-button').click();
    await page.getByRole('menuitem', { name: 'RelationshipsAsBob', exact: true }).click();
    await until(
      () => textOf(page.locator(RESULT_LINES)),
      (text) => text.includes('"bob"') || text.includes('"errors"'),
      'the answer of RelationshipsAsBob',
    );
    expect(await resultJson(page)).toEqual({ data: { me: { id: 'bob' } } });
    // Stored (debounced) in sessionStorage only.
    await until(
      () => storages(page),
      (text) =>
        (JSON.parse(text) as { session: Record<string, string> }).session['graphiql:tabHeaders']?.includes(
          token,
        ) ?? false,
      "bob's headers in sessionStorage",
    );

    // Another tab has its own headers, and its variables.
    await openTab(page, 'RelationshipsAsAlice');
    expect(await headersText(page)).toContain('npm run token -- alice');
    await page.locator(VARIABLES_TAB).click();
    await until(
      () => textOf(page.locator(`${HEADERS_EDITOR} .view-lines`)),
      (text) => text.includes('"greeting": "hi!"'),
      "alice's variables in the variables editor",
    );
    await headersTab.click();

    // Reload (same session): bob's tab still has his token.
    await openTab(page, 'RelationshipsAsBob');
    // GraphiQL stores the editors and tabs a moment after a change (debounced); on load it matches the
    // stored editors against the stored tabs, so a reload before that would open a copy of the tab.
    const bobTab = walkthroughTabs().find((tab) => tab.name === 'RelationshipsAsBob')!;
    await until(
      async () =>
        JSON.parse(await storages(page)) as {
          local: Record<string, string>;
          session: Record<string, string>;
        },
      ({ local, session }) => {
        const state = JSON.parse(local['graphiql:tabState'] ?? '{}') as { activeTabIndex?: number };
        return (
          local['graphiql:query'] === bobTab.query &&
          local['graphiql:variables'] === bobTab.variables &&
          (session['graphiql:headers'] ?? '').includes(token) &&
          state.activeTabIndex === expected.indexOf('RelationshipsAsBob')
        );
      },
      "bob's tab stored as the active one",
    );
    await page.reload();
    await until(
      async () => (await page.locator(TAB_NAMES).allTextContents()).map(plain),
      (n) => n.length >= expected.length,
      'the tabs after a reload',
    );
    await openTab(page, 'RelationshipsAsBob');
    if (!((await headersTab.getAttribute('class')) ?? '').split(/\s+/).includes('active'))
      await headersTab.click();
    await until(
      () => headersText(page),
      (text) => squash(text).includes(token),
      "bob's token in the headers editor after a reload",
    );
    expect(squash(await headersText(page))).toBe(
      squash(JSON.stringify({ Authorization: `Bearer ${token}` })),
    );
    expect((await page.locator(TAB_NAMES).allTextContents()).map(plain)).toEqual(expected);

    // Never in localStorage (tab state and history keep no headers).
    const stored = JSON.parse(await storages(page)) as {
      local: Record<string, string>;
      session: Record<string, string>;
    };
    expect(Object.keys(stored.local)).toEqual(expect.arrayContaining(['graphiql:tabState']));
    expect(JSON.stringify(stored.local)).not.toContain(token);
    expect(JSON.stringify(stored.session)).toContain(token);
    expect(foreign()).toEqual([]);
    expect(pageErrors).toEqual([]);

    // A new browser session (a fresh context shares nothing) starts without it.
    const other = await browser.newContext();
    try {
      const fresh = await other.newPage();
      await fresh.goto(`${t.url}/graphql`);
      await until(
        async () => (await fresh.locator(TAB_NAMES).allTextContents()).length,
        (n) => n >= expected.length,
        'the tabs in a new session',
      );
      expect(await storages(fresh)).not.toContain(token);
    } finally {
      await other.close();
    }
  });
});
