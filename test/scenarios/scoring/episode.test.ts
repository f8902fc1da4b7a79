import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../scenarios/spec/canonical.js';
import {
  eventsOfType,
  type EndReason,
  type EpisodeEvent,
} from '../../../scenarios/world/events.js';
import { computeOracle } from '../../../scenarios/scoring/oracle.js';
import { Plan } from '../../../scenarios/world/plan.js';
import type { Action, Decision, Observation } from '../../../scenarios/protocol.js';
import type { JsonValue, Scenario } from '../../../scenarios/spec/schema.js';
import {
  aggregate,
  callOverlap,
  NON_NEGATIVE,
  proportion,
  scoreEpisode,
  stat,
  tQuantile975,
  UNIT,
  wilson,
  type EpisodeScore,
  type ScoredEpisode,
} from '../../../scenarios/scoring/index.js';
import { PlanTracker } from '../../../scenarios/world/tracker.js';
import { runEpisode } from '../../../scenarios/world/world.js';
import {
  build,
  constantLatencies,
  dagScenario,
  dagShapeArb,
  echoTool,
  scripted,
} from '../../support/scenarios.js';

// ---------------------------------------------------------------------------------------------
// Scenarios and agents

/** The worked example of METRICS.md: A = search then book (a2 after a1); B = one search, at 5 ms. */
const example = build({
  id: 'example',
  thinkTime: { kind: 'constant', ms: 1 },
  tools: [
    echoTool('search', { kind: 'constant', ms: 10 }),
    echoTool('book', { kind: 'constant', ms: 20 }),
  ],
  tasks: [
    {
      id: 'A',
      arrivalMs: 0,
      message: 'book a flight',
      steps: [
        { id: 'a1', tool: 'search', args: { q: 'flight' } },
        { id: 'a2', tool: 'book', args: { flight: 'F1' }, after: ['a1'] },
      ],
      answer: { mustContain: ['F1'] },
    },
    {
      id: 'B',
      arrivalMs: 5,
      message: 'find a hotel',
      steps: [{ id: 'b1', tool: 'search', args: { q: 'hotel' } }],
      answer: { mustContain: ['H7'] },
    },
  ],
});

/** Task A of the example alone. */
const chain = build({ ...example, id: 'chain', tasks: [example.tasks[0]!] });

const A1: Action = { type: 'call', tool: 'search', args: { q: 'flight' } };
const A2: Action = { type: 'call', tool: 'book', args: { flight: 'F1' } };
const B1: Action = { type: 'call', tool: 'search', args: { q: 'hotel' } };

/** Issues every ready step and answers finished tasks (`answer` may alter the content). */
function greedy(
  scenario: Scenario,
  answer: (task: string, expected: string) => string = (_t, x) => x,
) {
  const tracker = new PlanTracker(new Plan(scenario));
  return scripted((o: Observation): Decision => {
    tracker.observe(o);
    return {
      actions: [
        ...tracker.issueAll(tracker.readySteps()),
        ...tracker.answerAll((t, expected) => answer(t.id, expected)),
      ],
    };
  }, 'test-greedy');
}

/** An agent reacting to what is delivered: `react` sees each delivered item, plus everything seen so far. */
function reactive(react: (item: string, seen: ReadonlySet<string>, o: Observation) => Action[]) {
  const seen = new Set<string>();
  return scripted((o) => {
    const actions: Action[] = [];
    for (const d of o.delivered) {
      const item =
        d.type === 'task'
          ? `task:${d.task}`
          : d.type === 'message'
            ? `message:${d.task}`
            : d.type === 'result'
              ? `result:${d.tool}:${canonicalJson(d.args)}`
              : d.type;
      seen.add(item);
      actions.push(...react(item, seen, o));
    }
    return { actions };
  });
}
const R_A1 = `result:search:${canonicalJson({ q: 'flight' })}`;
const R_A2 = `result:book:${canonicalJson({ flight: 'F1' })}`;
const R_B1 = `result:search:${canonicalJson({ q: 'hotel' })}`;

// ---------------------------------------------------------------------------------------------
// Hand-built event streams (times in ms)

const us = (ms: number) => ms * 1000;
let decisionNo = 0;
const E = {
  begin(): EpisodeEvent {
    decisionNo = 0;
    return {
      type: 'episode_started',
      timeUs: 0,
      scenario: 'hand',
      seed: 0,
      mode: 'async',
      delivery: 'push',
      agent: 'hand',
    };
  },
  task: (t: number, task: string): EpisodeEvent => ({ type: 'task_arrived', timeUs: us(t), task }),
  message: (t: number, task: string, index: number): EpisodeEvent => ({
    type: 'message_arrived',
    timeUs: us(t),
    task,
    index,
  }),
  start: (t: number): EpisodeEvent => ({
    type: 'decision_started',
    timeUs: us(t),
    decision: ++decisionNo,
  }),
  end: (t: number, thinkMs: number): EpisodeEvent => ({
    type: 'decision_ended',
    timeUs: us(t),
    decision: decisionNo,
    thinkUs: us(thinkMs),
    actions: [],
    note: null,
  }),
  issue: (
    t: number,
    callId: number,
    tool: string,
    args: JsonValue,
    invalid: string | null = null,
  ): EpisodeEvent => ({
    type: 'call_issued',
    timeUs: us(t),
    callId,
    tool,
    args,
    ref: null,
    task: null,
    step: null,
    attempt: 0,
    invalid,
  }),
  complete: (t: number, callId: number, ok = true): EpisodeEvent => ({
    type: 'call_completed',
    timeUs: us(t),
    callId,
    ok,
    result: ok ? {} : null,
    error: ok ? null : 'transient error',
  }),
  deliver: (t: number, callId: number): EpisodeEvent => ({
    type: 'result_delivered',
    timeUs: us(t),
    callId,
  }),
  /** The call got a tool slot and went into service. */
  run: (t: number, callId: number): EpisodeEvent => ({
    type: 'call_started',
    timeUs: us(t),
    callId,
  }),
  answer: (t: number, task: string, content: string): EpisodeEvent => ({
    type: 'answer_given',
    timeUs: us(t),
    task,
    content,
  }),
  over: (t: number, reason: EndReason = 'completed'): EpisodeEvent => ({
    type: 'episode_ended',
    timeUs: us(t),
    reason,
    detail: null,
  }),
};

