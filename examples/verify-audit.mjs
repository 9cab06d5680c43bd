// Verifies a ties audit trail (G11) offline, with only node:crypto and jose:
//   node verify-audit.mjs trail.json head.json key.json
// trail.json: the `auditTrail` entries, oldest first (an array of AuditEntry, or the connection
//             `{ edges: [{ node }] }`), every page of them;
// head.json:  an `auditHead` answer `{ subjectId, length, headHash, jws }`, saved now or earlier;
// key.json:   the `deletionProofKey` JWK.
// Exit 0: every hash and link holds and the signed head is part of the trail. Exit 1: the first break.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { compactVerify, importJWK } from 'jose';

// RFC 8785 (JSON Canonicalization Scheme) for the values audit data may hold: strings, integers,
// booleans, null, arrays, objects. Object keys sort by UTF-16 code units, as `sort()` does.
function canonical(value) {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const members = Object.keys(value)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`);
  return `{${members.join(',')}}`;
}

const sha256 = (text) => createHash('sha256').update(text, 'utf8').digest('hex');
const GENESIS = '0'.repeat(64);

function fail(seq, reason) {
  console.log(`BROKEN at seq ${seq}: ${reason}`);
  process.exit(1);
}

const [trailFile, headFile, keyFile] = process.argv.slice(2);
const read = (file) => JSON.parse(readFileSync(file, 'utf8'));
const trail = read(trailFile);
const entries = Array.isArray(trail) ? trail : trail.edges.map((edge) => edge.node);
const head = read(headFile);

// 1. The head: trust only what the server signed, never the fields beside the signature.
let claims;
try {
  const key = await importJWK(read(keyFile), 'ES256');
  const { payload } = await compactVerify(head.jws, key, { algorithms: ['ES256'] });
  claims = JSON.parse(new TextDecoder().decode(payload));
} catch {
  fail(0, "SIGNATURE: the head's signature does not verify with this key");
}
if (claims.typ !== 'ties-audit-head') fail(0, 'SIGNATURE: not a signed audit head');

// 2. Every entry: in its place, linked to the one before, its hash recomputed.
let prevHash = GENESIS;
for (const [i, e] of entries.entries()) {
  const seq = i + 1;
  if (e.subjectId !== claims.sub)
    fail(seq, `SUBJECT_MISMATCH: entry of ${e.subjectId}, head of ${claims.sub}`);
  if (e.seq !== seq) {
    fail(seq, `${e.seq > seq ? 'MISSING_ENTRY' : 'SEQ_OUT_OF_ORDER'}: expected entry ${seq}, found ${e.seq}`);
  }
  if (e.prevHash !== prevHash) fail(seq, `PREV_HASH_MISMATCH: prevHash is not the hash of entry ${seq - 1}`);
  const { subjectId, subjectKind, kind, actorId, at } = e;
  const hashed = { subjectId, subjectKind, seq, kind, actorId, data: JSON.parse(e.data), at, prevHash };
  if (sha256(canonical(hashed)) !== e.hash) fail(seq, `HASH_MISMATCH: entry ${seq} is not what was hashed`);
  prevHash = e.hash;
}

// 3. The signed head must be part of this trail: as long at least, with the same hash at its length.
if (entries.length < claims.length) {
  fail(
    entries.length + 1,
    `TRUNCATED: the signed head counts ${claims.length} entries, the trail has ${entries.length}`,
  );
}
if ((claims.length === 0 ? GENESIS : entries[claims.length - 1].hash) !== claims.headHash) {
  fail(claims.length, `HEAD_MISMATCH: entry ${claims.length} is not the one the head signed (rewritten)`);
}
const signedAt = new Date(claims.iat * 1000).toISOString();
console.log(
  `OK: ${entries.length} entries of ${claims.sub}; the head signed at ${signedAt} (${claims.length} entries) is part of it`,
);
