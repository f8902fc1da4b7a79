/**
 * The oracle: what is knowable about a scenario and seed before any agent runs.
 *
 * - Realized attempts: each expected step's attempts (latency, fate) drawn from the same keyed
 *   streams the world uses, up to the first success (at most MAX_ATTEMPTS).
 * - `boundUs`, a LOWER BOUND on the makespan of every successful episode of every agent the
 *   protocol allows (on tools that are plain functions of their arguments). It rests on facts the
 *   world enforces: every decision lasts at least `minThinkUs` (the think distribution's minimum;
 *   the world clamps a stated `thinkUs` up to it); a request or result is known only from the start
 *   of a decision after it arrived; actions take effect at the end of their decision; a successful
 *   call is in service at least its tool's minimum latency (`okMinUs`); a tool with `concurrency` c
 *   serves at most c calls at once. A successful task needs, per expected step, one successful
 *   call issued by a decision that had seen the step's request and its dependencies' results, and
 *   an answer from a decision that had seen every result and the last request. It is the larger of:
 *   - the critical path: per task, each step's earliest issue is max(release, dependencies' earliest
 *     completion) + minThink, its earliest completion that + okMin; the task's answer comes one
 *     decision after its last completion and its last request;
 *   - the load of each limited tool: the steps on it whose earliest issue is at least h need
 *     Σ okMin of service on c slots, so the last of them completes no earlier than h + ⌈Σ/c⌉, and its
 *     task still needs the shortest remaining chain (`tailUs`) after that; the maximum over h.
 *   Retries and hedges cost nothing extra here: an agent may issue several copies of a call at once
 *   and keep the first success, so no realized failure or slow attempt is charged.
 * - `achievedUs`, an ACHIEVED makespan: the world itself run with a perfect-knowledge list
 *   scheduler: every decision takes exactly minThink, issues every ready step in
 *   longest-remaining-path-first order, retries failures, and answers each task when its steps are
 *   done. Reachable by construction, so bound <= achieved; with zero think time, no concurrency
 *   limits, constant latencies and no failures the two are equal.
 * The list scheduler runs in async push mode; sync mode and poll delivery can only be slower.
 * The exact optimum (a scheduling problem with FIFO tool queues) lies between the two.
 */
import { assertInvariant } from '../../engine/assert.js';
import { RandomStreams, compileDistribution, type DistributionSpec } from '../../engine/index.js';
import { compiledScenario, planOf } from '../world/compiled.js';
import type { Plan, PlanStep } from '../world/plan.js';
import type { Agent, Decision, Observation } from '../protocol.js';
import type { Scenario } from '../spec/schema.js';
import { drawAttempt, type Attempt } from '../world/call-latency.js';
import { PlanTracker } from '../world/tracker.js';
import { runEpisode } from '../world/world.js';

const MAX_ATTEMPTS = 8;

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
  /** Lower bound on the makespan of any successful episode (null when some step never succeeds). */
  readonly boundUs: number | null;
  /**
   * The critical path with this seed's realized attempts retried one after another (a decision per
   * attempt): what a non-hedging agent with no slot contention needs. NOT a lower bound (hedging
   * beats it). Null when some step never succeeds.
   */
  readonly realizedPathUs: number | null;
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

/** The realized draw of plan step `s`: `realizeSteps` lists them in plan order, by step index. */
function realizedStep(steps: readonly RealizedStep[], s: PlanStep): RealizedStep {
  const r = steps[s.index];
  assertInvariant(
    r !== undefined && r.task === s.task && r.step === s.id,
    'oracle',
    `no realized step for ${s.key}`,
  );
  return r;
}

