// One offline browser page (GraphiQL at /graphql, the demo at /demo): bundled by esbuild into a
// git-ignored folder the server serves, every URL an absolute path under `publicPath`, nothing
// loaded from another host. Skips the build when the page's index.html is newer than every input.
// Used by scripts/build-graphiql.mjs and scripts/build-demo.mjs (`--force` rebuilds).
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The newest modification time (ms) of a file or of anything below a folder; 0 if it is missing. */
function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs; // catches deleted/renamed files
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/**
 * Builds the page unless it is up to date, and prints one line saying which; sets exit code 1 on
 * failure. `inputs` are the files and folders the page is made from (package-lock.json, this module
 * and the calling script are always added); `outputs` the files the build must leave in `outDir`
 * (index.html is written last, so a failed build never looks up to date).
 */
export async function buildPage({ name, script, outDir, outputs, inputs, html, esbuildOptions }) {
  const indexHtml = join(outDir, 'index.html');
  const where = `${relative(ROOT, outDir)}/`;
  const upToDate = () => {
    if (!['index.html', ...outputs].every((f) => existsSync(join(outDir, f)))) return false;
    const built = statSync(indexHtml).mtimeMs;
    const all = [...inputs, join(ROOT, 'package-lock.json'), fileURLToPath(import.meta.url), script];
    return all.every((p) => newestMtime(p) < built);
  };
  try {
    if (!process.argv.includes('--force') && upToDate()) {
      console.log(`${name}: ${where} is up to date`);
      return;
    }
    const started = performance.now();
    rmSync(outDir, { recursive: true, force: true });
    mkdirSync(outDir, { recursive: true });
    const result = await esbuild.build({
      absWorkingDir: ROOT,
      outdir: outDir,
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: ['es2022'],
      minify: true,
      jsx: 'automatic',
      define: { 'process.env.NODE_ENV': '"production"' },
      legalComments: 'eof', // keep the dependencies' license notices
      metafile: true,
      logLevel: 'warning', // esbuild prints errors and warnings itself (none expected)
      ...esbuildOptions,
    });
    writeFileSync(indexHtml, html);
    const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0) + html.length;
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const size = bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(0)} kB`;
    console.log(`${name}: built ${where} in ${seconds} s (${size})`);
  } catch (err) {
    // esbuild has already printed its own errors (logLevel 'warning'); anything else gets a stack.
    console.error(
      err?.errors?.length ? `${name}: build failed` : `${name}: build failed\n${err?.stack ?? err}`,
    );
    process.exitCode = 1;
  }
}
