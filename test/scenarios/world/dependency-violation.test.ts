import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createAgent } from '../../../agents/index.js';
import { flawedMaker } from '../../../agents/flawed.js';
import type { Agent, AgentContext, Observation } from '../../../scenarios/protocol.js';
import { scoreEpisode } from '../../../scenarios/scoring/episode.js';
import {
  caseToScenario,
  stressCaseArb,
  type StressCase,
} from '../../../scenarios/stress/arbitrary.js';
import { checkDependencies } from '../../../scenarios/stress/checks.js';
import { planOf } from '../../../scenarios/world/compiled.js';
import type { PlanStep } from '../../../scenarios/world/plan.js';
import {
  DeliveredDependencies,
  dependencyViolations,
  EpisodeDeliveries,
} from '../../../scenarios/world/dependency-violation.js';
import type { PlanTracker } from '../../../scenarios/world/tracker.js';
import { runEpisode } from '../../../scenarios/world/world.js';

const constant = { kind: 'constant', ms: 1 } as const;
/** t0: s0 then s1 (s1 after s0); t1 arrives at 50ms with one step of no dependencies. */
const twoTasks: StressCase = {
  tools: [{ latency: constant, concurrency: null, failureRate: 0, timeoutSlackMs: null }],
  tasks: [
    {
      arrivalMs: 0,
      shape: 'chain',
      steps: [
        { tool: 0, deps: [] },
        { tool: 0, deps: [0] },
      ],
    },
    { arrivalMs: 50, shape: 'wide', steps: [{ tool: 0, deps: [] }] },
  ],
  messages: [],
  thinkTime: constant,
};

describe('DeliveredDependencies: the dependency-violation rule', () => {
  const plan = planOf(caseToScenario(twoTasks));
  const [s0, s1] = plan.steps;

  it('a call is a violation until its request is delivered, then until every dependency has a delivered result', () => {
    const rule = new DeliveredDependencies(plan);
    expect(rule.violates(s0!)).toBe(true);
    rule.requestDelivered([s0!, s1!]);
    expect(rule.violates(s0!)).toBe(false);
    expect(rule.violates(s1!)).toBe(true);
    rule.resultDelivered(s0!);
    expect(rule.violates(s1!)).toBe(false);
  });

  it('tells `changed` of each step whose facts changed, once per change', () => {
    const changed: string[] = [];
    const rule = new DeliveredDependencies(plan, (s) => changed.push(s.key));
    rule.requestDelivered([s0!, s0!]);
    rule.resultDelivered(s0!);
    rule.resultDelivered(s0!);
    expect(changed).toEqual(['t0/s0', 't0/s1']);
  });
});

/** `inner`, also calling `early` at its first decision (the plan is known before its tasks arrive). */
function callingEarly(inner: Agent, early: PlanStep): Agent {
  let first = true;
  return {
    spec: inner.spec,
    start: (context: AgentContext) => inner.start?.(context),
    async decide(observation: Observation) {
      const decision = await inner.decide(observation);
      if (!first) return decision;
      first = false;
      return {
        ...decision,
        actions: [...decision.actions, { type: 'call', tool: early.tool, args: early.args }],
      };
    },
  };
}

describe('regression: the stress check used a definition of its own (it ignored whether the request had been delivered)', () => {
  it('a call for a step of a task that has not arrived is a violation for scoring and for the stress check alike', async () => {
    const scenario = caseToScenario(twoTasks);
    const plan = planOf(scenario);
    const agent = callingEarly(createAgent('greedy-async'), plan.step('t1', 's0')!);
    const episode = await runEpisode(scenario, agent, { seed: 1 });
    const score = scoreEpisode(scenario, episode.events);
    expect(score.steps.dependencyViolations).toBe(1);
    const found = dependencyViolations(plan, episode.events);
    expect(found.map((v) => v.step.key)).toEqual(['t1/s0']);
    const check = checkDependencies({
      scenario,
      events: episode.events,
      agentCap: Infinity,
    });
    expect(check?.message).toMatch(/for t1\/s0 was issued at .* before its request was delivered/);
  });
});

