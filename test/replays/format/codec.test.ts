import fc from 'fast-check';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { canonicalize, canonicalJson } from '../../../scenarios/spec/canonical.js';
import { CodecError, decodeJson, encodeJson } from '../../../replays/format/codec.js';
import { crc32, frame, MAX_DEPTH, readFrame } from '../../../replays/format/format.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => new Uint8Array(Buffer.from(h.replace(/ /g, ''), 'hex'));

describe('canonical MessagePack', () => {
  it('round-trips any JSON value to its canonical form, and equal canonical JSON gives equal bytes', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const encoded = encodeJson(v);
        const decoded = decodeJson(encoded);
        expect(JSON.stringify(decoded)).toBe(JSON.stringify(canonicalize(v)));
        expect(hex(encodeJson(canonicalize(v)))).toBe(hex(encoded));
        expect(hex(encodeJson(decoded))).toBe(hex(encoded));
      }),
      { numRuns: 2000 },
    );
  });

  it('reads map keys right however often and in whatever mix they recur (keys are remembered by a hash of their bytes)', () => {
    // Many more distinct keys of one length than the reader remembers, so remembered ones are
    // overwritten and some share a slot; non-ASCII keys among them; each map read more than once.
    const keys = Array.from({ length: 3000 }, (_, i) =>
      i % 7 === 0 ? `é${i}` : `k${String(i).padStart(5, '0')}`,
    );
    const maps = Array.from({ length: 60 }, (_, m) =>
      Object.fromEntries(keys.filter((_, i) => i % 60 === m).map((k, i) => [k, i])),
    );
    for (let round = 0; round < 3; round++) {
      for (const map of maps) expect(decodeJson(encodeJson(map))).toEqual(canonicalize(map));
    }
    fc.assert(
      fc.property(
        fc.array(fc.dictionary(fc.string({ maxLength: 6 }), fc.nat(), { maxKeys: 8 }), {
          maxLength: 12,
        }),
        (list) => {
          for (const map of [...list, ...list])
            expect(JSON.stringify(decodeJson(encodeJson(map)))).toBe(
              JSON.stringify(canonicalize(map)),
            );
        },
      ),
      { numRuns: 500 },
    );
  });

  it('writes the smallest form of each value', () => {
    expect(hex(encodeJson(0))).toBe('00');
    expect(hex(encodeJson(-0))).toBe('00');
    expect(hex(encodeJson(127))).toBe('7f');
    expect(hex(encodeJson(128))).toBe('cc80');
    expect(hex(encodeJson(65535))).toBe('cdffff');
    expect(hex(encodeJson(65536))).toBe('ce00010000');
    expect(hex(encodeJson(-32))).toBe('e0');
    expect(hex(encodeJson(-33))).toBe('d0df');
    expect(hex(encodeJson(2 ** 32))).toBe('cb41f0000000000000');
    expect(hex(encodeJson(1.5))).toBe('cb3ff8000000000000');
    expect(hex(encodeJson('a'.repeat(31)))).toBe(`bf${'61'.repeat(31)}`);
    expect(hex(encodeJson('a'.repeat(32)))).toBe(`d920${'61'.repeat(32)}`);
    expect(hex(encodeJson({ b: 1, a: [true, null] }))).toBe('82a16192c3c0a16201');
  });

  it('reads only canonical encodings', () => {
    const bad: Array<[string, RegExp]> = [
      ['cc05', /non-canonical integer/],
      ['cd0005', /non-canonical integer/],
      ['d0ff', /non-canonical integer/],
      ['cb3ff0000000000000', /non-canonical number/],
      ['cb8000000000000000', /non-canonical number/],
      ['cb7ff8000000000000', /not JSON: NaN/],
      ['d90161', /non-canonical string length/],
      ['82a162 01 a161 02', /not in canonical \(sorted\) order/],
      ['82a161 01 a161 02', /duplicate map key "a"/],
      ['81 01 02', /map key is not a string/],
      ['c4 01 00', /unsupported MessagePack type 0xc4/],
      ['d6ff00000001', /unsupported MessagePack type 0xd6/],
      ['ca3f800000', /unsupported MessagePack type 0xca/],
      ['cf0000000000000001', /unsupported MessagePack type 0xcf/],
      ['a2c328', /not valid UTF-8/],
      ['dd ffffffff', /runs past the end/],
      ['df 7fffffff', /runs past the end/],
      ['92 01', /runs past the end/],
      ['01 02', /bytes left/],
    ];
    for (const [h, message] of bad) expect(() => decodeJson(bytes(h)), h).toThrow(message);
    const deep = new Uint8Array(MAX_DEPTH + 2).fill(0x91);
    deep[deep.length - 1] = 0xc0;
    expect(() => decodeJson(deep)).toThrow(CodecError);
    expect(() => decodeJson(deep)).toThrow(/nested deeper/);
  });

  it('refuses what is not JSON', () => {
    for (const v of [
      undefined,
      Number.NaN,
      Infinity,
      new Date(0),
      new Map(),
      () => 1,
      { a: undefined },
      10n,
    ])
      expect(() => encodeJson(v)).toThrow(CodecError);
  });

  it('keeps __proto__ as an own key', () => {
    const v = JSON.parse('{"__proto__":{"x":1},"b":2}') as unknown;
    const d = decodeJson(encodeJson(v)) as Record<string, unknown>;
    expect(Object.getPrototypeOf(d)).toBe(Object.prototype);
    expect(Object.keys(d)).toEqual(['__proto__', 'b']);
    expect(canonicalJson(d)).toBe(canonicalJson(v));
  });

  it('canonicalize keeps __proto__ as an own key, sorted among the others, and sets no prototype', () => {
    const v = JSON.parse('{"z":0,"__proto__":{"polluted":true},"a":[{"__proto__":1}]}') as unknown;
    const c = canonicalize(v) as Record<string, unknown>;
    expect(Object.getPrototypeOf(c)).toBe(Object.prototype);
    expect(Object.keys(c)).toEqual(['__proto__', 'a', 'z']);
    // biome-ignore lint/suspicious/noProto: the test is that __proto__ decodes as an own key
    expect(c.__proto__).toEqual({ polluted: true });
    expect(Object.hasOwn((c.a as object[])[0]!, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('frames', () => {
  it('CRC-32 is zlib’s', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        expect(crc32(b)).toBe(zlibCrc32(b));
      }),
      { numRuns: 500 },
    );
  });

  it('CRC-32 continues from a CRC, and combines from the parts’ CRCs (as a header’s is made)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 400 }),
        fc.uint8Array({ maxLength: 400 }),
        fc.uint8Array({ maxLength: 40 }),
        (a, b, c) => {
          const all = new Uint8Array([...a, ...b, ...c]);
          const whole = zlibCrc32(all);
          expect(
            crc32(all, a.length + b.length, all.length, crc32(all, 0, a.length + b.length)),
          ).toBe(whole);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a frame reads back; a cut one is cut; a flipped one is bad', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.nat(), (payload, x) => {
        const f = frame(payload, payload.length);
        const r = readFrame(f, 0, 1 << 20);
        expect(r.kind).toBe('frame');
        if (r.kind === 'frame')
          expect(hex(f.subarray(r.payloadStart, r.payloadEnd))).toBe(hex(payload));
        expect(readFrame(f.subarray(0, x % f.length), 0, 1 << 20).kind).toBe('cut');
        const g = f.slice();
        g[x % g.length]! ^= 0x10;
        expect(readFrame(g, 0, 1 << 20).kind).not.toBe('frame');
      }),
      { numRuns: 500 },
    );
  });
});
