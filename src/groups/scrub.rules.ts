// SPEC §2 G10 as a pure rewrite: when a FINANCIAL group is dissolved with keepHistory, every kept
// message body is scrubbed in place at finalization — bank card numbers, PRC resident ID numbers and
// PRC mobile numbers are masked, keeping the last 4 — and the audit entry records how many of each.
// No I/O: a body in, the scrubbed body and the counts out. What counts as such a number:
//
// - Boundaries: a number never starts right after, nor ends right before, an ASCII letter or digit,
//   so nothing inside a longer run of digits or letters is touched. CJK text, punctuation and spaces
//   are boundaries (`转账到6222…` is found).
// - Grouping: digits may be split by single spaces or dashes, one kind throughout a number, in the
//   shapes people write: a card in groups of 3–6 digits (4-4-4-4, 4-4-4-4-3, 4-6-5, …), a resident
//   ID as 6-8-4 (legacy 6-6-3), a mobile as 3-4-4. Dates (2026-12-03) and landlines (010-12345678)
//   fit none of them.
// - Bank card: 13–19 digits, Luhn-valid.
// - Resident ID: 17 digits and a check character (digit or X/x) that passes ISO 7064 MOD 11-2, with a
//   real birth date (YYYYMMDD at positions 7–14, years 1800–2099) — the date check turns away most
//   18-digit order numbers that pass the check digit by chance (1 in 11). The legacy 15-digit form
//   (region, YYMMDD meaning 19YY, sequence) has no check digit, so its date must be real.
// - Mobile: 11 digits starting 1[3-9], optionally after `+86` or `86` and then an optional space or
//   dash. The prefix is kept as written.
// - Overlaps: where several numbers could start at one place (a `+` and the digits after it are one
//   place) the longest wins; over the same characters an 18-digit ID beats a card, a mobile beats a
//   card (`8613800138000` is a phone number more than a 13-digit card) and a card beats a legacy
//   15-digit ID (Luhn is a real check, the legacy form has none). Each number is counted once.
// - Masking: every digit and check X but the last 4 of the number becomes `*`; separators and the
//   prefix stay, so length and layout are kept (`4111-1111-1111-1111` → `****-****-****-1111`).
// - Idempotence: a second pass would see the visible last 4 right after a `*`, a boundary, and could
//   start a number there that runs on past the masked one. So after each match the scan resumes at
//   those 4, on the masked text, accepting only numbers that end past the match: what a second pass
//   could find, the first already masks (and counts; the earlier number's last 4 are then masked
//   too, as the start of the later one), and scrubbing a scrubbed body changes nothing. `*` is
//   otherwise an ordinary boundary: Markdown `**4111111111111111**` is found.

/** How many numbers of each kind a scrub masked (G10 audit entry). */
export interface ScrubCounts {
  bankCards: number;
  residentIds: number;
  mobiles: number;
}

/** Nothing masked: the start of a sum of `addCounts`. */
export const NO_SCRUBS: Readonly<ScrubCounts> = Object.freeze({ bankCards: 0, residentIds: 0, mobiles: 0 });

/** The counts of two scrubs together (e.g. over all the kept messages of a group). */
export const addCounts = (a: ScrubCounts, b: ScrubCounts): ScrubCounts => ({
  bankCards: a.bankCards + b.bankCards,
  residentIds: a.residentIds + b.residentIds,
  mobiles: a.mobiles + b.mobiles,
});

/** True when `digits` is all digits (at least two) and passes the Luhn check. */
export function luhnValid(digits: string): boolean {
  if (!/^\d{2,}$/.test(digits)) return false;
  let sum = 0;
  for (let i = digits.length - 1, double = false; i >= 0; i--, double = !double) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';

function realDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  return day <= days;
}

/**
 * True for a PRC resident ID number: 18 characters (17 digits and a check digit or X/x) with a
 * correct ISO 7064 MOD 11-2 check character and a real birth date YYYYMMDD (1800–2099), or the
 * legacy 15 digits with a real birth date YYMMDD (19YY). Nothing else (no separators).
 */
export function residentIdValid(id: string): boolean {
  if (/^\d{17}[\dXx]$/.test(id)) {
    const year = Number(id.slice(6, 10));
    if (year < 1800 || year > 2099) return false;
    if (!realDate(year, Number(id.slice(10, 12)), Number(id.slice(12, 14)))) return false;
    let sum = 0;
    for (let i = 0; i < 17; i++) sum += (id.charCodeAt(i) - 48) * ID_WEIGHTS[i]!;
    return ID_CHECK[sum % 11] === id[17]!.toUpperCase();
  }
  if (/^\d{15}$/.test(id)) {
    return realDate(1900 + Number(id.slice(6, 8)), Number(id.slice(8, 10)), Number(id.slice(10, 12)));
  }
  return false;
}

