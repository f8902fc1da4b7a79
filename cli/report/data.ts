/**
 * What `tooltime report` embeds: per run directory its manifest and summary (the leaderboard shows
 * summary.json's numbers as they are, never recomputed), one small index row per episode (what the
 * tables, breakdowns and plots need), and per episode its replay's events and scenario outline,
 * gzipped and base64-encoded so a default run (6,480 episodes) stays a file a browser opens at
 * once: the page decompresses one episode only when it is opened.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { costUsd, parsePrice, priceFor, type PriceTable } from '../../agents/llm/price.js';
import { readReplayFile, sourceOfRead } from '../../replays/index.js';
import { stateHistory } from '../../replays/commands/state.js';
import { UsageError } from '../errors.js';
import { wilson } from '../../scenarios/scoring/aggregate.js';
import type { EpisodeEvent } from '../../scenarios/world/events.js';
import {
  EPISODES_FILE,
  readEpisodeLines,
  readRunManifest,
  RUN_FILE,
  SUMMARY_FILE,
} from '../run-dir.js';
import type { AblationEffect } from '../ablation.js';
import type { Stat } from '../../scenarios/scoring/index.js';

/** One episode as the page's tables and plots see it. */
export interface EpisodeRow {
  readonly run: number;
  readonly agent: string;
  readonly instance: string;
  readonly seed: number;
  readonly mode: string;
  readonly delivery: string;
  readonly endReason: string;
  readonly success: number | null;
  readonly tasks: number;
  readonly domains: readonly string[];
  readonly violations: number;
  readonly invalid: number;
  readonly boundRatio: number | null;
  readonly makespanUs: number;
  readonly calls: number;
  readonly model: boolean;
}

export interface RunData {
  readonly dir: string;
  readonly manifest: unknown;
  readonly summary: unknown;
}

/** Task success of one agent (with its mode, when the report has both) over one group's episodes. */
export interface Share {
  readonly agent: string;
  readonly group: string;
  readonly n: number;
  readonly successes: number;
  readonly mean: number;
  readonly low: number;
  readonly high: number;
}

export interface ReportData {
  readonly runs: readonly RunData[];
  /** Breakdowns of task success, with Wilson intervals as summary.json gives the overall one. */
  readonly byDomain: readonly Share[];
  readonly byTasks: readonly Share[];
  readonly episodes: readonly EpisodeRow[];
  /** Per episode (same order): gzipped JSON of its detail, base64. */
  readonly details: readonly string[];
  /** The effect plots' points of the runs that are ablations (`tooltime ablate`); none else. */
  readonly ablation: readonly AblationPoint[];
}

type Json = Record<string, unknown>;

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`${path}: ${(error as Error).message}`);
  }
}

/** A tag's value split into its parts (`data-generation+filesystem` counts for both). */
function domainsOf(tags: Readonly<Record<string, string>> | undefined): string[] {
  const value = tags?.domains ?? tags?.domain;
  return value === undefined ? ['(none)'] : value.split('+');
}

function num(value: unknown): number {
  return typeof value === 'number' ? value : 0;
}

/**
 * The run's price table (`--price` as run.json records it), for the cost of each model turn; a
 * price file that is gone since the run gives no costs rather than no report.
 */
function priceTable(manifest: unknown): PriceTable | null {
  const m = manifest as { model?: Record<string, string>; cwd?: string } | null;
  const price = m?.model?.price;
  if (price === undefined) return null;
  try {
    return parsePrice(/^(in|out)\s*=/.test(price.trim()) ? price : join(m?.cwd ?? '.', price));
  } catch {
    return null;
  }
}

/** USD per model turn, by decision number (only when the run had a price for the model). */
function turnCosts(
  events: readonly EpisodeEvent[],
  prices: PriceTable | null,
): Record<number, number> {
  const costs: Record<number, number> = {};
  let model: string | null = null;
  for (const e of events) {
    if (e.type !== 'decision_ended' || e.note === null || typeof e.note !== 'object') continue;
    const note = e.note as {
      config?: { model?: string } | null;
      usage?: { promptTokens: number; completionTokens: number };
    };
    model = note.config?.model ?? model;
    const cost =
      model === null || note.usage === undefined
        ? null
        : costUsd(priceFor(prices, model), note.usage.promptTokens, note.usage.completionTokens);
    if (cost !== null) costs[e.decision] = cost;
  }
  return costs;
}

