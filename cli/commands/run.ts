/**
 * `tooltime run [SCENARIO_FILE|SUITE_DIR ...] --agent SPEC ...`: runs agents on scenarios and
 * prints a comparison table per agent. With no scenario it runs the shipped default suite; with
 * no agent, every baseline policy and every failure-mode agent.
 */
import { ProgressBar } from '../progress.js';
import type { Command } from 'commander';
import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import {
  agentEntries,
  agentMaker,
  canonicalSpec,
  isModelSpec,
  isModuleSpec,
} from '../../agents/index.js';
import { priceJson, type LatencyStats } from '../../agents/llm/index.js';
import { canonicalJson } from '../../scenarios/spec/canonical.js';
import {
  runExperiment,
  type AgentSummary,
  type EpisodeKey,
  type EpisodeRecord,
  type EpisodeRecorder,
  type ExperimentInstance,
  type ExperimentResult,
} from '../../scenarios/experiment.js';
import type { Scenario } from '../../scenarios/spec/schema.js';
import { ReplayRecorder } from '../../replays/index.js';
import type { Agent, Delivery, Mode } from '../../scenarios/protocol.js';
import { checkDistinct, loadInstances } from '../instances.js';
import {
  addLlmOptions,
  formatUsage,
  modelSetup,
  usageByAgent,
  type LlmFlags,
  type ModelSetup,
  workersCallTheModel,
} from '../llm.js';
import { EXIT_EPISODES_ERRORED, EXIT_STOPPED, UsageError } from '../errors.js';
import { dryRun, formatDryRun } from '../estimate.js';
import { checkOutFile, prepareOutDir } from '../output-paths.js';
import {
  EPISODES_FILE,
  makeRunManifest,
  prepareRunDir,
  readRunManifest,
  episodeKeyId,
  REPLAYS_DIR,
  SUMMARY_FILE,
  writeAtomically,
  writeRunManifest,
  type RunRequest,
} from '../run-dir.js';
import {
  replayFileName,
  RunOutput,
  runOrder,
  summaryDocument,
  writeSummary,
} from '../run-output.js';
import { checkSameRun, keptEpisodes, type KeptEpisode } from '../resume.js';
import { runSuite, type RunSuite } from '../episode-jobs.js';
import {
  DEFAULT_SPREAD_EPISODES,
  defaultPoolSize,
  parseWorkers,
  pooled,
  poolSize,
  RunPool,
} from '../run-pool.js';
import { parseMaxInFlight } from '../in-flight.js';
import { QueueRun, type ProviderLimits, type QueueModels } from '../queue-run.js';
import { MODEL_JOB_FLAGS } from '../queue.js';
import { parseRateLimit, rateText } from '../rate-limit.js';
import { parseVerifySample, verifySample, type SampleVerdict } from '../verify-sample.js';
import { parseSelection, selectDefault, selectInstances, type Selection } from '../select.js';
import {
  ablationEffect,
  ablationTables,
  type AblationEffect,
  type AblationSpec,
} from '../ablation.js';
import {
  breakdowns,
  breakdownTableData,
  interleavingTableData,
  parseFormat,
  renderTables,
  summaryTableData,
  type Breakdown,
  type TableFormat,
} from '../tables.js';

export interface RunOptions extends LlmFlags {
  readonly agent?: string[];
  readonly concurrency?: string;
  readonly seed?: string;
  readonly seeds?: string;
  readonly mode: string;
  readonly delivery: string;
  readonly out?: string;
  readonly record?: string;
  readonly json?: boolean;
  readonly quiet?: boolean;
  readonly sample?: string;
  readonly force?: boolean;
  readonly resume?: boolean;
  readonly instances?: string;
  readonly tag?: string[];
  readonly limit?: string;
  readonly by?: string[];
  readonly format?: string;
  readonly dryRun?: boolean;
  readonly maxCost?: string;
  readonly workers?: string;
  readonly verifySample?: string;
  readonly queue?: string;
}

/** `--verify-sample` of a `--queue` run unless given: FoundationDB's share. */
const QUEUE_VERIFY_SAMPLE = 5;

