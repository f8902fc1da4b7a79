/**
 * Failure-mode agents: each reproduces one way agents fail under asynchronous tools, as the
 * research reports, so that scoring can be shown to catch it. Built on greedy-async.
 */
import { getPath } from '../scenarios/spec/canonical.js';
import type { PlanStep, PlanTask } from '../scenarios/world/plan.js';
import type { Observation } from '../scenarios/protocol.js';
import type { JsonValue } from '../scenarios/spec/schema.js';
import { GreedyAsync } from './baselines.js';

/** A deep copy of `value` with the dotted `path` set to `replacement`. */
function withPath(value: JsonValue, path: string, replacement: JsonValue): JsonValue {
  const copy = structuredClone(value) as Record<string, JsonValue>;
  const parts = path.split('.');
  let node: Record<string, JsonValue> = copy;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (next === null || typeof next !== 'object') return copy;
    node = next as Record<string, JsonValue>;
  }
  node[parts.at(-1)!] = replacement;
  return copy;
}

/**
 * Issues a dependent step as soon as its dependencies are issued, not delivered, guessing the
 * arguments that should come from their results: right with probability `luck`, else a made-up
 * value. Scoring sees dependency violations (lucky guesses) and wrong calls (unlucky ones).
 */
export class Impatient extends GreedyAsync {
  protected override readySteps(observation: Observation): PlanStep[] {
    const proper = super.readySteps(observation);
    const early = this.plan.steps.filter((s) => {
      const st = this.tracker.get(s);
      return (
        st.released &&
        !st.done &&
        !st.inFlight &&
        st.attempts === 0 &&
        this.plan
          .dependencies(s)
          .every((d) => this.tracker.get(d).inFlight || this.tracker.get(d).done)
      );
    });
    return [...proper, ...early.filter((s) => !proper.includes(s))];
  }

  protected override argsFor(step: PlanStep, _observation: Observation): JsonValue {
    const waiting = step.inputs.filter(
      (i) => !this.tracker.get(this.plan.step(step.task, i.from)!).done,
    );
    if (waiting.length === 0) return step.args;
    const luck = this.params.luck as number;
    if (this.random('impatient').double() < luck) return step.args;
    let args: JsonValue = step.args;
    for (const input of waiting) args = withPath(args, input.arg, `guess-${input.from}`);
    return args;
  }
}

/** Abandons a task for good once one of its calls has been in flight longer than `patienceMs`. */
export class Forgetful extends GreedyAsync {
  private readonly abandoned = new Set<string>();

  protected override afterObserve(observation: Observation): void {
    const patienceUs = (this.params.patienceMs as number) * 1000;
    for (const call of observation.pending) {
      if (call.ref !== null && observation.nowUs - call.issuedUs > patienceUs)
        this.abandoned.add(call.ref.split('/')[0]!);
    }
  }

  protected override select(ready: readonly PlanStep[]): readonly PlanStep[] {
    return this.inArrivalOrder(ready.filter((s) => !this.abandoned.has(s.task)));
  }

  protected override shouldAnswer(task: PlanTask, observation: Observation): boolean {
    return !this.abandoned.has(task.id) && super.shouldAnswer(task, observation);
  }
}

/**
 * With two or more tasks open, fills a step's data-flow arguments from the latest result of a
 * different task (at the same path, when it has one): arguments mixed across tasks.
 */
export class Confused extends GreedyAsync {
  private readonly latestByTask = new Map<string, JsonValue>();
  private latestTask: string | null = null;

  protected override afterObserve(observation: Observation): void {
    for (const d of observation.delivered) {
      if (d.type === 'result' && d.ref !== null) {
        const task = d.ref.split('/')[0]!;
        this.latestByTask.set(task, d.result);
        this.latestTask = task;
      }
    }
  }

  protected override argsFor(step: PlanStep, observation: Observation): JsonValue {
    if (observation.openTasks.length < 2 || step.inputs.length === 0) return step.args;
    const other =
      [...this.latestByTask.keys()].reverse().find((t) => t !== step.task) ??
      (this.latestTask !== step.task ? this.latestTask : null);
    if (other === null) return step.args;
    const source = this.latestByTask.get(other)!;
    let args: JsonValue = step.args;
    for (const input of step.inputs) {
      const value = getPath(source, input.path);
      args = withPath(
        args,
        input.arg,
        value === undefined ? `from-${other}` : (value as JsonValue),
      );
    }
    return args;
  }
}

/** Answers a task as soon as one of its steps is done, with whatever results it has, and drops it. */
export class Hasty extends GreedyAsync {
  private readonly answeredEarly = new Set<string>();
  private readonly results = new Map<string, JsonValue[]>();

  protected override afterObserve(observation: Observation): void {
    for (const d of observation.delivered) {
      if (d.type === 'result' && d.ref !== null) {
        const task = d.ref.split('/')[0]!;
        this.results.set(task, [...(this.results.get(task) ?? []), d.result]);
      }
    }
  }

  protected override select(ready: readonly PlanStep[]): readonly PlanStep[] {
    return this.inArrivalOrder(ready.filter((s) => !this.answeredEarly.has(s.task)));
  }

  /** Any task awaiting an answer can be answered early, settled or not. */
  protected override answerCandidates(): readonly PlanTask[] {
    return this.tracker.tasksAwaitingAnswer();
  }

  protected override shouldAnswer(task: PlanTask, _observation: Observation): boolean {
    if (this.answeredEarly.has(task.id) || !this.tracker.awaitsAnswer(task)) return false;
    if (!task.steps.some((s) => this.tracker.get(s).done)) return false;
    this.answeredEarly.add(task.id);
    return true;
  }

  protected override answerFor(task: PlanTask): string {
    return `Here is what I found: ${JSON.stringify(this.results.get(task.id) ?? [])}`;
  }
}
