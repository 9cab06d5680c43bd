// The demo's way to the server: a demo token per user (POST /demo/token, renewed before it runs
// out), GraphQL over HTTP with it, and the server clock (Query.now) for countdowns.
import type { DemoUser } from '../cast.js';

export const HTTP_URL = `${location.origin}/graphql`;
export const WS_URL = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/graphql`;

/** What POST /demo/token answers. */
export interface TokenAnswer {
  token: string;
  userId: string;
  name: string;
  operator: boolean;
  expiresAt: string;
  /** The server runs with TIME_TRAVEL=1: the operator may advance its clock. */
  timeTravel: boolean;
  /** G7 codes go to the development file, which POST /demo/verification-code reads. */
  verificationCodes: boolean;
  cast: DemoUser[];
}

/** A refusal with the server's code (`UNAUTHENTICATED`, `NETWORK`, a userErrors code…). */
export class DemoError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface UserError {
  code: string;
  message: string;
  field?: string[] | null;
}

/** Throws the first `userErrors` entry of a mutation payload, if any. */
export function check<T extends { userErrors: UserError[] }>(payload: T): T {
  const first = payload.userErrors[0];
  if (first) throw new DemoError(first.code, first.message);
  return payload;
}

async function post(path: string, body: unknown, token?: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
  } catch {
    throw new DemoError('NETWORK', 'The server cannot be reached (offline?).');
  }
  let json: { errors?: { message: string; extensions?: { code?: string } }[] } & Record<string, unknown>;
  try {
    json = await res.json();
  } catch {
    throw new DemoError('NETWORK', `The server answered ${res.status} without JSON.`);
  }
  const first = json.errors?.[0];
  if (first) throw new DemoError(first.extensions?.code ?? 'ERROR', first.message);
  if (!res.ok) throw new DemoError('ERROR', `The server answered ${res.status}.`);
  return json;
}

/** One demo user's connection: its token (renewed a minute before it runs out) and GraphQL calls. */
export class Session {
  private current: { answer: TokenAnswer; renewAt: number } | undefined;
  private pending: Promise<TokenAnswer> | undefined;

  constructor(readonly userId: string) {}

  /** A token with at least a minute left. */
  async token(): Promise<TokenAnswer> {
    if (this.current && Date.now() < this.current.renewAt) return this.current.answer;
    this.pending ??= (async () => {
      try {
        const answer = (await post('/demo/token', { userId: this.userId })) as unknown as TokenAnswer;
        this.current = { answer, renewAt: new Date(answer.expiresAt).getTime() - 60_000 };
        return answer;
      } finally {
        this.pending = undefined;
      }
    })();
    return this.pending;
  }

  /** Runs a GraphQL operation as this user; throws the first top-level error. */
  async gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const { token } = await this.token();
    const json = (await post(HTTP_URL, { query, variables }, token)) as { data?: T };
    if (!json.data) throw new DemoError('ERROR', 'The server answered no data.');
    return json.data;
  }

  /** G7, development only: the last code the file sender wrote for this user and group. */
  async verificationCode(groupId: string): Promise<string> {
    const r = (await post('/demo/verification-code', { userId: this.userId, groupId })) as { code: string };
    return r.code;
  }
}

// --- The server clock ----------------------------------------------------------------------------
// Countdowns run against the server's clock (which TIME_TRAVEL moves), not the browser's: the
// offset between the two is measured with Query.now (no token needed) and kept fresh.

let offsetMs = 0;
const listeners = new Set<() => void>();

export const serverNow = (): number => Date.now() + offsetMs;

export async function syncServerClock(): Promise<void> {
  const sent = Date.now();
  const r = (await post(HTTP_URL, { query: '{ now }' })) as { data?: { now: string } };
  const received = Date.now();
  if (!r.data) return;
  offsetMs = new Date(r.data.now).getTime() - (sent + received) / 2;
  for (const l of listeners) l();
}

export function onClockSync(l: () => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

/** `2026-01-01 00:00:05 UTC` */
export function formatInstant(iso: string | null | undefined): string {
  if (!iso) return '—';
  return `${iso.replace('T', ' ').slice(0, 19)} UTC`;
}

/** `29 d 23 h 59 min 58 s` until `iso` on the server clock; `due` once passed. */
export function formatCountdown(iso: string, now: number): string {
  let s = Math.floor((new Date(iso).getTime() - now) / 1000);
  if (s <= 0) return 'due now';
  const d = Math.floor(s / 86_400);
  s -= d * 86_400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return [d && `${d} d`, (d || h) && `${h} h`, (d || h || m) && `${m} min`, `${s} s`]
    .filter(Boolean)
    .join(' ');
}
