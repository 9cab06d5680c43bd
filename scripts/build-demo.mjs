// Builds the live demo app into .demo/ (git-ignored): index.html, demo.js, demo.css.
// The server serves index.html at GET /demo and .demo/ under /demo/ (src/demo/demo.route.ts, when
// DEMO is on), so every URL in the output is an absolute /demo/... path. Nothing is loaded from
// another host. Skips the build when .demo/index.html is newer than src/demo/client/**,
// src/demo/cast.ts, package-lock.json and the build scripts.
// Usage: node scripts/build-demo.mjs [--force]
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPage, ROOT } from './browser-page.mjs';

const srcDir = join(ROOT, 'src', 'demo', 'client');
const PUBLIC = '/demo';

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

await buildPage({
  name: 'demo',
  script: fileURLToPath(import.meta.url),
  outDir: join(ROOT, '.demo'),
  outputs: ['demo.js', 'demo.css'],
  inputs: [srcDir, join(ROOT, 'src', 'demo', 'cast.ts')],
  html,
  esbuildOptions: {
    entryPoints: { demo: join(srcDir, 'main.tsx') },
    tsconfig: join(srcDir, 'tsconfig.json'),
    publicPath: PUBLIC,
  },
});
