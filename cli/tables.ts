/**
 * The run's tables as data (title, headers, rows of cells), so that `run`, `summarize` and
 * `compare` print the same tables, and print them as text, Markdown or CSV (`--format`).
 * Breakdowns by tag (`--by KEY`) summarise each agent over the instances that have each value.
 */
import type { AgentSummary, EpisodeRecord } from '../scenarios/experiment.js';
import { aggregate } from '../scenarios/scoring/index.js';
import type { Stat, SuiteSummary } from '../scenarios/scoring/index.js';
import { UsageError } from './errors.js';
import { table } from './table.js';

export interface TableData {
  readonly title: string | null;
  readonly headers: readonly string[];
  readonly rows: ReadonlyArray<ReadonlyArray<string>>;
  /** The same table as plain numbers for `--format csv` (spreadsheets); else the cells above. */
  readonly numeric?: {
    readonly headers: readonly string[];
    readonly rows: ReadonlyArray<ReadonlyArray<string>>;
  };
}

/** A Stat as CSV columns: NAME_mean, NAME_low, NAME_high, NAME_n (empty: none). */
const STAT_PARTS = ['mean', 'low', 'high', 'n'] as const;
const statHeaders = (name: string): string[] => STAT_PARTS.map((p) => `${name}_${p}`);
const statCells = (s: Stat): string[] => STAT_PARTS.map((p) => (s[p] === null ? '' : String(s[p])));

/** The numeric form of per-agent rows: `lead` cells, then every named metric as statHeaders. */
function numericRows(
  lead: readonly string[],
  metrics: readonly (keyof SuiteSummary['metrics'])[],
  rows: ReadonlyArray<{ lead: readonly string[]; summary: SuiteSummary }>,
): NonNullable<TableData['numeric']> {
  return {
    headers: [...lead, 'episodes', ...metrics.flatMap((m) => statHeaders(m))],
    rows: rows.map((r) => [
      ...r.lead,
      String(r.summary.episodes),
      ...metrics.flatMap((m) => statCells(r.summary.metrics[m])),
    ]),
  };
}

const MAIN_METRICS = [
  'taskSuccess',
  'subtaskSuccess',
  'f1',
  'dependencyViolations',
  'successWeightedBoundRatio',
  'boundRatioOfSuccesses',
  'successWeightedSpeedup',
  'speedupOfSuccesses',
] as const;
const INTERLEAVING_METRICS = ['switchesPerDecision', 'meanStreak', 'leavingReadyShare'] as const;
const BREAKDOWN_METRICS = [
  'taskSuccess',
  'subtaskSuccess',
  'successWeightedBoundRatio',
  'boundRatioOfSuccesses',
  'successWeightedSpeedup',
  'speedupOfSuccesses',
] as const;

export type TableFormat = 'text' | 'md' | 'csv' | 'json';

export function parseFormat(format: string | undefined): TableFormat {
  const f = format ?? 'text';
  if (f !== 'text' && f !== 'md' && f !== 'csv' && f !== 'json')
    throw new UsageError(`--format must be md, csv or json, got "${f}"`);
  return f;
}

/** A value with its 95% interval as [low, high] (asymmetric where the range clamps it). */
const withInterval = (
  mean: number | null,
  low: number | null,
  high: number | null,
  f: (x: number) => string,
): string =>
  mean === null
    ? '-'
    : `${f(mean)}${low === null || high === null ? '' : ` [${f(low)}, ${f(high)}]`}`;
export const pct = (s: Stat): string =>
  s.mean === null
    ? '-'
    : withInterval(s.mean, s.low, s.high, (x) => `${(x * 100).toFixed(1)}`).replace(
        /^([^ ]+)/,
        '$1%',
      );
export const num = (s: Stat, digits = 2): string =>
  withInterval(s.mean, s.low, s.high, (x) => x.toFixed(digits));
/** A secondary mean with the number of episodes it is over. */
export const ofN = (s: Stat, digits = 2): string =>
  s.mean === null ? '- (n=0)' : `${s.mean.toFixed(digits)} (n=${s.n})`;

/** The comparison table: one row per agent. */
export function summaryTableData(summaries: readonly AgentSummary[]): TableData {
  return {
    title: null,
    headers: [
      'agent',
      'task success',
      'sub-task success',
      'step F1',
      'violations/ep',
      'bound/makespan',
      'on successes',
      'speedup vs seq',
      'on successes',
      'pass^k',
    ],
    rows: summaries.map(({ agent, summary: s }) => [
      agent,
      pct(s.metrics.taskSuccess),
      pct(s.metrics.subtaskSuccess),
      num(s.metrics.f1),
      num(s.metrics.dependencyViolations),
      num(s.metrics.successWeightedBoundRatio),
      ofN(s.metrics.boundRatioOfSuccesses),
      num(s.metrics.successWeightedSpeedup),
      ofN(s.metrics.speedupOfSuccesses),
      s.passK.value === null
        ? '-'
        : `${pct({ n: s.instances, mean: s.passK.value, sd: null, interval: 'wilson', low: s.passK.low, high: s.passK.high })} (k=${s.passK.k})`,
    ]),
    numeric: numericRows(
      ['agent'],
      MAIN_METRICS,
      summaries.map((a) => ({ lead: [a.agent], summary: a.summary })),
    ),
  };
}

