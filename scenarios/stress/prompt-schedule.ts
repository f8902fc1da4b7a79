/**
 * The efficiency yardstick of `tooltime stress`: an episode's PROMPT SCHEDULE, the makespan the
 * same episode would have had if the policy had done everything at the first of its own decisions
 * that could do it. The check claims: makespan <= F x prompt schedule.
 *
 * Kept from the episode: its decisions with the think time each took; its calls, each taking from
 * issue to completion as long as it took (queueing at a limited tool included), and the attempts
 * it made per step (up to the first success; all of them for a step the policy gave up on).
 * Moved: each step's attempts are issued, one after another, at the end of the first decision that
 * had seen its request and its dependencies' successful results (a retry: the failure); each task
 * is answered by the first decision that had seen its last request and all its steps' outcomes.
 * "Had seen" is the world's rule: a decision knows what came at or before its start (what the
 * episode delivered, from the decision that received it). The schedule may also decide while the
 * policy sat idle (between decisions; not while blocked in `sync` mode): such a decision starts
 * when what it needs came and lasts what the policy's next decision drew, which is what the world
 * would have drawn for it (think times are drawn one per decision, in order, from one stream,
 * whatever the decision does).
 *
 * Why a correct policy passes: one that issues every ready step and answers every settled task at
 * each decision (greedy-async, critical-path) makes exactly its prompt schedule, so the ratio is 1
 * whatever its think times drew (a 20 s draw late in the episode is in both). One that holds
 * ready work back for a while (parallel-sync, until its batch is back) loses the decisions it let
 * pass and no more (under 2.8x on 6,000 random cases). Why an inefficient one fails: a policy that
 * passes over ready steps (sequential on a task of 20 independent steps: one per decision, 19.8x)
 * or idles with them (sits on a delivery for a timer while it could act) has its makespan grow by
 * every decision and idle stretch it let go by, while the prompt schedule does that work at once.
 *
 * For any policy that keeps the dependency rule and answers a task only once it has its steps'
 * outcomes, the prompt schedule is at most its makespan (by induction over steps in plan order,
 * nothing in it happens later than in the episode; one that answers early may beat it). It is not
 * a bound over other policies: a policy with fewer decisions could draw other think times. A think
 * time the policy states (`Decision.thinkUs`) is its own and charged as taken, so a policy that
 * says it thinks long is not caught here. Under `poll` delivery a result counts as known when it
 * completes: the time until the policy polls is the policy's.
 */
import { assertInvariant } from '../../engine/assert.js';
import type { EpisodeEvent } from '../world/events.js';
import type { Plan } from '../world/plan.js';

/** When something came, and the first decision (by index) that can have seen it. */
interface Fact {
  readonly atUs: number;
  readonly decision: number;
}

const later = (a: Fact, b: Fact): Fact => ({
  atUs: Math.max(a.atUs, b.atUs),
  decision: Math.max(a.decision, b.decision),
});

interface CallRecord {
  readonly issuedUs: number;
  /** Index of the decision that issued it. */
  readonly by: number;
  completedUs: number | null;
  ok: boolean;
  /** Index of the decision its outcome was delivered at, or null. */
  deliveredAt: number | null;
}

/**
 * The episode read once: its decisions (start, think time, until when the agent was busy after
 * each: its think, or in sync mode the calls it blocked on), each step's calls in issue order, and
 * the decision each request (a task's arrival, a follow-up by index) was delivered at.
 */
class EpisodeTimeline {
  readonly startUs: number[] = [];
  readonly thinkUs: number[] = [];
  readonly busyUntilUs: number[] = [];
  readonly callsOf: CallRecord[][];
  readonly arrivalAt = new Map<string, number>();
  readonly messageAt = new Map<number, number>();