/** `N` or `A..B` (inclusive) into a list of seeds. */
export function parseSeeds(seed: string | undefined, seeds: string | undefined): number[] {
  if (seed !== undefined && seeds !== undefined)
    throw new UsageError('give --seed or --seeds, not both');
  if (seeds !== undefined) {
    const m = /^(\d+)\.\.(\d+)$/.exec(seeds.trim());
    if (m === null)
      throw new UsageError(`--seeds must look like A..B (for example 1..5), got "${seeds}"`);
    const [a, b] = [Number(m[1]), Number(m[2])];
    if (b < a) throw new UsageError(`--seeds ${seeds}: the end is before the start`);
    if (b - a >= 10_000) throw new UsageError(`--seeds ${seeds}: at most 10000 seeds`);
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  }
  const one = seed ?? '1';
  if (!/^\d+$/.test(one) || !Number.isSafeInteger(Number(one)))
    throw new UsageError(`--seed must be a non-negative integer, got "${one}"`);
  return [Number(one)];
}

function parseMode(mode: string): Mode {
  if (mode !== 'async' && mode !== 'sync')
    throw new UsageError(`--mode must be async or sync, got "${mode}"`);
  return mode;
}

function parseDelivery(delivery: string): Delivery {
  if (delivery !== 'push' && delivery !== 'poll')
    throw new UsageError(`--delivery must be push or poll, got "${delivery}"`);
  return delivery;
}

/** The comparison table: one row per agent. */
export function formatSummaryTable(summaries: readonly AgentSummary[]): string {
  return renderTables([summaryTableData(summaries)], 'text');
}

/**
 * The interleaving breakdown, one row per agent: how each moves between tasks (AsyncTool's
 * same-task streak; definitions in scenarios/scoring/METRICS.md, "Interleaving").
 */
export function formatInterleavingTable(summaries: readonly AgentSummary[]): string {
  return renderTables([{ ...interleavingTableData(summaries), title: null }], 'text');
}

/**
 * Writes a result's episodes.jsonl (in the run's order) and summary.json into `dir`, each whole or
 * not at all: for results run without `--out` (which writes them as the run goes: RunOutput).
 */
export function writeResults(dir: string, result: ExperimentResult): void {
  mkdirSync(dir, { recursive: true });
  writeAtomically(
    join(dir, EPISODES_FILE),
    runOrder(result.episodes)
      .map((e) => `${canonicalJson(e)}\n`)
      .join(''),
  );
  const first = result.episodes[0];
  writeSummary(
    dir,
    summaryDocument(result, { mode: first?.mode ?? 'async', delivery: first?.delivery ?? 'push' }),
  );
}

/** The model flags given, for run.json (none unless a model agent runs). */
function modelFlags(options: RunOptions, agents: readonly string[]): Record<string, string> {
  const flags: Record<string, string> = {};
  if (!agents.some(isModelSpec)) return flags;
  for (const key of [
    'baseUrl',
    'apiKeyEnv',
    'temperature',
    'maxTokens',
    'think',
    'thinkProfile',
    'maxRetries',
    'requestTimeout',
    'cache',
    'price',
    'maxCallsPerTurn',
    'rateLimit',
    'maxRequestsInFlight',
  ] as const) {
    const value = options[key];
    if (value !== undefined) flags[key] = value;
  }
  return flags;
}

