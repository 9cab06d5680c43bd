// G12's pure decisions, with literal instants: passphrases, the link's lifetime, what a purge
// revokes, and what G3 leaves out of a dissolved group's archive.
import { describe, expect, it } from 'vitest';
import {
  archiveStillReadable,
  checkPassphrase,
  expiresAtOf,
  linkLive,
  omissionsAt,
} from '../../src/export/export.rules.js';
import { planDissolution } from '../../src/groups/dissolution.rules.js';

const at = (s: string) => new Date(s);
const HOUR = 3600_000;

describe('a passphrase', () => {
  it('has 8 to 1024 characters, counted as code points', () => {
    expect(checkPassphrase('1234567').ok).toBe(false);
    expect(checkPassphrase('12345678').ok).toBe(true);
    expect(checkPassphrase('x'.repeat(1024)).ok).toBe(true);
    expect(checkPassphrase('x'.repeat(1025)).ok).toBe(false);
    // Four astral characters are 8 UTF-16 units but 4 characters.
    expect(checkPassphrase('😀😀😀😀').ok).toBe(false);
    expect(checkPassphrase('😀'.repeat(1024)).ok).toBe(true);
    expect(checkPassphrase('😀'.repeat(1025)).ok).toBe(false);
  });

  it('may not contain U+0000; a refusal is BAD_USER_INPUT', () => {
    const r = checkPassphrase('12345678\u0000');
    expect(r.ok).toBe(false);
    expect(r.ok ? null : r.error.code).toBe('BAD_USER_INPUT');
  });
});

describe('the link', () => {
  it('lives 15 minutes and stops at expiresAt exactly', () => {
    const made = at('2026-01-01T00:00:00Z');
    const e = { expiresAt: expiresAtOf(made) };
    expect(e.expiresAt).toEqual(at('2026-01-01T00:15:00Z'));
    expect(linkLive(e, at('2026-01-01T00:14:59.999Z'))).toBe(true);
    expect(linkLive(e, at('2026-01-01T00:15:00Z'))).toBe(false);
  });

  it('is revoked by a purge instant that passed after the archive was made, not by one before', () => {
    const made = at('2026-01-01T00:00:00Z');
    expect(archiveStillReadable(made, { purgeAt: null }, at('2026-01-01T00:10:00Z'))).toBe(true);
    const purgeAt = at('2026-01-01T00:05:00Z');
    expect(archiveStillReadable(made, { purgeAt }, at('2026-01-01T00:04:59Z'))).toBe(true);
    expect(archiveStillReadable(made, { purgeAt }, at('2026-01-01T00:05:00Z'))).toBe(false);
    // Made after the purge instant: it holds nothing the purge took.
    expect(archiveStillReadable(at('2026-01-01T00:06:00Z'), { purgeAt }, at('2026-01-01T00:10:00Z'))).toBe(
      true,
    );
  });
});

describe('G3 in an archive', () => {
  const effective = at('2026-01-01T00:00:00Z');
  const d = { ...planDissolution(3, true, effective) };

  it('keeps files and payments during the undo window', () => {
    expect(omissionsAt(d, new Date(effective.getTime() + 48 * HOUR - 1))).toEqual({
      files: false,
      payments: false,
    });
  });
  it('leaves out files from undoUntil, payments from 72 hours after it took effect', () => {
    expect(omissionsAt(d, new Date(effective.getTime() + 48 * HOUR))).toEqual({
      files: true,
      payments: false,
    });
    expect(omissionsAt(d, new Date(effective.getTime() + 72 * HOUR))).toEqual({
      files: true,
      payments: true,
    });
  });
  it('leaves out nothing for a direct conversation or a restored dissolution', () => {
    const later = new Date(effective.getTime() + 100 * HOUR);
    expect(omissionsAt(undefined, later)).toEqual({ files: false, payments: false });
    expect(omissionsAt({ ...d, status: 'RESTORED' }, later)).toEqual({ files: false, payments: false });
  });
});
