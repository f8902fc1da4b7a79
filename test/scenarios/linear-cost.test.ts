/**
 * Issue 21, "cost linear in events": step matching, scoring's readiness, the world's pending list
 * and the plan's indexes are kept incrementally now. Each test here keeps the simple algorithm it
 * replaced as a reference and checks, on random scenarios and episodes, that the fast one gives
 * the same answers (behaviour, not timing: bench/scale-workload.ts measures the cost).
 *
 * Identical steps (the same tool and args in several tasks) are what makes matching non-trivial,
 * so the random scenarios here share args across tasks (`shareArgs`).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createAgent } from '../../agents/index.js';
import { canonicalJson } from '../../scenarios/spec/canonical.js';
import type { EpisodeEvent } from '../../scenarios/world/events.js';
import { Plan, StepMatcher, type PlanStep } from '../../scenarios/world/plan.js';
import { OpenTaskList } from '../../scenarios/world/open-tasks.js';
import type { Agent, Observation, OpenTask, PendingCall } from '../../scenarios/protocol.js';
import type { Scenario } from '../../scenarios/spec/schema.js';
import { scoreEpisode } from '../../scenarios/scoring/index.js';
import { caseToScenario, stressCaseArb } from '../../scenarios/stress/arbitrary.js';
import { PlanTracker } from '../../scenarios/world/tracker.js';
import { runEpisode } from '../../scenarios/world/world.js';

/** The scenario with step j of every task calling its tool with args `{ step: j }` (follow-ups: `{ step: 0 }`), so steps of different tasks match one call. */
function shareArgs(scenario: Scenario): Scenario {
  return {
    ...scenario,
    tasks: scenario.tasks.map((t) => ({
      ...t,
      steps: t.steps.map((s, j) => ({ ...s, args: { step: j } })),
    })),
    messages: scenario.messages.map((m) => ({
      ...m,
      steps: m.steps.map((s) => ({ ...s, args: { step: 0 } })),
    })),
  };
}

const scenarioArb = fc
  .tuple(stressCaseArb({ maxTasks: 8, maxSteps: 5, maxTools: 2 }), fc.boolean())
  .map(([c, share]) => (share ? shareArgs(caseToScenario(c)) : caseToScenario(c)));
const AGENTS = [
  'greedy-async',
  'sequential',
  'parallel-sync',
  'round-robin',
  'critical-path',
  'impatient',
  'forgetful',
  'confused',
  'hasty',
  'greedy-async:maxInFlight=2,retry=1',
];
const modeArb = fc.constantFrom(
  ['async', 'push'],
  ['async', 'poll'],
  ['sync', 'push'],
) as fc.Arbitrary<['async' | 'sync', 'push' | 'poll']>;

// ---------------------------------------------------------------------------------------------
// The matching rule, as the world (`matchStep`) and scoring applied it before StepMatcher: a rescan.

/** The previous rule, given which steps are done and how many calls each has in flight. */
function referenceMatch(
  plan: Plan,
  tool: string,
  args: unknown,
  done: ReadonlySet<string>,
  inFlight: ReadonlyMap<string, number>,
  task: string | null = null,
): PlanStep | null {
  const all = plan.stepsMatching(tool, args);
  // A call naming its task (environments.ts, TASK_PARAM) is matched among that task's steps.
  const matches = task === null ? all : all.filter((s) => s.task === task);
  if (matches.length <= 1) return matches[0] ?? null;
  return (
    matches.find((s) => !done.has(s.key) && (inFlight.get(s.key) ?? 0) === 0) ??
    matches.find((s) => !done.has(s.key)) ??
    matches[0]!
  );
}

