import { describe, expect, it } from 'vitest';
import { createAgent } from '../../agents/index.js';
import { scoreEpisode } from '../../scenarios/scoring/index.js';
import { runEpisode } from '../../scenarios/world/world.js';
import { build } from '../support/scenarios.js';

/** Two concurrent tasks of the same shape: look an order up, then ship it by the id the lookup returns. */
const twoChains = build({
  id: 'two-chains',
  thinkTime: { kind: 'constant', ms: 50 },
  tools: [
    {
      name: 'find_order',
      description: 'find an order by customer',
      parameters: {
        type: 'object',
        properties: { customer: { type: 'string' } },
        required: ['customer'],
      },
      latency: { kind: 'constant', ms: 2000 },
      impl: {
        kind: 'table',
        rows: [
          { args: { customer: 'ann' }, result: { order: { id: 'ORD-1' } } },
          { args: { customer: 'bob' }, result: { order: { id: 'ORD-2' } } },
        ],
        default: { error: 'no such customer' },
      },
    },
    {
      name: 'ship_order',
      description: 'ship an order',
      parameters: {
        type: 'object',
        properties: { orderId: { type: 'string' } },
        required: ['orderId'],
      },
      latency: { kind: 'constant', ms: 500 },
      impl: {
        kind: 'table',
        rows: [
          { args: { orderId: 'ORD-1' }, result: { tracking: 'TRK-1' } },
          { args: { orderId: 'ORD-2' }, result: { tracking: 'TRK-2' } },
        ],
        default: { error: 'no such order' },
      },
    },
  ],
  tasks: ['ann', 'bob'].map((customer, i) => ({
    id: `t${i + 1}`,
    arrivalMs: i * 300,
    message: `Ship ${customer}'s order and give me the tracking number.`,
    steps: [
      { id: 'find', tool: 'find_order', args: { customer } },
      {
        id: 'ship',
        tool: 'ship_order',
        args: { orderId: `ORD-${i + 1}` },
        after: ['find'],
        inputs: [{ arg: 'orderId', from: 'find', path: 'order.id' }],
      },
    ],
    answer: { mustContain: [`TRK-${i + 1}`] },
  })),
});

async function score(spec: string, seed = 1) {
  const episode = await runEpisode(twoChains, createAgent(spec), { seed });
  return scoreEpisode(twoChains, episode.events, { boundUs: null });
}

describe('failure-mode agents yield the failure they are meant to, and scoring catches it', () => {
  it('greedy-async yields none of them', async () => {
    const s = await score('greedy-async');
    expect(s.success).toBe(true);
    expect(s.steps.dependencyViolations).toBe(0);
    expect(s.steps.unmatchedCalls).toBe(0);
    expect(s.steps.f1).toBe(1);
  });

  it('impatient with lucky guesses: right args, issued before the input arrived: dependency violations', async () => {
    const s = await score('impatient:luck=1');
    expect(s.steps.dependencyViolations).toBe(2);
    expect(s.steps.unmatchedCalls).toBe(0);
    expect(s.success).toBe(false);
    expect(s.tasks.every((t) => t.violations === 1 && !t.success)).toBe(true);
  });

  it('impatient with unlucky guesses: calls that match no step (it recovers by retrying once the input arrives)', async () => {
    const s = await score('impatient:luck=0');
    expect(s.steps.unmatchedCalls).toBe(2);
    expect(s.steps.precision).toBe(4 / 6);
    expect(s.steps.dependencyViolations).toBe(0);
  });

  it('forgetful abandons a task it waited on too long: never answered', async () => {
    const s = await score('forgetful:patienceMs=1000');
    expect(s.tasks.some((t) => !t.answered)).toBe(true);
    expect(s.success).toBe(false);
    expect(s.counts.endReason).toBe('stalled');
  });

  it('confused mixes data across tasks: one task ships the other task order', async () => {
    const s = await score('confused');
    expect(s.steps.redundantCalls + s.steps.unmatchedCalls).toBeGreaterThan(0);
    expect(s.tasks.some((t) => !t.success)).toBe(true);
    expect(s.success).toBe(false);
  });

  it('hasty answers before all steps are done', async () => {
    const s = await score('hasty');
    expect(s.tasks.every((t) => t.answered && t.stepsGrounded < t.stepsExpected)).toBe(true);
    expect(s.tasks.every((t) => !t.answerCorrect)).toBe(true);
    expect(s.success).toBe(false);
  });
});