/** `--out DIR`: the directory made ready and marked with run.json, and the output that writes into it. */
function openRunOutput(
  paths: readonly string[],
  options: RunOptions,
  asked: Omit<RunRequest, 'scenarios' | 'model'>,
): { output: RunOutput; kept: Map<string, KeptEpisode> } | null {
  const dir = options.out;
  if (dir === undefined) {
    if (options.resume === true)
      throw new UsageError('--resume continues a run directory: give its --out DIR');
    return null;
  }
  const manifest = makeRunManifest({
    ...asked,
    scenarios: paths,
    model: modelFlags(options, asked.agents),
  });
  const world = {
    dir,
    mode: asked.mode,
    delivery: asked.delivery,
    seeds: asked.seeds,
    ...(options.record === undefined ? {} : { record: options.record }),
  };
  if (options.resume !== true) {
    prepareRunDir(dir, { force: options.force === true, replays: options.record === undefined });
    writeRunManifest(dir, manifest);
    return { output: new RunOutput(world), kept: new Map() };
  }
  if (options.force === true) throw new UsageError('give --resume or --force, not both');
  // A directory the run can write in; a later file-system failure under it is one line, exit 1.
  prepareOutDir(dir);
  const recorded = readRunManifest(dir);
  checkSameRun(dir, recorded, manifest);
  const wanted = new Set(
    asked.instanceIds.flatMap((instance) =>
      asked.agents.flatMap((agent) =>
        asked.seeds.map((seed) => episodeKeyId({ instance, agent, seed })),
      ),
    ),
  );
  const kept = keptEpisodes(dir, wanted);
  // The kept lines alone, whole, before anything is appended: a kill from here on loses none.
  writeAtomically(join(dir, EPISODES_FILE), [...kept.values()].map((k) => k.line).join(''));
  mkdirSync(join(dir, REPLAYS_DIR), { recursive: true });
  writeRunManifest(dir, {
    ...recorded,
    command: manifest.command,
    node: manifest.node,
    concurrency: manifest.concurrency,
    resumedAt: [...(recorded.resumedAt ?? []), new Date().toISOString()],
    endedAt: null,
  });
  const output = new RunOutput({ ...world, append: true });
  for (const k of kept.values()) output.adopt(k.record, k.line);
  return { output, kept };
}

/** run.json's wall-clock end, once the run finished, and the model requests' measured latency. */
function markEnded(dir: string, latency: LatencyStats | null): void {
  const modelLatency =
    latency === null
      ? {}
      : { modelLatency: { requests: latency.requests, totalMs: round3(latency.totalMs) } };
  writeRunManifest(dir, {
    ...readRunManifest(dir),
    endedAt: new Date().toISOString(),
    ...modelLatency,
  });
}

const round3 = (ms: number): number => Math.round(ms * 1000) / 1000;

/**
 * What a run runs, its flags parsed and its instances chosen: `run` plans it from its arguments
 * (planRun), `ablate` derives its instances from the chosen ones; both execute it (executeRun).
 */
export interface RunPlan {
  readonly paths: readonly string[];
  readonly instances: readonly ExperimentInstance[];
  readonly agents: readonly string[];
  readonly seeds: readonly number[];
  readonly mode: Mode;
  readonly delivery: Delivery;
  readonly concurrency: number;
  readonly sample: number | null;
  readonly selection: Selection;
  /** Each instance's tags (run.json keeps them for breakdowns). */
  readonly instanceTags: Record<string, Record<string, string>>;
  /** An ablation: run.json records it, summary.json holds its effect, its tables are printed. */
  readonly ablation?: AblationSpec;
}

/** The run's flags parsed and its instances chosen (`--mode`/`--delivery`: `world` when given). */
export function planRun(
  paths: readonly string[],
  options: RunOptions,
  world?: { readonly mode: Mode; readonly delivery: Delivery },
): RunPlan {
  // No agent named: the baselines and the failure-mode agents, so the quality columns show contrast.
  const agents = (options.agent ?? agentEntries().map((e) => e.name)).map((spec) =>
    isModuleSpec(spec) ? spec : canonicalSpec(spec),
  );
  const concurrency = options.concurrency === undefined ? 1 : Number(options.concurrency);
  if (!(Number.isSafeInteger(concurrency) && concurrency > 0))
    throw new UsageError(`--concurrency must be a positive integer, got "${options.concurrency}"`);
  const seeds = parseSeeds(options.seed, options.seeds);
  const mode = world?.mode ?? parseMode(options.mode);
  const delivery = world?.delivery ?? parseDelivery(options.delivery);
  const sample = options.sample === undefined ? null : Number(options.sample);
  if (sample !== null && !(Number.isSafeInteger(sample) && sample > 0))
    throw new UsageError(`--sample must be a positive integer, got "${options.sample}"`);
  const selection = parseSelection(options);
  const instances: ExperimentInstance[] =
    paths.length === 0
      ? selectDefault(sample, selection)
      : selectInstances(loadInstances(paths, sample), selection);
  const tags = instanceTags(instances);
  return {
    paths,
    instances,
    agents,
    seeds,
    mode,
    delivery,
    concurrency,
    sample,
    selection,
    instanceTags: tags,
  };
}

