/**
 * Replay benchmarks: compactness (record bytes per event, header size apart), the cost of recording
 * (the same episodes with and without a streaming recorder writing a file), and verify throughput
 * (re-run + byte comparison), with decode and encode measured alone to show where the time goes.
 *
 * The workload: the example scenarios, plus an even sample of the shipped AsyncTool suite when it
 * exists, run by greedy-async on seeds 1..rounds in the default world (async, push). The run
 * pipeline's overhead is measured as `tooltime run --sample N --seeds 1..R --out DIR` runs: every
 * baseline agent, with the oracle, the sequential reference and scoring.
 */
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentEntries, createAgent } from '../agents/index.js';
import { defaultInstances, sampleInstances } from '../cli/instances.js';
import { replayFileName, writeResults } from '../cli/run.js';
import { encodeReplay, MemorySink, readReplay, recordEpisode, ReplayRecorder, replayScenario, verifyReplay, verifyReplayFiles, VerifyPool } from '../replays/index.js';
import { runExperiment } from '../scenarios/experiment.js';
import { examplesDir, loadScenarios } from '../scenarios/load.js';
import { scenariosPath } from '../scenarios/paths.js';
import { scenarioSchema, type Scenario } from '../scenarios/schema.js';
import { runEpisode } from '../scenarios/world.js';

const AGENT = 'greedy-async';

interface Workload {
  readonly name: string;
  readonly scenarios: readonly Scenario[];
}

/** The example scenarios and (when shipped) `sample` instances of the AsyncTool suite, canonical. */
export function replayWorkloads(sample: number): Workload[] {
  const out: Workload[] = [{ name: 'examples', scenarios: loadScenarios([examplesDir()]).map((x) => replayScenario(x.scenario)) }];
  const suite = scenariosPath('suites', 'asynctool');
  if (existsSync(suite)) {
    const loaded = sampleInstances(loadScenarios([suite]), sample);
    out.push({ name: `asynctool suite (${loaded.length} sampled)`, scenarios: loaded.map((x) => replayScenario(x.scenario)) });
  }
  return out;
}

const now = (): number => Number(process.hrtime.bigint()) / 1e9;