describe('scoring and the stress check find the same dependency violations', () => {
  it('on random episodes of sound and flawed agents', async () => {
    let episodesWithViolations = 0;
    await fc.assert(
      fc.asyncProperty(
        stressCaseArb(),
        fc.nat(1000),
        fc.constantFrom('greedy-async', 'early-bird', 'round-robin', 'sequential'),
        fc.option(fc.nat()),
        async (c, seed, name, early) => {
          const scenario = caseToScenario(c);
          const steps = planOf(scenario).steps;
          // Sometimes a call before its request was delivered (the last step's task may not have arrived).
          const agent =
            early === null
              ? flawedMaker(name)
              : callingEarly(flawedMaker(name), steps[early % steps.length]!);
          const episode = await runEpisode(scenario, agent, { seed });
          const fromScoring = scoreEpisode(scenario, episode.events)
            .calls.filter((call) => call.violation)
            .map((call) => call.callId);
          const found = dependencyViolations(planOf(scenario), episode.events);
          expect(found.map((v) => v.callId)).toEqual(fromScoring);
          if (found.length > 0) episodesWithViolations++;
          const check = checkDependencies({
            scenario,
            events: episode.events,
            agentCap: Infinity,
          });
          expect(check?.eventIndex ?? null).toBe(found[0]?.eventIndex ?? null);
        },
      ),
      { numRuns: 200 },
    );
    // The property says something only if some episodes violate.
    expect(episodesWithViolations).toBeGreaterThan(0);
  });
});

describe('scoring reads deliveries through EpisodeDeliveries, as the stress checks do', () => {
  it("a call's outcome is its last completion for both (a stream that completes a call twice, ok then failed)", async () => {
    const scenario = caseToScenario(twoTasks);
    const plan = planOf(scenario);
    const { events } = await runEpisode(scenario, createAgent('greedy-async'), { seed: 1 });
    const at = events.findIndex((e) => e.type === 'call_completed' && e.callId === 1);
    const completed = events[at]!;
    expect(completed).toMatchObject({ type: 'call_completed', ok: true });
    const twice = [
      ...events.slice(0, at + 1),
      { ...completed, ok: false, result: null, error: 'failed after all' },
      ...events.slice(at + 1),
    ] as typeof events;
    // t0/s1 is issued after call 1's result: without a success of t0/s0, a violation for both.
    const violations = dependencyViolations(plan, twice).map((v) => v.step.key);
    const scored = scoreEpisode(scenario, twice).calls.filter((c) => c.violation);
    expect(violations).toEqual(['t0/s1']);
    expect(scored.map((c) => c.callId)).toEqual(
      dependencyViolations(plan, twice).map((v) => v.callId),
    );
  });
});

describe('the tracker (from observations) and the events agree on what was delivered', () => {
  it('at every decision, each step released and with every dependency delivered for the one exactly when for the other', async () => {
    await fc.assert(
      fc.asyncProperty(
        stressCaseArb(),
        fc.nat(1000),
        fc.constantFrom('greedy-async', 'critical-path', 'round-robin', 'sequential'),
        fc.constantFrom('push', 'poll'),
        async (c, seed, name, delivery) => {
          const scenario = caseToScenario(c);
          const plan = planOf(scenario);
          const inner = createAgent(name);
          // What the agent's tracker held after each decision's observation, step by step.
          const seen: string[][] = [];
          const agent: Agent = {
            spec: inner.spec,
            start: (context: AgentContext) => inner.start?.(context),
            decide(observation: Observation) {
              const decision = inner.decide(observation);
              const tracker = (inner as unknown as { tracker: PlanTracker }).tracker;
              seen.push(
                plan.steps.map(
                  (s) =>
                    `${s.key}:${tracker.get(s).released}:${plan.dependencies(s).every((d) => tracker.get(d).done)}`,
                ),
              );
              return decision;
            },
          };
          const episode = await runEpisode(scenario, agent, {
            seed,
            delivery: delivery as 'push' | 'poll',
          });
          const deliveries = new EpisodeDeliveries(plan);
          const fromEvents: string[][] = [];
          for (const ev of episode.events) {
            // A decision's deliveries all precede its end.
            if (ev.type === 'decision_ended')
              fromEvents.push(
                plan.steps.map(
                  (s) =>
                    `${s.key}:${deliveries.delivered.isReleased(s)}:${deliveries.delivered.dependenciesDelivered(s)}`,
                ),
              );
            deliveries.apply(ev);
          }
          expect(fromEvents).toEqual(seen.slice(0, fromEvents.length));
          expect(fromEvents.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 150 },
    );
  });
});
