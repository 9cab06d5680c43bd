import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose';

const ALG = 'ES256';

/** The public half, as `deletionProofKey` returns it. */
export interface PublicJwk {
  kty: string;
  crv: string;
  x: string;
  y: string;
  kid: string;
  alg: string;
  use: string;
}

/** Signs R5 deletion proofs with the server's key. */
export interface ProofSigner {
  publicJwk: PublicJwk;
  sign(claims: JWTPayload, issuedAt: Date): Promise<string>;
}

/**
 * The proof key: from `PROOF_SIGNING_KEY` (a private EC P-256 JWK), else generated once into
 * `dataDir/proof-key.json` (outside production only; config refuses production without it).
 */
export async function loadProofSigner(configured: string | undefined, dataDir: string): Promise<ProofSigner> {
  const jwk = configured ? (JSON.parse(configured) as JWK) : await localKey(dataDir);
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.d) {
    throw new Error('PROOF_SIGNING_KEY must be a private EC P-256 JWK (kty EC, crv P-256, with d).');
  }
  const privateKey = await importJWK(jwk, ALG);
  const kid = await calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x!, y: jwk.y! });
  const publicJwk: PublicJwk = { kty: 'EC', crv: 'P-256', x: jwk.x!, y: jwk.y!, kid, alg: ALG, use: 'sig' };
  return {
    publicJwk,
    sign: (claims, issuedAt) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: ALG, kid, typ: 'JWT' })
        .setIssuer('ties')
        .setIssuedAt(Math.floor(issuedAt.getTime() / 1000))
        .sign(privateKey),
  };
}

async function localKey(dataDir: string): Promise<JWK> {
  const file = join(dataDir, 'proof-key.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as JWK;
  } catch {
    const { privateKey } = await generateKeyPair(ALG, { extractable: true });
    const jwk = await exportJWK(privateKey);
    mkdirSync(dataDir, { recursive: true });
    try {
      writeFileSync(file, JSON.stringify(jwk), { mode: 0o600, flag: 'wx' });
      return jwk;
    } catch {
      return JSON.parse(readFileSync(file, 'utf8')) as JWK; // another process wrote it first
    }
  }
}
