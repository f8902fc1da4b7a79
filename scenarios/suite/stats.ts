/**
 * Suite statistics: counts per dimension (domain, domain pair, mix, task count, dependency pattern,
 * step count, latency variant, stress, operator), balance figures per dimension (max/min ratio over
 * its strata, normalized entropy), and the balance thresholds a suite should meet.
 *
 * Normalized entropy is H / ln(k) over the k strata a dimension should have (every pair of the
 * domains present for domain pairs, so a missing pair counts as 0), 1 when k < 2.
 */
import { readFileSync } from 'node:fs';
import { SEED_PATTERNS } from './domains.js';
import { suiteFiles } from './files.js';
import { OPERATOR_ORDER, STRESSES, VARIANTS } from './model.js';

export interface DimensionStats {
  readonly name: string;
  readonly title: string;
  /** Stratum and count, in display order. */
  readonly counts: ReadonlyArray<readonly [string, number]>;
  /** What is counted: instances, or appearances (patterns: one per task). */
  readonly unit: string;
  readonly min: number;
  readonly max: number;
  /** max / min; null when min is 0. */
  readonly ratio: number | null;
  readonly entropy: number;
}

export interface BalanceCheck {
  readonly dimension: string;
  readonly rule: string;
  readonly value: number | null;
  readonly ok: boolean;
}

export interface SuiteStats {
  readonly dir: string;
  readonly instances: number;
  readonly dimensions: readonly DimensionStats[];
  readonly checks: readonly BalanceCheck[];
  readonly ok: boolean;
}

/** The thresholds (quoted in OPERATORS.md). */
export const THRESHOLDS = {
  domainMinOfMean: 0.8,
  domainRatio: 1.25,
  domainEntropy: 0.99,
  pairMin: 1,
  pairRatio: 1.5,
  pairEntropy: 0.98,
  tasksRatio: 1.05,
  similarShare: [0.28, 0.39] as const,
  patternRatio: 1.25,
  patternEntropy: 0.98,
  variantRatio: 1.1,
  variantEntropy: 0.99,
  stressRatio: 1.1,
  operatorShare: [0.4, 0.6] as const,
} as const;

/**
 * The thresholds of a stateful suite (instances tagged with `state`: asynctool-stateful). Its plan
 * is fixed rather than drawn (stateful.ts): every cross pair is a dual, so pairs need only be
 * present; the shared filesystem instances make that kind a little more frequent; there are no
 * latency variants or operators to balance.
 */
export const STATEFUL_THRESHOLDS = {
  domainMinOfMean: 0.8,
  domainRatio: 1.25,
  domainEntropy: 0.99,
  pairMin: 1,
  tasksRatio: 1.25,
  sharedShare: [0.05, 0.25] as const,
  patternMinShare: 0.1,
} as const;

/** A suite folder that cannot be read or holds no instances. */
export class SuiteStatsError extends Error {
  override name = 'SuiteStatsError';
}

interface InstanceFacts {
  readonly domains: string[];
  readonly mix: string;
  readonly tasks: string;
  readonly patterns: string[];
  readonly steps: number;
  readonly variant: string;
  readonly stress: string;
  readonly operators: string[];
  /** `per-task` or `shared` on a stateful suite's instances; undefined elsewhere. */
  readonly state: string | undefined;
}

