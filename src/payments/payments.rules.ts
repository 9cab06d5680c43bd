// Pure checks for payments sent with messages. No I/O.
import { ok, type Result, refuse } from '../shared/result.js';

/** The largest payment, in minor units (1,000,000.00 of a currency with cents). */
export const MAX_AMOUNT_CENTS = 100_000_000;

const CURRENCY = /^[A-Z]{3}$/;

/**
 * An amount is a whole number of cents from 1 to MAX_AMOUNT_CENTS, a currency three uppercase
 * letters; else BAD_USER_INPUT naming `input.payment.amountCents` or `input.payment.currency`.
 */
export function checkPayment(amountCents: number, currency: string): Result<null> {
  if (!Number.isInteger(amountCents) || amountCents < 1 || amountCents > MAX_AMOUNT_CENTS) {
    return refuse(
      'BAD_USER_INPUT',
      `An amount is a whole number of cents from 1 to ${MAX_AMOUNT_CENTS.toLocaleString('en-US')}.`,
      ['input', 'payment', 'amountCents'],
    );
  }
  if (!CURRENCY.test(currency)) {
    return refuse('BAD_USER_INPUT', 'A currency is three uppercase letters (ISO 4217, e.g. EUR).', [
      'input',
      'payment',
      'currency',
    ]);
  }
  return ok(null);
}
