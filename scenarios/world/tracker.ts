/**
 * What a plan-aware agent knows so far: which expected steps are released, in flight, done, or
 * ready, from nothing but the observations it was given. Baseline policies and the oracle's list
 * scheduler are built on it. "Ready" is readiness.ts's rule: every dependency's result has been
 * delivered to the agent (not merely completed in the world).
 *
 * Calls are tagged with the step key as their `ref`, so results map back to steps.
 */
import { IndexSet, type Plan, type PlanStep, type PlanTask } from './plan.js';
import { isReady } from './readiness.js';
import { pendingIndex, type Action, type Observation, type PendingCall } from '../protocol.js';

export interface StepStatus {
  readonly released: boolean;
  readonly inFlight: boolean;
  readonly done: boolean;
  readonly attempts: number;
  readonly failures: number;
  /** Simulated time its result was delivered (null until done). */
  readonly deliveredUs: number | null;
}

type MutableStatus = { -readonly [K in keyof StepStatus]: StepStatus[K] };

/**
 * Kept up to date incrementally, so that a decision costs what changed rather than the plan's
 * length. Invariants (`checkInvariants` recomputes them):
 * - `unmet[i]`: the dependencies of step i that are not done;
 * - `ready`: the steps released, not done, not in flight, with `unmet` 0;
 * - `inFlight`: the steps whose status is in flight;
 * - `openSteps[t]`: the steps of task t released and not done;
 * - `awaiting`: the tasks with a request not answered since;
 * - `settled`: the tasks awaiting an answer with `openSteps` 0 (what `answerable` asks);
 * - `pendingOf[i]`: the calls seen pending for step i whose outcome has not been delivered (so
 *   the calls for step i that the latest observation lists as pending).
 * So a decision costs what changed, not the number of tasks open or calls in flight: an agent with
 * hundreds of calls waiting on a slow tool must not pay for all of them at every decision.
 */
export class PlanTracker {
  readonly plan: Plan;
  /** By step index. */
  private readonly status: MutableStatus[];
  private readonly unmet: number[];
  private readonly ready = new IndexSet();
  private inFlight = 0;
  /** By task index: delivered; steps released and not done. */
  private readonly taskReleased: boolean[];
  private readonly openSteps: number[];
  private readonly messagesSeen = new Map<string, number>();
  /** Tasks with a request (arrival or follow-up) not answered since, by task index (in plan order). */
  private readonly awaiting = new IndexSet();
  private readonly settled = new IndexSet();
  /** By step index: calls seen pending and not delivered. */
  private readonly pendingOf: number[];
  /** The pending list of the latest observation (for `checkInvariants`). */
  private latestPending: readonly PendingCall[] = [];
  /** The highest call id seen pending so far (see `observe`). */
  private newestPendingId = 0;
  /**
   * By call id: the step of each call seen pending, so its result finds the step without a
   * lookup of its ref among every step's key (checked against the ref all the same). Call ids
   * are the world's issue order, dense from 1.
   */
  private readonly stepOfCall: Array<PlanStep | undefined> = [];
  /** Steps marked issued, in order, and the next to compare a newly listed call's ref with. */
  private issuedOrder: PlanStep[] = [];
  private issuedNext = 0;

  constructor(plan: Plan) {
    this.plan = plan;
    this.status = plan.steps.map(() => ({
      released: false,
      inFlight: false,
      done: false,
      attempts: 0,
      failures: 0,
      deliveredUs: null,
    }));
    this.unmet = plan.steps.map((s) => plan.dependencies(s).length);
    this.taskReleased = plan.tasks.map(() => false);
    this.openSteps = plan.tasks.map(() => 0);
    this.pendingOf = plan.steps.map(() => 0);
  }

