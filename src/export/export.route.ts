// GET /exports/:id — a conversation archive (G12), for the user who made it, until its link expires.
import { type FileHandle, open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { Request, RequestHandler, Response } from 'express';
import type { GraphQLError } from 'graphql';
import { answer, contentDisposition, downloadViewer } from '../files/files.route.js';
import type { ExportDeps } from './export.service.js';
import { downloadableExport } from './export.service.js';

/**
 * The download route of `ConversationExport.url`. The bearer token is checked as `/graphql` checks
 * it (401 without a valid one, counted against the address's anonymous limit: 429 over it). Then
 * 404 — the same for an export that does not exist, another user's, one whose link expired at the
 * server clock (its row and file are deleted then), one whose file this instance does not hold, and
 * one of a conversation the user no longer sees — else 200 with the file, streamed from disk, never
 * rendered by a browser, never cached.
 */
export function downloadExport(
  deps: ExportDeps,
  limitAnonymous: (address: string | undefined) => Promise<GraphQLError | undefined>,
): RequestHandler {
  return async (req: Request, res: Response) => {
    res.setHeader('Cache-Control', 'private, no-store');
    const viewer = await downloadViewer(req, res, deps.config.jwtSecret, limitAnonymous);
    if (!viewer) return;
    const found = await downloadableExport(deps, viewer.userId, String(req.params.id));
    let file: FileHandle | undefined;
    try {
      file = found ? await open(found.path, 'r') : undefined;
    } catch {
      // Written by another instance that does not share this DATA_DIR, or deleted meanwhile.
    }
    if (!found || !file) return answer(res, 404, 'NOT_FOUND', 'No such export.');
    const { row } = found;
    const ext = row.format === 'JSONL' ? 'jsonl' : 'tiesx';
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Content-Length', String(row.bytes));
    res.setHeader('Content-Disposition', contentDisposition(`ties-export-${row.conversationId}.${ext}`));
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
    res.setHeader('ETag', `"${row.sha256}"`);
    res.status(200);
    // The open handle keeps the bytes readable even if a prune unlinks the file meanwhile.
    await pipeline(file.createReadStream(), res).catch(() => res.destroy());
  };
}
