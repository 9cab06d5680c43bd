// The README's walk-throughs (src/graphiql/walkthroughs.ts, one source for the README, the GraphiQL
// tabs and this test), run step by step against a real server on real PostgreSQL with time travel on
// (TIME_TRAVEL=1, an offset clock as `npm start` uses), each step as its person, ids fed from earlier
// answers. Also: the README's blocks in those sections are exactly these operations and variables,
// and every operation is valid against the schema and follows the snippet rules.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  buildSchema,
  Kind,
  type OperationDefinitionNode,
  parse,
  type SelectionSetNode,
  validate,
  visit,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { printApi } from '../../scripts/schema.js';
import { walkthroughBlocks } from '../../scripts/walkthroughs.js';
import { OffsetClock } from '../../src/clock.js';
import {
  type From,
  isFrom,
  OPERATIONS,
  operationName,
  PEOPLE,
  type PersonKey,
  PRESENT,
  readmeJson,
  type Step,
  shownVariables,
  tabs,
  type Variable,
  WALKTHROUGHS,
  type Walkthrough,
} from '../../src/graphiql/walkthroughs.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { collect, type GraphQLResponse, startTestApp, type TestApp } from '../support/server.js';

const README = fileURLToPath(new URL('../../README.md', import.meta.url));

