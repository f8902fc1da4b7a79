/**
 * The oracle: what is knowable about a scenario and seed before any agent runs.
 *
 * - Realized attempts: each expected step's attempts (latency, fate) drawn from the same keyed
 *   streams the world uses, up to the first success (at most MAX_ATTEMPTS).
 * - `boundUs`, a LOWER BOUND on the makespan of any agent whose decisions each take at least
 *   `minThinkUs`: per task, its release plus the longest chain where each step costs one decision
 *   (minThink) plus its attempts (a retry costs another decision), ending with one more decision to
 *   answer; follow-up steps start no earlier than their message. The maximum over tasks. It ignores
 *   concurrency limits, so it is a bound, not always reachable.
 * - `achievedUs`, an ACHIEVED makespan: the world itself run with a perfect-knowledge list
 *   scheduler: every decision takes exactly minThink, issues every ready step in
 *   longest-remaining-path-first order, retries failures, and answers each task when its steps are
 *   done. Reachable by construction, so bound <= achieved; with zero think time and no concurrency
 *   limits the two are equal.
 * The list scheduler runs in async push mode; sync mode and poll delivery can only be slower.
 * The exact optimum (a scheduling problem with FIFO tool queues) lies between the two.
 */
import { RandomStreams, compileDistribution, type DistributionSpec } from '../../engine/index.js';
import { compiledScenario, planOf } from '../world/compiled.js';
import type { Plan, PlanStep } from '../world/plan.js';
import type { Agent, Decision, Observation } from '../protocol.js';
import type { Scenario } from '../spec/schema.js';
import type { Attempt } from '../spec/tools.js';
import { PlanTracker } from '../world/tracker.js';
import { runEpisode } from '../world/world.js';

export const MAX_ATTEMPTS = 8;

/**
 * An expected step's attempts on a seed (drawn from the world's keyed streams) up to its first
 * success, as every agent on that seed will meet them.
 */
export interface RealizedStep {
  readonly task: string;
  readonly step: string;
  readonly attempts: readonly Attempt[];
  /** False when every one of MAX_ATTEMPTS attempts failed. */
  readonly succeeds: boolean;
  /** Sum of the attempts' service times. */
  readonly serviceUs: number;
}

/**
 * What the oracle knows of a scenario and seed before any agent runs: the realized steps, the
 * critical-path lower bound on the makespan and a list scheduler's achieved makespan.
 */
export interface OracleReport {
  readonly minThinkUs: number;
  readonly steps: readonly RealizedStep[];
  /** Per task: the critical-path lower bound on when it can be answered. */
  readonly taskBoundsUs: Readonly<Record<string, number>>;
  /** Lower bound on the makespan (null when some step never succeeds). */
  readonly boundUs: number | null;
  /** Makespan the list scheduler reaches (null when it does not complete). */
  readonly achievedUs: number | null;
}

/**
 * The seed to realize latencies on and, optionally, the think time the agents will use (its
 * minimum is the cost of a decision in the bound).
 */
export interface OracleOptions {
  readonly seed: number;
  readonly thinkTime?: DistributionSpec;
}

/** Each expected step's attempts up to its first success, from the world's keyed streams. */
export function realizeSteps(scenario: Scenario, seed: number): RealizedStep[] {
  const { plan, tools: runtimes, callKeys } = compiledScenario(scenario);
  const streams = new RandomStreams(seed);
  return plan.steps.map((s) => {
    const runtime = runtimes.get(s.tool)!;
    const attempts: Attempt[] = [];
    for (let k = 1; k <= MAX_ATTEMPTS; k++) {
      const a = runtime.sampleAttempt(streams, callKeys.step(s, k));
      attempts.push(a);
      if (a.fate === 'ok') break;
    }
    return { task: s.task, step: s.id, attempts, succeeds: attempts.at(-1)!.fate === 'ok', serviceUs: attempts.reduce((sum, a) => sum + a.serviceUs, 0) };
  });
}

/**
 * The reference a score is measured against: `boundUs`, a lower bound on any agent's makespan,
 * and `achievedUs`, the makespan of a perfect-knowledge list scheduler (bound <= achieved).
 * Deterministic for (scenario, options). Pass `{ boundUs }` to scoreEpisode as its reference.
 */