/** How each agent moves between tasks (AsyncTool's same-task streak; scenarios/scoring/METRICS.md). */
export function interleavingTableData(summaries: readonly AgentSummary[]): TableData {
  return {
    title: 'Interleaving (task switches and same-task streaks over calls and answers):',
    headers: [
      'agent',
      'switches/decision',
      'mean streak',
      'streaks 1 / 2 / 3 / 4+',
      'switches leaving a ready step',
    ],
    rows: summaries.map(({ agent, summary: s }) => [
      agent,
      num(s.metrics.switchesPerDecision),
      num(s.metrics.meanStreak),
      s.streakLengths.join(' / '),
      pct(s.metrics.leavingReadyShare),
    ]),
    numeric: numericRows(
      ['agent'],
      INTERLEAVING_METRICS,
      summaries.map((a) => ({ lead: [a.agent], summary: a.summary })),
    ),
  };
}

/** One tag key's breakdown: per value, each agent's summary over the instances with that value. */
export interface Breakdown {
  readonly key: string;
  readonly groups: ReadonlyArray<{
    readonly value: string;
    readonly agents: readonly AgentSummary[];
  }>;
}

/** The values of a tag key in `tags` (compound values split on `+`). */
export function valuesOf(
  tags: Readonly<Record<string, string>> | undefined,
  key: string,
): string[] {
  const raw = tags?.[key];
  return raw === undefined
    ? []
    : raw
        .split('+')
        .map((s) => s.trim())
        .filter((s) => s !== '');
}

/** Breakdowns of `episodes` by each key; `tagsOf` gives an instance's tags (with `tasks`). */
export function breakdowns(
  episodes: readonly EpisodeRecord[],
  tagsOf: (instance: string) => Readonly<Record<string, string>> | undefined,
  keys: readonly string[],
): Breakdown[] {
  const agents = [...new Set(episodes.map((e) => e.agent))];
  return keys.map((key) => {
    const values = [...new Set(episodes.flatMap((e) => valuesOf(tagsOf(e.instance), key)))];
    const numeric = values.every((v) => /^\d+$/.test(v));
    values.sort((a, b) => (numeric ? Number(a) - Number(b) : a < b ? -1 : a > b ? 1 : 0));
    if (values.length === 0)
      throw new UsageError(`--by ${key}: no instance of the run has a "${key}" tag`);
    const groups = values.map((value) => {
      const inGroup = episodes.filter((e) => valuesOf(tagsOf(e.instance), key).includes(value));
      const summaries = agents.flatMap((agent) => {
        const mine = inGroup.filter((e) => e.agent === agent);
        return mine.length === 0
          ? []
          : [
              {
                agent,
                summary: aggregate(
                  mine.map((r) => ({ instance: r.instance, seed: r.seed, score: r.score })),
                ),
              },
            ];
      });
      return { value, agents: summaries };
    });
    return { key, groups };
  });
}

/** A breakdown as one table: a row per (value, agent); success with its interval, efficiency with its count. */
export function breakdownTableData(b: Breakdown): TableData {
  return {
    title: `By ${b.key}:`,
    headers: [
      b.key,
      'agent',
      'episodes',
      'task success',
      'sub-task success',
      'bound/makespan',
      'on successes',
      'speedup vs seq',
      'on successes',
    ],
    rows: b.groups.flatMap((g) =>
      g.agents.map(({ agent, summary: s }) => [
        g.value,
        agent,
        String(s.episodes),
        pct(s.metrics.taskSuccess),
        pct(s.metrics.subtaskSuccess),
        ofN(s.metrics.successWeightedBoundRatio),
        ofN(s.metrics.boundRatioOfSuccesses),
        ofN(s.metrics.successWeightedSpeedup),
        ofN(s.metrics.speedupOfSuccesses),
      ]),
    ),
    numeric: numericRows(
      [b.key, 'agent'],
      BREAKDOWN_METRICS,
      b.groups.flatMap((g) =>
        g.agents.map((a) => ({ lead: [g.value, a.agent], summary: a.summary })),
      ),
    ),
  };
}

const csvCell = (c: string): string => (/[",\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c);
const mdCell = (c: string): string => c.replace(/\|/g, '\\|');

/** Tables in a format (not json: the caller prints its document), separated by a blank line. */
export function renderTables(
  tables: readonly TableData[],
  format: Exclude<TableFormat, 'json'>,
): string {
  return tables
    .map((t) => {
      if (format === 'text')
        return `${t.title === null ? '' : `${t.title}\n`}${table(t.headers, t.rows)}`;
      if (format === 'md') {
        const lines = [
          `| ${t.headers.map(mdCell).join(' | ')} |`,
          `|${t.headers.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
          ...t.rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`),
        ];
        return `${t.title === null ? '' : `${t.title.replace(/:$/, '')}\n\n`}${lines.join('\n')}`;
      }
      const plain = t.numeric ?? t;
      const lines = [plain.headers, ...plain.rows].map((r) => r.map(csvCell).join(','));
      return `${t.title === null ? '' : `# ${t.title.replace(/:$/, '')}\n`}${lines.join('\n')}`;
    })
    .join('\n\n');
}