/**
 * The most environment-state JSON the report embeds (before gzip), per episode and in all: a
 * stateful episode's states are its initial states plus one state per change, which a long
 * episode over a big state could make larger than the page can hold.
 */
export interface StateLimits {
  readonly episodeBytes: number;
  readonly reportBytes: number;
}

export const STATE_LIMITS: StateLimits = { episodeBytes: 1 << 20, reportBytes: 32 << 20 };

/** The budget left for states in this report (shared by its episodes, in order). */
interface StateBudget {
  readonly limits: StateLimits;
  usedBytes: number;
}

/**
 * A stateful episode's states as `replay inspect --state-at` rebuilds them (stateHistory), or,
 * past a limit, a note saying why they were left out and how to see them; a stateless episode
 * has none (its detail stays as it was).
 */
function statesOf(read: ReturnType<typeof readReplayFile>, budget: StateBudget): Json | null {
  if ((read.scenario.environments ?? []).length === 0) return null;
  const left = budget.limits.reportBytes - budget.usedBytes;
  const max = Math.min(budget.limits.episodeBytes, left);
  const history = stateHistory(sourceOfRead(read), max);
  if (history.initial !== null) {
    budget.usedBytes += history.bytes;
    return history as unknown as Json;
  }
  const which =
    max === budget.limits.episodeBytes
      ? `more than the ${budget.limits.episodeBytes} bytes allowed per episode`
      : `more than the ${left} bytes left of the ${budget.limits.reportBytes} allowed per report`;
  return { omitted: `states left out (${which})`, file: read.file };
}

/** The episode's detail: what the timeline and the transcript draw, nothing the page ignores. */
function detailOf(
  line: Json,
  file: string,
  prices: PriceTable | null,
  budget: StateBudget,
): { row: Partial<EpisodeRow>; detail: unknown } {
  const replay = readReplayFile(file);
  const scenario = replay.scenario;
  const states = statesOf(replay, budget);
  const tasks = scenario.tasks.map((t) => ({
    id: t.id,
    arrivalMs: t.arrivalMs,
    message: t.message,
    steps: t.steps.map((s) => ({ id: s.id, tool: s.tool, after: s.after })),
  }));
  const model = replay.events.some((e) => e.type === 'decision_ended' && e.note !== null);
  const detail = {
    scenario: scenario.id,
    agent: replay.header.agent,
    seed: replay.header.seed,
    world: replay.header.world,
    tasks,
    events: replay.events,
    score: line.score ?? null,
    complete: replay.complete,
    costs: turnCosts(replay.events, prices),
    ...(states === null ? {} : { states }),
  };
  return {
    row: {
      tasks: tasks.length,
      domains: domainsOf(scenario.tags as Record<string, string> | undefined),
      model,
    },
    detail,
  };
}

function episodeRow(run: number, line: Json, extra: Partial<EpisodeRow>): EpisodeRow {
  const score = (line.score ?? null) as Json | null;
  const steps = (score?.steps ?? {}) as Json;
  const efficiency = (score?.efficiency ?? {}) as Json;
  return {
    run,
    agent: String(line.agent),
    instance: String(line.instance),
    seed: num(line.seed),
    mode: String(line.mode ?? ''),
    delivery: String(line.delivery ?? ''),
    endReason: String(line.endReason ?? ''),
    // episodes.jsonl says true/false; the page averages it, so 1/0.
    success: score === null ? null : score.success === true ? 1 : 0,
    tasks: extra.tasks ?? 0,
    domains: extra.domains ?? [],
    violations: num(steps.dependencyViolations),
    invalid: num(steps.invalidCalls),
    boundRatio: typeof efficiency.boundRatio === 'number' ? efficiency.boundRatio : null,
    makespanUs: num(line.makespanUs),
    calls: Array.isArray(score?.calls) ? (score.calls as unknown[]).length : 0,
    model: extra.model ?? false,
  };
}

/** Success per (agent, group); an episode counts in each group `groups` gives it. */
export function shares(
  episodes: readonly EpisodeRow[],
  series: (e: EpisodeRow) => string,
  groups: (e: EpisodeRow) => readonly string[],
): Share[] {
  const acc = new Map<string, { agent: string; group: string; n: number; successes: number }>();
  for (const e of episodes) {
    if (e.success === null) continue;
    for (const group of groups(e)) {
      const agent = series(e);
      const key = JSON.stringify([agent, group]);
      const a = acc.get(key) ?? { agent, group, n: 0, successes: 0 };
      a.n += 1;
      a.successes += e.success;
      acc.set(key, a);
    }
  }
  return [...acc.values()].map((a) => ({
    ...a,
    mean: a.successes / a.n,
    ...wilson(a.successes, a.n),
  }));
}

