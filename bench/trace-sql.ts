/**
 * Dev tool (not part of `npm run bench`): prints the SQL ties sends for one
 * request → accept → delete → delete cycle, one `retentionStatus` and one `{ me { id } }` (the
 * notice bus' polls left out), then the floor's statements for the same, so bench/floor.ts can be
 * checked against the product after it changes. Run: `npx tsx bench/trace-sql.ts`.
 */
import pg from 'pg';
import { systemClock } from '../src/clock.js';
import { startTestApp } from '../test/support/server.js';
import { createBenchDatabase } from './db.js';
import { floorCycle, floorRetention } from './floor.js';
import { instrumentPg } from './instrument.js';

const sql = instrumentPg();
const bdb = await createBenchDatabase();
const handle = await bdb.open();
const t = await startTestApp(handle, { clock: systemClock });
const pool = new pg.Pool({ connectionString: bdb.url, max: 2 });

const step = async <T>(label: string, fn: () => Promise<T>): Promise<T> => {
  await new Promise((r) => setTimeout(r, 100)); // let the bus settle
  sql.log = [];
  const r = await fn();
  const log = sql.log.filter((s) => !s.includes('pg_snapshot_xmin'));
  sql.log = undefined;
  process.stdout.write(`\n--- ${label}: ${log.length} statements\n${log.map((s) => `  ${s}`).join('\n')}\n`);
  const errors = (r as { errors?: unknown } | undefined)?.errors;
  if (errors) process.stdout.write(`  errors: ${JSON.stringify(errors)}\n`);
  return r;
};

type Data = { data: Record<string, Record<string, unknown>> };
try {
  const a = await t.token('trace-a');
  const b = await t.token('trace-b');
  await t.http('{ me { id } }', {}, b); // b exists (the bench pre-creates its users)
  const sent = (await step('ours: sendFriendRequest (first sight of A)', () =>
    t.http(
      'mutation($u: ID!) { sendFriendRequest(input: { userId: $u }) { request { id } userErrors { code } } }',
      { u: 'trace-b' },
      a,
    ),
  )) as Data;
  const requestId = (sent.data.sendFriendRequest!.request as { id: string }).id;
  await step('ours: respondToFriendRequest accept', () =>
    t.http(
      'mutation($r: ID!) { respondToFriendRequest(input: { requestId: $r, accept: true }) { contact { state } userErrors { code } } }',
      { r: requestId },
      b,
    ),
  );
  await step('ours: deleteContact by A', () =>
    t.http(
      'mutation($u: ID!) { deleteContact(input: { userId: $u }) { contact { state } userErrors { code } } }',
      { u: 'trace-b' },
      a,
    ),
  );
  await step('ours: deleteContact by B', () =>
    t.http(
      'mutation($u: ID!) { deleteContact(input: { userId: $u }) { contact { state } userErrors { code } } }',
      { u: 'trace-a' },
      b,
    ),
  );
  const conv = await pool.query<{ id: string }>('select id from conversations');
  const conversationId = conv.rows[0]!.id;
  await step('ours: retentionStatus', () =>
    t.http(
      'query($c: ID!) { retentionStatus(conversationId: $c) { state visibleMessages } }',
      { c: conversationId },
      a,
    ),
  );
  await step('ours: me', () => t.http('{ me { id } }', {}, a));
  await pool.query(
    `insert into users (id, name, created_at) values ('fa', 'fa', now()), ('fb', 'fb', now())`,
  );
  await step('floor: cycle', () => floorCycle(pool, 'fa', 'fb'));
  await step('floor: retentionStatus', () => floorRetention(pool, 'trace-a', conversationId));
} finally {
  await pool.end();
  await t.stop();
  await bdb.drop();
}
