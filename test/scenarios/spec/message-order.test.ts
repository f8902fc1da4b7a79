/**
 * Follow-up messages arrive in one order (scenarios/spec/message-order.ts): by time, ties in file order,
 * whatever order the file lists them in. The world, the tracker, scoring, the oracle, the stress
 * checks and replays all take it from the plan.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { agentEntries, createAgent } from '../../../agents/index.js';
import { encodeForStress } from '../../../cli/commands/stress.js';
import { readReplay } from '../../../replays/index.js';
import { eventsOfType } from '../../../scenarios/world/events.js';
import { arrivalOrder } from '../../../scenarios/spec/message-order.js';
import { computeOracle } from '../../../scenarios/scoring/oracle.js';
import { planOf } from '../../../scenarios/world/compiled.js';
import { parseCanonicalScenario } from '../../../scenarios/spec/canonical-scenario.js';
import type { Scenario } from '../../../scenarios/spec/schema.js';
import { scoreEpisode } from '../../../scenarios/scoring/index.js';
import { caseToScenario, stressCaseArb } from '../../../scenarios/stress/arbitrary.js';
import { runChecks, CHECK_NAMES } from '../../../scenarios/stress/checks.js';
import { validateScenario } from '../../../scenarios/spec/validate.js';
import { runEpisode } from '../../../scenarios/world/world.js';
import { build, echoTool } from '../../support/scenarios.js';

const BASELINES = agentEntries()
  .filter((e) => e.kind === 'baseline')
  .map((e) => e.name);

/** One task; its follow-up at 3000ms listed before the one at 500ms, each adding a step and an answer. */
function outOfOrder(messagesInFileOrder = true): Scenario {
  const late = {
    atMs: 3000,
    task: 't',
    text: 'and three',
    steps: [{ id: 's3', tool: 'e', args: { n: 3 }, after: ['s1'] }],
    answer: { mustContain: ['one', 'two', 'three'] },
  };
  const early = {
    atMs: 500,
    task: 't',
    text: 'and two',
    steps: [{ id: 's2', tool: 'e', args: { n: 2 }, after: ['s1'] }],
    answer: { mustContain: ['one', 'two'] },
  };
  return build({
    id: 'follow-ups-out-of-order',
    tools: [echoTool('e', { kind: 'constant', ms: 100 })],
    tasks: [
      {
        id: 't',
        message: 'do one',
        steps: [{ id: 's1', tool: 'e', args: { n: 1 } }],
        answer: { mustContain: ['one'] },
      },
    ],
    messages: messagesInFileOrder ? [late, early] : [early, late],
  });
}

describe('regression: follow-ups listed out of time order (3000ms before 500ms)', () => {
  for (const agent of BASELINES) {
    it(`${agent} scores 100% task success with no violation, as on the sorted file`, async () => {
      const listed = outOfOrder();
      const sorted = outOfOrder(false);
      expect(validateScenario(JSON.parse(JSON.stringify(listed)))).toEqual([]);
      const episode = await runEpisode(listed, createAgent(agent), { seed: 1 });
      const score = scoreEpisode(listed, episode.events);
      expect(episode.endReason).toBe('completed');
      expect(score.success).toBe(true);
      expect(score.steps.dependencyViolations).toBe(0);
      expect(eventsOfType(episode.events, 'answer_given').at(-1)!.content).toBe('one; two; three');
      expect(episode.events).toEqual(
        (await runEpisode(sorted, createAgent(agent), { seed: 1 })).events,
      );
    });
  }

  it('the plan lists them in arrival order and keeps where the file had them', () => {
    const plan = planOf(outOfOrder());
    expect(plan.messages.map((m) => [m.index, m.fileIndex, m.atUs])).toEqual([
      [0, 1, 500_000],
      [1, 0, 3_000_000],
    ]);
    expect(plan.steps.map((s) => [s.key, s.message])).toEqual([
      ['t/s1', null],
      ['t/s2', 0],
      ['t/s3', 1],
    ]);
    expect(plan.tasks[0]!.answer.mustContain).toEqual(['one', 'two', 'three']);
  });
});

