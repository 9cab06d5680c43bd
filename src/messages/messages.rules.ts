// Pure checks for messages. Who may message whom is SPEC §1 and lives in contacts.rules.ts.
import { type Refusal, refuse } from '../shared/result.js';
import { fitsText } from '../shared/text.js';

/** The longest message body, in characters (Unicode code points). */
export const MAX_BODY = 10_000;

/** A body is 1 to MAX_BODY characters, not only whitespace, and storable; BAD_USER_INPUT otherwise. */
export function checkBody(body: string): { ok: true } | Refusal {
  if (body.trim().length === 0 || !fitsText(body, MAX_BODY)) {
    return refuse('BAD_USER_INPUT', `A message has 1 to ${MAX_BODY} characters.`);
  }
  return { ok: true };
}
