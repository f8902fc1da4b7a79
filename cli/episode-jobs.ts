/**
 * The seam every out-of-thread episode goes through: a plain, serializable job (instance id,
 * agent spec, seed) in, the episode's episodes.jsonl line and its replay bytes out. The worker
 * threads of `run --workers N` call it (run-worker.ts), and so can any other runner (a queue's
 * worker): what it runs is `episodeRunner`, the code this thread's episodes run, so a line and a
 * replay are the same bytes wherever they were made.
 *
 * A worker gets the run's suite once, when it starts: the canonical scenarios, copied, and checked
 * there against run.json's suiteDigest (adoptSuite), so it runs the very suite the run names; a
 * job names an instance by id.
 */
import { createHash } from 'node:crypto';
import { unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemorySink, ReplayRecorder } from '../replays/index.js';
import {
  episodeRunner,
  type EpisodeKey,
  type EpisodeRecord,
  type ExperimentInstance,
  type ExperimentOptions,
} from '../scenarios/experiment.js';
import type { Agent, Delivery, Mode } from '../scenarios/protocol.js';
import { canonicalJson } from '../scenarios/spec/canonical.js';
import { adoptCanonicalScenario, canonicalScenario } from '../scenarios/spec/canonical-scenario.js';
import type { Scenario } from '../scenarios/spec/schema.js';
import { REPLAYS_DIR } from './run-dir.js';
import { replayFileName } from './run-output.js';

/** One episode to run: which instance (by id), agent spec and seed. */
export type EpisodeJob = EpisodeKey;

/**
 * A job's outcome: the episode's key as recorded (the agent as the made agent spells it: what names
 * its replay file), its episodes.jsonl line (with the newline; not recording, the record as JSON
 * text, see jobLine) and replay bytes (null: not recorded).
 */
export interface EpisodeJobResult {
  readonly key: EpisodeKey;
  readonly line: string;
  readonly replay: Uint8Array | null;
  /** The record itself (what the line holds, without the replay's path): not sent between threads. */
  readonly record: EpisodeRecord;
}

/**
 * A run's suite as a worker is handed it: the instances in their canonical forms and the digest of
 * their canonical JSON (run.json's suiteDigest).
 */
export interface RunSuite {
  readonly instances: readonly ExperimentInstance[];
  readonly digest: string;
}

/** sha256 over the instances' canonical JSON, one a line: what run.json's suiteDigest holds. */
export function suiteDigest(instances: readonly ExperimentInstance[]): string {
  const hash = createHash('sha256');
  for (const i of instances) hash.update(`${canonicalJson(canonicalScenario(i.scenario))}\n`);
  return `sha256:${hash.digest('hex')}`;
}

/** The suite to hand to workers. */
export function runSuite(instances: readonly ExperimentInstance[]): RunSuite {
  const canonical = instances.map((i) => ({ ...i, scenario: canonicalScenario(i.scenario) }));
  return { instances: canonical, digest: suiteDigest(canonical) };
}

/**
 * A suite copied into this thread, checked against its digest and taken as canonical without
 * validating again (validation and parsing cost a worker ~1 s of CPU on 48 instances; the copy
 * keeps the canonical forms' key order, which parsing the canonical text would not).
 */
export function adoptSuite(suite: RunSuite): ExperimentInstance[] {
  const hash = createHash('sha256');
  for (const i of suite.instances) hash.update(`${canonicalJson(i.scenario)}\n`);
  const digest = `sha256:${hash.digest('hex')}`;
  if (digest !== suite.digest)
    throw new Error(`episode jobs: the suite handed over has ${digest}, not ${suite.digest}`);
  return suite.instances.map((i) => ({ ...i, scenario: adoptCanonicalScenario(i.scenario) }));
}

/** What a job runner runs in: the suite, the world, the agents' maker, and whether it records. */
export interface JobRunnerOptions {
  readonly instances: readonly ExperimentInstance[];
  readonly mode: Mode;
  readonly delivery: Delivery;
  readonly makeAgent: (spec: string) => Agent;
  /** Record each episode's replay (the line then names it, as RunOutput's does). */
  readonly record: boolean;
  /** What a model agent consumed (its record's usage), as the run's own runner computes it. */
  readonly usageOf?: ExperimentOptions['usageOf'];
  /**
   * false: a result's line is empty when not recording (the main thread of a pool needs only the
   * record then; the lines of its ~3,600 episodes of the default run took 0.7 s in a profile).
   */
  readonly lines?: boolean;
}

