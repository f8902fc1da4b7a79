/**
 * Scoring one episode from its events and its scenario alone, so stored runs can be re-scored.
 *
 * One pass over the events rebuilds two views of the episode:
 * - the world's: which expected step each call performs (matched exactly as world.ts `matchStep`
 *   does: tool + canonical args, the first step in plan order neither done nor in flight, else the
 *   first not done, else the first), which calls completed and how;
 * - the agent's: what had been delivered to it at the start of each decision (requests, results),
 *   which is what "ready", "dependency violation" and "answered" are judged against, exactly as
 *   PlanTracker judges them.
 * Definitions of every metric, with a worked example: scenarios/METRICS.md.
 */
import type { EpisodeEvent, EndReason } from '../events.js';
import { planOf } from '../compiled.js';
import type { PlanStep } from '../plan.js';
import type { AnswerSpec, JsonValue, Scenario } from '../schema.js';
import { callOverlap, clippedLength, type Interval } from './intervals.js';
import type { CallScore, CallVerdict, EpisodeScore, ScoreReference, TaskScore } from './types.js';

interface CallRecord {
  readonly id: number;
  readonly tool: string;
  readonly issuedUs: number;
  readonly step: PlanStep | null;
  readonly invalid: boolean;
  readonly violation: boolean;
  completedUs: number | null;
  ok: boolean | null;
  /** Index in the event stream of its `result_delivered`, or null. */
  deliveredAt: number | null;
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

function increment(map: Map<string, number>, key: string, by: number): void {
  map.set(key, (map.get(key) ?? 0) + by);
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

export function scoreEpisode(scenario: Scenario, events: Iterable<EpisodeEvent>, reference?: ScoreReference): EpisodeScore {
  const plan = planOf(scenario);

  // The world's view.
  const arrivedAt = new Map<string, number>();
  const calls = new Map<number, CallRecord>();
  const order: CallRecord[] = [];
  const doneInWorld = new Set<string>();
  const inService = new Map<string, number>();
  // The agent's view.
  const known = new Set<string>();
  let undelivered: string[] = [];
  const deliveredOk = new Set<string>();
  const unresolved = new Map<string, number>();
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
  let answerCount = 0;
  let rejected = 0;

  const matchStep = (tool: string, args: JsonValue): PlanStep | null => {
    const matches = plan.stepsMatching(tool, args);
    if (matches.length <= 1) return matches[0] ?? null;
    return matches.find((s) => !doneInWorld.has(s.key) && (inService.get(s.key) ?? 0) === 0) ?? matches.find((s) => !doneInWorld.has(s.key)) ?? matches[0]!;
  };
  // Ready, as PlanTracker means it: request delivered, every dependency's result delivered, and
  // every call for the step so far resolved as a delivered failure.
  const anyReady = (): boolean =>
    plan.steps.some((s) => known.has(requestOf(s)) && !doneInWorld.has(s.key) && (unresolved.get(s.key) ?? 0) === 0 && s.after.every((d) => deliveredOk.has(`${s.task}/${d}`)));
  const closeIdle = (nowUs: number): void => {
    if (idleSinceUs === null) return;
    idle.push({ startUs: idleSinceUs, endUs: nowUs });
    if (anyReady()) idleWhileReadyUs += nowUs - idleSinceUs;
    idleSinceUs = null;
  };
  const arrive = (request: string, index: number, timeUs: number): void => {
    arrivedAt.set(request, index);
    undelivered.push(request);
    firstArrivalUs ??= timeUs;
  };

  // Any iterable, read once in order: replay reading streams a file's events through here.
  let index = -1;
  for (const e of events) {
    index++;
    if (ended !== null) break;
    switch (e.type) {
      case 'task_arrived':
        arrive(`task:${e.task}`, index, e.timeUs);
        break;
      case 'message_arrived':
        arrive(`message:${e.index}`, index, e.timeUs);
        break;
      case 'decision_started':
        closeIdle(e.timeUs);
        for (const r of undelivered) known.add(r);
        undelivered = [];
        decisionStartUs = e.timeUs;
        decisionAt = index;
        decisionCount++;
        break;
      case 'result_delivered': {
        const call = calls.get(e.callId);
        if (call === undefined) break;
        call.deliveredAt = index;
        if (call.step !== null) {
          increment(unresolved, call.step.key, -1);
          if (call.ok === true) deliveredOk.add(call.step.key);
        }
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
        const step = invalid ? null : matchStep(e.tool, e.args);
        const violation = step !== null && (!known.has(requestOf(step)) || step.after.some((d) => !deliveredOk.has(`${step.task}/${d}`)));
        const call: CallRecord = { id: e.callId, tool: e.tool, issuedUs: e.timeUs, step, invalid, violation, completedUs: null, ok: null, deliveredAt: null };
        calls.set(e.callId, call);
        order.push(call);
        if (step !== null) {
          increment(inService, step.key, 1);
          increment(unresolved, step.key, 1);
        }
        break;
      }
      case 'call_completed': {
        const call = calls.get(e.callId);
        if (call === undefined) break;
        call.completedUs = e.timeUs;
        call.ok = e.ok;
        if (call.step !== null) {
          increment(inService, call.step.key, -1);
          if (e.ok) doneInWorld.add(call.step.key);
        }
        break;
      }
      case 'answer_given':
        answerCount++;
        answers.set(e.task, { timeUs: e.timeUs, at: index, decisionAt, content: e.content });
        break;
      case 'episode_ended':
        if (decisionStartUs !== null) decisions.push({ startUs: decisionStartUs, endUs: e.timeUs });
        decisionStartUs = null;
        closeIdle(e.timeUs);
        ended = { timeUs: e.timeUs, reason: e.reason };
        break;
      case 'episode_started':
      case 'call_started':
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
    completedUs: c.completedUs,
    ok: c.ok,
  }));
  const countVerdict = (v: CallVerdict) => callScores.filter((c) => c.verdict === v).length;
  const correctCalls = countVerdict('correct');
  const expectedSteps = plan.steps.filter((s) => arrivedAt.has(requestOf(s)));
  const matched = expectedSteps.filter((s) => doneInWorld.has(s.key)).length;
  const n = order.length;
  const e = expectedSteps.length;
  // F1 from the counts: 2PR/(P+R) = 2cm / (c·e + m·n), exact for exact counts.
  const f1Denominator = correctCalls * e + matched * n;

  // Sub-task level.
  const tasks: TaskScore[] = plan.tasks.map((task) => {
    const requests = [`task:${task.id}`, ...task.messages.map((m) => `message:${m.index}`)];
    const arrivals = requests.map((r) => arrivedAt.get(r)).filter((i): i is number => i !== undefined);
    const lastRequestAt = arrivals.length === 0 ? null : arrivals.reduce((most, i) => Math.max(most, i));
    const answer = answers.get(task.id);
    const answered = answer !== undefined && lastRequestAt !== null && lastRequestAt < answer.decisionAt;
    let spec = task.firstAnswer;
    for (const m of task.messages) if (m.answer !== null && arrivedAt.has(`message:${m.index}`)) spec = m.answer;
    const answerCorrect = answered && answerSatisfies(answer.content, spec);
    const expected = task.steps.filter((s) => arrivedAt.has(requestOf(s)));
    const grounded = expected.filter((s) =>
      order.some((c) => c.step === s && c.ok === true && !c.violation && c.deliveredAt !== null && answer !== undefined && c.deliveredAt < answer.at),
    ).length;
    const allRequestsArrived = arrivals.length === requests.length;
    return {
      task: task.id,
      success: allRequestsArrived && answered && answerCorrect && grounded === expected.length,
      allRequestsArrived,
      stepsExpected: expected.length,
      stepsMatched: expected.filter((s) => doneInWorld.has(s.key)).length,
      stepsGrounded: grounded,
      violations: order.filter((c) => c.step !== null && c.step.task === task.id && c.violation).length,
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
  const callIntervals: Interval[] = order.map((c) => ({ startUs: c.issuedUs, endUs: c.completedUs ?? makespanUs }));
  const { waitUs, overlappedUs } = callOverlap(callIntervals, decisions);
  const windowUs = firstArrivalUs === null ? 0 : makespanUs - firstArrivalUs;

  return {
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
      boundRatio: completed && boundUs !== null ? ratio(boundUs, makespanUs, 1) : null,
      sequentialMakespanUs,
      speedupVsSequential: completed && sequentialMakespanUs !== null ? ratio(sequentialMakespanUs, makespanUs, 1) : null,
      idleUs: firstArrivalUs === null ? 0 : clippedLength(idle, firstArrivalUs, makespanUs),
      idleWhileReadyUs,
      callWaitUs: waitUs,
      meanCallsInFlight: firstArrivalUs === null || windowUs === 0 ? null : clippedLength(callIntervals, firstArrivalUs, makespanUs) / windowUs,
      overlapShare: waitUs === 0 ? null : overlappedUs / waitUs,
    },
    counts: { decisions: decisionCount, calls: n, answers: answerCount, rejectedActions: rejected, endReason: ended.reason },
    calls: callScores,
  };
}
