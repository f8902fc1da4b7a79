import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAgent } from '../../../agents/index.js';
import type { EpisodeEvent } from '../../../scenarios/world/events.js';
import { runExperiment } from '../../../scenarios/experiment.js';
import { examplesDir, readJsonFile } from '../../../scenarios/spec/load.js';
import type { Agent } from '../../../scenarios/protocol.js';
import { parseScenario } from '../../../scenarios/spec/validate.js';
import {
  checkGolden,
  diffReplays,
  encodeReplay,
  ForkAgent,
  MemorySink,
  ReplayRecorder,
  formatChrome,
  formatJsonl,
  formatText,
  GOLDEN_AGENTS,
  goldenDir,
  readReplay,
  recordEpisode,
  replayedDecisions,
  replayScenario,
  verifyReplay,
} from '../../../replays/index.js';
import { chaoticAgent, exampleScenarios } from '../../support/replays.js';

const goldenFiles = readdirSync(goldenDir())
  .filter((f) => f.endsWith('.ttr'))
  .sort();

/** A golden replay with record `index` replaced by `change(event)`, re-encoded. */
function altered(
  bytes: Uint8Array,
  pick: (events: readonly EpisodeEvent[]) => number,
  change: (e: EpisodeEvent) => EpisodeEvent,
): { bytes: Uint8Array; index: number; original: EpisodeEvent; changed: EpisodeEvent } {
  const read = readReplay(bytes);
  const index = pick(read.events);
  const events = [...read.events];
  const original = events[index]!;
  const changed = change(original);
  events[index] = changed;
  return { bytes: encodeReplay(read.header, events, read.scenario), index, original, changed };
}

describe('golden replays', () => {
  it('one per example scenario and golden agent, seed 1', () => {
    expect(goldenFiles.length).toBe(exampleScenarios().length * GOLDEN_AGENTS.length);
    for (const s of exampleScenarios())
      for (const a of GOLDEN_AGENTS) expect(goldenFiles).toContain(`${s.id}--${a}--seed1.ttr`);
  });

  it('re-recording them gives the stored bytes', async () => {
    const result = await checkGolden();
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
  });

  it('every golden replay verifies', async () => {
    for (const f of goldenFiles) {
      const result = await verifyReplay(new Uint8Array(readFileSync(join(goldenDir(), f))), {
        file: f,
      });
      expect(result.ok, result.ok ? '' : result.reason).toBe(true);
    }
  });
});

describe('verify', () => {
  const bytes = new Uint8Array(
    readFileSync(join(goldenDir(), 'example-retry--greedy-async--seed1.ttr')),
  );

  it('fails at the altered record, showing both versions and the 5 records before it', async () => {
    const cases = [
      altered(
        bytes,
        (ev) => ev.findIndex((e, i) => i > 10 && e.type === 'call_completed'),
        (e) => ({ ...e, result: { tampered: true } }) as EpisodeEvent,
      ),
      altered(
        bytes,
        (ev) => ev.findIndex((e) => e.type === 'decision_ended' && e.actions.length > 0),
        (e) => ({ ...e, note: 'edited' }) as EpisodeEvent,
      ),
      altered(
        bytes,
        (ev) => ev.length - 1,
        (e) => ({ ...e, detail: 'x' }) as EpisodeEvent,
      ),
    ];
    for (const c of cases) {
      const result = await verifyReplay(c.bytes, { file: 'altered.ttr' });
      expect(result.ok).toBe(false);
      if (result.ok) continue;
      expect(result.reason).toBe(`record ${c.index} differs`);
      expect(result.divergence!.index).toBe(c.index);
      expect(result.divergence!.recorded).toEqual(c.changed);
      expect(result.divergence!.rerun).toEqual(c.original);
      expect(result.divergence!.before).toEqual(
        readReplay(bytes).events.slice(Math.max(0, c.index - 5), c.index),
      );
    }
  });

  it('reports a recording that stops early or goes on', async () => {
    const read = readReplay(bytes);
    const shorter = await verifyReplay(
      encodeReplay(read.header, read.events.slice(0, 20), read.scenario),
    );
    expect(shorter.ok).toBe(false);
    if (!shorter.ok) {
      expect(shorter.reason).toBe('the recording ends after 20 records; the re-run goes on');
      expect(shorter.divergence!.index).toBe(20);
      expect(shorter.divergence!.recorded).toBeNull();
    }
    const truncated = await verifyReplay(bytes.subarray(0, read.offsets[20]!));
    expect(truncated.ok).toBe(false);
    if (!truncated.ok)
      expect(truncated.reason).toMatch(
        /^truncated: no trailer after 20 records .*; its 20 records match the re-run, which has \d+$/,
      );
  });

  it('fails on a header whose checksum alone is broken, naming the checksum', async () => {
    const read = readReplay(bytes);
    const bad = bytes.slice();
    bad[read.offsets[0]! - 1]! ^= 0x01; // the last byte of the header frame's CRC
    await expect(verifyReplay(bad, { file: 'h.ttr' })).rejects.toThrow(
      /^h\.ttr: header at byte \d+: checksum mismatch/,
    );
  });

  it('lets a caller supply the agent (as a model agent will, from recorded responses)', async () => {
    const scenario = replayScenario(exampleScenarios().find((s) => s.id === 'example-diamond')!);
    const chaotic = (await recordEpisode({ scenario, agent: chaoticAgent(scenario, 9), seed: 1 }))
      .bytes!;
    await expect(verifyReplay(chaotic, { file: 'c.ttr' })).rejects.toThrow(
      /^c\.ttr: cannot re-create agent "chaotic"/,
    );
    const replayer = (_header: unknown, events: readonly EpisodeEvent[]) =>
      new ForkAgent(
        'chaotic',
        replayedDecisions(events, events.length),
        createAgent('sequential'),
        null,
      );
    expect((await verifyReplay(chaotic, { makeAgent: replayer })).ok).toBe(true);
  });
});

