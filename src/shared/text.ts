// Text input as every area checks it: lengths in characters (as the SDL states them), and only
// text Postgres can store. Pure.

/** Length in characters (Unicode code points), as the SDL counts them — not UTF-16 code units. */
export function charLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Text Postgres can store (`text` refuses U+0000): bad input must be refused, never a 500. */
export const storableText = (s: string): boolean => !s.includes('\u0000');

/**
 * Whether `s` has at most `max` characters and can be stored. A code point is one or two UTF-16
 * units, so a string of more than `2 × max` units is refused without counting it.
 */
export function fitsText(s: string, max: number): boolean {
  return s.length <= 2 * max && charLength(s) <= max && storableText(s);
}
