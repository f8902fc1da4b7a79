import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createAgent } from '../../../agents/index.js';
import { encodeForStress } from '../../../cli/commands/stress.js';
import { evaluateCase, runStress, type StressOptions } from '../../../cli/stress-runner.js';
import { thinkAwareBoundUs } from '../../../scenarios/scoring/oracle.js';
import { validateScenario } from '../../../scenarios/spec/validate.js';
import { canonicalScenario } from '../../../scenarios/spec/canonical-scenario.js';
import {
  caseToScenario,
  stressCaseArb,
  type StressCase,
} from '../../../scenarios/stress/arbitrary.js';
import { runChecks, type CheckName } from '../../../scenarios/stress/checks.js';
import { runEpisode } from '../../../scenarios/world/world.js';
import { readReplay } from '../../../replays/index.js';
import { flawedMaker } from '../../../agents/flawed.js';

function options(
  agent: string,
  checks: CheckName[],
  extra: Partial<StressOptions> = {},
): StressOptions {
  return {
    agent,
    makeAgent: flawedMaker,
    runs: 300,
    seed: 42,
    checks,
    efficiencyFactor: 10,
    starvationDecisions: 25,
    timeLimitMs: null,
    mode: 'async',
    delivery: 'push',
    encode: encodeForStress,
    ...extra,
  };
}

describe('stress scenarios', () => {
  it('every generated case is a valid scenario', () => {
    fc.assert(
      fc.property(stressCaseArb(), (c) => {
        expect(validateScenario(JSON.parse(JSON.stringify(caseToScenario(c))))).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it("every generated case is its own canonical form (its replay header's): a policy sees the same key order in the run and in the re-run", () => {
    fc.assert(
      fc.property(stressCaseArb(), (c) => {
        const scenario = caseToScenario(c);
        expect(JSON.stringify(scenario)).toBe(JSON.stringify(canonicalScenario(scenario)));
      }),
      { numRuns: 100 },
    );
  });
});

describe('tooltime stress finds real bugs, shrinks them, and saves a reproducing case', () => {
  const flaws: Array<{
    agent: string;
    check: CheckName;
    extra?: Partial<StressOptions>;
    maxSteps: number;
  }> = [
    { agent: 'cap-ignorer', check: 'capacity', maxSteps: 3 },
    { agent: 'starver', check: 'starvation', extra: { starvationDecisions: 3 }, maxSteps: 8 },
    { agent: 'early-bird', check: 'dependencies', maxSteps: 10 },
  ];
  for (const flaw of flaws) {
    it(`${flaw.agent}: ${flaw.check} is violated, shrunk to at most ${flaw.maxSteps} steps, and the saved case reproduces it`, async () => {
      const opts = options(flaw.agent, [flaw.check], flaw.extra);
      const report = await runStress(opts);
      const f = report.failure;
      expect(f, `${flaw.agent} passed ${report.cases} cases`).not.toBeNull();
      expect(f!.violation.check).toBe(flaw.check);
      expect(f!.size.steps).toBeLessThanOrEqual(flaw.maxSteps);
      // Regression: "violated after N cases" counted shrinking's re-runs too (2325 with --runs 500).
      // N is the cases generated: the first N - 1 pass, and shrinking adds none.
      expect(report.cases).toBeLessThanOrEqual(opts.runs);
      if (report.cases > 1)
        expect((await runStress({ ...opts, runs: report.cases - 1 })).failure).toBeNull();
      // The saved scenario, run again with the same agent and seed, violates the same check...
      const saved = JSON.parse(JSON.stringify(f!.scenario));
      expect(validateScenario(saved)).toEqual([]);
      const agent = flawedMaker(flaw.agent);
      const episode = await runEpisode(f!.scenario, agent, { seed: f!.episodeSeed });
      const again = runChecks(
        {
          scenario: f!.scenario,
          events: episode.events,
          agentCap: agent.maxInFlight ?? Infinity,
          referenceUs: null,
        },
        [flaw.check],
        opts,
      );
      expect(again?.message).toBe(f!.violation.message);
      // ... and its replay holds exactly that episode.
      const replay = readReplay(f!.replay);
      expect(replay.events).toEqual(episode.events);
      // fast-check's seed and path regenerate the same minimal case in one run.
      const replayed = await runStress({ ...opts, seed: f!.fcSeed, path: f!.fcPath });
      expect(replayed.failure?.violation).toEqual(f!.violation);
      expect(replayed.cases).toBeLessThanOrEqual(2);
    });
  }
});

describe('regression: efficiency charges each decision the think time it took', () => {
  // From `stress --agent greedy-async --runs 2000 --seed 2`, shrunk: one task of one step, a
  // lognormal think time. The agent's second decision drew 16.081ms; the bound charged every
  // decision the distribution's minimum (0), so 18.200ms was 12.6x a 1.441ms bound. No policy
  // answers with fewer than two decisions, so none could pass.
  const oneStep: StressCase = {
    tools: [
      {
        latency: { kind: 'lognormal', medianMs: 1, p95Ms: 2 },
        concurrency: null,
        failureRate: 0,
        timeoutSlackMs: null,
      },
    ],
    tasks: [{ arrivalMs: 0, shape: 'wide', steps: [{ tool: 0, deps: [] }] }],
    messages: [],
    thinkTime: { kind: 'lognormal', medianMs: 1, p95Ms: 5 },
  };

  it('greedy-async passes efficiency on the shrunk case', async () => {
    const evaluation = await evaluateCase(options('greedy-async', ['efficiency']), oneStep, 194181);
    expect(
      evaluation.events.filter((e) => e.type === 'decision_ended').map((e) => e.thinkUs),
    ).toEqual([678, 16_081]);
    expect(evaluation.violation).toBeNull();
  });

  it('the bound: each decision along a chain ends no earlier than the think times up to it added up', () => {
    const scenario = caseToScenario({
      ...oneStep,
      tools: [{ ...oneStep.tools[0]!, latency: { kind: 'constant', ms: 1 } }],
      thinkTime: { kind: 'constant', ms: 0 },
    });
    expect(thinkAwareBoundUs(scenario, 1, [])).toBe(1000);
    // Decision 1 ends at 678, the call takes 1000, decision 2 ends at 678 + 16081 at the earliest.
    expect(thinkAwareBoundUs(scenario, 1, [678, 16_081])).toBe(16_759);
    // A short second draw does not lower it: the answer's decision starts after the result.
    expect(thinkAwareBoundUs(scenario, 1, [5000, 1])).toBe(6000);
  });
});

describe('the shipped baselines pass the checks they should', () => {
  const all: CheckName[] = [
    'liveness',
    'dependencies',
    'capacity',
    'starvation',
    'efficiency',
    'determinism',
  ];
  const safety: CheckName[] = ['liveness', 'dependencies', 'capacity', 'determinism'];
  const expectations: Array<[string, CheckName[]]> = [
    ['greedy-async', all],
    ['critical-path', all],
    ['parallel-sync', all],
    ['greedy-async:maxInFlight=2', ['liveness', 'dependencies', 'capacity', 'determinism']],
    // One step per decision: fair but slow when think time dominates (efficiency), and blocking (starvation).
    ['round-robin', safety],
    ['sequential', safety],
  ];
  for (const [agent, checks] of expectations) {
    it(`${agent}: ${checks.join(', ')}`, async () => {
      const report = await runStress({
        ...options(agent, checks),
        makeAgent: createAgent,
        runs: 60,
      });
      expect(report.failure?.violation ?? null).toBeNull();
      for (const c of checks) expect(report.tally[c].cases).toBe(60);
    });
  }
});
