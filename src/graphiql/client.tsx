// Browser entry of the offline GraphiQL page (bundled by scripts/build-graphiql.mjs into .graphiql/).
// The server serves .graphiql/index.html at GET /graphql (for browsers) and .graphiql/ at /graphiql/.
import type { Fetcher, FetcherOpts, FetcherParams } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { getOperationAST, parse } from 'graphql';
import { type Client, createClient } from 'graphql-ws';
import { createRoot } from 'react-dom/client';
import { tokenCommand, tabs as walkthroughTabs } from './walkthroughs.js';
import 'graphiql/style.css';
import '@graphiql/react/font/roboto.css';
import '@graphiql/react/font/fira-code.css';

// Monaco (inside GraphiQL 5) starts these workers lazily; the build emits them next to graphiql.js.
const WORKERS: Record<string, string> = {
  json: '/graphiql/json.worker.js',
  graphql: '/graphiql/graphql.worker.js',
};
(globalThis as { MonacoEnvironment?: unknown }).MonacoEnvironment = {
  getWorkerUrl(_workerId: string, label: string): string {
    return WORKERS[label] ?? '/graphiql/editor.worker.js';
  },
};

const HTTP_URL = `${location.origin}/graphql`;
const WS_URL = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/graphql`;

const DEFAULT_QUERY = `# Most fields need a token:  npm run token -- <userId>
# Put it in the Headers tab below:
#   {"Authorization": "Bearer <token>"}
# Each tab keeps its own headers until this browser window is closed (sessionStorage), never longer.
# Run with Ctrl/Cmd-Enter or the play button.
#
# The README's walk-throughs are preloaded as tabs, one per walk-through and person
# (RelationshipsAsAlice, RelationshipsAsBob, …, GroupsAsAnn, …, RetentionAsOlga): that person's
# operations in order, each with its variables. Settings → "Clear storage" brings them back.
#
# To watch someone's notices live, open this page in a separate browser WINDOW — not another tab
# here: a subscription stops when you switch tabs — put their token in its headers and run
#   subscription WatchNotices { notices { __typename cursor at } }
# (the walk-through tabs have a fuller WatchNotices).

