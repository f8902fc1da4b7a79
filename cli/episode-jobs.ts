/**
 * The seam every out-of-thread episode goes through: a plain, serializable job (instance id,
 * agent spec, seed) in, the episode's episodes.jsonl line and its replay bytes out. The worker
 * threads of `run --workers N` call it (run-worker.ts), and so can any other runner (a queue's
 * worker): what it runs is `episodeRunner`, the code this thread's episodes run, so a line and a
 * replay are the same bytes wherever they were made.
 *
 * A runner holds the run's suite, handed over as text (one canonical scenario a line, the text
 * run.json's suiteDigest hashes) and checked against that digest, not as objects: cloning the
 * scenarios into a worker cost more than parsing them, and the digest proves the worker runs the
 * very suite the run names.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { MemorySink, ReplayRecorder } from '../replays/index.js';
import {
  episodeRunner,
  type EpisodeKey,
  type EpisodeRecord,
  type ExperimentInstance,
} from '../scenarios/experiment.js';
import type { Agent, Delivery, Mode } from '../scenarios/protocol.js';
import { canonicalJson } from '../scenarios/spec/canonical.js';
import { canonicalScenario, parseCanonicalDocument } from '../scenarios/spec/canonical-scenario.js';
import type { JsonValue, Scenario } from '../scenarios/spec/schema.js';
import { REPLAYS_DIR } from './run-dir.js';
import { replayFileName } from './run-output.js';

/** One episode to run: which instance (by id), agent spec and seed. */
export type EpisodeJob = EpisodeKey;

/**
 * A job's outcome: the episode's key as recorded (the agent as the made agent spells it: what names
 * its replay file), its episodes.jsonl line (with the newline) and replay bytes (null: not recorded).
 */
export interface EpisodeJobResult {
  readonly key: EpisodeKey;
  readonly line: string;
  readonly replay: Uint8Array | null;
}

/** A run's suite as text: its instances' canonical JSON, one a line, their files, and the digest. */
export interface SuiteText {
  readonly text: string;
  /** The instances' ids, in order. */
  readonly ids: readonly string[];
  readonly files: readonly string[];
  readonly digest: string;
}

/** The suite's text and digest (the digest is run.json's suiteDigest: sha256 over the text). */
export function suiteText(instances: readonly ExperimentInstance[]): SuiteText {
  const text = instances.map((i) => `${canonicalJson(canonicalScenario(i.scenario))}\n`).join('');
  const digest = `sha256:${createHash('sha256').update(text).digest('hex')}`;
  const ids = instances.map((i) => i.scenario.id);
  return { text, ids, files: instances.map((i) => i.file), digest };
}

/** The instances back from their text, refused unless the text has the digest it came with. */
export function suiteFromText(suite: SuiteText): ExperimentInstance[] {
  const digest = `sha256:${createHash('sha256').update(suite.text).digest('hex')}`;
  if (digest !== suite.digest)
    throw new Error(`episode jobs: the suite's text has ${digest}, not ${suite.digest}`);
  const lines = suite.text.split('\n').slice(0, -1);
  if (lines.length !== suite.files.length)
    throw new Error(`episode jobs: ${lines.length} scenarios for ${suite.files.length} files`);
  // Parsed as a replay header's scenario is: canonical JSON is its own canonical form.
  return lines.map((line, i) => {
    const file = suite.files[i]!;
    const scenario: Scenario = parseCanonicalDocument(JSON.parse(line) as JsonValue, file);
    return { file, scenario };
  });
}

/** What a job runner runs in: the suite, the world, the agents' maker, and whether it records. */
export interface JobRunnerOptions {
  readonly instances: readonly ExperimentInstance[];
  readonly mode: Mode;
  readonly delivery: Delivery;
  readonly makeAgent: (spec: string) => Agent;
  /** Record each episode's replay (the line then names it, as RunOutput's does). */
  readonly record: boolean;
}

/** A job runner: one job at a time, each (instance, seed)'s reference computed once. */
export function episodeJobRunner(
  options: JobRunnerOptions,
): (job: EpisodeJob) => Promise<EpisodeJobResult> {
  const byId = new Map(options.instances.map((i) => [i.scenario.id, i]));
  let sink: MemorySink | null = null;
  const { mode, delivery } = options;
  const recorder = (key: EpisodeKey, scenario: Scenario) => {
    sink = new MemorySink();
    return ReplayRecorder.open(sink, {
      scenario,
      agent: key.agent,
      seed: key.seed,
      mode,
      delivery,
    });
  };
  const run = episodeRunner({
    mode,
    delivery,
    makeAgent: options.makeAgent,
    ...(options.record ? { recorder } : {}),
  });
  return async (job) => {
    const instance = byId.get(job.instance);
    if (instance === undefined) throw new Error(`episode jobs: no instance ${job.instance}`);
    sink = null;
    const record = await run(instance, job.seed, job.agent);
    const replay = (sink as MemorySink | null)?.bytes() ?? null;
    const key = { instance: record.instance, agent: record.agent, seed: record.seed };
    return { key, line: jobLine(record, options.record), replay };
  };
}

/** The episodes.jsonl line of a record (RunOutput.complete's: the replay's path in the run directory). */
function jobLine(record: EpisodeRecord, recorded: boolean): string {
  if (!recorded) return `${canonicalJson(record)}\n`;
  const replay = join(REPLAYS_DIR, replayFileName(record));
  return `${canonicalJson({ ...record, replay })}\n`;
}

/** A job's record from its line (without the replay's path). */
export function recordOfLine(line: string): EpisodeRecord {
  const { replay: _replay, ...record } = JSON.parse(line) as EpisodeRecord & { replay?: string };
  return record;
}
