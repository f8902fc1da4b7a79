import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { agentEntries, COMMON_PARAMS, createAgent } from '../../../agents/index.js';
import { canonicalize, canonicalJson } from '../../../scenarios/spec/canonical.js';
import type { EpisodeEvent } from '../../../scenarios/world/events.js';
import { Plan } from '../../../scenarios/world/plan.js';
import type { Action, Delivery, Mode } from '../../../scenarios/protocol.js';
import type { JsonValue } from '../../../scenarios/spec/schema.js';
import { scoreEpisode } from '../../../scenarios/scoring/index.js';
import { parseScenario } from '../../../scenarios/spec/validate.js';
import { runEpisode } from '../../../scenarios/world/world.js';
import { runExperiment } from '../../../scenarios/experiment.js';
import { CodecError } from '../../../replays/format/codec.js';
import { Code, MAX_HEADER_BYTES, PREFIX_BYTES, readFrame } from '../../../replays/format/format.js';
import {
  agentConfig,
  encodeReplay,
  FileSink,
  makeHeader,
  MemorySink,
  readReplay,
  recordEpisode,
  ReplayRecorder,
  ReplayTruncatedError,
  replayScenario,
  summarizeReplay,
  tooltimeVersion,
} from '../../../replays/index.js';
import { encodeJson, MsgReader } from '../../../replays/format/codec.js';
import { CallsInFlight } from '../../../replays/format/dictionary.js';
import { headerJson } from '../../../replays/format/header.js';
import { chaoticAgent, exampleScenarios } from '../../support/replays.js';
import { dagScenario, dagShapeArb } from '../../support/scenarios.js';

