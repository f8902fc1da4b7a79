/**
 * Scoring one episode from its events and its scenario alone, so stored runs can be re-scored.
 *
 * One pass over the events rebuilds two views of the episode:
 * - the world's: which expected step each call performs (the world's own rule, `StepMatcher` in
 *   world/plan.ts), which calls completed and how;
 * - the agent's: what had been delivered to it at the start of each decision (requests, results),
 *   which is what "ready" (world/readiness.ts), "dependency violation"
 *   (world/dependency-violation.ts) and "answered" are judged against.
 * Definitions of every metric, with a worked example: scenarios/scoring/METRICS.md.
 *
 * Every event costs O(1) amortized (plus what it names: a request's steps, a step's dependents), so
 * scoring is linear in the events and the plan: which steps are ready is kept up to date as events
 * come rather than recomputed (a scan of every step per decision took 12 s on 1,600 tasks).
 */
import type { EpisodeEvent, EndReason } from '../world/events.js';
import { StepMatcher, type Plan, type PlanStep } from '../world/plan.js';
import { EpisodeDeliveries, type DeliveredDependencies } from '../world/dependency-violation.js';
import { isReady } from '../world/readiness.js';
import type { AnswerSpec, Scenario } from '../spec/schema.js';
import { callOverlap, clippedLength, sharedLength, type Interval } from './intervals.js';
import { SCORING_VERSION } from './version.js';
import { compiledScenario } from '../world/compiled.js';
import { RouteOpen, StateReplay, type EnvironmentLayout } from '../world/environments.js';
import { ValueProvenance } from '../world/value-provenance.js';
import { unmetCheck } from '../spec/stateful.js';
import type {
  CallScore,
  CallVerdict,
  EfficiencyScores,
  EpisodeScore,
  InterleavingScores,
  ScoreReference,
  StepScores,
  TaskScore,
} from './types.js';

interface CallRecord {
  readonly id: number;
  readonly tool: string;
  readonly issuedUs: number;
  readonly step: PlanStep | null;
  readonly invalid: boolean;
  /**
   * A stateful tool's call: judged by where its values came from (value-provenance.ts), not by
   * its step's `after`, as a task on an environment may reach its goal by other steps than the
   * reference's. `violation` is that verdict; its task counts it through `stateful.offPath`.
   */
  readonly byValues: boolean;
  readonly violation: boolean;
  startedUs: number | null;
  completedUs: number | null;
  ok: boolean | null;
  /** Index in the event stream of its `result_delivered`, or null. */
  deliveredAt: number | null;
  deliveredUs: number | null;
}

interface AnswerRecord {
  readonly timeUs: number;
  /** Index of the `answer_given` event. */
  readonly at: number;
  /** Index of the `decision_started` of the decision that gave it. */
  readonly decisionAt: number;
  readonly content: string;
}

/** The request that releases a step: its task's arrival or the follow-up that adds it. */
function requestOf(step: PlanStep): string {
  return step.message === null ? `task:${step.task}` : `message:${step.message}`;
}

/** Every expected string occurs in the answer, case-insensitively. */
function answerSatisfies(content: string, spec: AnswerSpec): boolean {
  const text = content.toLowerCase();
  return spec.mustContain.every((s) => text.includes(s.toLowerCase()));
}

/** a / b, with 0/0 = `whenZero`. */
function ratio(a: number, b: number, whenZero: number | null): number | null {
  return b === 0 ? (a === 0 ? whenZero : null) : a / b;
}

/** Task switches and same-task streaks over the task-labelled actions, in the order they took effect. */
class StreakCounter {
  private last: string | null = null;
  private run = 0;
  private actions = 0;
  private switches = 0;
  private leavingReady = 0;
  private readonly lengths: [number, number, number, number] = [0, 0, 0, 0];

  /** An action on `task`; `hasReady(t)` says whether task t has a ready step right now. */
  act(task: string, hasReady: (task: string) => boolean): void {
    this.actions++;
    if (this.last === task) {
      this.run++;
      return;
    }
    if (this.last !== null) {
      this.switches++;
      if (hasReady(this.last)) this.leavingReady++;
      this.close();
    }
    this.last = task;
    this.run = 1;
  }

  private close(): void {
    this.lengths[Math.min(this.run, 4) - 1]!++;
  }

