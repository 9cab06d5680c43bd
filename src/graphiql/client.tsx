// Browser entry of the offline GraphiQL page (bundled by scripts/build-graphiql.mjs into .graphiql/).
// The server serves .graphiql/index.html at GET /graphql (for browsers) and .graphiql/ at /graphiql/.
import type { Fetcher, FetcherOpts, FetcherParams } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
import { getOperationAST, parse } from 'graphql';
import { type Client, createClient } from 'graphql-ws';
import { createRoot } from 'react-dom/client';
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
# Run with Ctrl/Cmd-Enter or the play button.

query Me {
  me {
    id
    name
  }
  now
}
`;

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

// Keep bearer tokens out of localStorage: headers are not persisted (shouldPersistHeaders={false}), and
// GraphiQL's history plugin would still save every run's headers under graphiql:queries / graphiql:favorites,
// so this storage drops them there.
const HISTORY_KEYS = new Set(['graphiql:queries', 'graphiql:favorites']);

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

const graphiqlKeys = () => Object.keys(localStorage).filter((key) => key.startsWith('graphiql:'));
const storage = {
  getItem: (key: string) => localStorage.getItem(key),
  setItem: (key: string, value: string) =>
    localStorage.setItem(key, HISTORY_KEYS.has(key) ? withoutHeaders(value) : value),
  removeItem: (key: string) => localStorage.removeItem(key),
  clear: () => {
    for (const key of graphiqlKeys()) localStorage.removeItem(key);
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
    isHeadersEditorEnabled
    shouldPersistHeaders={false}
    storage={storage}
    defaultEditorToolsVisibility="headers"
  />,
);
