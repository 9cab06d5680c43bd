// Builds the offline GraphiQL page into .graphiql/ (git-ignored):
//   index.html, graphiql.js, graphiql.css, editor.worker.js, json.worker.js, graphql.worker.js
// The server serves index.html at GET /graphql (Accept: text/html) and .graphiql/ at /graphiql/,
// so every URL in the output is an absolute /graphiql/... path. Nothing is loaded from another host.
// Skips the build when .graphiql/index.html is newer than src/graphiql/**, package-lock.json and
// the build scripts.
// Usage: node scripts/build-graphiql.mjs [--force]
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPage, ROOT } from './browser-page.mjs';

const srcDir = join(ROOT, 'src', 'graphiql');
const PUBLIC = '/graphiql';

const html = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>ties · GraphiQL</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="${PUBLIC}/graphiql.css" />
    <style>html, body, #graphiql { height: 100%; margin: 0; }</style>
    <script type="module" src="${PUBLIC}/graphiql.js"></script>
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL…</div>
  </body>
</html>
`;

await buildPage({
  name: 'graphiql',
  script: fileURLToPath(import.meta.url),
  outDir: join(ROOT, '.graphiql'),
  outputs: ['graphiql.js', 'graphiql.css', 'editor.worker.js', 'json.worker.js', 'graphql.worker.js'],
  inputs: [srcDir],
  html,
  esbuildOptions: {
    entryPoints: {
      graphiql: join(srcDir, 'client.tsx'),
      // The three Monaco workers GraphiQL 5 uses (same modules as graphiql/setup-workers/vite).
      'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
      'json.worker': 'monaco-editor/esm/vs/language/json/json.worker.js',
      'graphql.worker': 'monaco-graphql/esm/graphql.worker.js',
    },
    tsconfig: join(srcDir, 'tsconfig.json'),
    loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file', '.svg': 'file', '.png': 'file' },
    assetNames: 'assets/[name]-[hash]',
    publicPath: PUBLIC,
  },
});
