/**
 * Hostile input: mutations of real replays and random bytes. Each input either reads to a
 * consistent result or throws a one-line ReplayError: nothing else, quickly, and without touching
 * Object.prototype.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAgent } from '../../../agents/index.js';
import { MsgWriter } from '../../../replays/format/codec.js';
import { frame, MAGIC, prefix } from '../../../replays/format/format.js';
import {
  encodeReplay,
  makeHeader,
  readReplay,
  recordEpisode,
  ReplayError,
  ReplayTruncatedError,
  replayScenario,
  type ReplayRead,
} from '../../../replays/index.js';
import { headerJson } from '../../../replays/format/header.js';
import { chaoticAgent, exampleScenarios } from '../../support/replays.js';

interface Source {
  readonly bytes: Uint8Array;
  readonly read: ReplayRead;
}

const sources: Source[] = [];

beforeAll(async () => {
  const pick = ['example-follow-up', 'example-retry', 'example-concurrency', 'example-composite'];
  for (const id of pick) {
    const scenario = exampleScenarios().find((s) => s.id === id)!;
    for (const agent of [createAgent('greedy-async'), chaoticAgent(replayScenario(scenario), 5)]) {
      const { bytes } = await recordEpisode({ scenario, agent, seed: 3 });
      sources.push({ bytes: bytes!, read: readReplay(bytes!) });
    }
  }
});

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Frames `payload` with a correct length and CRC (so the decoder, not the checksum, must catch it). */
function framed(payload: Uint8Array): Uint8Array {
  return frame(payload, payload.length);
}

function varint(n: number): Uint8Array {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return new Uint8Array(out);
}

type Mutation = (s: Source) => Uint8Array;

const at = (s: Source, x: number): number => x % Math.max(1, s.bytes.length);

const mutationArb: fc.Arbitrary<{ src: number; m: Mutation; label: string }> = fc
  .tuple(
    fc.nat(),
    fc.oneof(
      fc.array(fc.nat(), { minLength: 1, maxLength: 8 }).map((bits): [string, Mutation] => [
        'flip bits',
        (s) => {
          const b = s.bytes.slice();
          for (const x of bits) b[at(s, x >>> 3)]! ^= 1 << (x & 7);
          return b;
        },
      ]),
      fc.nat().map((x): [string, Mutation] => ['truncate', (s) => s.bytes.slice(0, at(s, x))]),
      fc
        .tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 16 }))
        .map(([x, bytes]): [string, Mutation] => [
          'overwrite',
          (s) => {
            const b = s.bytes.slice();
            b.set(bytes.subarray(0, Math.max(0, b.length - at(s, x))), at(s, x));
            return b;
          },
        ]),
      fc
        .tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 64 }))
        .map(([x, bytes]): [string, Mutation] => [
          'insert',
          (s) => concat(s.bytes.subarray(0, at(s, x)), bytes, s.bytes.subarray(at(s, x))),
        ]),
      fc
        .tuple(fc.nat(), fc.nat(64))
        .map(([x, n]): [string, Mutation] => [
          'delete',
          (s) => concat(s.bytes.subarray(0, at(s, x)), s.bytes.subarray(at(s, x) + n)),
        ]),
      fc
        .tuple(
          fc.nat(),
          fc.constantFrom(
            0,
            0x7f,
            0x80,
            0x3fff,
            0xffff,
            0x100000,
            0x1000000,
            0x7fffffff,
            0xffffffff,
          ),
        )
        .map(([x, len]): [string, Mutation] => [
          'absurd length',
          (s) => {
            const k = x % s.read.offsets.length;
            const start = s.read.offsets[k]!;
            return concat(s.bytes.subarray(0, start), varint(len), s.bytes.subarray(start + 1));
          },
        ]),
      fc
        .tuple(fc.nat(), fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), fc.boolean())
        .map(([x, bits, keepRest]): [string, Mutation] => [
          'mutated payload, valid checksum',
          (s) => {
            const k = x % (s.read.offsets.length - 1);
            const start = s.read.offsets[k]!;
            const end = s.read.offsets[k + 1]!;
            let p = start;
            while (s.bytes[p]! & 0x80) p++;
            const payload = s.bytes.slice(p + 1, end - 4);
            for (const bit of bits) payload[(bit >>> 3) % payload.length]! ^= 1 << (bit & 7);
            return concat(
              s.bytes.subarray(0, start),
              framed(payload),
              keepRest ? s.bytes.subarray(end) : new Uint8Array(0),
            );
          },
        ]),
      fc
        .tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 40 }))
        .map(([x, payload]): [string, Mutation] => [
          'random payload, valid checksum',
          (s) => {
            const k = x % s.read.offsets.length;
            return concat(s.bytes.subarray(0, s.read.offsets[k]!), framed(payload));
          },
        ]),
      fc
        .uint8Array({ maxLength: 2048 })
        .map((bytes): [string, Mutation] => ['random bytes', () => bytes]),
      fc
        .uint8Array({ maxLength: 512 })
        .map((bytes): [string, Mutation] => [
          'magic, version, random',
          () => concat(prefix(), bytes),
        ]),
      fc
        .uint8Array({ maxLength: 512 })
        .map((bytes): [string, Mutation] => ['magic, random', () => concat(MAGIC, bytes)]),
      fc.integer({ min: 0, max: 0xffff }).map((v): [string, Mutation] => [
        'version',
        (s) => {
          const b = s.bytes.slice();
          b[8] = v & 0xff;
          b[9] = v >>> 8;
          return b;
        },
      ]),
      fc
        .nat()
        .map((x): [string, Mutation] => [
          'splice two replays',
          (s) =>
            concat(
              s.bytes.subarray(0, at(s, x)),
              sources[x % sources.length]!.bytes.subarray(
                at(sources[x % sources.length]!, x >>> 3),
              ),
            ),
        ]),
    ),
  )
  .map(([src, [label, m]]) => ({ src, m, label }));