type Kind = 'ID18' | 'MOBILE' | 'CARD' | 'ID15';
/** Over the same characters, the lower rank wins. */
const RANK: Record<Kind, number> = { ID18: 0, MOBILE: 1, CARD: 2, ID15: 3 };
const COUNTED: Record<Kind, keyof ScrubCounts> = {
  ID18: 'residentIds',
  MOBILE: 'mobiles',
  CARD: 'bankCards',
  ID15: 'residentIds',
};
/** No number is longer; a chain of groups is not followed further. */
const MAX_DIGITS = 19;

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const isWordChar = (c: string | undefined): boolean =>
  c !== undefined && (isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
const isSep = (c: string | undefined): boolean => c === ' ' || c === '-';
const isCheckX = (c: string | undefined): boolean => c === 'X' || c === 'x';

interface Group {
  start: number;
  end: number;
}

/**
 * The digit groups from `p` on, joined by single separators (an X ends the chain: only an ID's
 * check character may follow digits), up to a little past the longest number and only as far as
 * groups could belong to a grouped shape.
 */
function chainAt(s: string[], p: number): Group[] {
  const groups: Group[] = [];
  let i = p;
  let total = 0;
  for (;;) {
    let j = i;
    while (isDigit(s[j])) j++;
    if (j === i) break;
    const x = isCheckX(s[j]);
    if (x) j++;
    // Every grouped shape has groups of 3–8; a group outside that is a number only on its own.
    const joinable = j - i >= 3 && j - i <= 8;
    if (groups.length > 0 && !joinable) break;
    groups.push({ start: i, end: j });
    total += j - i;
    if (x || !joinable || total > MAX_DIGITS || !isSep(s[j]) || !isDigit(s[j + 1])) break;
    i = j + 1;
  }
  return groups;
}

/** What the number made of these groups is, if anything. */
function classify(code: string, sizes: number[], mobileOnly: boolean): Kind | null {
  const shaped = (...want: number[]) =>
    sizes.length === 1 || (sizes.length === want.length && sizes.every((n, i) => n === want[i]));
  const n = code.length;
  if (n < 11 || n === 12) return null;
  if (!mobileOnly && n === 18 && shaped(6, 8, 4) && residentIdValid(code)) return 'ID18';
  if (isCheckX(code[n - 1])) return null;
  if (n === 11 && shaped(3, 4, 4) && /^1[3-9]/.test(code)) return 'MOBILE';
  if (mobileOnly) return null;
  const cardShaped = sizes.length === 1 || sizes.every((k) => k >= 3 && k <= 6);
  if (n >= 13 && n <= MAX_DIGITS && cardShaped && luhnValid(code)) return 'CARD';
  if (n === 15 && shaped(6, 6, 3) && residentIdValid(code)) return 'ID15';
  return null;
}

interface Match {
  kind: Kind;
  /** Where masking starts (after a `+86`/`86` prefix). */
  from: number;
  end: number;
}

/** The best number in the chain of groups from `from`: longest, then by rank; ending past `minEnd`. */
function bestIn(s: string[], from: number, mobileOnly: boolean, minEnd: number, best: Match | null) {
  const groups = chainAt(s, from);
  let sep: string | undefined;
  let code = '';
  const sizes: number[] = [];
  for (let k = 0; k < groups.length; k++) {
    const g = groups[k]!;
    if (k > 0) {
      const here = s[g.start - 1];
      if (sep !== undefined && here !== sep) break;
      sep = here;
    }
    code += s.slice(g.start, g.end).join('');
    sizes.push(g.end - g.start);
    if (code.length > MAX_DIGITS) break;
    if (g.end <= minEnd || isWordChar(s[g.end])) continue;
    const kind = classify(code, sizes, mobileOnly);
    if (!kind) continue;
    if (!best || g.end > best.end || (g.end === best.end && RANK[kind] < RANK[best.kind]))
      best = { kind, from, end: g.end };
  }
  return best;
}

/**
 * The number starting at `p`, if one does: digits (after a `+` too: `+86138 0013 8000 123` is a card
 * before it is a mobile), or a mobile after `+86`/`86`.
 */
function matchAt(s: string[], p: number, minEnd: number): Match | null {
  const digitsAt = s[p] === '+' ? p + 1 : p;
  let best = isDigit(s[digitsAt]) ? bestIn(s, digitsAt, false, minEnd, null) : null;
  if (s[digitsAt] === '8' && s[digitsAt + 1] === '6') {
    let q = digitsAt + 2;
    if (isSep(s[q]) && isDigit(s[q + 1])) q++;
    if (isDigit(s[q])) best = bestIn(s, q, true, minEnd, best);
  }
  return best;
}

/**
 * G10: `body` with every bank card, resident ID and mobile number masked but for its last 4
 * characters (separators and a `+86` prefix kept, so the length is the same), and how many of each.
 * Idempotent: scrubbing the result again changes nothing and counts 0.
 */
export function scrubBody(body: string): { body: string; counts: ScrubCounts } {
  const s = body.split('');
  const counts: ScrubCounts = { ...NO_SCRUBS };
  let p = 0;
  let minEnd = 0;
  while (p < s.length) {
    const m = (isDigit(s[p]) || s[p] === '+') && !isWordChar(s[p - 1]) ? matchAt(s, p, minEnd) : null;
    if (!m) {
      p++;
      continue;
    }
    counts[COUNTED[m.kind]]++;
    const maskable: number[] = [];
    for (let i = m.from; i < m.end; i++) if (isDigit(s[i]) || isCheckX(s[i])) maskable.push(i);
    const kept = maskable.length - 4;
    for (let i = 0; i < kept; i++) s[maskable[i]!] = '*';
    // Resume at the visible last 4, as a second pass would see them (see the header).
    p = maskable[kept]!;
    minEnd = m.end;
  }
  return { body: s.join(''), counts };
}
