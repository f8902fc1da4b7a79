/**
 * `tooltime run --workers N`: the episodes of built-in policies and policy modules spread over N
 * worker threads (run-worker.ts), the run directory byte-identical whatever N is.
 *
 * Why it is built this way (measured on the first version, which ran 0.45-0.62x as fast with 2
 * workers as with 1): a task was one (instance, seed) group of ~9 episodes of ~0.3 ms, each
 * answered with structured-cloned records (~3.7 kB of nested score each) and replay bytes that the
 * main thread then posted again to its replay writer, and each worker was sent the scenarios as
 * cloned objects to canonicalize again. The main thread, which also serializes every line
 * (canonicalJson, ~100 us a line), became the bottleneck. Now:
 * - a worker gets the suite once, when it starts, packed by this thread (episode-jobs.ts
 *   packSuite: structured-clone bytes an instance, checked there against their sha256 and decoded
 *   when a batch first names an instance; parsing the canonical text instead meant validating
 *   every scenario again, ~1 s of CPU a worker on 48 instances, as the schema's parse does not
 *   keep the sorted key order);
 * - a task is a batch of consecutive episodes (BATCH_TARGET per thread's share, at most
 *   MAX_BATCH, whole (instance, seed) groups), so messages are few; three batches a worker are
 *   out at once, taken by whichever worker is free (tinypool's queue: work stealing by batch);
 * - a worker writes each replay file itself and answers with the episodes.jsonl lines (strings,
 *   made there) and byte counts; the main thread parses a line back into its record (for the
 *   summary), appends it, and writes the run's order at the end, as it always did;
 * - the main thread runs batches too, as one of the N threads (RunPool), unless a model agent
 *   needs its event loop: measured per thread, the cost of a thread is its isolate (start-up,
 *   and V8 compiling the same hot code again: ~1 CPU-s on its helper threads), not messages.
 *
 * Model agents stay on the main thread: their episodes wait on requests, and `--concurrency`
 * bounds the requests in flight there, against one response cache (a cache shared by threads
 * would need its own locking, and a model episode's CPU is small beside its wait).
 *
 * tinypool rather than piscina: both install on Node 20, but tinypool has no dependencies
 * (piscina 5 brings an optional native module), and a fixed thread count, a task queue and a
 * promise per task are all this needs.
 */
import { availableParallelism } from 'node:os';
import Tinypool from 'tinypool';
import { assertInvariant } from '../engine/assert.js';
import { isModelSpec } from '../agents/index.js';
import type { EpisodeKey, EpisodeRecord, ExperimentOptions } from '../scenarios/experiment.js';
import type { Agent, Delivery, Mode } from '../scenarios/protocol.js';
import {
  batchRunner,
  episodeJobRunner,
  recordOfLine,
  type BatchResult,
  packSuite,
  type EpisodeJob,
  type PackedSuite,
  type RunSuite,
} from './episode-jobs.js';
import { integerFlag } from './errors.js';
import type { ElsewhereEpisode, RunOutput } from './run-output.js';

/** What every worker is started with. */
export interface RunWorkerSetup {
  readonly suite: RunSuite;
  /** The command line's agent specs, model agents left out (they run on the main thread). */
  readonly agents: readonly string[];
  readonly mode: Mode;
  readonly delivery: Delivery;
  /** The run directory its replays go into, or null: no recording. */
  readonly dir: string | null;
}

/** What a worker thread is started with: the setup, its suite packed (packSuite). */
export type RunWorkerData = Omit<RunWorkerSetup, 'suite'> & { readonly suite: PackedSuite };

/** A batch's answer: each episode's line and the bytes of its replay (0: not recorded), in order. */
export interface RunBatchResult {
  readonly lines: readonly string[];
  readonly bytes: readonly number[];
}

/** Threads at most (a bound on a mistyped flag, far above any core count here). */
const MAX_WORKERS = 256;
/**
 * Episodes a thread must have at least for the pool to start: a floor against a pool for a handful
 * of episodes, not a break-even (a worker's start-up, its JIT warm-up included, costs 0.4-0.8 CPU-s,
 * what this thread spends on several hundred episodes).
 */
