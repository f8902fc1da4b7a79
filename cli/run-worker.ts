/**
 * A worker thread of `tooltime run --workers N` (see run-pool.ts). It takes its suite once, from
 * the copy and digest it is started with (episode-jobs.ts), and its agents from the command
 * line's specs (a policy module named there is loaded here as on the main thread; a task names
 * agents, never a module to load). Each task is a batch of consecutive episodes: it runs them
 * through the job seam, writes each replay itself (whole, before answering: the main thread logs
 * an episode's line only once its replay is on disk) and answers with the lines and byte counts.
 */
import { unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { workerData } from 'node:worker_threads';
import { agentMaker } from '../agents/index.js';
import type { EpisodeKey } from '../scenarios/experiment.js';
import { adoptSuite, episodeJobRunner, type EpisodeJob } from './episode-jobs.js';
import type { RunBatchResult, RunWorkerSetup } from './run-pool.js';
import { REPLAYS_DIR } from './run-dir.js';
import { replayFileName } from './run-output.js';

// tinypool hands a worker [its own data, the pool's workerData].
const setup = (workerData as [unknown, RunWorkerSetup])[1];
const run = episodeJobRunner({
  instances: adoptSuite(setup.suite),
  mode: setup.mode,
  delivery: setup.delivery,
  makeAgent: await agentMaker(setup.agents),
  record: setup.dir !== null,
});

export default async function runBatch(jobs: readonly EpisodeJob[]): Promise<RunBatchResult> {
  const lines: string[] = [];
  const bytes: number[] = [];
  for (const job of jobs) {
    const result = await run(job);
    lines.push(result.line);
    bytes.push(result.replay === null ? 0 : writeReplay(result.key, result.replay));
  }
  return { lines, bytes };
}

/** Writes an episode's replay where RunOutput would; a failed write leaves no partial file. */
function writeReplay(key: EpisodeKey, replay: Uint8Array): number {
  const path = join(setup.dir!, REPLAYS_DIR, replayFileName(key));
  try {
    writeFileSync(path, replay);
  } catch (error) {
    try {
      unlinkSync(path);
    } catch {
      // Never created.
    }
    throw error;
  }
  return replay.length;
}
