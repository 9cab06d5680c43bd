import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Starts `src/main.ts` as a real process (one process: node with tsx's loader, so a signal reaches
 * the server itself, not a wrapper) and resolves with it and the URL it logged. */
export async function startProcess(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string; out: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  let out = '';
  child.stdout!.on('data', (d) => {
    out += String(d);
  });
  child.stderr!.on('data', (d) => {
    out += String(d);
  });
  const url = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      const m = /"url":"(http:\/\/[^"]+)\/graphql".*ties is listening/.exec(out);
      if (m) resolve(m[1]!);
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited ${code} before listening:\n${out}`)));
  });
  return { child, url, out: () => out };
}

/**
 * Runs a command-line entry point (e.g. `src/jobs/sweep-cli.ts`) to its end, with `args` after it
 * and `nodeArgs` (e.g. a heap limit) before: exit code and output.
 */
export function runCli(
  script: string,
  env: Record<string, string>,
  opts: { args?: string[]; nodeArgs?: string[] } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [...(opts.nodeArgs ?? []), '--import', 'tsx', script, ...(opts.args ?? [])],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', ...env },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += String(d);
    });
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
