/**
 * `tooltime run [SCENARIO_FILE|SUITE_DIR ...] --agent SPEC ...`: runs agents on scenarios and
 * prints a comparison table per agent. With no scenario it runs the shipped default suite; with
 * no agent, every baseline policy and every failure-mode agent.
 */
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { agentEntries, agentMaker, canonicalSpec, isModelSpec, isModuleSpec } from '../../agents/index.js';
import { canonicalJson } from '../../scenarios/spec/canonical.js';
import { runExperiment, type AgentSummary, type EpisodeKey, type EpisodeRecorder, type ExperimentInstance, type ExperimentResult } from '../../scenarios/experiment.js';
import type { Scenario } from '../../scenarios/spec/schema.js';
import { ReplayRecorder } from '../../replays/index.js';
import type { Delivery, Mode } from '../../scenarios/protocol.js';
import type { Stat } from '../../scenarios/scoring/index.js';
import { checkDistinct, defaultInstances, loadInstances } from '../instances.js';
import { addLlmOptions, formatUsage, modelSetup, usageByAgent, type LlmFlags } from '../llm.js';
import { EXIT_EPISODES_ERRORED, UsageError } from '../errors.js';
import { checkOutFile } from '../output-paths.js';
import { EPISODES_FILE, makeRunManifest, prepareRunDir, REPLAYS_DIR, SUMMARY_FILE, writeAtomically, writeRunManifest, type RunRequest } from '../run-dir.js';
import { RunOutput, runOrder, writeSummary } from '../run-output.js';
import { table } from '../table.js';

export { replayFileName } from '../run-output.js';

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
}

/** `N` or `A..B` (inclusive) into a list of seeds. */
export function parseSeeds(seed: string | undefined, seeds: string | undefined): number[] {
  if (seed !== undefined && seeds !== undefined) throw new UsageError('give --seed or --seeds, not both');
  if (seeds !== undefined) {
    const m = /^(\d+)\.\.(\d+)$/.exec(seeds.trim());
    if (m === null) throw new UsageError(`--seeds must look like A..B (for example 1..5), got "${seeds}"`);
    const [a, b] = [Number(m[1]), Number(m[2])];
    if (b < a) throw new UsageError(`--seeds ${seeds}: the end is before the start`);
    if (b - a >= 10_000) throw new UsageError(`--seeds ${seeds}: at most 10000 seeds`);
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  }
  const one = seed ?? '1';
  if (!/^\d+$/.test(one) || !Number.isSafeInteger(Number(one))) throw new UsageError(`--seed must be a non-negative integer, got "${one}"`);
  return [Number(one)];
}

function parseMode(mode: string): Mode {
  if (mode !== 'async' && mode !== 'sync') throw new UsageError(`--mode must be async or sync, got "${mode}"`);
  return mode;
}

function parseDelivery(delivery: string): Delivery {
  if (delivery !== 'push' && delivery !== 'poll') throw new UsageError(`--delivery must be push or poll, got "${delivery}"`);
  return delivery;
}

/** A value with its 95% interval as [low, high] (asymmetric where the range clamps it). */
const withInterval = (mean: number | null, low: number | null, high: number | null, f: (x: number) => string): string =>
  mean === null ? '-' : `${f(mean)}${low === null || high === null ? '' : ` [${f(low)}, ${f(high)}]`}`;
const pct = (s: Stat): string => withInterval(s.mean, s.low, s.high, (x) => `${(x * 100).toFixed(1)}`).replace(/^([^ ]+)/, '$1%');
const num = (s: Stat, digits = 2): string => withInterval(s.mean, s.low, s.high, (x) => x.toFixed(digits));
/** A secondary mean with the number of episodes it is over. */
const ofN = (s: Stat, digits = 2): string => (s.mean === null ? '- (n=0)' : `${s.mean.toFixed(digits)} (n=${s.n})`);

/** The comparison table: one row per agent. */
export function formatSummaryTable(summaries: readonly AgentSummary[]): string {
  return table(
    ['agent', 'task success', 'sub-task success', 'step F1', 'violations/ep', 'bound/makespan', 'on successes', 'speedup vs seq', 'on successes', 'pass^k'],
    summaries.map(({ agent, summary: s }) => [
      agent,
      pct(s.metrics.taskSuccess),
      pct(s.metrics.subtaskSuccess),
      num(s.metrics.f1),
      num(s.metrics.dependencyViolations),
      num(s.metrics.successWeightedBoundRatio),
      ofN(s.metrics.boundRatioOfSuccesses),
      num(s.metrics.successWeightedSpeedup),
      ofN(s.metrics.speedupOfSuccesses),
      s.passK.value === null ? '-' : `${pct({ n: s.instances, mean: s.passK.value, sd: null, interval: 'wilson', low: s.passK.low, high: s.passK.high })} (k=${s.passK.k})`,
    ]),
  );
}

