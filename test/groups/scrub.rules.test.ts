// G10 scrubbing as a pure function (no database): the check functions, worked examples per kind,
// the decisions (boundaries, grouping, precedence, legacy IDs, idempotence), and properties over
// generated text (fast-check, fixed seed): valid cards, resident IDs and mobiles, written the ways
// people write them and embedded in letters, CJK and punctuation, are all masked but for their last
// 4 and counted exactly, while the text around them and ordinary numbers (amounts, dates, times,
// order numbers failing Luhn, 11-digit numbers not starting 1[3-9], short and over-long runs) stay.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addCounts,
  luhnValid,
  NO_SCRUBS,
  residentIdValid,
  type ScrubCounts,
  scrubBody,
} from '../../src/groups/scrub.rules.js';

const RUNS = { seed: 20_261_203, numRuns: 400 } as const;

// --- Independent helpers (the test does not trust the module's own checks to build its inputs) ---

/** The digit that makes `prefix + digit` Luhn-valid. */
function luhnDigit(prefix: string): string {
  let sum = 0;
  for (let i = prefix.length - 1, double = true; i >= 0; i--, double = !double) {
    const d = Number(prefix[i]) * (double ? 2 : 1);
    sum += d > 9 ? d - 9 : d;
  }
  return String((10 - (sum % 10)) % 10);
}

/** The ISO 7064 MOD 11-2 check character of the first 17 digits of a resident ID. */
function idCheck(first17: string): string {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...first17].reduce((acc, c, i) => acc + Number(c) * w[i]!, 0);
  return '10X98765432'[sum % 11]!;
}

const id18 = (region: string, yyyymmdd: string, seq: string) => {
  const first17 = region + yyyymmdd + seq;
  return first17 + idCheck(first17);
};

/** `digits` split into groups of `sizes`, joined by `sep`. */
function grouped(digits: string, sizes: readonly number[], sep: string): string {
  const out: string[] = [];
  let at = 0;
  for (const n of sizes) {
    out.push(digits.slice(at, at + n));
    at += n;
  }
  return out.join(sep);
}

/** What the scrub should make of a number: every digit/X but the last 4 masked, the rest kept. */
function masked(num: string): string {
  const chars = [...num];
  const at = chars.flatMap((c, i) => (/[0-9Xx]/.test(c) ? [i] : []));
  for (const i of at.slice(0, -4)) chars[i] = '*';
  return chars.join('');
}

const counts = (c: Partial<ScrubCounts> = {}): ScrubCounts => ({ ...NO_SCRUBS, ...c });
const untouched = (text: string) => expect(scrubBody(text)).toEqual({ body: text, counts: NO_SCRUBS });

// --- The check functions ---------------------------------------------------------------------------

describe('luhnValid', () => {
  it('accepts the well-known test card numbers and rejects a changed digit', () => {
    for (const n of ['4111111111111111', '5500005555555559', '378282246310005', '6011111111111117']) {
      expect(luhnValid(n)).toBe(true);
      expect(luhnValid(n.slice(0, -1) + ((Number(n.at(-1)) + 1) % 10))).toBe(false);
    }
    expect(luhnValid(`622202123456789012${luhnDigit('622202123456789012')}`)).toBe(true);
  });
  it('rejects what is not a digit string', () => {
    for (const n of ['', '0', '4111 1111 1111 1111', '4111-1111-1111-1111', '411111111111111a']) {
      expect(luhnValid(n)).toBe(false);
    }
  });
});

