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
  const feasible = steps.every((r) => r.succeeds);
  // A step costs one decision, its attempts, and one more decision per retry.
  const costUs = (s: PlanStep): number => {
    const r = byKey.get(s.key)!;
    return minThinkUs * r.attempts.length + r.serviceUs;
  };
  const taskBoundsUs: Record<string, number> = {};
  for (const task of plan.tasks) {
    const finishUs = new Map<string, number>();
    let lastUs = task.lastRequestUs;
    // Steps are validated acyclic with dependencies declared earlier in the task, so one pass works.
    for (const s of task.steps) {
      const startUs = plan.dependencies(s).reduce((most, d) => Math.max(most, finishUs.get(d.key) ?? 0), s.releaseUs);
      const endUs = startUs + costUs(s);
      finishUs.set(s.key, endUs);
      lastUs = Math.max(lastUs, endUs);
    }
    taskBoundsUs[task.id] = lastUs + minThinkUs;
  }
  const boundUs = feasible ? Object.values(taskBoundsUs).reduce((most, us) => Math.max(most, us), -Infinity) : null;
  // The list scheduler runs in async push mode, the most the world allows any agent.
  const episode = await runEpisode(scenario, listScheduler(plan, minThinkUs, costUs), { seed: options.seed, mode: 'async', delivery: 'push', ...(options.thinkTime ? { thinkTime: options.thinkTime } : {}) });
  const achievedUs = episode.endReason === 'completed' ? episode.makespanUs : null;
  return { minThinkUs, steps, taskBoundsUs, boundUs, achievedUs };
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