/** Task A alone: a1 issued at 1 ms, its result delivered to the decision starting at 11 ms, which issues a2 at 12 ms. */
function flightThenBooking(): EpisodeEvent[] {
  return [
    E.begin(),
    E.task(0, 'A'),
    E.start(0),
    E.end(1, 1),
    E.issue(1, 1, 'search', { q: 'flight' }),
    E.complete(11, 1),
    E.start(11),
    E.deliver(11, 1),
    E.end(12, 1),
    E.issue(12, 2, 'book', { flight: 'F1' }),
  ];
}

/** The worked example's timeline, exactly as METRICS.md tabulates it. */
function workedExampleEvents(): EpisodeEvent[] {
  return [
    E.begin(),
    E.task(0, 'A'),
    E.start(0), // d1
    E.end(2, 2),
    E.issue(2, 1, 'search', { q: 'flight' }),
    E.run(2, 1),
    E.start(2), // d2
    E.end(3, 1),
    E.task(5, 'B'),
    E.start(5), // d3
    E.end(6, 1),
    E.issue(6, 2, 'search', { q: 'hotel' }),
    E.run(6, 2),
    E.issue(6, 3, 'search', { q: 'hotel' }),
    E.run(6, 3),
    E.start(6), // d4
    E.end(7, 1),
    E.issue(7, 4, 'cancel', {}, 'unknown tool "cancel"'),
    E.complete(7, 4, false),
    E.start(7), // d5
    E.deliver(7, 4),
    E.end(8, 1),
    E.complete(12, 1),
    E.start(12), // d6
    E.deliver(12, 1),
    E.end(13, 1),
    E.complete(16, 2),
    E.complete(16, 3),
    E.start(16), // d7
    E.deliver(16, 2),
    E.deliver(16, 3),
    E.end(17, 1),
    E.issue(17, 5, 'book', { flight: 'F1' }),
    E.run(17, 5),
    E.answer(17, 'B', 'Your hotel is H9'),
    E.start(17), // d8
    E.end(18, 1),
    E.complete(37, 5),
    E.start(37), // d9
    E.deliver(37, 5),
    E.end(38, 1),
    E.answer(38, 'A', 'Booked flight F1'),
    E.over(38),
  ];
}

/** The decisions of the worked example, for the real world. */
function workedExampleAgent() {
  const script: Record<number, Action[]> = {
    1: [A1],
    2: [{ type: 'wait' }],
    3: [B1, B1],
    4: [{ type: 'call', tool: 'cancel', args: {} }],
    5: [{ type: 'wait' }],
    6: [{ type: 'wait' }],
    7: [A2, { type: 'answer', task: 'B', content: 'Your hotel is H9' }],
    8: [{ type: 'wait' }],
    9: [{ type: 'answer', task: 'A', content: 'Booked flight F1' }],
  };
  return scripted((o) => ({
    actions: script[o.decision] ?? [],
    thinkUs: o.decision === 1 ? 2000 : 1000,
  }));
}

/** One call at a time, in sync mode: the sequential reference of the worked example. */
function sequentialAgent(scenario: Scenario) {
  const tracker = new PlanTracker(new Plan(scenario));
  return scripted((o) => {
    tracker.observe(o);
    const answers = tracker.answerAll();
    return {
      actions: [
        ...answers,
        ...tracker.issueAll(tracker.inFlightCount() === 0 ? tracker.readySteps().slice(0, 1) : []),
      ],
    };
  }, 'test-sequential');
}

// ---------------------------------------------------------------------------------------------