describe('residentIdValid', () => {
  it('accepts an 18-character ID with the right MOD 11-2 check character (X or x)', () => {
    expect(residentIdValid('11010519491231002X')).toBe(true);
    expect(residentIdValid('11010519491231002x')).toBe(true);
    expect(residentIdValid(id18('440305', '20000229', '123'))).toBe(true);
    expect(residentIdValid(id18('650102', '18991231', '001'))).toBe(true);
  });
  it('rejects a wrong check character', () => {
    for (const c of '0123456789') expect(residentIdValid(`11010519491231002${c}`)).toBe(false);
  });
  it('rejects an 18-character ID whose birth date is not a real date, even with a right check', () => {
    for (const date of ['19490230', '19001329', '19000229', '17991231', '21000101', '19490100']) {
      expect(residentIdValid(id18('110105', date, '002'))).toBe(false);
    }
    expect(residentIdValid(id18('110105', '20000229', '002'))).toBe(true); // 2000 is a leap year
  });
  it('accepts the legacy 15 digits only with a real YYMMDD (19YY) birth date', () => {
    expect(residentIdValid('110105491231002')).toBe(true);
    expect(residentIdValid('110105960229123')).toBe(true);
    expect(residentIdValid('110105000229123')).toBe(false); // 1900 is not a leap year
    expect(residentIdValid('110105491331002')).toBe(false);
    expect(residentIdValid('110105490001002')).toBe(false);
  });
  it('rejects other lengths, separators and letters', () => {
    for (const s of [
      '',
      '11010519491231002',
      '110105194912310021X',
      '110105 19491231 002X',
      '11010549123100X',
    ]) {
      expect(residentIdValid(s)).toBe(false);
    }
  });
});

describe('addCounts', () => {
  it('adds kind by kind, from NO_SCRUBS', () => {
    const a = counts({ bankCards: 1, mobiles: 2 });
    const b = counts({ bankCards: 3, residentIds: 4 });
    expect(addCounts(a, b)).toEqual({ bankCards: 4, residentIds: 4, mobiles: 2 });
    expect([a, b].reduce(addCounts, NO_SCRUBS)).toEqual({ bankCards: 4, residentIds: 4, mobiles: 2 });
    expect(NO_SCRUBS).toEqual({ bankCards: 0, residentIds: 0, mobiles: 0 });
  });
});

// --- Worked examples -------------------------------------------------------------------------------

const UNIONPAY_19 = `622202123456789012${luhnDigit('622202123456789012')}`;

describe('scrubBody: bank cards', () => {
  it.each([
    ['4111111111111111', '************1111'],
    ['4111-1111-1111-1111', '****-****-****-1111'],
    ['5500 0055 5555 5559', '**** **** **** 5559'],
    ['378282246310005', '***********0005'],
    ['3782 822463 10005', '**** ****** *0005'],
    ['6011111111111117', '************1117'],
    [
      grouped(UNIONPAY_19, [4, 4, 4, 4, 3], ' '),
      `**** **** **** ***${UNIONPAY_19.slice(15, 16)} ${UNIONPAY_19.slice(16)}`,
    ],
  ])('%s → %s', (card, want) => {
    expect(scrubBody(card)).toEqual({ body: want, counts: counts({ bankCards: 1 }) });
    expect(scrubBody(`转账到${card}，谢谢`)).toEqual({
      body: `转账到${want}，谢谢`,
      counts: counts({ bankCards: 1 }),
    });
  });

  it('needs Luhn, 13–19 digits, one kind of separator and groups of 3–6', () => {
    untouched('4111111111111112');
    untouched(`12345678901${luhnDigit('12345678901')}`); // 12 digits
    const twenty = `1234567890123456789${luhnDigit('1234567890123456789')}`;
    untouched(twenty);
    untouched('4111 1111-1111 1111');
    untouched('4111  1111 1111 1111');
    const odd = `41111111111${luhnDigit('41111111111')}`;
    untouched(grouped(`4${odd}`, [2, 2, 4, 4, 1], ' ')); // 13 digits, groups of 1–2 are not a card's
  });
});

