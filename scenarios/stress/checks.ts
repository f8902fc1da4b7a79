/**
 * Invariants a scheduling policy should keep, checked on one episode's events. Each check has a
 * name and a one-line definition (shown by `tooltime stress --help` and in the README), and on a
 * violation names the event where it happened.
 *
 * `determinism` needs two runs and is done by the stress runner, not here.
 */
import type { EpisodeEvent } from '../world/events.js';
import { planOf } from '../world/compiled.js';
import { dependencyViolations, EpisodeDeliveries } from '../world/dependency-violation.js';
import type { PlanStep } from '../world/plan.js';
import { isReady } from '../world/readiness.js';
import type { Scenario } from '../spec/schema.js';
import { compileDistribution } from '../../engine/index.js';
import { promptScheduleUs } from './prompt-schedule.js';

export type CheckName =
  | 'liveness'
  | 'dependencies'
  | 'capacity'
  | 'starvation'
  | 'efficiency'
  | 'determinism';

export const CHECK_NAMES: readonly CheckName[] = [
  'liveness',
  'dependencies',
  'capacity',
  'starvation',
  'efficiency',
  'determinism',
];

export const CHECK_DEFINITIONS: Readonly<Record<CheckName, string>> = {
  liveness: 'every task is answered within the limits (the episode ends completed)',
  dependencies:
    "no call for a step is issued before its request and every dependency's successful result were delivered to the agent",
  capacity:
    "no tool ever has more calls in service than its limit, and the agent's own in-flight cap holds",
  starvation: 'no ready step stays unissued through more than K decisions that issue other calls',
  efficiency:
    'the makespan is within a factor F of its prompt schedule: the same decisions and call times, every step and answer at the first decision that could',
  determinism: 'running the same case twice gives the same replay bytes',
};

export interface CheckOptions {
  /** Decisions a ready step may be passed over (`starvation`). */
  readonly starvationDecisions: number;
  /** Largest allowed makespan / prompt schedule (`efficiency`). */
  readonly efficiencyFactor: number;
}

export interface EpisodeUnderCheck {
  readonly scenario: Scenario;
  readonly events: readonly EpisodeEvent[];
  /** The agent's declared cap on calls in flight (Infinity when it declares none). */
  readonly agentCap: number;
}

export interface Violation {
  readonly check: CheckName;
  readonly message: string;
  /** Index into the episode's events where the violation shows, or null. */
  readonly eventIndex: number | null;
}

const ms = (us: number) => `${(us / 1000).toFixed(3)}ms`;

export function checkLiveness(e: EpisodeUnderCheck): Violation | null {
  const index = e.events.length - 1;
  const last = e.events[index];
  if (last?.type === 'episode_ended' && last.reason === 'completed') return null;
  const answered = new Set(e.events.flatMap((x) => (x.type === 'answer_given' ? [x.task] : [])));
  const open = e.scenario.tasks.map((t) => t.id).filter((t) => !answered.has(t));
  const how =
    last?.type === 'episode_ended'
      ? `${last.reason}${last.detail === null ? '' : ` (${last.detail})`}`
      : 'without an end';
  return {
    check: 'liveness',
    message: `the episode ended ${how} at ${ms(last?.timeUs ?? 0)}; unanswered: ${open.join(', ') || 'none (a follow-up was left unanswered)'}`,
    eventIndex: index,
  };
}

/** The first dependency violation, as scoring counts them (world/dependency-violation.ts). */
export function checkDependencies(e: EpisodeUnderCheck): Violation | null {
  const first = dependencyViolations(planOf(e.scenario), e.events)[0];
  if (first === undefined) return null;
  const i = first.eventIndex;
  const what = first.missing === 'request' ? 'its request' : `the result of ${first.missing.key}`;
  return {
    check: 'dependencies',
    message: `call ${first.callId} for ${first.step.key} was issued at ${ms(e.events[i]!.timeUs)} before ${what} was delivered`,
    eventIndex: i,
  };
}

export function checkCapacity(e: EpisodeUnderCheck): Violation | null {
  const limits = new Map(e.scenario.tools.map((t) => [t.name, t.concurrency ?? Infinity]));
  const toolOf = new Map<number, string>();
  const inService = new Map<string, number>();
  let agentInFlight = 0;
  for (const [i, ev] of e.events.entries()) {
    if (ev.type === 'call_issued') {
      toolOf.set(ev.callId, ev.tool);
      agentInFlight++;
      if (agentInFlight > e.agentCap)
        return {
          check: 'capacity',
          message: `call ${ev.callId} made ${agentInFlight} calls in flight, above the agent's own cap of ${e.agentCap}`,
          eventIndex: i,
        };
    } else if (ev.type === 'result_delivered') {
      agentInFlight--;
    } else if (ev.type === 'call_started') {
      const tool = toolOf.get(ev.callId)!;
      const n = (inService.get(tool) ?? 0) + 1;
      inService.set(tool, n);
      if (n > limits.get(tool)!)
        return {
          check: 'capacity',
          message: `${tool} has ${n} calls in service, above its limit of ${limits.get(tool)}`,
          eventIndex: i,
        };
    } else if (ev.type === 'call_completed') {
      const tool = toolOf.get(ev.callId)!;
      if (inService.has(tool) && (inService.get(tool) ?? 0) > 0)
        inService.set(tool, inService.get(tool)! - 1);
    }
  }
  return null;
}

