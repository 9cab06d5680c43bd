import pg from 'pg';

export interface SqlCounter {
  /** Statements sent by this process through `pg`. */
  statements: number;
  /** Of which the notice bus' polls (they read the snapshot horizon). */
  bus: number;
  /** When set, every statement's text is appended (bench/trace-sql.ts). */
  log: string[] | undefined;
}

let counter: SqlCounter | undefined;

/**
 * Counts the statements this process sends through `pg` (a wrapper on `Client.prototype.query`:
 * one string test per statement), so the bench can check that its floor sends as many statements
 * as ties does. Idempotent.
 */
export function instrumentPg(): SqlCounter {
  if (counter) return counter;
  const c: SqlCounter = { statements: 0, bus: 0, log: undefined };
  counter = c;
  const original = pg.Client.prototype.query as (...a: unknown[]) => unknown;
  const counted = function (this: pg.Client, ...args: unknown[]) {
    const q = args[0] as string | { text?: string } | undefined;
    const text = typeof q === 'string' ? q : q?.text;
    if (text) {
      c.statements++;
      if (text.includes('pg_current_snapshot')) c.bus++;
      c.log?.push(text.replace(/\s+/g, ' ').trim());
    }
    return original.apply(this, args);
  };
  (pg.Client.prototype as unknown as { query: unknown }).query = counted;
  return c;
}
