/**
 * The whole API as one SDL file, and the checks that keep it honest:
 *
 *   npm run schema          writes schema.graphql from schema/*.graphql
 *   npm run schema:check    fails when schema.graphql is stale, or when the API breaks a client
 *                           of the last released schema (releases/<version>.graphql)
 *
 * A release is a copy of schema.graphql saved as releases/<version>.graphql. A breaking change
 * (a field, argument, type or enum value removed or changed incompatibly) is refused until a new
 * release is cut on purpose; dangerous and safe changes are listed, not refused.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Change, CriticalityLevel, diff } from '@graphql-inspector/core';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { buildSchema, type GraphQLSchema, printSchema } from 'graphql';
import { loadTypeDefs } from '../src/graphql/schema.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const SCHEMA_FILE = join(ROOT, 'schema.graphql');
export const RELEASES_DIR = join(ROOT, 'releases');

const HEADER =
  '# The whole ties API, generated from schema/*.graphql by `npm run schema`. Do not edit:\n' +
  '# CI fails when this file differs from what the sources print.\n\n';

/** The SDL the server serves, printed as one document. */
export function printApi(): string {
  return `${HEADER}${printSchema(makeExecutableSchema({ typeDefs: loadTypeDefs() }))}\n`;
}

/** The newest file in releases/, by semantic version. */
export function lastRelease(dir = RELEASES_DIR): { version: string; file: string } {
  const versions = readdirSync(dir)
    .filter((f) => /^\d+\.\d+\.\d+\.graphql$/.test(f))
    .map((f) => f.slice(0, -'.graphql'.length))
    .sort((a, b) => {
      const [x, y] = [a, b].map((v) => v.split('.').map(Number));
      for (let i = 0; i < 3; i++) if (x![i] !== y![i]) return x![i]! - y![i]!;
      return 0;
    });
  const version = versions.at(-1);
  if (!version) throw new Error(`no release in ${dir}`);
  return { version, file: join(dir, `${version}.graphql`) };
}

/** Every change from `before` to `after`, breaking ones first. */
export async function compare(before: string | GraphQLSchema, after: string | GraphQLSchema) {
  const load = (s: string | GraphQLSchema) => (typeof s === 'string' ? buildSchema(s) : s);
  const changes = await diff(load(before), load(after));
  const breaking = changes.filter((c) => c.criticality.level === CriticalityLevel.Breaking);
  return { changes, breaking };
}

const line = (c: Change) => `  ${c.criticality.level.padEnd(13)} ${c.message}`;

async function main(mode: string | undefined): Promise<number> {
  const printed = printApi();
  if (mode === 'write') {
    writeFileSync(SCHEMA_FILE, printed);
    console.log(`wrote ${SCHEMA_FILE}`);
    return 0;
  }
  let status = 0;
  const committed = readFileSync(SCHEMA_FILE, 'utf8');
  if (committed !== printed) {
    console.error('schema.graphql is stale: run `npm run schema` and commit it');
    status = 1;
  } else console.log('schema.graphql is fresh');

  const release = lastRelease();
  const { changes, breaking } = await compare(readFileSync(release.file, 'utf8'), printed);
  const dangerous = changes.filter((c) => c.criticality.level === CriticalityLevel.Dangerous);
  console.log(
    `against release ${release.version}: ${changes.length} changes, ${breaking.length} breaking, ${dangerous.length} dangerous`,
  );
  for (const c of [...breaking, ...dangerous]) console.log(line(c)); // safe ones (e.g. descriptions) are only counted
  if (breaking.length > 0) {
    console.error(
      `breaking changes against ${release.version}: keep the old fields (deprecate them) or cut a new release`,
    );
    status = 1;
  }
  return status;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main(process.argv[2]);
}