const MIN_EPISODES_PER_WORKER = 32;
/** Batches per thread over the run (balance against messages), and episodes a batch at most. */
const BATCH_TARGET = 16;
const MAX_BATCH = 256;
/** Batches a worker holds at once: one it runs and two waiting. */
const TASKS_PER_WORKER = 3;

/**
 * `--workers N`: a positive integer, or null when the flag is not given (the run then takes
 * defaultPoolSize: the machine's available parallelism for a run big enough to gain from it).
 */
export function parseWorkers(text: string | undefined): number | null {
  return text === undefined ? null : integerFlag('--workers', text, 1, MAX_WORKERS);
}

/**
 * Pooled episodes a run must have for the default (no `--workers`) to spread it; below, this thread
 * runs them, as `--workers 1` does. Not a floor against a pool for a handful of episodes
 * (MIN_EPISODES_PER_WORKER is that) but the break-even measured on this project's 2-core machine
 * (bench/RESULTS.md, "Workers", 2026-12-06): a worker's start-up (its isolate, the scenarios it
 * decodes, V8 compiling the same hot code again) costs what this thread spends on thousands of
 * episodes; idle, the default run (720 scenarios, 10 agents, one seed: 7,200 episodes) was slower
 * on 2 threads, `--seeds 1..4` (28,800) about even, and longer sweeps faster.
 */
export const DEFAULT_SPREAD_EPISODES = 30_000;

/**
 * The pool size of a run without `--workers`: the machine's available parallelism (`threads`)
 * once it has DEFAULT_SPREAD_EPISODES pooled episodes, else 0 (this thread).
 */
export function defaultPoolSize(episodes: number, threads = availableParallelism()): number {
  if (episodes < DEFAULT_SPREAD_EPISODES) return 0;
  return poolSize(Math.min(threads, MAX_WORKERS), episodes);
}

/** The episodes a pool would run: not a model agent's. */
export const pooled = (agent: string): boolean => !isModelSpec(agent);

/**
 * Threads worth using for `episodes` pooled episodes with `workers` asked (this one included):
 * each gets at least MIN_EPISODES_PER_WORKER; 0 (this thread alone runs them) when that leaves
 * fewer than 2.
 */
export function poolSize(workers: number, episodes: number): number {
  const n = Math.min(workers, Math.floor(episodes / MIN_EPISODES_PER_WORKER));
  return n >= 2 ? n : 0;
}

/**
 * Episodes a batch: BATCH_TARGET batches per thread, rounded up to whole (instance, seed) groups
 * of `group` episodes (consecutive in the run's order), so that a group's reference (oracle bound
 * and sequential run) is computed by one thread only, at most MAX_BATCH rounded the same way.
 */
export function batchSize(threads: number, episodes: number, group: number): number {
  const g = Math.max(1, group);
  const target = Math.min(MAX_BATCH, Math.ceil(episodes / (threads * BATCH_TARGET)));
  return Math.max(1, Math.ceil(target / g)) * g;
}

/**
 * Episodes the next batch when `left` are not sent yet: `most` (batchSize) while many are left,
 * then a share of what is left, whole groups as batchSize, so that the threads run out of work
 * together. A batch posted to a worker is work no other thread can take: with batches of `most`
 * to the end, the last ones (on 2 threads and 38,400 episodes, 260 episodes of ~0.15 s, three
 * waiting on the worker) left this thread idle ~0.4 s while the worker finished them
 * (bench/RESULTS.md, "Workers", the tail). Shrinks from `2 * inFlight * most` episodes left.
 */
export function nextBatch(most: number, left: number, inFlight: number, group: number): number {
  assertInvariant(most >= 1 && inFlight >= 1, 'run pool', 'a batch and a lane have a size');
  const g = Math.max(1, group);
  const share = Math.ceil(left / (2 * inFlight));
  return Math.min(most, Math.max(1, Math.ceil(share / g)) * g);
}

// A worker thread runs plain JavaScript: the compiled module beside this one.
const WORKER_URL = new URL('./run-worker.js', import.meta.url);

