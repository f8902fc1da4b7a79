/**
 * AsyncTool's ablations as one run (`tooltime ablate mode|latency|tasks`): the levels, the
 * instances each level derives from the chosen ones (scenarios/ablation.ts), and the effect table:
 * per agent and level, task success and efficiency with their 95% intervals, and the level minus
 * the baseline level with a paired interval over the (instance, seed) pairs both ran (the paired
 * differences `tooltime compare` computes, over one run's levels instead of two runs).
 *
 * A level's instance is the chosen instance under the id `ID--LEVEL-SUFFIX` (`chain--sync`,
 * `chain--x0.5`, `chain--k2`), so one run directory holds every level's episodes, keyed as any
 * run's are; run.json's `ablation` says which instance and level each id is.
 */
import type { EpisodeRecord, ExperimentInstance } from '../scenarios/experiment.js';
import { firstTasks, scaleLatency, withId } from '../scenarios/ablation.js';
import type { Delivery, Mode } from '../scenarios/protocol.js';
import { aggregate, type Stat } from '../scenarios/scoring/index.js';
import { LATENCY_SCALE_MAX, LATENCY_SCALE_MIN } from '../scenarios/spec/schema.js';
import { compareEpisodes } from './commands/compare.js';
import { UsageError } from './errors.js';
import { num, pct, type TableData } from './tables.js';

export const ABLATION_KINDS = ['mode', 'latency', 'tasks'] as const;
export type AblationKind = (typeof ABLATION_KINDS)[number];

/** What run.json records of an ablation (it determines results: `--resume` compares it). */
export interface AblationSpec {
  readonly kind: AblationKind;
  /** The levels as given, in order; `baseline` is one of them. */
  readonly levels: readonly string[];
  readonly baseline: string;
  /** Each instance the run ran: the chosen instance it derives from, and its level. */
  readonly variants: ReadonlyArray<{
    readonly id: string;
    readonly instance: string;
    readonly level: string;
  }>;
}

/** The worlds of the mode ablation's levels: `poll` is async mode with polled delivery. */
export const MODE_LEVELS: Readonly<Record<string, { mode: Mode; delivery: Delivery }>> = {
  sync: { mode: 'sync', delivery: 'push' },
  async: { mode: 'async', delivery: 'push' },
  poll: { mode: 'async', delivery: 'poll' },
};

const DEFAULT_LEVELS: Readonly<Record<AblationKind, string>> = {
  mode: 'sync,async',
  latency: '0.5,1,2,4',
  tasks: '1,2,3',
};

/** At most this many levels: each one runs the whole grid again. */
const MAX_LEVELS = 16;

/** `--levels` parsed and checked for `kind` (canonical spellings: `2` for `2.0`). */
export function parseLevels(kind: AblationKind, text: string | undefined): string[] {
  const given = (text ?? DEFAULT_LEVELS[kind])
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (given.length < 2)
    throw new UsageError(`--levels needs at least two levels to compare, got "${text}"`);
  if (given.length > MAX_LEVELS) throw new UsageError(`--levels: at most ${MAX_LEVELS} levels`);
  const levels = given.map((level) => canonicalLevel(kind, level));
  const twice = levels.find((l, i) => levels.indexOf(l) !== i);
  if (twice !== undefined) throw new UsageError(`--levels: ${twice} is given twice`);
  return levels;
}

function canonicalLevel(kind: AblationKind, level: string): string {
  if (kind === 'mode') {
    if (MODE_LEVELS[level] === undefined)
      throw new UsageError(
        `--levels: the mode ablation's levels are ${Object.keys(MODE_LEVELS).join(', ')}, got "${level}"`,
      );
    return level;
  }
  const x = Number(level);
  if (kind === 'latency') {
    if (!(Number.isFinite(x) && x >= LATENCY_SCALE_MIN && x <= LATENCY_SCALE_MAX))
      throw new UsageError(
        `--levels: a latency scale is a number from ${LATENCY_SCALE_MIN} to ${LATENCY_SCALE_MAX}, got "${level}"`,
      );
    return String(x);
  }
  if (!(Number.isSafeInteger(x) && x >= 1 && x <= 64))
    throw new UsageError(`--levels: a number of tasks is an integer from 1 to 64, got "${level}"`);
  return String(x);
}

