// Builds the offline GraphiQL page into .graphiql/ (git-ignored):
//   index.html, graphiql.js, graphiql.css, editor.worker.js, json.worker.js, graphql.worker.js
// The server serves index.html at GET /graphql (Accept: text/html) and .graphiql/ at /graphiql/,
// so every URL in the output is an absolute /graphiql/... path. Nothing is loaded from another host.
// Skips the build when .graphiql/index.html is newer than src/graphiql/**, package-lock.json and this script.
// Usage: node scripts/build-graphiql.mjs [--force]
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'src', 'graphiql');
const outDir = join(root, '.graphiql');
const indexHtml = join(outDir, 'index.html');
const PUBLIC = '/graphiql';

const outputs = [
  'index.html',
  'graphiql.js',
  'graphiql.css',
  'editor.worker.js',
  'json.worker.js',
  'graphql.worker.js',
];

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs; // catches deleted/renamed files
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

function upToDate() {
  if (!outputs.every((f) => existsSync(join(outDir, f)))) return false;
  const built = statSync(indexHtml).mtimeMs;
  const inputs = [srcDir, join(root, 'package-lock.json'), fileURLToPath(import.meta.url)];
  return inputs.every((p) => newestMtime(p) < built);
}

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

async function build() {
  const started = performance.now();
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: {
      graphiql: join(srcDir, 'client.tsx'),
      // The three Monaco workers GraphiQL 5 uses (same modules as graphiql/setup-workers/vite).
      'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
      'json.worker': 'monaco-editor/esm/vs/language/json/json.worker.js',
      'graphql.worker': 'monaco-graphql/esm/graphql.worker.js',
    },
    outdir: outDir,
    bundle: true,
    format: 'esm', // Monaco starts workers with { type: 'module' }
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    jsx: 'automatic',
    tsconfig: join(srcDir, 'tsconfig.json'),
    define: { 'process.env.NODE_ENV': '"production"' },
    loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file', '.svg': 'file', '.png': 'file' },
    assetNames: 'assets/[name]-[hash]',
    publicPath: PUBLIC,
    legalComments: 'eof', // keep the dependencies' license notices
    metafile: true,
    logLevel: 'warning', // esbuild prints errors and warnings itself (none expected)
  });
  writeFileSync(indexHtml, html); // written last: a failed build never looks up to date
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0) + html.length;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  return `graphiql: built ${relative(root, outDir)}/ in ${seconds} s (${(bytes / 1e6).toFixed(1)} MB)`;
}

try {
  if (!process.argv.includes('--force') && upToDate()) {
    console.log(`graphiql: ${relative(root, outDir)}/ is up to date`);
  } else {
    console.log(await build());
  }
} catch (err) {
  // esbuild has already printed its own errors (logLevel 'warning'); anything else gets a stack.
  console.error(
    err?.errors?.length ? 'graphiql: build failed' : `graphiql: build failed\n${err?.stack ?? err}`,
  );
  process.exitCode = 1;
}