function facts(file: string): InstanceFacts {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new SuiteStatsError(
      `${file}: cannot read: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const tags = (doc.tags ?? {}) as Record<string, string>;
  const list = (v: string | undefined, sep: string): string[] =>
    v === undefined || v === '' ? [] : v.split(sep);
  const tasks = Array.isArray(doc.tasks) ? (doc.tasks as Array<{ steps?: unknown[] }>) : [];
  const messages = Array.isArray(doc.messages)
    ? (doc.messages as Array<{ steps?: unknown[] }>)
    : [];
  const steps = [...tasks, ...messages].reduce(
    (a, t) => a + (Array.isArray(t.steps) ? t.steps.length : 0),
    0,
  );
  return {
    domains: list(tags.domains, '+'),
    mix: tags.mix ?? '?',
    tasks: tags.tasks ?? String(tasks.length),
    patterns: list(tags.patterns, '+'),
    steps,
    variant: tags.variant ?? '?',
    stress: tags.stress ?? '?',
    operators: list(tags.operators, ','),
    state: tags.state,
  };
}

function dimension(
  name: string,
  title: string,
  unit: string,
  counts: Map<string, number>,
  order: (a: string, b: string) => number,
): DimensionStats {
  const entries = [...counts.entries()].sort((a, b) => order(a[0], b[0]));
  const values = entries.map(([, n]) => n);
  const min = values.length === 0 ? 0 : Math.min(...values);
  const max = values.length === 0 ? 0 : Math.max(...values);
  const total = values.reduce((a, b) => a + b, 0);
  let h = 0;
  for (const n of values) if (n > 0) h -= (n / total) * Math.log(n / total);
  const entropy = values.length < 2 ? 1 : h / Math.log(values.length);
  return {
    name,
    title,
    unit,
    counts: entries,
    min,
    max,
    ratio: min === 0 ? null : max / min,
    entropy,
  };
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const inOrder =
  (order: readonly string[]) =>
  (a: string, b: string): number => {
    const ia = order.indexOf(a);
    const ib = order.indexOf(b);
    return (ia < 0 ? order.length : ia) - (ib < 0 ? order.length : ib) || byName(a, b);
  };

function bump(m: Map<string, number>, k: string, by = 1): void {
  m.set(k, (m.get(k) ?? 0) + by);
}

/** Statistics of the suite in `dir`. Throws (a UsageError by name) when it holds no instances. */
export function suiteStats(dir: string): SuiteStats {
  const all = instanceFacts(dir);
  const tallies = tally(all);
  const dimensions = dimensionsOf(tallies);
  // A stateful suite (every instance names its environments' sharing) has its own dimensions and
  // thresholds: no latency variants, stresses or operators; environment instances instead.
  if (all.every((f) => f.state !== undefined)) {
    const state = new Map<string, number>();
    for (const f of all) bump(state, f.state!);
    const kept = dimensions.filter((d) => !['variant', 'stress', 'operator'].includes(d.name));
    kept.push(dimension('state', 'Environment instances', 'instances', state, byName));
    return statefulStats(dir, all.length, kept);
  }
  const checks = balanceChecks(dimensions, tallies, all.length);
  return { dir, instances: all.length, dimensions, checks, ok: checks.every((c) => c.ok) };
}

/** The facts of every instance of the suite in `dir`. */
function instanceFacts(dir: string): InstanceFacts[] {
  let files: string[];
  try {
    files = suiteFiles(dir);
  } catch (error) {
    throw new SuiteStatsError(
      `${dir}: cannot read: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (files.length === 0)
    throw new SuiteStatsError(`${dir}: no instances (no *.json besides index.json)`);
  const all = files.map(facts);
  return all;
}

/** How many instances (or tasks) have each value of each dimension. */
interface Tallies {
  readonly domain: Map<string, number>;
  readonly pair: Map<string, number>;
  readonly mix: Map<string, number>;
  readonly tasks: Map<string, number>;
  readonly pattern: Map<string, number>;
  readonly patternMix: Map<string, number>;
  readonly steps: Map<string, number>;
  readonly variant: Map<string, number>;
  readonly stress: Map<string, number>;
  readonly operator: Map<string, number>;
  /** The domains, sorted. */
  readonly slugs: readonly string[];
}

function tally(all: readonly InstanceFacts[]): Tallies {
  const domain = new Map<string, number>();
  const pair = new Map<string, number>();
  const mix = new Map<string, number>();
  const tasks = new Map<string, number>();
  const pattern = new Map<string, number>();
  const patternMix = new Map<string, number>();
  const steps = new Map<string, number>();
  const variant = new Map<string, number>();
  const stress = new Map<string, number>();
  const operator = new Map<string, number>();
  for (const f of all) {
    for (const d of new Set(f.domains)) bump(domain, d);
    bump(mix, f.mix);
    bump(tasks, f.tasks);
    for (const p of f.patterns) bump(pattern, p);
    bump(patternMix, f.patterns.join('+'));
    bump(steps, String(f.steps));
    bump(variant, f.variant);
    bump(stress, f.stress);
    for (const op of new Set(f.operators)) bump(operator, op);
  }
  const slugs = [...domain.keys()].sort();
  for (let i = 0; i < slugs.length; i++)
    for (let j = i + 1; j < slugs.length; j++) pair.set(`${slugs[i]}+${slugs[j]}`, 0);
  for (const f of all) {
    const ds = [...new Set(f.domains)].sort();
    for (let i = 0; i < ds.length; i++)
      for (let j = i + 1; j < ds.length; j++) bump(pair, `${ds[i]}+${ds[j]}`);
  }
  return { domain, pair, mix, tasks, pattern, patternMix, steps, variant, stress, operator, slugs };
}

function dimensionsOf(t: Tallies): DimensionStats[] {
  const { domain, pair, mix, tasks, pattern, patternMix, steps, variant, stress, operator } = t;
  return [
    dimension('domain', 'Domain (instances containing it)', 'instances', domain, byName),
    dimension(
      'domainPair',
      'Cross-domain pair (instances containing both)',
      'instances',
      pair,
      byName,
    ),
    dimension('mix', 'Mix', 'instances', mix, inOrder(['similar', 'cross'])),
    dimension('tasks', 'Task count', 'instances', tasks, byName),
    dimension(
      'pattern',
      'Dependency pattern (one per task)',
      'tasks',
      pattern,
      inOrder(SEED_PATTERNS),
    ),
    dimension(
      'patternMix',
      'Pattern combination',
      'instances',
      patternMix,
      (a, b) => a.split('+').length - b.split('+').length || byName(a, b),
    ),
    dimension('steps', 'Expected steps', 'instances', steps, (a, b) => Number(a) - Number(b)),
    dimension('variant', 'Latency variant', 'instances', variant, inOrder(VARIANTS)),
    dimension(
      'stress',
      'Stress (concurrency limit, transient failures)',
      'instances',
      stress,
      inOrder(STRESSES),
    ),
    dimension(
      'operator',
      'Operator (instances it was applied to)',
      'instances',
      operator,
      inOrder(OPERATOR_ORDER),
    ),
  ];
}

/** The balance checks (THRESHOLDS) over the dimensions of `n` instances. */
function balanceChecks(dims: readonly DimensionStats[], t: Tallies, n: number): BalanceCheck[] {
  const { mix, operator, slugs } = t;
  const dim = (name: string): DimensionStats => dims.find((d) => d.name === name)!;
  const checks: BalanceCheck[] = [];
  const T = THRESHOLDS;
  const check = (dimensionName: string, rule: string, value: number | null, ok: boolean): void => {
    checks.push({ dimension: dimensionName, rule, value, ok });
  };
  const ratioCheck = (name: string, limit: number): void => {
    const d = dim(name);
    if (d.counts.length < 2) return;
    check(name, `max/min <= ${limit}`, d.ratio, d.ratio !== null && d.ratio <= limit);
  };
  const entropyCheck = (name: string, limit: number): void => {
    const d = dim(name);
    if (d.counts.length < 2) return;
    check(name, `normalized entropy >= ${limit}`, d.entropy, d.entropy >= limit);
  };
  const d = dim('domain');
  const mean = d.counts.reduce((a, [, c]) => a + c, 0) / d.counts.length;
  check(
    'domain',
    `every domain in >= ${T.domainMinOfMean} x mean (${Math.ceil(T.domainMinOfMean * mean)}) instances`,
    d.min,
    d.min >= T.domainMinOfMean * mean,
  );
  ratioCheck('domain', T.domainRatio);
  entropyCheck('domain', T.domainEntropy);
  if (dim('domainPair').counts.length > 0) {
    check(
      'domainPair',
      `every pair of domains in >= ${T.pairMin} instance`,
      dim('domainPair').min,
      dim('domainPair').min >= T.pairMin,
    );
    ratioCheck('domainPair', T.pairRatio);
    entropyCheck('domainPair', T.pairEntropy);
  }
  ratioCheck('tasks', T.tasksRatio);
  if (slugs.length >= 2) {
    const share = (mix.get('similar') ?? 0) / n;
    check(
      'mix',
      `similar share in [${T.similarShare[0]}, ${T.similarShare[1]}]`,
      share,
      share >= T.similarShare[0] && share <= T.similarShare[1],
    );
  }
  ratioCheck('pattern', T.patternRatio);
  entropyCheck('pattern', T.patternEntropy);
  ratioCheck('variant', T.variantRatio);
  entropyCheck('variant', T.variantEntropy);
  ratioCheck('stress', T.stressRatio);
  for (const op of ['deepen', 'widen', 'stagger', 'followup']) {
    const share = (operator.get(op) ?? 0) / n;
    check(
      'operator',
      `${op} share in [${T.operatorShare[0]}, ${T.operatorShare[1]}]`,
      share,
      share >= T.operatorShare[0] && share <= T.operatorShare[1],
    );
  }
  return checks;
}

/** A stateful suite's checks (STATEFUL_THRESHOLDS) over its dimensions. */
function statefulStats(dir: string, n: number, dims: DimensionStats[]): SuiteStats {
  const T = STATEFUL_THRESHOLDS;
  const dim = (name: string): DimensionStats => dims.find((d) => d.name === name)!;
  const checks: BalanceCheck[] = [];
  const check = (dimensionName: string, rule: string, value: number | null, ok: boolean): void => {
    checks.push({ dimension: dimensionName, rule, value, ok });
  };
  const d = dim('domain');
  const mean = d.counts.reduce((a, [, c]) => a + c, 0) / Math.max(1, d.counts.length);
  check(
    'domain',
    `every domain in >= ${T.domainMinOfMean} x mean (${Math.ceil(T.domainMinOfMean * mean)}) instances`,
    d.min,
    d.min >= T.domainMinOfMean * mean,
  );
  check(
    'domain',
    `max/min <= ${T.domainRatio}`,
    d.ratio,
    d.ratio !== null && d.ratio <= T.domainRatio,
  );
  check(
    'domain',
    `normalized entropy >= ${T.domainEntropy}`,
    d.entropy,
    d.entropy >= T.domainEntropy,
  );
  const pair = dim('domainPair');
  check(
    'domainPair',
    `every pair of domains in >= ${T.pairMin} instance`,
    pair.min,
    pair.min >= T.pairMin,
  );
  const tasks = dim('tasks');
  check(
    'tasks',
    `max/min <= ${T.tasksRatio}`,
    tasks.ratio,
    tasks.ratio !== null && tasks.ratio <= T.tasksRatio,
  );
  const shared = (dim('state').counts.find(([k]) => k === 'shared')?.[1] ?? 0) / n;
  check(
    'state',
    `shared share in [${T.sharedShare[0]}, ${T.sharedShare[1]}]`,
    shared,
    shared >= T.sharedShare[0] && shared <= T.sharedShare[1],
  );
  const pattern = dim('pattern');
  const total = pattern.counts.reduce((a, [, c]) => a + c, 0);
  const minShare = total === 0 ? 0 : pattern.min / total;
  check(
    'pattern',
    `every pattern >= ${T.patternMinShare} of tasks`,
    minShare,
    minShare >= T.patternMinShare,
  );
  return { dir, instances: n, dimensions: dims, checks, ok: checks.every((c) => c.ok) };
}

function fmt(x: number | null, digits = 3): string {
  if (x === null) return 'inf';
  return Number.isInteger(x) ? String(x) : x.toFixed(digits);
}

/** The statistics as text: one block per dimension, then the balance checks. */
export function formatSuiteStats(stats: SuiteStats): string {
  const lines: string[] = [`suite ${stats.dir}: ${stats.instances} instances`, ''];
  for (const d of stats.dimensions) {
    lines.push(
      `${d.title}: ${d.counts.length} strata, min ${d.min}, max ${d.max}, max/min ${fmt(d.ratio, 2)}, normalized entropy ${fmt(d.entropy)}`,
    );
    const width = Math.max(...d.counts.map(([k]) => k.length));
    if (d.name === 'domainPair' || d.name === 'patternMix') {
      // Many strata: a compact histogram of counts instead of one line each.
      const hist = new Map<number, number>();
      for (const [, c] of d.counts) hist.set(c, (hist.get(c) ?? 0) + 1);
      const parts = [...hist.entries()].sort((a, b) => a[0] - b[0]).map(([c, k]) => `${k} x ${c}`);
      lines.push(`  strata by count (strata x ${d.unit}): ${parts.join(', ')}`);
      if (d.name === 'patternMix')
        for (const [k, c] of d.counts) lines.push(`  ${k.padEnd(width)}  ${String(c).padStart(5)}`);
    } else {
      const base =
        d.unit === 'instances' ? stats.instances : d.counts.reduce((a, [, c]) => a + c, 0);
      for (const [k, c] of d.counts)
        lines.push(
          `  ${k.padEnd(width)}  ${String(c).padStart(5)}  ${((100 * c) / base).toFixed(1).padStart(5)}% of ${d.unit}`,
        );
    }
    lines.push('');
  }
  lines.push('Balance checks:');
  for (const c of stats.checks)
    lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'}  ${c.dimension}: ${c.rule} (${fmt(c.value)})`);
  lines.push(`balance: ${stats.ok ? 'ok' : 'FAILED'}`);
  return `${lines.join('\n')}\n`;
}