  /** Updates from everything delivered in `observation`, and the calls it lists as pending. */
  observe(observation: Observation): void {
    /** Steps that a result or error took out of flight. */
    const cleared: PlanStep[] = [];
    for (const d of observation.delivered) {
      switch (d.type) {
        case 'task': {
          // A task outside the plan: nothing to track (no PlanTask can ask about it).
          const task = this.plan.task(d.task);
          if (task === undefined) break;
          this.taskReleased[task.index] = true;
          this.setAwaits(task, true);
          for (const s of this.plan.ownSteps(task)) this.release(s);
          break;
        }
        case 'message': {
          const seen = (this.messagesSeen.get(d.task) ?? 0) + 1;
          this.messagesSeen.set(d.task, seen);
          const task = this.plan.task(d.task);
          if (task === undefined) break;
          this.setAwaits(task, true);
          // The world delivers a task's follow-ups in arrival order, the order of `task.messages`
          // (message-order.ts), whatever order the file lists them in: so the n-th to arrive is the
          // n-th there, and arrives at its time.
          const message = task.messages[seen - 1];
          if (message !== undefined) {
            if (message.atUs !== d.atUs)
              throw new Error(
                `tracker: follow-up ${seen} of task ${task.id} arrived at ${d.atUs}µs, expected at ${message.atUs}µs`,
              );
            for (const s of this.plan.messageSteps(message.index)) this.release(s);
          }
          break;
        }
        case 'result':
        case 'error': {
          const step = d.ref === null ? undefined : this.stepOf(d.callId, d.ref);
          if (step === undefined) break;
          // Counted in `pendingOf` exactly when seen pending before: see below.
          if (d.callId <= this.newestPendingId) this.pendingOf[step.index]!--;
          const st = this.status[step.index]!;
          this.setInFlight(step, false);
          cleared.push(step);
          if (d.type === 'result') {
            st.deliveredUs = d.atUs;
            if (!st.done) this.markDone(step);
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
    // over mid-episode (a replay fork) must not issue them again, nor a step whose result came for
    // another call. Once observed, every pending call's step is in flight, and only a result or
    // error takes a step out of flight. A call is pending from its issue until its outcome is
    // delivered, and calls are numbered in issue order (and listed in id order): so a call listed
    // or delivered now was seen pending before exactly when its id is at or below the highest id
    // seen pending so far (one issued since the previous observation is above every id that one
    // listed). Only the calls above it are new, and `pendingOf` counts, per step, the calls seen
    // and not yet delivered.
    const pending = observation.pending;
    let newest = this.newestPendingId;
    for (let k = pendingIndex(pending, this.newestPendingId + 1); k < pending.length; k++) {
      const call = pending[k]!;
      newest = Math.max(newest, call.callId);
      const step = call.ref === null ? undefined : this.issuedStep(call.ref);
      if (step === undefined) continue;
      this.stepOfCall[call.callId] = step;
      this.pendingOf[step.index]!++;
      this.keepInFlight(step);
    }
    for (const step of cleared) {
      if (!this.status[step.index]!.inFlight && this.pendingOf[step.index]! > 0)
        this.keepInFlight(step);
    }
    this.newestPendingId = newest;
    this.latestPending = pending;
    // Calls issued since are listed at the next observation, or never (refused, or the episode
    // ended): either way, the guesses start afresh.
    this.issuedOrder = [];
    this.issuedNext = 0;
  }

  /** The step whose key is `ref`: guessed as the next step marked issued, else looked up. */
  private issuedStep(ref: string): PlanStep | undefined {
    const guess = this.issuedOrder[this.issuedNext];
    if (guess !== undefined && guess.key === ref) {
      this.issuedNext++;
      return guess;
    }
    return this.plan.stepByKey(ref);
  }

  /** The step of call `callId` whose ref is `ref`: as seen pending, else looked up. */
  private stepOf(callId: number, ref: string): PlanStep | undefined {
    const seen = this.stepOfCall[callId];
    if (seen !== undefined) {
      this.stepOfCall[callId] = undefined;
      if (seen.key === ref) return seen;
    }
    return this.plan.stepByKey(ref);
  }

  get(step: PlanStep): StepStatus {
    return this.status[step.index]!;
  }

  /** Marks a step as issued (the caller puts `ref: step.key` on the call). */
  issued(step: PlanStep): void {
    this.setInFlight(step, true);
    this.status[step.index]!.attempts++;
    this.issuedOrder.push(step);
  }

  /**
   * The agent saw the step's effect in the state (its call's response was lost: the world applied
   * it and reported a timeout), so it counts as done without a result of its own; `atUs`: when the
   * evidence was delivered. Only a step not in flight: a call still out may yet answer.
   */
  confirmed(step: PlanStep, atUs: number): void {
    const st = this.status[step.index]!;
    if (st.done || st.inFlight) return;
    st.deliveredUs = atUs;
    this.markDone(step);
  }

  /** Marks `steps` issued, in this order; returns their calls, each with `ref: step.key` (so results map back). */
  issueAll(steps: readonly PlanStep[]): Action[] {
    return steps.map((step) => {
      this.issued(step);
      return { type: 'call', tool: step.tool, args: step.args, ref: step.key };
    });
  }

  /** Released, not done, not in flight, every dependency's result delivered: in plan order. */
  readySteps(): PlanStep[] {
    return this.ready.values().map((i) => this.plan.steps[i]!);
  }

  /** A request (arrival or follow-up) about the task has come since its last answer. */
  awaitsAnswer(task: PlanTask): boolean {
    return this.awaiting.has(task.index);
  }

  /** Every released step of the task is done and the task awaits an answer. */
  answerable(task: PlanTask): boolean {
    return this.settled.has(task.index);
  }

  /** How many of the task's steps are released and not done. */
  openStepCount(task: PlanTask): number {
    return this.openSteps[task.index]!;
  }

  answered(task: PlanTask): void {
    this.setAwaits(task, false);
  }

  /**
   * Marks every answerable task answered, in plan order; returns the answers, each the expected one
   * (or what `content` makes of it).
   */
  answerAll(
    content: (task: PlanTask, expected: string) => string = (_task, expected) => expected,
  ): Action[] {
    return this.answerableTasks().map((task) => {
      this.answered(task);
      return { type: 'answer', task: task.id, content: content(task, this.expectedAnswer(task)) };
    });
  }

  /** The tasks that await an answer (see `awaitsAnswer`), in plan order. */
  tasksAwaitingAnswer(): PlanTask[] {
    return this.awaiting.values().map((i) => this.plan.tasks[i]!);
  }

  /** The answerable tasks (see `answerable`), in plan order: as many as are settled now, not as many as are open. */
  answerableTasks(): PlanTask[] {
    return this.settled.values().map((i) => this.plan.tasks[i]!);
  }

  /** What a perfect-knowledge agent answers now: every expected string of the requests seen so far. */
  expectedAnswer(task: PlanTask): string {
    const seen = this.messagesSeen.get(task.id) ?? 0;
    return task.answerTexts[Math.min(seen, task.messages.length)]!;
  }

  isReleased(task: PlanTask): boolean {
    return this.taskReleased[task.index]!;
  }

  inFlightCount(): number {
    return this.inFlight;
  }

  /** Recomputes every derived count from the statuses and throws if one is off (for tests). */
  checkInvariants(): void {
    let inFlight = 0;
    for (const [i, s] of this.plan.steps.entries()) {
      const st = this.status[i]!;
      if (st.inFlight) inFlight++;
      const unmet = this.plan.dependencies(s).filter((d) => !this.status[d.index]!.done).length;
      if (unmet !== this.unmet[i])
        throw new Error(
          `tracker: step ${s.key} has ${unmet} unmet dependencies, counted ${this.unmet[i]}`,
        );
      if (this.ready.has(i) !== this.isReady(i, unmet))
        throw new Error(
          `tracker: step ${s.key} is wrongly ${this.ready.has(i) ? 'in' : 'out of'} the ready set`,
        );
    }
    if (inFlight !== this.inFlight)
      throw new Error(`tracker: ${inFlight} steps in flight, counted ${this.inFlight}`);
    for (const t of this.plan.tasks) {
      const open = t.steps.filter(
        (s) => this.status[s.index]!.released && !this.status[s.index]!.done,
      ).length;
      if (open !== this.openSteps[t.index])
        throw new Error(
          `tracker: task ${t.id} has ${open} open steps, counted ${this.openSteps[t.index]}`,
        );
      if (this.settled.has(t.index) !== (this.awaiting.has(t.index) && open === 0))
        throw new Error(
          `tracker: task ${t.id} is wrongly ${this.settled.has(t.index) ? 'in' : 'out of'} the answerable set`,
        );
    }
    const seen = this.plan.steps.map(() => 0);
    for (const call of this.latestPending) {
      const step = call.ref === null ? undefined : this.plan.stepByKey(call.ref);
      if (step !== undefined) seen[step.index]!++;
    }
    for (const s of this.plan.steps) {
      if (seen[s.index] !== this.pendingOf[s.index])
        throw new Error(
          `tracker: step ${s.key} has ${seen[s.index]} calls seen pending, counted ${this.pendingOf[s.index]}`,
        );
    }
  }

  /** A pending call performs the step: it is in flight (one more attempt, if it was not). */
  private keepInFlight(step: PlanStep): void {
    const st = this.status[step.index]!;
    if (st.inFlight) return;
    this.setInFlight(step, true);
    st.attempts++;
  }

  private setAwaits(task: PlanTask, awaits: boolean): void {
    if (awaits) this.awaiting.add(task.index);
    else this.awaiting.delete(task.index);
    this.refreshSettled(task.index);
  }

  /** Adds `delta` to the open steps of `step`'s task, which may settle or unsettle it. */
  private countOpen(step: PlanStep, delta: 1 | -1): void {
    const t = this.plan.taskIndexOfStep(step);
    this.openSteps[t]! += delta;
    this.refreshSettled(t);
  }

  /** Puts the task in `settled` or takes it out, after it started or stopped awaiting an answer, or its open step count changed. */
  private refreshSettled(taskIndex: number): void {
    if (this.awaiting.has(taskIndex) && this.openSteps[taskIndex] === 0)
      this.settled.add(taskIndex);
    else this.settled.delete(taskIndex);
  }

  private release(step: PlanStep): void {
    const st = this.status[step.index]!;
    if (st.released) return;
    st.released = true;
    if (!st.done) this.countOpen(step, +1);
    this.refresh(step);
  }

  private markDone(step: PlanStep): void {
    const st = this.status[step.index]!;
    st.done = true;
    if (st.released) this.countOpen(step, -1);
    this.refresh(step);
    for (const d of this.plan.dependents(step)) {
      // Done happens once per step, so each listing is counted down once.
      if (--this.unmet[d.index]! < 0)
        throw new Error(`tracker: step ${d.key} has a negative unmet count`);
      this.refresh(d);
    }
  }

  private setInFlight(step: PlanStep, inFlight: boolean): void {
    const st = this.status[step.index]!;
    if (st.inFlight === inFlight) return;
    this.inFlight += inFlight ? 1 : -1;
    st.inFlight = inFlight;
    if (this.inFlight < 0) throw new Error('tracker: a negative in-flight count');
    this.refresh(step);
  }

  /** Puts the step in `ready` or takes it out, after its status or unmet count changed. */
  private refresh(step: PlanStep): void {
    if (this.isReady(step.index, this.unmet[step.index]!)) this.ready.add(step.index);
    else this.ready.delete(step.index);
  }

  /** Readiness of step `index` with `unmet` dependencies not done (done: its result delivered). */
  private isReady(index: number, unmet: number): boolean {
    const st = this.status[index]!;
    return isReady({
      released: st.released,
      dependenciesDelivered: unmet === 0,
      done: st.done,
      inFlight: st.inFlight,
    });
  }
}