describe('the worked example of METRICS.md', () => {
  it('hand-built events give the hand-computed score', () => {
    const s = scoreEpisode(example, workedExampleEvents(), {
      boundUs: 33_000,
      sequentialMakespanUs: 44_000,
    });
    expect(s.steps).toEqual({
      expected: 3,
      matched: 3,
      correctCalls: 3,
      redundantCalls: 1,
      unmatchedCalls: 0,
      invalidCalls: 1,
      dependencyViolations: 0,
      precision: 0.6,
      recall: 1,
      f1: 0.75,
    });
    expect(s.calls.map((c) => [c.callId, c.step, c.verdict, c.violation])).toEqual([
      [1, 'A/a1', 'correct', false],
      [2, 'B/b1', 'correct', false],
      [3, 'B/b1', 'redundant', false],
      [4, null, 'invalid', false],
      [5, 'A/a2', 'correct', false],
    ]);
    expect(s.tasks).toEqual([
      {
        task: 'A',
        success: true,
        allRequestsArrived: true,
        stepsExpected: 2,
        stepsMatched: 2,
        stepsGrounded: 2,
        violations: 0,
        answered: true,
        answerCorrect: true,
        finishedUs: 38_000,
      },
      {
        task: 'B',
        success: false,
        allRequestsArrived: true,
        stepsExpected: 1,
        stepsMatched: 1,
        stepsGrounded: 1,
        violations: 0,
        answered: true,
        answerCorrect: false,
        finishedUs: 17_000,
      },
    ]);
    expect([s.success, s.tasksSucceeded, s.tasksTotal, s.subtaskSuccessRate]).toEqual([
      false,
      1,
      2,
      0.5,
    ]);
    expect(s.efficiency).toEqual({
      makespanUs: 38_000,
      boundUs: 33_000,
      boundRatio: 33 / 38,
      sequentialMakespanUs: 44_000,
      speedupVsSequential: 44 / 38,
      // The episode failed (B's answer is wrong): it earns no efficiency.
      successBoundRatio: 0,
      successSpeedup: 0,
      idleUs: 28_000,
      idleWhileReadyUs: 3_000,
      idleWhileResultsWaitingUs: 0,
      callWaitUs: 50_000,
      callQueuedUs: 0,
      callServiceUs: 50_000,
      meanCallsInService: 50 / 38,
      overlapShare: 0.58,
    });
    expect(s.counts).toEqual({
      decisions: 9,
      calls: 5,
      answers: 2,
      rejectedActions: 0,
      endReason: 'completed',
    });
    // Actions A(#1) B(#2) B(#3) A(#5) B(answer) A(answer): 4 switches, streaks 1,2,1,1,1.
    expect(s.interleaving).toEqual({
      actions: 6,
      switches: 4,
      switchesPerDecision: 4 / 9,
      meanStreak: 6 / 5,
      streakLengths: [4, 1, 0, 0],
      switchesLeavingReady: 0,
      leavingReadyShare: 0,
    });
  });

  it('the world driven by the scripted decisions gives the same timeline, and the references are the oracle and a sequential agent', async () => {
    const ep = await runEpisode(example, workedExampleAgent(), { seed: 1 });
    const shape = (events: readonly EpisodeEvent[]) =>
      events.filter((e) => e.type !== 'call_started').map((e) => `${e.type}@${e.timeUs}`);
    expect(shape(ep.events)).toEqual(shape(workedExampleEvents()));
    const oracle = await computeOracle(example, { seed: 1 });
    const sequential = await runEpisode(example, sequentialAgent(example), {
      seed: 1,
      mode: 'sync',
    });
    expect([oracle.boundUs, sequential.makespanUs]).toEqual([33_000, 44_000]);
    const reference = { boundUs: oracle.boundUs, sequentialMakespanUs: sequential.makespanUs };
    expect(scoreEpisode(example, ep.events, reference)).toEqual(
      scoreEpisode(example, workedExampleEvents(), reference),
    );
  });
});