/**
 * One pass over the events with the delivered facts of world/dependency-violation.ts. A step is a
 * candidate while it is ready (request and dependencies' results delivered) and was never issued;
 * candidates come and go as facts change, so each decision costs the candidates it passes over
 * (at most K + 1 times each before the check fails), not the whole plan.
 */
export function checkStarvation(e: EpisodeUnderCheck, options: CheckOptions): Violation | null {
  const plan = planOf(e.scenario);
  const issued = new Uint8Array(plan.steps.length);
  const candidates = new Set<PlanStep>();
  const deliveries = new EpisodeDeliveries(plan, {
    changed: (s) => {
      const d = deliveries.delivered;
      const facts = {
        released: d.isReleased(s),
        dependenciesDelivered: d.dependenciesDelivered(s),
      };
      if (issued[s.index] === 0 && isReady({ ...facts, done: false, inFlight: false }))
        candidates.add(s);
    },
  });
  const passedOver = new Map<PlanStep, number>();
  // The decision whose calls are being issued (actions take effect at its end): its event index
  // and the steps it issued. Delivered facts change only at a decision's start, so it is judged
  // when the next decision starts, or at the end, against the facts as of its end.
  let judging: { at: number; steps: Set<PlanStep> } | null = null;
  const judge = (): Violation | null => {
    if (judging === null || judging.steps.size === 0) return null;
    const { at, steps } = judging;
    judging = null;
    let starved: PlanStep | null = null;
    for (const s of candidates) {
      if (steps.has(s)) continue;
      const n = (passedOver.get(s) ?? 0) + 1;
      passedOver.set(s, n);
      // Several at once: the first in plan order is named.
      if (n > options.starvationDecisions && (starved === null || s.index < starved.index))
        starved = s;
    }
    if (starved !== null)
      return {
        check: 'starvation',
        message: `${starved.key} was ready but passed over by ${passedOver.get(starved)} decisions that issued other calls (bound ${options.starvationDecisions})`,
        eventIndex: at,
      };
    // Only steps never issued can starve: so neither done nor in flight.
    for (const s of steps) {
      issued[s.index] = 1;
      candidates.delete(s);
    }
    return null;
  };
  for (const [i, ev] of e.events.entries()) {
    if (ev.type === 'decision_started') {
      const v = judge();
      if (v !== null) return v;
    }
    const step = deliveries.apply(ev);
    if (ev.type === 'decision_ended') judging = { at: i, steps: new Set() };
    else if (step !== null && judging !== null) judging.steps.add(step);
  }
  return judge();
}

/**
 * The makespan is at most F times the episode's prompt schedule (prompt-schedule.ts: what its own
 * decisions, with the think times they took, reach when each does all it can). A policy that acts
 * on everything it can at every decision passes with a ratio of 1; one that passes over or idles
 * with ready work pays the decisions and idle time it let go by.
 */
export function checkEfficiency(e: EpisodeUnderCheck, options: CheckOptions): Violation | null {
  const last = e.events.at(-1);
  if (last === undefined) return null;
  const minThinkUs = compileDistribution(e.scenario.thinkTime).minUs;
  const promptUs = promptScheduleUs(planOf(e.scenario), e.events, minThinkUs);
  if (last.timeUs <= options.efficiencyFactor * promptUs) return null;
  const ratio =
    promptUs === 0 ? 'more than any multiple of' : `${(last.timeUs / promptUs).toFixed(2)}x`;
  return {
    check: 'efficiency',
    message: `makespan ${ms(last.timeUs)} is ${ratio} its prompt schedule ${ms(promptUs)}, every step and answer at the first of its decisions that could (factor ${options.efficiencyFactor})`,
    eventIndex: e.events.length - 1,
  };
}

/** Runs the named single-episode checks in a fixed order; returns the first violation. */
export function runChecks(
  e: EpisodeUnderCheck,
  names: readonly CheckName[],
  options: CheckOptions,
): Violation | null {
  for (const name of names) {
    let v: Violation | null = null;
    if (name === 'liveness') v = checkLiveness(e);
    else if (name === 'dependencies') v = checkDependencies(e);
    else if (name === 'capacity') v = checkCapacity(e);
    else if (name === 'starvation') v = checkStarvation(e, options);
    else if (name === 'efficiency') v = checkEfficiency(e, options);
    if (v !== null) return v;
  }
  return null;
}
