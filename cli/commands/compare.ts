/**
 * `tooltime compare DIR_A DIR_B`: per agent and metric, B minus A with a 95% paired t interval over
 * the (instance, seed) pairs both runs have. Agents pair by name, or as `--pair A=B` says. Runs
 * scored by different scoring versions are re-scored from replays (`--rescore`) or refused.
 */
import type { Command } from 'commander';
import type { EpisodeRecord } from '../../scenarios/experiment.js';
import { stat } from '../../scenarios/scoring/index.js';
import type { EpisodeScore, Stat } from '../../scenarios/scoring/index.js';
import { UsageError } from '../errors.js';
import { readRun } from '../run-read.js';
import { parseFormat, renderTables, type TableData } from '../tables.js';

export interface CompareOptions {
  readonly pair?: string[];
  readonly format?: string;
  readonly rescore?: boolean;
}

/** The metrics compared: per-episode values (null: the episode has none, and its pair is left out). */
export const COMPARED: ReadonlyArray<{
  readonly name: string;
  readonly of: (s: EpisodeScore) => number | null;
}> = [
  { name: 'task success', of: (s) => (s.success ? 1 : 0) },
  { name: 'sub-task success', of: (s) => s.subtaskSuccessRate },
  { name: 'step F1', of: (s) => s.steps.f1 },
  { name: 'violations/ep', of: (s) => s.steps.dependencyViolations },
  { name: 'bound/makespan', of: (s) => s.efficiency.successBoundRatio },
  { name: 'speedup vs seq', of: (s) => s.efficiency.successSpeedup },
];

export interface MetricDifference {
  readonly metric: string;
  readonly a: number | null;
  readonly b: number | null;
  /** B - A over the pairs where both have a value, with its paired interval. */
  readonly difference: Stat;
}

export interface AgentComparison {
  readonly a: string;
  readonly b: string;
  readonly pairs: number;
  readonly metrics: readonly MetricDifference[];
}

/** `--pair A=B` pairs, else every agent both runs have, by name (in A's order). */
function agentPairs(
  a: readonly string[],
  b: readonly string[],
  given: readonly string[] | undefined,
): Array<[string, string]> {
  if (given !== undefined && given.length > 0) {
    return given.map((p) => {
      const m = /^(.+?)=(.+)$/.exec(p);
      if (m === null) throw new UsageError(`--pair must look like AGENT_A=AGENT_B, got "${p}"`);
      if (!a.includes(m[1]!))
        throw new UsageError(
          `--pair ${p}: the first run has no agent ${m[1]} (it has ${a.join(', ')})`,
        );
      if (!b.includes(m[2]!))
        throw new UsageError(
          `--pair ${p}: the second run has no agent ${m[2]} (it has ${b.join(', ')})`,
        );
      return [m[1]!, m[2]!];
    });
  }
  const pairs = a.filter((x) => b.includes(x)).map((x): [string, string] => [x, x]);
  if (pairs.length === 0)
    throw new UsageError(
      `the runs share no agent name (${a.join(', ')} vs ${b.join(', ')}): pair them with --pair A=B`,
    );
  return pairs;
}

const mean = (xs: ReadonlyArray<number | null>): number | null => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length === 0 ? null : v.reduce((s, x) => s + x, 0) / v.length;
};

export function compareEpisodes(
  a: readonly EpisodeRecord[],
  b: readonly EpisodeRecord[],
  pairsGiven?: readonly string[],
): AgentComparison[] {
  const agents = (eps: readonly EpisodeRecord[]) => [...new Set(eps.map((e) => e.agent))];
  return agentPairs(agents(a), agents(b), pairsGiven).map(([agentA, agentB]) => {
    const bByKey = new Map(
      b.filter((e) => e.agent === agentB).map((e) => [`${e.instance}\u0000${e.seed}`, e]),
    );
    const shared = a
      .filter((e) => e.agent === agentA)
      .flatMap((e) => {
        const other = bByKey.get(`${e.instance}\u0000${e.seed}`);
        return other === undefined ? [] : [[e, other] as const];
      });
    if (shared.length === 0)
      throw new UsageError(
        `${agentA} and ${agentB} share no (instance, seed) pair: nothing to compare`,
      );
    const metrics = COMPARED.map(({ name, of }) => {
      const both = shared
        .map(([x, y]) => [of(x.score), of(y.score)] as const)
        .filter(([x, y]) => x !== null && y !== null) as Array<readonly [number, number]>;
      return {
        metric: name,
        a: mean(both.map(([x]) => x)),
        b: mean(both.map(([, y]) => y)),
        difference: stat(both.map(([x, y]) => y - x)),
      };
    });
    return { a: agentA, b: agentB, pairs: shared.length, metrics };
  });
}

const fixed = (x: number | null): string => (x === null ? '-' : x.toFixed(3));

export function comparisonTable(rows: readonly AgentComparison[]): TableData {
  return {
    title: null,
    headers: ['agent (A / B)', 'metric', 'pairs', 'A', 'B', 'B - A', '95% paired interval'],
    rows: rows.flatMap((c) =>
      c.metrics.map((m) => [
        c.a === c.b ? c.a : `${c.a} / ${c.b}`,
        m.metric,
        String(m.difference.n),
        fixed(m.a),
        fixed(m.b),
        fixed(m.difference.mean),
        m.difference.low === null || m.difference.high === null
          ? '-'
          : `[${fixed(m.difference.low)}, ${fixed(m.difference.high)}]`,
      ]),
    ),
    numeric: {
      headers: ['agent_a', 'agent_b', 'metric', 'pairs', 'a', 'b', 'difference', 'low', 'high'],
      rows: rows.flatMap((c) =>
        c.metrics.map((m) => [
          c.a,
          c.b,
          m.metric,
          String(m.difference.n),
          ...[m.a, m.b, m.difference.mean, m.difference.low, m.difference.high].map((x) =>
            x === null ? '' : String(x),
          ),
        ]),
      ),
    },
  };
}

export async function compareCommand(
  dirA: string,
  dirB: string,
  options: CompareOptions,
): Promise<void> {
  const format = parseFormat(options.format ?? 'text');
  const a = await readRun(dirA, options.rescore === true);
  const b = await readRun(dirB, options.rescore === true);
  const rows = compareEpisodes(a.episodes, b.episodes, options.pair);
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify({ a: dirA, b: dirB, comparisons: rows }, null, 2)}\n`);
    return;
  }
  if (format === 'text')
    process.stdout.write(
      `B - A: A = ${dirA} (${a.manifest.mode}/${a.manifest.delivery}), B = ${dirB} (${b.manifest.mode}/${b.manifest.delivery}); over the (instance, seed) pairs both ran\n\n`,
    );
  process.stdout.write(`${renderTables([comparisonTable(rows)], format)}\n`);
}

export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description(
      'per agent and metric, run B minus run A with a 95% paired interval over their shared (instance, seed) pairs',
    )
    .argument('<dirA>', 'run directory A')
    .argument('<dirB>', 'run directory B')
    .option(
      '--pair <a=b>',
      'compare agent A of the first run with agent B of the second (default: agents of the same name); repeatable',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--format <format>', 'md, csv or json instead of a text table')
    .option(
      '--rescore',
      'episodes scored by another scoring version: re-score them from their replays (else refused)',
    )
    .action(async (dirA: string, dirB: string, options: CompareOptions) => {
      await compareCommand(dirA, dirB, options);
    });
}