  scores(decisions: number): InterleavingScores {
    if (this.run > 0) this.close();
    this.run = 0;
    const streaks = this.lengths.reduce((a, b) => a + b, 0);
    return {
      actions: this.actions,
      switches: this.switches,
      switchesPerDecision: decisions === 0 ? 0 : this.switches / decisions,
      meanStreak: streaks === 0 ? null : this.actions / streaks,
      streakLengths: [...this.lengths],
      switchesLeavingReady: this.leavingReady,
      leavingReadyShare: this.switches === 0 ? null : this.leavingReady / this.switches,
    };
  }
}

/**
 * One pass over an episode's events, rebuilding the world's view and the agent's (see the module
 * comment): one handler per event type that changes them. Stops taking events after
 * `episode_ended`.
 */
class EpisodePass {
  // The world's view.
  readonly arrivedAt = new Map<string, number>();
  /** By call id (the world's, dense from 1): an array, as a map's hashing grew with the calls. */
  private readonly calls: Array<CallRecord | undefined> = [];
  readonly order: CallRecord[] = [];
  readonly matcher: StepMatcher;
  // The agent's view: requests and successful results delivered (`deliveries`, the rule the stress
  // checks read too); by step index, its calls without a delivered outcome; the steps ready.
  private readonly deliveries: EpisodeDeliveries;
  private readonly delivered: DeliveredDependencies;
  private readonly unresolved: Int32Array;
  private readonly ready: Uint8Array;
  // Ready steps per task, and their sum over the tasks awaiting an answer (a task with a delivered
  // request not answered since): only those count as ready, so answering early leaves none.
  // By task index (plan.task(id).index, steps by Plan.taskIndexOfStep), not by id: a lookup per
  // refresh in maps of every task grew with the tasks. A task outside the plan has no steps.
  private readonly readyIn: Int32Array;
  private readonly awaiting: Uint8Array;
  private readyCount = 0;
  // Time.
  readonly decisions: Interval[] = [];
  readonly idle: Interval[] = [];
  private decisionStartUs: number | null = null;
  private decisionAt = -1;
  private idleSinceUs: number | null = 0;
  idleWhileReadyUs = 0;
  firstArrivalUs: number | null = null;
  ended: { timeUs: number; reason: EndReason } | null = null;
  // Counts.
  readonly answers = new Map<string, AnswerRecord>();
  decisionCount = 0;
  readonly streak = new StreakCounter();
  answerCount = 0;
  rejected = 0;
  /** The value-provenance verdict of the stateful call being issued (set by applyStateful). */
  private valuesViolation = false;
  // Stateful environments (null for a stateless scenario, which then scores exactly as before).
  readonly stateful: {
    readonly layout: EnvironmentLayout;
    readonly replay: StateReplay;
    readonly provenance: ValueProvenance;
    readonly routeOpen: RouteOpen;
    /** Calls of stateful tools with a value-provenance violation, by the task they count for. */
    readonly offPath: Map<string, number>;
  } | null;

  constructor(
    private readonly plan: Plan,
    layout: EnvironmentLayout,
  ) {
    this.stateful = layout.stateful
      ? {
          layout,
          replay: new StateReplay(layout),
          provenance: new ValueProvenance(plan),
          routeOpen: new RouteOpen(),
          offPath: new Map(),
        }
      : null;
    this.matcher = new StepMatcher(plan);
    this.deliveries = new EpisodeDeliveries(plan, {
      changed: (s) => this.refresh(s),
      requestDelivered: (task) => this.setAwaiting(task, true),
    });
    this.delivered = this.deliveries.delivered;
    this.unresolved = new Int32Array(plan.steps.length);
    this.ready = new Uint8Array(plan.steps.length);
    this.readyIn = new Int32Array(plan.tasks.length);
    this.awaiting = new Uint8Array(plan.tasks.length);
  }

