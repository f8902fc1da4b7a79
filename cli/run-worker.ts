/**
 * A worker thread of `tooltime run --workers N` (see run-pool.ts). It takes its suite once, from
 * the packed bytes and hash it is started with (episode-jobs.ts unpackSuite), and its agents from
 * the command line's specs (a policy module named there is loaded here as on the main thread; a
 * task names agents, never a module to load). Each task is a batch of consecutive episodes: it runs them
 * through the job seam, writes each replay itself (whole, before answering: the main thread logs
 * an episode's line only once its replay is on disk) and answers with the lines and byte counts.
 */
import { workerData } from 'node:worker_threads';
import { agentMaker } from '../agents/index.js';
import { batchRunner, episodeJobRunner, unpackSuite, type EpisodeJob } from './episode-jobs.js';
import type { RunBatchResult, RunWorkerData } from './run-pool.js';

// tinypool hands a worker [its own data, the pool's workerData].
const setup = (workerData as [unknown, RunWorkerData])[1];
const run = batchRunner(
  episodeJobRunner({
    instances: unpackSuite(setup.suite),
    mode: setup.mode,
    delivery: setup.delivery,
    makeAgent: await agentMaker(setup.agents),
    record: setup.dir !== null,
  }),
  setup.dir,
);

// The pool posts a worker several batches at once (run-pool.ts): they run one after the other, as
// a job runner runs one job at a time (its recorder's sink is one).
let previous: Promise<unknown> = Promise.resolve();

export default function runBatch(jobs: readonly EpisodeJob[]): Promise<RunBatchResult> {
  const next = previous.then(async () => {
    const done = await run(jobs);
    return { lines: done.map((d) => d.result.line), bytes: done.map((d) => d.bytes) };
  });
  previous = next.catch(() => undefined);
  return next;
}
