/**
 * Prints the README's walk-through blocks from their one source (src/graphiql/walkthroughs.ts), in
 * README order, to paste after changing a walk-through (`test/walkthroughs` fails on any drift):
 *
 *   npm run walkthroughs                  every section
 *   npm run walkthroughs -- Groups        the sections whose heading starts with "Groups"
 *
 * Each step prints its person and title, then its operation the first time the section uses it,
 * then its variables as the README shows them (ids copied from earlier answers as placeholders).
 */
import { fileURLToPath } from 'node:url';
import { readmeJson, shownVariables, WALKTHROUGHS } from '../src/graphiql/walkthroughs.js';

const fence = (lang: string, text: string) => `\`\`\`${lang}\n${text.trim()}\n\`\`\``;

/** The blocks of every walk-through section whose heading starts with `prefix`, as Markdown. */
export function walkthroughBlocks(prefix = ''): string {
  const out: string[] = [];
  for (const section of new Set(WALKTHROUGHS.map((w) => w.section))) {
    if (!section.startsWith(prefix)) continue;
    out.push(`## ${section}\n`);
    const shownOps = new Set<string>();
    for (const w of WALKTHROUGHS.filter((x) => x.section === section)) {
      for (const s of w.steps) {
        out.push(`<!-- ${w.id}/${s.id}, as ${s.as}: ${s.title} -->`);
        if (!shownOps.has(s.operation)) {
          shownOps.add(s.operation);
          out.push(fence('graphql', s.operation));
        }
        const vars = shownVariables(s, w);
        if (vars) out.push(fence('json', readmeJson(vars)));
        out.push('');
      }
    }
  }
  return out.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err; // `| head` closed the pipe: done
  });
  process.stdout.write(`${walkthroughBlocks(process.argv[2])}\n`);
}
