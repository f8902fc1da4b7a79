/**
 * Replay benchmarks: compactness (record bytes per event, header size apart), the cost of recording
 * (the same episodes with and without a streaming recorder writing a file), and verify throughput
 * (re-run + byte comparison), with decode and encode measured alone to show where the time goes.
 *
 * The workload: the example scenarios, plus an even sample of the shipped AsyncTool suite when it
 * exists, run by greedy-async on seeds 1..rounds in the default world (async, push). The run
 * pipeline's overhead is measured on `tooltime run --out DIR` as it runs on its defaults (the whole
 * suite, seed 1, every baseline agent, with the oracle, the sequential reference and scoring).
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentEntries, createAgent } from '../agents/index.js';
import { defaultInstances } from '../cli/instances.js';
import { replayPaths } from '../cli/replay-files.js';
import { writeResults } from '../cli/commands/run.js';
import { prepareRunDir } from '../cli/run-dir.js';
import { RunOutput } from '../cli/run-output.js';
import {
  encodeReplay,
  MemorySink,
  readReplay,
  readReplayHeader,
  recordEpisode,
  ReplayRecorder,
  replayScenario,
  verifyReplay,
  verifyReplayFiles,
  VerifyPool,
} from '../replays/index.js';
import {
  runExperiment,
  type EpisodeKey,
  type EpisodeRecord,
  type EpisodeRecorder,
  type ExperimentResult,
} from '../scenarios/experiment.js';
import { examplesDir, loadScenarios } from '../scenarios/spec/load.js';
import { sampleSuite, shippedSuiteDir } from '../scenarios/suite/index.js';
import { scenarioSchema, type Scenario } from '../scenarios/spec/schema.js';
import { runEpisode } from '../scenarios/world/world.js';

const AGENT = 'greedy-async';

interface Workload {
  readonly name: string;
  readonly scenarios: readonly Scenario[];
}

/** The example scenarios and (when shipped) `sample` instances of the AsyncTool suite, canonical. */
export function replayWorkloads(sample: number): Workload[] {
  const out: Workload[] = [
    {
      name: 'examples',
      scenarios: loadScenarios([examplesDir()]).map((x) => replayScenario(x.scenario)),
    },
  ];
  const suite = shippedSuiteDir();
  if (existsSync(suite)) {
    const loaded = sampleSuite(suite, sample);
    out.push({
      name: `asynctool suite (${loaded.length} sampled)`,
      scenarios: loaded.map((x) => replayScenario(x.scenario)),
    });
  }
  return out;
}

/**
 * The order episodes come in. `runs`: each scenario's seeds together, as `tooltime run` runs them
 * (instance, then seed, then agent) and `tooltime replay verify DIR` reads the files it wrote (name
 * order: instance, agent, seed). `interleaved`: every scenario once per seed, so that consecutive
 * episodes never share a scenario: each episode then finds its scenario's data (compiled plan,
 * tools, kept seeds, cached header) out of the CPU caches, which costs a third or more of its time
 * on this machine; the benchmark shows both.
 */
export type EpisodeOrder = 'runs' | 'interleaved';

/** The (scenario, seed) pairs of `scenarios` on seeds 1..rounds, in `order`. */
export function episodesInOrder(
  scenarios: readonly Scenario[],
  rounds: number,
  order: EpisodeOrder,
): Array<readonly [Scenario, number]> {
  const out: Array<readonly [Scenario, number]> = [];
  if (order === 'runs')
    for (const scenario of scenarios)
      for (let seed = 1; seed <= rounds; seed++) out.push([scenario, seed]);
  else
    for (let seed = 1; seed <= rounds; seed++)
      for (const scenario of scenarios) out.push([scenario, seed]);
  return out;
}

const now = (): number => Number(process.hrtime.bigint()) / 1e9;

