// docs/*.md must keep up with the code: every ErrorCode, every Notice type (and its fields), every
// rule id the code or the API names, every environment variable of src/config.ts; no link that
// leads nowhere; nothing that points outside the repository. No database is needed.
// The second half proves that each check can fail, on altered copies of the real documents.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  anchors,
  apiSchema,
  brokenLinks,
  configVariables,
  type Docs,
  documentedRuleIds,
  errorCodes,
  missingHeadings,
  noticeTypes,
  outsideReferences,
  ROOT,
  readDocs,
  ruleIdsIn,
  ruleIdsOfCode,
  tsProse,
  undocumentedNoticeFields,
  undocumentedVariables,
  unindexed,
} from './docs-check.js';

const docs = readDocs();
const schema = apiSchema();
const configSource = readFileSync(join(ROOT, 'src', 'config.ts'), 'utf8');
const doc = (name: string): string => {
  const text = docs[name];
  if (text === undefined) throw new Error(`docs/${name} is missing`);
  return text;
};

/** The rule ids of the code that rules.md has no heading for. */
const missingRuleIds = (rulesMd: string, code = ruleIdsOfCode()) => {
  const documented = documentedRuleIds(rulesMd);
  return [...code].filter(([id]) => !documented.has(id)).map(([id, where]) => `${id} (${where})`);
};

/** `docs` with `name` replaced by `edit(name's text)`. */
const altered = (name: string, edit: (text: string) => string): Docs => ({
  ...docs,
  [name]: edit(doc(name)),
});

/** Removes the heading line that starts with `heading` (its section's text stays). */
const dropHeading = (md: string, heading: string): string =>
  md
    .split('\n')
    .filter((l) => !l.startsWith(heading))
    .join('\n');

describe('docs/ keeps up with the code', () => {
  it('has the index and the five documents, each linked from docs/README.md', () => {
    for (const f of ['README.md', 'rules.md', 'notices.md', 'errors.md', 'limits.md', 'operations.md']) {
      expect(docs[f], `docs/${f}`).toBeDefined();
    }
    expect(unindexed(docs)).toEqual([]);
  });

  it('errors.md has a section for every ErrorCode value', () => {
    const codes = errorCodes(schema);
    expect(codes).toContain('CURSOR_EXPIRED');
    expect(missingHeadings(codes, doc('errors.md'))).toEqual([]);
  });

  it('notices.md has a section for every type implementing Notice, naming each of its fields', () => {
    const types = noticeTypes(schema);
    expect(types.size).toBeGreaterThanOrEqual(10);
    expect(missingHeadings(types.keys(), doc('notices.md'))).toEqual([]);
    expect(undocumentedNoticeFields(types, doc('notices.md'))).toEqual([]);
  });

  it('rules.md has a heading for every rule id named in schema/*.graphql or src/**/*.ts', () => {
    const code = ruleIdsOfCode();
    for (const id of ['R1', 'R8', 'N4', 'G12', 'T5']) expect(code.has(id), id).toBe(true);
    expect(missingRuleIds(doc('rules.md'), code)).toEqual([]);
  });

  it('operations.md names every environment variable src/config.ts reads', () => {
    const names = configVariables(configSource);
    expect(names).toEqual(expect.arrayContaining(['PORT', 'DATABASE_URL', 'MAX_COST', 'TRUST_PROXY']));
    expect(undocumentedVariables(names, doc('operations.md'))).toEqual([]);
  });

  it('no document points outside the repository (../shared, /work/shared, SPEC.md, …)', () => {
    expect(outsideReferences(docs)).toEqual([]);
  });

  it('every relative link leads to an existing file and heading', () => {
    expect(brokenLinks(docs)).toEqual([]);
  });
});

