// Builds the live demo app into .demo/ (git-ignored): index.html, demo.js, demo.css.
// The server serves index.html at GET /demo and .demo/ under /demo/ (src/demo/demo.route.ts, when
// DEMO is on), so every URL in the output is an absolute /demo/... path. Nothing is loaded from
// another host. Skips the build when .demo/index.html is newer than src/demo/client/**,
// src/demo/cast.ts, package-lock.json and this script.
// Usage: node scripts/build-demo.mjs [--force]
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'src', 'demo', 'client');
const outDir = join(root, '.demo');
const indexHtml = join(outDir, 'index.html');
const PUBLIC = '/demo';

const outputs = ['index.html', 'demo.js', 'demo.css'];

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
  const inputs = [
    srcDir,
    join(root, 'src', 'demo', 'cast.ts'),
    join(root, 'package-lock.json'),
    fileURLToPath(import.meta.url),
  ];
  return inputs.every((p) => newestMtime(p) < built);
}

const html = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>ties · live demo</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="${PUBLIC}/demo.css" />
    <script type="module" src="${PUBLIC}/demo.js"></script>
  </head>
  <body>
    <div id="demo">Loading the demo…</div>
  </body>
</html>
`;

async function build() {
  const started = performance.now();
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: { demo: join(srcDir, 'main.tsx') },
    outdir: outDir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify: true,
    jsx: 'automatic',
    tsconfig: join(srcDir, 'tsconfig.json'),
    define: { 'process.env.NODE_ENV': '"production"' },
    publicPath: PUBLIC,
    legalComments: 'eof', // keep the dependencies' license notices
    metafile: true,
    logLevel: 'warning', // esbuild prints errors and warnings itself (none expected)
  });
  writeFileSync(indexHtml, html); // written last: a failed build never looks up to date
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0) + html.length;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  return `demo: built ${relative(root, outDir)}/ in ${seconds} s (${(bytes / 1e3).toFixed(0)} kB)`;
}

try {
  if (!process.argv.includes('--force') && upToDate()) {
    console.log(`demo: ${relative(root, outDir)}/ is up to date`);
  } else {
    console.log(await build());
  }
} catch (err) {
  // esbuild has already printed its own errors (logLevel 'warning'); anything else gets a stack.
  console.error(err?.errors?.length ? 'demo: build failed' : `demo: build failed\n${err?.stack ?? err}`);
  process.exitCode = 1;
}
