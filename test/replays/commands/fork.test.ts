import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { agentEntries, createAgent } from '../../../agents/index.js';
import { createHash } from 'node:crypto';
import type { EpisodeEvent } from '../../../scenarios/world/events.js';
import type { Scenario } from '../../../scenarios/spec/schema.js';
import {
  ForkAgent,
  forkReplay,
  readReplay,
  recordEpisode,
  replayedDecisions,
  replayScenario,
  verifyReplay,
  type ReplayRead,
} from '../../../replays/index.js';
import { chaoticAgent, exampleScenarios } from '../../support/replays.js';
import { build, dagScenario, dagShapeArb, echoTool, scripted } from '../../support/scenarios.js';

interface Source {
  readonly label: string;
  readonly bytes: Uint8Array;
  readonly read: ReplayRead;
}

const BASELINES = ['sequential', 'parallel-sync', 'greedy-async', 'round-robin', 'critical-path'];

async function sources(): Promise<Source[]> {
  const out: Source[] = [];
  const scenarios: Scenario[] = [
    ...exampleScenarios(),
    ...fc
      .sample(dagShapeArb({ limits: true }), { numRuns: 6, seed: 42 })
      .map((shape) => dagScenario(shape, { kind: 'uniform', minMs: 0, maxMs: 20 })),
  ];
  for (const [i, scenario] of scenarios.entries()) {
    const specs = [
      'greedy-async',
      'sequential',
      'impatient',
      i % 2 === 0 ? 'critical-path:maxInFlight=2' : 'forgetful',
    ];
    for (const spec of specs) {
      const world =
        i % 3 === 0 ? { mode: 'sync' as const } : i % 3 === 1 ? { delivery: 'poll' as const } : {};
      const { bytes } = await recordEpisode({
        scenario,
        agent: createAgent(spec),
        seed: 10 + i,
        ...world,
      });
      out.push({ label: `${scenario.id}/${spec}`, bytes: bytes!, read: readReplay(bytes!) });
    }
    const { bytes } = await recordEpisode({
      scenario,
      agent: chaoticAgent(replayScenario(scenario), i),
      seed: 3,
    });
    out.push({ label: `${scenario.id}/chaotic`, bytes: bytes!, read: readReplay(bytes!) });
  }
  return out;
}

function frameAt(s: { bytes: Uint8Array; read: ReplayRead }, i: number): Buffer {
  return Buffer.from(s.bytes.subarray(s.read.offsets[i]!, s.read.offsets[i + 1]!));
}

/** At most one call in flight per expected step, at every call issue. */
function noDuplicateInFlight(events: readonly EpisodeEvent[]): boolean {
  const inFlight = new Map<number, string>();
  for (const e of events) {
    if (e.type === 'call_issued' && e.step !== null) {
      const key = `${e.task}/${e.step}`;
      if ([...inFlight.values()].includes(key)) return false;
      inFlight.set(e.callId, key);
    } else if (e.type === 'call_completed') inFlight.delete(e.callId);
  }
  return true;
}