export async function runCommand(paths: readonly string[], options: RunOptions): Promise<void> {
  await executeRun(planRun(paths, options), options);
}

/** The header line of a text run: what runs, in which world, how many episodes. */
function runHeader(plan: RunPlan, total: number, on: string): string {
  const where = plan.paths.length === 0 ? 'the default suite' : plan.paths.join(' ');
  const { seeds, ablation } = plan;
  const seedText = seeds.length === 1 ? `${seeds[0]}` : `${seeds[0]}..${seeds.at(-1)}`;
  if (ablation !== undefined) {
    const chosen = new Set(ablation.variants.map((v) => v.instance)).size;
    const world = ablation.kind === 'mode' ? '' : `, ${plan.mode} mode, ${plan.delivery} delivery`;
    return `${chosen} scenario(s) from ${where} at ${ablation.levels.length} ${ablation.kind} levels (${ablation.levels.join(', ')}; baseline ${ablation.baseline}), seeds ${seedText}${world}: ${total} episodes${on}\n\n`;
  }
  return `${plan.instances.length} scenario(s) from ${where}, seeds ${seedText}, ${plan.mode} mode, ${plan.delivery} delivery: ${total} episodes${on}\n\n`;
}

/**
 * Runs a plan: checks its flags, prepares or resumes its `--out` directory, runs every episode
 * (recorded as it finishes), writes summary.json and prints the tables.
 */