export interface BytesFigures {
  readonly sets: ReadonlyArray<{ readonly name: string; readonly episodes: number; readonly events: number; readonly recordBytes: number; readonly headerBytes: number; readonly maxBytesPerEvent: number }>;
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

export type RecordVariant = 'plain' | 'memory' | 'file';

export interface RecordFigures {
  readonly episodes: number;
  readonly events: number;
  /** Seconds of each timed pass, per variant (passes interleaved: plain, memory, file, plain, ...). */
  readonly seconds: Readonly<Record<RecordVariant, readonly number[]>>;
}

/**
 * The workload run plainly, recorded in memory, and recorded streaming to one new file per episode,
 * in interleaved passes in one process (so machine noise hits every variant alike).
 */
export async function recordOverhead(passes: number, rounds: number, sample: number): Promise<RecordFigures> {
  const scenarios = replayWorkloads(sample).flatMap((w) => w.scenarios);
  const dir = mkdtempSync(join(tmpdir(), 'tooltime-bench-'));
  let files = 0;
  try {
    const pass = async (variant: RecordVariant): Promise<{ episodes: number; events: number }> => {
      let episodes = 0;
      let events = 0;
      for (let seed = 1; seed <= rounds; seed++) {
        for (const scenario of scenarios) {
          if (variant === 'plain') {
            events += (await runEpisode(scenario, createAgent(AGENT), { seed })).events.length;
          } else {
            const recorder = ReplayRecorder.open(variant === 'file' ? join(dir, `${files++}.ttr`) : new MemorySink(), { scenario, agent: AGENT, seed });
            events += (await runEpisode(scenario, createAgent(AGENT), { seed, onEvent: recorder.onEvent })).events.length;
            recorder.finish();
          }
          episodes++;
        }
      }
      return { episodes, events };
    };
    const variants: RecordVariant[] = ['plain', 'memory', 'file'];
    for (const v of variants) await pass(v); // warm the JIT
    const seconds: Record<RecordVariant, number[]> = { plain: [], memory: [], file: [] };
    let counted = { episodes: 0, events: 0 };
    for (let p = 0; p < passes; p++) {
      for (const v of variants) {
        const start = now();
        counted = await pass(v);
        seconds[v].push(now() - start);
      }
    }
    return { ...counted, seconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface VerifyFigures {
  readonly episodes: number;
  readonly events: number;
  /** verifyReplay end to end (read + re-run + compare). */
  readonly verifySeconds: number;
  readonly readSeconds: number;
  readonly rerunSeconds: number;
  readonly compareSeconds: number;
  /** readReplay alone (frames, checksums, SHA-256, decode), and encodeReplay alone. */
  readonly decodeSeconds: number;
  readonly encodeSeconds: number;
  /** The same episodes run plainly (no recorder): the floor of any re-run. */
  readonly plainRunSeconds: number;
}

export async function verifyThroughput(rounds: number, sample: number): Promise<VerifyFigures> {
  const scenarios = replayWorkloads(sample).flatMap((w) => w.scenarios);
  const replays: Uint8Array[] = [];
  for (let seed = 1; seed <= rounds; seed++) for (const scenario of scenarios) replays.push((await recordEpisode({ scenario, agent: createAgent(AGENT), seed })).bytes!);
  // Warm-up: one verify of each.
  for (const bytes of replays) await verifyReplay(bytes, { clock: () => performance.now() });
  let events = 0;
  let readSeconds = 0;
  let rerunSeconds = 0;
  let compareSeconds = 0;
  let start = now();
  for (const bytes of replays) {
    const r = await verifyReplay(bytes, { clock: () => performance.now() });
    if (!r.ok) throw new Error(`verify failed in the benchmark: ${r.reason}`);
    events += r.records;
    readSeconds += r.timing.readMs / 1000;
    rerunSeconds += r.timing.rerunMs / 1000;
    compareSeconds += r.timing.compareMs / 1000;
  }
  const verifySeconds = now() - start;
  const reads = replays.map((b) => readReplay(b));
  start = now();
  for (let k = 0; k < 5; k++) for (const b of replays) readReplay(b);
  const decodeSeconds = (now() - start) / 5;
  start = now();
  for (let k = 0; k < 5; k++) for (const r of reads) encodeReplay(r.header, r.events, r.scenario);
  const encodeSeconds = (now() - start) / 5;
  start = now();
  for (const r of reads) await runEpisode(r.scenario, createAgent(r.header.agent.spec), { seed: r.header.seed });
  const plainRunSeconds = now() - start;
  return { episodes: replays.length, events, verifySeconds, readSeconds, rerunSeconds, compareSeconds, decodeSeconds, encodeSeconds, plainRunSeconds };
}

/**
 * One long episode: `tasks` requests arriving 50 ms apart, each a diamond of 6 steps over 4 echo
 * tools (uniform 20-400 ms latency, one tool limited to 2 calls at once), so per-file costs
 * (header, caches) vanish and the per-event costs show.
 */
export function longScenario(tasks: number): Scenario {
  const tool = (i: number) => ({ name: `tool${i}`, description: `echo ${i}`, parameters: { type: 'object' }, latency: { kind: 'uniform', minMs: 20, maxMs: 400 }, impl: { kind: 'builtin', name: 'echo' }, ...(i === 0 ? { concurrency: 2 } : {}) });
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
    tasks: Array.from({ length: tasks }, (_, t) => ({ id: `t${t}`, arrivalMs: t * 50, message: `request ${t}`, steps: steps(t), answer: { mustContain: [`done ${t}`] } })),
    limits: { maxTimeMs: 100_000_000, maxDecisions: 1_000_000, maxCalls: 1_000_000 },
  });
}

export interface LongFigures {
  readonly events: number;
  readonly recordBytes: number;
  readonly verifySeconds: number;
  readonly rerunSeconds: number;
  readonly plainRunSeconds: number;
  readonly decodeSeconds: number;
  readonly encodeSeconds: number;
}

export async function longEpisode(tasks: number): Promise<LongFigures> {
  const scenario = replayScenario(longScenario(tasks));
  const { bytes } = await recordEpisode({ scenario, agent: createAgent(AGENT), seed: 1 });
  const read = readReplay(bytes!);
  await verifyReplay(bytes!, { clock: () => performance.now() }); // warm-up
  let start = now();
  const v = await verifyReplay(bytes!, { clock: () => performance.now() });
  const verifySeconds = now() - start;
  if (!v.ok) throw new Error(`verify failed in the benchmark: ${v.reason}`);
  start = now();
  await runEpisode(scenario, createAgent(AGENT), { seed: 1 });
  const plainRunSeconds = now() - start;
  start = now();
  for (let k = 0; k < 5; k++) readReplay(bytes!);
  const decodeSeconds = (now() - start) / 5;
  start = now();
  for (let k = 0; k < 5; k++) encodeReplay(read.header, read.events, read.scenario);
  const encodeSeconds = (now() - start) / 5;
  return { events: read.events.length, recordBytes: read.sizes.records, verifySeconds, rerunSeconds: v.timing.rerunMs / 1000, plainRunSeconds, decodeSeconds, encodeSeconds };
}

/** What the filesystem costs here: creating (and closing) a new file, and one small write. */
export function filesystemCosts(files: number): { readonly createUs: number; readonly writeUs: number } {
  const dir = mkdtempSync(join(tmpdir(), 'tooltime-bench-fs-'));
  try {
    let start = now();
    for (let i = 0; i < files; i++) closeSync(openSync(join(dir, `${i}.ttr`), 'w'));
    const createUs = ((now() - start) / files) * 1e6;
    const fd = openSync(join(dir, 'w.ttr'), 'w');
    const chunk = new Uint8Array(10);
    const writes = 50_000;
    start = now();
    for (let i = 0; i < writes; i++) writeSync(fd, chunk);
    const writeUs = ((now() - start) / writes) * 1e6;
    closeSync(fd);
    return { createUs, writeUs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface PipelineFigures {
  readonly episodes: number;
  /** Seconds of each timed pass, per variant (passes interleaved). */
  readonly seconds: Readonly<Record<RecordVariant, readonly number[]>>;
}

/**
 * What recording costs a user: `tooltime run --out DIR` on an even sample of the default suite
 * (every baseline, seeds 1..rounds: oracle, sequential reference, episodes, scoring, results
 * written), without a recorder, recording each episode to memory, and recording one new file per
 * episode under DIR/replays as `--out` does. Interleaved passes in one process.
 */
export async function pipelineOverhead(passes: number, rounds: number, sample: number): Promise<PipelineFigures> {
  const instances = defaultInstances(sample);
  const agents = agentEntries()
    .filter((e) => e.kind === 'baseline')
    .map((e) => e.name);
  const seeds = Array.from({ length: rounds }, (_, i) => i + 1);
  const dir = mkdtempSync(join(tmpdir(), 'tooltime-bench-run-'));
  let runs = 0;
  try {
    const pass = async (variant: RecordVariant): Promise<number> => {
      const out = join(dir, String(runs++));
      const replays = join(out, 'replays');
      mkdirSync(replays, { recursive: true });
      const result = await runExperiment({
        instances,
        agents,
        seeds,
        mode: 'async',
        delivery: 'push',
        makeAgent: (spec) => createAgent(spec),
        ...(variant === 'plain'
          ? {}
          : { recorder: (key, scenario) => ReplayRecorder.open(variant === 'file' ? join(replays, replayFileName(key)) : new MemorySink(), { scenario, agent: key.agent, seed: key.seed, mode: 'async', delivery: 'push' }) }),
      });
      writeResults(out, result);
      return result.episodes.length;
    };
    const variants: RecordVariant[] = ['plain', 'memory', 'file'];
    for (const v of variants) await pass(v); // warm the JIT
    const seconds: Record<RecordVariant, number[]> = { plain: [], memory: [], file: [] };
    let episodes = 0;
    for (let p = 0; p < passes; p++) {
      for (const v of variants) {
        const start = now();
        episodes = await pass(v);
        seconds[v].push(now() - start);
      }
    }
    return { episodes, seconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
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
 * `tooltime replay verify DIR/*.ttr`: the workload recorded to one file per episode in a fresh
 * folder, then verified on this thread and on `workers` worker threads (interleaved passes, after
 * a warm-up pass of each), and once end to end with the workers started for the call.
 */
export async function verifyFilesThroughput(rounds: number, sample: number, passes: number, workers: number): Promise<VerifyFilesFigures> {
  const scenarios = replayWorkloads(sample).flatMap((w) => w.scenarios);
  const dir = mkdtempSync(join(tmpdir(), 'tooltime-bench-verify-'));
  try {
    const paths: string[] = [];
    for (let seed = 1; seed <= rounds; seed++) {
      for (const scenario of scenarios) {
        const path = join(dir, `${paths.length}.ttr`);
        await recordEpisode({ scenario, agent: createAgent(AGENT), seed, out: path });
        paths.push(path);
      }
    }
    const count = (verdicts: Awaited<ReturnType<typeof verifyReplayFiles>>): number => {
      let events = 0;
      for (const v of verdicts) {
        if (!v.ok) throw new Error(`verify failed in the benchmark: ${'error' in v ? v.error : v.reason}`);
        events += v.records;
      }
      return events;
    };
    let start = now();
    const events = count(await verifyReplayFiles(paths, { workers }));
    const coldSeconds = now() - start;
    const pool = new VerifyPool(workers);
    const hereSeconds: number[] = [];
    const poolSeconds: number[] = [];
    try {
      count(await verifyReplayFiles(paths, { workers: 0 }));
      count(await pool.verify(paths));
      for (let p = 0; p < passes; p++) {
        start = now();
        count(await verifyReplayFiles(paths, { workers: 0 }));
        hereSeconds.push(now() - start);
        start = now();
        count(await pool.verify(paths));
        poolSeconds.push(now() - start);
      }
    } finally {
      await pool.close();
    }
    return { files: paths.length, events, workers, hereSeconds, poolSeconds, coldSeconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
