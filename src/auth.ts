import { webcrypto } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import { isUserId, MAX_USER_ID } from './shared/ids.js';

type CryptoKey = webcrypto.CryptoKey;

/** Who is asking: from a verified bearer token. */
export interface Viewer {
  userId: string;
  /** The token's `name` claim, if any. */
  name: string | undefined;
  /** `role: operator` (compliance staff). */
  operator: boolean;
  /** The token's `dev` claim: the device this token belongs to. */
  deviceId: string | undefined;
  /** When the token stops being valid; a socket is closed then. Every accepted token has one. */
  expiresAt: Date | undefined;
}

export type AuthResult = { ok: true; viewer: Viewer } | { ok: false; reason: string };

const ALG = 'HS256';

/** HMAC keys by secret: importing the key on every request would cost more than verifying. */
const keys = new Map<string, Promise<CryptoKey>>();
function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = webcrypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign', 'verify'],
    );
    keys.set(secret, key);
  }
  return key;
}
/** A token verified once: the viewer it names and the seconds-since-epoch bounds jose checked. */
interface Verified {
  viewer: Viewer;
  exp: number;
  nbf: number | undefined;
}
/**
 * Tokens already verified, by secret: a client sends the same token with every request, and the
 * HMAC check (WebCrypto, asynchronous) was a tenth of the CPU of a small query. A hit is re-checked
 * against `exp` and `nbf` at the request's instant exactly as jose checks them. Bounded: cleared
 * when full.
 */
const verified = new Map<string, Map<string, Verified>>();
const VERIFIED_MAX = 10_000;

function remembered(secret: string, token: string, now: Date): AuthResult | undefined {
  const hit = verified.get(secret)?.get(token);
  if (!hit) return undefined;
  const t = Math.floor(now.getTime() / 1000);
  if (hit.exp <= t) return { ok: false, reason: 'Token expired.' };
  if (hit.nbf !== undefined && hit.nbf > t) return { ok: false, reason: 'Invalid token.' };
  return { ok: true, viewer: hit.viewer };
}

function remember(secret: string, token: string, v: Verified): void {
  let m = verified.get(secret);
  if (!m) {
    m = new Map();
    verified.set(secret, m);
  }
  if (m.size >= VERIFIED_MAX) m.clear();
  m.set(token, v);
}

/**
 * Verifies an `Authorization` value (`Bearer <jwt>`, or the bare JWT) against the secret. Refuses
 * a bad signature or algorithm, a token without `sub` or `exp`, an `exp` or `nbf` that is not a
 * number or is past (jose checks these), a `sub` that is not a user id (`isUserId`: a string of 1
 * to 128 characters without U+0000) and an `exp` beyond what a date can hold.
 */
export async function authenticate(authorization: string, secret: string, now: Date): Promise<AuthResult> {
  const token = authorization.replace(/^Bearer\s+/i, '').trim();
  if (!token) return { ok: false, reason: 'Empty token.' };
  const known = remembered(secret, token, now);
  if (known) return known;
  try {
    const { payload } = await jwtVerify(token, await hmacKey(secret), {
      algorithms: [ALG],
      currentDate: now,
      requiredClaims: ['sub', 'exp'],
    });
    // jose checks that `sub` is present, not that it is a string.
    if (!isUserId(payload.sub)) return { ok: false, reason: 'Invalid subject.' };
    const expiresAt = new Date(payload.exp! * 1000); // present and a number: checked by jose
    if (Number.isNaN(expiresAt.getTime())) return { ok: false, reason: 'Invalid token.' };
    const viewer: Viewer = {
      userId: payload.sub,
      name: typeof payload.name === 'string' ? payload.name : undefined,
      operator: payload.role === 'operator',
      deviceId: typeof payload.dev === 'string' ? payload.dev : undefined,
      expiresAt,
    };
    remember(secret, token, { viewer, exp: payload.exp!, nbf: payload.nbf });
    return { ok: true, viewer };
  } catch (err) {
    if (err instanceof errors.JWTExpired) return { ok: false, reason: 'Token expired.' };
    return { ok: false, reason: 'Invalid token.' };
  }
}

export interface TokenOptions {
  userId: string;
  name?: string;
  operator?: boolean;
  deviceId?: string;
  /** Lifetime in seconds. */
  ttlSeconds: number;
  now: Date;
}

/**
 * Signs a token the server accepts (HS256 with the configured secret, with `exp`). Throws a
 * TypeError for a user id the server would refuse (`isUserId`).
 */
export async function signToken(secret: string, o: TokenOptions): Promise<string> {
  if (!isUserId(o.userId))
    throw new TypeError(`A user id has 1 to ${MAX_USER_ID} characters, without U+0000.`);
  const iat = Math.floor(o.now.getTime() / 1000);
  const jwt = new SignJWT({
    ...(o.name ? { name: o.name } : {}),
    ...(o.operator ? { role: 'operator' } : {}),
    ...(o.deviceId ? { dev: o.deviceId } : {}),
  })
    .setProtectedHeader({ alg: ALG })
    .setSubject(o.userId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + o.ttlSeconds);
  return jwt.sign(await hmacKey(secret));
}

/** Parses `90s`, `15m`, `1h`, `7d` (or plain seconds) into seconds; null when malformed. */
export function parseTtl(s: string): number | null {
  const m = /^(\d+)\s*([smhd]?)$/.exec(s.trim());
  if (!m) return null;
  const n = Number(m[1]);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  return n > 0 ? n * unit : null;
}