describe('step level', () => {
  it('a perfect run: every call correct, every step matched, nothing violated, nothing idle while ready', async () => {
    const ep = await runEpisode(example, greedy(example), { seed: 4 });
    const s = scoreEpisode(example, ep.events, {
      boundUs: (await computeOracle(example, { seed: 4 })).boundUs,
    });
    expect(s.success).toBe(true);
    expect(s.steps).toEqual({
      expected: 3,
      matched: 3,
      correctCalls: 3,
      redundantCalls: 0,
      unmatchedCalls: 0,
      invalidCalls: 0,
      dependencyViolations: 0,
      precision: 1,
      recall: 1,
      f1: 1,
    });
    expect(s.efficiency.idleWhileReadyUs).toBe(0);
    // With think time 1 ms the greedy agent meets the bound exactly: A's chain is 1+10+1+20+1 ms.
    expect(s.efficiency.boundRatio).toBe(1);
    expect(s.efficiency.makespanUs).toBe(33_000);
  });

  it('a call with the right args issued before its dependency result was delivered is a violation, and fails its task', async () => {
    const agent = reactive((item, seen) => {
      if (item === 'task:A') return [A1, A2]; // a2 together with a1: before a1's result
      if (item === 'task:B') return [B1];
      if (item === R_B1) return [{ type: 'answer', task: 'B', content: 'H7' }];
      if ((item === R_A1 || item === R_A2) && seen.has(R_A1) && seen.has(R_A2))
        return [{ type: 'answer', task: 'A', content: 'F1' }];
      return [];
    });
    const ep = await runEpisode(example, agent, { seed: 1 });
    expect(ep.endReason).toBe('completed');
    const s = scoreEpisode(example, ep.events);
    expect(s.calls.map((c) => [c.step, c.verdict, c.violation])).toEqual([
      ['A/a1', 'correct', false],
      ['A/a2', 'correct', true],
      ['B/b1', 'correct', false],
    ]);
    expect(s.steps.dependencyViolations).toBe(1);
    expect(s.steps.precision).toBe(1);
    expect(s.tasks[0]).toMatchObject({
      task: 'A',
      success: false,
      stepsMatched: 2,
      stepsGrounded: 1,
      violations: 1,
      answered: true,
      answerCorrect: true,
    });
    expect(s.tasks[1]).toMatchObject({ task: 'B', success: true });
    expect(s.success).toBe(false);
  });

  it('redoing the step once its dependency is delivered grounds it: the task succeeds, the redo is redundant', async () => {
    let a2Results = 0;
    const agent = reactive((item) => {
      if (item === 'task:A') return [A1, A2];
      if (item === R_A1) return [A2];
      if (item === 'task:B') return [B1];
      if (item === R_B1) return [{ type: 'answer', task: 'B', content: 'H7' }];
      if (item === R_A2 && ++a2Results === 2) return [{ type: 'answer', task: 'A', content: 'F1' }];
      return [];
    });
    const ep = await runEpisode(example, agent, { seed: 1 });
    const s = scoreEpisode(example, ep.events);
    expect(s.calls.filter((c) => c.step === 'A/a2').map((c) => [c.verdict, c.violation])).toEqual([
      ['correct', true],
      ['redundant', false],
    ]);
    expect(s.tasks[0]).toMatchObject({ task: 'A', success: true, stepsGrounded: 2, violations: 1 });
    expect(s.steps).toMatchObject({ correctCalls: 3, redundantCalls: 1, dependencyViolations: 1 });
    expect(s.success).toBe(true);
  });

  it('a result delivered at the start of the issuing decision counts; completed but not yet delivered does not; nor does a request not yet arrived', () => {
    const onTime = [...flightThenBooking(), E.over(12, 'limit')];
    expect(scoreEpisode(chain, onTime).calls.map((c) => c.violation)).toEqual([false, false]);
    // The second decision started (at 5) before a1 completed (at 11): a1's result is not delivered
    // to it, though the call is issued after the completion.
    const tooEarly = [
      E.begin(),
      E.task(0, 'A'),
      E.start(0),
      E.end(1, 1),
      E.issue(1, 1, 'search', { q: 'flight' }),
      E.task(5, 'B'),
      E.start(5),
      E.complete(11, 1),
      E.end(12, 7),
      E.issue(12, 2, 'book', { flight: 'F1' }),
      E.over(12, 'limit'),
    ];
    expect(scoreEpisode(example, tooEarly).calls.map((c) => c.violation)).toEqual([false, true]);
    // b1 issued at 1 ms, before task B arrived at 5 ms.
    const premature = [
      E.begin(),
      E.task(0, 'A'),
      E.start(0),
      E.end(1, 1),
      E.issue(1, 1, 'search', { q: 'hotel' }),
      E.over(2, 'limit'),
    ];
    const s = scoreEpisode(example, premature);
    expect(s.calls.map((c) => [c.step, c.violation])).toEqual([['B/b1', true]]);
    // B never arrived: its step is not expected (recall counts a1, a2 only).
    expect(s.steps).toMatchObject({ expected: 2, matched: 0, dependencyViolations: 1 });
  });

  it('invalid calls: an unknown tool and args off the schema', async () => {
    const scenario = build({
      id: 'strict',
      tools: [
        {
          ...echoTool('lookup', { kind: 'constant', ms: 5 }),
          parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] },
        },
      ],
      tasks: [
        {
          id: 'T',
          message: 'look x up',
          steps: [{ id: 's', tool: 'lookup', args: { q: 'x' } }],
          answer: { mustContain: ['x'] },
        },
      ],
    });
    const agent = reactive((item) => {
      if (item === 'task:T')
        return [
          { type: 'call', tool: 'nope', args: {} },
          { type: 'call', tool: 'lookup', args: { q: 5 } },
          { type: 'call', tool: 'lookup', args: { q: 'x' } },
        ];
      if (item.startsWith('result:lookup'))
        return [{ type: 'answer', task: 'T', content: 'found x' }];
      return [];
    });
    const ep = await runEpisode(scenario, agent, { seed: 1 });
    const s = scoreEpisode(scenario, ep.events);
    expect(s.calls.map((c) => c.verdict)).toEqual(['invalid', 'invalid', 'correct']);
    expect(s.steps).toEqual({
      expected: 1,
      matched: 1,
      correctCalls: 1,
      redundantCalls: 0,
      unmatchedCalls: 0,
      invalidCalls: 2,
      dependencyViolations: 0,
      precision: 1 / 3,
      recall: 1,
      f1: 0.5,
    });
    // Invalid calls cost precision, not success.
    expect(s.success).toBe(true);
  });

  it('redundant and unmatched calls; retries after a failure are correct', () => {
    const events = [
      E.begin(),
      E.task(0, 'A'),
      E.start(0),
      E.end(1, 1),
      E.issue(1, 1, 'search', { q: 'flight' }),
      E.issue(1, 2, 'search', { q: 'flight' }),
      E.complete(11, 1, false), // the first attempt fails...
      E.complete(11, 2, true), // ...the concurrent duplicate succeeds: both correct
      E.start(11),
      E.deliver(11, 1),
      E.deliver(11, 2),
      E.end(12, 1),
      E.issue(12, 3, 'search', { q: 'flight' }), // after a1 succeeded: redundant
      E.issue(12, 4, 'search', { q: 'nothing' }), // valid, performs no step: unmatched
      E.issue(12, 5, 'book', { flight: 'F1' }),
      E.issue(12, 6, 'book', { flight: 'F1' }), // a later duplicate of a call that succeeds: redundant, though it fails
      E.complete(22, 3),
      E.complete(22, 4),
      E.start(22),
      E.deliver(22, 3),
      E.deliver(22, 4),
      E.end(23, 1),
      E.complete(32, 5, true),
      E.complete(32, 6, false),
      E.start(32),
      E.deliver(32, 5),
      E.deliver(32, 6),
      E.end(33, 1),
      E.answer(33, 'A', 'f1 is booked'), // case-insensitive
      E.over(33),
    ];
    const s = scoreEpisode(chain, events);
    expect(s.calls.map((c) => [c.callId, c.step, c.verdict])).toEqual([
      [1, 'A/a1', 'correct'],
      [2, 'A/a1', 'correct'],
      [3, 'A/a1', 'redundant'],
      [4, null, 'unmatched'],
      [5, 'A/a2', 'correct'],
      [6, 'A/a2', 'redundant'],
    ]);
    expect(s.steps).toEqual({
      expected: 2,
      matched: 2,
      correctCalls: 3,
      redundantCalls: 2,
      unmatchedCalls: 1,
      invalidCalls: 0,
      dependencyViolations: 0,
      precision: 0.5,
      recall: 1,
      f1: 2 / 3,
    });
    expect(s.success).toBe(true);
  });

  it('matches calls to steps exactly as the world does, including identical steps shared by tasks', async () => {
    const shared = build({
      id: 'shared',
      tools: [
        echoTool(
          'e',
          { kind: 'uniform', minMs: 1, maxMs: 30 },
          { failure: { rate: 0.3, message: 'flaky' } },
        ),
        echoTool('f', { kind: 'uniform', minMs: 1, maxMs: 30 }, { concurrency: 1 }),
      ],
      tasks: [0, 1, 2].map((t) => ({
        id: `t${t}`,
        arrivalMs: t * 7,
        message: `task ${t}`,
        steps: [
          { id: 's0', tool: 'e', args: { q: 0 } },
          { id: 's1', tool: 'f', args: { q: 1 }, after: ['s0'] },
          { id: 's2', tool: 'e', args: { q: t } },
        ],
        answer: { mustContain: [`t${t}`] },
      })),
      messages: [
        { atMs: 20, task: 't0', text: 'more', steps: [{ id: 'm', tool: 'f', args: { q: 1 } }] },
      ],
    });
    const plan = new Plan(shared);
    const moves = fc.array(
      fc.array(fc.oneof(fc.nat(plan.steps.length - 1), fc.constant(-1), fc.constant(-2)), {
        maxLength: 4,
      }),
      { maxLength: 12 },
    );
    await fc.assert(
      fc.asyncProperty(moves, fc.nat(1000), fc.boolean(), async (script, seed, sync) => {
        const agent = scripted((o) => {
          const picks = script[o.decision - 1] ?? [];
          const actions: Action[] = picks.map((p): Action => {
            if (p === -1) return { type: 'call', tool: 'e', args: { q: 99 } };
            if (p === -2) return { type: 'call', tool: 'g', args: {} };
            const s = plan.steps[p]!;
            return { type: 'call', tool: s.tool, args: s.args };
          });
          if (o.decision > script.length)
            for (const t of o.openTasks)
              actions.push({ type: 'answer', task: t.id, content: t.id });
          return { actions, thinkUs: 500 };
        });
        const ep = await runEpisode(shared, agent, { seed, mode: sync ? 'sync' : 'async' });
        const s = scoreEpisode(shared, ep.events);
        const recorded = eventsOfType(ep.events, 'call_issued').map((e) =>
          e.task === null ? null : `${e.task}/${e.step}`,
        );
        expect(s.calls.map((c) => c.step)).toEqual(recorded);
        const st = s.steps;
        expect(st.correctCalls + st.redundantCalls + st.unmatchedCalls + st.invalidCalls).toBe(
          s.counts.calls,
        );
        for (const v of [st.precision, st.recall, st.f1, s.subtaskSuccessRate])
          expect(v >= 0 && v <= 1).toBe(true);
        for (const v of [s.efficiency.overlapShare])
          expect(v === null || (v >= 0 && v <= 1)).toBe(true);
        expect(s.efficiency.idleWhileReadyUs).toBeLessThanOrEqual(s.efficiency.idleUs);
        expect(JSON.stringify(scoreEpisode(shared, ep.events))).toBe(JSON.stringify(s));
      }),
      { numRuns: 150 },
    );
  });
});