export async function executeRun(plan: RunPlan, options: RunOptions): Promise<void> {
  const { paths, instances, agents, seeds, mode, delivery, concurrency, sample, selection } = plan;
  const total = instances.length * seeds.length * agents.length;
  const workers = parseWorkers(options.workers);
  // A queue run re-runs a sample by default: its episodes ran on machines this one cannot see.
  const verify =
    parseVerifySample(options.verifySample) ??
    (options.queue === undefined ? null : QUEUE_VERIFY_SAMPLE);
  if (options.queue !== undefined && (options.out === undefined || options.record !== undefined))
    throw new UsageError('--queue writes a run directory: give --out DIR (and no --record)');
  if (verify !== null && options.out === undefined)
    throw new UsageError('--verify-sample re-runs episodes from their replays: give --out DIR');
  if (options.record !== undefined && total !== 1)
    throw new UsageError(
      `--record FILE records one episode, but this run has ${total}: use --out DIR for one replay per episode`,
    );
  checkDistinct(instances, agents);
  if (options.record !== undefined) checkOutFile(options.record);
  if (options.dryRun === true) {
    process.stdout.write(
      formatDryRun(dryRun(instances, agents, seeds.length, { mode, delivery }, options.price)),
    );
    return;
  }
  const maxCost = parseMaxCost(options.maxCost);
  const builtIn = await agentMaker(agents.filter((s) => !isModelSpec(s)));
  // Flags and the key are checked before the run directory is touched.
  // A queue run's model requests are its workers' (with their own keys): none is read here.
  const remote = options.queue === undefined ? undefined : workersCallTheModel;
  let models = modelSetup(agents, options, builtIn, remote);
  const format = parseFormat(options.json === true ? 'json' : options.format);
  const by = options.by ?? [];
  const tags = plan.instanceTags;
  const unknown = by.find((key) => !Object.values(tags).some((t) => t[key] !== undefined));
  if (unknown !== undefined)
    throw new UsageError(`--by ${unknown}: no instance of the run has a "${unknown}" tag`);
  const suite = runSuite(instances);
  checkModelQueue(options, agents);
  // Redis answers before the run directory is touched.
  const queue = options.queue === undefined ? null : await QueueRun.connect(options.queue);
  if (queue !== null && options.baseUrl !== undefined && agents.some(isModelSpec))
    await queue.claimProvider(options.baseUrl, limitsOf(options)).catch(async (error) => {
      await queue.close();
      throw error;
    });
  const opened = openRunOutput(paths, options, {
    by,
    instanceTags: tags,
    sample,
    instances: instances.length,
    agents,
    seeds,
    mode,
    delivery,
    concurrency,
    selection,
    instanceIds: instances.map((i) => i.scenario.id),
    suiteDigest: suite.digest,
    command: process.argv.slice(2),
    ...(plan.ablation === undefined ? {} : { ablation: plan.ablation }),
  });
  const output = opened?.output ?? null;
  // A run directory keeps its model agents' responses (DIR/cache unless --cache), so a resumed run pays for none twice.
  if (options.out !== undefined && options.cache === undefined && agents.some(isModelSpec))
    models = modelSetup(agents, { ...options, cache: join(options.out, 'cache') }, builtIn, remote);
  const makeAgent = models.makeAgent;
  const kept = opened?.kept ?? new Map<string, KeptEpisode>();
  const recorder = output?.recorder ?? replayRecorder(options, mode, delivery) ?? undefined;
  const spread = { workers, agents, suite, mode, delivery, dir: options.out ?? null, seeds };
  const pool =
    options.record === undefined && queue === null ? openPool(spread, kept, builtIn, output) : null;
  const onQueue = queue === null ? null : queueModels(options, models, concurrency);
  const elsewhere =
    queue !== null && output !== null
      ? queue.elsewhere({
          suite,
          mode,
          delivery,
          output,
          dir: options.out!,
          ...(onQueue === null ? {} : { models: onQueue }),
        })
      : pool?.elsewhere;
  const on =
    queue !== null
      ? ` (on the queue at ${options.queue})`
      : pool === null
        ? ''
        : ` (on ${pool.size}${pool.hereToo ? '' : ' worker'} threads)`;
  // The header first: on a terminal it would otherwise come after the progress bar.
  if (format === 'text') process.stdout.write(runHeader(plan, total, on));
  const bar = progressBar(options, total);
  bar?.start();
  const done = (key: EpisodeKey) => kept.get(episodeKeyId(key))?.record ?? null;
  const cost = new CostTracker(kept, output);
  const onComplete = (record: EpisodeRecord) => cost.complete(record);
  const stop = maxCost === null ? undefined : () => cost.spent >= maxCost;
  let result: ExperimentResult;
  let tables: Breakdown[] = [];
  let effect: AblationEffect | null = null;
  let checked: SampleVerdict | null = null;
  try {
    result = await runExperiment({
      instances,
      agents,
      seeds,
      mode,
      delivery,
      makeAgent,
      concurrency,
      done,
      onComplete,
      ...(stop === undefined ? {} : { stop }),
      ...(recorder === undefined ? {} : { recorder }),
      ...(models.usageOf === null ? {} : { usageOf: models.usageOf }),
      ...(elsewhere === undefined ? {} : { elsewhere }),
      onEpisode: () => bar?.done(),
    });
    await pool?.close();
    await queue?.close();
    bar?.stop();
    if (result.stopped === true) {
      await output?.stop();
      reportStopped(result, total, cost.spent, options);
      return;
    }
    if (verify !== null && output !== null) {
      // Every replay is whole on disk once its episode ended (RunOutput writes it as it closes).
      checked = await verifySample(result.episodes, verify, {
        replayOf: (r) => options.record ?? join(options.out!, REPLAYS_DIR, replayFileName(r)),
        // Unless asked, as many threads as the run's episodes had (one when it stayed here).
        threads: workers ?? pool?.size ?? 1,
        policies: agents.filter(isModuleSpec),
      });
    }
    tables = breakdowns(result.episodes, (id) => tags[id], by);
    effect = plan.ablation === undefined ? null : ablationEffect(plan.ablation, result.episodes);
    await output?.finish(
      result,
      summaryDocument(result, { seeds, mode, delivery }, tables, effect),
    );
    if (output !== null && options.out !== undefined)
      markEnded(options.out, models.models?.latencyStats ?? null);
  } catch (error) {
    bar?.stop();
    // Workers stopped first: a replay a worker is writing is whole (or removed) once it has.
    await pool?.close().catch(() => undefined);
    await queue?.close();
    // What was recorded is written before the run's error is reported (the writer's own failure, if
    // any, is second to it); replays not written whole are removed.
    await output?.stop();
    throw error;
  }
  printRunTables(
    result,
    { seeds, mode, delivery },
    tables,
    effect,
    format,
    models.usageOf !== null,
  );
  if (format !== 'text') {
    reportErrored(result);
    return;
  }
  reportWritten(options);
  if (checked !== null)
    process.stdout.write(
      `verify-sample: ${checked.checked} of ${checked.of} episodes (${verify}%) re-run on other threads: replays identical\n`,
    );
  reportErrored(result);
}

