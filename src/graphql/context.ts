import DataLoader from 'dataloader';
import type { Logger } from 'pino';
import type { Viewer } from '../auth.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { ProofSigner } from '../contacts/contacts.proof.js';
import type { Database } from '../db/client.js';
import type { NoticeBus } from '../notices/notices.bus.js';
import { findUsers } from '../users/users.store.js';
import type { UserRow } from '../users/users.tables.js';
import { unauthenticated } from './errors.js';

/** What every use case may need; built once per app, no globals. */
export interface Deps {
  config: Config;
  db: Database;
  clock: Clock;
  logger: Logger;
  bus: NoticeBus;
  proof: ProofSigner;
}

/** Per-request batching loaders. */
export interface Loaders {
  user: DataLoader<string, UserRow | null>;
}

/** The GraphQL context of one HTTP request or one WebSocket operation. */
export interface Context {
  deps: Deps;
  viewer: Viewer | null;
  requestId: string;
  loaders: Loaders;
}

export function createLoaders(db: Database): Loaders {
  return {
    user: new DataLoader(async (ids) => {
      const found = new Map((await findUsers(db, ids)).map((u) => [u.id, u]));
      return ids.map((id) => found.get(id) ?? null);
    }),
  };
}

/** The viewer, or a top-level UNAUTHENTICATED error. */
export function requireViewer(ctx: Context): Viewer {
  if (!ctx.viewer) throw unauthenticated();
  return ctx.viewer;
}
