// The live demo app at /demo (config.demo; never in production): the page bundled by
// scripts/build-demo.mjs into .demo/, and two development-only endpoints the page uses —
//   POST /demo/token              { "userId": "alice" }                → { token, … } for a cast member
//   POST /demo/verification-code  { "userId": "alice", "groupId": … } → the last G7 code of the file sender
// With the demo off nothing is mounted: every /demo URL answers 404 and nothing changes.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import express, { type NextFunction, type Request, type Response } from 'express';
import { signToken } from '../auth.js';
import { systemClock } from '../clock.js';
import type { Deps } from '../shared/deps.js';
import { isUuid } from '../shared/ids.js';
import { ensureUser } from '../users/users.store.js';
import { DEMO_CAST, DEMO_TOKEN_TTL_SECONDS, demoUser } from './cast.js';

export const DEMO_DIR = fileURLToPath(new URL('../../.demo', import.meta.url));

/** The page may load only from this server: its own script and stylesheet, its own API and socket. */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const CAST_IDS = DEMO_CAST.map((u) => u.id).join(', ');

/** A refusal, shaped like the server's other HTTP refusals (a GraphQL error answer). */
const refuse = (res: Response, status: number, code: string, message: string) =>
  res
    .status(status)
    .setHeader('Cache-Control', 'no-store')
    .json({ errors: [{ message, extensions: { code } }] });

/** The JSON object body of a demo POST with exactly `keys`, or undefined once it has answered 400. */
function bodyOf<K extends string>(
  req: Request,
  res: Response,
  keys: readonly K[],
  example: string,
): Record<K, unknown> | undefined {
  const body = req.body as unknown;
  const ok =
    typeof body === 'object' &&
    body !== null &&
    !Array.isArray(body) &&
    Object.keys(body).every((k) => (keys as readonly string[]).includes(k));
  if (!ok) {
    refuse(
      res,
      400,
      'BAD_REQUEST',
      `Send a JSON object (Content-Type: application/json) such as ${example}.`,
    );
    return undefined;
  }
  return body as Record<K, unknown>;
}

/**
 * Mounts the demo on `app` when `config.demo` is on (and never in production, whatever the
 * configuration says). The cast's user rows are created before the first token is handed out, so
 * every demo user can find the others at once.
 */
export function mountDemo(app: express.Express, deps: Deps): void {
  const { config, db, clock } = deps;
  if (!config.demo || config.nodeEnv === 'production') return;

  let castReady: Promise<void> | undefined;
  const ensureCast = () => {
    castReady ??= (async () => {
      for (const u of DEMO_CAST) await ensureUser(db, u.id, u.name, clock.now());
    })().catch((err: unknown) => {
      castReady = undefined; // try again with the next request
      throw err;
    });
    return castReady;
  };

  const router = express.Router();
  // No redirect of /demo to /demo/: the page answers at both.
  router.use(express.static(DEMO_DIR, { index: false, redirect: false, dotfiles: 'allow', maxAge: 0 }));

  router.get('/', (_req, res) => {
    const page = `${DEMO_DIR}/index.html`;
    if (!existsSync(page)) {
      res
        .status(503)
        .type('text')
        .send('The demo is not built; run `node scripts/build-demo.mjs` (npm start does).');
      return;
    }
    res
      .setHeader('Content-Security-Policy', CSP)
      .setHeader('Referrer-Policy', 'no-referrer')
      .setHeader('Cache-Control', 'no-cache')
      .sendFile(page, { dotfiles: 'allow' });
  });

  const json = express.json({ limit: '4kb' });

  router.post('/token', json, async (req, res) => {
    const body = bodyOf(req, res, ['userId'], '{"userId": "alice"}');
    if (!body) return;
    const user = demoUser(body.userId);
    if (!user) {
      refuse(res, 400, 'BAD_USER_INPUT', `userId must be one of the demo users: ${CAST_IDS}.`);
      return;
    }
    await ensureCast();
    const now = systemClock.now(); // tokens are checked against the wall clock, whatever TIME_TRAVEL does
    const token = await signToken(config.jwtSecret, {
      userId: user.id,
      name: user.name,
      operator: user.operator,
      deviceId: 'demo-browser',
      ttlSeconds: DEMO_TOKEN_TTL_SECONDS,
      now,
    });
    res.setHeader('Cache-Control', 'no-store').json({
      token,
      userId: user.id,
      name: user.name,
      operator: user.operator,
      expiresAt: new Date(now.getTime() + DEMO_TOKEN_TTL_SECONDS * 1000).toISOString(),
      timeTravel: config.timeTravel,
      verificationCodes: config.verificationSender === 'file',
      cast: DEMO_CAST,
    });
  });

  router.post('/verification-code', json, async (req, res) => {
    const example = '{"userId": "alice", "groupId": "<group id>"}';
    const body = bodyOf(req, res, ['userId', 'groupId'], example);
    if (!body) return;
    const user = demoUser(body.userId);
    if (!user) {
      refuse(res, 400, 'BAD_USER_INPUT', `userId must be one of the demo users: ${CAST_IDS}.`);
      return;
    }
    if (!isUuid(body.groupId)) {
      refuse(res, 400, 'BAD_USER_INPUT', 'groupId must be a group id (a UUID).');
      return;
    }
    if (config.verificationSender !== 'file') {
      refuse(res, 404, 'NOT_FOUND', 'Verification codes are sent to a webhook here, not kept in a file.');
      return;
    }
    let text = '';
    try {
      text = await readFile(config.verificationFile, 'utf8');
    } catch {
      // No file yet: no code was sent.
    }
    let found: { code: string; expiresAt: string } | undefined;
    for (const line of text.split('\n').reverse()) {
      if (!line.trim()) continue;
      try {
        const l = JSON.parse(line) as Record<string, unknown>;
        if (l.userId === user.id && l.groupId === body.groupId && typeof l.code === 'string') {
          found = { code: l.code, expiresAt: String(l.expiresAt) };
          break;
        }
      } catch {
        // a torn line: skip it
      }
    }
    if (!found) {
      refuse(res, 404, 'NOT_FOUND', 'No code was sent for this group yet: ask for one first.');
      return;
    }
    res.setHeader('Cache-Control', 'no-store').json(found);
  });

  // A body that is not JSON, or too large: a clear 400/413 here; anything else goes to the app's handler.
  router.use((err: { type?: string }, _req: Request, res: Response, next: NextFunction) => {
    if (err.type === 'entity.parse.failed') {
      refuse(res, 400, 'BAD_REQUEST', 'The body is not valid JSON; send e.g. {"userId": "alice"}.');
      return;
    }
    if (err.type === 'entity.too.large') {
      refuse(res, 413, 'BAD_REQUEST', 'Request body too large.');
      return;
    }
    next(err);
  });

  app.use('/demo', router);
}
