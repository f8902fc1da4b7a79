import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalize,
  canonicalJson,
  jsonEqual,
  sortedKeys,
} from '../../../scenarios/spec/canonical.js';
import { encodeJson } from '../../../replays/format/codec.js';

/**
 * The rule written the plain way, as canonical.ts wrote it before it was tuned: JSON.stringify
 * for strings and numbers, Array#sort for keys, parts joined. The oracle for the tuned one.
 */
function plainCanonicalJson(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`not JSON: ${value}`);
    return JSON.stringify(value === 0 ? 0 : value);
  }
  if (Array.isArray(value)) return `[${value.map(plainCanonicalJson).join(',')}]`;
  if (typeof value !== 'object') throw new TypeError(`not JSON: ${typeof value}`);
  const parts = Object.keys(value)
    .sort()
    .map((k) => {
      const v = (value as Record<string, unknown>)[k];
      if (v === undefined) throw new TypeError(`not JSON: undefined at key ${k}`);
      return `${JSON.stringify(k)}:${plainCanonicalJson(v)}`;
    });
  return `{${parts.join(',')}}`;
}

/** Any UTF-16 code unit, lone surrogates included (the keys a hostile file can hold). */
const codeUnits = fc.string({
  unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
});
/** Keys that sort differently as strings and as numbers, and that look like a prototype. */
const trickyKeys = fc.oneof(
  codeUnits,
  fc.nat({ max: 200 }).map(String),
  fc.constantFrom('__proto__', 'constructor', 'toString', '', 'a', 'A', 'é', 'e\u0301', '\ud83d'),
);

/** The same object with its keys inserted in another order. */
function reordered(
  value: Record<string, unknown>,
  order: readonly number[],
): Record<string, unknown> {
  const entries = Object.entries(value);
  const out: Record<string, unknown> = {};
  const picked = entries.length === 0 ? [] : order.map((i) => entries[i % entries.length]!);
  picked.push(...entries);
  for (const [k, v] of picked)
    if (!Object.hasOwn(out, k))
      Object.defineProperty(out, k, {
        value: v,
        enumerable: true,
        writable: true,
        configurable: true,
      });
  return out;
}

const objects = fc.dictionary(trickyKeys, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 40 });

describe('canonical JSON', () => {
  it('is the plain rule: keys sorted by code unit, -0 as 0, for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(canonicalJson(v)).toBe(plainCanonicalJson(v));
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(fc.array(objects, { maxLength: 3 }), (v) => {
        expect(canonicalJson(v)).toBe(plainCanonicalJson(v));
      }),
      { numRuns: 2000 },
    );
  });

  it('does not depend on the order keys were inserted in, in JSON or in the replay codec', () => {
    fc.assert(
      fc.property(objects, fc.array(fc.nat(), { maxLength: 60 }), (v, order) => {
        const w = reordered(v, order);
        expect(canonicalJson(w)).toBe(canonicalJson(v));
        expect(Buffer.from(encodeJson(w)).equals(Buffer.from(encodeJson(v)))).toBe(true);
        expect(jsonEqual(w, v)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('sorts keys as Array#sort does, above and below the insertion-sort bound, in any start order', () => {
    fc.assert(
      fc.property(fc.uniqueArray(trickyKeys, { maxLength: 60 }), (keys) => {
        const value = Object.fromEntries(keys.map((k) => [k, 1]));
        expect(sortedKeys(value)).toEqual(Object.keys(value).sort());
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(fc.uniqueArray(trickyKeys, { minLength: 25, maxLength: 80 }), (keys) => {
        const value = Object.fromEntries(keys.map((k) => [k, 1]));
        expect(sortedKeys(value)).toEqual(Object.keys(value).sort());
      }),
      { numRuns: 300 },
    );
    // Integer-like keys come first from Object.keys, numerically; as strings "10" < "9".
    expect(sortedKeys({ b: 1, 10: 1, a: 1, 9: 1, 100: 1 })).toEqual(['10', '100', '9', 'a', 'b']);
    expect(sortedKeys({ z: 1, y: 1, x: 1 })).toEqual(['x', 'y', 'z']);
  });

  it('quotes keys right beyond the bound on remembered keys (a file with many distinct keys)', () => {
    const many = Object.fromEntries(
      Array.from({ length: 10_000 }, (_, i) => [`k"${i}\u0007\ud800`, i]),
    );
    expect(canonicalJson(many)).toBe(plainCanonicalJson(many));
    expect(canonicalJson(many)).toBe(plainCanonicalJson(many));
  });

  it('prints numbers as JSON does and refuses what JSON has not', () => {
    expect(canonicalJson([-0, 0, 1e21, 1e-7, -1.5, 2 ** 53, 0.1 + 0.2])).toBe(
      '[0,0,1e+21,1e-7,-1.5,9007199254740992,0.30000000000000004]',
    );
    expect(() => canonicalJson(Number.NaN)).toThrow('not JSON: NaN');
    expect(() => canonicalJson([Number.POSITIVE_INFINITY])).toThrow('not JSON: Infinity');
    expect(() => canonicalJson({ a: undefined })).toThrow('not JSON: undefined at key a');
    expect(() => canonicalJson({ f: () => 1 })).toThrow('not JSON: function');
    const proto = JSON.parse('{"__proto__":{"x":1},"a":[]}') as unknown;
    expect(canonicalJson(proto)).toBe('{"__proto__":{"x":1},"a":[]}');
    expect(JSON.stringify(canonicalize(proto))).toBe('{"__proto__":{"x":1},"a":[]}');
  });
});
