// GET /files/:id — an attachment's bytes, for a viewer who may read its message now.
import type { Request, RequestHandler, Response } from 'express';
import type { GraphQLError } from 'graphql';
import { authenticate, type Viewer } from '../auth.js';
import { systemClock } from '../clock.js';
import { filesGoneIn } from '../groups/dissolution.store.js';
import { findMessageFor } from '../messages/messages.service.js';
import type { Deps } from '../shared/deps.js';
import type { FileStore } from './files.store.js';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `filename*` of RFC 6266 / RFC 8187: UTF-8, percent-encoded (attr-char only). */
export function contentDisposition(name: string): string {
  // encodeURIComponent throws on a lone surrogate; the database stores one as U+FFFD anyway.
  const wellFormed = name.replace(LONE_SURROGATE, '\uFFFD');
  const encoded = encodeURIComponent(wellFormed).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename*=UTF-8''${encoded}`;
}

/** A download route's refusal, shaped like a GraphQL error answer. */
export const answer = (res: Response, status: number, code: string, message: string) =>
  res.status(status).json({ errors: [{ message, extensions: { code } }] });

/**
 * A download route's bearer token, checked as `/graphql` checks it: the viewer, or undefined once
 * it has answered 401 (no valid token, counted against the address's anonymous limit) or 429 (over
 * that limit).
 */
export async function downloadViewer(
  req: Request,
  res: Response,
  jwtSecret: string,
  limitAnonymous: (address: string | undefined) => Promise<GraphQLError | undefined>,
): Promise<Viewer | undefined> {
  const header = req.headers.authorization;
  const auth = header ? await authenticate(header, jwtSecret, systemClock.now()) : undefined;
  if (auth?.ok) return auth.viewer;
  const limited = await limitAnonymous(req.ip);
  if (limited) {
    res.setHeader('Retry-After', String(Number(limited.extensions.retryAfterSeconds)));
    answer(res, 429, 'RATE_LIMITED', limited.message);
    return undefined;
  }
  res.setHeader('WWW-Authenticate', 'Bearer');
  answer(res, 401, 'UNAUTHENTICATED', auth ? auth.reason : 'A valid bearer token is required.');
  return undefined;
}

/**
 * The download route. The bearer token is checked as `/graphql` checks it (401 without a valid
 * one, counted against the address's anonymous limit: 429 over it). Then 404 — the same for a
 * file that does not exist and one the viewer may not read — unless the viewer may read the
 * message now (`findMessageFor`: a party of the DIRECT conversation who sees its history, or a
 * current member of the group) and the file still exists at `now` (G3); else 200 with the bytes,
 * never rendered by a browser.
 */
export function downloadFile(
  deps: Deps,
  store: FileStore,
  limitAnonymous: (address: string | undefined) => Promise<GraphQLError | undefined>,
): RequestHandler {
  return async (req: Request, res: Response) => {
    res.setHeader('Cache-Control', 'private, no-cache');
    const viewer = await downloadViewer(req, res, deps.config.jwtSecret, limitAnonymous);
    if (!viewer) return;
    const id = String(req.params.id);
    const file = await store.get(deps.db, id);
    const now = deps.clock.now();
    const readable = file && (await findMessageFor(deps.db, viewer.userId, file.messageId, now));
    // G3: a dissolved group's files are gone at `undoUntil`, before the sweeper deletes the rows.
    const gone = readable && (await filesGoneIn(deps.db, readable.conversationId, now));
    if (!file || !readable || gone) return answer(res, 404, 'NOT_FOUND', 'No such file.');
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Content-Disposition', contentDisposition(file.name));
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
    res.setHeader('ETag', `"${file.sha256}"`);
    // 304 when the client's If-None-Match names this ETag (only after the access check above).
    res.status(200).send(file.bytes);
  };
}
