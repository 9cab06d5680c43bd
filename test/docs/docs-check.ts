// The checks that keep docs/*.md true to the code, as pure functions over text: each returns the
// problems it found (empty: none), so docs.test.ts can run them on the real files and, to prove that
// every check can fail, on altered copies.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSchema, type GraphQLSchema, isEnumType, isInterfaceType } from 'graphql';
import ts from 'typescript';
import { printApi } from '../../scripts/schema.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DOCS_DIR = join(ROOT, 'docs');

/** The documents every check reads, by name. */
export type Docs = Record<string, string>;

/** docs/*.md, by file name. */
export function readDocs(dir = DOCS_DIR): Docs {
  const docs: Docs = {};
  for (const f of readdirSync(dir)
    .filter((f) => f.endsWith('.md'))
    .sort()) {
    docs[f] = readFileSync(join(dir, f), 'utf8');
  }
  return docs;
}

/** The whole API as the server serves it (schema/*.graphql, merged). */
export const apiSchema = (): GraphQLSchema => buildSchema(printApi());

// --- Markdown -----------------------------------------------------------------------------------

/** The lines of a Markdown text outside fenced code blocks. */
function proseLines(md: string): string[] {
  const out: string[] = [];
  let fence: string | null = null;
  for (const line of md.split('\n')) {
    const m = /^\s*(```+|~~~+)/.exec(line);
    if (m) {
      const mark = m[1]!;
      if (fence === null) fence = mark[0]!;
      else if (mark[0] === fence) fence = null;
      continue;
    }
    if (fence === null) out.push(line);
  }
  return out;
}

/** The text of every ATX heading (`## Text`), outside code blocks, in order. */
export function headings(md: string): string[] {
  return proseLines(md)
    .map((l) => /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(l)?.[1])
    .filter((h): h is string => h !== undefined);
}

/** A heading's text as GitHub renders it: inline code, emphasis and link targets dropped. */
const renderedText = (h: string): string =>
  h
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/`/g, '')
    .replace(/(\*\*|\*)(\S(?:.*?\S)?)\1/g, '$2')
    // `_` emphasizes only at word boundaries: `BAD_USER_INPUT` keeps its underscores.
    .replace(/(?<![\p{L}\p{N}])(__|_)(\S(?:.*?\S)?)\1(?![\p{L}\p{N}])/gu, '$2');

/**
 * The `#anchors` GitHub gives the headings of a Markdown text (github-slugger): lowercase, every
 * character but letters, digits, spaces, `-` and `_` removed, spaces turned into `-`; a repeated
 * slug gets `-1`, `-2`, … appended.
 */
export function anchors(md: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const h of headings(md)) {
    const base = renderedText(h)
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base);
    seen.set(base, (n ?? 0) + 1);
    out.add(n === undefined ? base : `${base}-${n}`);
  }
  return out;
}

/** Inline link targets `[text](target)` outside code blocks and inline code. */
export function linkTargets(md: string): string[] {
  const targets: string[] = [];
  for (const line of proseLines(md)) {
    const prose = line.replace(/`[^`]*`/g, '');
    for (const m of prose.matchAll(/\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push(m[1]!);
  }
  return targets;
}

/**
 * Relative links of `docs` (by file name, in `dir`) whose file does not exist, or whose `#anchor` is
 * no heading of the Markdown file it names. External links (a scheme, `//`) are not checked.
 */
export function brokenLinks(docs: Docs, dir = DOCS_DIR): string[] {
  const problems: string[] = [];
  const markdownOf = (path: string): string | undefined => {
    const name = relative(dir, path);
    if (name in docs) return docs[name];
    return existsSync(path) && path.endsWith('.md') ? readFileSync(path, 'utf8') : undefined;
  };
  for (const [name, md] of Object.entries(docs)) {
    for (const target of linkTargets(md)) {
      if (/^[a-z][a-z0-9+.-]*:|^\/\//i.test(target)) continue;
      const [pathPart = '', anchor] = target.split('#', 2);
      const path = pathPart === '' ? join(dir, name) : resolve(dir, decodeURIComponent(pathPart));
      const known = relative(dir, path) in docs || existsSync(path);
      if (!known) {
        problems.push(`${name}: ${target}: no such file`);
        continue;
      }
      if (anchor === undefined) continue;
      const targetMd = statSync(path, { throwIfNoEntry: false })?.isDirectory()
        ? undefined
        : markdownOf(path);
      if (targetMd === undefined || !anchors(targetMd).has(decodeURIComponent(anchor).toLowerCase())) {
        problems.push(`${name}: ${target}: no heading with that anchor`);
      }
    }
  }
  return problems;
}

/** What the documentation must stand on its own without: the domain notes kept outside the repository. */
const OUTSIDE = [/\.\.\/shared\b/, /\/work\/shared\b/, /\bSPEC\.md\b/, /\bAPI\.md\b/, /\bDESIGN\.md\b/];

/** Every mention of a document outside the repository. */
export function outsideReferences(docs: Docs): string[] {
  const problems: string[] = [];
  for (const [name, md] of Object.entries(docs)) {
    md.split('\n').forEach((line, i) => {
      for (const p of OUTSIDE) if (p.test(line)) problems.push(`${name}:${i + 1}: mentions ${p.source}`);
    });
  }
  return problems;
}

/** The names in `wanted` that are no heading of `md` (a heading is the name, or starts with it and a space). */
export function missingHeadings(wanted: Iterable<string>, md: string): string[] {
  const hs = headings(md).map(renderedText);
  return [...wanted].filter((w) => !hs.some((h) => h === w || h.startsWith(`${w} `)));
}

/**
 * The section of `md` under the heading `name` (up to the next heading of the same or a higher
 * level), or undefined.
 */
export function section(md: string, name: string): string | undefined {
  const lines = proseLines(md);
  const start = lines.findIndex((l) => {
    const m = /^(#{1,6})\s+(.*?)\s*$/.exec(l);
    return m !== null && renderedText(m[2]!) === name;
  });
  if (start < 0) return undefined;
  const level = /^#+/.exec(lines[start]!)![0].length;
  const end = lines.findIndex(
    (l, i) => i > start && /^#+/.exec(l) !== null && /^#+/.exec(l)![0].length <= level,
  );
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

// --- the API --------------------------------------------------------------------------------------

/** Every value of the `ErrorCode` enum. */
export function errorCodes(schema: GraphQLSchema): string[] {
  const t = schema.getType('ErrorCode');
  if (!isEnumType(t)) throw new Error('the schema has no enum ErrorCode');
  return t.getValues().map((v) => v.name);
}

/** Every object type implementing `Notice`, with its own fields (the interface's left out). */
export function noticeTypes(schema: GraphQLSchema): Map<string, string[]> {
  const notice = schema.getType('Notice');
  if (!isInterfaceType(notice)) throw new Error('the schema has no interface Notice');
  const common = new Set(Object.keys(notice.getFields()));
  const out = new Map<string, string[]>();
  for (const t of schema.getImplementations(notice).objects) {
    out.set(
      t.name,
      Object.keys(t.getFields()).filter((f) => !common.has(f)),
    );
  }
  return out;
}

/** For each notice type documented under its own heading: the fields its section never names (`` `field` ``). */
export function undocumentedNoticeFields(types: Map<string, string[]>, md: string): string[] {
  const problems: string[] = [];
  for (const [name, fields] of types) {
    const text = section(md, name);
    if (text === undefined) continue; // reported by missingHeadings
    for (const f of fields) if (!text.includes(`\`${f}\``)) problems.push(`${name}.${f}`);
  }
  return problems;
}

// --- rule ids -------------------------------------------------------------------------------------

/** A rule id: R (relationships), G (groups), T (retention), N (notices) and a number. */
const RULE_ID = /(?<![\w$-])([RGTN])(\d{1,2})(?![\w$])/g;
/** A range of rule ids of one letter, e.g. `G3–G6` or `N1-N4`: every id between counts. */
const RULE_RANGE = /(?<![\w$-])([RGTN])(\d{1,2})\s*[–-]\s*\1(\d{1,2})(?![\w$])/g;

/** The rule ids a text names, ranges expanded. */
export function ruleIdsIn(text: string): Set<string> {
  const ids = new Set<string>();
  for (const m of text.matchAll(RULE_ID)) ids.add(`${m[1]}${Number(m[2])}`);
  for (const m of text.matchAll(RULE_RANGE)) {
    const [from, to] = [Number(m[2]), Number(m[3])];
    for (let n = from; n <= to && to - from < 20; n++) ids.add(`${m[1]}${n}`);
  }
  return ids;
}

/**
 * The prose of a TypeScript source — its comments and string and template literals — where rule
 * ids are written. Identifiers are left out, so a type parameter `T1` is not taken for a rule.
 */
export function tsProse(source: string, fileName = 'source.ts'): string {
  const parts: string[] = [];
  for (const m of source.matchAll(/\/\/[^\n]*|\/\*[\s\S]*?\*\//g)) parts.push(m[0]);
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, false);
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteralLike(node) || ts.isTemplateLiteralToken(node)) parts.push(node.text);
    node.forEachChild(visit);
  };
  // Template heads, middles and tails are tokens, not children: collect them from their parents.
  const visitTemplates = (node: ts.Node): void => {
    if (ts.isTemplateExpression(node)) {
      parts.push(node.head.text, ...node.templateSpans.map((s) => s.literal.text));
    }
    node.forEachChild(visitTemplates);
  };
  visit(file);
  visitTemplates(file);
  return parts.join('\n');
}

/** Every file under `dir` (recursively) whose name ends in one of `exts`, but not under `skip`. */
function filesUnder(dir: string, exts: string[], skip: string[] = []): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (skip.includes(path)) continue;
    if (entry.isDirectory()) out.push(...filesUnder(path, exts, skip));
    else if (exts.some((e) => entry.name.endsWith(e))) out.push(path);
  }
  return out;
}

/**
 * The rule ids the code and the API name: anywhere in schema/*.graphql, and in the comments and
 * string literals of src/**\/*.ts (src/generated is the SDL again). Maps each id to where it was
 * first seen.
 */
export function ruleIdsOfCode(root = ROOT): Map<string, string> {
  const found = new Map<string, string>();
  const add = (ids: Set<string>, where: string) => {
    for (const id of ids) if (!found.has(id)) found.set(id, where);
  };
  for (const f of filesUnder(join(root, 'schema'), ['.graphql'])) {
    add(ruleIdsIn(readFileSync(f, 'utf8')), relative(root, f));
  }
  for (const f of filesUnder(join(root, 'src'), ['.ts', '.tsx'], [join(root, 'src', 'generated')])) {
    add(ruleIdsIn(tsProse(readFileSync(f, 'utf8'), f)), relative(root, f));
  }
  return found;
}

/** The rule ids that have a `## <id> — …` heading in rules.md. */
export function documentedRuleIds(rulesMd: string): Set<string> {
  const ids = new Set<string>();
  for (const h of headings(rulesMd)) {
    const m = /^([RGTN]\d{1,2})\b/.exec(renderedText(h));
    if (m) ids.add(m[1]!);
  }
  return ids;
}

// --- configuration ----------------------------------------------------------------------------

/**
 * The environment variables src/config.ts reads: the keys of its environment schema
 * (`NAME: z.…`) and any `env.NAME` / `process.env.NAME` / `e.NAME` it reads directly.
 */
export function configVariables(configSource: string): string[] {
  const names = new Set<string>();
  for (const m of configSource.matchAll(/^\s+([A-Z][A-Z0-9_]*):\s*(?:z\b|[a-z]\w*\b)/gm)) names.add(m[1]!);
  for (const m of configSource.matchAll(/\b(?:process\.env|env|e)\s*(?:\.\s*|\[\s*['"])([A-Z][A-Z0-9_]*)/g)) {
    names.add(m[1]!);
  }
  return [...names].sort();
}

/** The variables that operations.md never names as `` `NAME` ``. */
export function undocumentedVariables(names: Iterable<string>, operationsMd: string): string[] {
  return [...names].filter((n) => !operationsMd.includes(`\`${n}\``));
}

/** The docs/*.md files (but the index itself) that docs/README.md does not link to. */
export function unindexed(docs: Docs): string[] {
  const index = docs['README.md'] ?? '';
  const linked = new Set(linkTargets(index).map((t) => t.split('#')[0]));
  return Object.keys(docs).filter((f) => f !== 'README.md' && !linked.has(f));
}