const tmp = mkdtempSync(join(tmpdir(), 'tooltime-replay-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const WORLDS: ReadonlyArray<{ mode: Mode; delivery: Delivery }> = [
  { mode: 'async', delivery: 'push' },
  { mode: 'async', delivery: 'poll' },
  { mode: 'sync', delivery: 'push' },
];

/** The record codes used in a replay's bytes. */
function codesOf(bytes: Uint8Array): number[] {
  const read = readReplay(bytes);
  return read.offsets.slice(0, -1).map((start) => {
    // Skip the varint length, then the array header: the code is the next byte (a fixint).
    let p = start;
    while (bytes[p]! & 0x80) p++;
    const r = new MsgReader(bytes, p + 1, bytes.length);
    return (r.value() as unknown[])[0] as number;
  });
}

describe('encode -> decode is the identity on real episodes', () => {
  it('every agent on every example scenario, in three worlds, two seeds', async () => {
    for (const scenario of exampleScenarios()) {
      for (const entry of agentEntries()) {
        for (const world of WORLDS) {
          for (const seed of [1, 2]) {
            const { episode, bytes, summary } = await recordEpisode({
              scenario,
              agent: createAgent(entry.name),
              seed,
              ...world,
            });
            const read = readReplay(bytes!);
            expect(read.complete).toBe(true);
            expect(read.problem).toBeNull();
            expect(JSON.stringify(read.events)).toBe(JSON.stringify(episode.events));
            expect(read.events).toStrictEqual(episode.events);
            expect(read.recordsSha256).toBe(summary.sha256);
            // The in-memory encoder writes the same bytes as the streaming recorder did.
            expect(encodeReplay(read.header, episode.events)).toEqual(bytes);
          }
        }
      }
    }
  });

  it('random DAG scenarios, random agents, worlds and seeds', async () => {
    const names = agentEntries().map((e) => e.name);
    await fc.assert(
      fc.asyncProperty(
        dagShapeArb({ limits: true }),
        fc.nat(1000),
        fc.constantFrom(...names),
        fc.constantFrom(...WORLDS),
        fc.integer({ min: 1, max: 3 }),
        async (shape, seed, name, world, cap) => {
          const scenario = dagScenario(shape, { kind: 'uniform', minMs: 0, maxMs: 30 });
          const { episode, bytes } = await recordEpisode({
            scenario,
            agent: createAgent(`${name}:maxInFlight=${cap}`),
            seed,
            ...world,
          });
          const read = readReplay(bytes!);
          expect(read.complete).toBe(true);
          expect(JSON.stringify(read.events)).toBe(JSON.stringify(episode.events));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a chaotic agent (odd refs, wrong args, unknown tools, rejections, notes, waits) on every example', async () => {
    const codes = new Set<number>();
    for (const scenario of exampleScenarios()) {
      for (const world of WORLDS) {
        for (const seed of [1, 2, 3]) {
          const { episode, bytes } = await recordEpisode({
            scenario,
            agent: chaoticAgent(replayScenario(scenario), seed),
            seed,
            ...world,
          });
          const read = readReplay(bytes!);
          expect(JSON.stringify(read.events)).toBe(JSON.stringify(episode.events));
          for (const c of codesOf(bytes!)) codes.add(c);
        }
      }
    }
    // Queued calls (a tool with concurrency 1) start out of issue order.
    const queued = await recordEpisode({
      scenario: exampleScenarios().find((x) => x.id === 'example-concurrency')!,
      agent: createAgent('greedy-async'),
      seed: 1,
    });
    for (const c of codesOf(queued.bytes!)) codes.add(c);
    // Every form an episode from the world can produce.
    for (const c of [
      Code.STARTED,
      Code.TASK,
      Code.MESSAGE,
      Code.DECISION_STARTED,
      Code.DELIVERED,
      Code.DECISION_ENDED,
      Code.DECISION_ENDED_NOTE,
      Code.REJECTED,
      Code.ISSUED,
      Code.ISSUED_REF,
      Code.ISSUED_FULL,
      Code.CALL_STARTED,
      Code.CALL_STARTED_AT,
      Code.DONE_OK,
      Code.DONE_ERROR,
      Code.ANSWER,
      Code.ENDED,
    ]) {
      expect(codes, `record code ${c}`).toContain(c);
    }
  });

  it('an episode run on the scenario as loaded (keys in file order) records the same bytes as on its canonical form, the first time and after', async () => {
    for (const scenario of exampleScenarios()) {
      const canonical = await recordEpisode({
        scenario,
        agent: createAgent('greedy-async'),
        seed: 3,
      });
      // Twice: the second recording finds the loaded scenario's table results already compared.
      for (const round of [1, 2]) {
        const file = join(tmp, `${scenario.id}-${round}.ttr`);
        const recorder = ReplayRecorder.open(file, { scenario, agent: 'greedy-async', seed: 3 });
        const raw = await runEpisode(scenario, createAgent('greedy-async'), {
          seed: 3,
          onEvent: recorder.onEvent,
        });
        recorder.finish();
        const bytes = new Uint8Array(readFileSync(file));
        expect(bytes).toEqual(canonical.bytes);
        const read = readReplay(bytes);
        expect(read.events.map((e) => canonicalJson(e))).toEqual(
          raw.events.map((e) => canonicalJson(e)),
        );
      }
    }
  });

  it('stays at most 24 bytes per event with greedy-async on the examples', async () => {
    let events = 0;
    let recordBytes = 0;
    for (const scenario of exampleScenarios()) {
      for (const seed of [1, 2, 3, 4, 5]) {
        const { bytes } = await recordEpisode({
          scenario,
          agent: createAgent('greedy-async'),
          seed,
        });
        const read = readReplay(bytes!);
        events += read.events.length;
        recordBytes += read.sizes.records;
      }
    }
    expect(recordBytes / events).toBeLessThanOrEqual(24);
  });
});

// ---- Arbitrary well-typed event streams: every full form.

const scenario = replayScenario(exampleScenarios().find((s) => s.id === 'example-follow-up')!);
const plan = new Plan(scenario);
const json = fc.jsonValue({ maxDepth: 3 }).map((v) => canonicalize(v));
const name = fc.oneof(
  fc.constantFrom(
    ...plan.tasks.map((t) => t.id),
    ...scenario.tools.map((t) => t.name),
    ...plan.steps.map((s) => s.id),
    ...plan.steps.map((s) => s.key),
  ),
  fc.string({ maxLength: 12 }),
);
const nat = fc.oneof(fc.nat(5), fc.nat(1000), fc.nat(2 ** 40));
const optName = fc.option(name, { nil: null });

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  fc
    .constantFrom(...plan.steps)
    .map((s): Action => ({ type: 'call', tool: s.tool, args: s.args, ref: s.key })),
  fc
    .record({ s: fc.constantFrom(...plan.steps), ref: fc.option(name, { nil: undefined }) })
    .map(
      ({ s, ref }): Action =>
        ref === undefined
          ? { type: 'call', tool: s.tool, args: s.args }
          : { type: 'call', tool: s.tool, args: s.args, ref },
    ),
  fc
    .record({ tool: name, args: json, ref: fc.option(name, { nil: undefined }) })
    .map(
      ({ tool, args, ref }): Action =>
        ref === undefined ? { type: 'call', tool, args } : { type: 'call', tool, args, ref },
    ),
  fc
    .record({
      task: name,
      content: fc.oneof(fc.constantFrom('R-5521', 'R-5521; TR-88'), fc.string()),
    })
    .map(({ task, content }): Action => ({ type: 'answer', task, content })),
  fc.constant<Action>({ type: 'poll' }),
  fc.constant<Action>({ type: 'wait' }),
  nat.map((maxUs): Action => ({ type: 'wait', maxUs })),
);

type Draft = (timeUs: number) => EpisodeEvent;
const draftArb: fc.Arbitrary<Draft> = fc.oneof(
  fc
    .record({
      scenario: fc.constantFrom(scenario.id, 'other'),
      seed: fc.integer(),
      mode: fc.constantFrom<Mode>('async', 'sync'),
      delivery: fc.constantFrom<Delivery>('push', 'poll'),
      agent: fc.constantFrom('greedy-async', 'x'),
    })
    .map(
      (f) =>
        (timeUs: number): EpisodeEvent => ({ type: 'episode_started', timeUs, ...f }),
    ),
  name.map(
    (task) =>
      (timeUs: number): EpisodeEvent => ({ type: 'task_arrived', timeUs, task }),
  ),
  fc.record({ task: name, index: fc.nat(3) }).map(
    ({ task, index }) =>
      (timeUs: number): EpisodeEvent => ({ type: 'message_arrived', timeUs, task, index }),
  ),
  nat.map(
    (decision) =>
      (timeUs: number): EpisodeEvent => ({ type: 'decision_started', timeUs, decision }),
  ),
  nat.map(
    (callId) =>
      (timeUs: number): EpisodeEvent => ({ type: 'result_delivered', timeUs, callId }),
  ),
  fc
    .record({
      decision: nat,
      thinkUs: nat,
      actions: fc.array(actionArb, { maxLength: 4 }),
      note: fc.oneof(fc.constant(null), json),
    })
    .map(
      (f) =>
        (timeUs: number): EpisodeEvent => ({ type: 'decision_ended', timeUs, ...f }),
    ),
  fc.record({ decision: nat, action: nat, reason: fc.string() }).map(
    (f) =>
      (timeUs: number): EpisodeEvent => ({ type: 'action_rejected', timeUs, ...f }),
  ),
  fc
    .record({
      callId: nat,
      step: fc.option(fc.constantFrom(...plan.steps), { nil: null }),
      tool: name,
      args: json,
      ref: optName,
      attempt: nat,
      invalid: optName,
      useStep: fc.boolean(),
    })
    .map(
      (f) =>
        (timeUs: number): EpisodeEvent => ({
          type: 'call_issued',
          timeUs,
          callId: f.callId,
          tool: f.useStep && f.step !== null ? f.step.tool : f.tool,
          args: f.useStep && f.step !== null ? f.step.args : f.args,
          ref: f.ref,
          task: f.step?.task ?? null,
          step: f.step?.id ?? null,
          attempt: f.attempt,
          invalid: f.invalid,
        }),
    ),
  nat.map(
    (callId) =>
      (timeUs: number): EpisodeEvent => ({ type: 'call_started', timeUs, callId }),
  ),
  fc.record({ callId: nat, ok: fc.boolean(), result: json, error: optName }).map(
    (f) =>
      (timeUs: number): EpisodeEvent => ({ type: 'call_completed', timeUs, ...f }),
  ),
  fc.record({ task: name, content: fc.string() }).map(
    (f) =>
      (timeUs: number): EpisodeEvent => ({ type: 'answer_given', timeUs, ...f }),
  ),
  fc
    .constantFrom(
      'maxTimeMs',
      'maxDecisions',
      'maxCalls',
      'maxTurns',
      'maxIdleTurns',
      'contextOverflow' as const,
    )
    .map(
      (limit) =>
        (timeUs: number): EpisodeEvent => ({ type: 'limit_hit', timeUs, limit }),
    ),
  fc
    .record({
      reason: fc.constantFrom('completed', 'limit', 'stalled', 'errored' as const),
      detail: optName,
    })
    .map(
      (f) =>
        (timeUs: number): EpisodeEvent => ({ type: 'episode_ended', timeUs, ...f }),
    ),
);

describe('encode -> decode on arbitrary well-typed event streams', () => {
  it('gives the same events back (every compact and full form)', () => {
    const header = makeHeader({ scenario, agent: 'greedy-async', seed: 7 });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(draftArb, fc.oneof(fc.constant(0), fc.nat(100), fc.nat(10_000_000))), {
          maxLength: 40,
        }),
        (drafts) => {
          let t = 0;
          const events = drafts.map(([draft, dt]) => draft((t += dt)));
          const bytes = encodeReplay(header, events, scenario);
          const read = readReplay(bytes);
          expect(read.complete).toBe(true);
          expect(JSON.stringify(read.events)).toBe(JSON.stringify(events));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("a table step's result is written short only when it equals what its call returns: the row's object, a copy, one seen before; not for a call of the step with other args", () => {
    const header = makeHeader({ scenario, agent: 'greedy-async', seed: 7 });
    const hasDefaultResult = (t: (typeof scenario.tools)[number]) =>
      t.impl.kind === 'table' && 'result' in t.impl.default;
    const step = plan.steps.find((s) =>
      hasDefaultResult(scenario.tools.find((t) => t.name === s.tool)!),
    )!;
    const tool = scenario.tools.find((t) => t.name === step.tool)!;
    const row =
      tool.impl.kind === 'table'
        ? tool.impl.rows.find((r) => canonicalJson(r.args) === canonicalJson(step.args))!.result
        : null;
    expect(row !== null && typeof row === 'object').toBe(true);
    const copy = structuredClone(row) as JsonValue;
    const other = { ...(row as Record<string, JsonValue>), extra: 1 };
    const results: JsonValue[] = [row!, copy, other, copy, other, row!];
    const events: EpisodeEvent[] = [];
    results.forEach((result, i) => {
      const callId = i + 1;
      events.push({
        type: 'call_issued',
        timeUs: 0,
        callId,
        tool: step.tool,
        args: step.args,
        ref: step.key,
        task: step.task,
        step: step.id,
        attempt: i + 1,
        invalid: null,
      });
      events.push({ type: 'call_completed', timeUs: 0, callId, ok: true, result, error: null });
    });
    // The step's call with args no row has returns the table's default, not the step's result (seen before).
    const offArgs = { ...(step.args as Record<string, JsonValue>), unheardOf: true };
    const fallback =
      tool.impl.kind === 'table' && 'result' in tool.impl.default ? tool.impl.default.result : null;
    expect(canonicalJson(fallback)).not.toBe(canonicalJson(row));
    const offStep: Array<[JsonValue, number]> = [
      [row!, Code.DONE_FULL],
      [fallback, Code.DONE_OK],
      [copy, Code.DONE_FULL],
    ];
    offStep.forEach(([result], i) => {
      const callId = results.length + i + 1;
      events.push({
        type: 'call_issued',
        timeUs: 0,
        callId,
        tool: step.tool,
        args: offArgs,
        ref: step.key,
        task: step.task,
        step: step.id,
        attempt: results.length + i + 1,
        invalid: null,
      });
      events.push({ type: 'call_completed', timeUs: 0, callId, ok: true, result, error: null });
    });
    const bytes = encodeReplay(header, events, scenario);
    const read = readReplay(bytes);
    expect(read.events.map((e) => canonicalJson(e))).toEqual(events.map((e) => canonicalJson(e)));
    const completions = codesOf(bytes).filter((_, i) => i % 2 === 1);
    expect(completions).toEqual([
      ...results.map((r) => (r === other ? Code.DONE_FULL : Code.DONE_OK)),
      ...offStep.map(([, code]) => code),
    ]);
  });

  it('keeps calls in flight by id, and knows no call by a name that is not an id', () => {
    const calls = new CallsInFlight();
    const call = { tool: 't', args: {}, step: -1, invalid: null };
    calls.set(1, call);
    calls.set(2 ** 40, call);
    expect(calls.get(1)).toBe(call);
    expect(calls.get(2 ** 40)).toBe(call);
    calls.delete(1);
    expect(calls.get(1)).toBeUndefined();
    for (const id of ['__proto__', 'constructor', 'length', -1, 1.5, Number.NaN, 2 ** 53])
      expect(calls.get(id as number)).toBeUndefined();
    expect(() => calls.set('__proto__' as unknown as number, call)).toThrow(/invariant/);
  });

  it('refuses events it cannot write, with a CodecError', () => {
    const header = makeHeader({ scenario, agent: 'greedy-async', seed: 7 });
    const bad: unknown[] = [
      { type: 'task_arrived', timeUs: 1.5, task: 't1' },
      { type: 'task_arrived', timeUs: -1, task: 't1' },
      {
        type: 'decision_ended',
        timeUs: 0,
        decision: 1,
        thinkUs: 0,
        actions: [],
        note: { a: undefined },
      },
      { type: 'decision_ended', timeUs: 0, decision: 1, thinkUs: 0, actions: [], note: Number.NaN },
      {
        type: 'decision_ended',
        timeUs: 0,
        decision: 1,
        thinkUs: 0,
        actions: [{ type: 'fly' }],
        note: null,
      },
      { type: 'call_completed', timeUs: 0, callId: 1, ok: true, result: new Date(0), error: null },
      { type: 'nonsense', timeUs: 0 },
    ];
    for (const e of bad)
      expect(() => encodeReplay(header, [e as EpisodeEvent], scenario)).toThrow(CodecError);
  });
});

describe('the header', () => {
  it('holds the canonical scenario, the agent spec and configuration, the seed and the world', async () => {
    const s = exampleScenarios()[0]!;
    const { bytes } = await recordEpisode({
      scenario: s,
      agent: createAgent('greedy-async:retry=1,maxInFlight=2'),
      seed: 5,
      mode: 'sync',
      delivery: 'poll',
      thinkTime: { kind: 'constant', ms: 3 },
    });
    const { header, scenario: parsed } = readReplay(bytes!);
    expect(header.tooltime).toBe(tooltimeVersion());
    expect(header.scenario).toEqual(canonicalize(s));
    expect(canonicalJson(canonicalize(parsed))).toBe(canonicalJson(header.scenario));
    expect(header.agent).toEqual({
      spec: 'greedy-async:maxInFlight=2,retry=1',
      config: { maxInFlight: 2, pollMs: 100, retry: 1, thinkMs: null },
    });
    expect(header.seed).toBe(5);
    expect(header.world).toEqual({
      mode: 'sync',
      delivery: 'poll',
      thinkTime: { kind: 'constant', ms: 3 },
    });
    expect(header.forkedFrom).toBeNull();
    const defaults = Object.fromEntries(
      COMMON_PARAMS.map((p) => [p.name, p.default === Infinity ? 'Infinity' : p.default]),
    );
    expect(agentConfig('sequential')).toEqual(defaults);
    expect(agentConfig('sequential')).toMatchObject({ maxInFlight: 'Infinity', thinkMs: null });
    expect(agentConfig('scripted-thing')).toBeNull();
  });

  it('reads each header right when replays of other agents and worlds come in between (agent and world parts are remembered)', async () => {
    const s = exampleScenarios()[0]!;
    const variants = [
      { agent: 'greedy-async', world: { mode: 'async', delivery: 'push' } },
      { agent: 'greedy-async:retry=1', world: { mode: 'async', delivery: 'push' } },
      {
        agent: 'greedy-async',
        world: { mode: 'sync', delivery: 'push', thinkTime: { kind: 'constant', ms: 3 } },
      },
      {
        agent: 'sequential',
        world: { mode: 'async', delivery: 'poll', thinkTime: { kind: 'constant', ms: 4 } },
      },
    ] as const;
    const made = await Promise.all(
      variants.map(async (v, i) => ({
        ...(await recordEpisode({
          scenario: s,
          agent: createAgent(v.agent),
          seed: i + 1,
          ...v.world,
        })),
        want: v,
      })),
    );
    for (const k of [0, 1, 1, 0, 2, 3, 2, 0, 3, 3, 1]) {
      const { header } = readReplay(made[k]!.bytes!);
      expect(header.agent).toEqual(made[k]!.header.agent);
      expect(header.world).toEqual(made[k]!.header.world);
      expect(header.seed).toBe(k + 1);
      expect(header.agent.spec).toBe(variants[k]!.agent);
      expect(header.world.thinkTime).toEqual(
        'thinkTime' in variants[k]!.world ? variants[k]!.world.thinkTime : null,
      );
    }
  });

  it('the header payload written in parts is the canonical encoding of the header document', () => {
    const s = replayScenario(exampleScenarios()[0]!);
    const origin = {
      sha256: 'ab'.repeat(32),
      records: 7,
      originalAgent: 'sequential',
      agentSeed: null,
    };
    for (const options of [
      {},
      { mode: 'sync', delivery: 'poll', thinkTime: { kind: 'constant', ms: 3 } },
      { forkedFrom: origin },
    ] as const) {
      const header = makeHeader({
        scenario: s,
        agent: 'greedy-async:retry=1',
        seed: 9,
        ...options,
      });
      const sink = new MemorySink();
      new ReplayRecorder(header, sink, s).finish();
      const bytes = sink.bytes();
      const frame = readFrame(bytes, PREFIX_BYTES, MAX_HEADER_BYTES);
      if (frame.kind !== 'frame') throw new Error(`the header frame reads as ${frame.kind}`);
      expect(
        Buffer.from(bytes.subarray(frame.payloadStart, frame.payloadEnd)).toString('hex'),
      ).toBe(Buffer.from(encodeJson(headerJson(header))).toString('hex'));
    }
  });

  it('the canonical scenario is a fixed point of parse and canonicalize', () => {
    for (const s of exampleScenarios()) {
      const once = replayScenario(s);
      expect(canonicalJson(canonicalize(parseScenario(canonicalize(once))))).toBe(
        canonicalJson(canonicalize(once)),
      );
      expect(replayScenario(once)).toBe(once);
    }
  });
});

describe('streaming and truncation', () => {
  it("with writeAt 'decision' each decision is on disk as it ends: a run cut short reads as its prefix up to the last decision", async () => {
    const s = exampleScenarios().find((x) => x.id === 'example-composite')!;
    const full = await recordEpisode({ scenario: s, agent: createAgent('greedy-async'), seed: 2 });
    const path = join(tmp, 'killed.ttr');
    const recorder = ReplayRecorder.open(new FileSink(path, { writeAt: 'decision' }), {
      scenario: s,
      agent: 'greedy-async',
      seed: 2,
    });
    let seen = 0;
    // The "process dies" after 17 events: no finish(), nothing flushed later.
    await runEpisode(recorder.scenario, createAgent('greedy-async'), {
      seed: 2,
      onEvent: (e) => (++seen <= 17 ? recorder.onEvent(e) : undefined),
    });
    const read = readReplay(new Uint8Array(readFileSync(path)), { file: 'killed.ttr' });
    const durable =
      full.episode.events
        .slice(0, 17)
        .map((e) => e.type)
        .lastIndexOf('decision_ended') + 1;
    expect(durable).toBeGreaterThan(0);
    expect(read.complete).toBe(false);
    expect(read.problem).toMatch(new RegExp(`^truncated: no trailer after ${durable} records`));
    expect(read.events).toStrictEqual(full.episode.events.slice(0, durable));
  });

  it('by default a decision is written when the process next waits, and everything on finish', async () => {
    const s = exampleScenarios().find((x) => x.id === 'example-composite')!;
    const full = await recordEpisode({ scenario: s, agent: createAgent('greedy-async'), seed: 2 });
    const path = join(tmp, 'idle.ttr');
    const recorder = ReplayRecorder.open(new FileSink(path), {
      scenario: s,
      agent: 'greedy-async',
      seed: 2,
    });
    const ends = full.episode.events.flatMap((e, i) => (e.type === 'decision_ended' ? [i] : []));
    expect(ends.length).toBeGreaterThan(2);
    const events = full.episode.events;
    // Two decisions recorded without waiting: nothing is on disk yet.
    for (const e of events.slice(0, ends[1]! + 1)) recorder.record(e);
    expect(readFileSync(path).length).toBe(0);
    // The process waits (as for a model's reply): both decisions are written.
    await new Promise((resolve) => setImmediate(resolve));
    expect(readReplay(new Uint8Array(readFileSync(path))).events).toStrictEqual(
      events.slice(0, ends[1]! + 1),
    );
    // Records after the last decision are not written until the next decision ends.
    for (const e of events.slice(ends[1]! + 1, ends[2]!)) recorder.record(e);
    await new Promise((resolve) => setImmediate(resolve));
    expect(readReplay(new Uint8Array(readFileSync(path))).events.length).toBe(ends[1]! + 1);
    for (const e of events.slice(ends[2]!)) recorder.record(e);
    recorder.finish();
    expect(new Uint8Array(readFileSync(path))).toStrictEqual(full.bytes);
  });

  it('an episode that throws in a run keeps what its replay recorded (read as truncated)', async () => {
    const s = replayScenario(exampleScenarios()[0]!);
    const path = join(tmp, 'thrown.ttr');
    const broken = {
      spec: 'broken',
      start: () => Promise.reject(new Error('cannot start')),
      decide: () => ({ actions: [] }),
    };
    const run = runExperiment({
      instances: [{ scenario: s, file: 'x.json' }],
      agents: ['broken'],
      seeds: [1],
      mode: 'async',
      delivery: 'push',
      makeAgent: () => broken,
      recorder: (key, scenario) =>
        ReplayRecorder.open(path, { scenario, agent: key.agent, seed: key.seed }),
    });
    await expect(run).rejects.toThrow('cannot start');
    const read = readReplay(new Uint8Array(readFileSync(path)));
    expect(read.complete).toBe(false);
    expect(read.events.map((e) => e.type)).toEqual(['episode_started']);
  });

  it('frames of every length class, and records beyond one 64 KiB chunk, read back the same from memory and from a file', () => {
    const s = replayScenario(exampleScenarios()[0]!);
    const header = makeHeader({ scenario: s, agent: 'greedy-async', seed: 1 });
    // Payload lengths around each varint boundary of the frame length, and past 64 KiB in all.
    const sizes = [
      0,
      100,
      117,
      118,
      119,
      120,
      127,
      128,
      200,
      16_370,
      16_383,
      16_384,
      70_000,
      ...Array.from({ length: 1000 }, (_, i) => i % 300),
    ];
    const events: EpisodeEvent[] = [];
    sizes.forEach((n, i) => {
      events.push({ type: 'decision_started', timeUs: i, decision: i + 1 });
      events.push({
        type: 'decision_ended',
        timeUs: i,
        decision: i + 1,
        thinkUs: 0,
        actions: [],
        note: 'n'.repeat(n),
      });
    });
    const memory = encodeReplay(header, events, s);
    const path = join(tmp, 'lengths.ttr');
    const recorder = new ReplayRecorder(header, path, s);
    for (const e of events) recorder.record(e);
    const summary = recorder.finish();
    expect(new Uint8Array(readFileSync(path))).toStrictEqual(memory);
    const read = readReplay(memory);
    expect(read.complete).toBe(true);
    expect(read.sizes.records).toBeGreaterThan(128 * 1024);
    expect(summary.recordBytes).toBe(read.sizes.records);
    expect(summary.sha256).toBe(read.recordsSha256);
    expect(read.events).toStrictEqual(events);
  });

  it('an event the recorder refuses leaves nothing behind: the records around it still make a valid replay', () => {
    const s = replayScenario(exampleScenarios()[0]!);
    const header = makeHeader({ scenario: s, agent: 'greedy-async', seed: 1 });
    const good: EpisodeEvent[] = [
      { type: 'decision_started', timeUs: 5, decision: 1 },
      {
        type: 'decision_ended',
        timeUs: 9,
        decision: 1,
        thinkUs: 4,
        actions: [],
        note: 'x'.repeat(300),
      },
    ];
    const recorder = new ReplayRecorder(header, join(tmp, 'refused.ttr'), s);
    recorder.record(good[0]!);
    // Its first 300 bytes are written before the NaN is met: they must go.
    expect(() =>
      recorder.record({
        type: 'decision_ended',
        timeUs: 8,
        decision: 1,
        thinkUs: 3,
        actions: [],
        note: { a: 'z'.repeat(300), b: Number.NaN },
      } as unknown as EpisodeEvent),
    ).toThrow(CodecError);
    recorder.record(good[1]!);
    recorder.finish();
    const read = readReplay(new Uint8Array(readFileSync(join(tmp, 'refused.ttr'))));
    expect(read.complete).toBe(true);
    expect(read.events).toStrictEqual(good);
  });

  it('a file cut at any byte reads as the records complete before the cut (or, cut before its header is whole, throws a ReplayTruncatedError)', async () => {
    const s = exampleScenarios().find((x) => x.id === 'example-retry')!;
    const { bytes, episode } = await recordEpisode({
      scenario: s,
      agent: createAgent('greedy-async'),
      seed: 4,
    });
    const full = readReplay(bytes!);
    for (let cut = 0; cut < bytes!.length; cut++) {
      const part = bytes!.subarray(0, cut);
      if (cut < full.sizes.header) {
        // Truncated like any other cut (score and verify list it so), not corrupt.
        expect(() => readReplay(part, { file: 'cut.ttr' })).toThrow(ReplayTruncatedError);
        expect(() => readReplay(part, { file: 'cut.ttr' })).toThrow(
          /^cut\.ttr: truncated: the file (is empty|ends at byte \d+, inside the (magic bytes|format version|header \(at byte 10\))) \(no episode to read\)$/,
        );
        continue;
      }
      const read = readReplay(part, { file: 'cut.ttr' });
      expect(read.complete).toBe(false);
      const k = full.offsets.filter(
        (_o, i) => i < full.offsets.length - 1 && full.offsets[i + 1]! <= cut,
      ).length;
      expect(read.events.length).toBe(k);
      expect(read.events).toStrictEqual(episode.events.slice(0, k));
      expect(read.problem).toMatch(/^truncated: /);
    }
  });
});

describe('MemorySink', () => {
  it('gives back what was written, in order, however the writer reuses its buffer', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40000 }), { maxLength: 30 }), (writes) => {
        const sink = new MemorySink();
        const scratch = new Uint8Array(40000);
        const expected: number[] = [];
        for (const chunk of writes) {
          expected.push(...chunk);
          scratch.set(chunk);
          sink.write(scratch.subarray(0, chunk.length));
          scratch.fill(0xee); // a sink takes the bytes before write returns
        }
        sink.close();
        expect([...sink.bytes()]).toEqual(expected);
        expect(sink.bytes()).not.toBe(sink.bytes());
      }),
      { numRuns: 300 },
    );
  });
});