/** The value at a dotted path (`a.0.b`) under `value`. */
function at(value: unknown, path: string): unknown {
  let v = value;
  for (const key of path.split('.')) {
    if (v === null || v === undefined) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

// --- the README -------------------------------------------------------------------------------------

interface Block {
  lang: string;
  text: string;
}

/** The fenced blocks of the README section under `heading` (up to the next heading, ### included). */
function sectionBlocks(readme: string, heading: string): Block[] {
  const lines = readme.split('\n');
  const start = lines.findIndex((l) => /^#{2,3} /.test(l) && l.replace(/^#+ /, '') === heading);
  if (start < 0) throw new Error(`README has no section "${heading}"`);
  const blocks: Block[] = [];
  let open: { lang: string; lines: string[]; indent: number } | undefined;
  for (const line of lines.slice(start + 1)) {
    if (!open) {
      const h = /^(#+) /.exec(line);
      if (h) break; // a subsection (###) is a section of its own
      const fence = /^(\s*)```(\w*)\s*$/.exec(line);
      if (fence) open = { lang: fence[2]!, lines: [], indent: fence[1]!.length };
      continue;
    }
    if (/^\s*```\s*$/.test(line)) {
      blocks.push({ lang: open.lang, text: open.lines.join('\n') });
      open = undefined;
      continue;
    }
    open.lines.push(line.slice(Math.min(open.indent, /^\s*/.exec(line)![0].length)));
  }
  if (open) throw new Error(`unclosed block in "${heading}"`);
  return blocks;
}

// --- the snippet rules ------------------------------------------------------------------------------

describe('the walk-throughs, as written', () => {
  const schema = buildSchema(printApi());
  const allSteps = WALKTHROUGHS.flatMap((w) => w.steps.map((s) => ({ w, s })));

  it('every operation is one named operation, valid against the schema', () => {
    for (const text of Object.values(OPERATIONS)) {
      const doc = parse(text);
      expect(doc.definitions, text).toHaveLength(1);
      const def = doc.definitions[0] as OperationDefinitionNode;
      expect(def.kind).toBe(Kind.OPERATION_DEFINITION);
      expect(def.name?.value).toBe(operationName(text));
      expect(
        validate(schema, doc).map((e) => e.message),
        operationName(text),
      ).toEqual([]);
    }
  });

  it('every id is a variable (no string literal in a query), every mutation asks for userErrors { code message }', () => {
    for (const text of Object.values(OPERATIONS)) {
      const doc = parse(text);
      visit(doc, {
        StringValue(node) {
          throw new Error(`${operationName(text)}: a string literal "${node.value}" — pass it as a variable`);
        },
      });
      const def = doc.definitions[0] as OperationDefinitionNode;
      if (def.operation !== 'mutation') continue;
      for (const root of def.selectionSet.selections) {
        if (root.kind !== Kind.FIELD) continue;
        const fields = (s: SelectionSetNode | undefined) =>
          (s?.selections ?? []).flatMap((x) => (x.kind === Kind.FIELD ? [x] : []));
        const userErrors = fields(root.selectionSet).find((f) => f.name.value === 'userErrors');
        const asked = fields(userErrors?.selectionSet).map((f) => f.name.value);
        expect(asked, `${operationName(text)} asks for userErrors { code message }`).toEqual(
          expect.arrayContaining(['code', 'message']),
        );
      }
    }
  });

  it('every step uses a listed operation, its variables are exactly those the operation declares', () => {
    const listed = new Set(Object.values(OPERATIONS));
    for (const { w, s } of allSteps) {
      expect(listed.has(s.operation), `${w.id}/${s.id}`).toBe(true);
      const def = parse(s.operation).definitions[0] as OperationDefinitionNode;
      const declared = (def.variableDefinitions ?? []).map((v) => v.variable.name.value).sort();
      expect(Object.keys(s.variables ?? {}).sort(), `${w.id}/${s.id}`).toEqual(declared);
    }
    const names = Object.values(OPERATIONS).map(operationName);
    expect(new Set(names).size).toBe(names.length);
  });

  it('step ids are unique per walk-through, and every `from` names an earlier step', () => {
    const seen = new Map<string, Set<string>>();
    for (const w of WALKTHROUGHS) {
      const ids = new Set<string>();
      for (const s of w.steps) {
        expect(ids.has(s.id), `${w.id}/${s.id} twice`).toBe(false);
        for (const f of froms(s.variables)) {
          const ref = 'verificationCode' in f ? f.groupFrom : f;
          const where = ref.walkthrough ?? w.id;
          const known = where === w.id ? ids : seen.get(where);
          expect(known?.has(ref.step), `${w.id}/${s.id} uses ${where}/${ref.step}`).toBe(true);
        }
        ids.add(s.id);
      }
      seen.set(w.id, ids);
    }
  });

  it('every graphql block anywhere in the README is one named operation, valid, with no id pasted in', () => {
    const readme = readFileSync(README, 'utf8');
    const blocks = [...readme.matchAll(/^([ \t]*)```graphql\n([\s\S]*?)^\1```$/gm)].map((m) => m[2]!);
    expect(blocks.length).toBeGreaterThan(Object.keys(OPERATIONS).length);
    for (const text of blocks) {
      const doc = parse(text);
      const ops = doc.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
      expect(ops, text).toHaveLength(doc.definitions.length);
      expect(ops.length, text).toBe(1);
      expect((ops[0] as OperationDefinitionNode).name, text).toBeDefined();
      expect(
        validate(schema, doc).map((e) => e.message),
        text,
      ).toEqual([]);
      visit(doc, {
        StringValue(node) {
          throw new Error(
            `a README block has the string literal "${node.value}": pass it as a variable\n${text}`,
          );
        },
      });
    }
  });

  it("the README's blocks in those sections are exactly these operations, each with its variables beside it", () => {
    const readme = readFileSync(README, 'utf8');
    expect(readme).not.toMatch(/\]\(\.\.\/shared/);
    const sections = [...new Set(WALKTHROUGHS.map((w) => w.section))];
    for (const section of sections) {
      const steps = WALKTHROUGHS.filter((w) => w.section === section).flatMap((w) =>
        w.steps.map((s) => ({ s, shown: shownVariables(s, w) })),
      );
      const blocks = sectionBlocks(readme, section);
      const ops: string[] = [];
      for (const { s } of steps) if (!ops.includes(s.operation)) ops.push(s.operation);
      const graphql = blocks.filter((b) => b.lang === 'graphql').map((b) => b.text.trim());
      expect(graphql, section).toEqual(ops);
      // After each operation, the variables of its first use (when it has any).
      blocks.forEach((b, i) => {
        if (b.lang !== 'graphql') return;
        const first = steps.find(({ s }) => s.operation === b.text.trim())!;
        if (first.shown)
          expect(blocks[i + 1], `${section}: variables after ${operationName(first.s.operation)}`).toEqual({
            lang: 'json',
            text: readmeJson(first.shown),
          });
      });
      // Every other JSON block is the variables of some step of the section.
      const allowed = new Set(steps.flatMap(({ shown }) => (shown ? [readmeJson(shown)] : [])));
      for (const b of blocks.filter((x) => x.lang === 'json'))
        expect(allowed.has(b.text), `${section}: json block ${b.text}`).toBe(true);
      // Only operations (graphql), their variables (json) and shell commands (sh).
      for (const b of blocks) expect(['graphql', 'json', 'sh']).toContain(b.lang);
    }
  });

  it('npm run walkthroughs prints every README block of each section, in the README order', () => {
    const readme = readFileSync(README, 'utf8');
    for (const section of new Set(WALKTHROUGHS.map((w) => w.section))) {
      const printed = walkthroughBlocks(section);
      let from = 0;
      for (const b of sectionBlocks(readme, section).filter((x) => x.lang === 'graphql')) {
        const at = printed.indexOf(`\`\`\`graphql\n${b.text.trim()}\n\`\`\``, from);
        expect(at, `${section}: ${operationName(b.text)}`).toBeGreaterThanOrEqual(from);
        from = at + 1;
      }
    }
    expect(walkthroughBlocks('No such section')).toBe('');
  });

  it('the GraphiQL tabs hold every operation of their person, under distinct names', () => {
    const all = tabs();
    expect(new Set(all.map((t) => t.name)).size).toBe(all.length);
    for (const w of WALKTHROUGHS)
      for (const s of w.steps) {
        const tab = all.find((t) => t.name.startsWith(w.title) && t.who === s.as);
        expect(tab?.query, `${w.id}/${s.id}`).toContain(s.operation);
      }
    for (const t of all) {
      // A valid document GraphiQL can run operation by operation.
      expect(
        validate(schema, parse(t.query)).map((e) => e.message),
        t.name,
      ).toEqual([]);
      JSON.parse(t.variables);
    }
  });
});

function froms(v: unknown): From[] {
  if (isFrom(v)) return [v.from];
  if (Array.isArray(v)) return v.flatMap(froms);
  if (v && typeof v === 'object') return Object.values(v).flatMap(froms);
  return [];
}

// --- running them -----------------------------------------------------------------------------------

describe('the walk-throughs, run in order against a server with TIME_TRAVEL=1', () => {
  let db: TestDatabase;
  let t: TestApp;
  const tokens = new Map<PersonKey, string>();
  /** answers[walkthrough][step] = the step's `data`. */
  const answers = new Map<string, Map<string, unknown>>();

  beforeAll(async () => {
    db = await createTestDatabase('pg');
    t = await startTestApp(db.handle, { clock: new OffsetClock(), config: { timeTravel: true } });
    for (const key of Object.keys(PEOPLE) as PersonKey[]) {
      const p: { userId: string; operator?: boolean; deviceId?: string } = PEOPLE[key];
      tokens.set(
        key,
        await t.token(p.userId, {
          ...(p.operator ? { operator: true } : {}),
          ...(p.deviceId ? { deviceId: p.deviceId } : {}),
        }),
      );
    }
  });
  afterAll(async () => {
    await t?.stop();
    await db?.drop();
  });

  function answerOf(w: Walkthrough, ref: { step: string; path: string; walkthrough?: string }): unknown {
    const data = answers.get(ref.walkthrough ?? w.id)?.get(ref.step);
    const value = at(data, ref.path);
    if (value === undefined || value === null)
      throw new Error(`${w.id}: nothing at ${ref.step} → ${ref.path}`);
    return value;
  }

  /** The newest G7 code for `userId` on `groupId` in the development sender's file. */
  function latestCode(userId: string, groupId: string): string {
    const lines = readFileSync(t.app.deps.config.verificationFile, 'utf8').trim().split('\n');
    const entry = lines
      .map((l) => JSON.parse(l) as { userId: string; groupId: string; code: string })
      .reverse()
      .find((l) => l.userId === userId && l.groupId === groupId);
    if (!entry) throw new Error(`no code for ${userId} on ${groupId}`);
    return entry.code;
  }

  function resolve(w: Walkthrough, v: Variable): unknown {
    if (isFrom(v)) {
      const f = v.from;
      if ('verificationCode' in f)
        return latestCode(PEOPLE[f.verificationCode].userId, String(answerOf(w, f.groupFrom)));
      return answerOf(w, f);
    }
    if (Array.isArray(v)) return v.map((x) => resolve(w, x));
    if (v && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(w, x as Variable)]));
    return v;
  }

  function check(w: Walkthrough, s: Step, r: GraphQLResponse) {
    const where = `${w.id}/${s.id} (${s.title}) as ${s.as}: ${JSON.stringify(r)}`;
    expect(r.errors, where).toBeUndefined();
    expect(r.status, where).toBe(200);
    for (const [path, want] of Object.entries(s.expect ?? {})) {
      const got = at(r.data, path);
      if (want === PRESENT) expect(got ?? null, `${where}\n${path}`).not.toBeNull();
      else expect(got, `${where}\n${path}`).toEqual(want);
    }
  }

  for (const w of WALKTHROUGHS) {
    it(`${w.title}: every step as written`, async () => {
      const mine = new Map<string, unknown>();
      answers.set(w.id, mine);
      const watches: { s: Step; sub: ReturnType<typeof collect> }[] = [];
      for (const s of w.steps) {
        const token = tokens.get(s.as)!;
        const variables = Object.fromEntries(
          Object.entries(s.variables ?? {}).map(([k, v]) => [k, resolve(w, v)]),
        );
        if (s.operation.startsWith('subscription')) {
          const before = t.app.deps.bus.streamCount;
          const sub = collect(t.ws(token), s.operation, variables);
          await t.waitForStreams(before + 1);
          watches.push({ s, sub });
          continue;
        }
        const r = await t.http(s.operation, variables, token);
        check(w, s, r);
        mine.set(s.id, r.data);
      }
      for (const { s, sub } of watches) {
        const seen = () =>
          new Set(sub.results.map((r) => (r.data as { notices: { __typename: string } }).notices.__typename));
        const deadline = Date.now() + 10_000;
        while (!(s.notices ?? []).every((n) => seen().has(n)) && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 50));
        expect([...seen()], `${w.id}/${s.id}`).toEqual(expect.arrayContaining(s.notices ?? []));
        expect(sub.results.every((r) => r.errors === undefined)).toBe(true);
        sub.dispose();
      }
    });
  }
});
