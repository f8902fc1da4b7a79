/**
 * The shapes scoring produces. Every field is a number, boolean, string or null (never undefined),
 * and objects are built in the order declared here, so an encoded score is canonical.
 * Definitions of every metric: scenarios/scoring/METRICS.md.
 */
import type { EndReason } from '../world/events.js';

/** What a call was, for step-level scoring: the four verdicts partition the calls issued. */
export type CallVerdict = 'correct' | 'redundant' | 'unmatched' | 'invalid';

/**
 * One call's verdict: the expected step it performs (if any), whether it broke a dependency, and
 * when it was issued and completed.
 */
export interface CallScore {
  readonly callId: number;
  readonly tool: string;
  /** The expected step it performs (`task/step`), matched as the world matches; null when none. */
  readonly step: string | null;
  readonly verdict: CallVerdict;
  /** Issued before its step's request or a dependency's result was delivered to the agent. */
  readonly violation: boolean;
  readonly issuedUs: number;
  /** When it got a tool slot and went into service; null when it never did (invalid, or still queued at the end). */
  readonly startedUs: number | null;
  /** Null when it never completed (the episode ended first). */
  readonly completedUs: number | null;
  /** Null when it never completed. */
  readonly ok: boolean | null;
}

/**
 * Step-level scores of an episode: calls by verdict, precision, recall, F1, dependency violations.
 */
export interface StepScores {
  /** Steps of the requests (tasks and follow-ups) that arrived before the episode ended. */
  readonly expected: number;
  /** Expected steps with at least one successful call. */
  readonly matched: number;
  readonly correctCalls: number;
  readonly redundantCalls: number;
  readonly unmatchedCalls: number;
  readonly invalidCalls: number;
  /** Matched calls (correct or redundant) with `violation`. */
  readonly dependencyViolations: number;
  /** correctCalls / calls (0 when no call). */
  readonly precision: number;
  /** matched / expected (0 when nothing expected). */
  readonly recall: number;
  /** Harmonic mean of precision and recall (0 when both are 0). */
  readonly f1: number;
}

/**
 * One task's result: success means answered correctly, every request arrived, and every expected
 * step grounded (done without violation and delivered before the final answer).
 */
export interface TaskScore {
  readonly task: string;
  readonly success: boolean;
  /** The task and every one of its follow-ups arrived before the episode ended. */
  readonly allRequestsArrived: boolean;
  readonly stepsExpected: number;
  /** Expected steps with at least one successful call. */
  readonly stepsMatched: number;
  /** Expected steps with a successful, violation-free call whose result was delivered before the final answer. */
  readonly stepsGrounded: number;
  /** Calls matched to this task's steps with a dependency violation. */
  readonly violations: number;
  /** The last answer for the task came from a decision that had seen its last arrived request. */
  readonly answered: boolean;
  /** Answered, and the answer contains every expected string (case-insensitive). */
  readonly answerCorrect: boolean;
  /** Time of the final answer when `answered`, else null. */
  readonly finishedUs: number | null;
  /**
   * Only for a task acting on a stateful environment: its goal holds in the final state of its
   * part (METRICS.md, "Stateful tasks"). Such a task succeeds on its goal, its answer and no
   * dependency violation, by whatever calls; `stepsGrounded` is reported but not required.
   */
  readonly goalMet?: boolean;
}

/**
 * How fast and how concurrently an episode went: makespan, its ratio to the oracle's bound, its
 * speedup over a sequential agent, idle time while work was ready, calls in flight and overlap.
 */