describe('scrubBody: resident IDs', () => {
  const id = id18('440305', '19880808', '417');
  it.each([
    ['11010519491231002X', '**************002X'],
    ['11010519491231002x', '**************002x'],
    ['110105 19491231 002X', '****** ******** 002X'],
    ['110105-19491231-002X', '******-********-002X'],
    [id, `**************${id.slice(14)}`],
    ['110105491231002', '***********1002'],
    ['110105 491231 002', '****** *****1 002'],
  ])('%s → %s', (text, want) => {
    expect(scrubBody(text)).toEqual({ body: want, counts: counts({ residentIds: 1 }) });
    expect(scrubBody(`身份证：${text}。`).body).toBe(`身份证：${want}。`);
  });

  it('leaves a wrong check character, an impossible birth date and other groupings alone', () => {
    const wrong = `11010519491231002${'0123456789'.split('').find((c) => c !== 'X' && !luhnValid(`11010519491231002${c}`))}`;
    untouched(wrong);
    const badDate = id18('110105', '19490230', '002');
    expect(luhnValid(badDate)).toBe(false); // else it would be a card
    untouched(badDate);
    untouched('11010519491231002X1');
    untouched('11010519491231002Xa');
    untouched('110105 1949 1231 002X');
    untouched('1101 0519 4912 3100 2X');
  });

  it('leaves 15-digit numbers without a real YYMMDD alone (the legacy form has no check digit)', () => {
    // Not Luhn-valid either, or they would be cards.
    for (const n of ['110105491331005', '110105490230005', '123456789012345']) {
      expect(luhnValid(n)).toBe(false);
      untouched(n);
    }
  });
});

describe('scrubBody: mobiles', () => {
  it.each([
    ['13800138000', '*******8000'],
    ['19912345678', '*******5678'],
    ['138 0013 8000', '*** **** 8000'],
    ['138-0013-8000', '***-****-8000'],
    ['+8613800138000', '+86*******8000'],
    ['+86 13800138000', '+86 *******8000'],
    ['+86-138-0013-8000', '+86-***-****-8000'],
    ['86 138 0013 8000', '86 *** **** 8000'],
    ['8613800138000', '86*******8000'],
  ])('%s → %s', (text, want) => {
    expect(scrubBody(text)).toEqual({ body: want, counts: counts({ mobiles: 1 }) });
    expect(scrubBody(`call me: ${text}!`).body).toBe(`call me: ${want}!`);
  });

  it('needs 1[3-9], 11 digits and the 3-4-4 grouping', () => {
    for (const n of [
      '12345678901',
      '10086100861',
      '11800138000',
      '1380013800',
      '138 001 38000',
      '1380 013 8000',
    ]) {
      untouched(n);
    }
    untouched('+86 12345678901');
  });
});

describe('scrubBody: boundaries', () => {
  it('touches nothing glued to an ASCII letter or digit', () => {
    for (const n of ['4111111111111111', '13800138000', '11010519491231002X', '110105491231002']) {
      untouched(`a${n}`);
      untouched(`${n}b`);
      untouched(`ID${n}x`);
    }
    const d = '123456789'.split('').find((c) => !luhnValid(`${c}4111111111111111`))!;
    untouched(`${d}4111111111111111`);
    untouched('113800138000');
    untouched('138001380001');
  });

  it('finds numbers next to CJK, punctuation, Markdown and line breaks', () => {
    expect(scrubBody('卡号4111111111111111手机13800138000').body).toBe('卡号************1111手机*******8000');
    expect(scrubBody('**4111111111111111**').body).toBe('**************1111**');
    expect(scrubBody('(13800138000),[13800138000]\n13800138000').counts).toEqual(counts({ mobiles: 3 }));
    expect(scrubBody('tel:+86 138-0013-8000.').body).toBe('tel:+86 ***-****-8000.');
  });
});

describe('scrubBody: ordinary numbers stay', () => {
  it.each([
    '¥1,234.56',
    '12000',
    '12,000.00 元',
    '2026-12-03',
    '2026-12-03 14:30:05',
    '2026/12/03',
    '14:30',
    '订单号 1234567812345678',
    '1234-5678-1234-5678',
    '010-12345678',
    '0755-12345678',
    '12345678901',
    '123456789012345678901234567890',
    '3.14159265358979323846',
    '',
  ])('%j', (text) => {
    untouched(text);
  });
});

