/**
 * Scoring: step, sub-task and task level success, and efficiency, computed from an episode's events
 * and its scenario alone (so stored runs can be re-scored), and summaries over a suite.
 * Every metric is defined in METRICS.md (next to this file), with a worked example; the oracle
 * (oracle.ts) gives the reference a score is measured against.
 *
 * - `scoreEpisode(scenario, events, reference?)`: pure and deterministic; the score is canonical
 *   (fixed key order, null for absent values).
 * - `aggregate(scores)`: means with 95% t intervals over (instance, seed) episodes, pass^k.
 */
export { scoreEpisode, answerSatisfies } from './episode.js';
export { aggregate, stat, tQuantile975 } from './aggregate.js';
export { callOverlap, clippedLength, type Interval } from './intervals.js';
export { computeOracle, type OracleOptions, type OracleReport } from './oracle.js';
export type {
  CallScore,
  CallVerdict,
  EfficiencyScores,
  EpisodeCounts,
  EpisodeScore,
  InstanceSummary,
  ScoreReference,
  ScoredEpisode,
  Stat,
  StepScores,
  SuiteMetrics,
  SuiteSummary,
  TaskScore,
} from './types.js';
