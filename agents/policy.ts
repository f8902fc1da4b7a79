/**
 * Plan-aware scheduling policies: the common machinery of every baseline agent.
 *
 * A policy knows each task's plan (the expected steps and answer) and differs only in how it uses
 * the time while tools are busy. Each decision it: updates its `PlanTracker` from what was
 * delivered; asks the subclass which ready steps to issue, in order (`select`), within its
 * in-flight cap; answers every task whose steps are done (or given up after `retry` failures);
 * and, under poll delivery with calls in flight, polls and waits `pollMs`.
 *
 * Shared parameters: `maxInFlight` (cap on calls in flight), `thinkMs` (a constant think time per
 * decision; unset: the scenario's think time distribution), `retry` (re-issues of a failed step
 * before giving up), `pollMs` (how long to wait between polls).
 */
import { msToUs, type RandomStream } from '../engine/index.js';
import { planOf } from '../scenarios/world/compiled.js';
import type { Plan, PlanStep, PlanTask } from '../scenarios/world/plan.js';
import type { Action, Agent, AgentContext, Decision, Observation } from '../scenarios/protocol.js';
import type { JsonValue } from '../scenarios/spec/schema.js';
import { PlanTracker } from '../scenarios/world/tracker.js';
import type { ParamDef, ParamValues } from './spec.js';

export const COMMON_PARAMS: readonly ParamDef[] = [
  {
    name: 'maxInFlight',
    kind: 'int',
    default: Infinity,
    min: 1,
    help: 'most calls in flight at once',
  },
  {
    name: 'thinkMs',
    kind: 'number',
    default: null,
    min: 0,
    help: 'constant think time per decision (default: the scenario think time)',
  },
  {
    name: 'retry',
    kind: 'int',
    default: 7,
    min: 0,
    help: 're-issues of a failed step before giving up (7: eight attempts, as the oracle allows)',
  },
  {
    name: 'pollMs',
    kind: 'number',
    default: 100,
    min: 0.001,
    help: 'wait between polls under poll delivery',
  },
];

export abstract class PlanPolicy implements Agent {
  readonly spec: string;
  protected readonly params: ParamValues;
  protected plan!: Plan;
  protected tracker!: PlanTracker;
  protected context!: AgentContext;
  /**
   * By step index: the decision number at which the step was first seen ready, 0 before (for
   * arrival-order service; decisions count from 1). An array, as a map by key grew to every step.
   */
  protected readySince: Int32Array = new Int32Array(0);
  private readonly givenUp = new Set<string>();

  constructor(spec: string, params: ParamValues) {
    this.spec = spec;
    this.params = params;
  }

  start(context: AgentContext): void {
    this.context = context;
    this.plan = planOf(context.scenario);
    this.tracker = new PlanTracker(this.plan);
    this.readySince = new Int32Array(this.plan.steps.length);
  }

  decide(observation: Observation): Decision {
    this.tracker.observe(observation);
    this.afterObserve(observation);
    const actions: Action[] = [];
    const ready = this.readySteps(observation);
    for (const s of ready)
      if (this.readySince[s.index] === 0) this.readySince[s.index] = observation.decision;
    let inFlight = this.tracker.inFlightCount();
    let issued = 0;
    for (const step of this.select(ready, observation)) {
      if (inFlight >= this.capFor()) break;
      this.tracker.issued(step);
      actions.push({
        type: 'call',
        tool: step.tool,
        args: this.argsFor(step, observation),
        ref: step.key,
      });
      inFlight++;
      issued++;
    }
    for (const task of this.answerCandidates()) {
      if (this.shouldAnswer(task, observation)) {
        this.tracker.answered(task);
        actions.push({ type: 'answer', task: task.id, content: this.answerFor(task) });
      }
    }
    if (
      observation.delivery === 'poll' &&
      observation.mode === 'async' &&
      this.tracker.inFlightCount() > 0
    ) {
      actions.push({ type: 'poll' }, { type: 'wait', maxUs: msToUs(this.params.pollMs as number) });
    } else if (actions.length > 0 && !this.continueAtOnce(ready.length - issued, inFlight)) {
      // Nothing more to do until something is delivered: say so, rather than spend a decision
      // (and its think time) finding that out.
      actions.push({ type: 'wait' });
    }
    const thinkMs = this.params.thinkMs;
    return typeof thinkMs === 'number' ? { actions, thinkUs: msToUs(thinkMs) } : { actions };
  }

