/**
 * `tooltime stress --workers N`: the cases spread over N worker threads (stress-worker.ts), which
 * evaluate them with the main thread's code (evaluateCase) and answer each case's outcome; the
 * main thread's fast-check run takes the outcomes in order (runStress), so the failure found, its
 * shrinking, and the seed and path that reproduce it are those of a run on one thread.
 */
import Tinypool from 'tinypool';
import type { CaseOutcome, StressInput, StressOptions, StressSpread } from './stress-runner.js';

/** What a stress worker is started with: the plain part of the run's options. */
export type StressWorkerSetup = Pick<
  StressOptions,
  | 'agent'
  | 'checks'
  | 'efficiencyFactor'
  | 'starvationDecisions'
  | 'mode'
  | 'delivery'
  | 'caseOptions'
>;

/** Cases a worker must have at least for the pool to be worth starting. */
const MIN_CASES_PER_WORKER = 16;
/** Cases a batch at most (a case is one or two episodes of up to a few hundred decisions). */
const MAX_BATCH = 16;

/** Threads worth starting for `runs` cases: 0 (this thread) when fewer than 2. */
export function stressPoolSize(workers: number, runs: number): number {
  const n = Math.min(workers, Math.floor(runs / MIN_CASES_PER_WORKER));
  return n >= 2 ? n : 0;
}

// A worker thread runs plain JavaScript: the compiled module beside this one.
const WORKER_URL = new URL('./stress-worker.js', import.meta.url);

export class StressPool {
  private readonly pool: Tinypool;
  readonly spread: StressSpread;

  constructor(
    readonly size: number,
    runs: number,
    setup: StressWorkerSetup,
  ) {
    this.pool = new Tinypool({
      filename: WORKER_URL.href,
      minThreads: size,
      maxThreads: size,
      workerData: setup,
    });
    const batch = Math.max(1, Math.min(MAX_BATCH, Math.ceil(runs / (size * 8))));
    this.spread = {
      batch,
      inFlight: 2 * size,
      run: async (cases: readonly StressInput[]) =>
        (await this.pool.run(cases)) as readonly CaseOutcome[],
    };
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
