/**
 * Canonical JSON: the one way tooltime compares and hashes JSON values.
 *
 * Object keys are sorted (by UTF-16 code unit order), arrays keep their order, numbers print as
 * JavaScript prints them, `-0` is `0`, and `undefined` is not JSON (an error, not a silent drop).
 * Two values are equal exactly when their canonical strings are equal.
 */
import type { JsonValue } from './schema.js';

export function canonicalJson(value: unknown): string {
  // Written out directly (not JSON.stringify(canonicalize(v))): calls are matched by this string
  // on every call an agent makes, and every episodes.jsonl line is one. Keys are sorted in place
  // (Array#sort copied them first) and quoted once. Each level joins its parts into a flat string:
  // built by `+=` instead, a line was a tree of a few hundred cons strings, which a batch held by
  // a worker kept alive through scavenges (bench/RESULTS.md, "Canonical JSON").
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      // JSON prints a finite number as ToString does, and ToString prints -0 as 0.
      if (!Number.isFinite(value)) throw new TypeError(`not JSON: ${value}`);
      return String(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
      const keys = sortedKeys(value);
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        const v = (value as Record<string, unknown>)[key];
        if (v === undefined) throw new TypeError(`not JSON: undefined at key ${key}`);
        keys[i] = `${quotedKey(key)}:${canonicalJson(v)}`;
      }
      return `{${keys.join(',')}}`;
    }
    default:
      throw new TypeError(`not JSON: ${typeof value}`);
  }
}

/** Objects with more keys than this are sorted by Array#sort; fewer, by insertion in place. */
const INSERTION_SORT_MAX_KEYS = 24;

/**
 * An object's own keys in canonical order: UTF-16 code unit order, as Array#sort with no
 * comparator orders strings (`>` on two strings compares the same way). The one definition of that
 * order: canonical JSON and the replay codec's maps both take it from here. Sorted in place,
 * without allocating beyond the keys array for the few keys an object usually has, and in linear
 * time when they come sorted already.
 */
export function sortedKeys(value: object): string[] {
  const keys = Object.keys(value);
  if (keys.length > INSERTION_SORT_MAX_KEYS) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]!;
    let j = i - 1;
    for (; j >= 0 && keys[j]! > key; j--) keys[j + 1] = keys[j]!;
    keys[j + 1] = key;
  }
  return keys;
}

/** At most this many quoted keys are remembered: a hostile file's keys cannot grow it further. */
const QUOTED_KEYS_MAX = 4096;
const quotedKeys = new Map<string, string>();

/** `JSON.stringify(key)`, remembered: records repeat the same few dozen keys. */
function quotedKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = JSON.stringify(key);
    if (quotedKeys.size < QUOTED_KEYS_MAX) quotedKeys.set(key, quoted);
  }
  return quoted;
}

/** A deep copy with every object's keys in sorted order (so JSON.stringify is canonical). */
export function canonicalize(value: unknown): JsonValue {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`not JSON: ${value}`);
    return value === 0 ? 0 : value;
  }
  if (Array.isArray(value)) return value.map(canonicalize);
  if (typeof value === 'object') {
    const out: Record<string, JsonValue> = {};
    for (const key of sortedKeys(value)) {
      const v = (value as Record<string, unknown>)[key];
      if (v === undefined) throw new TypeError(`not JSON: undefined at key ${key}`);
      // A key named __proto__ must stay an own data property, not set a prototype. Every other key
      // is assigned: defineProperty for each made canonicalizing the suite's files twice as slow.
      if (key === '__proto__')
        Object.defineProperty(out, key, {
          value: canonicalize(v),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      else out[key] = canonicalize(v);
    }
    return out;
  }
  throw new TypeError(`not JSON: ${typeof value}`);
}

export function jsonEqual(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/**
 * Deep equality of JSON values up to key order (and -0 = 0): equal canonical forms, found without
 * building them (the replay codec compares args and results per event). Plain objects only; a key
 * holding `undefined` makes it false.
 */
export function canonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!canonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  if (
    Object.getPrototypeOf(a) !== Object.prototype ||
    Object.getPrototypeOf(b) !== Object.prototype
  )
    return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k)) return false;
    const va = (a as Record<string, unknown>)[k];
    if (va === undefined || !canonEqual(va, (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/**
 * The value at a dotted path (`booking.id`, `flights.0.id`; the empty path is the value itself),
 * or `undefined` when the path leads nowhere. Only own properties are followed.
 */
export function getPath(value: unknown, path: string): unknown {
  if (path === '') return value;
  let current: unknown = value;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    if (Array.isArray(current)) {
      if (!/^(0|[1-9][0-9]*)$/.test(part)) return undefined;
      current = current[Number(part)];
    } else {
      if (!Object.hasOwn(current, part)) return undefined;
      current = (current as Record<string, unknown>)[part];
    }
  }
  return current;
}
