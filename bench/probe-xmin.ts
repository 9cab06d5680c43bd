/**
 * Dev probe (not part of `npm run bench`): commit→delivery latency of one notice to one subscriber,
 * on a quiet cluster and while a transaction in ANOTHER database of the same Postgres server holds
 * an xid. Notices are final only below the cluster-wide snapshot xmin, so the second case waits for
 * the other database's transaction (and then for the bus' retry back-off, up to 500 ms).
 * Run: `npx tsx bench/probe-xmin.ts`.
 */
import pg from 'pg';
import { systemClock } from '../src/clock.js';
import { publish } from '../src/notices/notices.outbox.js';
import { collect, startTestApp } from '../test/support/server.js';
import { ADMIN_URL, createBenchDatabase } from './db.js';

const bdb = await createBenchDatabase();
const handle = await bdb.open();
const t = await startTestApp(handle, { clock: systemClock });
const token = await t.token('probe');
const sub = collect(
  t.ws(token),
  'subscription { notices { cursor ... on ConversationPurged { conversationId } } }',
);
await t.waitForStreams(1);
const lat: number[] = [];
const once = async (i: number) => {
  const before = sub.results.length;
  let t0 = 0;
  await handle.db.transaction(async (tx) => {
    await publish(
      tx,
      [
        {
          recipientIds: ['probe'],
          kind: 'ConversationPurged',
          payload: { conversationId: `p${i}`, reason: 'R3', purgedMessages: 0 },
        },
      ],
      new Date(),
    );
    t0 = performance.now();
  });
  await sub.take(before + 1);
  return performance.now() - t0;
};
for (let i = 0; i < 10; i++) lat.push(await once(i));
console.log('quiet cluster, ms:', lat.map((x) => x.toFixed(1)).join(' '));
// Another database on the same server: a transaction with an xid, open 1.5 s.
const other = new pg.Client({ connectionString: ADMIN_URL });
await other.connect();
await other.query('BEGIN');
await other.query('SELECT pg_current_xact_id()');
setTimeout(() => void other.query('COMMIT'), 1500);
const held: number[] = [];
for (let i = 10; i < 13; i++) held.push(await once(i));
console.log('while another database holds an xid for 1.5 s, ms:', held.map((x) => x.toFixed(1)).join(' '));
await other.end();
sub.dispose();
await t.stop();
await bdb.drop();