describe('each check can fail', () => {
  it('an ErrorCode value without its section', () => {
    const md = dropHeading(doc('errors.md'), '## NOT_FOUND');
    expect(missingHeadings(errorCodes(schema), md)).toEqual(['NOT_FOUND']);
    expect(missingHeadings([...errorCodes(schema), 'NEW_CODE'], doc('errors.md'))).toEqual(['NEW_CODE']);
  });

  it('a Notice type without its section, or a field its section never names', () => {
    const types = noticeTypes(schema);
    const md = dropHeading(doc('notices.md'), '### ContactRemovedYou');
    expect(missingHeadings(types.keys(), md)).toEqual(['ContactRemovedYou']);
    const withField = new Map(types).set('ContactRemovedYou', ['byUserId', 'newField']);
    expect(undocumentedNoticeFields(withField, doc('notices.md'))).toEqual(['ContactRemovedYou.newField']);
  });

  it('a rule id without its heading, from the SDL or from a comment or string of the source', () => {
    const md = dropHeading(doc('rules.md'), '## T3 ');
    expect(missingRuleIds(md)).toEqual([expect.stringMatching(/^T3 /)]);
    const code = new Map([['G13', 'src/x.ts']]);
    expect(missingRuleIds(doc('rules.md'), code)).toEqual(['G13 (src/x.ts)']);
    // What counts as naming a rule: prose and ranges, not identifiers.
    expect([...ruleIdsIn('SPEC G3–G5 and R7, not R10x or xT1')].sort()).toEqual(['G3', 'G4', 'G5', 'R7']);
    const source = [
      '// see R2',
      "const m = 'G7: code';",
      `function f<T1>(x: T1) { return \`${'$'}{x} (T4)\`; }`,
    ].join('\n');
    expect([...ruleIdsIn(tsProse(source))].sort()).toEqual(['G7', 'R2', 'T4']);
  });

  it('an environment variable missing from operations.md', () => {
    const names = configVariables(`${configSource}\nconst x = process.env.NEW_SETTING;`);
    expect(names).toContain('NEW_SETTING');
    expect(undocumentedVariables(names, doc('operations.md'))).toEqual(['NEW_SETTING']);
    const md = doc('operations.md').replaceAll('`STOP_DELAY_SECONDS`', 'STOP_DELAY_SECONDS');
    expect(undocumentedVariables(configVariables(configSource), md)).toEqual(['STOP_DELAY_SECONDS']);
  });

  it('a mention of a document outside the repository', () => {
    const outside = altered('limits.md', (t) => `${t}\nSee [the rules](../shared/SPEC.md).\n`);
    expect(outsideReferences(outside)).toEqual([
      expect.stringMatching(/^limits\.md:\d+: mentions .*shared/),
      expect.stringMatching(/^limits\.md:\d+: mentions .*SPEC/),
    ]);
    const path = altered('errors.md', (t) => `${t}\nAs /work/shared/API.md says.\n`);
    expect(outsideReferences(path).length).toBeGreaterThan(0);
  });

  it('a link to a missing file or heading', () => {
    const file = altered('README.md', (t) => `${t}\n- [gone](gone.md)\n`);
    expect(brokenLinks(file)).toEqual(['README.md: gone.md: no such file']);
    const heading = altered(
      'errors.md',
      (t) => `${t}\nSee [R9](rules.md#r9--nothing) and [here](#no-such-section).\n`,
    );
    expect(brokenLinks(heading)).toEqual([
      'errors.md: rules.md#r9--nothing: no heading with that anchor',
      'errors.md: #no-such-section: no heading with that anchor',
    ]);
    // A heading renamed under its links breaks them.
    const renamed = altered('rules.md', (t) => t.replace('## R3 — Mutual delete', '## R3 — Both delete'));
    expect(brokenLinks(renamed).some((p) => p.includes('#r3--mutual-delete-and-the-30-day-buffer'))).toBe(
      true,
    );
  });

  it('anchors are GitHub’s: punctuation dropped, spaces to dashes, repeats numbered', () => {
    const md = '# A — B\n## `CODE_X`\n## Same\n## Same\n```\n## not a heading\n```\n';
    expect([...anchors(md)]).toEqual(['a--b', 'code_x', 'same', 'same-1']);
  });

  it('a document missing from the index', () => {
    const md = doc('README.md').replace(/^- \[limits\.md\].*$/m, '');
    expect(unindexed({ ...docs, 'README.md': md })).toEqual(['limits.md']);
  });
});