describe('scrubBody: precedence', () => {
  /** The first candidate (by sequence number) that is also Luhn-valid. */
  const luhnToo = (make: (seq: string) => string) =>
    Array.from({ length: 1000 }, (_, i) => make(String(i).padStart(3, '0'))).find(luhnValid)!;

  it('an 18-digit run that is a valid ID and Luhn-valid is a resident ID', () => {
    const both = luhnToo((seq) => id18('320102', '19900101', seq));
    expect(residentIdValid(both)).toBe(true);
    expect(scrubBody(both)).toEqual({ body: masked(both), counts: counts({ residentIds: 1 }) });
  });

  it('86 + a mobile that is also a Luhn-valid 13-digit number is a mobile (the 86 kept)', () => {
    const both = luhnToo((seq) => `8613800${seq}1`.padEnd(13, '0'));
    expect(both).toMatch(/^861[3-9]\d{9}$/);
    expect(scrubBody(both)).toEqual({ body: `86${masked(both.slice(2))}`, counts: counts({ mobiles: 1 }) });
  });

  it('a legacy 15-digit ID that is also Luhn-valid is a card', () => {
    const both = luhnToo((seq) => `110105491231${seq}`);
    expect(residentIdValid(both)).toBe(true);
    expect(scrubBody(both)).toEqual({ body: masked(both), counts: counts({ bankCards: 1 }) });
  });

  it('the longest number starting at a place wins, and is counted once', () => {
    // A mobile followed by a group that makes a Luhn-valid 15-digit card: one card, the mobile in it.
    const tail = `123${luhnDigit('13800138000123')}`;
    expect(scrubBody(`138 0013 8000 ${tail}`)).toEqual({
      body: `*** **** **** ${tail}`,
      counts: counts({ bankCards: 1 }),
    });
    // After a `+` too: a card that starts with 86 and a mobile is a card, not "+86" and a mobile.
    const c = `8613800138000${luhnDigit('8613800138000')}`;
    expect(scrubBody(`+${grouped(c, [5, 4, 5], ' ')}`)).toEqual({
      body: `+***** **** *${c.slice(10)}`,
      counts: counts({ bankCards: 1 }),
    });
    // Twenty digits are no card; the first sixteen are.
    expect(scrubBody('4111 1111 1111 1111 2026')).toEqual({
      body: '**** **** **** 1111 2026',
      counts: counts({ bankCards: 1 }),
    });
  });
});

describe('scrubBody: idempotence', () => {
  it('scrubbing a scrubbed body changes nothing', () => {
    for (const text of ['4111-1111-1111-1111', '+86 13800138000 / 11010519491231002X', UNIONPAY_19]) {
      const once = scrubBody(text).body;
      expect(scrubBody(once)).toEqual({ body: once, counts: NO_SCRUBS });
    }
  });

  it('a number that starts in the visible last 4 of a masked one is masked in the same pass', () => {
    // 4111111111111111 is a card; so is 1111 2345 6789 012d, which a second pass would find right
    // after the asterisks. The first pass masks it too.
    const d = luhnDigit('111123456789012');
    const text = `4111111111111111 2345 6789 012${d}`;
    const once = scrubBody(text);
    expect(once).toEqual({ body: `${'*'.repeat(16)} **** **** 012${d}`, counts: counts({ bankCards: 2 }) });
    expect(scrubBody(once.body)).toEqual({ body: once.body, counts: NO_SCRUBS });
  });
});

// --- Properties ------------------------------------------------------------------------------------

type Kind = keyof ScrubCounts;
/** A piece of a generated body: the text, what the scrub must make of it, and what it counts as. */
interface Piece {
  text: string;
  want: string;
  kind: Kind | null;
}

const digits = (minLength: number, maxLength: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength, maxLength });
const sep = fc.constantFrom(' ', '-');
const DAY = 86_400_000;
/** A real date in [from, to] as YYYYMMDD. */
const realDate = (from: number, to: number) =>
  fc
    .integer({ min: Date.UTC(from, 0, 1) / DAY, max: Date.UTC(to, 11, 31) / DAY })
    .map((d) => new Date(d * DAY).toISOString().slice(0, 10).replaceAll('-', ''));
const region = fc.integer({ min: 110_000, max: 829_999 }).map(String);

/** Sizes of 3–6 summing to `n` (n ≥ 13), shaped by `picks`. */
function cardSizes(n: number, picks: readonly number[]): number[] {
  const sizes: number[] = [];
  let left = n;
  for (const p of picks) {
    if (left <= 6) break;
    const s = Math.min(p, left - 3);
    sizes.push(s);
    left -= s;
  }
  sizes.push(left);
  return sizes;
}

