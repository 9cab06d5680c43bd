import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestEnv, type TestEnv } from '../support/fixture.js';
import { keyOf, publishBatch, TAGGED_FIELDS, type TaggedNotice } from '../support/notices.js';
import { collect } from '../support/server.js';

const range = (tag: string, from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `${tag}:${from + i}`);

describe('N1 under a burst: a subscriber that falls behind reads on from the table, losing and repeating nothing', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await openTestEnv({ config: { noticeQueueMax: 20 } });
    // A small buffer, so one burst overflows it for certain (the feed hands a whole batch over at once).
  });
  afterAll(() => env?.close());

  it('300 notices in one transaction reach a live subscriber and a resuming one exactly once, in order; then live again', async () => {
    const token = await env.server.token('burst');
    const live = collect<{ notices: TaggedNotice }>(
      env.server.ws(token),
      `subscription { notices { ${TAGGED_FIELDS} } }`,
    );
    await env.server.waitForStreams(1);
    await publishBatch(env.server.app.deps.db, 'burst', 'first', 0, 1, env.server.clock.now());
    const [first] = await live.take(1);
    const resumed = collect<{ notices: TaggedNotice }>(
      env.server.ws(token),
      `subscription($after: String) { notices(after: $after) { ${TAGGED_FIELDS} } }`,
      { after: first!.data!.notices.cursor },
    );
    await env.server.waitForStreams(2);

    const fallbacksBefore = env.server.app.deps.bus.fallbacks;
    await publishBatch(env.server.app.deps.db, 'burst', 'burst', 0, 300, env.server.clock.now());
    const keys = (rs: { data?: { notices: TaggedNotice } }[]) => rs.map((r) => keyOf(r.data!.notices));
    expect(keys(await live.take(301))).toEqual(['first:0', ...range('burst', 0, 300)]);
    expect(keys(await resumed.take(300))).toEqual(range('burst', 0, 300));
    expect(env.server.app.deps.bus.fallbacks).toBeGreaterThanOrEqual(fallbacksBefore + 2); // both fell back

    await publishBatch(env.server.app.deps.db, 'burst', 'after', 0, 5, env.server.clock.now());
    expect(keys(await live.take(306)).slice(301)).toEqual(range('after', 0, 5));
    expect(keys(await resumed.take(305)).slice(300)).toEqual(range('after', 0, 5));
    expect(live.results).toHaveLength(306);
    expect(resumed.results).toHaveLength(305);
  });
});
