/**
 * Scoring: step, sub-task and task level success, and efficiency, computed from an episode's events
 * and its scenario alone (so stored runs can be re-scored), and summaries over a suite.
 * Every metric is defined in scenarios/METRICS.md, with a worked example.
 *
 * - `scoreEpisode(scenario, events, reference?)`: pure and deterministic; the score is canonical
 *   (fixed key order, null for absent values).
 * - `aggregate(scores)`: over (instance, seed) episodes: proportions with 95% Wilson intervals,
 *   means with 95% t intervals clamped to their range, pass^k.
 */
export { SCORING_VERSION } from './scoring/version.js';
export { scoreEpisode, answerSatisfies } from './scoring/episode.js';
export { aggregate, proportion, stat, tQuantile975, wilson, NON_NEGATIVE, UNIT, type Range } from './scoring/aggregate.js';
export { callOverlap, clippedLength, sharedLength, type Interval } from './scoring/intervals.js';
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
} from './scoring/types.js';
