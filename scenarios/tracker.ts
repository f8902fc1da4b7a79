/**
 * What a plan-aware agent knows so far: which expected steps are released, in flight, done, or
 * ready, from nothing but the observations it was given. Baseline policies and the oracle's list
 * scheduler are built on it, so "ready" means the same thing everywhere: every dependency's result
 * has been delivered to the agent (not merely completed in the world).
 *
 * Calls are tagged with the step key as their `ref`, so results map back to steps.
 */
import type { Plan, PlanStep, PlanTask } from './plan.js';
import type { Observation } from './protocol.js';

export interface StepStatus {
  released: boolean;
  inFlight: boolean;
  done: boolean;
  attempts: number;
  failures: number;
  /** Simulated time its result was delivered (null until done). */
  deliveredUs: number | null;
}

export class PlanTracker {
  readonly plan: Plan;
  private readonly status = new Map<string, StepStatus>();
  private readonly released = new Set<string>();
  private readonly messagesSeen = new Map<string, number>();
  /** Tasks with a request (arrival or follow-up) not answered since. */
  private readonly needsAnswer = new Set<string>();

  constructor(plan: Plan) {
    this.plan = plan;
    for (const s of plan.steps) this.status.set(s.key, { released: false, inFlight: false, done: false, attempts: 0, failures: 0, deliveredUs: null });
  }

  /** Updates from everything delivered in `observation`, and the calls it lists as pending. */
  observe(observation: Observation): void {
    for (const d of observation.delivered) {
      switch (d.type) {
        case 'task':
          this.released.add(d.task);
          this.needsAnswer.add(d.task);
          for (const s of this.plan.task(d.task)?.steps ?? []) if (s.message === null) this.status.get(s.key)!.released = true;
          break;
        case 'message': {
          const seen = (this.messagesSeen.get(d.task) ?? 0) + 1;
          this.messagesSeen.set(d.task, seen);
          this.needsAnswer.add(d.task);
          const task = this.plan.task(d.task);
          const message = task?.messages[seen - 1];
          if (task !== undefined && message !== undefined) {
            for (const s of task.steps) if (s.message === message.index) this.status.get(s.key)!.released = true;
          }
          break;
        }
        case 'result':
        case 'error': {
          const st = d.ref === null ? undefined : this.status.get(d.ref);
          if (st === undefined) break;
          st.inFlight = false;
          if (d.type === 'result') {
            st.done = true;
            st.deliveredUs = d.atUs;
          } else {
            st.failures++;
          }
          break;
        }
        case 'rejected':
          break;
      }
    }
    // Calls in flight that perform steps (by ref) keep those steps in flight: an agent that takes
    // over mid-episode (a replay fork) must not issue them again. A no-op for an agent that has
    // seen every observation: it marked them itself when it issued them.
    for (const call of observation.pending) {
      const st = call.ref === null ? undefined : this.status.get(call.ref);
      if (st !== undefined && !st.inFlight) {
        st.inFlight = true;
        st.attempts++;
      }
    }
  }

  get(step: PlanStep): StepStatus {
    return this.status.get(step.key)!;
  }

  /** Marks a step as issued (the caller puts `ref: step.key` on the call). */
  issued(step: PlanStep): void {
    const st = this.get(step);
    st.inFlight = true;
    st.attempts++;
  }

  /** Released, not done, not in flight, every dependency's result delivered: in plan order. */
  readySteps(): PlanStep[] {
    return this.plan.steps.filter((s) => {
      const st = this.get(s);
      return st.released && !st.done && !st.inFlight && this.plan.dependencies(s).every((d) => this.get(d).done);
    });
  }

  /** A request (arrival or follow-up) about the task has come since its last answer. */
  awaitsAnswer(task: PlanTask): boolean {
    return this.needsAnswer.has(task.id);
  }

  /** Every released step of the task is done and the task awaits an answer. */
  answerable(task: PlanTask): boolean {
    return this.awaitsAnswer(task) && task.steps.every((s) => !this.get(s).released || this.get(s).done);
  }

  answered(task: PlanTask): void {
    this.needsAnswer.delete(task.id);
  }

  /** What a perfect-knowledge agent answers now: every expected string of the requests seen so far. */
  expectedAnswer(task: PlanTask): string {
    const seen = this.messagesSeen.get(task.id) ?? 0;
    let spec = task.firstAnswer;
    for (const m of task.messages.slice(0, seen)) if (m.answer !== null) spec = m.answer;
    return spec.mustContain.join('; ');
  }

  isReleased(task: PlanTask): boolean {
    return this.released.has(task.id);
  }

  inFlightCount(): number {
    let n = 0;
    for (const st of this.status.values()) if (st.inFlight) n++;
    return n;
  }
}
