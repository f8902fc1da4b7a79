/**
 * Efficiency must not reward failure (issue 22): the headline efficiency figures are
 * success-weighted per episode, so an agent can never raise them by breaking a task.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GreedyAsync, createAgent } from '../../../agents/index.js';
import { loadScenarioFile } from '../../../scenarios/spec/load.js';
import { computeOracle } from '../../../scenarios/scoring/oracle.js';
import type { PlanStep, PlanTask } from '../../../scenarios/world/plan.js';
import type { Observation } from '../../../scenarios/protocol.js';
import type { Scenario } from '../../../scenarios/spec/schema.js';
import {
  aggregate,
  scoreEpisode,
  type EpisodeScore,
  type SuiteSummary,
} from '../../../scenarios/scoring/index.js';
import { caseToScenario, stressCaseArb } from '../../../scenarios/stress/arbitrary.js';
import { runEpisode } from '../../../scenarios/world/world.js';
import { build, echoTool, scripted } from '../../support/scenarios.js';
import type { Action } from '../../../scenarios/protocol.js';
import type { Agent } from '../../../scenarios/protocol.js';

/** Never issues one chosen step (nor anything after it) and answers its task without it. */
class Skipper extends GreedyAsync {
  constructor(private readonly skipped: string) {
    super('test:skipper', { maxInFlight: Infinity, thinkMs: null, retry: 7, pollMs: 100 });
  }

  private blocked(step: PlanStep): boolean {
    return step.key === this.skipped || this.plan.dependencies(step).some((d) => this.blocked(d));
  }

  protected override readySteps(observation: Observation): PlanStep[] {
    return super.readySteps(observation).filter((s) => !this.blocked(s));
  }

  protected override answerCandidates(): readonly PlanTask[] {
    return this.tracker.tasksAwaitingAnswer();
  }

  protected override shouldAnswer(task: PlanTask): boolean {
    if (!this.tracker.isReleased(task) || !this.tracker.awaitsAnswer(task)) return false;
    return task.steps.every(
      (s) => !this.tracker.get(s).released || this.tracker.get(s).done || this.blocked(s),
    );
  }
}

type Mutation =
  | { kind: 'skip'; step: number }
  | { kind: 'answer-early' }
  | { kind: 'violate' }
  | { kind: 'drop-answer' };

function mutant(scenario: Scenario, m: Mutation): Agent {
  switch (m.kind) {
    case 'skip': {
      const steps = scenario.tasks.flatMap((t) => t.steps.map((s) => `${t.id}/${s.id}`));
      return new Skipper(steps[m.step % steps.length]!);
    }
    case 'answer-early':
      return createAgent('hasty');
    case 'violate':
      return createAgent('impatient:luck=1');
    case 'drop-answer':
      // Gives up a task (and never answers it) once a call has been out at all.
      return createAgent('forgetful:patienceMs=0');
  }
}

async function scored(
  scenario: Scenario,
  agent: Agent,
  seed: number,
  reference: { boundUs: number | null; sequentialMakespanUs: number | null },
): Promise<EpisodeScore> {
  const episode = await runEpisode(scenario, agent, { seed, mode: 'async', delivery: 'push' });
  return scoreEpisode(scenario, episode.events, reference);
}

const headline = (s: SuiteSummary) => [
  s.metrics.successWeightedBoundRatio.mean,
  s.metrics.successWeightedSpeedup.mean,
];

