// Server-side prepared statements for every query ties repeats, without naming each one by hand —
// what pgjdbc (prepareThreshold) and pgx do by default. Drizzle builds the same SQL text for the
// same query shape every time; from its second sighting on a connection, a text is sent as a named
// statement, so Postgres parses and plans it once per connection instead of once per execution.
// Drizzle's own `.prepare()` cannot do this inside transactions (a prepared query is bound to the
// pool, not to the transaction's connection), and nearly every write of ties runs in one.
import pg from 'pg';

/** A text seen this many times on a connection is prepared from then on. */
const PREPARE_THRESHOLD = 2;
/**
 * Named statements kept per connection at most (each holds a plan in the backend's memory); texts
 * past it run unnamed as before. A text is only counted while the cache has room.
 */
const MAX_STATEMENTS = 500;
/** Texts counted per connection at most (one-off texts such as multi-row inserts vary). */
const MAX_COUNTED = 5_000;

type QueryConfigLike = { text?: unknown; name?: unknown; submit?: unknown };

/** A `pg.Client` that names the statements it sees repeatedly (for `pg.Pool`'s `Client` option). */
export class StatementCachingClient extends pg.Client {
  private readonly names = new Map<string, string>();
  private readonly seen = new Map<string, number>();

  /** Statements this connection has named (tests, bench). */
  get preparedCount(): number {
    return this.names.size;
  }

  // biome-ignore lint/suspicious/noExplicitAny: pg's overloads; the arguments are passed on unchanged
  override query(config: any, values?: any, callback?: any): any {
    const c = config as QueryConfigLike | string | null;
    if (
      c !== null &&
      typeof c === 'object' &&
      typeof c.text === 'string' &&
      c.name === undefined &&
      c.submit === undefined
    ) {
      const name = this.nameFor(c.text);
      if (name) return super.query({ ...c, name } as never, values, callback);
    }
    return super.query(config, values, callback);
  }

  private nameFor(text: string): string | undefined {
    const known = this.names.get(text);
    if (known) return known;
    if (this.names.size >= MAX_STATEMENTS) return undefined;
    const n = (this.seen.get(text) ?? 0) + 1;
    if (n < PREPARE_THRESHOLD) {
      if (this.seen.size >= MAX_COUNTED) this.seen.clear();
      this.seen.set(text, n);
      return undefined;
    }
    this.seen.delete(text);
    const name = `ties_${this.names.size + 1}`;
    this.names.set(text, name);
    return name;
  }
}