function protoSnapshot(): string {
  return JSON.stringify(Object.getOwnPropertyNames(Object.prototype).sort());
}

function check(input: Uint8Array): 'ok' | 'truncated' | 'error' {
  let read: ReplayRead;
  try {
    read = readReplay(input, { file: 'fuzz.ttr', maxBytes: 1 << 20 });
  } catch (error) {
    expect(error).toBeInstanceOf(ReplayError);
    const message = (error as Error).message;
    expect(message.startsWith('fuzz.ttr: ')).toBe(true);
    expect(message).not.toContain('\n');
    return 'error';
  }
  // A consistent result: offsets frame the events, the state agrees, and re-encoding the decoded
  // events decodes to the same events (and, for a complete file, to the very same bytes).
  expect(read.offsets.length).toBe(read.events.length + 1);
  expect(read.complete).toBe(read.problem === null);
  if (!read.complete) expect(read.problem).toMatch(/^truncated: /);
  const again = encodeReplay(read.header, read.events, read.scenario);
  const reread = readReplay(again);
  expect(JSON.stringify(reread.events)).toBe(JSON.stringify(read.events));
  if (read.complete) expect(Buffer.from(again).equals(Buffer.from(input))).toBe(true);
  return read.complete ? 'ok' : 'truncated';
}

