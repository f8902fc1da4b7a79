import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { agentEntries, createAgent, GreedyAsync } from '../../../agents/index.js';
import { COMMON_PARAMS } from '../../../agents/policy.js';
import { parseParams } from '../../../agents/spec.js';
import { IndexSet, type PlanTask } from '../../../scenarios/world/plan.js';
import type { Agent, AgentContext, Observation } from '../../../scenarios/protocol.js';
import { caseToScenario, stressCaseArb } from '../../../scenarios/stress/arbitrary.js';
import type { PlanTracker } from '../../../scenarios/world/tracker.js';
import { runEpisode } from '../../../scenarios/world/world.js';

/** The agent, checking its tracker's incremental sets against their definitions after every decision. */
function checked(agent: Agent): Agent & { checks: number } {
  const wrapped = {
    spec: agent.spec,
    checks: 0,
    start: (context: AgentContext) => agent.start?.(context),
    decide(observation: Observation) {
      const decision = agent.decide(observation);
      (agent as unknown as { tracker: PlanTracker }).tracker.checkInvariants();
      wrapped.checks++;
      return decision;
    },
  };
  return wrapped;
}

/** greedy-async asking `shouldAnswer` about every task awaiting an answer, as policies did before `answerCandidates`. */
class AskEveryOpenTask extends GreedyAsync {
  protected override answerCandidates(): readonly PlanTask[] {
    return this.tracker.tasksAwaitingAnswer();
  }
}

const modes = fc.constantFrom(['async', 'push'], ['async', 'poll'], ['sync', 'push'] as const);

describe('plan tracker', () => {
  it('keeps its ready, answerable and in-flight sets equal to their definitions, for every agent, mode, cap and retry limit', async () => {
    const agents = agentEntries().map((e) => e.name);
    await fc.assert(
      fc.asyncProperty(
        stressCaseArb(),
        fc.nat(1000),
        fc.constantFrom(...agents),
        modes,
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 2 }),
        async (c, seed, name, [mode, delivery], cap, retry) => {
          const agent = checked(createAgent(`${name}:maxInFlight=${cap},retry=${retry}`));
          const ep = await runEpisode(caseToScenario(c), agent, {
            seed,
            mode: mode as 'async' | 'sync',
            delivery: delivery as 'push' | 'poll',
          });
          expect(ep.endReason).not.toBe('errored');
          expect(agent.checks).toBeGreaterThan(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('asking only settled tasks answers exactly what asking every open task would (same events, with failures and retries given up)', async () => {
    await fc.assert(
      fc.asyncProperty(
        stressCaseArb(),
        fc.nat(1000),
        modes,
        fc.integer({ min: 0, max: 2 }),
        async (c, seed, [mode, delivery], retry) => {
          const scenario = caseToScenario(c);
          const options = {
            seed,
            mode: mode as 'async' | 'sync',
            delivery: delivery as 'push' | 'poll',
          };
          const spec = `greedy-async:retry=${retry}`;
          const settled = await runEpisode(scenario, createAgent(spec), options);
          const everyOpen = await runEpisode(
            scenario,
            new AskEveryOpenTask(
              spec,
              parseParams('greedy-async', [['retry', String(retry)]], COMMON_PARAMS).params,
            ),
            options,
          );
          expect(settled.events).toEqual(everyOpen.events);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('IndexSet', () => {
  it('holds what a set would after any adds and deletes, in increasing order', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat(40)), { maxLength: 200 }), (ops) => {
        const set = new IndexSet();
        const model = new Set<number>();
        for (const [add, index] of ops) {
          if (add) {
            set.add(index);
            model.add(index);
          } else {
            set.delete(index);
            model.delete(index);
          }
          expect(set.values()).toEqual([...model].sort((a, b) => a - b));
          expect(set.size).toBe(model.size);
          expect(set.has(index)).toBe(add);
        }
      }),
      { numRuns: 500 },
    );
  });
});