/**
 * A started pool of `size` threads. With built-in and module agents only, this thread is one of
 * them, beside `size - 1` worker threads: it runs batches too (through the same job seam as a
 * worker: the same lines and replay bytes), one at a time, taken like a worker's; so N threads run
 * episodes, not N workers and a main thread that parses their lines beside them (measured: a third
 * isolate on 2 cores paid its own start-up and JIT warm-up). A run with a model agent keeps this
 * thread for it (`size` worker threads): a batch run here would hold the event loop for its length,
 * delaying the model's answers, whose measured latency is the think time under `--think wall`.
 * `elsewhere` fits ExperimentOptions.elsewhere; `close()` when done.
 */
export class RunPool {
  private readonly pool: Tinypool;
  private readonly here: ((jobs: readonly EpisodeJob[]) => Promise<BatchResult>) | null;
  private hereBusy = false;
  readonly elsewhere: NonNullable<ExperimentOptions['elsewhere']>;

  constructor(
    readonly size: number,
    episodes: number,
    setup: RunWorkerSetup,
    makeAgent: (spec: string) => Agent,
    private readonly output: RunOutput | null,
    /** This thread runs batches too (no model agent in the run). */
    readonly hereToo: boolean,
  ) {
    assertInvariant(size >= 2, 'run pool', 'a pool has two threads at least');
    const workers = hereToo ? size - 1 : size;
    this.pool = new Tinypool({
      filename: WORKER_URL.href,
      minThreads: workers,
      maxThreads: workers,
      // Posted to the worker at once (it runs them one after the other): tinypool posts a
      // worker's next task only when this thread's event loop takes its answer, which waits while
      // this thread runs a batch of its own; with one task a worker, the worker sat idle then.
      concurrentTasksPerWorker: TASKS_PER_WORKER,
      workerData: { ...setup, suite: packSuite(setup.suite) } satisfies RunWorkerData,
    });
    const { suite, mode, delivery, dir } = setup;
    const run = episodeJobRunner({
      instances: suite.instances,
      mode,
      delivery,
      makeAgent,
      record: dir !== null,
      lines: false,
    });
    this.here = hereToo ? batchRunner(run, dir) : null;
    const group = setup.agents.length;
    const most = batchSize(size, episodes, group);
    // A worker has two batches waiting while it runs one (it must not starve while this thread
    // runs a batch of its own and then the answers that came meanwhile); this thread takes one.
    const inFlight = (hereToo ? 1 : 0) + TASKS_PER_WORKER * workers;
    const batch = (left: number) => nextBatch(most, left, inFlight, group);
    this.elsewhere = { takes: pooled, batch, inFlight, run: this.run };
  }

  private readonly run = async (jobs: readonly EpisodeKey[]): Promise<EpisodeRecord[]> =>
    this.here === null || this.hereBusy ? this.runThere(jobs) : this.runHere(jobs);

  /** A batch on this thread, after the events waiting (workers' answers, their next batches). */
  private async runHere(jobs: readonly EpisodeKey[]): Promise<EpisodeRecord[]> {
    this.hereBusy = true;
    try {
      await new Promise((resolve) => setImmediate(resolve));
      const done = await this.here!(jobs);
      return this.logged(
        done.map(({ result, bytes }) => ({ record: result.record, line: result.line, bytes })),
      );
    } finally {
      this.hereBusy = false;
    }
  }

  private async runThere(jobs: readonly EpisodeKey[]): Promise<EpisodeRecord[]> {
    const result = (await this.pool.run(jobs)) as RunBatchResult;
    return this.logged(
      result.lines.map((line, i) => ({
        record: recordOfLine(line),
        line,
        bytes: result.bytes[i]!,
      })),
    );
  }

  /** A batch's episodes, here or there, into the run directory's log; their records. */
  private logged(done: readonly ElsewhereEpisode[]): EpisodeRecord[] {
    this.output?.ranElsewhere(done);
    return done.map(({ record }) => record);
  }

  /** Worker threads started (this thread not counted). */
  get workerThreads(): number {
    return this.pool.threads.length;
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
