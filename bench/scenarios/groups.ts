/**
 * (e) Group fan-out: one group of BENCH_GROUP_MEMBERS (1,000) members, every one subscribed on the
 * ties child; 10 messages/s for BENCH_SECONDS, message k sent by member k through ties' service
 * layer in this process (`sendMessage`: one transaction, one notice row for the whole group). The
 * baseline is the bare graphql-ws child broadcasting as many notices to as many subscribers from
 * memory. Latency: from the start of the `sendMessage` call (ours: its transaction included) / the
 * IPC send (baseline) to each receipt here.
 */
import { systemClock } from '../../src/clock.js';
import { createGroup } from '../../src/groups/groups.service.js';
import { sendMessage } from '../../src/messages/messages.service.js';
import { ensureUser } from '../../src/users/users.store.js';
import { type BenchContext, serviceDeps, viewerOf } from '../context.js';
import { type Row, row } from '../stats.js';
import { inBatches } from '../ws-client.js';
import { side } from './notices.js';

const RATE = 10;
const member = (i: number) => `bench-g-${i}`;

export async function benchGroups(ctx: BenchContext): Promise<{ rows: Row[]; raw: unknown }> {
  const members = Number(process.env.BENCH_GROUP_MEMBERS ?? 1000);
  if (!Number.isInteger(members) || members < 2 || members > 2000)
    throw new Error('BENCH_GROUP_MEMBERS must be an integer in [2, 2000]');
  // Each message has its own sender (its seq is read from `senderId` in the frame).
  const total = Math.min(Math.round(RATE * ctx.seconds), members - 1);
  const handle = await ctx.db.open(8);
  const deps = serviceDeps(handle.db);
  ctx.log(`(e) group fan-out: creating a group of ${members}…`);
  const ids = Array.from({ length: members }, (_, i) => member(i));
  await inBatches(ids, 8, async (id) => {
    await ensureUser(handle.db, id, undefined, systemClock.now());
  });
  const created = await createGroup(deps, viewerOf(ids[0]!), {
    name: 'bench',
    kind: 'STANDARD',
    memberIds: ids,
  });
  if (!created.ok) throw new Error(`createGroup: ${JSON.stringify(created.error)}`);
  const conversationId = (
    await handle.db.query.conversations.findFirst({
      where: (c, { eq }) => eq(c.groupId, created.value.group.id),
    })
  )?.id;
  if (!conversationId) throw new Error('the group has no conversation');
  const plan = {
    subscribers: members,
    rate: RATE,
    total,
    userOf: (mode: 'ties' | 'ws', i: number) => (mode === 'ties' ? member(i) : `sub-ws-${i}`),
    query: 'subscription { notices { cursor ... on MessageReceived { senderId } } }',
    mark: '"senderId":"bench-g-',
    async publishOurs(seq: number, started: () => void) {
      started();
      const r = await sendMessage(deps, viewerOf(member(seq)), { conversationId, body: `message ${seq}` });
      if (!r.ok) throw new Error(`sendMessage: ${JSON.stringify(r.error)}`);
    },
  };
  ctx.log(`(e) ${members} members × ${RATE} messages/s for ${ctx.seconds} s; bare graphql-ws…`);
  const base = await side(ctx, 'ws', handle, plan);
  ctx.log(`    ${base.deliveriesPerSecond.toFixed(0)} deliveries/s; ties…`);
  const ours = await side(ctx, 'ties', handle, plan);
  ctx.log(`    ${ours.deliveriesPerSecond.toFixed(0)} deliveries/s`);
  await handle.close();
  const s = `(e) group of ${members} × ${RATE} msg/s`;
  const rows = [
    row(s, 'send→delivery p50', 'ms', ours.p50, base.p50, 'lower'),
    row(s, 'send→delivery p99', 'ms', ours.p99, base.p99, 'lower'),
    row(s, 'deliveries', '/s', ours.deliveriesPerSecond, base.deliveriesPerSecond, 'higher'),
    row(
      s,
      'server CPU per delivery',
      'µs',
      (ours.usage.serverCores * 1e6) / ours.deliveriesPerSecond,
      (base.usage.serverCores * 1e6) / base.deliveriesPerSecond,
      'lower',
    ),
    row(s, 'missing (gaps)', 'count', ours.missing, base.missing, 'lower'),
    row(s, 'duplicates', 'count', ours.duplicates, base.duplicates, 'lower'),
    row(
      s,
      'undelivered',
      'count',
      ours.undeliveredOpen + ours.undeliveredClosed,
      base.undeliveredOpen + base.undeliveredClosed,
      'lower',
    ),
  ];
  return { rows, raw: { ours, baseline: base } };
}
