import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compare, lastRelease, printApi, ROOT, SCHEMA_FILE } from '../../scripts/schema.js';

describe('schema.graphql, the whole API in one file', () => {
  it('is what schema/*.graphql prints (run `npm run schema` after changing the SDL)', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(printApi());
  });

  it('breaks nothing a client of the last release relies on', async () => {
    const release = lastRelease();
    const { breaking } = await compare(readFileSync(release.file, 'utf8'), printApi());
    expect(breaking.map((c) => c.message)).toEqual([]);
  });

  it('the breaking-change check refuses a removed field and an added required argument, not a new field', async () => {
    const before = 'type Query { a: Int, b(x: Int): String }';
    const removed = await compare(before, 'type Query { b(x: Int): String }');
    expect(removed.breaking.map((c) => c.message)).toEqual([
      "Field 'a' was removed from object type 'Query'",
    ]);
    const required = await compare(before, 'type Query { a: Int, b(x: Int, y: Int!): String }');
    expect(required.breaking).toHaveLength(1);
    const added = await compare(before, 'type Query { a: Int, b(x: Int): String, c: ID }');
    expect(added.breaking).toEqual([]);
    expect(added.changes).toHaveLength(1);
  });
});

describe('the SDL lint (every type, field, argument and enum value described)', () => {
  it('finds nothing undescribed in schema/', async () => {
    const { ESLint } = await import('eslint');
    const results = await new ESLint({ cwd: ROOT }).lintFiles(['schema']);
    const problems = results.flatMap((r) => r.messages.map((m) => `${r.filePath}:${m.line} ${m.message}`));
    expect(problems).toEqual([]);
    expect(results.length).toBeGreaterThanOrEqual(10);
  });

  it('reports a field without a description', async () => {
    const { ESLint } = await import('eslint');
    const [result] = await new ESLint({ cwd: ROOT }).lintText(
      '"A thing." type Thing { "Described." a: Int\n b: Int }',
      { filePath: join(ROOT, 'schema', 'probe.graphql') },
    );
    expect(result?.messages.map((m) => m.message)).toEqual([
      'Description is required for field "b" in type "Thing"',
    ]);
  });
});