export interface EfficiencyScores {
  /** Time of `episode_ended`. */
  readonly makespanUs: number;
  readonly boundUs: number | null;
  /** boundUs / makespanUs; null without a bound or when the episode did not complete. */
  readonly boundRatio: number | null;
  readonly sequentialMakespanUs: number | null;
  /** sequentialMakespanUs / makespanUs; null without a reference or when the episode did not complete. */
  readonly speedupVsSequential: number | null;
  /**
   * The headline efficiency: boundUs / max(boundUs, makespanUs) when the episode completed and
   * succeeded, else 0 (failing never earns efficiency); null without a bound.
   */
  readonly successBoundRatio: number | null;
  /** speedupVsSequential when the episode completed and succeeded, else 0; null without a reference. */
  readonly successSpeedup: number | null;
  /** Time outside decisions, in [first arrival, makespan]. */
  readonly idleUs: number;
  /** Idle time during which a step of a task awaiting an answer was ready (PlanTracker's meaning of ready). */
  readonly idleWhileReadyUs: number;
  /** Idle time during which some call had completed but its outcome was not yet delivered (poll delivery). */
  readonly idleWhileResultsWaitingUs: number;
  /** Sum over calls of (completed, or makespan) - issued: queued plus in service. */
  readonly callWaitUs: number;
  /** The part of callWaitUs spent waiting for a tool slot (issued, not started). */
  readonly callQueuedUs: number;
  /** The part of callWaitUs spent in service (started, not completed). */
  readonly callServiceUs: number;
  /** Time-average number of calls in service (started, not completed) over [first arrival, makespan]; null on an empty window. */
  readonly meanCallsInService: number | null;
  /** Share of callServiceUs overlapping another call in service or a decision; null when callServiceUs is 0. */
  readonly overlapShare: number | null;
}

/**
 * How the agent moved between tasks (AsyncTool's same-task streak, defined here): the actions are
 * the calls that perform an expected step and the answers, in the order they took effect, each
 * labelled with its task.
 */
export interface InterleavingScores {
  /** Task-labelled actions (calls performing a step, answers). */
  readonly actions: number;
  /** Consecutive actions on different tasks. */
  readonly switches: number;
  /** switches / decisions (0 when there was no decision). */
  readonly switchesPerDecision: number;
  /** actions / streaks (maximal runs of actions on one task); null without actions. */
  readonly meanStreak: number | null;
  /** Streaks of length 1, 2, 3 and 4 or more. */
  readonly streakLengths: readonly [number, number, number, number];
  /** Switches made while the task left had a ready step (agent's view at that moment). */
  readonly switchesLeavingReady: number;
  /** switchesLeavingReady / switches; null without switches. */
  readonly leavingReadyShare: number | null;
}

/** How much happened in an episode: decisions, calls, answers, rejected actions, and how it ended. */
export interface EpisodeCounts {
  readonly decisions: number;
  readonly calls: number;
  readonly answers: number;
  readonly rejectedActions: number;
  readonly endReason: EndReason;
}

/**
 * The score of one episode (`scoreEpisode`): task-level success, step-level scores, per-task
 * results, efficiency, counts and every call's verdict. Canonical: fields in this order, null
 * (never undefined) for an absent value.
 */
export interface EpisodeScore {
  /** The scoring rules that made this score (`SCORING_VERSION`). */
  readonly scoringVersion: number;
  readonly scenario: string;
  /** Task level: every task (sub-task) of the composite instance succeeded. */
  readonly success: boolean;
  readonly tasksSucceeded: number;
  readonly tasksTotal: number;
  /** tasksSucceeded / tasksTotal. */
  readonly subtaskSuccessRate: number;
  readonly steps: StepScores;
  readonly tasks: readonly TaskScore[];
  readonly efficiency: EfficiencyScores;
  readonly interleaving: InterleavingScores;
  readonly counts: EpisodeCounts;
  /** Every call, in issue order. */
  readonly calls: readonly CallScore[];
}

/**
 * What efficiency is measured against: the oracle's lower bound and, optionally, a sequential
 * reference agent's makespan on the same scenario and seed.
 */
export interface ScoreReference {
  /** The oracle's lower bound on the makespan (`computeOracle(...).boundUs`). */
  readonly boundUs: number | null;
  /** Makespan of a sequential reference agent on the same scenario and seed. */
  readonly sequentialMakespanUs?: number | null;
}

