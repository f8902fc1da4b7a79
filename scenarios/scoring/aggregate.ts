/**
 * Summaries over a suite: every (instance, seed) episode is one sample. Proportions of 0/1 outcomes
 * (task success, pass^k) get a 95% Wilson score interval; means of per-episode values a 95%
 * interval from Student's t (t(0.975, n-1) * sd / sqrt(n); exact table to 30 degrees of freedom, a
 * Cornish-Fisher expansion beyond, which tends to the normal 1.96), clamped to the values' range.
 * The result does not depend on the order of the input (it is sorted by instance, then seed).
 */
import { SCORING_VERSION } from './version.js';
import type { EpisodeScore, InstanceSummary, ScoredEpisode, Stat, SuiteSummary } from './types.js';

/** t(0.975, df) for df = 1..30. */
const T975 = [
  12.706204736, 4.30265273, 3.182446305, 2.776445105, 2.570581836, 2.446911851, 2.364624252,
  2.306004135, 2.262157163, 2.228138852, 2.20098516, 2.17881283, 2.160368656, 2.144786688,
  2.131449546, 2.119905299, 2.109815578, 2.10092204, 2.093024054, 2.085963447, 2.079613845,
  2.073873068, 2.06865761, 2.063898562, 2.059538553, 2.055529439, 2.051830516, 2.048407142,
  2.045229642, 2.042272456,
];
const Z975 = 1.959963984540054;

/** The 0.975 quantile of Student's t with `df` degrees of freedom (df >= 1). */
export function tQuantile975(df: number): number {
  if (!Number.isInteger(df) || df < 1)
    throw new RangeError(`degrees of freedom must be a positive integer, got ${df}`);
  const exact = T975[df - 1];
  if (exact !== undefined) return exact;
  const z = Z975;
  const z3 = z ** 3;
  const z5 = z ** 5;
  const z7 = z ** 7;
  const z9 = z ** 9;
  return (
    z +
    (z3 + z) / (4 * df) +
    (5 * z5 + 16 * z3 + 3 * z) / (96 * df ** 2) +
    (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * df ** 3) +
    (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / (92160 * df ** 4)
  );
}

/** The range a metric's values lie in: a t interval is clamped to it. */
export interface Range {
  readonly min: number;
  readonly max: number;
}

export const UNIT: Range = { min: 0, max: 1 };
export const NON_NEGATIVE: Range = { min: 0, max: Infinity };

function meanAndSd(xs: readonly number[]): { mean: number; sd: number | null } {
  const n = xs.length;
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  if (n < 2) return { mean, sd: null };
  return { mean, sd: Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1)) };
}

/**
 * Mean, sample sd and 95% t interval (mean ± t(0.975, n-1)·sd/√n) of the non-null values, the
 * interval clamped to `range` (default: unbounded).
 */
export function stat(
  values: ReadonlyArray<number | null>,
  range: Range = { min: -Infinity, max: Infinity },
): Stat {
  const xs = values.filter((v): v is number => v !== null);
  const n = xs.length;
  if (n === 0) return { n, mean: null, sd: null, interval: null, low: null, high: null };
  const { mean, sd } = meanAndSd(xs);
  if (sd === null) return { n, mean, sd, interval: null, low: null, high: null };
  const halfWidth = (tQuantile975(n - 1) * sd) / Math.sqrt(n);
  return {
    n,
    mean,
    sd,
    interval: 't',
    low: Math.max(range.min, mean - halfWidth),
    high: Math.min(range.max, mean + halfWidth),
  };
}

/** The 95% Wilson score interval of `successes` out of `n` (n >= 1): always inside [0, 1]. */
export function wilson(successes: number, n: number): { low: number; high: number } {
  if (
    !(
      Number.isInteger(n) &&
      n >= 1 &&
      Number.isInteger(successes) &&
      successes >= 0 &&
      successes <= n
    )
  )
    throw new RangeError(`wilson: ${successes} of ${n}`);
  const z2 = Z975 * Z975;
  const p = successes / n;
  const denominator = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denominator;
  const half = (Z975 / denominator) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // Exact at the ends (rounding could leave 1e-17 outside, or miss the end by as much).
  return {
    low: successes === 0 ? 0 : Math.max(0, center - half),
    high: successes === n ? 1 : Math.min(1, center + half),
  };
}

/** Share of true outcomes, with its Wilson interval. */
export function proportion(outcomes: readonly boolean[]): Stat {
  const n = outcomes.length;
  if (n === 0) return { n, mean: null, sd: null, interval: null, low: null, high: null };
  const successes = outcomes.filter((o) => o).length;
  const { mean, sd } = meanAndSd(outcomes.map((o) => (o ? 1 : 0)));
  return { n, mean, sd, interval: 'wilson', ...wilson(successes, n) };
}

/**
 * Sub-task success: the mean of the episodes' rates, with the hull of two intervals: the t
 * interval over episodes (the episode is the unit of sampling: its sub-tasks share one schedule)
 * and the Wilson interval of every sub-task pooled. The t interval alone collapsed to [1, 1] when
 * every episode scored 1 (sd 0), claiming a certainty the episodes cannot give; Wilson's never does.
 */