/** Each expected step's attempts up to its first success, from the world's keyed streams. */
export function realizeSteps(scenario: Scenario, seed: number): RealizedStep[] {
  const { plan, tools: runtimes, callKeys } = compiledScenario(scenario);
  const streams = new RandomStreams(seed);
  return plan.steps.map((s) => {
    const runtime = runtimes.get(s.tool)!;
    const attempts: Attempt[] = [];
    for (let k = 1; k <= MAX_ATTEMPTS; k++) {
      const a = drawAttempt(runtime, streams, callKeys.step(s, k));
      attempts.push(a);
      if (a.fate === 'ok') break;
    }
    return {
      task: s.task,
      step: s.id,
      attempts,
      succeeds: attempts.at(-1)!.fate === 'ok',
      serviceUs: attempts.reduce((sum, a) => sum + a.serviceUs, 0),
    };
  });
}

/**
 * The reference a score is measured against: `boundUs`, a lower bound on any agent's makespan,
 * and `achievedUs`, the makespan of a perfect-knowledge list scheduler (bound <= achieved).
 * Deterministic for (scenario, options). Pass `{ boundUs }` to scoreEpisode as its reference.
 */
export async function computeOracle(
  scenario: Scenario,
  options: OracleOptions,
): Promise<OracleReport> {
  const plan = planOf(scenario);
  const minThinkUs = compileDistribution(options.thinkTime ?? scenario.thinkTime).minUs;
  const steps = realizeSteps(scenario, options.seed);
  const feasible = steps.every((r) => r.succeeds);
  // The list scheduler's priorities: a step costs one decision, its attempts, and one more
  // decision per retry (what this seed's attempts take when issued one after another).
  const costUs = (s: PlanStep): number => {
    const r = realizedStep(steps, s);
    return minThinkUs * r.attempts.length + r.serviceUs;
  };
  const { taskBoundsUs, boundUs } = oracleBound(scenario, options, feasible);
  // The realized path is the bound's critical path with each step charged its retries (lowerBound
  // adds the issuing decision) and no slot limits: the one place it is computed.
  const realized = lowerBound(
    plan,
    minThinkUs,
    (s) => costUs(s) - minThinkUs,
    () => Infinity,
  );
  const realizedPathUs = feasible ? realized.boundUs : null;
  // The list scheduler runs in async push mode, the most the world allows any agent.
  const episode = await runEpisode(scenario, listScheduler(plan, minThinkUs, costUs), {
    seed: options.seed,
    mode: 'async',
    delivery: 'push',
    ...(options.thinkTime ? { thinkTime: options.thinkTime } : {}),
  });
  const achievedUs = episode.endReason === 'completed' ? episode.makespanUs : null;
  return { minThinkUs, steps, taskBoundsUs, boundUs, realizedPathUs, achievedUs };
}

/**
 * `boundUs` (null when `feasible` is false: some step of this seed never succeeds within
 * MAX_ATTEMPTS) and the per-task bounds, without running the list scheduler.
 */
export function oracleBound(
  scenario: Scenario,
  options: OracleOptions,
  feasible = realizeSteps(scenario, options.seed).every((r) => r.succeeds),
): { taskBoundsUs: Record<string, number>; boundUs: number | null } {
  const { plan, tools } = compiledScenario(scenario);
  const minThinkUs = compileDistribution(options.thinkTime ?? scenario.thinkTime).minUs;
  const okMin = cheapestSuccesses(scenario, options.seed);
  if (okMin === null) return { taskBoundsUs: {}, boundUs: null };
  const bound = lowerBound(
    plan,
    minThinkUs,
    (s) => okMin[s.index]!,
    (tool) => tools.get(tool)!.capacity,
  );
  return { taskBoundsUs: bound.taskBoundsUs, boundUs: feasible ? bound.boundUs : null };
}

/** Above this many reachable attempts per step, the bound uses the latency's minimum instead of sampling them. */
const SAMPLED_ATTEMPTS_CAP = 64;

/**
 * Per plan step, the shortest service time any successful call for it can have: calls are
 * numbered per step and each attempt's latency and fate are drawn from its own key, so in a
 * successful episode (every other expected step needs a call of its own, and the world allows
 * `maxCalls`) step s's calls are among its attempts 1..maxCalls - (steps - 1), and the cheapest
 * successful one among those bounds them all, however many copies run at once. When that is more
 * than SAMPLED_ATTEMPTS_CAP attempts, the tool latency's minimum (a bound on every draw) stands in.
 * Null when no successful episode is possible (a step has no successful attempt it can reach).
 */