/**
 * Mean and 95% confidence interval of one metric over a suite's episodes. The interval is never
 * outside the metric's possible range: a Wilson score interval for a proportion of 0/1 outcomes,
 * Student's t for a mean of per-episode values, clamped to the values' range (so it can be
 * asymmetric around the mean); for sub-task success, the hull of its t interval and the Wilson
 * interval of the sub-tasks pooled.
 */
export interface Stat {
  /** Episodes with a value (null values are left out). */
  readonly n: number;
  readonly mean: number | null;
  /** Sample standard deviation (n - 1); null when n < 2. */
  readonly sd: number | null;
  /**
   * How [low, high] was made; null when there is no interval. `t+wilson` (sub-task success): the
   * hull of the t interval over episodes and Wilson's over every sub-task pooled (never zero-width).
   */
  readonly interval: 'wilson' | 't' | 't+wilson' | null;
  /** Null without an interval: n = 0, or n < 2 for a t interval. */
  readonly low: number | null;
  readonly high: number | null;
}

/** Each suite-level metric as a Stat over the episodes (see METRICS.md for each definition). */
export interface SuiteMetrics {
  readonly taskSuccess: Stat;
  readonly subtaskSuccess: Stat;
  readonly precision: Stat;
  readonly recall: Stat;
  readonly f1: Stat;
  readonly dependencyViolations: Stat;
  /** Headline: mean of successBoundRatio over every episode (a failed one counts 0). */
  readonly successWeightedBoundRatio: Stat;
  /** Secondary: mean of boundRatio over the successful episodes only (n says how many). */
  readonly boundRatioOfSuccesses: Stat;
  /** Headline: mean of successSpeedup over every episode (a failed one counts 0). */
  readonly successWeightedSpeedup: Stat;
  /** Secondary: mean of speedupVsSequential over the successful episodes only. */
  readonly speedupOfSuccesses: Stat;
  readonly idleWhileReadyUs: Stat;
  readonly idleWhileResultsWaitingUs: Stat;
  readonly meanCallsInService: Stat;
  readonly overlapShare: Stat;
  readonly switchesPerDecision: Stat;
  readonly meanStreak: Stat;
  readonly leavingReadyShare: Stat;
}

/** One instance across its seeds: how many succeeded and whether all did. */
export interface InstanceSummary {
  readonly instance: string;
  readonly seeds: number;
  readonly successes: number;
  /** Every seed of the instance succeeded. */
  readonly passAll: boolean;
}

/**
 * A suite's summary (`aggregate`): episode and instance counts, each metric with its 95% interval,
 * pass^k and the unbiased pass^k estimates, and per-instance results (sorted by instance).
 */
export interface SuiteSummary {
  /** The scoring rules that made the summary and the scores under it (`SCORING_VERSION`). */
  readonly scoringVersion: number;
  readonly episodes: number;
  readonly instances: number;
  readonly seedsPerInstance: { readonly min: number; readonly max: number };
  readonly metrics: SuiteMetrics;
  /**
   * pass^k with k = seeds per instance: the share of instances where every seed succeeded (k is
   * null when instances have different seed counts), with its Wilson interval over the instances.
   */
  readonly passK: {
    readonly k: number | null;
    readonly value: number | null;
    readonly low: number | null;
    readonly high: number | null;
  };
  /** The unbiased pass^k estimate C(c,k)/C(n,k) averaged over instances, for k = 1 .. min seeds per instance. */
  readonly passHat: ReadonlyArray<{ readonly k: number; readonly value: number }>;
  readonly perInstance: readonly InstanceSummary[];
  /** Streaks of length 1, 2, 3 and 4+ pooled over every episode. */
  readonly streakLengths: readonly [number, number, number, number];
}

/** One (instance, seed) episode's score, the unit `aggregate` summarises. */
export interface ScoredEpisode {
  readonly instance: string;
  readonly seed: number;
  readonly score: EpisodeScore;
}