/**
 * Runs each variant until `warmupSeconds` of it have passed (the JIT settles: the figures are of a
 * long run, as a folder of replays or a suite run is), then `passes` timed passes interleaved across
 * variants, so machine noise hits every variant alike. A variant returns the seconds of its timed
 * part (setting up and cleaning up around it are not counted).
 */
async function interleaved<K extends string>(
  variants: Readonly<Record<K, () => Promise<number>>>,
  warmupSeconds: number,
  passes: number,
): Promise<Record<K, number[]>> {
  const names = Object.keys(variants) as K[];
  for (const name of names) {
    const start = now();
    do await variants[name]();
    while (now() - start < warmupSeconds);
  }
  const seconds = Object.fromEntries(names.map((n) => [n, [] as number[]])) as unknown as Record<
    K,
    number[]
  >;
  for (let p = 0; p < passes; p++)
    for (const name of names) seconds[name].push(await variants[name]());
  return seconds;
}

/** `work` timed, in seconds. */
async function timed(work: () => Promise<void>): Promise<number> {
  const start = now();
  await work();
  return now() - start;
}

/** A folder in memory (tmpfs), where creating a file costs microseconds; null where there is none. */
function memoryFolder(): string | null {
  try {
    return mkdtempSync(join('/dev/shm', 'tooltime-bench-'));
  } catch {
    return null;
  }
}

/**
 * Where replay files go in a variant: `disk` is the system's temporary folder; `tmpfs` a folder in
 * memory, to tell the recorder's own cost from the filesystem's.
 */
export type FileTarget = 'disk' | 'tmpfs';