function cheapestSuccesses(scenario: Scenario, seed: number): number[] | null {
  const { plan, tools, callKeys } = compiledScenario(scenario);
  const reach = scenario.limits.maxCalls - (plan.steps.length - 1);
  if (reach < 1) return null;
  const streams = new RandomStreams(seed);
  const result: number[] = [];
  for (const s of plan.steps) {
    const runtime = tools.get(s.tool)!;
    if (reach > SAMPLED_ATTEMPTS_CAP) {
      result.push(runtime.minLatencyUs);
      continue;
    }
    let best = Infinity;
    for (let k = 1; k <= reach && best > runtime.minLatencyUs; k++) {
      const a = drawAttempt(runtime, streams, callKeys.step(s, k));
      if (a.fate === 'ok') best = Math.min(best, a.serviceUs);
    }
    if (best === Infinity) return null;
    result.push(best);
  }
  return result;
}

/**
 * The lower bound of the module comment, from the think-time minimum, each step's cheapest
 * successful attempt (`okMinUs`) and each tool's slots (`capacityOf`, Infinity when unlimited).
 */
function lowerBound(
  plan: Plan,
  minThinkUs: number,
  okMinUs: (s: PlanStep) => number,
  capacityOf: (tool: string) => number,
): { taskBoundsUs: Record<string, number>; boundUs: number } {
  const issueUs = new Map<string, number>();
  const doneUs = new Map<string, number>();
  const tailUs = new Map<string, number>();
  const taskBoundsUs: Record<string, number> = {};
  for (const task of plan.tasks) {
    let lastUs = task.lastRequestUs;
    // Steps are validated acyclic with dependencies declared earlier in the task, so one pass works.
    for (const s of task.steps) {
      const issue =
        Math.max(s.releaseUs, ...plan.dependencies(s).map((d) => doneUs.get(d.key)!)) + minThinkUs;
      issueUs.set(s.key, issue);
      doneUs.set(s.key, issue + okMinUs(s));
      lastUs = Math.max(lastUs, issue + okMinUs(s));
    }
    taskBoundsUs[task.id] = lastUs + minThinkUs;
    // After a step completes: a decision to issue each dependent, its service, its own tail; at
    // the least the decision that answers.
    for (const s of [...task.steps].reverse()) {
      tailUs.set(
        s.key,
        Math.max(
          minThinkUs,
          ...plan.dependents(s).map((d) => minThinkUs + okMinUs(d) + tailUs.get(d.key)!),
        ),
      );
    }
  }
  let boundUs = Object.values(taskBoundsUs).reduce((a, b) => Math.max(a, b), 0);
  const byTool = new Map<string, PlanStep[]>();
  for (const s of plan.steps) {
    const list = byTool.get(s.tool);
    if (list === undefined) byTool.set(s.tool, [s]);
    else list.push(s);
  }
  for (const [tool, steps] of byTool) {
    const slots = capacityOf(tool);
    if (!Number.isFinite(slots)) continue;
    // Latest earliest-issue first: each prefix is the set of steps that cannot be issued before h.
    const sorted = [...steps].sort((a, b) => issueUs.get(b.key)! - issueUs.get(a.key)!);
    let workUs = 0;
    let minTailUs = Infinity;
    for (const s of sorted) {
      workUs += okMinUs(s);
      minTailUs = Math.min(minTailUs, tailUs.get(s.key)!);
      boundUs = Math.max(boundUs, issueUs.get(s.key)! + Math.ceil(workUs / slots) + minTailUs);
    }
  }
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
      const ready = tracker
        .readySteps()
        .sort((a, b) => remaining.get(b.key)! - remaining.get(a.key)!);
      const actions = [...tracker.issueAll(ready), ...tracker.answerAll()];
      // Everything ready is issued: wait for the next delivery rather than spend another decision.
      if (actions.length > 0) actions.push({ type: 'wait' });
      return { actions, thinkUs };
    },
  };
}
