import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createAgent } from '../agents/index.js';
import { encodeForStress } from '../cli/stress.js';
import { runStress, type StressOptions } from '../cli/stress-runner.js';
import { validateScenario } from '../scenarios/validate.js';
import { canonicalScenario } from '../scenarios/canonical-scenario.js';
import { caseToScenario, stressCaseArb } from '../scenarios/stress/arbitrary.js';
import { runChecks, type CheckName } from '../scenarios/stress/checks.js';
import { runEpisode } from '../scenarios/world.js';
import { readReplay } from '../replays/index.js';
import { flawedMaker } from './policies/flawed.js';

function options(agent: string, checks: CheckName[], extra: Partial<StressOptions> = {}): StressOptions {
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
  const flaws: Array<{ agent: string; check: CheckName; extra?: Partial<StressOptions>; maxSteps: number }> = [
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
      // The saved scenario, run again with the same agent and seed, violates the same check...
      const saved = JSON.parse(JSON.stringify(f!.scenario));
      expect(validateScenario(saved)).toEqual([]);
      const agent = flawedMaker(flaw.agent);
      const episode = await runEpisode(f!.scenario, agent, { seed: f!.episodeSeed });
      const again = runChecks({ scenario: f!.scenario, events: episode.events, agentCap: agent.maxInFlight ?? Infinity, referenceUs: null }, [flaw.check], opts);
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

describe('the shipped baselines pass the checks they should', () => {
  const all: CheckName[] = ['liveness', 'dependencies', 'capacity', 'starvation', 'efficiency', 'determinism'];
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
      const report = await runStress({ ...options(agent, checks), makeAgent: createAgent, runs: 60 });
      expect(report.failure?.violation ?? null).toBeNull();
      for (const c of checks) expect(report.tally[c].cases).toBe(60);
    });
  }
});