describe('re-scoring', () => {
  it('scoring a decoded replay gives the score of the in-memory episode', async () => {
    for (const s of exampleScenarios()) {
      for (const spec of ['greedy-async', 'sequential', 'impatient', 'hasty']) {
        const { episode, bytes } = await recordEpisode({
          scenario: s,
          agent: createAgent(spec),
          seed: 6,
        });
        const summary = summarizeReplay(readReplay(bytes!));
        expect(summary.score).toEqual(scoreEpisode(s, episode.events));
        expect(summary.makespanUs).toBe(episode.makespanUs);
        expect(summary.endReason).toBe(episode.endReason);
      }
    }
  });
});

describe('notes', () => {
  it('keep any JSON a model agent puts there, in canonical form', async () => {
    const s = exampleScenarios()[0]!;
    const note = JSON.parse(
      '{"b":[1,-0,2.25,"ü"],"a":{"z":null,"__proto__":"x"},"big":9007199254740991}',
    ) as JsonValue;
    let first = true;
    const agent = {
      spec: 'noter',
      decide: () => {
        if (!first) return { actions: [] };
        first = false;
        return { actions: [], note };
      },
    };
    const { bytes } = await recordEpisode({ scenario: s, agent, seed: 1 });
    const ended = readReplay(bytes!).events.find((e) => e.type === 'decision_ended')!;
    expect(ended.type === 'decision_ended' && canonicalJson(ended.note)).toBe(canonicalJson(note));
    expect(Object.getPrototypeOf((ended as { note: Record<string, unknown> }).note.a)).toBe(
      Object.prototype,
    );
  });
});