describe('hostile replays', () => {
  it('10,000 mutated and random inputs: each reads consistently or throws a one-line ReplayError', () => {
    const proto = protoSnapshot();
    const outcomes = { ok: 0, truncated: 0, error: 0 };
    const started = performance.now();
    fc.assert(
      fc.property(mutationArb, ({ src, m }) => {
        const s = sources[src % sources.length]!;
        outcomes[check(m(s))]++;
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: 10_000 },
    );
    expect(protoSnapshot()).toBe(proto);
    // Every kind of outcome happened, and quickly.
    expect(outcomes.truncated).toBeGreaterThan(100);
    expect(outcomes.error).toBeGreaterThan(5000);
    expect(performance.now() - started).toBeLessThan(60_000);
  });

  it('a note or header carrying __proto__ keys stays an own property and pollutes nothing', () => {
    const scenario = replayScenario(exampleScenarios()[0]!);
    const header = makeHeader({ scenario, agent: 'greedy-async', seed: 1 });
    const note = JSON.parse(
      '{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}',
    ) as never;
    const bytes = encodeReplay(
      header,
      [{ type: 'decision_ended', timeUs: 0, decision: 0, thinkUs: 0, actions: [], note }],
      scenario,
    );
    const read = readReplay(bytes);
    const decoded = (read.events[0] as { note: Record<string, unknown> }).note;
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.hasOwn(decoded, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();

    // A header whose scenario has a __proto__ key is an invalid scenario: a ReplayError.
    const w = new MsgWriter();
    const doc = headerJson(header) as Record<string, unknown>;
    const bad = {
      ...doc,
      scenario: {
        ...(doc.scenario as object),
        ...(JSON.parse('{"__proto__": {"polluted": true}}') as object),
      },
    };
    w.json(bad);
    const file = concat(prefix(), framed(w.bytes().slice()));
    expect(() => readReplay(file, { file: 'proto.ttr' })).toThrow(
      /^proto\.ttr: header at byte 10: invalid scenario in the header/,
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('names what is wrong and where', () => {
    const s = sources[0]!;
    const flip = (i: number) => {
      const b = s.bytes.slice();
      b[i]! ^= 0x40;
      return b;
    };
    const rec = s.read.offsets[3]!;
    expect(() => readReplay(flip(0), { file: 'a.ttr' })).toThrow(
      'a.ttr: not a tooltime replay (bad magic bytes)',
    );
    expect(() => readReplay(flip(8), { file: 'a.ttr' })).toThrow(
      'a.ttr: unsupported replay format version 65 (this tooltime reads version 1)',
    );
    expect(() => readReplay(flip(rec + 2), { file: 'a.ttr' })).toThrow(
      `a.ttr: record 3 at byte ${rec}: checksum mismatch (the frame is corrupt)`,
    );
    expect(() => readReplay(concat(s.bytes, new Uint8Array([1, 2])), { file: 'a.ttr' })).toThrow(
      /^a\.ttr: trailer at byte \d+: 2 unexpected bytes after the trailer$/,
    );
    expect(() =>
      readReplay(concat(s.bytes.subarray(0, rec), varint(0xffffffff)), { file: 'a.ttr' }),
    ).toThrow(
      `a.ttr: record 3 at byte ${rec}: frame length 4294967295 is over the limit of 16777216 bytes`,
    );
    // An empty file is what a run killed before writing a replay's first byte leaves: a cut, not junk.
    expect(() => readReplay(new Uint8Array(0), { file: 'a.ttr' })).toThrow(ReplayTruncatedError);
    expect(() => readReplay(new Uint8Array(0), { file: 'a.ttr' })).toThrow(
      'a.ttr: truncated: the file is empty (no episode to read)',
    );
    expect(() => readReplay(s.bytes, { file: 'a.ttr', maxBytes: 100 })).toThrow(
      /^a\.ttr: \d+ bytes, over the limit of 100$/,
    );
    // A record of the wrong shape, correctly framed: [ISSUED, 0, 999] names a step beyond the plan.
    const w = new MsgWriter();
    w.json([13, 0, 999]);
    expect(() =>
      readReplay(concat(s.bytes.subarray(0, rec), framed(w.bytes().slice())), { file: 'a.ttr' }),
    ).toThrow(`a.ttr: record 3 at byte ${rec}: step 999 is not in the plan`);
    // A call numbered at the largest safe integer, then one issued after it: no such id.
    const last = new MsgWriter();
    last.json([15, 0, Number.MAX_SAFE_INTEGER, 0, {}, null, null, null, 1, null]);
    const next = new MsgWriter();
    next.json([13, 0, 0]);
    const lastFrame = framed(last.bytes().slice());
    const overflow = concat(s.bytes.subarray(0, rec), lastFrame, framed(next.bytes().slice()));
    expect(() => readReplay(overflow, { file: 'a.ttr' })).toThrow(
      `a.ttr: record 4 at byte ${rec + lastFrame.length}: call id 9007199254740992 (after 9007199254740991) is past the largest safe integer`,
    );
  });
});
