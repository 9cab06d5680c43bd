// G7 step-up verification: issuing one-time codes through a pluggable sender, and spending them.
// A code is stored only as a keyed hash; the clear code leaves the process once, to the sender.
import { createHash, createHmac, randomInt } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { and, desc, eq, gte, isNull, sql } from 'drizzle-orm';
import type { Viewer } from '../auth.js';
import type { Config } from '../config.js';
import { type Db, rows } from '../db/client.js';
import type { Deps } from '../shared/deps.js';
import { ok, onField, type Result, rateLimited } from '../shared/result.js';
import { withGroup } from './groups.service.js';
import { dissolutions, type GroupRow, verificationCodes } from './groups.tables.js';
import {
  CODE_INTERVAL_MS,
  CODE_TTL_MS,
  checkCode,
  DAY_MS,
  MAX_TRIES,
  STEP_UP_REQUIRED,
  type StepUpReason,
  stepUpReasons,
} from './stepup.rules.js';

/** Where a code goes: the development file, or a gateway's webhook. */
export interface CodeSender {
  send(m: { userId: string; groupId: string; code: string; at: Date; expiresAt: Date }): Promise<void>;
}

/**
 * The configured sender. `file` appends one JSON line `{ at, userId, groupId, code, expiresAt }`
 * to `config.verificationFile` (development and tests: a person or a test reads the code there);
 * `webhook` POSTs `{ userId, groupId, code, expiresAt }` as JSON and needs a 2xx within 5 s.
 */
export function senderFor(config: Config): CodeSender {
  if (config.verificationSender === 'webhook') {
    const url = config.verificationWebhookUrl!;
    return {
      async send(m) {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            userId: m.userId,
            groupId: m.groupId,
            code: m.code,
            expiresAt: m.expiresAt.toISOString(),
          }),
          signal: AbortSignal.timeout(5_000),
        });
        if (!res.ok) throw new Error(`verification webhook answered ${res.status}`);
      },
    };
  }
  const file = config.verificationFile;
  return {
    async send(m) {
      await mkdir(dirname(file), { recursive: true });
      const line = { ...m, at: m.at.toISOString(), expiresAt: m.expiresAt.toISOString() };
      await appendFile(file, `${JSON.stringify(line)}\n`, { mode: 0o600 });
    },
  };
}

/** The keyed hash a code is stored as: HMAC-SHA256 under a key derived from the server secret. */
export function codeHash(secret: string, userId: string, groupId: string, code: string): string {
  const key = createHash('sha256').update(`ties verification codes\n${secret}`).digest();
  return createHmac('sha256', key).update(`${userId}\n${groupId}\n${code}`).digest('hex');
}

/**
 * `requestVerificationCode` (G7, the owner): a new 6-digit code for dissolving this group, valid
 * 10 minutes, sent through the configured sender; an earlier live code of the owner for the group
 * is void from then on. At most one a minute per user (RATE_LIMITED with the seconds to wait).
 */
export function requestVerificationCode(
  deps: Deps,
  viewer: Viewer,
  input: { groupId: string },
): Promise<Result<{ expiresAt: Date }>> {
  return withGroup(deps, viewer.userId, input.groupId, 'DISSOLVE', async ({ tx, group, now }) => {
    const [last] = await tx
      .select({ createdAt: verificationCodes.createdAt })
      .from(verificationCodes)
      .where(eq(verificationCodes.userId, viewer.userId))
      .orderBy(desc(verificationCodes.createdAt))
      .limit(1);
    const wait = last ? last.createdAt.getTime() + CODE_INTERVAL_MS - now.getTime() : 0;
    if (wait > 0) return onField(rateLimited(Math.ceil(wait / 1000)), ['input', 'groupId']);
    await tx
      .update(verificationCodes)
      .set({ tries: MAX_TRIES })
      .where(
        and(
          eq(verificationCodes.userId, viewer.userId),
          eq(verificationCodes.groupId, group.id),
          isNull(verificationCodes.usedAt),
        ),
      );
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const expiresAt = new Date(now.getTime() + CODE_TTL_MS);
    await tx.insert(verificationCodes).values({
      userId: viewer.userId,
      groupId: group.id,
      codeHash: codeHash(deps.config.jwtSecret, viewer.userId, group.id, code),
      createdAt: now,
      expiresAt,
    });
    // Inside the transaction: a code that could not be sent is not kept.
    await senderFor(deps.config).send({ userId: viewer.userId, groupId: group.id, code, at: now, expiresAt });
    return ok({ expiresAt });
  });
}

/** G7: why dissolving `group` now needs a code from this viewer (empty: it does not). */
export async function stepUpFor(tx: Db, viewer: Viewer, group: GroupRow, now: Date): Promise<StepUpReason[]> {
  const since = new Date(now.getTime() - DAY_MS);
  const [r] = await rows<{ recent: number; known: boolean }>(
    tx,
    sql`SELECT (SELECT count(*)::int FROM ${dissolutions}
                 WHERE ${dissolutions.requestedBy} = ${viewer.userId} AND ${dissolutions.requestedAt} >= ${since}
                   AND ${dissolutions.reviewId} IS NULL) AS recent,
               EXISTS (SELECT 1 FROM ${dissolutions} WHERE ${dissolutions.requestedBy} = ${viewer.userId}
                   AND ${dissolutions.requestedDevice} = ${viewer.deviceId ?? null}) AS known`,
  );
  return stepUpReasons({
    kind: group.kind,
    dissolutionsLastDay: r?.recent ?? 0,
    deviceId: viewer.deviceId,
    knownDevice: r?.known ?? false,
  });
}

/**
 * G7: spends the code given for dissolving `group`, when one is needed: STEP_UP_REQUIRED without
 * one, INVALID_CODE for a wrong, used or expired one (a wrong one counts a try: the fifth voids
 * it — that counter is the only thing a refused dissolution writes). On success the code is used.
 */
export async function spendCode(
  deps: Deps,
  tx: Db,
  viewer: Viewer,
  group: GroupRow,
  code: string | null | undefined,
  reasons: StepUpReason[],
  now: Date,
): Promise<Result<null>> {
  const field = ['input', 'verificationCode'];
  if (reasons.length === 0) return ok(null);
  if (!code) return onField(STEP_UP_REQUIRED(reasons), field);
  const [stored] = await tx
    .select()
    .from(verificationCodes)
    .where(
      and(
        eq(verificationCodes.userId, viewer.userId),
        eq(verificationCodes.groupId, group.id),
        gte(verificationCodes.expiresAt, new Date(now.getTime() - CODE_TTL_MS)),
      ),
    )
    .orderBy(desc(verificationCodes.createdAt))
    .limit(1)
    .for('update');
  const checked = checkCode(stored, codeHash(deps.config.jwtSecret, viewer.userId, group.id, code), now);
  if (!checked.ok) {
    if (checked.wrong) {
      await tx
        .update(verificationCodes)
        .set({ tries: sql`${verificationCodes.tries} + 1` })
        .where(eq(verificationCodes.id, stored!.id));
    }
    return onField({ ok: false, error: checked.error }, field);
  }
  await tx.update(verificationCodes).set({ usedAt: now }).where(eq(verificationCodes.id, stored!.id));
  return ok(null);
}
