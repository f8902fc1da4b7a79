/**
 * Deliberately flawed scheduling policies: `tooltime stress` must find each flaw, shrink it to a
 * small case, and save a scenario and replay that reproduce it (test/scenarios/stress/checks.test.ts).
 */
import { GreedyAsync } from './baselines.js';
import type { Agent, Decision, Observation } from '../scenarios/protocol.js';
import type { PlanStep } from '../scenarios/world/plan.js';
import { createAgent } from './index.js';
import { COMMON_PARAMS } from './policy.js';
import { parseParams } from './spec.js';

const params = (pairs: Array<[string, string]>) =>
  parseParams('flawed', pairs, COMMON_PARAMS).params;

/** Declares a cap of 2 calls in flight, but under load (3+ ready steps) issues them all anyway. */
export class CapIgnorer extends GreedyAsync {
  constructor() {
    super('cap-ignorer', params([['maxInFlight', '2']]));
  }
  override get maxInFlight(): number {
    return 2;
  }
  private lifted = false;
  protected override select(ready: readonly PlanStep[]): readonly PlanStep[] {
    // The bug: the cap is lifted exactly when it matters.
    this.lifted = ready.length >= 3;
    return this.inArrivalOrder(ready);
  }
  protected override capFor(): number {
    return this.lifted ? Infinity : 2;
  }
}

/** One step per decision, always from the task that produced the latest result: others starve. */
export class Starver extends GreedyAsync {
  private latestTask: string | null = null;
  constructor() {
    super('starver', params([]));
  }
  protected override afterObserve(observation: Observation): void {
    for (const d of observation.delivered)
      if (d.type === 'result' && d.ref !== null) this.latestTask = d.ref.split('/')[0]!;
  }
  protected override select(ready: readonly PlanStep[]): readonly PlanStep[] {
    const favourite = ready.find((s) => s.task === this.latestTask);
    return favourite !== undefined ? [favourite] : ready.slice(0, 1);
  }
}

/** When two results arrive in one observation, treats every dependent of either as ready. */
export class EarlyBird extends GreedyAsync {
  private early: PlanStep[] = [];
  constructor() {
    super('early-bird', params([]));
  }
  protected override afterObserve(observation: Observation): void {
    const results = observation.delivered.filter((d) => d.type === 'result' && d.ref !== null);
    this.early = [];
    if (results.length < 2) return;
    const just = new Set(results.map((d) => (d.type === 'result' ? d.ref : null)));
    for (const s of this.plan.steps) {
      const st = this.tracker.get(s);
      if (
        st.released &&
        !st.done &&
        !st.inFlight &&
        st.attempts === 0 &&
        s.after.some((d) => just.has(`${s.task}/${d}`))
      )
        this.early.push(s);
    }
  }
  protected override readySteps(observation: Observation): PlanStep[] {
    const proper = super.readySteps(observation);
    return [...proper, ...this.early.filter((s) => !proper.includes(s))];
  }
}

/** How long the idler sits on what was just delivered before acting on it (1,000 s). */
const IDLE_US = 1_000_000_000;

/**
 * Acts on nothing at the decision that receives it: whatever was just delivered waits out a
 * 1,000 s timer (or the next delivery, which re-arms it), so ready steps sit idle though nothing
 * stops the policy from issuing them. Correct in every other respect.
 */
export class Idler extends GreedyAsync {
  private holding = false;
  constructor() {
    super('idler', params([]));
  }
  override decide(observation: Observation): Decision {
    // The flaw: something new arrived, so it waits before issuing what became ready.
    this.holding = observation.delivered.length > 0;
    const decision = super.decide(observation);
    if (!this.holding) return decision;
    const actions = decision.actions.filter((a) => a.type !== 'wait');
    return { ...decision, actions: [...actions, { type: 'wait', maxUs: IDLE_US }] };
  }
  protected override select(ready: readonly PlanStep[]): readonly PlanStep[] {
    return this.holding ? [] : super.select(ready);
  }
}

export const FLAWED: Readonly<Record<string, () => Agent>> = {
  'cap-ignorer': () => new CapIgnorer(),
  starver: () => new Starver(),
  'early-bird': () => new EarlyBird(),
  idler: () => new Idler(),
};

/** A maker for stress: the flawed policies by name, everything else from the registry. */
export function flawedMaker(spec: string): Agent {
  return FLAWED[spec]?.() ?? createAgent(spec);
}