const card: fc.Arbitrary<Piece> = fc
  .record({
    prefix: digits(12, 18),
    grouping: fc.option(
      fc.tuple(fc.array(fc.integer({ min: 3, max: 6 }), { minLength: 6, maxLength: 6 }), sep),
    ),
  })
  .map(({ prefix, grouping }) => {
    const n = prefix + luhnDigit(prefix);
    return { n, text: grouping ? grouped(n, cardSizes(n.length, grouping[0]), grouping[1]) : n };
  })
  // Documented precedence: these are a resident ID or a mobile, not a card.
  .filter(({ n }) => !(n.length === 18 && residentIdValid(n)) && !/^861[3-9]\d{9}$/.test(n))
  .map(({ text }) => ({ text, want: masked(text), kind: 'bankCards' }));

const residentId18: fc.Arbitrary<Piece> = fc
  .record({
    region,
    date: realDate(1900, 2025),
    seq: digits(3, 3),
    lower: fc.boolean(),
    grouping: fc.option(sep),
  })
  .map(({ region, date, seq, lower, grouping }) => {
    let n = id18(region, date, seq);
    if (lower) n = n.toLowerCase();
    const text = grouping === null ? n : grouped(n, [6, 8, 4], grouping);
    return { text, want: masked(text), kind: 'residentIds' };
  });

const residentId15: fc.Arbitrary<Piece> = fc
  .record({ region, date: realDate(1900, 1999), seq: digits(3, 3), grouping: fc.option(sep) })
  .map(({ region, date, seq, grouping }) => ({ n: region + date.slice(2) + seq, grouping }))
  .filter(({ n }) => !luhnValid(n)) // documented: a Luhn-valid one is a card
  .map(({ n, grouping }) => {
    const text = grouping === null ? n : grouped(n, [6, 6, 3], grouping);
    return { text, want: masked(text), kind: 'residentIds' };
  });

const mobile: fc.Arbitrary<Piece> = fc
  .record({
    n: fc.tuple(fc.constantFrom(...'3456789'), digits(9, 9)).map(([b, rest]) => `1${b}${rest}`),
    prefix: fc.constantFrom('', '+86', '86'),
    after: fc.constantFrom('', ' ', '-'),
    grouping: fc.option(sep),
  })
  .map(({ n, prefix, after, grouping }) => {
    const body = grouping === null ? n : grouped(n, [3, 4, 4], grouping);
    const lead = prefix && prefix + after;
    return { text: lead + body, want: lead + masked(body), kind: 'mobiles' };
  });

const sensitive = fc.oneof(card, residentId18, residentId15, mobile);

const same = (text: string): Piece => ({ text, want: text, kind: null });
const int = (min: number, max: number) => fc.integer({ min, max });
const ordinary: fc.Arbitrary<Piece> = fc
  .oneof(
    // amounts
    fc
      .tuple(int(0, 99_999_999), int(0, 99))
      .map(([a, c]) => `¥${a.toLocaleString('en-US')}.${String(c).padStart(2, '0')}`),
    fc.tuple(int(0, 9_999_999), int(0, 99)).map(([a, c]) => `${a}.${String(c).padStart(2, '0')}元`),
    int(0, 9_999_999_999).map(String),
    // dates and times
    realDate(1970, 2099).map((d) => `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6)}`),
    realDate(1970, 2099).map((d) => `${d.slice(0, 4)}/${d.slice(4, 6)}/${d.slice(6)}`),
    fc
      .tuple(int(0, 23), int(0, 59), int(0, 59))
      .map((t) => t.map((x) => String(x).padStart(2, '0')).join(':')),
    // order numbers that fail Luhn, plain or grouped
    fc.tuple(digits(15, 15), int(1, 9), fc.option(sep)).map(([p, bump, g]) => {
      const n = p + ((Number(luhnDigit(p)) + bump) % 10);
      return g === null ? n : grouped(n, [4, 4, 4, 4], g);
    }),
    // 11 digits not starting 1[3-9]
    fc.tuple(fc.constantFrom('10', '11', '12'), digits(9, 9)).map(([a, b]) => a + b),
    // landlines
    fc.tuple(fc.constantFrom('010', '021', '0755', '0571'), digits(8, 8)).map(([a, b]) => `${a}-${b}`),
    // runs too long to be anything
    digits(20, 32),
  )
  .map(same);