function subtaskStat(sorted: readonly ScoredEpisode[]): Stat {
  const base = stat(
    sorted.map((s) => s.score.subtaskSuccessRate),
    UNIT,
  );
  const total = sorted.reduce((sum, s) => sum + s.score.tasksTotal, 0);
  if (total === 0) return { ...base, interval: null, low: null, high: null };
  const succeeded = sorted.reduce((sum, s) => sum + s.score.tasksSucceeded, 0);
  const pooled = wilson(succeeded, total);
  return {
    ...base,
    interval: 't+wilson',
    low: Math.min(base.low ?? pooled.low, pooled.low),
    high: Math.max(base.high ?? pooled.high, pooled.high),
  };
}

/** C(n, k) as a float (exact for the small n of a suite). */
function choose(n: number, k: number): number {
  if (k < 0 || k > n) return 0;
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

/** pass^k over instances, with the Wilson interval of the share of instances that passed every seed. */
function passKOf(perInstance: readonly InstanceSummary[], k: number | null): SuiteSummary['passK'] {
  if (perInstance.length === 0) return { k: null, value: null, low: null, high: null };
  const passed = perInstance.filter((i) => i.passAll).length;
  return { k, value: passed / perInstance.length, ...wilson(passed, perInstance.length) };
}

/**
 * Summarises scored episodes (one per instance and seed) into means with 95% intervals per metric
 * (Wilson for proportions, t clamped to the metric's range for means), pass^k over each instance's
 * seeds and per-instance results. Independent of input order; throws when an (instance, seed) pair
 * appears twice or scores of different scoring versions are mixed.
 */
export function aggregate(scores: readonly ScoredEpisode[]): SuiteSummary {
  const sorted = [...scores].sort((a, b) =>
    a.instance < b.instance ? -1 : a.instance > b.instance ? 1 : a.seed - b.seed,
  );
  const byInstance = new Map<string, ScoredEpisode[]>();
  for (const s of sorted) {
    const list = byInstance.get(s.instance) ?? [];
    if (list.some((x) => x.seed === s.seed))
      throw new Error(`aggregate: instance "${s.instance}" has seed ${s.seed} twice`);
    list.push(s);
    byInstance.set(s.instance, list);
  }
  const perInstance: InstanceSummary[] = [...byInstance.entries()].map(([instance, list]) => {
    const successes = list.filter((s) => s.score.success).length;
    return { instance, seeds: list.length, successes, passAll: successes === list.length };
  });
  const seedCounts = perInstance.map((i) => i.seeds);
  const minSeeds = seedCounts.length === 0 ? 0 : Math.min(...seedCounts);
  const maxSeeds = seedCounts.length === 0 ? 0 : Math.max(...seedCounts);
  const over = (f: (s: EpisodeScore) => number | null, range: Range): Stat =>
    stat(
      sorted.map((s) => f(s.score)),
      range,
    );
  const passHat: Array<{ k: number; value: number }> = [];
  for (let k = 1; k <= minSeeds; k++) {
    const value =
      perInstance.reduce((sum, i) => sum + choose(i.successes, k) / choose(i.seeds, k), 0) /
      perInstance.length;
    passHat.push({ k, value });
  }
  const versions = new Set(sorted.map((s) => s.score.scoringVersion));
  if (versions.size > 1 || (versions.size === 1 && !versions.has(SCORING_VERSION))) {
    throw new Error(
      `aggregate: scores of scoring version(s) ${[...versions].join(', ')} cannot be summarised by version ${SCORING_VERSION}: re-score them from their replays`,
    );
  }
  return {
    scoringVersion: SCORING_VERSION,
    episodes: sorted.length,
    instances: perInstance.length,
    seedsPerInstance: { min: minSeeds, max: maxSeeds },
    metrics: {
      taskSuccess: proportion(sorted.map((s) => s.score.success)),
      subtaskSuccess: subtaskStat(sorted),
      precision: over((s) => s.steps.precision, UNIT),
      recall: over((s) => s.steps.recall, UNIT),
      f1: over((s) => s.steps.f1, UNIT),
      dependencyViolations: over((s) => s.steps.dependencyViolations, NON_NEGATIVE),
      successWeightedBoundRatio: over((s) => s.efficiency.successBoundRatio, UNIT),
      boundRatioOfSuccesses: over((s) => (s.success ? s.efficiency.boundRatio : null), UNIT),
      successWeightedSpeedup: over((s) => s.efficiency.successSpeedup, NON_NEGATIVE),
      speedupOfSuccesses: over(
        (s) => (s.success ? s.efficiency.speedupVsSequential : null),
        NON_NEGATIVE,
      ),
      idleWhileReadyUs: over((s) => s.efficiency.idleWhileReadyUs, NON_NEGATIVE),
      idleWhileResultsWaitingUs: over((s) => s.efficiency.idleWhileResultsWaitingUs, NON_NEGATIVE),
      meanCallsInService: over((s) => s.efficiency.meanCallsInService, NON_NEGATIVE),
      overlapShare: over((s) => s.efficiency.overlapShare, UNIT),
      switchesPerDecision: over((s) => s.interleaving.switchesPerDecision, NON_NEGATIVE),
      meanStreak: over((s) => s.interleaving.meanStreak, { min: 1, max: Infinity }),
      leavingReadyShare: over((s) => s.interleaving.leavingReadyShare, UNIT),
    },
    passK: passKOf(perInstance, minSeeds === maxSeeds ? minSeeds : null),
    passHat,
    perInstance,
    streakLengths: [0, 1, 2, 3].map((i) =>
      sorted.reduce((sum, s) => sum + s.score.interleaving.streakLengths[i]!, 0),
    ) as [number, number, number, number],
  };
}
