/**
 * A worker thread of `tooltime stress --workers N` (see stress-pool.ts): evaluates each case it is
 * handed with evaluateCase, the agent made from the command line's spec (a policy module named
 * there is loaded here, as on the main thread), and answers its outcome and tally.
 */
import { workerData } from 'node:worker_threads';
import { agentMaker } from '../agents/index.js';
import { encodeForStress } from './commands/stress.js';
import type { StressWorkerSetup } from './stress-pool.js';
import {
  emptyTally,
  evaluateCase,
  type CaseOutcome,
  type StressInput,
  type StressOptions,
} from './stress-runner.js';

// tinypool hands a worker [its own data, the pool's workerData].
const setup = (workerData as [unknown, StressWorkerSetup])[1];
const options: StressOptions = {
  ...setup,
  runs: 0,
  seed: 0,
  timeLimitMs: null,
  makeAgent: await agentMaker([setup.agent]),
  encode: encodeForStress,
};

export default async function evaluateCases(cases: readonly StressInput[]): Promise<CaseOutcome[]> {
  const outcomes: CaseOutcome[] = [];
  for (const [stressCase, episodeSeed] of cases) {
    const tally = emptyTally();
    const evaluation = await evaluateCase(options, stressCase, episodeSeed, tally);
    outcomes.push({ pass: evaluation.violation === null, tally });
  }
  return outcomes;
}