describe('fork', () => {
  it('reproduces the first N records exactly, for every N, and the fork verifies on its own', async () => {
    const all = await sources();
    const names = agentEntries().map((e) => e.name);
    await fc.assert(
      fc.asyncProperty(
        fc.nat(all.length - 1),
        fc.nat(),
        fc.constantFrom(...names),
        async (si, nRaw, spec) => {
          const source = all[si]!;
          const n = nRaw % (source.read.events.length + 1);
          const fork = await forkReplay(source.bytes, { at: n, agent: spec });
          const forked = readReplay(fork.bytes!);
          expect(forked.complete).toBe(true);
          for (let i = 0; i < n; i++)
            expect(
              frameAt({ bytes: fork.bytes!, read: forked }, i).equals(frameAt(source, i)),
              `${source.label} at ${n}: record ${i}`,
            ).toBe(true);
          expect(forked.header.agent.spec).toBe(createAgent(spec).spec);
          expect(forked.header.forkedFrom).toEqual({
            sha256: createHash('sha256').update(source.bytes).digest('hex'),
            records: n,
            originalAgent: source.read.header.agent.spec,
            agentSeed: null,
          });
          const verified = await verifyReplay(fork.bytes!);
          expect(verified.ok, verified.ok ? '' : verified.reason).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a baseline taking over catches up: it finishes the job without re-issuing calls in flight', async () => {
    const all = (await sources()).filter(
      (s) =>
        /\/(greedy-async|sequential)$/.test(s.label) &&
        s.read.events.at(-1)?.type === 'episode_ended',
    );
    await fc.assert(
      fc.asyncProperty(
        fc.nat(all.length - 1),
        fc.nat(),
        fc.constantFrom(...BASELINES),
        async (si, nRaw, spec) => {
          const source = all[si]!;
          const n = nRaw % (source.read.events.length + 1);
          const fork = await forkReplay(source.bytes, { at: n, agent: spec });
          expect(noDuplicateInFlight(fork.episode.events)).toBe(true);
          const ended = source.read.events.at(-1)!;
          if (ended.type === 'episode_ended' && ended.reason === 'completed')
            expect(fork.episode.endReason).toBe('completed');
        },
      ),
      { numRuns: 100 },
    );
  });

  it('the new agent first sees everything delivered so far and the calls in flight', async () => {
    const scenario = exampleScenarios().find((s) => s.id === 'example-composite')!;
    const { bytes, episode } = await recordEpisode({
      scenario,
      agent: createAgent('greedy-async'),
      seed: 1,
    });
    // The first decision after the first with calls still in flight when it starts.
    const inFlightAt = (i: number) => {
      const before = episode.events.slice(0, i);
      return (
        before.filter((x) => x.type === 'call_issued').length -
        before.filter((x) => x.type === 'result_delivered').length
      );
    };
    const at = episode.events.findIndex(
      (e, i) => e.type === 'decision_started' && e.decision > 1 && inFlightAt(i) > 0,
    );
    expect(at).toBeGreaterThan(0);
    const decisionAt = (episode.events[at] as { decision: number }).decision;
    const seen: Array<{ delivered: number; pending: number; decision: number }> = [];
    await forkReplay(bytes!, {
      at,
      agent: 'spy',
      makeAgent: () =>
        scripted((o) => {
          seen.push({
            delivered: o.delivered.length,
            pending: o.pending.length,
            decision: o.decision,
          });
          return { actions: [] };
        }, 'spy'),
    });
    const first = seen[0]!;
    expect(first.decision).toBe(decisionAt);
    const deliveredBefore = episode.events
      .slice(0, at)
      .filter(
        (e) =>
          e.type === 'task_arrived' ||
          e.type === 'message_arrived' ||
          e.type === 'result_delivered',
      ).length;
    const deliveredNow = episode.events.slice(at).findIndex((e) => e.type === 'decision_ended');
    expect(first.delivered).toBeGreaterThanOrEqual(deliveredBefore);
    expect(first.delivered).toBeLessThanOrEqual(deliveredBefore + deliveredNow);
    const issued = episode.events.slice(0, at).filter((e) => e.type === 'call_issued').length;
    const completedAndDelivered = episode.events
      .slice(0, at)
      .filter((e) => e.type === 'result_delivered').length;
    expect(first.pending).toBeGreaterThan(0);
    expect(first.pending).toBeLessThanOrEqual(issued - completedAndDelivered);
  });

  it('forks the end of an episode that errored or hit the time limit while thinking', async () => {
    const base = exampleScenarios().find((s) => s.id === 'example-chain')!;
    // The agent throws at its third decision.
    let k = 0;
    const thrower = scripted(() => {
      if (++k === 3) throw new Error('model went away');
      return { actions: [{ type: 'wait', maxUs: 5000 }], thinkUs: 1000 };
    }, 'thrower');
    const errored = await recordEpisode({ scenario: base, agent: thrower, seed: 1 });
    expect(errored.episode.endReason).toBe('errored');
    // The time limit falls inside a long decision.
    const short = build({
      id: 'short',
      tools: [echoTool('t', { kind: 'constant', ms: 10 })],
      tasks: [
        {
          id: 'a',
          message: 'go',
          steps: [{ id: 's', tool: 't', args: { x: 1 } }],
          answer: { mustContain: ['x'] },
        },
      ],
      limits: { maxTimeMs: 500 },
    });
    const limited = await recordEpisode({
      scenario: short,
      agent: createAgent('greedy-async:thinkMs=300'),
      seed: 1,
    });
    expect(limited.episode.endReason).toBe('limit');
    for (const source of [errored, limited]) {
      const read = readReplay(source.bytes!);
      const fork = await forkReplay(source.bytes!, { at: read.events.length, agent: 'sequential' });
      expect(
        Buffer.from(fork.bytes!.subarray(readReplay(fork.bytes!).sizes.header)).equals(
          Buffer.from(source.bytes!.subarray(read.sizes.header)),
        ),
      ).toBe(true);
      expect(fork.handover).toBeNull();
    }
  });

  it('--seed re-seeds only the new agent: the world stays, and the fork verifies', async () => {
    const scenario = exampleScenarios().find((s) => s.id === 'example-fan-out')!;
    const { bytes } = await recordEpisode({ scenario, agent: createAgent('sequential'), seed: 2 });
    const read = readReplay(bytes!);
    for (const seed of [2, 99]) {
      const fork = await forkReplay(bytes!, { at: 5, agent: 'impatient:luck=0.5', seed });
      const forked = readReplay(fork.bytes!);
      expect(forked.header.seed).toBe(2);
      expect(forked.header.forkedFrom!.agentSeed).toBe(seed === 2 ? null : 99);
      expect((await verifyReplay(fork.bytes!)).ok).toBe(true);
      for (let i = 0; i < 5; i++)
        expect(
          frameAt({ bytes: fork.bytes!, read: forked }, i).equals(
            frameAt({ bytes: bytes!, read }, i),
          ),
        ).toBe(true);
    }
    await expect(
      forkReplay(bytes!, { at: read.events.length + 1, agent: 'sequential', file: 'x.ttr' }),
    ).rejects.toThrow(
      `x.ttr: cannot fork at ${read.events.length + 1}: the replay has ${read.events.length} records`,
    );
  });

  it('replayedDecisions takes every decision that starts before N', () => {
    const events: EpisodeEvent[] = [
      { type: 'decision_started', timeUs: 0, decision: 1 },
      { type: 'task_arrived', timeUs: 5, task: 't' },
      {
        type: 'decision_ended',
        timeUs: 10,
        decision: 1,
        thinkUs: 10,
        actions: [{ type: 'poll' }],
        note: null,
      },
      { type: 'decision_started', timeUs: 10, decision: 2 },
      { type: 'decision_ended', timeUs: 20, decision: 2, thinkUs: 10, actions: [], note: 'n' },
    ];
    expect([...replayedDecisions(events, 2).keys()]).toEqual([1]);
    expect([...replayedDecisions(events, 4).entries()]).toEqual([
      [1, { actions: [{ type: 'poll' }], thinkUs: 10, note: null }],
      [2, { actions: [], thinkUs: 10, note: 'n' }],
    ]);
    expect(new ForkAgent('x', new Map(), createAgent('sequential'), null).spec).toBe('x');
  });
});