describe('StepMatcher (regression: the world rebuilt a set of every call in flight per match)', () => {
  it('picks the step the rescan picked, for any sequence of matches (some naming their task), failures and successes', () => {
    // Groups of identical steps: task t has steps s0..s{k-1} on tool `x` with args {n: j}.
    const groupScenario = (tasks: number, steps: number): Scenario =>
      shareArgs(
        caseToScenario({
          tools: [
            {
              latency: { kind: 'constant', ms: 1 },
              concurrency: null,
              failureRate: 0,
              timeoutSlackMs: null,
            },
          ],
          tasks: Array.from({ length: tasks }, () => ({
            arrivalMs: 0,
            shape: 'wide',
            steps: Array.from({ length: steps }, () => ({ tool: 0, deps: [] })),
          })),
          messages: [],
          thinkTime: { kind: 'constant', ms: 0 },
        }),
      );
    const op = fc.record({
      complete: fc.boolean(),
      which: fc.nat(1000),
      ok: fc.boolean(),
      named: fc.option(fc.nat(10), { nil: null }),
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(op, { maxLength: 200 }),
        (tasks, steps, ops) => {
          const plan = new Plan(groupScenario(tasks, steps));
          const matcher = new StepMatcher(plan);
          const done = new Set<string>();
          const inFlight = new Map<string, number>();
          const calls: PlanStep[] = [];
          for (const o of ops) {
            if (o.complete && calls.length > 0) {
              const [step] = calls.splice(o.which % calls.length, 1);
              matcher.completed(step!, o.ok);
              inFlight.set(step!.key, inFlight.get(step!.key)! - 1);
              if (o.ok) done.add(step!.key);
            } else {
              const args = { step: o.which % (steps + 1) }; // one value matches no step
              // Some calls name a task (as a model's stateful call may): any task of the plan.
              const task = o.named === null ? null : plan.tasks[o.named % tasks]!.id;
              const expected = referenceMatch(plan, 'tool0', args, done, inFlight, task);
              const got = matcher.match('tool0', canonicalJson(args), task);
              expect(got?.key ?? null).toBe(expected?.key ?? null);
              if (got !== null) {
                calls.push(got);
                inFlight.set(got.key, (inFlight.get(got.key) ?? 0) + 1);
              }
            }
            for (const s of plan.steps) expect(matcher.isDone(s)).toBe(done.has(s.key));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The world: matching and the pending list, checked against the events as they happen.

/**
 * Wraps `agent` with `check` run on each observation first. The world ends an episode whose agent
 * throws as `errored` (it does not rethrow), so the first failed check is kept for `rethrow`.
 */
function checking(
  agent: Agent,
  check: (observation: Observation) => void,
): Agent & { rethrow(): void } {
  let failure: unknown = null;
  return {
    spec: agent.spec,
    ...(agent.start === undefined
      ? {}
      : { start: (context: Parameters<NonNullable<Agent['start']>>[0]) => agent.start!(context) }),
    decide(observation: Observation) {
      try {
        check(observation);
      } catch (error) {
        failure ??= error;
        throw error;
      }
      return agent.decide(observation);
    },
    rethrow() {
      if (failure !== null) throw failure;
    },
  };
}

describe('the world (regression: per-event cost grew with the calls in flight)', () => {
  let ambiguousCalls = 0;
  it('matches each call to the step the rescan picked, and lists as pending exactly the calls not delivered', async () => {
    await fc.assert(
      fc.asyncProperty(
        scenarioArb,
        fc.constantFrom(...AGENTS),
        modeArb,
        fc.nat(1000),
        async (scenario, name, [mode, delivery], seed) => {
          const plan = new Plan(scenario);
          const done = new Set<string>();
          const inFlight = new Map<string, number>();
          const stepOf = new Map<number, PlanStep | null>();
          const pending = new Map<number, PendingCall>();
          const onEvent = (e: EpisodeEvent): void => {
            if (e.type === 'call_issued') {
              const expected =
                e.invalid === null ? referenceMatch(plan, e.tool, e.args, done, inFlight) : null;
              expect([e.task, e.step]).toEqual([expected?.task ?? null, expected?.id ?? null]);
              stepOf.set(e.callId, expected);
              if (expected !== null)
                inFlight.set(expected.key, (inFlight.get(expected.key) ?? 0) + 1);
              if (plan.stepsMatching(e.tool, e.args).length > 1) ambiguousCalls++;
              pending.set(e.callId, {
                callId: e.callId,
                ref: e.ref,
                tool: e.tool,
                args: e.args,
                issuedUs: e.timeUs,
              });
            } else if (e.type === 'call_completed') {
              const step = stepOf.get(e.callId)!;
              if (step !== null) {
                inFlight.set(step.key, inFlight.get(step.key)! - 1);
                if (e.ok) done.add(step.key);
              }
            } else if (e.type === 'result_delivered') {
              pending.delete(e.callId);
            }
          };
          // Each observation lists as pending every call issued and not delivered, in id order.
          const agent = checking(createAgent(name), (o) =>
            expect(o.pending.map((p) => p.callId)).toEqual(
              [...pending.keys()].sort((a, b) => a - b),
            ),
          );
          await runEpisode(scenario, agent, { seed, mode, delivery, onEvent });
          agent.rethrow();
        },
      ),
      { numRuns: 150 },
    );
    // The runs must have exercised the case that matters: calls that several steps match.
    expect(ambiguousCalls).toBeGreaterThan(100);
  });
});

// ---------------------------------------------------------------------------------------------
// Scoring: the parts that scanned (readiness per decision, grounding and violations per task).

interface ReferenceScore {
  readonly calls: Array<{ callId: number; step: string | null; violation: boolean }>;
  readonly idleWhileReadyUs: number;
  readonly matched: number;
  readonly tasks: Array<{
    task: string;
    stepsMatched: number;
    stepsGrounded: number;
    violations: number;
  }>;
}

/** The previous scoring of what changed, kept as it was: a scan of every step per decision, of every call per step and task. */
function referenceScore(scenario: Scenario, events: readonly EpisodeEvent[]): ReferenceScore {
  const plan = new Plan(scenario);
  const requestOf = (s: PlanStep) =>
    s.message === null ? `task:${s.task}` : `message:${s.message}`;
  const arrived = new Set<string>();
  const done = new Set<string>();
  const inService = new Map<string, number>();
  const known = new Set<string>();
  let undelivered: string[] = [];
  const deliveredOk = new Set<string>();
  const unresolved = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, by: number) => m.set(k, (m.get(k) ?? 0) + by);
  type Call = {
    callId: number;
    step: PlanStep | null;
    violation: boolean;
    ok: boolean | null;
    deliveredAt: number | null;
  };
  const calls = new Map<number, Call>();
  const order: Call[] = [];
  const answerAt = new Map<string, number>();
  let idleSinceUs: number | null = 0;
  let idleWhileReadyUs = 0;
  // Tasks with a delivered request not answered since: only their steps count as ready.
  const awaiting = new Set<string>();
  const taskOf = (request: string) =>
    request.startsWith('task:')
      ? request.slice('task:'.length)
      : plan.messages[Number(request.slice('message:'.length))]!.task;
  const anyReady = () =>
    plan.steps.some(
      (s) =>
        awaiting.has(s.task) &&
        known.has(requestOf(s)) &&
        !done.has(s.key) &&
        (unresolved.get(s.key) ?? 0) === 0 &&
        s.after.every((d) => deliveredOk.has(`${s.task}/${d}`)),
    );
  const closeIdle = (nowUs: number) => {
    if (idleSinceUs !== null && anyReady()) idleWhileReadyUs += nowUs - idleSinceUs;
    idleSinceUs = null;
  };
  for (const [index, e] of events.entries()) {
    if (e.type === 'task_arrived' || e.type === 'message_arrived') {
      const request = e.type === 'task_arrived' ? `task:${e.task}` : `message:${e.index}`;
      arrived.add(request);
      undelivered.push(request);
    } else if (e.type === 'decision_started') {
      closeIdle(e.timeUs);
      for (const r of undelivered) {
        known.add(r);
        awaiting.add(taskOf(r));
      }
      undelivered = [];
    } else if (e.type === 'decision_ended') {
      idleSinceUs = e.timeUs;
    } else if (e.type === 'call_issued') {
      const step =
        e.invalid !== null ? null : referenceMatch(plan, e.tool, e.args, done, inService);
      const violation =
        step !== null &&
        (!known.has(requestOf(step)) ||
          step.after.some((d) => !deliveredOk.has(`${step.task}/${d}`)));
      const call: Call = { callId: e.callId, step, violation, ok: null, deliveredAt: null };
      calls.set(e.callId, call);
      order.push(call);
      if (step !== null) {
        add(inService, step.key, 1);
        add(unresolved, step.key, 1);
      }
    } else if (e.type === 'call_completed') {
      const call = calls.get(e.callId)!;
      call.ok = e.ok;
      if (call.step !== null) {
        add(inService, call.step.key, -1);
        if (e.ok) done.add(call.step.key);
      }
    } else if (e.type === 'result_delivered') {
      const call = calls.get(e.callId)!;
      call.deliveredAt = index;
      if (call.step !== null) {
        add(unresolved, call.step.key, -1);
        if (call.ok === true) deliveredOk.add(call.step.key);
      }
    } else if (e.type === 'answer_given') {
      answerAt.set(e.task, index);
      awaiting.delete(e.task);
    } else if (e.type === 'episode_ended') {
      closeIdle(e.timeUs);
      break;
    }
  }
  const expected = plan.steps.filter((s) => arrived.has(requestOf(s)));
  return {
    calls: order.map((c) => ({
      callId: c.callId,
      step: c.step?.key ?? null,
      violation: c.violation,
    })),
    idleWhileReadyUs,
    matched: expected.filter((s) => done.has(s.key)).length,
    tasks: plan.tasks.map((t) => {
      const mine = t.steps.filter((s) => arrived.has(requestOf(s)));
      const at = answerAt.get(t.id);
      return {
        task: t.id,
        stepsMatched: mine.filter((s) => done.has(s.key)).length,
        stepsGrounded: mine.filter((s) =>
          order.some(
            (c) =>
              c.step === s &&
              c.ok === true &&
              !c.violation &&
              c.deliveredAt !== null &&
              at !== undefined &&
              c.deliveredAt < at,
          ),
        ).length,
        violations: order.filter((c) => c.step !== null && c.step.task === t.id && c.violation)
          .length,
      };
    }),
  };
}

describe('scoring (regression: 1,600 tasks x 5 steps took 12 s to score)', () => {
  it('matches calls, judges violations, idle-while-ready time, matched and grounded steps as the scanning scorer did', async () => {
    await fc.assert(
      fc.asyncProperty(
        scenarioArb,
        fc.constantFrom(...AGENTS),
        modeArb,
        fc.nat(1000),
        async (scenario, name, [mode, delivery], seed) => {
          const episode = await runEpisode(scenario, createAgent(name), { seed, mode, delivery });
          const score = scoreEpisode(scenario, episode.events);
          const ref = referenceScore(scenario, episode.events);
          expect(
            score.calls.map((c) => ({ callId: c.callId, step: c.step, violation: c.violation })),
          ).toEqual(ref.calls);
          expect(score.efficiency.idleWhileReadyUs).toBe(ref.idleWhileReadyUs);
          expect(score.steps.matched).toBe(ref.matched);
          expect(
            score.tasks.map((t) => ({
              task: t.task,
              stepsMatched: t.stepsMatched,
              stepsGrounded: t.stepsGrounded,
              violations: t.violations,
            })),
          ).toEqual(ref.tasks);
        },
      ),
      { numRuns: 200 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// The plan's indexes and the tracker's releases.

describe('the plan and the tracker (regression: per-task filters of every message and step)', () => {
  it('indexes follow-ups, matching steps and the steps each request releases as the filters did', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const plan = new Plan(scenario);
        for (const t of plan.tasks) {
          expect(t.messages.map((m) => m.index)).toEqual(
            plan.messages.filter((m) => m.task === t.id).map((m) => m.index),
          );
          expect(plan.ownSteps(t).map((s) => s.key)).toEqual(
            t.steps.filter((s) => s.message === null).map((s) => s.key),
          );
        }
        for (const m of plan.messages)
          expect(plan.messageSteps(m.index).map((s) => s.key)).toEqual(
            plan.steps.filter((s) => s.message === m.index).map((s) => s.key),
          );
        for (const s of plan.steps) {
          expect(plan.stepsMatchingKey(s.tool, s.argsKey).map((x) => x.key)).toEqual(
            plan.steps
              .filter((x) => x.tool === s.tool && x.argsKey === s.argsKey)
              .map((x) => x.key),
          );
          // The step's task by number, and its own args' key by one lookup, as the lookups by id
          // and the serialization gave them.
          expect(plan.taskIndexOfStep(s)).toBe(plan.task(s.task)!.index);
          expect(plan.stepArgsKey(s.args)).toBe(canonicalJson(s.args));
          expect(plan.stepArgsKey({ ...s.args })).toBeUndefined();
        }
      }),
      { numRuns: 300 },
    );
  });

  it('releases a step exactly when its request has been delivered to the agent', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, fc.nat(1000), async (scenario, seed) => {
        const plan = new Plan(scenario);
        const tracker = new PlanTracker(plan);
        const delivered = new Set<string>();
        const messagesSeen = new Map<string, number>();
        const agent = checking(createAgent('greedy-async'), (o) => {
          for (const d of o.delivered) {
            if (d.type === 'task') delivered.add(`task:${d.task}`);
            if (d.type === 'message') {
              // The k-th follow-up about a task delivered is its k-th message in plan order.
              const k = messagesSeen.get(d.task) ?? 0;
              messagesSeen.set(d.task, k + 1);
              delivered.add(`message:${d.task}:${plan.task(d.task)!.messages[k]!.index}`);
            }
          }
          tracker.observe(o);
          for (const s of plan.steps) {
            const request =
              s.message === null ? `task:${s.task}` : `message:${s.task}:${s.message}`;
            expect(tracker.get(s).released, s.key).toBe(delivered.has(request));
          }
        });
        await runEpisode(scenario, agent, { seed });
        agent.rethrow();
      }),
      { numRuns: 150 },
    );
  });
});

describe('follow-ups past the room for call arguments (regression: a spread over a task’s follow-ups)', () => {
  it('builds the plan and scores an episode of a task with 200,000 follow-ups', () => {
    const n = 200_000;
    const step = { id: 's', tool: 'x', args: {}, after: [], inputs: [] };
    const scenario = {
      format: 'tooltime.scenario/1',
      id: 'many-follow-ups',
      description: '',
      tags: {},
      tools: [
        {
          name: 'x',
          description: 'echo',
          parameters: { type: 'object' },
          latency: { kind: 'constant', ms: 1 },
          impl: { kind: 'builtin', name: 'echo' },
        },
      ],
      tasks: [
        { id: 't', arrivalMs: 0, message: 'm', steps: [step], answer: { mustContain: ['a'] } },
      ],
      messages: Array.from({ length: n }, (_, i) => ({
        atMs: i + 1,
        task: 't',
        text: 'more',
        steps: [],
      })),
      thinkTime: { kind: 'constant', ms: 0 },
      limits: { maxTimeMs: 1e9, maxDecisions: 10, maxCalls: 10 },
    } as Scenario;
    expect(new Plan(scenario).tasks[0]!.lastRequestUs).toBe(n * 1000);
    const events: EpisodeEvent[] = [
      {
        type: 'episode_started',
        timeUs: 0,
        scenario: scenario.id,
        seed: 1,
        mode: 'async',
        delivery: 'push',
        agent: 'none',
      },
      { type: 'task_arrived', timeUs: 0, task: 't' },
      ...Array.from(
        { length: n },
        (_, i): EpisodeEvent => ({
          type: 'message_arrived',
          timeUs: (i + 1) * 1000,
          task: 't',
          index: i,
        }),
      ),
      { type: 'episode_ended', timeUs: (n + 1) * 1000, reason: 'stalled', detail: null },
    ];
    const score = scoreEpisode(scenario, events);
    expect(score.tasks[0]!).toMatchObject({ allRequestsArrived: true, answered: false });
  });
});

// ---------------------------------------------------------------------------------------------
// The world's open-task list, kept as tasks open and close, against a rebuild from the set.

describe('OpenTaskList', () => {
  it('lists what a rebuild of the open set lists, in plan order, building only what changed', () => {
    const opArb = fc.oneof(
      fc.record({ op: fc.constant('open' as const), i: fc.nat(12) }),
      fc.record({ op: fc.constant('close' as const), i: fc.nat(12) }),
      fc.record({ op: fc.constant('list' as const), i: fc.constant(0) }),
    );
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80 }), (ops) => {
        const list = new OpenTaskList();
        const open = new Set<number>();
        // The item of each task, remade when the task is (re)opened: what `open` asks to rebuild.
        const version = new Map<number, number>();
        let built = 0;
        const build = (i: number): OpenTask => {
          built++;
          return { id: `t${i}`, messages: [`v${version.get(i)}`] };
        };
        let last: readonly OpenTask[] | null = null;
        for (const { op, i } of ops) {
          if (op === 'open') {
            open.add(i);
            version.set(i, (version.get(i) ?? 0) + 1);
            list.open(i);
          } else if (op === 'close') {
            open.delete(i);
            list.close(i);
          } else {
            const before = built;
            const got = list.list(build);
            const want = [...open]
              .sort((a, b) => a - b)
              .map((t) => ({ id: `t${t}`, messages: [`v${version.get(t)}`] }));
            expect(got).toEqual(want);
            expect(Object.isFrozen(got)).toBe(true);
            // Unchanged since the last list: the same array, nothing built.
            if (last !== null && list.list(build) === last) expect(built).toBe(before);
            last = got;
          }
          expect(list.size).toBe(open.size);
        }
      }),
      { numRuns: 500 },
    );
  });
});