/** Reads run directories; one line naming the file for anything missing or unreadable. */
export function collectReport(
  dirs: readonly string[],
  limits: StateLimits = STATE_LIMITS,
): ReportData {
  const budget: StateBudget = { limits, usedBytes: 0 };
  const runs: RunData[] = [];
  const episodes: EpisodeRow[] = [];
  const details: string[] = [];
  dirs.forEach((dir, run) => {
    for (const f of [RUN_FILE, EPISODES_FILE, SUMMARY_FILE]) {
      if (!existsSync(join(dir, f)))
        throw new UsageError(`${join(dir, f)}: missing (not a finished run directory)`);
    }
    const manifest = readRunManifest(dir);
    const prices = priceTable(manifest);
    // summary.json is the run's summary document; the leaderboard reads its per-agent list.
    const document = readJson(join(dir, SUMMARY_FILE)) as { agents?: unknown } | unknown[];
    runs.push({
      dir,
      manifest,
      summary: Array.isArray(document) ? document : (document?.agents ?? []),
    });
    for (const { record } of readEpisodeLines(dir)) {
      const line = record as unknown as Json;
      const { row, detail } = detailOf(line, join(dir, String(line.replay)), prices, budget);
      episodes.push(episodeRow(run, line, row));
      details.push(gzipSync(JSON.stringify(detail), { level: 9 }).toString('base64'));
    }
  });
  // Runs of one agent in both modes are different series: named with their mode, never merged.
  const modes = new Set(episodes.map((e) => e.mode));
  const series =
    modes.size > 1
      ? (e: EpisodeRow): string => `${e.agent} [${e.mode}]`
      : (e: EpisodeRow): string => e.agent;
  const byDomain = shares(episodes, series, (e) => e.domains);
  const byTasks = shares(episodes, series, (e) => [String(e.tasks)]);
  return { runs, byDomain, byTasks, episodes, details, ablation: ablationPoints(dirs) };
}

/**
 * One point of an ablation's effect plot: an agent at a level, either its value there (with its
 * 95% interval) or its difference from the baseline level (with the paired 95% interval), as the
 * run's summary.json holds them (cli/ablation.ts), never recomputed.
 */
export interface AblationPoint {
  readonly run: number;
  readonly kind: string;
  readonly baseline: string;
  readonly levels: readonly string[];
  readonly agent: string;
  readonly level: string;
  readonly metric: 'task success' | 'bound/makespan';
  readonly panel: 'at the level' | 'minus the baseline';
  readonly mean: number;
  readonly low: number | null;
  readonly high: number | null;
  readonly n: number;
}

/** The points of every run whose summary.json has an ablation's effect. */
export function ablationPoints(dirs: readonly string[]): AblationPoint[] {
  return dirs.flatMap((dir, run) => {
    const effect = (readJson(join(dir, SUMMARY_FILE)) as { ablation?: AblationEffect } | null)
      ?.ablation;
    if (effect === undefined) return [];
    const { kind, baseline, levels } = effect;
    const point = (
      agent: string,
      level: string,
      metric: AblationPoint['metric'],
      panel: AblationPoint['panel'],
      s: Stat | null,
    ): AblationPoint[] =>
      s === null || s.mean === null
        ? []
        : [
            {
              run,
              kind,
              baseline,
              levels,
              agent,
              level,
              metric,
              panel,
              mean: s.mean,
              low: s.low,
              high: s.high,
              n: s.n,
            },
          ];
    return effect.agents.flatMap(({ agent, levels: rows }) =>
      rows.flatMap((l) => [
        ...point(agent, l.level, 'task success', 'at the level', l.taskSuccess),
        ...point(agent, l.level, 'bound/makespan', 'at the level', l.efficiency),
        ...point(agent, l.level, 'task success', 'minus the baseline', l.successDifference),
        ...point(agent, l.level, 'bound/makespan', 'minus the baseline', l.efficiencyDifference),
      ]),
    );
  });
}