query Me {
  me {
    id
    name
  }
  now
}
`;

/** The walk-throughs' tabs (src/graphiql/walkthroughs.ts). */
const WALKTHROUGH_TABS = walkthroughTabs();
/** The preloaded tabs: this page's default, then the walk-throughs, each with its person's header. */
const DEFAULT_TABS = [
  { query: DEFAULT_QUERY },
  ...WALKTHROUGH_TABS.map((tab) => ({
    query: tab.query,
    variables: tab.variables,
    headers: JSON.stringify({ Authorization: `Bearer <token: ${tokenCommand(tab.who)}>` }, null, 2),
  })),
];

type HeaderMap = Record<string, unknown>;

function headerValue(headers: HeaderMap | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted && value != null) return String(value);
  }
  return undefined;
}

function isSubscription(params: FetcherParams, opts: FetcherOpts | undefined): boolean {
  try {
    const doc = opts?.documentAST ?? parse(params.query);
    return getOperationAST(doc, params.operationName ?? undefined)?.operation === 'subscription';
  } catch {
    return false; // let the server report the syntax error
  }
}

// One graphql-ws client per Authorization value; replaced (old one disposed) when the header changes.
let ws: { authorization: string | undefined; client: Client } | undefined;

function wsClientFor(authorization: string | undefined): Client {
  if (ws && ws.authorization === authorization) return ws.client;
  const previous = ws;
  ws = {
    authorization,
    client: createClient({
      url: WS_URL,
      connectionParams: authorization === undefined ? {} : { authorization },
      lazy: true,
      retryAttempts: 0,
    }),
  };
  if (previous) void previous.client.dispose();
  return ws.client;
}

function describeError(err: unknown): unknown {
  if (typeof CloseEvent !== 'undefined' && err instanceof CloseEvent) {
    return new Error(`WebSocket closed: ${err.code} ${err.reason}`.trim());
  }
  if (typeof Event !== 'undefined' && err instanceof Event) return new Error(`WebSocket ${err.type}`);
  return err; // an Error, or the GraphQL errors array of a graphql-ws "error" message (GraphiQL formats both)
}

async function httpFetch(params: FetcherParams, opts: FetcherOpts | undefined) {
  const res = await fetch(HTTP_URL, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json;q=0.9',
      ...(opts?.headers as Record<string, string> | undefined),
    },
    body: JSON.stringify(params),
  });
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    return { errors: [{ message: `HTTP ${res.status} ${res.statusText}: ${text.slice(0, 500)}` }] };
  }
}

const fetcher: Fetcher = (params, opts) => {
  if (!isSubscription(params, opts)) return httpFetch(params, opts);
  const client = wsClientFor(headerValue(opts?.headers, 'authorization'));
  // An Observable: GraphiQL calls unsubscribe() when the user stops the subscription.
  return {
    subscribe(
      sinkOrNext?:
        | { next: (v: never) => void; error: (e: unknown) => void; complete: () => void }
        | ((v: never) => void),
      error?: ((e: unknown) => void) | null,
      complete?: () => void,
    ) {
      const sink =
        typeof sinkOrNext === 'function' || sinkOrNext === undefined
          ? { next: sinkOrNext ?? (() => {}), error: error ?? (() => {}), complete: complete ?? (() => {}) }
          : sinkOrNext;
      const unsubscribe = client.subscribe(
        {
          query: params.query,
          operationName: params.operationName ?? undefined,
          variables: params.variables,
        },
        {
          next: (value) => sink.next(value as never),
          error: (err) => sink.error(describeError(err)),
          complete: () => sink.complete(),
        },
      );
      return { unsubscribe };
    },
  };
};

// Bearer tokens never reach localStorage, yet each tab keeps its headers for the browser session:
// - GraphiQL persists headers (shouldPersistHeaders) through this storage, which keeps the tab state
//   (queries, variables, titles) in localStorage with every tab's headers cut out, and those headers
//   per tab id in sessionStorage (gone when the window closes); the active editor's headers
//   (graphiql:headers) live in sessionStorage alone;
// - GraphiQL's history plugin saves every run's headers under graphiql:queries / graphiql:favorites:
//   this storage drops them there.
const TABS_KEY = 'graphiql:tabState';
const HEADERS_KEY = 'graphiql:headers';
/** sessionStorage: { [tabId]: headers } for the tabs of graphiql:tabState. */
const TAB_HEADERS_KEY = 'graphiql:tabHeaders';
/** localStorage: which walk-throughs the stored tabs were given (a stored tab state predating them gets them once). */
const WALKTHROUGHS_KEY = 'graphiql:walkthroughs';
const HISTORY_KEYS = new Set(['graphiql:queries', 'graphiql:favorites']);
const SESSION_KEYS = new Set([HEADERS_KEY, TAB_HEADERS_KEY]);

interface StoredTab {
  id?: unknown;
  title?: unknown;
  query?: unknown;
  headers?: unknown;
  [field: string]: unknown;
}
interface StoredTabs {
  tabs?: StoredTab[];
  [field: string]: unknown;
}

function withoutHeaders(value: string): string {
  try {
    const stored = JSON.parse(value) as Record<string, unknown>;
    for (const list of Object.values(stored)) {
      if (!Array.isArray(list)) continue;
      for (const item of list)
        if (item && typeof item === 'object') delete (item as { headers?: unknown }).headers;
    }
    return JSON.stringify(stored);
  } catch {
    return value;
  }
}

/** The tab state for localStorage (headers cut out); the headers go to sessionStorage by tab id. */
function storeTabs(value: string): string {
  try {
    const state = JSON.parse(value) as StoredTabs;
    const headers: Record<string, string> = {};
    for (const tab of state.tabs ?? []) {
      if (typeof tab.id === 'string' && typeof tab.headers === 'string' && tab.headers)
        headers[tab.id] = tab.headers;
      tab.headers = null;
    }
    sessionStorage.setItem(TAB_HEADERS_KEY, JSON.stringify(headers));
    return JSON.stringify(state);
  } catch {
    return value;
  }
}

/** A hash of the walk-throughs' queries: stored tabs that predate a change get the new tabs once. */
const WALKTHROUGHS_VERSION = String(
  [...WALKTHROUGH_TABS.map((t) => t.query).join('\n')].reduce((h, c) => (h * 31 + c.charCodeAt(0)) | 0, 7),
);

/** The stored tab state with this session's headers put back (and, once, walk-through tabs it lacks). */
function loadTabs(value: string | null): string | null {
  if (!value) return value;
  try {
    const state = JSON.parse(value) as StoredTabs;
    const headers = JSON.parse(sessionStorage.getItem(TAB_HEADERS_KEY) ?? '{}') as Record<string, unknown>;
    for (const tab of state.tabs ?? []) {
      const h = typeof tab.id === 'string' ? headers[tab.id] : undefined;
      if (typeof h === 'string') tab.headers = h;
    }
    if (Array.isArray(state.tabs) && localStorage.getItem(WALKTHROUGHS_KEY) !== WALKTHROUGHS_VERSION) {
      const queries = new Set(state.tabs.map((t) => t.query));
      for (const tab of WALKTHROUGH_TABS)
        if (!queries.has(tab.query))
          state.tabs.push({
            id: `walkthrough-${Math.random().toString(16).slice(2)}-${Date.now().toString(16)}`,
            title: tab.name,
            query: tab.query,
            variables: tab.variables,
            headers: null,
            operationName: tab.name,
            response: null,
          });
      localStorage.setItem(WALKTHROUGHS_KEY, WALKTHROUGHS_VERSION);
    }
    return JSON.stringify(state);
  } catch {
    return value;
  }
}

const graphiqlKeys = () => Object.keys(localStorage).filter((key) => key.startsWith('graphiql:'));
const storage = {
  getItem: (key: string) => {
    if (SESSION_KEYS.has(key)) return sessionStorage.getItem(key);
    const value = localStorage.getItem(key);
    return key === TABS_KEY ? loadTabs(value) : value;
  },
  setItem: (key: string, value: string) => {
    if (SESSION_KEYS.has(key)) sessionStorage.setItem(key, value);
    else if (key === TABS_KEY) {
      localStorage.setItem(key, storeTabs(value));
      localStorage.setItem(WALKTHROUGHS_KEY, WALKTHROUGHS_VERSION);
    } else localStorage.setItem(key, HISTORY_KEYS.has(key) ? withoutHeaders(value) : value);
  },
  removeItem: (key: string) => {
    sessionStorage.removeItem(key);
    localStorage.removeItem(key);
    if (key === TABS_KEY) sessionStorage.removeItem(TAB_HEADERS_KEY);
  },
  clear: () => {
    for (const key of graphiqlKeys()) localStorage.removeItem(key);
    for (const key of SESSION_KEYS) sessionStorage.removeItem(key);
  },
  get length() {
    return graphiqlKeys().length;
  },
};

const container = document.getElementById('graphiql');
if (!container) throw new Error('#graphiql element missing');
createRoot(container).render(
  <GraphiQL
    fetcher={fetcher}
    defaultQuery={DEFAULT_QUERY}
    defaultTabs={DEFAULT_TABS}
    isHeadersEditorEnabled
    shouldPersistHeaders
    storage={storage}
    defaultEditorToolsVisibility="headers"
  />,
);