describe('diff and inspect', () => {
  const read = (f: string) =>
    readReplay(new Uint8Array(readFileSync(join(goldenDir(), f))), { file: f });

  it('diff finds the first divergence and summarises both episodes', () => {
    const a = read('example-composite--greedy-async--seed1.ttr');
    const b = read('example-composite--sequential--seed1.ttr');
    const d = diffReplays(a, b);
    expect(d.sameEvents).toBe(false);
    expect(d.header).toEqual(['agent: "greedy-async" -> "sequential"']);
    const i = d.divergence!.index;
    expect(i).toBeGreaterThan(0);
    expect(JSON.stringify(a.events.slice(1, i))).toBe(JSON.stringify(b.events.slice(1, i)));
    expect(d.divergence!.a).toEqual(a.events[i]);
    expect(d.a.calls).toBe(a.events.filter((e) => e.type === 'call_issued').length);
    expect(d.b.makespanUs).toBeGreaterThan(d.a.makespanUs);
    expect(d.a.score!.success).toBe(true);
    expect(diffReplays(a, a).divergence).toBeNull();
  });

  it('text, jsonl and chrome formats', () => {
    const r = read('example-concurrency--greedy-async--seed1.ttr');
    const text = formatText(r).split('\n');
    expect(text[0]).toMatch(
      /^# example-concurrency--greedy-async--seed1\.ttr: scenario example-concurrency, agent greedy-async, seed 1, async\/push/,
    );
    expect(text.filter((l) => /^\s+\d+\s+\d+\.\d{3} ms {2}\w+/.test(l)).length).toBe(
      r.events.length,
    );
    const lines = formatJsonl(r)
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]!.header).toEqual(JSON.parse(JSON.stringify(r.header)));
    expect(lines.slice(1)).toEqual(JSON.parse(JSON.stringify(r.events)));
    const trace = JSON.parse(formatChrome(r)) as {
      traceEvents: Array<{
        ph: string;
        name: string;
        tid: number;
        ts?: number;
        dur?: number;
        args?: { name?: string };
      }>;
    };
    const names = trace.traceEvents
      .filter((e) => e.ph === 'M' && e.name === 'thread_name')
      .map((e) => e.args!.name);
    expect(names).toContain('agent (thinking)');
    expect(names).toContain('task t1');
    expect(names.filter((n) => n!.startsWith('tool render_thumbnail')).length).toBeGreaterThan(1);
    const calls = trace.traceEvents.filter(
      (e) => e.ph === 'X' && e.name.startsWith('render_thumbnail #'),
    );
    expect(calls.length).toBe(4);
    expect(trace.traceEvents.filter((e) => e.name === 'queued').length).toBe(3);
    // Spans on one lane never overlap unless nested.
    const byTid = new Map<number, Array<{ ts: number; end: number }>>();
    for (const e of trace.traceEvents)
      if (e.ph === 'X')
        byTid.set(e.tid, [...(byTid.get(e.tid) ?? []), { ts: e.ts!, end: e.ts! + e.dur! }]);
    for (const spans of byTid.values()) {
      for (const x of spans)
        for (const y of spans)
          if (x !== y && x.ts < y.ts && y.ts < x.end) expect(y.end).toBeLessThanOrEqual(x.end);
    }
  });
});

describe('runs record what their re-runs reproduce', () => {
  /** greedy-async, noting each result it is delivered as JSON text, keys in their order (as a model's prompt shows them). */
  const keyReader = (): Agent => {
    const inner = createAgent('greedy-async');
    return {
      spec: 'greedy-async',
      start: (info) => inner.start?.(info),
      decide: async (o) => {
        const texts = o.delivered.flatMap((d) =>
          d.type === 'result' ? [JSON.stringify(d.result)] : [],
        );
        return { ...(await inner.decide(o)), note: texts.length === 0 ? null : texts };
      },
    };
  };

  it('an episode of tooltime run runs on the canonical scenario its replay holds: an agent that reads key order re-runs it exactly', async () => {
    // The file as written (tables with keys id, departs, priceUsd), not the loader's canonical form.
    const scenario = parseScenario(readJsonFile(join(examplesDir(), 'chain.json')), 'chain.json');
    const sink = new MemorySink();
    const notes: unknown[] = [];
    await runExperiment({
      instances: [{ scenario, file: 'chain.json' }],
      agents: ['greedy-async'],
      seeds: [1],
      mode: 'async',
      delivery: 'push',
      makeAgent: keyReader,
      recorder: (key, s) => {
        const recorder = ReplayRecorder.open(sink, {
          scenario: s,
          agent: key.agent,
          seed: key.seed,
        });
        return {
          onEvent: (e) => {
            recorder.onEvent(e);
            if (e.type === 'decision_ended' && e.note !== null) notes.push(e.note);
          },
          finish: () => void recorder.finish(),
        };
      },
    });
    // The file lists each flight as id, departs, priceUsd; the agent sees the canonical order.
    expect(notes[0]).toEqual([
      '{"flights":[{"departs":"07:15","id":"UA-512","priceUsd":318},{"departs":"09:40","id":"DL-88","priceUsd":342}]}',
    ]);
    const verified = await verifyReplay(sink.bytes(), { makeAgent: () => keyReader() });
    expect(verified.ok, verified.ok ? '' : verified.reason).toBe(true);
  });
});