describe('efficiency does not reward failure', () => {
  it('hasty on chain.json: 0% task success gives a headline efficiency and speedup of 0', async () => {
    const scenario = loadScenarioFile('scenarios/examples/chain.json');
    const oracle = await computeOracle(scenario, { seed: 1 });
    const sequential = await runEpisode(scenario, createAgent('sequential'), { seed: 1 });
    const reference = { boundUs: oracle.boundUs, sequentialMakespanUs: sequential.makespanUs };
    const s = await scored(scenario, createAgent('hasty'), 1, reference);
    expect(s.success).toBe(false);
    // It finishes in half the sequential reference's time: the raw speedup (1.95) credits it...
    expect(s.efficiency.speedupVsSequential!).toBeGreaterThan(1.9);
    expect(s.efficiency.boundRatio!).toBeGreaterThan(0);
    // ...and earns nothing for it.
    expect([s.efficiency.successBoundRatio, s.efficiency.successSpeedup]).toEqual([0, 0]);
    const summary = aggregate([{ instance: scenario.id, seed: 1, score: s }]);
    expect(headline(summary)).toEqual([0, 0]);
    expect(summary.metrics.boundRatioOfSuccesses.n).toBe(0);
  });

  it('a correct agent keeps its efficiency: success-weighted equals the mean over successes', async () => {
    const scenario = loadScenarioFile('scenarios/examples/chain.json');
    const oracle = await computeOracle(scenario, { seed: 1 });
    const s = await scored(scenario, createAgent('greedy-async'), 1, {
      boundUs: oracle.boundUs,
      sequentialMakespanUs: 1,
    });
    expect(s.success).toBe(true);
    expect(s.efficiency.successBoundRatio).toBe(s.efficiency.boundRatio);
    expect(s.efficiency.successBoundRatio).toBeGreaterThan(0);
  });

  it('no mutation that breaks a task improves a headline efficiency figure (random scenarios)', async () => {
    const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
      fc.nat(50).map((step) => ({ kind: 'skip' as const, step })),
      fc.constant({ kind: 'answer-early' as const }),
      fc.constant({ kind: 'violate' as const }),
      fc.constant({ kind: 'drop-answer' as const }),
    );
    let broken = 0;
    await fc.assert(
      fc.asyncProperty(
        stressCaseArb({ maxTasks: 4, maxSteps: 5 }),
        fc.nat(1000),
        mutationArb,
        async (c, seed, mutation) => {
          const scenario = caseToScenario(c);
          const oracle = await computeOracle(scenario, { seed });
          const sequential = await runEpisode(scenario, createAgent('sequential'), {
            seed,
            mode: 'async',
            delivery: 'push',
          });
          const reference = {
            boundUs: oracle.boundUs,
            sequentialMakespanUs:
              sequential.endReason === 'completed' ? sequential.makespanUs : null,
          };
          const correct = await scored(scenario, createAgent('greedy-async'), seed, reference);
          const mutated = await scored(scenario, mutant(scenario, mutation), seed, reference);
          if (mutated.success) return; // the mutation happened not to break a task here
          broken++;
          const before = headline(aggregate([{ instance: 'x', seed, score: correct }]));
          const after = headline(aggregate([{ instance: 'x', seed, score: mutated }]));
          for (const [i, value] of after.entries())
            if (value !== null) expect(value).toBeLessThanOrEqual(before[i]!);
          // The per-episode figures themselves: a broken episode earns exactly 0.
          if (mutated.efficiency.successBoundRatio !== null)
            expect(mutated.efficiency.successBoundRatio).toBe(0);
          if (mutated.efficiency.successSpeedup !== null)
            expect(mutated.efficiency.successSpeedup).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
    expect(broken).toBeGreaterThan(50);
  });
});

describe('what the call-time and idle columns mean (issue 22)', () => {
  const oneSlot = build({
    id: 'one-slot',
    thinkTime: { kind: 'constant', ms: 0 },
    tools: [echoTool('one', { kind: 'constant', ms: 100 }, { concurrency: 1 })],
    tasks: ['a', 'b', 'c', 'd'].map((id) => ({
      id,
      message: id,
      steps: [{ id: 's', tool: 'one', args: { task: id } }],
      answer: { mustContain: [id] },
    })),
  });

  it('on a 1-slot tool, queued time is not "in service": at most one call in service, no overlap (was 1.875 in flight, overlap 0.85)', async () => {
    const ep = await runEpisode(oneSlot, createAgent('greedy-async'), { seed: 1 });
    const e = scoreEpisode(oneSlot, ep.events).efficiency;
    expect(e.callServiceUs).toBe(400_000);
    expect(e.callQueuedUs).toBe(100_000 + 200_000 + 300_000);
    expect(e.callWaitUs).toBe(e.callQueuedUs + e.callServiceUs);
    expect(e.meanCallsInService).toBe(1);
    expect(e.overlapShare).toBe(0);
  });

  it('idle while ready counts only tasks still awaiting an answer: steps of an answered task are not ready', async () => {
    // A: two quick chained steps; B: one slow step.
    const scenario = build({
      id: 'answered-early',
      thinkTime: { kind: 'constant', ms: 1 },
      tools: [
        echoTool('quick', { kind: 'constant', ms: 10 }),
        echoTool('slow', { kind: 'constant', ms: 1000 }),
      ],
      tasks: [
        {
          id: 'A',
          message: 'a',
          steps: [
            { id: 'a1', tool: 'quick', args: { n: 1 } },
            { id: 'a2', tool: 'quick', args: { n: 2 }, after: ['a1'] },
          ],
          answer: { mustContain: ['A'] },
        },
        {
          id: 'B',
          message: 'b',
          steps: [{ id: 'b1', tool: 'slow', args: { n: 3 } }],
          answer: { mustContain: ['B'] },
        },
      ],
    });
    // Issues a1 and b1, answers A as soon as a1's result is in (never issuing a2), then B.
    const agent = scripted((o) => {
      const actions: Action[] = [];
      if (o.decision === 1)
        actions.push(
          { type: 'call', tool: 'quick', args: { n: 1 } },
          { type: 'call', tool: 'slow', args: { n: 3 } },
        );
      for (const d of o.delivered) {
        if (d.type === 'result' && d.tool === 'quick')
          actions.push({ type: 'answer', task: 'A', content: 'A' });
        if (d.type === 'result' && d.tool === 'slow')
          actions.push({ type: 'answer', task: 'B', content: 'B' });
      }
      return { actions: [...actions, { type: 'wait' }] };
    });
    const ep = await runEpisode(scenario, agent, { seed: 1 });
    const s = scoreEpisode(scenario, ep.events);
    expect(s.tasks[0]!.answered).toBe(true);
    expect(s.tasks[0]!.stepsMatched).toBe(1); // a2 was never issued
    expect(s.efficiency.idleUs).toBeGreaterThan(900_000);
    // a2 was "ready" all that time, but its task had been answered: nothing the agent still owed.
    expect(s.efficiency.idleWhileReadyUs).toBe(0);
  });

  it('results completed but not yet polled show as idle while results wait (0 under push)', async () => {
    const scenario = loadScenarioFile('scenarios/examples/chain.json');
    const push = scoreEpisode(
      scenario,
      (await runEpisode(scenario, createAgent('greedy-async'), { seed: 1 })).events,
    );
    const poll = scoreEpisode(
      scenario,
      (
        await runEpisode(scenario, createAgent('greedy-async:pollMs=1000'), {
          seed: 1,
          mode: 'async',
          delivery: 'poll',
        })
      ).events,
    );
    expect(push.efficiency.idleWhileResultsWaitingUs).toBe(0);
    expect(poll.efficiency.idleWhileResultsWaitingUs).toBeGreaterThan(0);
    expect(poll.efficiency.idleWhileResultsWaitingUs).toBeLessThanOrEqual(poll.efficiency.idleUs);
  });
});

describe('the interleaving profile (issue 22)', () => {
  it('greedy-async never switches away from a task with a ready step; sequential, one call at a time, does', async () => {
    const scenario = loadScenarioFile('scenarios/examples/staggered.json');
    const greedy = scoreEpisode(
      scenario,
      (await runEpisode(scenario, createAgent('greedy-async'), { seed: 1 })).events,
    ).interleaving;
    const rr = scoreEpisode(
      scenario,
      (await runEpisode(scenario, createAgent('sequential'), { seed: 1 })).events,
    ).interleaving;
    expect(greedy.switches).toBeGreaterThan(0);
    expect(greedy.switchesLeavingReady).toBe(0);
    expect(rr.switchesLeavingReady).toBeGreaterThan(0);
    for (const p of [greedy, rr]) {
      expect(p.streakLengths.reduce((a, b) => a + b, 0)).toBe(p.switches + 1);
      expect(p.meanStreak).toBeCloseTo(p.actions / (p.switches + 1), 12);
    }
  });
});
