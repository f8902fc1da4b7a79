import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventsOfType } from '../../../scenarios/world/events.js';
import { computeOracle, realizeSteps } from '../../../scenarios/scoring/oracle.js';
import { Plan } from '../../../scenarios/world/plan.js';
import type { Decision, Observation } from '../../../scenarios/protocol.js';
import { PlanTracker } from '../../../scenarios/world/tracker.js';
import { runEpisode } from '../../../scenarios/world/world.js';
import { CallKeys, callKey } from '../../../scenarios/spec/tools.js';
import type { Scenario } from '../../../scenarios/spec/schema.js';
import {
  build,
  constantLatencies,
  dagScenario,
  dagShapeArb,
  echoTool,
  scripted,
} from '../../support/scenarios.js';

/** Issues every ready step (in the order `order` gives) and answers finished tasks. */
function greedy(
  scenario: Scenario,
  order: (ready: ReturnType<PlanTracker['readySteps']>) => typeof ready = (r) => r,
) {
  const tracker = new PlanTracker(new Plan(scenario));
  return scripted((o: Observation): Decision => {
    tracker.observe(o);
    return { actions: [...tracker.issueAll(order(tracker.readySteps())), ...tracker.answerAll()] };
  }, 'test-greedy');
}

const one = build({
  id: 'one',
  tools: [echoTool('slow', { kind: 'constant', ms: 40 })],
  tasks: [
    {
      id: 't',
      arrivalMs: 10,
      message: 'go',
      steps: [{ id: 's1', tool: 'slow', args: { x: 1 } }],
      answer: { mustContain: ['ok'] },
    },
  ],
});