/** `--baseline` (a level), else latency 1 when it is a level, else the first level. */
export function baselineLevel(
  kind: AblationKind,
  levels: readonly string[],
  given: string | undefined,
): string {
  if (given === undefined)
    return kind === 'latency' && levels.includes('1') ? '1' : (levels[0] as string);
  const level = canonicalLevel(kind, given.trim());
  if (!levels.includes(level))
    throw new UsageError(`--baseline ${given} is not one of the levels (${levels.join(', ')})`);
  return level;
}

const SUFFIX: Readonly<Record<AblationKind, (level: string) => string>> = {
  mode: (level) => level,
  latency: (level) => `x${level}`,
  tasks: (level) => `k${level}`,
};

/** Longest scenario id (scenarios/spec/schema.ts). */
const MAX_ID = 64;

/**
 * Every (instance, level) of the grid, instance by instance then level by level, each as the
 * instance to run; for the tasks ablation, only instances with at least the most tasks a level asks
 * (so every level has the same instances, and every pair is complete).
 */
export function ablationInstances(
  kind: AblationKind,
  levels: readonly string[],
  chosen: readonly ExperimentInstance[],
): { instances: ExperimentInstance[]; variants: AblationSpec['variants']; left: number } {
  const most = kind === 'tasks' ? Math.max(...levels.map(Number)) : 0;
  const eligible = chosen.filter((i) => i.scenario.tasks.length >= most);
  if (eligible.length === 0)
    throw new UsageError(
      `no chosen instance has ${most} tasks (the most --levels asks for): choose others, or fewer tasks`,
    );
  const instances: ExperimentInstance[] = [];
  const variants: Array<AblationSpec['variants'][number]> = [];
  for (const base of eligible) {
    for (const level of levels) {
      const id = `${base.scenario.id}--${SUFFIX[kind](level)}`;
      if (id.length > MAX_ID)
        throw new UsageError(
          `instance ${base.scenario.id}: its ablation id ${id} is longer than ${MAX_ID} characters`,
        );
      if (kind === 'latency') checkScalable(base.scenario, Number(level));
      const scenario =
        kind === 'latency'
          ? scaleLatency(base.scenario, Number(level))
          : kind === 'tasks'
            ? firstTasks(base.scenario, Number(level))
            : base.scenario;
      const world = kind === 'mode' ? MODE_LEVELS[level]! : {};
      instances.push({ file: base.file, scenario: withId(scenario, id), ...world });
      variants.push({ id, instance: base.scenario.id, level });
    }
  }
  return { instances, variants, left: chosen.length - eligible.length };
}

/** A scenario whose tools carry a scale already stays within the bounds once scaled, or one line says not. */
function checkScalable(scenario: ExperimentInstance['scenario'], factor: number): void {
  for (const tool of scenario.tools) {
    const scale = (tool.latencyScale ?? 1) * factor;
    if (scale < LATENCY_SCALE_MIN || scale > LATENCY_SCALE_MAX)
      throw new UsageError(
        `instance ${scenario.id}: tool ${tool.name}'s latencyScale (${tool.latencyScale}) times ${factor} is ${scale}, outside [${LATENCY_SCALE_MIN}, ${LATENCY_SCALE_MAX}]`,
      );
  }
}

/** One agent at one level: its stats, and its difference from the baseline level (null there). */
export interface LevelEffect {
  readonly level: string;
  readonly episodes: number;
  readonly taskSuccess: Stat;
  /** successWeightedBoundRatio: the oracle's bound over the makespan, a failed episode 0. */
  readonly efficiency: Stat;
  /** This level minus the baseline over their shared (instance, seed) pairs; null at the baseline. */
  readonly successDifference: Stat | null;
  readonly efficiencyDifference: Stat | null;
}

/** The ablation's result (summary.json's `ablation`). */
export interface AblationEffect {
  readonly kind: AblationKind;
  readonly levels: readonly string[];
  readonly baseline: string;
  readonly agents: ReadonlyArray<{
    readonly agent: string;
    readonly levels: readonly LevelEffect[];
  }>;
}

