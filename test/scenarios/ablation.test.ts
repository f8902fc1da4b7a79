import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createAgent } from '../../agents/index.js';
import { MAX_SAMPLE_US } from '../../engine/distributions.js';
import { roundUs } from '../../engine/index.js';
import { firstTasks, scaleLatency, withId } from '../../scenarios/ablation.js';
import { realizeSteps } from '../../scenarios/scoring/oracle.js';
import { loadScenarioFile } from '../../scenarios/spec/load.js';
import type { Scenario } from '../../scenarios/spec/schema.js';
import { caseToScenario, stressCaseArb } from '../../scenarios/stress/arbitrary.js';
import type { EpisodeEvent } from '../../scenarios/world/events.js';
import { runEpisode } from '../../scenarios/world/world.js';

/** What the scaled world must give for an unscaled duration: the engine's rule, once. */
const scaled = (us: number, factor: number): number =>
  Math.min(roundUs(us * factor), MAX_SAMPLE_US);

/** Each call of an episode by (task, step, attempt): its time in service and how it ended. */
function attemptsOf(events: readonly EpisodeEvent[]): Map<string, { us: number; fate: string }> {
  const keyOf = new Map<number, string>();
  const started = new Map<number, number>();
  const out = new Map<string, { us: number; fate: string }>();
  for (const e of events) {
    if (e.type === 'call_issued' && e.task !== null && e.step !== null)
      keyOf.set(e.callId, `${e.task}/${e.step}/${e.attempt}`);
    else if (e.type === 'call_started') started.set(e.callId, e.timeUs);
    else if (e.type === 'call_completed') {
      const key = keyOf.get(e.callId);
      if (key === undefined) continue;
      const fate = e.ok ? 'ok' : e.error?.startsWith('timeout') ? 'timeout' : 'failure';
      out.set(key, { us: e.timeUs - started.get(e.callId)!, fate });
    }
  }
  return out;
}

const factorArb = fc.oneof(
  fc.constantFrom(0.5, 2, 4, 0.25, 3, 10),
  fc.double({ min: 0.001, max: 1000, noNaN: true }),
);

