// Headless Chromium for the browser tests (GraphiQL, the demo): Debian's /usr/bin/chromium driven
// by playwright-core, with nothing that talks to other hosts by itself.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Builds a browser page with its script under scripts/ (a no-op when it is up to date); rejects
 * with the build's output when the build fails.
 */
export async function buildPage(script: 'build-graphiql.mjs' | 'build-demo.mjs'): Promise<void> {
  await promisify(execFile)(process.execPath, [`scripts/${script}`], { cwd: ROOT });
}

/** A headless Chromium without background networking, sync or component updates. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** How long a browser test waits for a condition: generous, as a cold page parses megabytes of JavaScript. */
export const WAIT_MS = 30_000;

/** Polls `read` until `ok` holds for its value (or fails after `WAIT_MS`, naming `what` and the last value). */
export async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; last seen: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A new page of `context` whose every request URL (HTTP and WebSocket, for "nothing from another
 * host" checks) goes to `requested` and every uncaught page error to `pageErrors` (after `label`).
 */
export async function recordedPage(
  context: BrowserContext,
  requested: string[],
  pageErrors: string[],
  label = '',
): Promise<Page> {
  context.on('request', (req) => {
    requested.push(req.url());
  });
  const page = await context.newPage();
  page.on('websocket', (ws) => {
    requested.push(ws.url());
  });
  page.on('pageerror', (err) => {
    pageErrors.push(`${label}${err.message}`);
  });
  return page;
}