  apply(e: EpisodeEvent, index: number): void {
    if (this.stateful !== null) this.applyStateful(e);
    switch (e.type) {
      case 'task_arrived':
        this.arrive(`task:${e.task}`, e, index);
        break;
      case 'message_arrived':
        this.arrive(`message:${e.index}`, e, index);
        break;
      case 'decision_started':
        this.decisionStarted(e, index);
        break;
      case 'result_delivered':
        this.resultDelivered(e, index);
        break;
      case 'decision_ended':
        this.decisions.push({ startUs: this.decisionStartUs ?? e.timeUs, endUs: e.timeUs });
        this.decisionStartUs = null;
        this.idleSinceUs = e.timeUs;
        break;
      case 'action_rejected':
        this.rejected++;
        break;
      case 'call_issued':
        this.callIssued(e);
        break;
      case 'call_completed':
        this.deliveries.apply(e);
        this.callCompleted(e.callId, e.ok, e.timeUs);
        break;
      case 'answer_given':
        this.answerCount++;
        this.streak.act(e.task, this.taskHasReady);
        this.setAwaiting(e.task, false);
        this.answers.set(e.task, {
          timeUs: e.timeUs,
          at: index,
          decisionAt: this.decisionAt,
          content: e.content,
        });
        break;
      case 'episode_ended':
        if (this.decisionStartUs !== null)
          this.decisions.push({ startUs: this.decisionStartUs, endUs: e.timeUs });
        this.decisionStartUs = null;
        this.closeIdle(e.timeUs);
        this.ended = { timeUs: e.timeUs, reason: e.reason };
        break;
      case 'call_started': {
        const call = this.calls[e.callId];
        if (call !== undefined) call.startedUs = e.timeUs;
        break;
      }
      case 'episode_started':
      case 'limit_hit':
      case 'state_changed':
        break;
    }
  }

  /**
   * States (re-applied from `state_changed`), and violations of calls of stateful tools that
   * perform no step (value-provenance.ts), counted for the task the call is routed to.
   */
  private applyStateful(e: EpisodeEvent): void {
    const st = this.stateful!;
    st.replay.apply(e);
    let offPathTask: string | null = null;
    let ev = e;
    if (e.type === 'call_issued' && e.invalid === null) {
      // The task a call names is no value it passes (the world took it out of the args).
      const named = st.layout.splitTaskArg(e.tool, e.args);
      if (named.args !== e.args) ev = { ...e, args: named.args };
      const route = st.layout.route(e.tool, {
        stepTask: e.task ?? named.task,
        ref: e.ref,
        isOpen: st.routeOpen.isOpen,
      });
      if (route !== null) offPathTask = route.owner;
    }
    const violates = st.provenance.apply(ev, offPathTask !== null) && offPathTask !== null;
    if (violates) st.offPath.set(offPathTask!, (st.offPath.get(offPathTask!) ?? 0) + 1);
    if (e.type === 'call_issued') this.valuesViolation = violates;
    st.routeOpen.note(e);
  }

  /** A request arrived: the agent is given it at the next decision's start (`deliveries`). */
  private arrive(request: string, e: EpisodeEvent, index: number): void {
    this.deliveries.apply(e);
    this.arrivedAt.set(request, index);
    this.firstArrivalUs ??= e.timeUs;
  }

  /** What arrived since the last decision is delivered at this one's start (after the idle time). */
  private decisionStarted(e: EpisodeEvent, index: number): void {
    this.closeIdle(e.timeUs);
    this.deliveries.apply(e);
    this.decisionStartUs = e.timeUs;
    this.decisionAt = index;
    this.decisionCount++;
  }

  private resultDelivered(e: Extract<EpisodeEvent, { type: 'result_delivered' }>, index: number) {
    const call = this.calls[e.callId];
    if (call === undefined) return;
    call.deliveredAt = index;
    call.deliveredUs = e.timeUs;
    const step = call.step;
    if (step === null) return;
    this.unresolved[step.index]!--;
    this.deliveries.apply(e);
    this.refresh(step);
  }

  /** Matches the call to a step (the world's rule) and judges it against what was delivered. */
  private callIssued(e: Extract<EpisodeEvent, { type: 'call_issued' }>): void {
    const invalid = e.invalid !== null;
    // As the world matched it: without the task it names, among that task's steps only.
    const named = invalid ? null : (this.stateful?.layout.splitTaskArg(e.tool, e.args) ?? null);
    const argsKey = invalid ? null : this.plan.argsKey(named?.args ?? e.args);
    const step = argsKey === null ? null : this.matcher.match(e.tool, argsKey, named?.task ?? null);
    this.deliveries.apply(e, step);
    if (step !== null) this.streak.act(step.task, this.taskHasReady);
    // Judged once here (CallRecord.byValues), so the call's mark, the episode's count and the
    // sub-task verdict (taskScoresOf) agree.
    const byValues = this.stateful?.layout.ops.has(e.tool) === true;
    const violation = byValues
      ? this.valuesViolation
      : step !== null && this.delivered.violates(step);
    const call: CallRecord = {
      id: e.callId,
      tool: e.tool,
      issuedUs: e.timeUs,
      step,
      invalid,
      byValues,
      violation,
      startedUs: null,
      completedUs: null,
      ok: null,
      deliveredAt: null,
      deliveredUs: null,
    };
    this.calls[e.callId] = call;
    this.order.push(call);
    if (step !== null) {
      this.unresolved[step.index]!++;
      this.refresh(step);
    }
  }