  /**
   * Whether to decide again right away after acting, instead of waiting for the next delivery:
   * only policies that hold back ready steps on purpose (one per decision) want to.
   */
  protected continueAtOnce(_readyLeft: number, _inFlight: number): boolean {
    return false;
  }

  /** Which ready steps to issue this decision, in issue order (the cap is applied after). */
  protected abstract select(
    ready: readonly PlanStep[],
    observation: Observation,
  ): readonly PlanStep[];

  /** Hook for policies that keep their own state from observations. */
  protected afterObserve(_observation: Observation): void {}

  /** Steps this policy considers ready: the tracker's, minus steps given up after `retry` failures. */
  protected readySteps(_observation: Observation): PlanStep[] {
    const limit = this.params.retry as number;
    return this.tracker.readySteps().filter((s) => {
      if (this.tracker.get(s).failures > limit) this.givenUp.add(s.key);
      return !this.givenUp.has(s.key);
    });
  }

  /** The args a policy sends for a step: the expected ones (their inputs have been delivered). */
  protected argsFor(step: PlanStep, _observation: Observation): JsonValue {
    return step.args;
  }

  /**
   * The tasks `shouldAnswer` is asked about this decision, in plan order. Only a task awaiting an
   * answer has one to give (an answer to any other would settle nothing); of those, the default
   * rule can say yes only to one whose released steps are all done, unless a step was given up.
   * So the question costs what is settled, not what is open. A policy that answers unsettled
   * tasks widens this to `tracker.tasksAwaitingAnswer()`.
   */
  protected answerCandidates(): readonly PlanTask[] {
    return this.givenUp.size === 0
      ? this.tracker.answerableTasks()
      : this.tracker.tasksAwaitingAnswer();
  }

  /**
   * Answer once every released step is done or abandoned, and the task awaits an answer. Asked
   * each decision about each of `answerCandidates()`, in plan order.
   */
  protected shouldAnswer(task: PlanTask, _observation: Observation): boolean {
    if (!this.tracker.isReleased(task) || !this.tracker.awaitsAnswer(task)) return false;
    // Settled when every released step is done, or abandoned and not in flight; nothing is
    // abandoned until a step is given up.
    if (this.tracker.openStepCount(task) === 0) return true;
    if (this.givenUp.size === 0) return false;
    return task.steps.every((s) => {
      const st = this.tracker.get(s);
      return !st.released || st.done || (this.isAbandoned(s) && !st.inFlight);
    });
  }

  /** Given up after `retry` failures, or waiting on a dependency that was (it can never run). */
  private isAbandoned(step: PlanStep): boolean {
    return (
      this.givenUp.has(step.key) || this.plan.dependencies(step).some((d) => this.isAbandoned(d))
    );
  }

  protected answerFor(task: PlanTask): string {
    return this.tracker.expectedAnswer(task);
  }

  get maxInFlight(): number {
    return this.params.maxInFlight as number;
  }

  /** The cap this decision applies: the declared one (a hook so tests can model a broken cap). */
  protected capFor(): number {
    return this.maxInFlight;
  }

  protected random(name: string): RandomStream {
    return this.context.random(name);
  }

  /** Ready steps ordered by the decision they became ready at, then plan order. */
  protected inArrivalOrder(ready: readonly PlanStep[]): PlanStep[] {
    return [...ready].sort(
      (a, b) => this.readySince[a.index]! - this.readySince[b.index]! || a.index - b.index,
    );
  }
}
