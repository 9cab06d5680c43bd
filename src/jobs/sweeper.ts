import type { Deps } from '../shared/deps.js';
import { runSweep, type SweepCounts } from './sweep.js';

export interface Sweeper {
  stop(): Promise<void>;
}

/**
 * T5: runs the retention sweep every `intervalSeconds` inside the server (0 = off). Runs never
 * overlap in this process; across instances, `FOR UPDATE SKIP LOCKED` keeps them from colliding.
 */
export function startSweeper(deps: Deps, intervalSeconds: number): Sweeper {
  if (intervalSeconds <= 0) return { stop: async () => {} };
  let running: Promise<SweepCounts | undefined> = Promise.resolve(undefined);
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    running = runSweep(deps)
      .catch((err) => {
        deps.logger.error({ err }, 'retention sweep failed');
        return undefined;
      })
      .finally(() => {
        busy = false;
      });
  }, intervalSeconds * 1000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
