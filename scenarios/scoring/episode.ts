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
import type { CallScore, CallVerdict, EpisodeScore, InterleavingScores, ScoreReference, TaskScore } from './types.js';

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
function releasedBy(plan: Plan, request: { task: string } | { message: number }): readonly PlanStep[] {
  if ('message' in request) return plan.messageSteps(request.message);
  const task = plan.task(request.task);
  return task === undefined ? [] : plan.ownSteps(task);
}

/** Every expected string occurs in the answer, case-insensitively. */
export function answerSatisfies(content: string, spec: AnswerSpec): boolean {
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
 * Scores one episode from its scenario and events alone: step level (precision, recall, F1,
 * dependency violations), task level (success of every sub-task, answers) and efficiency (makespan,
 * idle time, overlap; against `reference` when given: the oracle's bound and a sequential agent's
 * makespan). Pure and deterministic; the score is canonical (fixed key order, null for absent
 * values). Every metric is defined in scenarios/scoring/METRICS.md.
 */
export function scoreEpisode(scenario: Scenario, events: readonly EpisodeEvent[], reference?: ScoreReference): EpisodeScore {
  const plan = planOf(scenario);

  // The world's view.
  const arrivedAt = new Map<string, number>();
  const calls = new Map<number, CallRecord>();
  const order: CallRecord[] = [];
  const matcher = new StepMatcher(plan);
  // The agent's view: requests and successful results delivered (`delivered`); by step index, its
  // calls without a delivered outcome; and the steps ready (see `refresh`).
  let undelivered: Array<{ task: string; steps: readonly PlanStep[] }> = [];
  const stepCount = plan.steps.length;
  const delivered = new DeliveredDependencies(plan, (s) => refresh(s));
  const unresolved = new Int32Array(stepCount);
  const ready = new Uint8Array(stepCount);
  // Ready steps per task, and their sum over the tasks awaiting an answer (a task with a delivered
  // request not answered since): only those count as ready, so answering early leaves none.
  const readyIn = new Map<string, number>();
  const awaiting = new Set<string>();
  let readyCount = 0;
  // Time.
  const decisions: Interval[] = [];
  const idle: Interval[] = [];
  let decisionStartUs: number | null = null;
  let decisionAt = -1;
  let idleSinceUs: number | null = 0;
  let idleWhileReadyUs = 0;
  let firstArrivalUs: number | null = null;
  let ended: { timeUs: number; reason: EndReason } | null = null;
  // Counts.
  const answers = new Map<string, AnswerRecord>();
  let decisionCount = 0;
  const streak = new StreakCounter();
  let answerCount = 0;
  let rejected = 0;

  // Ready (world/readiness.ts), refreshed whenever one of its facts changes, so the counts stay
  // exact. A call's outcome is unresolved until delivered; done is the world's (a success).
  const refresh = (s: PlanStep): void => {
    const i = s.index;
    const now = isReady({ released: delivered.isReleased(s), dependenciesDelivered: delivered.dependenciesDelivered(s), done: matcher.isDone(s), inFlight: unresolved[i]! > 0 }) ? 1 : 0;
    const delta = now - ready[i]!;
    if (delta === 0) return;
    ready[i] = now;
    readyIn.set(s.task, (readyIn.get(s.task) ?? 0) + delta);
    if (awaiting.has(s.task)) readyCount += delta;
  };
  const setAwaiting = (task: string, on: boolean): void => {
    if (awaiting.has(task) === on) return;
    if (on) awaiting.add(task);
    else awaiting.delete(task);
    readyCount += (on ? 1 : -1) * (readyIn.get(task) ?? 0);
  };
  const taskHasReady = (task: string): boolean => awaiting.has(task) && (readyIn.get(task) ?? 0) > 0;
  const closeIdle = (nowUs: number): void => {
    if (idleSinceUs === null) return;
    idle.push({ startUs: idleSinceUs, endUs: nowUs });
    if (readyCount > 0) idleWhileReadyUs += nowUs - idleSinceUs;
    idleSinceUs = null;
  };
  const arrive = (request: string, task: string, steps: readonly PlanStep[], index: number, timeUs: number): void => {
    arrivedAt.set(request, index);
    undelivered.push({ task, steps });
    firstArrivalUs ??= timeUs;
  };

  for (const [index, e] of events.entries()) {
    if (ended !== null) break;
    switch (e.type) {
      case 'task_arrived':
        arrive(`task:${e.task}`, e.task, releasedBy(plan, { task: e.task }), index, e.timeUs);
        break;
      case 'message_arrived':
        arrive(`message:${e.index}`, plan.messages[e.index]!.task, releasedBy(plan, { message: e.index }), index, e.timeUs);
        break;
      case 'decision_started':
        closeIdle(e.timeUs);
        for (const { task, steps } of undelivered) {
          setAwaiting(task, true);
          delivered.requestDelivered(steps);
        }
        undelivered = [];
        decisionStartUs = e.timeUs;
        decisionAt = index;
        decisionCount++;
        break;
      case 'result_delivered': {
        const call = calls.get(e.callId);
        if (call === undefined) break;
        call.deliveredAt = index;
        call.deliveredUs = e.timeUs;
        const step = call.step;
        if (step === null) break;
        unresolved[step.index]!--;
        if (call.ok === true) delivered.resultDelivered(step);
        refresh(step);
        break;
      }
      case 'decision_ended':
        decisions.push({ startUs: decisionStartUs ?? e.timeUs, endUs: e.timeUs });
        decisionStartUs = null;
        idleSinceUs = e.timeUs;
        break;
      case 'action_rejected':
        rejected++;
        break;
      case 'call_issued': {
        const invalid = e.invalid !== null;
        const argsKey = invalid ? null : plan.argsKey(e.args);
        const step = argsKey === null ? null : matcher.match(e.tool, argsKey);
        if (step !== null) streak.act(step.task, taskHasReady);
        const violation = step !== null && delivered.violates(step);
        const call: CallRecord = { id: e.callId, tool: e.tool, issuedUs: e.timeUs, step, invalid, violation, startedUs: null, completedUs: null, ok: null, deliveredAt: null, deliveredUs: null };
        calls.set(e.callId, call);
        order.push(call);
        if (step !== null) {
          unresolved[step.index]!++;
          refresh(step);
        }
        break;
      }
      case 'call_completed': {
        const call = calls.get(e.callId);
        if (call === undefined) break;
        // A call completes once: a stream that says otherwise changes nothing more in the world.
        if (call.step !== null && call.completedUs === null) {
          matcher.completed(call.step, e.ok);
          refresh(call.step);
        }
        call.completedUs = e.timeUs;
        call.ok = e.ok;
        break;
      }
      case 'answer_given':
        answerCount++;
        streak.act(e.task, taskHasReady);
        setAwaiting(e.task, false);
        answers.set(e.task, { timeUs: e.timeUs, at: index, decisionAt, content: e.content });
        break;
      case 'episode_ended':
        if (decisionStartUs !== null) decisions.push({ startUs: decisionStartUs, endUs: e.timeUs });
        decisionStartUs = null;
        closeIdle(e.timeUs);
        ended = { timeUs: e.timeUs, reason: e.reason };
        break;
      case 'call_started': {
        const call = calls.get(e.callId);
        if (call !== undefined) call.startedUs = e.timeUs;
        break;
      }
      case 'episode_started':
      case 'limit_hit':
        break;
    }
  }
  if (ended === null) throw new Error('scoreEpisode: the events do not end with episode_ended');
  const makespanUs = ended.timeUs;

  // Step level. The first successful call of a step (in issue order) performs it; a matched call
  // issued after it is redundant, every matched call before it (failed attempts) is correct.
  const firstSuccess = new Map<string, number>();
  for (const c of order) if (c.step !== null && c.ok === true && !firstSuccess.has(c.step.key)) firstSuccess.set(c.step.key, c.id);
  const verdictOf = (c: CallRecord): CallVerdict => {
    if (c.invalid) return 'invalid';
    if (c.step === null) return 'unmatched';
    const first = firstSuccess.get(c.step.key);
    return first !== undefined && first < c.id ? 'redundant' : 'correct';
  };
  const callScores: CallScore[] = order.map((c) => ({
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
  const countVerdict = (v: CallVerdict) => callScores.filter((c) => c.verdict === v).length;
  const correctCalls = countVerdict('correct');
  const expectedSteps = plan.steps.filter((s) => arrivedAt.has(requestOf(s)));
  const matched = expectedSteps.filter((s) => matcher.isDone(s)).length;
  const n = order.length;
  const e = expectedSteps.length;
  // F1 from the counts: 2PR/(P+R) = 2cm / (c·e + m·n), exact for exact counts.
  const f1Denominator = correctCalls * e + matched * n;

  // Sub-task level. Per step, the earliest delivery of a successful call made without violation
  // (grounds the step if before the answer); per task, its violations: one pass over the calls,
  // not one per step or task.
  const groundedAt = new Float64Array(stepCount).fill(Infinity);
  const violationsOf = new Map<string, number>();
  for (const c of order) {
    if (c.step === null) continue;
    const i = c.step.index;
    if (c.ok === true && !c.violation && c.deliveredAt !== null) groundedAt[i] = Math.min(groundedAt[i]!, c.deliveredAt);
    if (c.violation) violationsOf.set(c.step.task, (violationsOf.get(c.step.task) ?? 0) + 1);
  }
  const tasks: TaskScore[] = plan.tasks.map((task) => {
    const requests = [`task:${task.id}`, ...task.messages.map((m) => `message:${m.index}`)];
    const arrivals = requests.map((r) => arrivedAt.get(r)).filter((i): i is number => i !== undefined);
    // A reduce, not a spread: a task may have more follow-ups than a call has room for arguments.
    const lastRequestAt = arrivals.length === 0 ? null : arrivals.reduce((a, b) => Math.max(a, b));
    const answer = answers.get(task.id);
    const answered = answer !== undefined && lastRequestAt !== null && lastRequestAt < answer.decisionAt;
    let spec = task.firstAnswer;
    for (const m of task.messages) if (m.answer !== null && arrivedAt.has(`message:${m.index}`)) spec = m.answer;
    const answerCorrect = answered && answerSatisfies(answer.content, spec);
    const expected = task.steps.filter((s) => arrivedAt.has(requestOf(s)));
    const grounded = expected.filter((s) => answer !== undefined && groundedAt[s.index]! < answer.at).length;
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
  const tasksSucceeded = tasks.filter((t) => t.success).length;

  // Efficiency.
  const completed = ended.reason === 'completed';
  const boundUs = reference?.boundUs ?? null;
  const sequentialMakespanUs = reference?.sequentialMakespanUs ?? null;
  const boundRatio = completed && boundUs !== null ? ratio(boundUs, makespanUs, 1) : null;
  const speedupVsSequential = completed && sequentialMakespanUs !== null ? ratio(sequentialMakespanUs, makespanUs, 1) : null;
  // Efficiency is credited only for work done: a failed (or unfinished) episode counts 0.
  const succeeded = completed && tasksSucceeded === tasks.length;
  const successBoundRatio = boundUs === null ? null : succeeded ? (makespanUs === 0 ? 1 : boundUs / Math.max(boundUs, makespanUs)) : 0;
  const successSpeedup = sequentialMakespanUs === null ? null : succeeded ? speedupVsSequential : 0;
  // A call waits from its issue to its completion (or the end): queued for a slot until it
  // starts, then in service. Overlap and calls-in-service count the service part only.
  const endOf = (c: CallRecord): number => c.completedUs ?? makespanUs;
  const callIntervals: Interval[] = order.map((c) => ({ startUs: c.issuedUs, endUs: endOf(c) }));
  const serviceIntervals: Interval[] = order.flatMap((c) => (c.startedUs === null ? [] : [{ startUs: c.startedUs, endUs: endOf(c) }]));
  const waitUs = callIntervals.reduce((sum, i) => sum + (i.endUs - i.startUs), 0);
  const { waitUs: serviceUs, overlappedUs } = callOverlap(serviceIntervals, decisions);
  // Outcomes that exist in the world but have not reached the agent (results not yet polled).
  const waitingResults: Interval[] = order.flatMap((c) => (c.completedUs === null ? [] : [{ startUs: c.completedUs, endUs: c.deliveredUs ?? makespanUs }]));
  const windowUs = firstArrivalUs === null ? 0 : makespanUs - firstArrivalUs;

  return {
    scoringVersion: SCORING_VERSION,
    scenario: scenario.id,
    success: tasksSucceeded === tasks.length,
    tasksSucceeded,
    tasksTotal: tasks.length,
    subtaskSuccessRate: tasks.length === 0 ? 0 : tasksSucceeded / tasks.length,
    steps: {
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
    },
    tasks,
    efficiency: {
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
      meanCallsInService: firstArrivalUs === null || windowUs === 0 ? null : clippedLength(serviceIntervals, firstArrivalUs, makespanUs) / windowUs,
      overlapShare: serviceUs === 0 ? null : overlappedUs / serviceUs,
    },
    interleaving: streak.scores(decisionCount),
    counts: { decisions: decisionCount, calls: n, answers: answerCount, rejectedActions: rejected, endReason: ended.reason },
    calls: callScores,
  };
}
