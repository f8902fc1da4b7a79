/**
 * Invariants a scheduling policy should keep, checked on one episode's events. Each check has a
 * name and a one-line definition (shown by `tooltime stress --help` and in the README), and on a
 * violation names the event where it happened.
 *
 * `determinism` needs two runs and is done by the stress runner, not here.
 */
import type { EpisodeEvent } from '../world/events.js';
import { planOf } from '../world/compiled.js';
import { dependencyViolations } from '../world/dependency-violation.js';
import { isReady } from '../world/readiness.js';
import type { Scenario } from '../spec/schema.js';

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
    "the makespan is within a factor F of the oracle's lower bound, given the think times the episode's decisions took",
  determinism: 'running the same case twice gives the same replay bytes',
};

export interface CheckOptions {
  /** Decisions a ready step may be passed over (`starvation`). */
  readonly starvationDecisions: number;
  /** Largest allowed makespan / lower bound (`efficiency`). */
  readonly efficiencyFactor: number;
}

export interface EpisodeUnderCheck {
  readonly scenario: Scenario;
  readonly events: readonly EpisodeEvent[];
  /** The agent's declared cap on calls in flight (Infinity when it declares none). */
  readonly agentCap: number;
  /** The efficiency yardstick, or null: the oracle's chain bound given the think times the episode's decisions took (`thinkAwareBoundUs`). */
  readonly referenceUs: number | null;
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

/** For each successful call matched to a step: the index of the event that delivered it. */
function deliveries(events: readonly EpisodeEvent[]): Map<string, number> {
  const stepOf = new Map<number, string>();
  const ok = new Set<number>();
  const delivered = new Map<string, number>();
  events.forEach((ev, i) => {
    if (ev.type === 'call_issued' && ev.task !== null && ev.step !== null)
      stepOf.set(ev.callId, `${ev.task}/${ev.step}`);
    else if (ev.type === 'call_completed' && ev.ok) ok.add(ev.callId);
    else if (ev.type === 'result_delivered' && ok.has(ev.callId)) {
      const step = stepOf.get(ev.callId);
      if (step !== undefined && !delivered.has(step)) delivered.set(step, i);
    }
  });
  return delivered;
}

/** The first dependency violation, as scoring counts them (world/dependency-violation.ts). */
export function checkDependencies(e: EpisodeUnderCheck): Violation | null {
  const plan = planOf(e.scenario);
  const first = dependencyViolations(plan, e.events)[0];
  if (first === undefined) return null;
  const i = first.eventIndex;
  const delivered = deliveries(e.events);
  const missing = plan.dependencies(first.step).find((d) => (delivered.get(d.key) ?? Infinity) > i);
  const what = missing === undefined ? 'its request' : `the result of ${missing.key}`;
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

export function checkStarvation(e: EpisodeUnderCheck, options: CheckOptions): Violation | null {
  const plan = planOf(e.scenario);
  const delivered = deliveries(e.events);
  // Calls are only issued while a decision's actions apply: every call_issued belongs to the last
  // decision_ended before it.
  const issuedBy = new Map<number, Set<string>>();
  let lastDecision = -1;
  for (const [i, ev] of e.events.entries()) {
    if (ev.type === 'decision_ended') {
      lastDecision = i;
      issuedBy.set(i, new Set());
    } else if (
      ev.type === 'call_issued' &&
      ev.task !== null &&
      ev.step !== null &&
      lastDecision >= 0
    ) {
      issuedBy.get(lastDecision)!.add(`${ev.task}/${ev.step}`);
    }
  }
  const releasedAt = new Map<string, number>();
  let arrived: Array<{ task: string; message: number | null }> = [];
  const issued = new Set<string>();
  const passedOver = new Map<string, number>();
  for (const [i, ev] of e.events.entries()) {
    if (ev.type === 'task_arrived') arrived.push({ task: ev.task, message: null });
    else if (ev.type === 'message_arrived') arrived.push({ task: ev.task, message: ev.index });
    else if (ev.type === 'decision_started') {
      // What arrived is delivered at this decision's start: its steps are released from here on.
      for (const a of arrived)
        for (const s of plan.task(a.task)!.steps)
          if (s.message === a.message && !releasedAt.has(s.key)) releasedAt.set(s.key, i);
      arrived = [];
    } else if (ev.type === 'decision_ended') {
      const here = issuedBy.get(i)!;
      if (here.size > 0) {
        for (const s of plan.steps) {
          // Only steps never issued can starve: so neither done nor in flight.
          if (issued.has(s.key) || here.has(s.key)) continue;
          const dependenciesDelivered = plan
            .dependencies(s)
            .every((d) => (delivered.get(d.key) ?? Infinity) < i);
          if (
            !isReady({
              released: releasedAt.has(s.key),
              dependenciesDelivered,
              done: false,
              inFlight: false,
            })
          )
            continue;
          const n = (passedOver.get(s.key) ?? 0) + 1;
          passedOver.set(s.key, n);
          if (n > options.starvationDecisions) {
            return {
              check: 'starvation',
              message: `${s.key} was ready but passed over by ${n} decisions that issued other calls (bound ${options.starvationDecisions})`,
              eventIndex: i,
            };
          }
        }
      }
      for (const k of here) issued.add(k);
    }
  }
  return null;
}

export function checkEfficiency(e: EpisodeUnderCheck, options: CheckOptions): Violation | null {
  const last = e.events.at(-1);
  if (e.referenceUs === null || last === undefined || e.referenceUs === 0) return null;
  const ratio = last.timeUs / e.referenceUs;
  if (ratio <= options.efficiencyFactor) return null;
  return {
    check: 'efficiency',
    message: `makespan ${ms(last.timeUs)} is ${ratio.toFixed(2)}x the realized critical path ${ms(e.referenceUs)} (factor ${options.efficiencyFactor})`,
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