/**
 * The interleaving breakdown, one row per agent: how each moves between tasks (AsyncTool's
 * same-task streak; definitions in scenarios/scoring/METRICS.md, "Interleaving").
 */
export function formatInterleavingTable(summaries: readonly AgentSummary[]): string {
  return table(
    ['agent', 'switches/decision', 'mean streak', 'streaks 1 / 2 / 3 / 4+', 'switches leaving a ready step'],
    summaries.map(({ agent, summary: s }) => [
      agent,
      num(s.metrics.switchesPerDecision),
      num(s.metrics.meanStreak),
      s.streakLengths.join(' / '),
      pct(s.metrics.leavingReadyShare),
    ]),
  );
}

/**
 * Writes a result's episodes.jsonl (in the run's order) and summary.json into `dir`, each whole or
 * not at all: for results run without `--out` (which writes them as the run goes: RunOutput).
 */
export function writeResults(dir: string, result: ExperimentResult): void {
  mkdirSync(dir, { recursive: true });
  writeAtomically(join(dir, EPISODES_FILE), runOrder(result.episodes).map((e) => `${canonicalJson(e)}\n`).join(''));
  writeSummary(dir, result);
}

/** The model flags given, for run.json (none unless a model agent runs). */
function modelFlags(options: RunOptions, agents: readonly string[]): Record<string, string> {
  const flags: Record<string, string> = {};
  if (!agents.some(isModelSpec)) return flags;
  for (const key of ['baseUrl', 'apiKeyEnv', 'temperature', 'maxTokens', 'think', 'thinkProfile', 'maxRetries', 'requestTimeout', 'cache', 'price', 'maxCallsPerTurn'] as const) {
    const value = options[key];
    if (value !== undefined) flags[key] = value;
  }
  return flags;
}

/** `--out DIR`: the directory made ready and marked with run.json, and the output that writes into it. */
function openRunOutput(paths: readonly string[], options: RunOptions, asked: Omit<RunRequest, 'scenarios' | 'model'>): RunOutput | null {
  const dir = options.out;
  if (dir === undefined) return null;
  prepareRunDir(dir, { force: options.force === true, replays: options.record === undefined });
  writeRunManifest(dir, makeRunManifest({ ...asked, scenarios: paths, model: modelFlags(options, asked.agents) }));
  return new RunOutput({ dir, mode: asked.mode, delivery: asked.delivery, ...(options.record === undefined ? {} : { record: options.record }) });
}