/** The flags of model agents and a queue, checked together (one line when they do not fit). */
function checkModelQueue(options: RunOptions, agents: readonly string[]): void {
  const model = agents.some(isModelSpec);
  if (options.rateLimit !== undefined && !model)
    throw new UsageError('--rate-limit limits model requests: this run has no model agent');
  if (options.maxRequestsInFlight !== undefined && !model)
    throw new UsageError(
      '--max-requests-in-flight limits model requests: this run has no model agent',
    );
  if (options.queue !== undefined && model && options.baseUrl === undefined)
    throw new UsageError(
      '--queue with a model agent: give --base-url URL (workers call only the provider their own --base-url names)',
    );
}

/** `--rate-limit` (as rateText spells it) and `--max-requests-in-flight` (null: none). */
const limitsOf = (options: RunOptions): ProviderLimits => ({
  rate: options.rateLimit === undefined ? null : rateText(parseRateLimit(options.rateLimit)),
  maxInFlight:
    options.maxRequestsInFlight === undefined
      ? null
      : parseMaxInFlight(options.maxRequestsInFlight),
});

/** What a queue run's model agents' jobs carry and where their answers go (null: no model agent). */
function queueModels(
  options: RunOptions,
  setup: ModelSetup,
  concurrency: number,
): QueueModels | null {
  if (setup.models === null || options.baseUrl === undefined) return null;
  const flags: Record<string, string> = {};
  for (const key of MODEL_JOB_FLAGS) {
    const value = options[key];
    if (value !== undefined) flags[key] = value;
  }
  const job = {
    baseUrl: options.baseUrl,
    flags,
    price: setup.price === null ? null : priceJson(setup.price),
    rateLimit: limitsOf(options).rate,
    maxInFlight: limitsOf(options).maxInFlight,
  };
  // The run's cache: --cache, else DIR/cache (the one executeRun set up).
  const cacheDir = options.cache ?? (options.out === undefined ? null : join(options.out, 'cache'));
  return { job, cacheDir, latency: setup.models.latencyStats, inFlight: concurrency };
}

/** A progress bar on a terminal's stderr, unless --quiet or a single episode. */
function progressBar(options: RunOptions, total: number): ProgressBar | null {
  if (options.quiet === true || process.stderr.isTTY !== true || total <= 1) return null;
  return new ProgressBar(total, process.stderr);
}

/** Where the run's files went. */
function reportWritten(options: RunOptions): void {
  if (options.out !== undefined)
    process.stdout.write(
      `\nwrote ${join(options.out, EPISODES_FILE)}, ${join(options.out, SUMMARY_FILE)}${options.record === undefined ? ` and one replay per episode in ${join(options.out, REPLAYS_DIR)}` : ''}\n`,
    );
  if (options.record !== undefined) process.stdout.write(`\nrecorded ${options.record}\n`);
}

/**
 * --max-cost: the cost recorded so far (kept episodes' too), passed on with each finished
 * episode to the run's output; no episode starts once it reaches the cap.
 */
class CostTracker {
  private readonly kept: ReadonlySet<EpisodeRecord>;
  spent: number;

  constructor(
    kept: ReadonlyMap<string, KeptEpisode>,
    private readonly output: { complete(record: EpisodeRecord): void } | null,
  ) {
    this.kept = new Set([...kept.values()].map((k) => k.record));
    this.spent = [...this.kept].reduce((sum, r) => sum + (r.usage?.costUsd ?? 0), 0);
  }

  complete(record: EpisodeRecord): void {
    if (!this.kept.has(record)) this.spent += record.usage?.costUsd ?? 0;
    this.output?.complete(record);
  }
}

/**
 * `--workers N`: the pool the run's built-in and module agents' episodes go to, or null when this
 * thread runs them (N = 1, too few episodes to share: see poolSize; without --workers, a run below
 * DEFAULT_SPREAD_EPISODES: see defaultPoolSize).
 */