describe('sub-task and task level', () => {
  it('a wrong answer fails its sub-task, and one failed sub-task fails the instance', async () => {
    const ep = await runEpisode(
      example,
      greedy(example, (t, x) => (t === 'B' ? 'no hotel found' : x.toLowerCase())),
      { seed: 2 },
    );
    const s = scoreEpisode(example, ep.events);
    expect(s.steps.precision).toBe(1);
    expect(s.tasks.map((t) => [t.task, t.answered, t.answerCorrect, t.success])).toEqual([
      ['A', true, true, true], // "f1" matches "F1": case-insensitive
      ['B', true, false, false],
    ]);
    expect([s.success, s.subtaskSuccessRate]).toEqual([false, 0.5]);
  });

  it('an answer given before the step results were delivered is not grounded', () => {
    const events = [
      ...flightThenBooking(),
      E.answer(12, 'A', 'F1'), // a2's result is not in yet
      E.complete(32, 2),
      E.over(32, 'completed'),
    ];
    expect(scoreEpisode(chain, events).tasks[0]).toMatchObject({
      stepsMatched: 2,
      stepsGrounded: 1,
      answered: true,
      answerCorrect: true,
      success: false,
      finishedUs: 12_000,
    });
  });

  const follow = build({
    id: 'follow',
    tools: [echoTool('e', { kind: 'constant', ms: 5 })],
    tasks: [
      {
        id: 't',
        arrivalMs: 1,
        message: 'first',
        steps: [{ id: 's1', tool: 'e', args: { a: 1 } }],
        answer: { mustContain: ['one'] },
      },
    ],
    messages: [
      {
        atMs: 10,
        task: 't',
        text: 'also do two',
        steps: [{ id: 's2', tool: 'e', args: { a: 2 }, after: ['s1'] }],
        answer: { mustContain: ['one', 'two'] },
      },
    ],
  });
  const S1: Action = { type: 'call', tool: 'e', args: { a: 1 } };
  const S2: Action = { type: 'call', tool: 'e', args: { a: 2 } };

  it('follow-ups add expected steps and replace the expected answer; an answer before the last request is stale', async () => {
    const perfect = scoreEpisode(
      follow,
      (await runEpisode(follow, greedy(follow), { seed: 1 })).events,
    );
    expect(perfect.tasks[0]).toMatchObject({
      stepsExpected: 2,
      stepsMatched: 2,
      answered: true,
      answerCorrect: true,
      success: true,
    });

    // Answers "one" at 6 ms; the follow-up at 10 ms is never answered: the episode stalls.
    const stale = reactive((item) =>
      item === 'task:t'
        ? [S1]
        : item.startsWith('result')
          ? [{ type: 'answer', task: 't', content: 'one' }]
          : [],
    );
    const ep = await runEpisode(follow, stale, { seed: 1 });
    expect(ep.endReason).toBe('stalled');
    expect(scoreEpisode(follow, ep.events).tasks[0]).toMatchObject({
      stepsExpected: 2,
      stepsMatched: 1,
      answered: false,
      answerCorrect: false,
      success: false,
      finishedUs: null,
    });

    // Does both steps and answers after the follow-up, but only with the first request's answer.
    const outdated = reactive((item, seen) => {
      if (item === 'task:t') return [S1];
      if (item === 'message:t') return [S2];
      if (item === `result:e:${canonicalJson({ a: 2 })}` && seen.has('message:t'))
        return [{ type: 'answer', task: 't', content: 'one' }];
      return [];
    });
    const ep2 = await runEpisode(follow, outdated, { seed: 1 });
    expect(ep2.endReason).toBe('completed');
    expect(scoreEpisode(follow, ep2.events).tasks[0]).toMatchObject({
      stepsGrounded: 2,
      answered: true,
      answerCorrect: false,
      success: false,
    });
  });

  it('an episode cut short by a limit: requests that never arrived are not expected, their task fails, no bound ratio', async () => {
    const short = build({ ...example, limits: { maxTimeMs: 4, maxDecisions: 100, maxCalls: 100 } });
    const ep = await runEpisode(short, greedy(short), { seed: 1 });
    const s = scoreEpisode(short, ep.events, { boundUs: 33_000, sequentialMakespanUs: 44_000 });
    expect(s.counts.endReason).toBe('limit');
    expect(s.steps).toMatchObject({
      expected: 2,
      matched: 0,
      correctCalls: 1,
      precision: 1,
      recall: 0,
      f1: 0,
    });
    expect(s.tasks.map((t) => [t.task, t.allRequestsArrived, t.stepsExpected, t.success])).toEqual([
      ['A', true, 2, false],
      ['B', false, 0, false],
    ]);
    expect(s.efficiency).toMatchObject({
      makespanUs: 4000,
      boundRatio: null,
      speedupVsSequential: null,
    });
    // The call still in flight at the end counts until the end: a1 issued at 1 ms.
    expect(s.efficiency.callWaitUs).toBe(3000);
    expect(s.efficiency.meanCallsInService).toBe(3 / 4);
  });
});