export async function runCommand(paths: readonly string[], options: RunOptions): Promise<void> {
  // No agent named: the baselines and the failure-mode agents, so the quality columns show contrast.
  const agents = (options.agent ?? agentEntries().map((e) => e.name)).map((spec) => (isModuleSpec(spec) ? spec : canonicalSpec(spec)));
  const models = modelSetup(agents, options, await agentMaker(agents.filter((s) => !isModelSpec(s))));
  const makeAgent = models.makeAgent;
  const concurrency = options.concurrency === undefined ? 1 : Number(options.concurrency);
  if (!(Number.isSafeInteger(concurrency) && concurrency > 0)) throw new UsageError(`--concurrency must be a positive integer, got "${options.concurrency}"`);
  const seeds = parseSeeds(options.seed, options.seeds);
  const mode = parseMode(options.mode);
  const delivery = parseDelivery(options.delivery);
  const sample = options.sample === undefined ? null : Number(options.sample);
  if (sample !== null && !(Number.isSafeInteger(sample) && sample > 0)) throw new UsageError(`--sample must be a positive integer, got "${options.sample}"`);
  const instances: ExperimentInstance[] = paths.length === 0 ? defaultInstances(sample) : loadInstances(paths, sample);
  const total = instances.length * seeds.length * agents.length;
  if (options.record !== undefined && total !== 1) throw new UsageError(`--record FILE records one episode, but this run has ${total}: use --out DIR for one replay per episode`);
  checkDistinct(instances, agents);
  if (options.record !== undefined) checkOutFile(options.record);
  const output = openRunOutput(paths, options, { sample, instances: instances.length, agents, seeds, mode, delivery, concurrency });
  const recorder = output?.recorder ?? replayRecorder(options, mode, delivery) ?? undefined;
  const where = paths.length === 0 ? 'the default suite' : paths.join(' ');
  // The header first: on a terminal it would otherwise come after the progress bar.
  if (options.json !== true) process.stdout.write(`${instances.length} scenario(s) from ${where}, seeds ${seeds.length === 1 ? seeds[0] : `${seeds[0]}..${seeds.at(-1)}`}, ${mode} mode, ${delivery} delivery: ${total} episodes\n\n`);
  const showProgress = options.quiet !== true && process.stderr.isTTY === true && total > 1;
  const bar = showProgress ? new cliProgress.SingleBar({ stream: process.stderr, format: 'episodes [{bar}] {value}/{total} {eta_formatted} left', hideCursor: true }, cliProgress.Presets.shades_classic) : null;
  bar?.start(total, 0);
  let result: ExperimentResult;
  try {
    result = await runExperiment({ instances, agents, seeds, mode, delivery, makeAgent, concurrency, ...(recorder === undefined ? {} : { recorder }), ...(output === null ? {} : { onComplete: output.complete }), ...(models.usageOf === null ? {} : { usageOf: models.usageOf }), onEpisode: () => bar?.increment() });
    bar?.stop();
    await output?.finish(result);
  } catch (error) {
    bar?.stop();
    // What was recorded is written before the run's error is reported (the writer's own failure, if
    // any, is second to it); replays not written whole are removed.
    await output?.stop();
    throw error;
  }
  if (options.json === true) {
    const usage = models.usageOf === null ? {} : { usage: usageByAgent(result.episodes) };
    process.stdout.write(`${JSON.stringify({ instances: instances.length, seeds, mode, delivery, agents: result.summaries, ...usage }, null, 2)}\n`);
    reportErrored(result);
    return;
  }
  process.stdout.write(`${formatSummaryTable(result.summaries)}\n`);
  process.stdout.write(`\nInterleaving (task switches and same-task streaks over calls and answers):\n${formatInterleavingTable(result.summaries)}\n`);
  const usage = formatUsage(result.episodes);
  if (usage !== '') process.stdout.write(`\n${usage}\n`);
  if (options.out !== undefined) process.stdout.write(`\nwrote ${join(options.out, EPISODES_FILE)}, ${join(options.out, SUMMARY_FILE)}${options.record === undefined ? ` and one replay per episode in ${join(options.out, REPLAYS_DIR)}` : ''}\n`);
  if (options.record !== undefined) process.stdout.write(`\nrecorded ${options.record}\n`);
  reportErrored(result);
}

/**
 * Episodes that errored (their agent threw: a dead model endpoint) leave rows that look like a
 * bad agent: the run says how many and exits 3 (after its report, so the results still show).
 */
function reportErrored(result: ExperimentResult): void {
  const errored = result.episodes.filter((e) => e.endReason === 'errored').length;
  if (errored === 0) return;
  const of = `${errored} of ${result.episodes.length} episode(s)`;
  process.stderr.write(`tooltime: ${of} errored (their agent failed); their rows count them as failures\n`);
  process.exitCode = EXIT_EPISODES_ERRORED;
}

/** `--record FILE` without `--out`: the run's one episode recorded there, as it goes (else null). */
export function replayRecorder(options: Pick<RunOptions, 'record'>, mode: Mode, delivery: Delivery): ((key: EpisodeKey, scenario: Scenario) => EpisodeRecorder) | null {
  const record = options.record;
  if (record === undefined) return null;
  return (key, scenario) => ReplayRecorder.open(record, { scenario, agent: key.agent, seed: key.seed, mode, delivery });
}

export function registerRun(program: Command): void {
  const run = program
    .command('run')
    .description('run agents on scenarios and print a comparison table (no scenario: the default suite; no agent: every baseline and failure-mode agent)')
    .argument('[scenarios...]', 'scenario files or suite folders')
    .option('-a, --agent <spec...>', 'agent spec, repeatable (see tooltime agents), e.g. greedy-async:maxInFlight=2')
    .option('--seed <n>', 'one seed (default 1)')
    .option('--seeds <a..b>', 'a range of seeds, inclusive')
    .option('--mode <mode>', 'async or sync', 'async')
    .option('--delivery <delivery>', 'push or poll (async mode)', 'push')
    .option('--sample <n>', 'run a fixed, documented sample of N instances')
    .option('--out <dir>', 'write per-episode results (episodes.jsonl, as episodes finish), the summary (summary.json) and one replay per episode (replays/) into a new or empty directory')
    .option('--force', "with --out: reuse a directory that is not empty, removing tooltime's files from it first (run.json, episodes.jsonl, summary.json, replays/*.ttr; nothing else)")
    .option('--record <file>', 'record the (single) episode as a replay file')
    .option('--json', 'print one machine-readable summary instead of the table')
    .option('-q, --quiet', 'no progress bar')
    .option('--concurrency <n>', 'episodes run at once (useful for model agents, which wait on a network; default 1)');
  addLlmOptions(run).action(async (paths: string[], options: RunOptions) => {
    await runCommand(paths, options);
  });
}