  private callCompleted(callId: number, ok: boolean, timeUs: number): void {
    const call = this.calls[callId];
    if (call === undefined) return;
    // A call completes once: a stream that says otherwise changes nothing more in the world.
    if (call.step !== null && call.completedUs === null) {
      this.matcher.completed(call.step, ok);
      this.refresh(call.step);
    }
    call.completedUs = timeUs;
    call.ok = ok;
  }

  // Ready (world/readiness.ts), refreshed whenever one of its facts changes, so the counts stay
  // exact. A call's outcome is unresolved until delivered; done is the world's (a success).
  private refresh(s: PlanStep): void {
    const i = s.index;
    const now = isReady({
      released: this.delivered.isReleased(s),
      dependenciesDelivered: this.delivered.dependenciesDelivered(s),
      done: this.matcher.isDone(s),
      inFlight: this.unresolved[i]! > 0,
    })
      ? 1
      : 0;
    const delta = now - this.ready[i]!;
    if (delta === 0) return;
    this.ready[i] = now;
    const t = this.plan.taskIndexOfStep(s);
    this.readyIn[t]! += delta;
    if (this.awaiting[t] === 1) this.readyCount += delta;
  }

  private setAwaiting(task: string, on: boolean): void {
    const t = this.plan.task(task)?.index;
    if (t === undefined || (this.awaiting[t] === 1) === on) return;
    this.awaiting[t] = on ? 1 : 0;
    this.readyCount += (on ? 1 : -1) * this.readyIn[t]!;
  }

  private readonly taskHasReady = (task: string): boolean => {
    const t = this.plan.task(task)?.index;
    return t !== undefined && this.awaiting[t] === 1 && this.readyIn[t]! > 0;
  };

  private closeIdle(nowUs: number): void {
    if (this.idleSinceUs === null) return;
    this.idle.push({ startUs: this.idleSinceUs, endUs: nowUs });
    if (this.readyCount > 0) this.idleWhileReadyUs += nowUs - this.idleSinceUs;
    this.idleSinceUs = null;
  }
}

/**
 * Each call's verdict: the first successful call of a step (in issue order) performs it; a matched
 * call issued after it is redundant, every matched call before it (failed attempts) is correct.
 */
function callScoresOf(order: readonly CallRecord[]): CallScore[] {
  const firstSuccess = new Map<string, number>();
  for (const c of order)
    if (c.step !== null && c.ok === true && !firstSuccess.has(c.step.key))
      firstSuccess.set(c.step.key, c.id);
  const verdictOf = (c: CallRecord): CallVerdict => {
    if (c.invalid) return 'invalid';
    if (c.step === null) return 'unmatched';
    const first = firstSuccess.get(c.step.key);
    return first !== undefined && first < c.id ? 'redundant' : 'correct';
  };
  return order.map((c) => ({
    callId: c.id,
    tool: c.tool,
    step: c.step?.key ?? null,
    verdict: verdictOf(c),
    violation: c.violation,
    issuedUs: c.issuedUs,
    startedUs: c.startedUs,
    completedUs: c.completedUs,
    ok: c.ok,
  }));
}

/** Step level: precision, recall and F1 over the steps whose request arrived. */
function stepScoresOf(plan: Plan, pass: EpisodePass, callScores: readonly CallScore[]): StepScores {
  const countVerdict = (v: CallVerdict) => callScores.filter((c) => c.verdict === v).length;
  const correctCalls = countVerdict('correct');
  const expectedSteps = plan.steps.filter((s) => pass.arrivedAt.has(requestOf(s)));
  const matched = expectedSteps.filter((s) => pass.matcher.isDone(s)).length;
  const n = callScores.length;
  const e = expectedSteps.length;
  // F1 from the counts: 2PR/(P+R) = 2cm / (c·e + m·n), exact for exact counts.
  const f1Denominator = correctCalls * e + matched * n;
  return {
    expected: e,
    matched,
    correctCalls,
    redundantCalls: countVerdict('redundant'),
    unmatchedCalls: countVerdict('unmatched'),
    invalidCalls: countVerdict('invalid'),
    dependencyViolations: callScores.filter((c) => c.violation).length,
    precision: n === 0 ? 0 : correctCalls / n,
    recall: e === 0 ? 0 : matched / e,
    f1: f1Denominator === 0 ? 0 : (2 * correctCalls * matched) / f1Denominator,
  };
}