/** The effect of each level on each agent, from the run's episodes. */
export function ablationEffect(
  spec: AblationSpec,
  episodes: readonly EpisodeRecord[],
): AblationEffect {
  const variant = new Map(spec.variants.map((v) => [v.id, v]));
  // A level's episodes under the instance they derive from, so levels pair on (instance, seed).
  const atLevel = (level: string): EpisodeRecord[] =>
    episodes.flatMap((e) => {
      const v = variant.get(e.instance);
      return v === undefined || v.level !== level ? [] : [{ ...e, instance: v.instance }];
    });
  const base = atLevel(spec.baseline);
  const agents = [...new Set(episodes.map((e) => e.agent))];
  return {
    kind: spec.kind,
    levels: spec.levels,
    baseline: spec.baseline,
    agents: agents.map((agent) => ({
      agent,
      levels: spec.levels.map((level) => levelEffect(spec, level, agent, base, atLevel(level))),
    })),
  };
}

function levelEffect(
  spec: AblationSpec,
  level: string,
  agent: string,
  base: readonly EpisodeRecord[],
  mine: readonly EpisodeRecord[],
): LevelEffect {
  const own = mine.filter((e) => e.agent === agent);
  const summary = aggregate(
    own.map((e) => ({ instance: e.instance, seed: e.seed, score: e.score })),
  );
  let differences: { success: Stat; efficiency: Stat } | null = null;
  if (level !== spec.baseline) {
    const [comparison] = compareEpisodes(
      base.filter((e) => e.agent === agent),
      own,
    );
    const of = (metric: string): Stat =>
      comparison!.metrics.find((m) => m.metric === metric)!.difference;
    differences = { success: of('task success'), efficiency: of('bound/makespan') };
  }
  return {
    level,
    episodes: own.length,
    taskSuccess: summary.metrics.taskSuccess,
    efficiency: summary.metrics.successWeightedBoundRatio,
    successDifference: differences?.success ?? null,
    efficiencyDifference: differences?.efficiency ?? null,
  };
}

const LEVEL_NAME: Readonly<Record<AblationKind, string>> = {
  mode: 'mode',
  latency: 'latency x',
  tasks: 'tasks',
};

/** A difference with its paired interval, signed: `+12.5% [+3.1, +21.9]`. */
function signed(s: Stat | null, percent: boolean): string {
  if (s === null) return 'baseline';
  if (s.mean === null) return '-';
  const f = (x: number) => {
    const v = percent ? (x * 100).toFixed(1) : x.toFixed(3);
    return x >= 0 ? `+${v}` : v;
  };
  const interval = s.low === null || s.high === null ? '' : ` [${f(s.low)}, ${f(s.high)}]`;
  return `${f(s.mean)}${percent ? '%' : ''}${interval}`;
}

const cell = (x: number | null): string => (x === null ? '' : String(x));
const statCells = (s: Stat | null): string[] =>
  s === null ? ['', '', '', ''] : [cell(s.mean), cell(s.low), cell(s.high), String(s.n)];

const NUMERIC_HEADERS = [
  'agent',
  'level',
  'episodes',
  ...['success', 'success_diff', 'efficiency', 'efficiency_diff'].flatMap((m) =>
    ['mean', 'low', 'high', 'n'].map((p) => `${m}_${p}`),
  ),
];

/** The effect as tables: one per agent, a row per level; as CSV, one table with an agent column. */
export function ablationTables(effect: AblationEffect, format: string): TableData[] {
  const numericRows = (agent: string, levels: readonly LevelEffect[]) =>
    levels.map((l) => [
      agent,
      l.level,
      String(l.episodes),
      ...statCells(l.taskSuccess),
      ...statCells(l.successDifference),
      ...statCells(l.efficiency),
      ...statCells(l.efficiencyDifference),
    ]);
  if (format === 'csv') {
    const rows = effect.agents.flatMap((a) => numericRows(a.agent, a.levels));
    return [
      { title: null, headers: NUMERIC_HEADERS, rows, numeric: { headers: NUMERIC_HEADERS, rows } },
    ];
  }
  return effect.agents.map(({ agent, levels }) => ({
    title: `${agent}: ${effect.kind} ablation, against ${LEVEL_NAME[effect.kind]} ${effect.baseline} (differences paired over (instance, seed)):`,
    headers: [
      LEVEL_NAME[effect.kind],
      'episodes',
      'task success',
      'vs baseline',
      'bound/makespan',
      'vs baseline',
    ],
    rows: levels.map((l) => [
      l.level,
      String(l.episodes),
      pct(l.taskSuccess),
      signed(l.successDifference, true),
      num(l.efficiency, 3),
      signed(l.efficiencyDifference, false),
    ]),
  }));
}