describe('efficiency', () => {
  it('sync blocking is idle time: idle while ready counts a ready step left unissued during a block', async () => {
    const two = build({
      id: 'two',
      tools: [echoTool('e', { kind: 'constant', ms: 10 })],
      tasks: [
        {
          id: 'T',
          message: 'two lookups',
          steps: [
            { id: 'x', tool: 'e', args: { k: 'x' } },
            { id: 'y', tool: 'e', args: { k: 'y' } },
          ],
          answer: { mustContain: ['done'] },
        },
      ],
    });
    // d1 [0,1] issues x, blocks to 11 with y ready (10 ms); d2 [11,12] issues y, blocks to 22; d3 answers.
    const ep = await runEpisode(two, sequentialAgent(two), {
      seed: 1,
      mode: 'sync',
      thinkTime: { kind: 'constant', ms: 1 },
    });
    const s = scoreEpisode(two, ep.events);
    expect(s.success).toBe(true);
    // Each call waits alone, outside any decision: no overlap.
    expect(s.efficiency).toMatchObject({
      makespanUs: 23_000,
      idleUs: 20_000,
      idleWhileReadyUs: 10_000,
      callWaitUs: 20_000,
      meanCallsInService: 20 / 23,
      overlapShare: 0,
    });
    // Greedy issues both at once: they overlap each other, and it never idles while a step is ready.
    const g = scoreEpisode(
      two,
      (await runEpisode(two, greedy(two), { seed: 1, thinkTime: { kind: 'constant', ms: 1 } }))
        .events,
    );
    expect(g.efficiency).toMatchObject({
      makespanUs: 12_000,
      idleWhileReadyUs: 0,
      callWaitUs: 20_000,
      meanCallsInService: 20 / 12,
      overlapShare: 1,
    });
  });

  it('overlap: a lone call counts only inside a decision; two calls in flight overlap each other', () => {
    expect(
      callOverlap(
        [
          { startUs: 0, endUs: 10 },
          { startUs: 5, endUs: 15 },
        ],
        [{ startUs: 12, endUs: 20 }],
      ),
    ).toEqual({ waitUs: 20, overlappedUs: 13 });
    expect(callOverlap([{ startUs: 3, endUs: 3 }], [])).toEqual({ waitUs: 0, overlappedUs: 0 });
  });

  it('the greedy agent meets the oracle bound with zero think time and constant latencies, and never idles while a step is ready', async () => {
    await fc.assert(
      fc.asyncProperty(dagShapeArb().map(constantLatencies), fc.nat(1000), async (shape, seed) => {
        const scenario = dagScenario(shape);
        const ep = await runEpisode(scenario, greedy(scenario), { seed });
        const o = await computeOracle(scenario, { seed });
        const s = scoreEpisode(scenario, ep.events, { boundUs: o.boundUs });
        expect(s.success).toBe(true);
        expect([s.steps.precision, s.steps.recall, s.steps.dependencyViolations]).toEqual([
          1, 1, 0,
        ]);
        expect(s.efficiency.boundRatio).toBe(1);
        expect(s.efficiency.idleWhileReadyUs).toBe(0);
      }),
      { numRuns: 100 },
    );
  });
});