describe('the world', () => {
  it('a call issued at t with latency L and a free slot completes at t + L', async () => {
    const ep = await runEpisode(
      one,
      scripted((o) =>
        o.decision === 1
          ? { actions: [{ type: 'call', tool: 'slow', args: { x: 1 } }], thinkUs: 5000 }
          : o.delivered.some((d) => d.type === 'result')
            ? { actions: [{ type: 'answer', task: 't', content: 'ok' }], thinkUs: 0 }
            : { actions: [], thinkUs: 0 },
      ),
      { seed: 1 },
    );
    const issued = eventsOfType(ep.events, 'call_issued')[0]!;
    const done = eventsOfType(ep.events, 'call_completed')[0]!;
    expect(issued.timeUs).toBe(15_000);
    expect(done.timeUs).toBe(15_000 + 40_000);
    expect(issued.task).toBe('t');
    expect(issued.step).toBe('s1');
    expect(ep.endReason).toBe('completed');
  });

  it('the same seed gives the same event stream; another seed a different one', async () => {
    await fc.assert(
      fc.asyncProperty(dagShapeArb({ limits: true }), fc.nat(1000), async (shape, seed) => {
        const scenario = dagScenario(shape, { kind: 'uniform', minMs: 0, maxMs: 50 });
        const a = await runEpisode(scenario, greedy(scenario), { seed });
        const b = await runEpisode(scenario, greedy(scenario), { seed });
        expect(JSON.stringify(b.events)).toBe(JSON.stringify(a.events));
      }),
      { numRuns: 100 },
    );
    const scenario = dagScenario({
      tasks: [{ arrivalMs: 0, deps: [[], [0], [1]] }],
      tools: 1,
      toolOf: [0],
      concurrency: [null],
      latencyMs: [{ minMs: 1, maxMs: 5000 }],
    });
    const a = await runEpisode(scenario, greedy(scenario), { seed: 1 });
    const b = await runEpisode(scenario, greedy(scenario), { seed: 2 });
    expect(JSON.stringify(a.events)).not.toBe(JSON.stringify(b.events));
  });

  it('a tool never has more calls in service than its concurrency limit, and serves them FIFO', async () => {
    await fc.assert(
      fc.asyncProperty(dagShapeArb({ limits: true }), fc.nat(1000), async (shape, seed) => {
        const scenario = dagScenario(shape);
        const ep = await runEpisode(scenario, greedy(scenario), { seed });
        const toolOf = new Map<number, string>();
        const inService = new Map<string, number>();
        const queued = new Map<string, number[]>();
        for (const e of ep.events) {
          if (e.type === 'call_issued') {
            toolOf.set(e.callId, e.tool);
            queued.set(e.tool, [...(queued.get(e.tool) ?? []), e.callId]);
          } else if (e.type === 'call_started') {
            const tool = toolOf.get(e.callId)!;
            expect(queued.get(tool)![0]).toBe(e.callId);
            queued.get(tool)!.shift();
            inService.set(tool, (inService.get(tool) ?? 0) + 1);
            const limit = scenario.tools.find((t) => t.name === tool)!.concurrency ?? Infinity;
            expect(inService.get(tool)!).toBeLessThanOrEqual(limit);
          } else if (e.type === 'call_completed') {
            const tool = toolOf.get(e.callId)!;
            inService.set(tool, inService.get(tool)! - 1);
          }
        }
        expect(ep.endReason).toBe('completed');
      }),
      { numRuns: 200 },
    );
  });

  it('permuting the order of issue leaves every step latency unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(dagShapeArb(), fc.nat(1000), fc.nat(), async (shape, seed, shuffleSeed) => {
        const scenario = dagScenario(shape);
        const latencies = async (order: (r: ReturnType<PlanTracker['readySteps']>) => typeof r) => {
          const ep = await runEpisode(scenario, greedy(scenario, order), { seed });
          const started = new Map(
            eventsOfType(ep.events, 'call_started').map((e) => [e.callId, e.timeUs]),
          );
          const out = new Map<string, number>();
          for (const c of eventsOfType(ep.events, 'call_completed')) {
            const issued = eventsOfType(ep.events, 'call_issued').find(
              (i) => i.callId === c.callId,
            )!;
            out.set(`${issued.task}/${issued.step}`, c.timeUs - started.get(c.callId)!);
          }
          return out;
        };
        const forward = await latencies((r) => r);
        const reversed = await latencies((r) => [...r].reverse());
        const rotated = await latencies((r) =>
          r.length === 0
            ? r
            : [...r.slice(shuffleSeed % r.length), ...r.slice(0, shuffleSeed % r.length)],
        );
        expect([...reversed.entries()].sort()).toEqual([...forward.entries()].sort());
        expect([...rotated.entries()].sort()).toEqual([...forward.entries()].sort());
        // And they are the oracle's realized latencies.
        for (const r of realizeSteps(scenario, seed))
          expect(forward.get(`${r.task}/${r.step}`)).toBe(r.attempts[0]!.serviceUs);
      }),
      { numRuns: 150 },
    );
  });

  const fanOut = build({
    id: 'fan',
    tools: [
      echoTool('fast', { kind: 'constant', ms: 10 }),
      echoTool('slow', { kind: 'constant', ms: 100 }),
    ],
    tasks: [
      {
        id: 't',
        message: 'two lookups',
        steps: [
          { id: 'a', tool: 'fast', args: { q: 'a' } },
          { id: 'b', tool: 'slow', args: { q: 'b' } },
        ],
        answer: { mustContain: ['x'] },
      },
    ],
  });

  function recordDeliveries() {
    const seen: Array<{ atUs: number; decision: number; delivered: string[] }> = [];
    const agent = scripted((o) => {
      seen.push({
        atUs: o.nowUs,
        decision: o.decision,
        delivered: o.delivered.map((d) =>
          d.type === 'result' ? `result:${(d.args as { q: string }).q}` : d.type,
        ),
      });
      if (o.decision === 1)
        return {
          actions: [
            { type: 'call', tool: 'fast', args: { q: 'a' } },
            { type: 'call', tool: 'slow', args: { q: 'b' } },
          ],
          thinkUs: 0,
        };
      if (o.pending.length === 0 && o.delivered.some((d) => d.type === 'result'))
        return { actions: [{ type: 'answer', task: 't', content: 'x' }], thinkUs: 0 };
      if (o.delivery === 'poll')
        return { actions: [{ type: 'poll' }, { type: 'wait', maxUs: 30_000 }], thinkUs: 0 };
      return { actions: [], thinkUs: 0 };
    });
    return { seen, agent };
  }

  it('async push delivers each result on its own as it completes', async () => {
    const { seen, agent } = recordDeliveries();
    await runEpisode(fanOut, agent, { seed: 1, mode: 'async', delivery: 'push' });
    expect(seen.filter((s) => s.delivered.length > 0 && s.delivered[0] !== 'task')).toEqual([
      { atUs: 10_000, decision: 3, delivered: ['result:a'] },
      { atUs: 100_000, decision: 4, delivered: ['result:b'] },
    ]);
  });

  it('sync blocks the agent until every call of its decision returned, then delivers them together', async () => {
    const { seen, agent } = recordDeliveries();
    const ep = await runEpisode(fanOut, agent, { seed: 1, mode: 'sync' });
    expect(seen[1]).toEqual({ atUs: 100_000, decision: 2, delivered: ['result:a', 'result:b'] });
    expect(ep.endReason).toBe('completed');
  });

  it('poll delivers results only when the agent polls', async () => {
    const { seen, agent } = recordDeliveries();
    const ep = await runEpisode(fanOut, agent, { seed: 1, mode: 'async', delivery: 'poll' });
    // Decision 2 at t=0 polls (nothing done) and waits 30 ms; decision 3 at 30 ms polls: a is in.
    expect(seen.slice(1, 4).map((s) => [s.atUs, s.delivered])).toEqual([
      [0, []],
      [30_000, []],
      [30_000, ['result:a']],
    ]);
    expect(ep.endReason).toBe('completed');
  });

  it('follow-up messages arrive at their exact times, and reopen their task', async () => {
    const scenario = build({
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
    const ep = await runEpisode(scenario, greedy(scenario), { seed: 3 });
    expect(eventsOfType(ep.events, 'task_arrived').map((e) => e.timeUs)).toEqual([1000]);
    expect(eventsOfType(ep.events, 'message_arrived').map((e) => e.timeUs)).toEqual([10_000]);
    expect(eventsOfType(ep.events, 'answer_given').map((e) => e.content)).toEqual([
      'one',
      'one; two',
    ]);
    expect(ep.endReason).toBe('completed');
  });

  it('an invalid call fails at once; an answer for an unknown task is rejected and reported', async () => {
    const ep = await runEpisode(
      one,
      scripted((o) => {
        if (o.decision === 1)
          return {
            actions: [
              { type: 'call', tool: 'nope', args: {} },
              { type: 'answer', task: 'zzz', content: '?' },
            ],
            thinkUs: 0,
          };
        if (o.decision === 2) {
          expect(o.delivered.map((d) => d.type)).toEqual(['error', 'rejected']);
          return { actions: [{ type: 'answer', task: 't', content: 'ok' }], thinkUs: 0 };
        }
        return { actions: [] };
      }),
      { seed: 1 },
    );
    expect(eventsOfType(ep.events, 'call_issued')[0]!.invalid).toBe('unknown tool "nope"');
    expect(eventsOfType(ep.events, 'action_rejected')[0]!.reason).toBe('no task "zzz"');
    expect(ep.endReason).toBe('completed');
  });

  it('limits end the episode: decisions, calls, time; a waiting agent with nothing to come is stalled', async () => {
    const loop = scripted(() => ({
      actions: [{ type: 'call', tool: 'slow', args: { x: 1 } }],
      thinkUs: 1000,
    }));
    const limited = build({ ...one, limits: { maxTimeMs: 1e6, maxDecisions: 1000, maxCalls: 3 } });
    expect((await runEpisode(limited, loop, { seed: 1 })).events.at(-2)).toMatchObject({
      type: 'limit_hit',
      limit: 'maxCalls',
    });
    const fewDecisions = build({
      ...one,
      limits: { maxTimeMs: 1e6, maxDecisions: 2, maxCalls: 100 },
    });
    expect((await runEpisode(fewDecisions, loop, { seed: 1 })).events.at(-2)).toMatchObject({
      type: 'limit_hit',
      limit: 'maxDecisions',
    });
    const short = build({ ...one, limits: { maxTimeMs: 20, maxDecisions: 100, maxCalls: 100 } });
    const timed = await runEpisode(
      short,
      scripted(() => ({ actions: [{ type: 'wait' }] })),
      { seed: 1 },
    );
    expect(timed.events.at(-1)).toMatchObject({ type: 'episode_ended', reason: 'stalled' });
    const slowAgent = await runEpisode(
      short,
      scripted(() => ({ actions: [{ type: 'poll' }], thinkUs: 3000 })),
      { seed: 1 },
    );
    expect(slowAgent.events.at(-1)).toMatchObject({
      type: 'episode_ended',
      reason: 'limit',
      timeUs: 20_000,
    });
  });

  it('an agent may end its episode at a limit of its own (Decision.stop): a limit, not errored; an unknown one is an agent error', async () => {
    let n = 0;
    const looping = scripted(() =>
      ++n < 3
        ? { actions: [{ type: 'call', tool: 'slow', args: { x: n } }], thinkUs: 1000 }
        : { actions: [], stop: 'maxIdleTurns' },
    );
    const ep = await runEpisode(one, looping, { seed: 1 });
    expect(ep.endReason).toBe('limit');
    expect(ep.events.slice(-3)).toMatchObject([
      { type: 'decision_started', decision: 3 },
      { type: 'limit_hit', limit: 'maxIdleTurns' },
      { type: 'episode_ended', reason: 'limit', detail: 'maxIdleTurns' },
    ]);
    const bad = await runEpisode(
      one,
      scripted(() => ({ actions: [], stop: 'tired' }) as unknown as Decision),
      { seed: 1 },
    );
    expect(bad.events.at(-1)).toMatchObject({
      reason: 'errored',
      detail: 'stop must be one of maxTurns, maxIdleTurns, contextOverflow, got "tired"',
    });
  });

  it('an agent that throws ends the episode as errored with its message', async () => {
    const ep = await runEpisode(
      one,
      scripted(() => {
        throw new Error('model unavailable');
      }),
      { seed: 1 },
    );
    expect(ep.events.at(-1)).toMatchObject({
      type: 'episode_ended',
      reason: 'errored',
      detail: 'model unavailable',
    });
  });

  it('an async agent is awaited with the clock stopped', async () => {
    const base = greedy(one);
    const ep = await runEpisode(
      one,
      {
        spec: 'slow-model',
        decide: async (o) => {
          await new Promise((r) => setTimeout(r, 2));
          return base.decide(o);
        },
      },
      { seed: 1 },
    );
    const sync = await runEpisode(one, greedy(one), { seed: 1 });
    expect(ep.events.slice(1)).toEqual(sync.events.slice(1));
  });
});