/** A job runner: one job at a time (in the order given), each (instance, seed)'s reference computed once. */
export function episodeJobRunner(
  options: JobRunnerOptions,
): (job: EpisodeJob) => Promise<EpisodeJobResult> {
  const byId = new Map(options.instances.map((i) => [i.scenario.id, i]));
  let sink: MemorySink | null = null;
  const { mode, delivery } = options;
  // The episode's own world: an instance may carry one (an ablation's levels), else the run's.
  const recorder = (
    key: EpisodeKey,
    scenario: Scenario,
    world: { readonly mode: Mode; readonly delivery: Delivery } = { mode, delivery },
  ) => {
    sink = new MemorySink();
    return ReplayRecorder.open(sink, {
      scenario,
      agent: key.agent,
      seed: key.seed,
      mode: world.mode,
      delivery: world.delivery,
    });
  };
  const run = episodeRunner({
    mode,
    delivery,
    makeAgent: options.makeAgent,
    ...(options.record ? { recorder } : {}),
    ...(options.usageOf === undefined ? {} : { usageOf: options.usageOf }),
  });
  const runJob = async (job: EpisodeJob): Promise<EpisodeJobResult> => {
    const instance = byId.get(job.instance);
    if (instance === undefined) throw new Error(`episode jobs: no instance ${job.instance}`);
    sink = null;
    const record = await run(instance, job.seed, job.agent);
    const replay = (sink as MemorySink | null)?.bytes() ?? null;
    const key = { instance: record.instance, agent: record.agent, seed: record.seed };
    const line = options.record || options.lines !== false ? jobLine(record, options.record) : '';
    return { key, line, replay, record };
  };
  // Jobs given at once run one after another: the replay sink is the runner's (episodes are CPU
  // work on one thread: nothing is lost). A failed job does not stop the next.
  let last: Promise<unknown> = Promise.resolve();
  return (job) => {
    const result = last.then(() => runJob(job));
    last = result.catch(() => undefined);
    return result;
  };
}

/** A batch's episodes, in order: each one's result and the bytes of its replay (0: not recorded). */
export type BatchResult = ReadonlyArray<{
  readonly result: EpisodeJobResult;
  readonly bytes: number;
}>;

/**
 * Runs a batch of jobs one after the other, each replay written into `dir`'s replays whole before
 * the next starts (a line is logged only once its replay is on disk): what a worker thread of
 * `run --workers N` runs, and the main thread too, as one of the N (run-pool.ts).
 */
export function batchRunner(
  run: (job: EpisodeJob) => Promise<EpisodeJobResult>,
  dir: string | null,
): (jobs: readonly EpisodeJob[]) => Promise<BatchResult> {
  return async (jobs) => {
    const out: Array<{ result: EpisodeJobResult; bytes: number }> = [];
    for (const job of jobs) {
      const result = await run(job);
      const bytes =
        result.replay === null || dir === null ? 0 : writeReplay(dir, result.key, result.replay);
      out.push({ result, bytes });
    }
    return out;
  };
}

/** Writes an episode's replay where RunOutput would; a failed write leaves no partial file. */
function writeReplay(dir: string, key: EpisodeKey, replay: Uint8Array): number {
  const path = join(dir, REPLAYS_DIR, replayFileName(key));
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

/**
 * The episodes.jsonl line of a record (RunOutput.complete's: the replay's path in the run
 * directory). A run that records nothing writes no episodes.jsonl: its line only carries the record
 * to the main thread, in JSON.stringify's form (~10x cheaper than canonicalJson's, which cost
 * ~100 us an episode, a fifth of one).
 */
function jobLine(record: EpisodeRecord, recorded: boolean): string {
  if (!recorded) return `${JSON.stringify(record)}\n`;
  const replay = join(REPLAYS_DIR, replayFileName(record));
  return `${canonicalJson({ ...record, replay })}\n`;
}

/** A job's record from its line (without the replay's path). */
export function recordOfLine(line: string): EpisodeRecord {
  const { replay: _replay, ...record } = JSON.parse(line) as EpisodeRecord & { replay?: string };
  return record;
}
