/**
 * The oracle's bound is a lower bound (issue 22): no successful episode of any legal agent beats
 * it, hedging agents and agents that state their own think time included.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createAgent } from '../../../agents/index.js';
import { planOf } from '../../../scenarios/world/compiled.js';
import { computeOracle, oracleBound } from '../../../scenarios/scoring/oracle.js';
import type {
  Action,
  Agent,
  AgentContext,
  Decision,
  Delivery,
  Mode,
  Observation,
} from '../../../scenarios/protocol.js';
import { scoreEpisode } from '../../../scenarios/scoring/index.js';
import { caseToScenario, stressCaseArb } from '../../../scenarios/stress/arbitrary.js';
import { PlanTracker } from '../../../scenarios/world/tracker.js';
import { runEpisode } from '../../../scenarios/world/world.js';
import { loadScenarioFile } from '../../../scenarios/spec/load.js';
import type { Scenario } from '../../../scenarios/spec/schema.js';
import { build, echoTool } from '../../support/scenarios.js';

/** A small seeded generator (mulberry32): the agent's choices are reproducible from the case. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Style {
  /** Chance a ready step is issued this decision (else held back). */
  readonly issue: number;
  /** Chance an issued step gets 1-3 extra copies at once (hedging). */
  readonly hedge: number;
  /** Chance of issuing a released step whose dependencies are not delivered yet (foreknowledge). */
  readonly early: number;
  /** Chance a settled task is answered this decision. */
  readonly answer: number;
  /** Chance the decision states its own think time (0, or up to a few ms). */
  readonly ownThink: number;
}

/** A random agent the protocol allows: hedges, holds back, prefetches, states its own think time. */
function randomAgent(style: Style, seed: number): Agent {
  const next = generator(seed);
  let tracker!: PlanTracker;
  let plan!: ReturnType<typeof planOf>;
  return {
    spec: 'test:random',
    start(context: AgentContext) {
      plan = planOf(context.scenario);
      tracker = new PlanTracker(plan);
    },
    decide(observation: Observation): Decision {
      tracker.observe(observation);
      const actions: Action[] = [];
      const ready = tracker.readySteps();
      for (const s of ready) {
        if (next() >= style.issue) continue; // held back this decision
        tracker.issued(s);
        const copies = next() < style.hedge ? 1 + Math.floor(next() * 3) : 0;
        for (let k = 0; k <= copies; k++)
          actions.push({ type: 'call', tool: s.tool, args: s.args, ref: s.key });
      }
      for (const s of plan.steps) {
        const st = tracker.get(s);
        if (st.released && !st.done && !st.inFlight && !ready.includes(s) && next() < style.early)
          actions.push({ type: 'call', tool: s.tool, args: s.args, ref: s.key });
      }
      for (const task of tracker.answerableTasks()) {
        if (next() < style.answer) {
          tracker.answered(task);
          actions.push({ type: 'answer', task: task.id, content: tracker.expectedAnswer(task) });
        }
      }
      if (observation.mode === 'async' && observation.delivery === 'poll')
        actions.push({ type: 'poll' });
      // Always wake again: a held-back step or unanswered task must not stall the episode.
      actions.push({ type: 'wait', maxUs: 1 + Math.floor(next() * 5000) });
      const thinkUs =
        next() < style.ownThink ? (next() < 0.5 ? 0 : Math.floor(next() * 3000)) : undefined;
      return thinkUs === undefined ? { actions } : { actions, thinkUs };
    },
  };
}

const styleArb: fc.Arbitrary<Style> = fc.record({
  issue: fc.constantFrom(1, 1, 0.7, 0.3),
  hedge: fc.constantFrom(0, 0.5, 1),
  early: fc.constantFrom(0, 0, 0.3),
  answer: fc.constantFrom(1, 1, 0.5),
  ownThink: fc.constantFrom(0, 0.5, 1),
});
const spareCallsArb = fc.option(fc.integer({ min: 0, max: 40 }), { nil: null });
const worldArb = fc.constantFrom<{ mode: Mode; delivery: Delivery }>(
  { mode: 'async', delivery: 'push' },
  { mode: 'async', delivery: 'poll' },
  { mode: 'sync', delivery: 'push' },
);