function openPool(
  run: {
    /** `--workers`, or null: not given (defaultPoolSize). */
    workers: number | null;
    agents: readonly string[];
    suite: RunSuite;
    mode: Mode;
    delivery: Delivery;
    dir: string | null;
    seeds: readonly number[];
  },
  kept: ReadonlyMap<string, KeptEpisode>,
  makeAgent: (spec: string) => Agent,
  output: RunOutput | null,
): RunPool | null {
  const agents = run.agents.filter(pooled);
  let episodes = 0;
  for (const { scenario } of run.suite.instances)
    for (const agent of agents)
      for (const seed of run.seeds)
        if (!kept.has(episodeKeyId({ instance: scenario.id, agent, seed }))) episodes++;
  const size = run.workers === null ? defaultPoolSize(episodes) : poolSize(run.workers, episodes);
  if (size === 0) return null;
  const { suite, mode, delivery, dir } = run;
  const setup = { suite, agents, mode, delivery, dir };
  return new RunPool(size, episodes, setup, makeAgent, output, run.agents.every(pooled));
}

function parseMaxCost(text: string | undefined): number | null {
  if (text === undefined) return null;
  const usd = Number(text);
  if (text.trim() === '' || !Number.isFinite(usd) || usd < 0)
    throw new UsageError(`--max-cost must be a non-negative number of USD, got "${text}"`);
  return usd;
}

/** --max-cost stopped the run: what finished is in the directory, and how to go on. */
function reportStopped(
  result: ExperimentResult,
  total: number,
  spent: number,
  options: RunOptions,
): void {
  const resume =
    options.out === undefined
      ? ''
      : `; continue with the same command plus --resume (and a higher --max-cost)`;
  process.stderr.write(
    `tooltime: --max-cost ${options.maxCost} reached ($${spent.toFixed(4)} recorded): stopped after ${result.episodes.length} of ${total} episodes, no summary${resume}\n`,
  );
  process.exitCode = EXIT_STOPPED;
}

/** Each instance's tags, with `tasks` (its number of tasks) unless it has such a tag. */
export function instanceTags(
  instances: readonly ExperimentInstance[],
): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const { scenario } of instances)
    out[scenario.id] = {
      ...scenario.tags,
      tasks: scenario.tags.tasks ?? String(scenario.tasks.length),
    };
  return out;
}

/** The run's tables in `format` (json: the summary document, with model usage when models ran). */
function printRunTables(
  result: ExperimentResult,
  world: { seeds: readonly number[]; mode: Mode; delivery: Delivery },
  by: readonly Breakdown[],
  effect: AblationEffect | null,
  format: TableFormat,
  models: boolean,
): void {
  if (format === 'json') {
    const usage = models ? { usage: usageByAgent(result.episodes) } : {};
    process.stdout.write(
      `${JSON.stringify({ ...summaryDocument(result, world, by, effect), ...usage }, null, 2)}\n`,
    );
    return;
  }
  // An ablation's agents pooled over its levels say little: its effect tables are what it printed.
  const main =
    effect === null
      ? [summaryTableData(result.summaries), interleavingTableData(result.summaries)]
      : ablationTables(effect, format);
  process.stdout.write(`${renderTables([...main, ...by.map(breakdownTableData)], format)}\n`);
  if (format !== 'text') return;
  const usage = formatUsage(result.episodes);
  if (usage !== '') process.stdout.write(`\n${usage}\n`);
}

/**
 * Episodes that errored (their agent threw: a dead model endpoint) leave rows that look like a
 * bad agent: the run says how many and exits 3 (after its report, so the results still show).
 */
function reportErrored(result: ExperimentResult): void {
  const errored = result.episodes.filter((e) => e.endReason === 'errored').length;
  if (errored === 0) return;
  const of = `${errored} of ${result.episodes.length} episode(s)`;
  process.stderr.write(
    `tooltime: ${of} errored (their agent failed); their rows count them as failures\n`,
  );
  process.exitCode = EXIT_EPISODES_ERRORED;
}