function fileFolders(): {
  readonly folders: Partial<Record<FileTarget, string>>;
  readonly cleanup: () => void;
} {
  const disk = mkdtempSync(join(tmpdir(), 'tooltime-bench-'));
  const tmpfs = memoryFolder();
  return {
    folders: tmpfs === null ? { disk } : { disk, tmpfs },
    cleanup: () => {
      for (const dir of [disk, tmpfs])
        if (dir !== null) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface BytesFigures {
  readonly sets: ReadonlyArray<{
    readonly name: string;
    readonly episodes: number;
    readonly events: number;
    readonly recordBytes: number;
    readonly headerBytes: number;
    readonly maxBytesPerEvent: number;
  }>;
}

/** Record bytes per event (frames included, header and trailer excluded) and header bytes. */
export async function replayBytes(rounds: number, sample: number): Promise<BytesFigures> {
  const sets = [];
  for (const w of replayWorkloads(sample)) {
    let episodes = 0;
    let events = 0;
    let recordBytes = 0;
    let headerBytes = 0;
    let maxBytesPerEvent = 0;
    for (let seed = 1; seed <= rounds; seed++) {
      for (const scenario of w.scenarios) {
        const { bytes } = await recordEpisode({ scenario, agent: createAgent(AGENT), seed });
        const read = readReplay(bytes!);
        episodes++;
        events += read.events.length;
        recordBytes += read.sizes.records;
        headerBytes += read.sizes.header;
        maxBytesPerEvent = Math.max(maxBytesPerEvent, read.sizes.records / read.events.length);
      }
    }
    sets.push({ name: w.name, episodes, events, recordBytes, headerBytes, maxBytesPerEvent });
  }
  return { sets };
}

/** No recording; recording to memory; streaming one new file per episode, on disk or in tmpfs. */
export type RecordVariant = 'plain' | 'memory' | 'file-tmpfs' | 'file-disk';

export interface RecordFigures {
  readonly episodes: number;
  readonly events: number;
  /** Seconds of each timed pass, per variant (absent: no tmpfs here). */
  readonly seconds: Readonly<Partial<Record<RecordVariant, readonly number[]>>>;
}

/**
 * The workload run plainly, recorded in memory, and recorded streaming to one new file per episode
 * (in tmpfs and on disk), in interleaved passes in one process after a warm-up.
 */
export async function recordOverhead(
  passes: number,
  rounds: number,
  sample: number,
  warmupSeconds: number,
): Promise<RecordFigures> {
  const episodeList = episodesInOrder(
    replayWorkloads(sample).flatMap((w) => w.scenarios),
    rounds,
    'runs',
  );
  const { folders, cleanup } = fileFolders();
  let episodes = 0;
  let events = 0;
  try {
    const pass = (target: 'plain' | 'memory' | string) => async (): Promise<number> => {
      // Each pass writes into a new empty folder (files created, not truncated), the last one removed untimed.
      const dir = target === 'plain' || target === 'memory' ? null : join(target, 'pass');
      if (dir !== null) {
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir);
      }
      return timed(async () => {
        episodes = 0;
        events = 0;
        for (const [scenario, seed] of episodeList) {
          if (dir === null && target === 'plain') {
            events += (await runEpisode(scenario, createAgent(AGENT), { seed })).events.length;
          } else {
            const recorder = ReplayRecorder.open(
              dir === null ? new MemorySink() : join(dir, `${episodes}.ttr`),
              { scenario, agent: AGENT, seed },
            );
            events += (
              await runEpisode(scenario, createAgent(AGENT), { seed, onEvent: recorder.onEvent })
            ).events.length;
            recorder.finish();
          }
          episodes++;
        }
      });
    };
    const variants: Partial<Record<RecordVariant, () => Promise<number>>> = {
      plain: pass('plain'),
      memory: pass('memory'),
    };
    if (folders.tmpfs !== undefined) variants['file-tmpfs'] = pass(folders.tmpfs);
    variants['file-disk'] = pass(folders.disk!);
    const seconds = await interleaved(
      variants as Record<RecordVariant, () => Promise<number>>,
      warmupSeconds,
      passes,
    );
    return { episodes, events, seconds };
  } finally {
    cleanup();
  }
}

/** Seconds of each timed pass, per variant: verify (read, re-run, compare), a plain run, readReplay, encodeReplay. */
export type VerifyVariant = 'verify' | 'plain' | 'decode' | 'encode';

/**
 * Which pair a job measures: verify against a plain run, or decoding against encoding. Apart, as
 * a process verifying replays never encodes decoded events: doing both in one process made the
 * encoder's code see two kinds of event objects and slowed verify by about a quarter.
 */
export type VerifyPart = 'verify' | 'codec';

export interface VerifyFigures {
  readonly episodes: number;
  readonly events: number;
  /** Record bytes (the codec part; 0 in the verify part). */
  readonly recordBytes: number;
  readonly seconds: Readonly<Partial<Record<VerifyVariant, readonly number[]>>>;
  /** Of verify's time (summed over one pass): reading the header, and re-running into the comparison. */
  readonly readShare: number;
  readonly rerunShare: number;
}

/**
 * Throughput in memory over `replays` (recorded beforehand), interleaved passes after a warm-up:
 * `verifyReplay` of each against the same episodes run plainly (no recorder: the floor of any
 * re-run), or `readReplay` against `encodeReplay`.
 */
async function verifyPasses(
  replays: readonly Uint8Array[],
  warmupSeconds: number,
  passes: number,
  part: VerifyPart,
): Promise<VerifyFigures> {
  if (part === 'codec') {
    const reads = replays.map((b) => readReplay(b));
    const seconds = await interleaved<'decode' | 'encode'>(
      {
        decode: () =>
          timed(async () => {
            for (const b of replays) readReplay(b);
          }),
        encode: () =>
          timed(async () => {
            for (const r of reads) encodeReplay(r.header, r.events, r.scenario);
          }),
      },
      warmupSeconds,
      passes,
    );
    const events = reads.reduce((n, r) => n + r.events.length, 0);
    return {
      episodes: replays.length,
      events,
      recordBytes: reads.reduce((n, r) => n + r.sizes.records, 0),
      seconds,
      readShare: 0,
      rerunShare: 0,
    };
  }
  const heads = replays.map((b) => readReplayHeader(b));
  let events = 0;
  let readMs = 0;
  let rerunMs = 0;
  let totalMs = 0;
  const clock = () => performance.now();
  const seconds = await interleaved<'verify' | 'plain'>(
    {
      verify: () =>
        timed(async () => {
          events = 0;
          readMs = rerunMs = totalMs = 0;
          for (const bytes of replays) {
            const start = clock();
            const r = await verifyReplay(bytes, { clock });
            if (!r.ok) throw new Error(`verify failed in the benchmark: ${r.reason}`);
            totalMs += clock() - start;
            readMs += r.timing.readMs;
            rerunMs += r.timing.rerunMs;
            events += r.records;
          }
        }),
      plain: () =>
        timed(async () => {
          for (const h of heads)
            await runEpisode(h.scenario, createAgent(h.header.agent.spec), { seed: h.header.seed });
        }),
    },
    warmupSeconds,
    passes,
  );
  return {
    episodes: replays.length,
    events,
    recordBytes: 0,
    seconds,
    readShare: readMs / totalMs,
    rerunShare: rerunMs / totalMs,
  };
}

/** Throughput on the short episodes of the workload, taken in `order` (see `verifyPasses`). */
export async function verifyThroughput(
  rounds: number,
  sample: number,
  warmupSeconds: number,
  passes: number,
  part: VerifyPart,
  order: EpisodeOrder,
): Promise<VerifyFigures> {
  const replays: Uint8Array[] = [];
  for (const [scenario, seed] of episodesInOrder(
    replayWorkloads(sample).flatMap((w) => w.scenarios),
    rounds,
    order,
  )) {
    replays.push((await recordEpisode({ scenario, agent: createAgent(AGENT), seed })).bytes!);
  }
  return verifyPasses(replays, warmupSeconds, passes, part);
}

/**
 * One long episode: `tasks` requests arriving 50 ms apart, each a diamond of 6 steps over 4 echo
 * tools (uniform 20-400 ms latency, one tool limited to 2 calls at once), so per-file costs
 * (header, caches) vanish and the per-event costs show.
 */
export function longScenario(tasks: number): Scenario {
  const tool = (i: number) => ({
    name: `tool${i}`,
    description: `echo ${i}`,
    parameters: { type: 'object' },
    latency: { kind: 'uniform', minMs: 20, maxMs: 400 },
    impl: { kind: 'builtin', name: 'echo' },
    ...(i === 0 ? { concurrency: 2 } : {}),
  });
  const steps = (t: number) => [
    { id: 'a', tool: 'tool0', args: { t, s: 'a' } },
    { id: 'b', tool: 'tool1', args: { t, s: 'b' }, after: ['a'] },
    { id: 'c', tool: 'tool2', args: { t, s: 'c' }, after: ['a'] },
    { id: 'd', tool: 'tool3', args: { t, s: 'd' }, after: ['a'] },
    { id: 'e', tool: 'tool1', args: { t, s: 'e' }, after: ['b', 'c'] },
    { id: 'f', tool: 'tool2', args: { t, s: 'f' }, after: ['d', 'e'] },
  ];
  return scenarioSchema.parse({
    format: 'tooltime.scenario/1',
    id: `long-${tasks}`,
    thinkTime: { kind: 'constant', ms: 5 },
    tools: [0, 1, 2, 3].map(tool),
    tasks: Array.from({ length: tasks }, (_, t) => ({
      id: `t${t}`,
      arrivalMs: t * 50,
      message: `request ${t}`,
      steps: steps(t),
      answer: { mustContain: [`done ${t}`] },
    })),
    limits: { maxTimeMs: 100_000_000, maxDecisions: 1_000_000, maxCalls: 1_000_000 },
  });
}

/** Throughput on one long episode (see `verifyPasses`). */
export async function longEpisode(
  tasks: number,
  warmupSeconds: number,
  passes: number,
  part: VerifyPart,
): Promise<VerifyFigures> {
  const scenario = replayScenario(longScenario(tasks));
  const { bytes } = await recordEpisode({ scenario, agent: createAgent(AGENT), seed: 1 });
  return verifyPasses([bytes!], warmupSeconds, passes, part);
}

/** What the filesystem costs here: creating (and closing) a new file on disk and in tmpfs, and one small write. */
export function filesystemCosts(files: number): {
  readonly createUs: number;
  readonly tmpfsCreateUs: number | null;
  readonly writeUs: number;
} {
  const { folders, cleanup } = fileFolders();
  try {
    const create = (dir: string): number => {
      const start = now();
      for (let i = 0; i < files; i++) closeSync(openSync(join(dir, `${i}.ttr`), 'w'));
      return ((now() - start) / files) * 1e6;
    };
    const createUs = create(folders.disk!);
    const tmpfsCreateUs = folders.tmpfs === undefined ? null : create(folders.tmpfs);
    const fd = openSync(join(folders.disk!, 'w.ttr'), 'w');
    const chunk = new Uint8Array(10);
    const writes = 50_000;
    const start = now();
    for (let i = 0; i < writes; i++) writeSync(fd, chunk);
    const writeUs = ((now() - start) / writes) * 1e6;
    closeSync(fd);
    return { createUs, tmpfsCreateUs, writeUs };
  } finally {
    cleanup();
  }
}

/**
 * `tooltime run --sample N --seeds 1..R` as `--out` runs it (every baseline agent, async/push),
 * with `recorder` giving each episode's recorder (null records nothing) and `onComplete` told of
 * each finished episode.
 */
function runBaselines(
  instances: ReturnType<typeof defaultInstances>,
  rounds: number,
  recorder: ((key: EpisodeKey, scenario: Scenario) => EpisodeRecorder) | null,
  onComplete?: (record: EpisodeRecord) => void,
): Promise<ExperimentResult> {
  return runExperiment({
    instances,
    agents: agentEntries()
      .filter((e) => e.kind === 'baseline')
      .map((e) => e.name),
    seeds: Array.from({ length: rounds }, (_, i) => i + 1),
    mode: 'async',
    delivery: 'push',
    makeAgent: (spec) => createAgent(spec),
    ...(recorder === null ? {} : { recorder }),
    ...(onComplete === undefined ? {} : { onComplete }),
  });
}

/**
 * `tooltime run --out DIR`'s output (DIR/replays/*.ttr, episodes.jsonl as
 * episodes finish); `finish(result)` once the run is done.
 */
function outOutput(dir: string): RunOutput {
  prepareRunDir(dir, { force: false, replays: true });
  return new RunOutput({ dir, mode: 'async', delivery: 'push' });
}

export interface PipelineFigures {
  readonly episodes: number;
  /** Seconds of each timed pass, per variant (absent: no tmpfs here). */
  readonly seconds: Readonly<Partial<Record<RecordVariant, readonly number[]>>>;
}

/**
 * What recording costs a user: `tooltime run --out DIR` (every baseline, seeds 1..rounds, the
 * default suite or an even sample of `sample` instances: oracle, sequential reference, episodes,
 * scoring, results written), without a recorder, recording each episode to memory, and recording
 * one new file per episode under DIR/replays as `--out` does, its writer thread started and
 * stopped within the pass (DIR in tmpfs and on disk). Interleaved passes in one process after a
 * warm-up.
 */
export async function pipelineOverhead(
  passes: number,
  rounds: number,
  sample: number | null,
  warmupSeconds: number,
): Promise<PipelineFigures> {
  const instances = defaultInstances(sample);
  const { folders, cleanup } = fileFolders();
  let episodes = 0;
  try {
    const pass = (variant: RecordVariant) => async (): Promise<number> => {
      const base = variant === 'file-tmpfs' ? folders.tmpfs! : folders.disk!;
      // Each pass writes into a new folder, as a fresh --out does (the variant's last one is removed untimed).
      const out = join(base, variant);
      rmSync(out, { recursive: true, force: true });
      return timed(async () => {
        // As runCommand: the output (and its writer thread) made for the run, finished once every file is written.
        const output = variant === 'plain' || variant === 'memory' ? null : outOutput(out);
        const memory = (key: EpisodeKey, scenario: Scenario) =>
          ReplayRecorder.open(new MemorySink(), {
            scenario,
            agent: key.agent,
            seed: key.seed,
            mode: 'async',
            delivery: 'push',
          });
        const result = await runBaselines(
          instances,
          rounds,
          variant === 'plain' ? null : variant === 'memory' ? memory : output!.recorder,
          output?.complete,
        );
        if (output === null) writeResults(out, result);
        else await output.finish(result);
        episodes = result.episodes.length;
      });
    };
    const variants: Partial<Record<RecordVariant, () => Promise<number>>> = {
      plain: pass('plain'),
      memory: pass('memory'),
    };
    if (folders.tmpfs !== undefined) variants['file-tmpfs'] = pass('file-tmpfs');
    variants['file-disk'] = pass('file-disk');
    const seconds = await interleaved(
      variants as Record<RecordVariant, () => Promise<number>>,
      warmupSeconds,
      passes,
    );
    return { episodes, seconds };
  } finally {
    cleanup();
  }
}

export interface VerifyFilesFigures {
  readonly files: number;
  readonly events: number;
  readonly workers: number;
  /** Seconds of each timed pass over every file: on the main thread, and on a pool of started workers. */
  readonly hereSeconds: readonly number[];
  readonly poolSeconds: readonly number[];
  /** One `verifyReplayFiles` call as `tooltime replay verify` makes it: workers started and stopped. */
  readonly coldSeconds: number;
}

/**
 * `tooltime replay verify DIR/replays/*.ttr` after `tooltime run --sample N --seeds 1..R --out DIR`
 * (every baseline agent, one file per episode, in name order), verified once end to end with the workers started for the call (cold), and on this
 * thread and on `workers` started worker threads (interleaved passes after a warm-up).
 */
export async function verifyFilesThroughput(
  rounds: number,
  sample: number,
  passes: number,
  workers: number,
  warmupSeconds: number,
): Promise<VerifyFilesFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'tooltime-bench-verify-'));
  try {
    // The replays `tooltime run --sample N --seeds 1..R --out DIR` writes: every baseline agent.
    const output = outOutput(dir);
    await output.finish(
      await runBaselines(defaultInstances(sample), rounds, output.recorder, output.complete),
    );
    const paths = replayPaths([join(dir, 'replays')]);
    const count = (verdicts: Awaited<ReturnType<typeof verifyReplayFiles>>): number => {
      let events = 0;
      for (const v of verdicts) {
        if (!v.ok)
          throw new Error(`verify failed in the benchmark: ${'error' in v ? v.error : v.reason}`);
        events += v.records;
      }
      return events;
    };
    const start = now();
    const events = count(await verifyReplayFiles(paths, { workers }));
    const coldSeconds = now() - start;
    const pool = new VerifyPool(workers);
    let seconds: Record<'here' | 'pool', number[]>;
    try {
      seconds = await interleaved(
        {
          here: () => timed(async () => void count(await verifyReplayFiles(paths, { workers: 0 }))),
          pool: () => timed(async () => void count(await pool.verify(paths))),
        },
        warmupSeconds,
        passes,
      );
    } finally {
      await pool.close();
    }
    const hereSeconds = seconds.here;
    const poolSeconds = seconds.pool;
    return { files: paths.length, events, workers, hereSeconds, poolSeconds, coldSeconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
