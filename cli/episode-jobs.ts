/**
 * The seam every out-of-thread episode goes through: a plain, serializable job (instance id,
 * agent spec, seed) in, the episode's episodes.jsonl line and its replay bytes out. The worker
 * threads of `run --workers N` call it (run-worker.ts), and so can any other runner (a queue's
 * worker): what it runs is `episodeRunner`, the code this thread's episodes run, so a line and a
 * replay are the same bytes wherever they were made.
 *
 * A worker gets the run's suite once, when it starts: the canonical scenarios packed by the main
 * thread (packSuite: one structured-clone record an instance, and the sha256 of the bytes), checked
 * there against that hash and unpacked an instance at a time, when a job first names it
 * (unpackSuite); a job names an instance by id.
 */
import { createHash } from 'node:crypto';
import { deserialize, serialize } from 'node:v8';
import { unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertInvariant } from '../engine/assert.js';
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
 * A run's suite as the main thread hands it to a worker (packSuite): each canonical instance as
 * structured-clone bytes (v8.serialize), one after the other, and the sha256 of those bytes.
 *
 * Why not the instances themselves, checked by their digest as before: the worker then made the
 * canonical JSON of every scenario again to hash it (~0.23 s of CPU a worker on the 720 scenarios
 * of the default suite, beside ~0.2-0.3 s cloning them all), the main thread having made it
 * already. Now the main thread's bytes are hashed once where they are made and once where they
 * are read (~20 ms for 8 MB), and a worker decodes only the instances its jobs name.
 */
export interface PackedSuite {
  readonly bytes: Uint8Array;
  /** Instance k's bytes are bytes[ends[k - 1] ?? 0, ends[k]); ids[k] is its scenario's id. */
  readonly ends: readonly number[];
  readonly ids: readonly string[];
  /** `sha256:` and the hex digest of `bytes`. */
  readonly hash: string;
  /** The instances' suiteDigest (run.json's), for messages. */
  readonly digest: string;
}

const sha256 = (bytes: Uint8Array): string =>
  `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** A suite packed for workers (see PackedSuite). */
export function packSuite(suite: RunSuite): PackedSuite {
  const parts = suite.instances.map((i) => serialize(i));
  const ends: number[] = [];
  let at = 0;
  for (const part of parts) ends.push((at += part.length));
  const bytes = new Uint8Array(Buffer.concat(parts, at));
  const ids = suite.instances.map((i) => i.scenario.id);
  return { bytes, ends, ids, hash: sha256(bytes), digest: suite.digest };
}

/**
 * A packed suite taken into this thread: its bytes checked against their hash at once, each
 * instance decoded when first asked for and taken as canonical (it was made canonical where it
 * was packed; decoding keeps its key order). Undefined for an id the suite does not hold.
 */
export function unpackSuite(packed: PackedSuite): (id: string) => ExperimentInstance | undefined {
  const hash = sha256(packed.bytes);
  if (hash !== packed.hash)
    throw new Error(
      `episode jobs: the suite handed over (${packed.digest}) has bytes of ${hash}, not ${packed.hash}`,
    );
  assertInvariant(
    packed.ends.length === packed.ids.length && packed.ends.at(-1) === packed.bytes.length,
    'episode jobs',
    'a packed suite has one end an instance, the last at its length',
  );
  const index = new Map(packed.ids.map((id, k) => [id, k]));
  const decoded = new Map<string, ExperimentInstance>();
  return (id) => {
    const known = decoded.get(id);
    if (known !== undefined) return known;
    const k = index.get(id);
    if (k === undefined) return undefined;
    const start = k === 0 ? 0 : packed.ends[k - 1]!;
    const instance = deserialize(
      packed.bytes.subarray(start, packed.ends[k]),
    ) as ExperimentInstance;
    const adopted = { ...instance, scenario: adoptCanonicalScenario(instance.scenario) };
    decoded.set(id, adopted);
    return adopted;
  };
}

/** What a job runner runs in: the suite, the world, the agents' maker, and whether it records. */
export interface JobRunnerOptions {
  /** The suite's instances, or a lookup by scenario id (unpackSuite's). */
  readonly instances:
    | readonly ExperimentInstance[]
    | ((id: string) => ExperimentInstance | undefined);
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
  const instanceOf = lookup(options.instances);
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
    const instance = instanceOf(job.instance);
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

/** The instance of each id, as JobRunnerOptions.instances gives them. */
function lookup(
  instances: JobRunnerOptions['instances'],
): (id: string) => ExperimentInstance | undefined {
  if (typeof instances === 'function') return instances;
  const byId = new Map(instances.map((i) => [i.scenario.id, i]));
  return (id) => byId.get(id);
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

/**
 * Writes an episode's replay where RunOutput would; a failed write leaves no partial file (a kill
 * mid-write may: its line is not logged, so a resumed run writes it again).
 */
export function writeReplay(dir: string, key: EpisodeKey, replay: Uint8Array): number {
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
