import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AgentSpecError,
  agentEntries,
  canonicalSpec,
  createAgent,
  isModuleSpec,
} from '../../agents/index.js';
import { eventsOfType } from '../../scenarios/world/events.js';
import { computeOracle } from '../../scenarios/scoring/oracle.js';
import { runEpisode } from '../../scenarios/world/world.js';
import {
  build,
  constantLatencies,
  dagScenario,
  dagShapeArb,
  echoTool,
} from '../support/scenarios.js';

describe('agent specs', () => {
  it('parses names and parameters into a canonical spec', () => {
    expect(canonicalSpec('greedy-async')).toBe('greedy-async');
    expect(canonicalSpec(' greedy-async:retry=1,maxInFlight=2 ')).toBe(
      'greedy-async:maxInFlight=2,retry=1',
    );
    expect(createAgent('impatient:luck=0').spec).toBe('impatient:luck=0');
    expect(canonicalSpec('sequential:maxInFlight=inf')).toBe('sequential:maxInFlight=Infinity');
  });

  it('rejects bad specs with a message naming the problem', () => {
    expect(() => createAgent('greedy')).toThrow(/unknown agent "greedy" \(known: sequential/);
    expect(() => createAgent('greedy-async:fast=1')).toThrow(
      /unknown parameter "fast" \(known: maxInFlight/,
    );
    expect(() => createAgent('greedy-async:maxInFlight=0')).toThrow(
      /maxInFlight must be at least 1/,
    );
    expect(() => createAgent('greedy-async:maxInFlight=1.5')).toThrow(/whole number/);
    expect(() => createAgent('greedy-async:retry')).toThrow(/is not key=value/);
    expect(() => createAgent('impatient:luck=2')).toThrow(/at most 1/);
    expect(() => createAgent('greedy-async:thinkMs=x')).toThrow(AgentSpecError);
  });

  it('tells a policy module from a registered agent or a model by the name alone, never throwing on the parameters', () => {
    expect(isModuleSpec('./policies/p.mjs:maxInFlight=2')).toBe(true);
    expect(isModuleSpec('/abs/p.js')).toBe(true);
    expect(isModuleSpec('p.cjs')).toBe(true);
    expect(isModuleSpec('greedy-async:maxInFlight=2')).toBe(false);
    // A model's spec has a colon that is no parameter list.
    expect(isModuleSpec('openai:gpt-4o-mini')).toBe(false);
    expect(isModuleSpec('greedy-async:retry')).toBe(false);
  });

  it('lists every agent with its kind and parameters', () => {
    const names = agentEntries().map((e) => e.name);
    expect(names).toEqual([
      'sequential',
      'parallel-sync',
      'greedy-async',
      'explorer',
      'round-robin',
      'critical-path',
      'impatient',
      'forgetful',
      'confused',
      'hasty',
    ]);
    for (const e of agentEntries()) expect(e.params.map((p) => p.name)).toContain('maxInFlight');
  });
});

describe('baseline policies', () => {
  const baselines = ['sequential', 'parallel-sync', 'greedy-async', 'round-robin', 'critical-path'];

  it('every baseline completes random scenarios in every mode, within its in-flight cap', async () => {
    await fc.assert(
      fc.asyncProperty(
        dagShapeArb({ limits: true }),
        fc.nat(1000),
        fc.constantFrom(...baselines),
        fc.constantFrom('async', 'sync'),
        fc.constantFrom('push', 'poll'),
        fc.integer({ min: 1, max: 3 }),
        async (shape, seed, name, mode, delivery, cap) => {
          const scenario = dagScenario(shape, { kind: 'constant', ms: 10 });
          const ep = await runEpisode(scenario, createAgent(`${name}:maxInFlight=${cap}`), {
            seed,
            mode,
            delivery,
          });
          expect(ep.endReason).toBe('completed');
          let inFlight = 0;
          for (const e of ep.events) {
            if (e.type === 'call_issued') inFlight++;
            if (e.type === 'call_completed') inFlight--;
            expect(inFlight).toBeLessThanOrEqual(name === 'sequential' ? 1 : cap);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('with zero think time, no limits and constant latencies, greedy-async reaches the critical-path bound exactly and never loses to sequential', async () => {
    await fc.assert(
      fc.asyncProperty(dagShapeArb().map(constantLatencies), fc.nat(1000), async (shape, seed) => {
        const scenario = dagScenario(shape);
        const oracle = await computeOracle(scenario, { seed });
        const greedy = await runEpisode(scenario, createAgent('greedy-async'), { seed });
        const sequential = await runEpisode(scenario, createAgent('sequential'), { seed });
        expect(greedy.makespanUs).toBe(oracle.boundUs);
        expect(greedy.makespanUs).toBeLessThanOrEqual(sequential.makespanUs);
      }),
      { numRuns: 200 },
    );
  });

  it('retries a failed step up to its retry limit, then answers without it', async () => {
    const scenario = build({
      id: 'always-fails',
      tools: [
        echoTool('broken', { kind: 'constant', ms: 5 }, { failure: { rate: 1, message: 'down' } }),
      ],
      tasks: [
        {
          id: 't',
          message: 'go',
          steps: [{ id: 's', tool: 'broken', args: {} }],
          answer: { mustContain: ['x'] },
        },
      ],
    });
    const ep = await runEpisode(scenario, createAgent('greedy-async:retry=2'), { seed: 1 });
    expect(eventsOfType(ep.events, 'call_issued')).toHaveLength(3);
    expect(ep.endReason).toBe('completed');
  });

  it('round-robin issues one step per decision, alternating between tasks', async () => {
    const scenario = dagScenario({
      tasks: [
        { arrivalMs: 0, deps: [[], []] },
        { arrivalMs: 0, deps: [[], []] },
      ],
      tools: 1,
      toolOf: [0],
      concurrency: [null],
      latencyMs: [{ minMs: 100, maxMs: 100 }],
    });
    const ep = await runEpisode(scenario, createAgent('round-robin:thinkMs=1'), { seed: 1 });
    const issued = eventsOfType(ep.events, 'call_issued');
    expect(issued.map((c) => c.task)).toEqual(['t0', 't1', 't0', 't1']);
    expect(new Set(issued.map((c) => c.timeUs)).size).toBe(4);
  });

  it('critical-path puts the longest remaining chain first when the cap forces a choice', async () => {
    // t0 has two short independent steps; t1 a short step then a long one. With two calls in flight,
    // plan order runs both short t0 steps first and delays the chain; critical-path starts the chain at once.
    const scenario = build({
      id: 'cp',
      tools: [
        echoTool('quick', { kind: 'constant', ms: 10 }),
        echoTool('long', { kind: 'constant', ms: 1000 }),
      ],
      tasks: [
        {
          id: 't0',
          message: 'short',
          steps: [
            { id: 'a1', tool: 'quick', args: { n: 0 } },
            { id: 'a2', tool: 'quick', args: { n: 3 } },
          ],
          answer: { mustContain: ['x'] },
        },
        {
          id: 't1',
          message: 'long',
          steps: [
            { id: 'b', tool: 'quick', args: { n: 1 } },
            { id: 'c', tool: 'long', args: { n: 2 }, after: ['b'] },
          ],
          answer: { mustContain: ['y'] },
        },
      ],
    });
    const cp = await runEpisode(scenario, createAgent('critical-path:maxInFlight=2'), { seed: 1 });
    expect(eventsOfType(cp.events, 'call_issued')[0]!.step).toBe('b');
    const greedy = await runEpisode(scenario, createAgent('greedy-async:maxInFlight=2'), {
      seed: 1,
    });
    expect(
      eventsOfType(greedy.events, 'call_issued')
        .slice(0, 2)
        .map((c) => c.step),
    ).toEqual(['a1', 'a2']);
    expect(cp.makespanUs).toBe(1_010_000);
    expect(greedy.makespanUs).toBe(1_020_000);
  });
});

describe('documented case: with think time, async can lose to sync', () => {
  it('scenarios/examples/think-time.json: greedy-async ends at 3.950 s in sync mode and 4.000 s in async mode', async () => {
    const { loadScenarioFile } = await import('../../scenarios/spec/load.js');
    const { ROOT } = await import('../support/cli.js');
    const scenario = loadScenarioFile(`${ROOT}/scenarios/examples/think-time.json`);
    const sync = await runEpisode(scenario, createAgent('greedy-async'), { seed: 1, mode: 'sync' });
    const async = await runEpisode(scenario, createAgent('greedy-async'), {
      seed: 1,
      mode: 'async',
    });
    // Sync: decide 0-0.95, both lookups block until 1.95, decide, brief 2.90-3.00, decide, answer 3.95.
    expect(sync.makespanUs).toBe(3_950_000);
    // Async: the 1.05 s result starts a decision that is still running when the 1.95 s one lands,
    // so the brief waits for the decision after it: issued at 2.95, answered at 4.00.
    expect(async.makespanUs).toBe(4_000_000);
    expect(eventsOfType(async.events, 'call_issued').at(-1)!.timeUs).toBe(2_950_000);
  });
});
