/**
 * Baseline scheduling policies. All know the plan; they differ in how they use the time while
 * tools are busy (the table of agents is in the top-level README.md, "Agents").
 */
import { compiledScenario } from '../scenarios/world/compiled.js';
import type { PlanStep } from '../scenarios/world/plan.js';
import type { Observation } from '../scenarios/protocol.js';
import type { Scenario } from '../scenarios/spec/schema.js';
import { PlanPolicy } from './policy.js';

/** One call at a time: issues the first ready step (plan order) only when nothing is in flight. */
export class Sequential extends PlanPolicy {
  protected select(ready: readonly PlanStep[]): readonly PlanStep[] {
    return this.tracker.inFlightCount() === 0 ? ready.slice(0, 1) : [];
  }
}

/** Each turn issues every ready step of every open task, then issues nothing until all are back. */
export class ParallelSync extends PlanPolicy {
  protected select(ready: readonly PlanStep[]): readonly PlanStep[] {
    return this.tracker.inFlightCount() === 0 ? ready : [];
  }
}

/** Issues each step as soon as its inputs have been delivered, serving steps in the order they became ready. */
export class GreedyAsync extends PlanPolicy {
  protected select(ready: readonly PlanStep[]): readonly PlanStep[] {
    return this.inArrivalOrder(ready);
  }
}

/** Rotates between open tasks, one step per decision. */
export class RoundRobin extends PlanPolicy {
  private nextTask = 0;

  /** Goes straight on to the next task's step while ready steps remain and the cap allows. */
  protected override continueAtOnce(readyLeft: number, inFlight: number): boolean {
    return readyLeft > 0 && inFlight < this.capFor();
  }

  protected select(ready: readonly PlanStep[]): readonly PlanStep[] {
    const tasks = this.plan.tasks;
    for (let k = 0; k < tasks.length; k++) {
      const i = (this.nextTask + k) % tasks.length;
      const step = this.inArrivalOrder(ready).find((s) => s.task === tasks[i]!.id);
      if (step !== undefined) {
        this.nextTask = (i + 1) % tasks.length;
        return [step];
      }
    }
    return [];
  }
}

/**
 * Among ready steps, issues the one with the longest remaining chain first (chain length by each
 * tool's mean latency; a policy cannot know the realized latencies). Matters when the in-flight cap
 * or a tool's concurrency limit makes steps wait.
 */
export class CriticalPath extends PlanPolicy {
  private remaining: ReadonlyMap<string, number> | null = null;

  protected select(ready: readonly PlanStep[], _observation: Observation): readonly PlanStep[] {
    this.remaining ??= remainingPaths(this.context.scenario);
    const remaining = this.remaining;
    return [...ready].sort((a, b) => remaining.get(b.key)! - remaining.get(a.key)!);
  }
}

/** Each step's remaining chain by mean latency, once per scenario (every episode on it agrees). */
const remainingByScenario = new WeakMap<Scenario, ReadonlyMap<string, number>>();

function remainingPaths(scenario: Scenario): ReadonlyMap<string, number> {
  let remaining = remainingByScenario.get(scenario);
  if (remaining === undefined) {
    const { plan, tools } = compiledScenario(scenario);
    const meanUs = (tool: string) =>
      tools.get(tool)!.latency.meanUs ?? Number.MAX_SAFE_INTEGER / 1e6;
    remaining = plan.remainingPathsUs((x) => meanUs(x.tool));
    remainingByScenario.set(scenario, remaining);
  }
  return remaining;
}