describe('call keys', () => {
  it("CallKeys gives callKey of every step attempt and tool count (of the scenario's tools or not), in any order", () => {
    const askArb = fc.oneof(
      fc.record({ step: fc.nat(5), attempt: fc.integer({ min: 1, max: 12 }) }),
      fc.record({
        tool: fc.constantFrom('search', 'not-a-tool'),
        count: fc.integer({ min: 1, max: 12 }),
      }),
    );
    fc.assert(
      fc.property(fc.array(askArb, { maxLength: 30 }), (asks) => {
        const keys = new CallKeys(['search']);
        // As in a plan, a step's task and id go with its index.
        const named = (index: number) => ({ index, task: `t${index}`, id: `s${index}` });
        for (const ask of asks) {
          if ('step' in ask) {
            const step = named(ask.step);
            const want = callKey({ task: step.task, step: step.id, attempt: ask.attempt });
            expect(keys.step(step, ask.attempt)).toBe(want);
            expect(keys.step(step, ask.attempt)).toBe(want);
          } else {
            const want = callKey({ tool: ask.tool, count: ask.count });
            expect(keys.tool(ask.tool, ask.count)).toBe(want);
          }
        }
      }),
    );
  });
});

describe('the oracle', () => {
  it('bound <= achieved, and they are equal with zero think time, no limits and constant latencies', async () => {
    await fc.assert(
      fc.asyncProperty(dagShapeArb().map(constantLatencies), fc.nat(1000), async (shape, seed) => {
        const scenario = dagScenario(shape);
        const o = await computeOracle(scenario, { seed });
        expect(o.boundUs).not.toBeNull();
        expect(o.achievedUs).toBe(o.boundUs);
      }),
      { numRuns: 200 },
    );
    await fc.assert(
      fc.asyncProperty(
        dagShapeArb({ limits: true }),
        fc.nat(1000),
        fc.integer({ min: 0, max: 300 }),
        async (shape, seed, thinkMs) => {
          const scenario = dagScenario(shape, {
            kind: 'shift',
            minMs: thinkMs,
            dist: { kind: 'exponential', meanMs: 50 },
          });
          const o = await computeOracle(scenario, { seed });
          expect(o.boundUs!).toBeLessThanOrEqual(o.achievedUs!);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('the bound is never above the makespan an agent reaches', async () => {
    await fc.assert(
      fc.asyncProperty(
        dagShapeArb({ limits: true }),
        fc.nat(1000),
        fc.integer({ min: 0, max: 200 }),
        fc.boolean(),
        async (shape, seed, thinkMs, reverse) => {
          const scenario = dagScenario(shape, {
            kind: 'uniform',
            minMs: thinkMs,
            maxMs: thinkMs + 100,
          });
          const o = await computeOracle(scenario, { seed });
          for (const mode of ['async', 'sync'] as const) {
            const ep = await runEpisode(
              scenario,
              greedy(scenario, (r) => (reverse ? [...r].reverse() : r)),
              { seed, mode },
            );
            expect(ep.endReason).toBe('completed');
            expect(o.boundUs!).toBeLessThanOrEqual(ep.makespanUs);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('realizedPathUs counts retries (a failing first attempt adds its time and a decision); the bound does not', async () => {
    const scenario = build({
      id: 'flaky',
      thinkTime: { kind: 'constant', ms: 1 },
      tools: [
        echoTool('flaky', { kind: 'constant', ms: 10 }, { failure: { rate: 0.5, message: '503' } }),
      ],
      tasks: [
        {
          id: 't',
          message: 'go',
          steps: [{ id: 's', tool: 'flaky', args: {} }],
          answer: { mustContain: ['x'] },
        },
      ],
    });
    for (let seed = 0; seed < 20; seed++) {
      const o = await computeOracle(scenario, { seed });
      const attempts = o.steps[0]!.attempts.length;
      // The list scheduler retries one attempt after another; a hedger could issue every attempt
      // at once, so the lower bound charges one decision, one call and the answer.
      expect(o.realizedPathUs).toBe(attempts * (1000 + 10_000) + 1000);
      expect(o.achievedUs).toBe(o.realizedPathUs);
      expect(o.boundUs).toBe(1000 + 10_000 + 1000);
    }
  });
});
