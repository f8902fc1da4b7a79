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
import { planOf } from '../world/compiled.js';
import { StepMatcher, type Plan, type PlanStep } from '../world/plan.js';
import { DeliveredDependencies } from '../world/dependency-violation.js';
import { isReady } from '../world/readiness.js';
import type { AnswerSpec, Scenario } from '../spec/schema.js';
import { callOverlap, clippedLength, sharedLength, type Interval } from './intervals.js';
import { SCORING_VERSION } from './version.js';
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

/** The steps a request releases: its task's own steps, or those its follow-up adds. */
function releasedBy(
  plan: Plan,
  request: { task: string } | { message: number },
): readonly PlanStep[] {
  if ('message' in request) return plan.messageSteps(request.message);
  const task = plan.task(request.task);
  return task === undefined ? [] : plan.ownSteps(task);
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
  readonly calls = new Map<number, CallRecord>();
  readonly order: CallRecord[] = [];
  readonly matcher: StepMatcher;
  // The agent's view: requests and successful results delivered (`delivered`); by step index, its
  // calls without a delivered outcome; and the steps ready (see `refresh`).
  private undelivered: Array<{ task: string; steps: readonly PlanStep[] }> = [];
  private readonly delivered: DeliveredDependencies;
  private readonly unresolved: Int32Array;
  private readonly ready: Uint8Array;
  // Ready steps per task, and their sum over the tasks awaiting an answer (a task with a delivered
  // request not answered since): only those count as ready, so answering early leaves none.
  private readonly readyIn = new Map<string, number>();
  private readonly awaiting = new Set<string>();
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

  constructor(private readonly plan: Plan) {
    this.matcher = new StepMatcher(plan);
    this.delivered = new DeliveredDependencies(plan, (s) => this.refresh(s));
    this.unresolved = new Int32Array(plan.steps.length);
    this.ready = new Uint8Array(plan.steps.length);
  }

  apply(e: EpisodeEvent, index: number): void {
    const plan = this.plan;
    switch (e.type) {
      case 'task_arrived':
        this.arrive(`task:${e.task}`, e.task, releasedBy(plan, { task: e.task }), index, e.timeUs);
        break;
      case 'message_arrived':
        this.arrive(
          `message:${e.index}`,
          plan.messages[e.index]!.task,
          releasedBy(plan, { message: e.index }),
          index,
          e.timeUs,
        );
        break;
      case 'decision_started':
        this.decisionStarted(e.timeUs, index);
        break;
      case 'result_delivered':
        this.resultDelivered(e.callId, e.timeUs, index);
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
        const call = this.calls.get(e.callId);
        if (call !== undefined) call.startedUs = e.timeUs;
        break;
      }
      case 'episode_started':
      case 'limit_hit':
        break;
    }
  }

  private arrive(
    request: string,
    task: string,
    steps: readonly PlanStep[],
    index: number,
    timeUs: number,
  ): void {
    this.arrivedAt.set(request, index);
    this.undelivered.push({ task, steps });
    this.firstArrivalUs ??= timeUs;
  }

  /** What arrived since the last decision is delivered at this one's start. */
  private decisionStarted(timeUs: number, index: number): void {
    this.closeIdle(timeUs);
    for (const { task, steps } of this.undelivered) {
      this.setAwaiting(task, true);
      this.delivered.requestDelivered(steps);
    }
    this.undelivered = [];
    this.decisionStartUs = timeUs;
    this.decisionAt = index;
    this.decisionCount++;
  }

  private resultDelivered(callId: number, timeUs: number, index: number): void {
    const call = this.calls.get(callId);
    if (call === undefined) return;
    call.deliveredAt = index;
    call.deliveredUs = timeUs;
    const step = call.step;
    if (step === null) return;
    this.unresolved[step.index]!--;
    if (call.ok === true) this.delivered.resultDelivered(step);
    this.refresh(step);
  }

  /** Matches the call to a step (the world's rule) and judges it against what was delivered. */
  private callIssued(e: Extract<EpisodeEvent, { type: 'call_issued' }>): void {
    const invalid = e.invalid !== null;
    const argsKey = invalid ? null : this.plan.argsKey(e.args);
    const step = argsKey === null ? null : this.matcher.match(e.tool, argsKey);
    if (step !== null) this.streak.act(step.task, this.taskHasReady);
    const violation = step !== null && this.delivered.violates(step);
    const call: CallRecord = {
      id: e.callId,
      tool: e.tool,
      issuedUs: e.timeUs,
      step,
      invalid,
      violation,
      startedUs: null,
      completedUs: null,
      ok: null,
      deliveredAt: null,
      deliveredUs: null,
    };
    this.calls.set(e.callId, call);
    this.order.push(call);
    if (step !== null) {
      this.unresolved[step.index]!++;
      this.refresh(step);
    }
  }

  private callCompleted(callId: number, ok: boolean, timeUs: number): void {
    const call = this.calls.get(callId);
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
    this.readyIn.set(s.task, (this.readyIn.get(s.task) ?? 0) + delta);
    if (this.awaiting.has(s.task)) this.readyCount += delta;
  }

  private setAwaiting(task: string, on: boolean): void {
    if (this.awaiting.has(task) === on) return;
    if (on) this.awaiting.add(task);
    else this.awaiting.delete(task);
    this.readyCount += (on ? 1 : -1) * (this.readyIn.get(task) ?? 0);
  }

  private readonly taskHasReady = (task: string): boolean =>
    this.awaiting.has(task) && (this.readyIn.get(task) ?? 0) > 0;

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
    if (c.violation) violationsOf.set(c.step.task, (violationsOf.get(c.step.task) ?? 0) + 1);
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
    return {
      task: task.id,
      success: allRequestsArrived && answered && answerCorrect && grounded === expected.length,
      allRequestsArrived,
      stepsExpected: expected.length,
      stepsMatched: expected.filter((s) => matcher.isDone(s)).length,
      stepsGrounded: grounded,
      violations: violationsOf.get(task.id) ?? 0,
      answered,
      answerCorrect,
      finishedUs: answered ? answer.timeUs : null,
    };
  });
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
  const plan = planOf(scenario);
  const pass = new EpisodePass(plan);
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