export async function computeOracle(scenario: Scenario, options: OracleOptions): Promise<OracleReport> {
  const plan = planOf(scenario);
  const minThinkUs = compileDistribution(options.thinkTime ?? scenario.thinkTime).minUs;
  const steps = realizeSteps(scenario, options.seed);
  const byKey = new Map(steps.map((r) => [`${r.task}/${r.step}`, r]));
  // A step costs one decision, its attempts, and one more decision per retry.
  const costUs = (s: PlanStep): number => {
    const r = byKey.get(s.key)!;
    return minThinkUs * r.attempts.length + r.serviceUs;
  };
  const { taskBoundsUs, boundUs } = chainBounds(plan, steps, minThinkUs, []);
  // The list scheduler runs in async push mode, the most the world allows any agent.
  const episode = await runEpisode(scenario, listScheduler(plan, minThinkUs, costUs), { seed: options.seed, mode: 'async', delivery: 'push', ...(options.thinkTime ? { thinkTime: options.thinkTime } : {}) });
  const achievedUs = episode.endReason === 'completed' ? episode.makespanUs : null;
  return { minThinkUs, steps, taskBoundsUs, boundUs, achievedUs };
}

/**
 * `boundUs` for an agent whose decisions took `thinkUs` (in order: an episode's `decision_ended`
 * think times), not merely `minThinkUs` each: tighter where think time is long. Decisions come one
 * after another, so the k-th ends no earlier than the first k think times added up; the j-th
 * decision along a chain of steps (one per attempt, then the answer) is at least the j-th of the
 * episode. A policy that spends more decisions than a chain needs is not excused: only the first
 * j count. Without a think time list this is the oracle's `boundUs`. Null: some step never succeeds.
 */
export function thinkAwareBoundUs(scenario: Scenario, seed: number, thinkUs: readonly number[]): number | null {
  const minThinkUs = compileDistribution(scenario.thinkTime).minUs;
  return chainBounds(planOf(scenario), realizeSteps(scenario, seed), minThinkUs, thinkUs).boundUs;
}

/**
 * Per task, its release plus its longest chain of steps, each attempt one decision (at least
 * `minThinkUs`, and ending no earlier than the sum of the first `thinkUs` up to its place along
 * the chain) then its service, ending with one more decision to answer; and the maximum over tasks.
 */
function chainBounds(plan: Plan, steps: readonly RealizedStep[], minThinkUs: number, thinkUs: readonly number[]): { taskBoundsUs: Record<string, number>; boundUs: number | null } {
  const byKey = new Map(steps.map((r) => [`${r.task}/${r.step}`, r]));
  // endsBy[k]: the earliest the k-th decision (1-based) can end (past the list: its last sum).
  const endsBy = [0];
  for (const t of thinkUs) endsBy.push(endsBy.at(-1)! + t);
  const decisionEndUs = (k: number) => endsBy[Math.min(k, endsBy.length - 1)]!;
  const taskBoundsUs: Record<string, number> = {};
  for (const task of plan.tasks) {
    const finish = new Map<string, { atUs: number; decisions: number }>();
    let lastUs = task.lastRequestUs;
    let decisions = 0;
    // Steps are validated acyclic with dependencies declared earlier in the task, so one pass works.
    for (const s of task.steps) {
      const deps = plan.dependencies(s).map((d) => finish.get(d.key) ?? { atUs: 0, decisions: 0 });
      let atUs = Math.max(s.releaseUs, ...deps.map((d) => d.atUs));
      let k = Math.max(0, ...deps.map((d) => d.decisions));
      for (const attempt of byKey.get(s.key)!.attempts) {
        atUs = Math.max(atUs + minThinkUs, decisionEndUs(++k)) + attempt.serviceUs;
      }
      finish.set(s.key, { atUs, decisions: k });
      lastUs = Math.max(lastUs, atUs);
      decisions = Math.max(decisions, k);
    }
    taskBoundsUs[task.id] = Math.max(lastUs + minThinkUs, decisionEndUs(decisions + 1));
  }
  const boundUs = steps.every((r) => r.succeeds) ? Math.max(...Object.values(taskBoundsUs)) : null;
  return { taskBoundsUs, boundUs };
}

/** The perfect-knowledge list scheduler (longest remaining path first), as an agent. */
function listScheduler(plan: Plan, thinkUs: number, costUs: (s: PlanStep) => number): Agent {
  const tracker = new PlanTracker(plan);
  const remaining = plan.remainingPathsUs(costUs);
  return {
    spec: 'oracle:list-scheduler',
    decide(observation: Observation): Decision {
      tracker.observe(observation);
      const ready = tracker.readySteps().sort((a, b) => remaining.get(b.key)! - remaining.get(a.key)!);
      const actions = [...tracker.issueAll(ready), ...tracker.answerAll()];
      // Everything ready is issued: wait for the next delivery rather than spend another decision.
      if (actions.length > 0) actions.push({ type: 'wait' });
      return { actions, thinkUs };
    },
  };
}