describe('aggregate', () => {
  const base = scoreEpisode(example, workedExampleEvents(), {
    boundUs: 33_000,
    sequentialMakespanUs: 44_000,
  });
  function variant(success: boolean, boundRatio: number | null, violations: number): EpisodeScore {
    return {
      ...base,
      success,
      tasksSucceeded: success ? 2 : 1,
      tasksTotal: 2,
      subtaskSuccessRate: success ? 1 : 0.5,
      steps: { ...base.steps, dependencyViolations: violations },
      efficiency: {
        ...base.efficiency,
        boundRatio,
        successBoundRatio: boundRatio === null ? null : success ? boundRatio : 0,
      },
    };
  }
  // Instance X: seeds 1-3 succeed, succeed, fail. Instance Y: all three succeed.
  const set: ScoredEpisode[] = [
    { instance: 'Y', seed: 3, score: variant(true, 0.5, 0) },
    { instance: 'X', seed: 1, score: variant(true, 0.8, 0) },
    { instance: 'X', seed: 2, score: variant(true, null, 2) },
    { instance: 'X', seed: 3, score: variant(false, 0.6, 1) },
    { instance: 'Y', seed: 1, score: variant(true, 0.9, 0) },
    { instance: 'Y', seed: 2, score: variant(true, 0.7, 0) },
  ];

  it('sub-task success: every episode scoring 1 no longer collapses the interval to [100.0, 100.0]', () => {
    const all = aggregate(
      [1, 2, 3, 4, 5].map((seed) => ({ instance: 'X', seed, score: variant(true, 0.5, 0) })),
    );
    const sub = all.metrics.subtaskSuccess;
    expect(sub.mean).toBe(1);
    expect(sub.sd).toBe(0);
    expect(sub.high).toBe(1);
    expect(sub.low).toBeCloseTo(wilson(10, 10).low, 12);
    expect(sub.low!).toBeLessThan(0.75);
  });

  it('means, t intervals, pass^k and pass-hat on a handmade set', () => {
    const a = aggregate(set);
    expect([a.episodes, a.instances, a.seedsPerInstance]).toEqual([6, 2, { min: 3, max: 3 }]);
    // Task success 1,1,0,1,1,1: 5 of 6, a Wilson interval (never beyond [0, 1]).
    const ts = a.metrics.taskSuccess;
    expect([ts.n, ts.interval]).toEqual([6, 'wilson']);
    expect(ts.mean).toBeCloseTo(5 / 6, 12);
    expect(ts.sd).toBeCloseTo(Math.sqrt(1 / 6), 12);
    expect(ts.low).toBeCloseTo(0.4365, 4);
    expect(ts.high).toBeCloseTo(0.9699, 4);
    // Bound ratio over the successes leaves out the null and the failure: 0.8, 0.9, 0.7, 0.5 -> mean
    // 0.725, sd sqrt(0.0625/3), t(0.975,3).
    const br = a.metrics.boundRatioOfSuccesses;
    expect(br.n).toBe(4);
    expect(br.mean).toBeCloseTo(0.725, 12);
    expect(br.sd).toBeCloseTo(Math.sqrt(0.0875 / 3), 12);
    const half = (3.182446305 * Math.sqrt(0.0875 / 3)) / Math.sqrt(4);
    expect(br.interval).toBe('t');
    expect(br.low).toBeCloseTo(0.725 - half, 12);
    expect(br.high).toBeCloseTo(0.725 + half, 12);
    // Success-weighted: the failure counts 0, the null (no bound) stays out: 0.8, 0, 0.9, 0.7, 0.5.
    expect(a.metrics.successWeightedBoundRatio.n).toBe(5);
    expect(a.metrics.successWeightedBoundRatio.mean).toBeCloseTo(2.9 / 5, 12);
    expect(a.metrics.dependencyViolations.mean).toBeCloseTo(0.5, 12);
    expect(a.metrics.subtaskSuccess.mean).toBeCloseTo(11 / 12, 12);
    // Its interval: the hull of the t interval over the 6 rates and Wilson's over 11 of 12 sub-tasks.
    const sub = a.metrics.subtaskSuccess;
    const tHalf = (2.570581836 * Math.sqrt(1 / 24)) / Math.sqrt(6);
    expect(sub.interval).toBe('t+wilson');
    expect(sub.low).toBeCloseTo(Math.min(11 / 12 - tHalf, wilson(11, 12).low), 12);
    expect(sub.high).toBe(1);
    // pass^3: X fails on seed 3, Y passes.
    expect(a.passK).toMatchObject({ k: 3, value: 0.5 });
    expect(a.passK.low).toBeCloseTo(0.0945, 4);
    expect(a.passK.high).toBeCloseTo(0.9055, 4);
    // pass-hat: k=1 (2/3 + 1)/2; k=2 (C(2,2)/C(3,2) + 1)/2; k=3 (0 + 1)/2.
    expect(a.passHat.map((p) => p.k)).toEqual([1, 2, 3]);
    expect(a.passHat[0]!.value).toBeCloseTo(5 / 6, 12);
    expect(a.passHat[1]!.value).toBeCloseTo(2 / 3, 12);
    expect(a.passHat[2]!.value).toBe(0.5);
    expect(a.perInstance).toEqual([
      { instance: 'X', seeds: 3, successes: 2, passAll: false },
      { instance: 'Y', seeds: 3, successes: 3, passAll: true },
    ]);
  });

  it('is independent of input order, rejects a repeated (instance, seed), and handles small sets', () => {
    expect(JSON.stringify(aggregate([...set].reverse()))).toBe(JSON.stringify(aggregate(set)));
    expect(() => aggregate([...set, set[0]!])).toThrow(/twice/);
    // Scores of other scoring rules are not mixed in: they must be re-scored.
    expect(() =>
      aggregate([...set.slice(1), { ...set[0]!, score: { ...set[0]!.score, scoringVersion: 1 } }]),
    ).toThrow(/scoring version/);
    expect(stat([])).toEqual({ n: 0, mean: null, sd: null, interval: null, low: null, high: null });
    expect(stat([null, 2])).toEqual({
      n: 1,
      mean: 2,
      sd: null,
      interval: null,
      low: null,
      high: null,
    });
    const uneven = aggregate([...set, { instance: 'Z', seed: 1, score: variant(true, 1, 0) }]);
    expect(uneven.passK).toMatchObject({ k: null, value: 2 / 3 });
    expect(uneven.passHat.map((p) => p.k)).toEqual([1]);
    expect(aggregate([]).passK).toEqual({ k: null, value: null, low: null, high: null });
  });

  it('issue 22: a success rate is never "100.0% ±0.0" nor "90.9% ±13.0": Wilson intervals stay in [0, 1]', () => {
    const all = proportion(Array<boolean>(11).fill(true));
    expect([all.mean, all.high]).toEqual([1, 1]);
    expect(all.low).toBeCloseTo(0.7412, 4); // not a zero-width interval at 100%
    const most = proportion([...Array<boolean>(10).fill(true), false]);
    expect(most.low).toBeCloseTo(0.6226, 4);
    expect(most.high).toBeCloseTo(0.9838, 4); // the t interval reached 1.039
    expect(proportion([false, false]).low).toBe(0);
    fc.assert(
      fc.property(fc.nat(200), fc.nat(200), (a, b) => {
        const n = a + b + 1;
        const { low, high } = wilson(Math.min(a, n), n);
        expect(low).toBeGreaterThanOrEqual(0);
        expect(high).toBeLessThanOrEqual(1);
        expect(low).toBeLessThanOrEqual(Math.min(a, n) / n);
        expect(high).toBeGreaterThanOrEqual(Math.min(a, n) / n);
      }),
    );
  });

  it('issue 22: a t interval of a bounded mean is clamped to its range', () => {
    const s = stat([1, 1, 0.5], UNIT);
    expect(s.high).toBe(1);
    expect(s.low).toBeGreaterThan(0);
    const v = stat([0, 0, 3], NON_NEGATIVE);
    expect(v.low).toBe(0);
    // Every interval of the summary lies inside its metric's range, on random sets.
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ ok: fc.boolean(), rate: fc.double({ min: 0, max: 1, noNaN: true }) }),
          { minLength: 2, maxLength: 20 },
        ),
        (xs) => {
          const a = aggregate(
            xs.map((x, i) => ({
              instance: `i${i % 3}`,
              seed: i,
              score: { ...variant(x.ok, x.rate, 0), subtaskSuccessRate: x.rate },
            })),
          );
          for (const m of [
            a.metrics.taskSuccess,
            a.metrics.subtaskSuccess,
            a.metrics.successWeightedBoundRatio,
            a.metrics.boundRatioOfSuccesses,
          ]) {
            if (m.low !== null) expect(m.low).toBeGreaterThanOrEqual(0);
            if (m.high !== null) expect(m.high).toBeLessThanOrEqual(1);
          }
        },
      ),
    );
  });

  it('the t quantile: exact table to 30 degrees of freedom, then the expansion, tending to 1.96', () => {
    expect(tQuantile975(1)).toBeCloseTo(12.7062, 4);
    expect(tQuantile975(10)).toBeCloseTo(2.2281, 4);
    expect(tQuantile975(31)).toBeCloseTo(2.0395, 4);
    expect(tQuantile975(60)).toBeCloseTo(2.0003, 4);
    expect(tQuantile975(120)).toBeCloseTo(1.9799, 4);
    expect(tQuantile975(100_000)).toBeCloseTo(1.96, 4);
    for (let df = 1; df < 200; df++) expect(tQuantile975(df + 1)).toBeLessThan(tQuantile975(df));
  });
});