  constructor(plan: Plan, events: readonly EpisodeEvent[]) {
    this.callsOf = plan.steps.map(() => []);
    const calls = new Map<number, CallRecord>();
    let undelivered: Array<{ task: string } | { message: number }> = [];
    let sync = false;
    let decision = -1;
    for (const ev of events) {
      switch (ev.type) {
        case 'episode_started':
          sync = ev.mode === 'sync';
          break;
        case 'task_arrived':
          undelivered.push({ task: ev.task });
          break;
        case 'message_arrived':
          undelivered.push({ message: ev.index });
          break;
        case 'decision_started':
          decision++;
          this.startUs.push(ev.timeUs);
          for (const r of undelivered)
            if ('task' in r) this.arrivalAt.set(r.task, decision);
            else this.messageAt.set(r.message, decision);
          undelivered = [];
          break;
        case 'decision_ended':
          this.thinkUs.push(ev.thinkUs);
          this.busyUntilUs.push(ev.timeUs);
          break;
        case 'call_issued': {
          const step =
            ev.task === null || ev.step === null ? undefined : plan.step(ev.task, ev.step);
          if (step === undefined) break;
          const call = {
            issuedUs: ev.timeUs,
            by: decision,
            completedUs: null,
            ok: false,
            deliveredAt: null,
          };
          calls.set(ev.callId, call);
          this.callsOf[step.index]!.push(call);
          break;
        }
        case 'call_completed': {
          const call = calls.get(ev.callId);
          if (call === undefined) break;
          call.completedUs = ev.timeUs;
          call.ok = ev.ok;
          // In sync mode a decision's calls block the agent until all of them are back.
          if (sync) this.busyUntilUs[call.by] = Math.max(this.busyUntilUs[call.by]!, ev.timeUs);
          break;
        }
        case 'result_delivered': {
          const call = calls.get(ev.callId);
          if (call !== undefined) call.deliveredAt = decision;
          break;
        }
      }
    }
    // A decision cut off by the episode's end took no think time: the schedule cannot use it.
    this.startUs.length = this.thinkUs.length;
    if (sync)
      for (const c of calls.values())
        if (c.completedUs === null && c.by < this.busyUntilUs.length)
          this.busyUntilUs[c.by] = Infinity;
  }

  /** Index of the first decision that started at or after `atUs` (the count when none did). */
  firstStartingFrom(atUs: number): number {
    let lo = 0;
    let hi = this.startUs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.startUs[mid]! < atUs) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/**
 * The prompt schedule's makespan (module comment) for `events` on `plan`. `minThinkUs` (the think
 * distribution's minimum) is what a decision costs past the episode's last one, which only a policy
 * that broke the dependency rule can need.
 */
export function promptScheduleUs(
  plan: Plan,
  events: readonly EpisodeEvent[],
  minThinkUs: number,
): number {
  const t = new EpisodeTimeline(plan, events);
  const n = t.thinkUs.length;
  /** When the first decision able to see `need` ends: one of the episode's, or one in its idle time. */
  const decidedBy = (need: Fact): number => {
    const k = Math.max(need.decision, t.firstStartingFrom(need.atUs));
    const startUs = Math.max(need.atUs, k === 0 ? 0 : t.busyUntilUs[k - 1]!);
    assertInvariant(
      k >= n || startUs <= t.startUs[k]!,
      'prompt-schedule',
      `decision ${k} moved later`,
    );
    return startUs + (k < n ? t.thinkUs[k]! : minThinkUs);
  };
  // A request is known from the decision it was delivered at (past the last one if never).
  const arrival = (task: string, atUs: number): Fact => ({
    atUs,
    decision: t.arrivalAt.get(task) ?? n,
  });
  const message = (index: number, atUs: number): Fact => ({
    atUs,
    decision: t.messageAt.get(index) ?? n,
  });
  const done: Array<Fact | undefined> = [];
  let makespanUs = 0;
  for (const task of plan.tasks) {
    let need = arrival(task.id, task.arrivalUs);
    for (const m of task.messages) need = later(need, message(m.index, m.atUs));
    // Dependencies are declared earlier in the task (validated), so one pass in plan order works.
    for (const s of task.steps) {
      const calls = t.callsOf[s.index]!;
      // Its attempts up to the first success; all of them when the policy gave up on it (the
      // task waits for the last failure). Never tried: not in the schedule either.
      if (calls.length === 0) continue;
      const okAt = calls.findIndex((c) => c.ok);
      let at = s.message === null ? arrival(task.id, s.releaseUs) : message(s.message, s.releaseUs);
      for (const d of plan.dependencies(s)) at = later(at, done[d.index] ?? at);
      for (const c of calls.slice(0, okAt < 0 ? calls.length : okAt + 1)) {
        // A copy still out when the episode ended held nothing up.
        if (c.completedUs === null) continue;
        const completedUs = decidedBy(at) + (c.completedUs - c.issuedUs);
        // Completed when it did in the episode: known from the decision it was delivered at.
        const decision = completedUs === c.completedUs ? (c.deliveredAt ?? n) : 0;
        at = { atUs: completedUs, decision };
      }
      done[s.index] = at;
      need = later(need, at);
    }
    makespanUs = Math.max(makespanUs, decidedBy(need));
  }
  return makespanUs;
}