describe('scaleLatency (the latency ablation)', () => {
  it('draws the same attempts: each service time is the unscaled one times the factor (one rounding), each fate the same', () => {
    fc.assert(
      fc.property(stressCaseArb({ maxTasks: 3 }), fc.nat(1000), factorArb, (c, seed, factor) => {
        const base = caseToScenario(c);
        const plain = realizeSteps(base, seed);
        const scaledSteps = realizeSteps(scaleLatency(base, factor), seed);
        expect(scaledSteps.length).toBe(plain.length);
        plain.forEach((step, i) => {
          const other = scaledSteps[i]!;
          expect(other.attempts.map((a) => a.fate)).toEqual(step.attempts.map((a) => a.fate));
          expect(other.attempts.map((a) => a.serviceUs)).toEqual(
            step.attempts.map((a) => scaled(a.serviceUs, factor)),
          );
        });
      }),
      { numRuns: 200 },
    );
  });

  it('in an episode, every attempt both runs make takes the factor times as long and ends the same way', async () => {
    await fc.assert(
      fc.asyncProperty(
        stressCaseArb({ maxTasks: 3, maxSteps: 4 }),
        fc.nat(1000),
        factorArb,
        async (c, seed, factor) => {
          const base = caseToScenario(c);
          const run = (s: Scenario) =>
            runEpisode(s, createAgent('greedy-async'), { seed, mode: 'async', delivery: 'push' });
          const plain = attemptsOf((await run(base)).events);
          const other = attemptsOf((await run(scaleLatency(base, factor))).events);
          let shared = 0;
          for (const [key, a] of plain) {
            const b = other.get(key);
            if (b === undefined) continue;
            shared++;
            expect({ key, us: b.us, fate: b.fate }).toEqual({
              key,
              us: scaled(a.us, factor),
              fate: a.fate,
            });
          }
          // Every first attempt is made in both: the comparison is never empty.
          expect(shared).toBeGreaterThan(0);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('records the factor on every tool, composes, and is the identity at 1', () => {
    const base = caseToScenario(fc.sample(stressCaseArb(), { numRuns: 1, seed: 7 })[0]!);
    expect(scaleLatency(base, 1)).toBe(base);
    const twice = scaleLatency(scaleLatency(base, 2), 0.5);
    expect(twice.tools.every((t) => t.latencyScale === undefined)).toBe(true);
    expect(scaleLatency(base, 4).tools.every((t) => t.latencyScale === 4)).toBe(true);
    expect(() => scaleLatency(base, 0)).toThrow(/factor/);
  });

  it('decides a timeout on the unscaled draw: a call just over its timeout still times out at 0.25x (regression: rounding both first made it succeed)', () => {
    const c = fc.sample(stressCaseArb(), { numRuns: 1, seed: 3 })[0]!;
    const doc = JSON.parse(JSON.stringify(caseToScenario(c)));
    // 20001 µs against 20000 µs: at 0.25x both round to 5000 µs.
    doc.tools = doc.tools.map(({ failure: _, ...t }: Record<string, unknown>) => ({
      ...t,
      latency: { kind: 'empirical', samplesMs: [19, 20.001] },
      timeoutMs: 20,
    }));
    const base = withId(doc as Scenario, 'edge-case');
    const plain = realizeSteps(base, 1).flatMap((s) => s.attempts);
    const quarter = realizeSteps(scaleLatency(base, 0.25), 1).flatMap((s) => s.attempts);
    const over = plain.flatMap((a, i) => (a.fate === 'timeout' ? [i] : []));
    expect(over.length).toBeGreaterThan(0);
    for (const i of over) {
      expect(plain[i]).toEqual({ serviceUs: 20000, fate: 'timeout' });
      expect(quarter[i]).toEqual({ serviceUs: 5000, fate: 'timeout' });
    }
  });

  it('tells the agent the scaled timeout', async () => {
    const c = fc.sample(stressCaseArb(), { numRuns: 1, seed: 3 })[0]!;
    const doc = JSON.parse(JSON.stringify(caseToScenario(c)));
    doc.tools = [
      { ...doc.tools[0], latency: { kind: 'uniform', minMs: 10, maxMs: 60 }, timeoutMs: 20 },
    ];
    const [task] = doc.tasks;
    doc.tasks = [{ ...task, steps: [{ ...task.steps[0], tool: doc.tools[0].name, after: [] }] }];
    doc.messages = [];
    const base = withId(doc as Scenario, 'timeout-case');
    const errors: string[] = [];
    for (let seed = 1; seed <= 10; seed++) {
      const episode = await runEpisode(scaleLatency(base, 2), createAgent('greedy-async'), {
        seed,
        mode: 'async',
        delivery: 'push',
      });
      for (const e of episode.events)
        if (e.type === 'call_completed' && e.error !== null) errors.push(e.error);
    }
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => e.endsWith('did not answer within 40ms'))).toBe(true);
  });
});

describe('firstTasks (the tasks ablation)', () => {
  const suite = (n: string) =>
    loadScenarioFile(
      new URL(`../../scenarios/suites/asynctool/asynctool-s2024-${n}.json`, import.meta.url)
        .pathname,
    );

  it("keeps the first k tasks, their follow-ups and every tool; recounts the tags the suite's composer writes", () => {
    const s = suite('0002');
    expect(s.tasks.length).toBe(3);
    const two = firstTasks(s, 2);
    expect(two.tasks.map((t) => t.id)).toEqual(s.tasks.slice(0, 2).map((t) => t.id));
    expect(two.tasks.map((t) => t.arrivalMs)).toEqual(s.tasks.slice(0, 2).map((t) => t.arrivalMs));
    expect(two.tools).toEqual(s.tools);
    expect(two.tags.tasks).toBe('2');
    expect(two.tags.patterns).toBe(s.tags.patterns!.split('+').slice(0, 2).join('+'));
    expect(two.tags.seeds).toBe(s.tags.seeds!.split('+').slice(0, 2).join('+'));
    expect(Number(two.tags.steps)).toBe(two.tasks.reduce((n, t) => n + t.steps.length, 0));
    expect(firstTasks(s, 3)).toBe(s);
  });

  it('drops the follow-ups about the tasks it drops', () => {
    const s = caseToScenario({
      tools: [
        {
          latency: { kind: 'constant', ms: 1 },
          concurrency: null,
          failureRate: 0,
          timeoutSlackMs: null,
        },
      ],
      tasks: [
        { arrivalMs: 0, shape: 'chain', steps: [{ tool: 0, deps: [] }] },
        { arrivalMs: 5, shape: 'chain', steps: [{ tool: 0, deps: [] }] },
      ],
      messages: [
        { atMs: 10, task: 0, step: { tool: 0, deps: [0] } },
        { atMs: 10, task: 1, step: { tool: 0, deps: [0] } },
      ],
      thinkTime: { kind: 'constant', ms: 0 },
    });
    const one = firstTasks(s, 1);
    expect(one.messages.map((m) => m.task)).toEqual(['t0']);
    expect(() => firstTasks(s, 3)).toThrow(/k \(3\)/);
  });
});