describe('determinism and canonical output', () => {
  it('scoring twice gives identical JSON, with a fixed key order and no undefined', async () => {
    const ep = await runEpisode(example, workedExampleAgent(), { seed: 1 });
    const a = scoreEpisode(example, ep.events, { boundUs: 33_000 });
    const b = scoreEpisode(example, [...ep.events], { boundUs: 33_000 });
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(JSON.parse(JSON.stringify(a))).toStrictEqual(a);
    expect(Object.keys(a)).toEqual([
      'scoringVersion',
      'scenario',
      'success',
      'tasksSucceeded',
      'tasksTotal',
      'subtaskSuccessRate',
      'steps',
      'tasks',
      'efficiency',
      'interleaving',
      'counts',
      'calls',
    ]);
    expect(Object.keys(a.efficiency)).toEqual([
      'makespanUs',
      'boundUs',
      'boundRatio',
      'sequentialMakespanUs',
      'speedupVsSequential',
      'successBoundRatio',
      'successSpeedup',
      'idleUs',
      'idleWhileReadyUs',
      'idleWhileResultsWaitingUs',
      'callWaitUs',
      'callQueuedUs',
      'callServiceUs',
      'meanCallsInService',
      'overlapShare',
    ]);
    expect(a.efficiency.sequentialMakespanUs).toBeNull();
    expect(JSON.stringify(aggregate([{ instance: 'i', seed: 1, score: a }]))).toBe(
      JSON.stringify(aggregate([{ instance: 'i', seed: 1, score: b }])),
    );
  });

  it('refuses a stream without its end', () => {
    expect(() => scoreEpisode(example, workedExampleEvents().slice(0, -1))).toThrow(
      /episode_ended/,
    );
  });
});