/**
 * Sub-task level. Per step, the earliest delivery of a successful call made without violation
 * (grounds the step if before the answer); per task, its violations: one pass over the calls, not
 * one per step or task.
 */
function taskScoresOf(plan: Plan, pass: EpisodePass): TaskScore[] {
  const { order, arrivedAt, answers, matcher } = pass;
  const groundedAt = new Float64Array(plan.steps.length).fill(Infinity);
  const violationsOf = new Map<string, number>();
  for (const c of order) {
    if (c.step === null) continue;
    const i = c.step.index;
    if (c.ok === true && !c.violation && c.deliveredAt !== null)
      groundedAt[i] = Math.min(groundedAt[i]!, c.deliveredAt);
    // A call judged by its values counts for its task through `stateful.offPath` instead.
    if (c.violation && !c.byValues)
      violationsOf.set(c.step.task, (violationsOf.get(c.step.task) ?? 0) + 1);
  }
  return plan.tasks.map((task) => {
    const requests = [`task:${task.id}`, ...task.messages.map((m) => `message:${m.index}`)];
    const arrivals = requests
      .map((r) => arrivedAt.get(r))
      .filter((i): i is number => i !== undefined);
    // A reduce, not a spread: a task may have more follow-ups than a call has room for arguments.
    const lastRequestAt = arrivals.length === 0 ? null : arrivals.reduce((a, b) => Math.max(a, b));
    const answer = answers.get(task.id);
    const answered =
      answer !== undefined && lastRequestAt !== null && lastRequestAt < answer.decisionAt;
    let spec = task.firstAnswer;
    for (const m of task.messages)
      if (m.answer !== null && arrivedAt.has(`message:${m.index}`)) spec = m.answer;
    const answerCorrect = answered && answerSatisfies(answer.content, spec);
    const expected = task.steps.filter((s) => arrivedAt.has(requestOf(s)));
    const grounded = expected.filter(
      (s) => answer !== undefined && groundedAt[s.index]! < answer.at,
    ).length;
    const allRequestsArrived = arrivals.length === requests.length;
    const goalMet = stateGoalMet(pass, task.id);
    const violations =
      (violationsOf.get(task.id) ?? 0) + (pass.stateful?.offPath.get(task.id) ?? 0);
    const stepsOk =
      goalMet === undefined ? grounded === expected.length : goalMet && violations === 0;
    const score: TaskScore = {
      task: task.id,
      success: allRequestsArrived && answered && answerCorrect && stepsOk,
      allRequestsArrived,
      stepsExpected: expected.length,
      stepsMatched: expected.filter((s) => matcher.isDone(s)).length,
      stepsGrounded: grounded,
      violations,
      answered,
      answerCorrect,
      finishedUs: answered ? answer.timeUs : null,
    };
    return goalMet === undefined ? score : { ...score, goalMet };
  });
}

/**
 * Whether `task`'s goal holds in the final states (undefined: the task acts on no environment).
 * The default goal (the reference run's final state) is computed once per scenario.
 */
function stateGoalMet(pass: EpisodePass, taskId: string): boolean | undefined {
  const st = pass.stateful;
  if (st === null) return undefined;
  const goal = st.layout.goal(taskId);
  if (goal.length === 0) return undefined;
  return unmetCheck(goal, (env) => st.replay.states.stateFor(env, taskId)) === null;
}

