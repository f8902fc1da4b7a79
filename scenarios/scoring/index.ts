/**
 * Scoring: step, sub-task and task level success, and efficiency, computed from an episode's events
 * and its scenario alone (so stored runs can be re-scored), and summaries over a suite.
 * Every metric is defined in METRICS.md (next to this file), with a worked example; the oracle
 * (oracle.ts) gives the reference a score is measured against.
 *
 * - `scoreEpisode(scenario, events, reference?)`: pure and deterministic; the score is canonical
 *   (fixed key order, null for absent values).
 * - `aggregate(scores)`: over (instance, seed) episodes: proportions with 95% Wilson intervals,
 *   means with 95% t intervals clamped to their range, pass^k.
 */
export { SCORING_VERSION } from './version.js';
export { scoreEpisode } from './episode.js';
export {
  aggregate,
  proportion,
  stat,
  tQuantile975,
  wilson,
  NON_NEGATIVE,
  UNIT,
  type Range,
} from './aggregate.js';
export { callOverlap, clippedLength, sharedLength, type Interval } from './intervals.js';
export type {
  CallScore,
  CallVerdict,
  EfficiencyScores,
  EpisodeCounts,
  EpisodeScore,
  InstanceSummary,
  InterleavingScores,
  ScoreReference,
  ScoredEpisode,
  Stat,
  StepScores,
  SuiteMetrics,
  SuiteSummary,
  TaskScore,
} from './types.js';