describe('the oracle bound is a lower bound', () => {
  it('no successful episode of a random legal agent beats it (2,000 random cases: limits, failures, timeouts, follow-ups, hedging, own think times)', async () => {
    let successes = 0;
    let hedged = 0;
    let sampled = 0;
    await fc.assert(
      fc.asyncProperty(
        stressCaseArb({ maxTasks: 4, maxSteps: 5, maxTools: 3 }),
        fc.nat(10_000),
        styleArb,
        worldArb,
        fc.nat(),
        spareCallsArb,
        async (c, seed, style, world, agentSeed, spare) => {
          const stress = caseToScenario(c);
          // A tight call limit makes the bound sample each step's reachable attempts (the cheapest
          // success among them); a loose one makes it use the latency's minimum.
          const scenario =
            spare === null
              ? stress
              : {
                  ...stress,
                  limits: { ...stress.limits, maxCalls: planOf(stress).steps.length + spare },
                };

          const { boundUs } = oracleBound(scenario, { seed });
          if (boundUs === null) return;
          const episode = await runEpisode(scenario, randomAgent(style, agentSeed), {
            seed,
            ...world,
          });
          const score = scoreEpisode(scenario, episode.events, { boundUs });
          if (!score.success) return;
          successes++;
          if (style.hedge > 0) hedged++;
          if (spare !== null) sampled++;
          expect(episode.makespanUs, `bound ${boundUs} beaten`).toBeGreaterThanOrEqual(boundUs);
          expect(score.efficiency.boundRatio!).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 2000 },
    );
    // Enough successful episodes of each kind for the property to say something.
    expect(successes).toBeGreaterThan(700);
    expect(hedged).toBeGreaterThan(300);
    expect(sampled).toBeGreaterThan(200);
  });

  const flaky = build({
    id: 'flaky',
    thinkTime: { kind: 'constant', ms: 1 },
    tools: [
      echoTool(
        'flaky',
        { kind: 'uniform', minMs: 10, maxMs: 200 },
        { failure: { rate: 0.5, message: '503' } },
      ),
    ],
    tasks: [
      {
        id: 't',
        message: 'go',
        steps: [{ id: 's', tool: 'flaky', args: {} }],
        answer: { mustContain: ['t'] },
      },
    ],
  });

  it('issue 22: a hedging agent (copies of a flaky call at once) does not beat the bound (was 440/330 = 1.33)', async () => {
    let beaten = 0;
    for (let seed = 0; seed < 200; seed++) {
      const o = await computeOracle(flaky, { seed });
      if (o.boundUs === null) continue;
      // Every copy at once: the first success ends the step.
      const ep = await runEpisode(
        flaky,
        randomAgent({ issue: 1, hedge: 1, early: 0, answer: 1, ownThink: 0 }, seed),
        { seed },
      );
      const s = scoreEpisode(flaky, ep.events, { boundUs: o.boundUs });
      if (s.success && ep.makespanUs < o.boundUs) beaten++;
      expect(o.boundUs).toBeLessThanOrEqual(o.achievedUs!);
    }
    expect(beaten).toBe(0);
  });

  it('issue 22: an agent stating thinkUs below the scenario minimum is held to the minimum (was a ratio of 1.1)', async () => {
    const scenario = build({
      id: 'slow-think',
      thinkTime: { kind: 'constant', ms: 50 },
      tools: [echoTool('t', { kind: 'constant', ms: 100 })],
      tasks: [
        {
          id: 'a',
          message: 'go',
          steps: [
            { id: 's1', tool: 't', args: { n: 1 } },
            { id: 's2', tool: 't', args: { n: 2 }, after: ['s1'] },
          ],
          answer: { mustContain: ['a'] },
        },
      ],
    });
    const o = await computeOracle(scenario, { seed: 1 });
    expect(o.boundUs).toBe(3 * 50_000 + 2 * 100_000);
    const fast = await runEpisode(scenario, createAgent('greedy-async:thinkMs=0'), { seed: 1 });
    const s = scoreEpisode(scenario, fast.events, { boundUs: o.boundUs });
    expect(s.success).toBe(true);
    expect(fast.makespanUs).toBe(o.boundUs);
    for (const e of fast.events) if (e.type === 'decision_ended') expect(e.thinkUs).toBe(50_000);
  });

  it("issue 22: the bound counts a 1-slot tool's load (a perfect agent scored 0.43)", async () => {
    const tasks = ['a', 'b', 'c'].map((id) => ({
      id,
      message: id,
      steps: [{ id: 's', tool: 'one', args: { task: id } }],
      answer: { mustContain: [id] },
    }));
    const scenario = build({
      id: 'one-slot',
      thinkTime: { kind: 'constant', ms: 0 },
      tools: [echoTool('one', { kind: 'constant', ms: 100 }, { concurrency: 1 })],
      tasks,
    });
    const o = await computeOracle(scenario, { seed: 1 });
    expect(o.boundUs).toBe(300_000);
    const ep = await runEpisode(scenario, createAgent('greedy-async'), { seed: 1 });
    expect(scoreEpisode(scenario, ep.events, { boundUs: o.boundUs }).efficiency.boundRatio).toBe(1);
  });
});

describe('the bound on the stateful suite (environments, writes, lost responses)', () => {
  const dir = 'scenarios/suites/asynctool-stateful';
  const load = (n: number) =>
    loadScenarioFile(`${dir}/asynctool-stateful-${String(n).padStart(4, '0')}.json`);
  // 0066-0071 lose responses (a write applied, its answer lost): what tempts a bound to charge
  // the first applying attempt, and what a hedging agent can land cheaper than.
  const lossy = [66, 67, 68, 69, 70, 71].map(load);
  const agentArb = fc.oneof(
    fc.constantFrom('explorer', 'explorer:thinkMs=0', 'greedy-async:thinkMs=0'),
    fc.tuple(styleArb, fc.nat()),
  );
  /** Counts kept over a property's runs: successes, and those with a failed or lost call. */
  const tally = { successes: 0, survivedFailure: 0 };
  /** What a case ran: its instance, seed, makespan and whether it succeeded. */
  type Ran = { id: string; seed: number; makespanUs: number; success: boolean };
  const holds = (scenarios: readonly Scenario[], ran: Ran[] = []) =>
    fc.asyncProperty(
      fc.constantFrom(...scenarios),
      fc.nat(10_000),
      agentArb,
      worldArb,
      async (scenario, seed, which, world) => {
        const { boundUs } = oracleBound(scenario, { seed });
        if (boundUs === null) return;
        const agent =
          typeof which === 'string' ? createAgent(which) : randomAgent(which[0], which[1]);
        const episode = await runEpisode(scenario, agent, { seed, ...world });
        const score = scoreEpisode(scenario, episode.events, { boundUs });
        ran.push({ id: scenario.id, seed, makespanUs: episode.makespanUs, success: score.success });
        if (!score.success) return;
        tally.successes++;
        if (score.calls.some((c) => !c.ok)) tally.survivedFailure++;
        expect(episode.makespanUs, `bound ${boundUs} beaten`).toBeGreaterThanOrEqual(boundUs);
        expect(score.efficiency.successBoundRatio!).toBeLessThanOrEqual(1);
      },
    );

  it('no successful episode beats it: random agents (hedging, blind retries, own think times), the explorer and greedy-async, on every stateful instance (4,000 random cases)', async () => {
    const all = readdirSync(dir)
      .filter((f) => /^asynctool-stateful-\d{4}\.json$/.test(f))
      .map((f) => loadScenarioFile(join(dir, f)));
    expect(all.length).toBeGreaterThan(60);
    tally.successes = 0;
    tally.survivedFailure = 0;
    await fc.assert(holds([...all, ...lossy]), { numRuns: 4000 });
    expect(tally.successes).toBeGreaterThan(1800);
    // Successes despite a failed or lost call: the case a bound can get wrong.
    expect(tally.survivedFailure).toBeGreaterThan(350);
  }, 120_000);

  it('regression: asynctool-stateful-0067 seed 2, a hedging random agent done in 541 ms, beat a bound charging the first applying attempt (2,149 ms; reverted in b7cc9cc)', async () => {
    // fast-check's seed and path of the counterexample, over the lossy instances alone.
    const ran: Ran[] = [];
    await fc.assert(holds(lossy, ran), { seed: -1258554115, path: '91:3:9:14:5:18', numRuns: 1 });
    // The case it replays is still that episode (the arbitraries above have not drifted).
    expect(ran[0]).toEqual({
      id: 'asynctool-stateful-0067',
      seed: 2,
      makespanUs: 541_237,
      success: true,
    });
  });
});