/** Efficiency: makespan against the reference, idle time, and how calls waited and overlapped. */
function efficiencyOf(
  pass: EpisodePass,
  ended: { timeUs: number; reason: EndReason },
  reference: ScoreReference | undefined,
  allTasksSucceeded: boolean,
): EfficiencyScores {
  const { order, decisions, idle, firstArrivalUs, idleWhileReadyUs } = pass;
  const makespanUs = ended.timeUs;
  const completed = ended.reason === 'completed';
  const boundUs = reference?.boundUs ?? null;
  const sequentialMakespanUs = reference?.sequentialMakespanUs ?? null;
  const boundRatio = completed && boundUs !== null ? ratio(boundUs, makespanUs, 1) : null;
  const speedupVsSequential =
    completed && sequentialMakespanUs !== null ? ratio(sequentialMakespanUs, makespanUs, 1) : null;
  // Efficiency is credited only for work done: a failed (or unfinished) episode counts 0.
  const succeeded = completed && allTasksSucceeded;
  const successBoundRatio =
    boundUs === null
      ? null
      : succeeded
        ? makespanUs === 0
          ? 1
          : boundUs / Math.max(boundUs, makespanUs)
        : 0;
  const successSpeedup = sequentialMakespanUs === null ? null : succeeded ? speedupVsSequential : 0;
  // A call waits from its issue to its completion (or the end): queued for a slot until it
  // starts, then in service. Overlap and calls-in-service count the service part only.
  const endOf = (c: CallRecord): number => c.completedUs ?? makespanUs;
  const callIntervals: Interval[] = order.map((c) => ({ startUs: c.issuedUs, endUs: endOf(c) }));
  const serviceIntervals: Interval[] = order.flatMap((c) =>
    c.startedUs === null ? [] : [{ startUs: c.startedUs, endUs: endOf(c) }],
  );
  const waitUs = callIntervals.reduce((sum, i) => sum + (i.endUs - i.startUs), 0);
  const { waitUs: serviceUs, overlappedUs } = callOverlap(serviceIntervals, decisions);
  // Outcomes that exist in the world but have not reached the agent (results not yet polled).
  const waitingResults: Interval[] = order.flatMap((c) =>
    c.completedUs === null ? [] : [{ startUs: c.completedUs, endUs: c.deliveredUs ?? makespanUs }],
  );
  const windowUs = firstArrivalUs === null ? 0 : makespanUs - firstArrivalUs;
  return {
    makespanUs,
    boundUs,
    boundRatio,
    sequentialMakespanUs,
    speedupVsSequential,
    successBoundRatio,
    successSpeedup,
    idleUs: firstArrivalUs === null ? 0 : clippedLength(idle, firstArrivalUs, makespanUs),
    idleWhileReadyUs,
    idleWhileResultsWaitingUs: sharedLength(waitingResults, idle),
    callWaitUs: waitUs,
    callQueuedUs: waitUs - serviceUs,
    callServiceUs: serviceUs,
    meanCallsInService:
      firstArrivalUs === null || windowUs === 0
        ? null
        : clippedLength(serviceIntervals, firstArrivalUs, makespanUs) / windowUs,
    overlapShare: serviceUs === 0 ? null : overlappedUs / serviceUs,
  };
}

/**
 * Scores one episode from its scenario and events alone: step level (precision, recall, F1,
 * dependency violations), task level (success of every sub-task, answers) and efficiency (makespan,
 * idle time, overlap; against `reference` when given: the oracle's bound and a sequential agent's
 * makespan). Pure and deterministic; the score is canonical (fixed key order, null for absent
 * values). Every metric is defined in scenarios/scoring/METRICS.md.
 */
export function scoreEpisode(
  scenario: Scenario,
  events: Iterable<EpisodeEvent>,
  reference?: ScoreReference,
): EpisodeScore {
  const compiled = compiledScenario(scenario);
  const plan = compiled.plan;
  const pass = new EpisodePass(plan, compiled.environments);
  // Any iterable, read once in order: replay reading streams a file's events through here.
  let index = -1;
  for (const e of events) {
    index++;
    if (pass.ended !== null) break;
    pass.apply(e, index);
  }
  const ended = pass.ended;
  if (ended === null) throw new Error('scoreEpisode: the events do not end with episode_ended');
  const callScores = callScoresOf(pass.order);
  const tasks = taskScoresOf(plan, pass);
  const tasksSucceeded = tasks.filter((t) => t.success).length;
  return {
    scoringVersion: SCORING_VERSION,
    scenario: scenario.id,
    success: tasksSucceeded === tasks.length,
    tasksSucceeded,
    tasksTotal: tasks.length,
    subtaskSuccessRate: tasks.length === 0 ? 0 : tasksSucceeded / tasks.length,
    steps: stepScoresOf(plan, pass, callScores),
    tasks,
    efficiency: efficiencyOf(pass, ended, reference, tasksSucceeded === tasks.length),
    interleaving: pass.streak.scores(pass.decisionCount),
    counts: {
      decisions: pass.decisionCount,
      calls: callScores.length,
      answers: pass.answerCount,
      rejectedActions: pass.rejected,
      endReason: ended.reason,
    },
    calls: callScores,
  };
}
