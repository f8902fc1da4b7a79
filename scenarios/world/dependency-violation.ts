/**
 * Where a dependency violation is decided, the one definition scoring and the stress checks share:
 * a call for a step is a violation when it is issued before the step's request (its task's arrival
 * or the follow-up that adds it) was delivered to the agent, or before every dependency's
 * successful result was delivered to the agent. Delivered, not merely completed in the world: an
 * agent cannot know of a result it has not been given. Readiness (readiness.ts) builds on the same
 * two facts.
 *
 * `DeliveredDependencies` keeps them incrementally (O(1) per delivery plus the step's dependents);
 * `dependencyViolations` reads them off an episode's events: requests arrived are delivered at the
 * start of the next decision, a result when its `result_delivered` comes.
 */
import type { EpisodeEvent } from './events.js';
import type { Plan, PlanStep } from './plan.js';

export class DeliveredDependencies {
  /** By step index: its request was delivered; a successful result for it was delivered. */
  private readonly released: Uint8Array;
  private readonly deliveredOk: Uint8Array;
  /** By step index: listings in its `after` whose step has no delivered successful result. */
  private readonly unmet: Int32Array;

  /** `changed(step)` is told whenever a step's facts change (for counts derived from them). */
  constructor(
    private readonly plan: Plan,
    private readonly changed: (step: PlanStep) => void = () => {},
  ) {
    this.released = new Uint8Array(plan.steps.length);
    this.deliveredOk = new Uint8Array(plan.steps.length);
    this.unmet = Int32Array.from(plan.steps, (s) => s.after.length);
  }

  /** The request that releases `steps` was delivered to the agent (again is harmless). */
  requestDelivered(steps: readonly PlanStep[]): void {
    for (const s of steps) {
      if (this.released[s.index] === 1) continue;
      this.released[s.index] = 1;
      this.changed(s);
    }
  }

  /** A successful result of a call for `step` was delivered (only the first one counts). */
  resultDelivered(step: PlanStep): void {
    if (this.deliveredOk[step.index] === 1) return;
    this.deliveredOk[step.index] = 1;
    // Each dependent lists the step once per listing, as `unmet` counts them.
    for (const d of this.plan.dependents(step)) {
      this.unmet[d.index]!--;
      this.changed(d);
    }
  }

  isReleased(step: PlanStep): boolean {
    return this.released[step.index] === 1;
  }

  /** A successful result of a call for `step` has been delivered. */
  hasResult(step: PlanStep): boolean {
    return this.deliveredOk[step.index] === 1;
  }

  /** Every dependency's successful result has been delivered. */
  dependenciesDelivered(step: PlanStep): boolean {
    return this.unmet[step.index] === 0;
  }

  /** A call for `step` issued now would be a dependency violation. */
  violates(step: PlanStep): boolean {
    return !this.isReleased(step) || !this.dependenciesDelivered(step);
  }

  /**
   * What a call for `step` issued now would miss: the first of its dependencies (in `after` order)
   * without a delivered result, else 'request' when its request was not delivered, else null.
   */
  missing(step: PlanStep): PlanStep | 'request' | null {
    if (!this.dependenciesDelivered(step))
      return this.plan.dependencies(step).find((d) => !this.hasResult(d))!;
    return this.isReleased(step) ? null : 'request';
  }
}

/**
 * A call that violated the rule: the index of its `call_issued` event, its step, and what it
 * missed (a dependency's result, or the step's request).
 */
export interface DependencyViolation {
  readonly eventIndex: number;
  readonly callId: number;
  readonly step: PlanStep;
  readonly missing: PlanStep | 'request';
}

/** What an `EpisodeDeliveries` tells as it goes. */
export interface DeliveryHooks {
  /** A step's delivered facts changed (for counts derived from them, as scoring keeps). */
  readonly changed?: (step: PlanStep) => void;
  /** A decision's start delivered a request (an arrival or a follow-up) of `task`. */
  readonly requestDelivered?: (task: string) => void;
}

/**
 * What an episode's events had delivered to the agent, event by event: requests arrived are
 * delivered at the start of the next decision, a successful result when its `result_delivered`
 * comes (successful: its call's last `call_completed` said ok). `apply` each event in order;
 * `delivered` then holds the facts as of that event. Scoring and the stress checks both read an
 * episode through it.
 */
export class EpisodeDeliveries {
  readonly delivered: DeliveredDependencies;
  private readonly stepOf = new Map<number, PlanStep>();
  private readonly ok = new Set<number>();
  private arrived: Array<{ task: string; steps: readonly PlanStep[] }> = [];

  constructor(
    private readonly plan: Plan,
    private readonly hooks: DeliveryHooks = {},
  ) {
    this.delivered = new DeliveredDependencies(plan, hooks.changed);
  }

  /**
   * Takes `ev` in; for a `call_issued`, returns the step it performs: the world's match recorded
   * on the event, or `matched` when the reader matched it itself (scoring re-applies the world's
   * rule to the args).
   */
  apply(ev: EpisodeEvent, matched?: PlanStep | null): PlanStep | null {
    const plan = this.plan;
    switch (ev.type) {
      case 'task_arrived': {
        const task = plan.task(ev.task);
        this.arrived.push({ task: ev.task, steps: task === undefined ? [] : plan.ownSteps(task) });
        return null;
      }
      case 'message_arrived':
        this.arrived.push({
          task: plan.messages[ev.index]?.task ?? ev.task,
          steps: plan.messageSteps(ev.index),
        });
        return null;
      case 'decision_started':
        for (const { task, steps } of this.arrived) {
          this.hooks.requestDelivered?.(task);
          this.delivered.requestDelivered(steps);
        }
        this.arrived = [];
        return null;
      case 'call_issued': {
        const recorded =
          ev.task === null || ev.step === null ? undefined : plan.step(ev.task, ev.step);
        const step = matched === undefined ? (recorded ?? null) : matched;
        // A call has no outcome until it completes.
        this.ok.delete(ev.callId);
        if (step !== null) this.stepOf.set(ev.callId, step);
        return step;
      }
      case 'call_completed':
        if (ev.ok) this.ok.add(ev.callId);
        else this.ok.delete(ev.callId);
        return null;
      case 'result_delivered': {
        const step = this.stepOf.get(ev.callId);
        if (step !== undefined && this.ok.has(ev.callId)) this.delivered.resultDelivered(step);
        return null;
      }
      default:
        return null;
    }
  }
}

/**
 * Every dependency violation in an episode's events, in event order: the calls whose step (as the
 * world matched it, `task`/`step` on `call_issued`) was issued in violation.
 */
export function dependencyViolations(
  plan: Plan,
  events: readonly EpisodeEvent[],
): DependencyViolation[] {
  const deliveries = new EpisodeDeliveries(plan);
  const found: DependencyViolation[] = [];
  for (const [i, ev] of events.entries()) {
    // Judged before the call is taken in (taking it in changes no delivery fact).
    const step = deliveries.apply(ev);
    if (step === null || ev.type !== 'call_issued') continue;
    const missing = deliveries.delivered.missing(step);
    if (missing !== null) found.push({ eventIndex: i, callId: ev.callId, step, missing });
  }
  return found;
}