/** `--record FILE` without `--out`: the run's one episode recorded there, as it goes (else null). */
export function replayRecorder(
  options: Pick<RunOptions, 'record'>,
  mode: Mode,
  delivery: Delivery,
): ((key: EpisodeKey, scenario: Scenario) => EpisodeRecorder) | null {
  const record = options.record;
  if (record === undefined) return null;
  return (key, scenario) =>
    ReplayRecorder.open(record, { scenario, agent: key.agent, seed: key.seed, mode, delivery });
}

/**
 * The flags `run` and `ablate` share (which agents, seeds and instances; the run directory; the
 * output), so that a run's flag is an ablation's too.
 */
export function addRunFlags(command: Command): Command {
  return command
    .option(
      '-a, --agent <spec...>',
      'agent spec, repeatable (see tooltime agents), e.g. greedy-async:maxInFlight=2',
    )
    .option('--seed <n>', 'one seed (default 1)')
    .option('--seeds <a..b>', 'a range of seeds, inclusive')
    .option('--sample <n>', 'run a fixed, documented sample of N instances')
    .option(
      '--out <dir>',
      'write per-episode results (episodes.jsonl, as episodes finish), the summary (summary.json) and one replay per episode (replays/) into a new or empty directory',
    )
    .option(
      '--force',
      "with --out: reuse a directory that is not empty, removing tooltime's files from it first (run.json, episodes.jsonl, summary.json, replays/*.ttr; nothing else)",
    )
    .option(
      '--resume',
      'continue the interrupted run in --out DIR (the same command): finished episodes are kept, the rest run',
    )
    .option(
      '--dry-run',
      'print the number of episodes and a cost estimate from --price, and run nothing',
    )
    .option(
      '--max-cost <usd>',
      'start no episode once the recorded model cost reaches USD (with --out: resumable with --resume)',
    )
    .option('--instances <ids>', 'only these instance ids (comma-separated)')
    .option(
      '--tag <key=value>',
      "only instances whose tag KEY has VALUE (a compound value's parts each match; tasks=N: N tasks); repeatable",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--limit <n>', 'at most the first N instances (after --sample and the filters)')
    .option(
      '--json',
      'print one machine-readable summary instead of the table (the shape of summary.json; --format json)',
    )
    .option('--format <format>', 'the tables as md or csv, or json (as --json)')
    .option('-q, --quiet', 'no progress bar')
    .option(
      '--concurrency <n>',
      'episodes run at once (useful for model agents, which wait on a network; with --queue: model episodes out at once; default 1)',
    )
    .option(
      '--verify-sample <p>',
      'with --out: re-run P% of the episodes (a fixed choice by episode) from their replays on other threads and fail the run, naming the first divergence, if any differs',
    )
    .option(
      '--queue <redis-url>',
      "with --out: run the episodes as jobs on this Redis queue, taken by `tooltime worker URL` processes on any machine (model agents': by workers started with the same --base-url, with their own keys; the run directory is the same as a local run's; --verify-sample defaults to 5)",
    )
    .option(
      '--workers <n>',
      `threads for the episodes of built-in and module agents, this one and N - 1 workers (with a model agent, N workers, the model on this thread); default: the machine's available parallelism (${availableParallelism()}) for a run of ${DEFAULT_SPREAD_EPISODES.toLocaleString('en-US')} such episodes or more, else 1 (this thread); the output is the same whatever N is`,
    );
}

export function registerRun(program: Command): void {
  const run = program
    .command('run')
    .description(
      'run agents on scenarios and print a comparison table (no scenario: the default suite; no agent: every baseline and failure-mode agent)',
    )
    .argument('[scenarios...]', 'scenario files or suite folders')
    .option('--mode <mode>', 'async or sync', 'async')
    .option('--delivery <delivery>', 'push or poll (async mode)', 'push');
  addRunFlags(run)
    .option('--record <file>', 'record the (single) episode as a replay file')
    .option(
      '--by <key>',
      'also a table per value of an instance tag (domain, pattern, mix...; tasks: number of tasks), kept in summary.json; repeatable',
      (v: string, prev: string[] = []) => [...prev, v],
    );
  addLlmOptions(run).action(async (paths: string[], options: RunOptions) => {
    await runCommand(paths, options);
  });
}