describe('the order of follow-ups', () => {
  it('is by time, then file position; times that are not numbers of ms go last', () => {
    expect(
      arrivalOrder([{ atMs: 3 }, { atMs: 1 }, { atMs: 3 }, { atMs: 0.0004 }, { atMs: 0 }]),
    ).toEqual([3, 4, 1, 0, 2]);
    expect(arrivalOrder([{ atMs: Number.NaN }, { atMs: 5 }, { atMs: Number.MAX_VALUE }])).toEqual([
      1, 0, 2,
    ]);
  });

  it('follow-ups at the same instant arrive in file order: the later-listed answer is the final one', async () => {
    const base = outOfOrder();
    const tied = build({ ...base, messages: base.messages.map((m) => ({ ...m, atMs: 700 })) });
    const episode = await runEpisode(tied, createAgent('greedy-async'), { seed: 1 });
    expect(eventsOfType(episode.events, 'message_arrived').map((e) => [e.index, e.timeUs])).toEqual(
      [
        [0, 700_000],
        [1, 700_000],
      ],
    );
    expect(planOf(tied).messages.map((m) => m.fileIndex)).toEqual([0, 1]);
    expect(eventsOfType(episode.events, 'answer_given').at(-1)!.content).toBe('one; two');
    expect(scoreEpisode(tied, episode.events).success).toBe(true);
  });

  it("a follow-up's step may depend on one added by a follow-up listed after it that arrives before it", () => {
    const doc = JSON.parse(JSON.stringify(outOfOrder())) as {
      messages: Array<{ steps: Array<{ after: string[] }> }>;
    };
    doc.messages[0]!.steps[0]!.after = ['s1', 's2'];
    expect(validateScenario(doc)).toEqual([]);
    doc.messages[0]!.steps[0]!.after = ['s1'];
    doc.messages[1]!.steps[0]!.after = ['s1', 's3'];
    expect(validateScenario(doc)).toEqual([
      {
        path: 'messages[1].steps[0].after',
        message: 'step "s3" is added by messages[0], which does not come before this follow-up',
      },
    ]);
  });
});

/**
 * The messages listed in `order` (a permutation of file positions), except that messages at the same
 * instant keep their relative order: the permutation picks which instant each position holds, and
 * the messages of an instant fill its positions in file order.
 */
function relist<T extends { atMs: number }>(messages: readonly T[], order: readonly number[]): T[] {
  const byInstant = new Map<number, T[]>();
  for (const m of messages) byInstant.set(m.atMs, [...(byInstant.get(m.atMs) ?? []), m]);
  return order.map((i) => byInstant.get(messages[i]!.atMs)!.shift()!);
}

describe('property: the same follow-ups listed in another order give the same episode, score and oracle', () => {
  const permutation = (n: number) =>
    fc.array(fc.nat(), { minLength: n, maxLength: n }).map((keys) =>
      keys
        .map((k, i) => [k, i] as const)
        .sort((a, b) => a[0] - b[0] || a[1] - b[1])
        .map(([, i]) => i),
    );
  const arb = stressCaseArb({ maxTasks: 4, maxSteps: 4, maxMessages: 6 })
    .filter((c) => c.messages.length >= 2)
    .chain((c) =>
      fc.tuple(
        fc.constant(c),
        permutation(c.messages.length),
        fc.nat(1_000_000),
        fc.constantFrom(...BASELINES),
      ),
    );

  it('on every baseline, over random cases and orders', async () => {
    await fc.assert(
      fc.asyncProperty(arb, async ([c, order, seed, agent]) => {
        const scenario = caseToScenario(c);
        const relisted = parseCanonicalScenario({
          ...scenario,
          messages: relist(scenario.messages, order),
        });
        const a = await runEpisode(scenario, createAgent(agent), { seed });
        const b = await runEpisode(relisted, createAgent(agent), { seed });
        expect(b.events).toEqual(a.events);
        const oracle = await computeOracle(scenario, { seed });
        expect(await computeOracle(relisted, { seed })).toEqual(oracle);
        const reference = { boundUs: oracle.boundUs };
        expect(scoreEpisode(relisted, b.events, reference)).toEqual(
          scoreEpisode(scenario, a.events, reference),
        );
        // The stress checks read it the same way, and its replay (header: the file as listed) decodes to the same events.
        const check = (s: Scenario, events: typeof a.events) =>
          runChecks({ scenario: s, events, agentCap: Infinity }, CHECK_NAMES, {
            starvationDecisions: 25,
            efficiencyFactor: 10,
          });
        expect(check(relisted, b.events)).toEqual(check(scenario, a.events));
        expect(
          readReplay(encodeForStress(relisted, agent, seed, 'async', 'push', b.events)).events,
        ).toEqual(a.events);
      }),
      { numRuns: 300 },
    );
  });
});

describe('regression: greedy-async on the shrunk stress case whose two follow-ups of t0 are listed out of order', () => {
  it('passes every check (it was starvation, from fast-check seed 1 with --runs 500)', async () => {
    const file = join(import.meta.dirname, 'fixtures', 'stress-followups-out-of-order.json');
    const scenario = parseCanonicalScenario(JSON.parse(readFileSync(file, 'utf8')), file);
    expect(scenario.messages.map((m) => [m.task, m.atMs])).toEqual([
      ['t0', 73],
      ['t0', 0],
    ]);
    const agent = createAgent('greedy-async');
    const episode = await runEpisode(scenario, agent, { seed: 0 });
    const options = { starvationDecisions: 25, efficiencyFactor: 10 };
    expect(
      runChecks(
        {
          scenario,
          events: episode.events,
          agentCap: agent.maxInFlight ?? Infinity,
        },
        CHECK_NAMES,
        options,
      ),
    ).toBeNull();
  });
});