const LETTERS = 'abcdefghijklmnopqrstuvwxyzXxABC';
const CJK = '转账到卡号手机身份证号码的请给我元谢';
/** Characters that end a number and cannot join two digit groups. */
const HARD = `${CJK}，。：！？、,.;:!?()[]（）¥$#@/+*~_\n`;
const word = fc.string({ unit: fc.constantFrom(...LETTERS, ...CJK), minLength: 1, maxLength: 8 }).map(same);
/** What separates two pieces: never a letter or digit, and never a lone space or dash. */
const between = fc
  .tuple(
    fc.string({ unit: fc.constantFrom(...HARD, ' ', '-'), maxLength: 3 }),
    fc.constantFrom(...HARD),
    fc.string({ unit: fc.constantFrom(...HARD, ' '), maxLength: 3 }),
  )
  .map((parts) => parts.join(''));

/** A body of pieces with separators between them (and maybe at the ends). */
const bodyOf = (piece: fc.Arbitrary<Piece>) =>
  fc
    .tuple(fc.array(fc.tuple(piece, between), { minLength: 1, maxLength: 8 }), fc.boolean(), between)
    .map(([pairs, lead, first]) => {
      const text = (lead ? first : '') + pairs.map(([p, s]) => p.text + s).join('');
      const want = (lead ? first : '') + pairs.map(([p, s]) => p.want + s).join('');
      const c = counts();
      for (const [p] of pairs) if (p.kind) c[p.kind]++;
      return { text, want, counts: c };
    });

describe('scrubBody: properties', () => {
  it('every valid number in running text is masked but its last 4, counted exactly, the rest kept', () => {
    fc.assert(
      fc.property(bodyOf(fc.oneof(sensitive, ordinary, word)), ({ text, want, counts }) => {
        expect(scrubBody(text)).toEqual({ body: want, counts });
      }),
      RUNS,
    );
  });

  it('each kind, alone in text, is masked as expected', () => {
    for (const kind of [card, residentId18, residentId15, mobile]) {
      fc.assert(
        fc.property(bodyOf(fc.oneof(kind, word)), ({ text, want, counts }) => {
          expect(scrubBody(text)).toEqual({ body: want, counts });
        }),
        { ...RUNS, numRuns: 150 },
      );
    }
  });

  it('ordinary numbers are untouched and count 0', () => {
    fc.assert(
      fc.property(bodyOf(fc.oneof(ordinary, word)), ({ text }) => {
        untouched(text);
      }),
      RUNS,
    );
  });

  it('scrubbing twice is scrubbing once (the second pass counts 0)', () => {
    fc.assert(
      fc.property(bodyOf(fc.oneof(sensitive, ordinary, word)), ({ text }) => {
        const once = scrubBody(text).body;
        expect(scrubBody(once)).toEqual({ body: once, counts: NO_SCRUBS });
      }),
      RUNS,
    );
  });

  it('on any mix of digits, separators and numbers run together: idempotent, layout kept, only digits/X masked', () => {
    const glue = fc.constantFrom(' ', '-', '', '*', 'x', 'a', '+', '转', '.');
    const noise = fc
      .array(
        fc.oneof(
          sensitive.map((p) => p.text),
          ordinary.map((p) => p.text),
          digits(1, 6),
          glue,
        ),
        { maxLength: 10 },
      )
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(noise, (text) => {
        const { body, counts: c } = scrubBody(text);
        expect(body).toHaveLength(text.length);
        for (let i = 0; i < text.length; i++) {
          if (body[i] !== text[i]) {
            expect(body[i]).toBe('*');
            expect(text[i]).toMatch(/[0-9Xx]/);
          }
        }
        const changed = [...text].filter((ch, i) => body[i] !== ch).length;
        expect(changed === 0).toBe(c.bankCards + c.residentIds + c.mobiles === 0);
        expect(scrubBody(body)).toEqual({ body, counts: NO_SCRUBS });
      }),
      { ...RUNS, numRuns: 1500 },
    );
  });
});
