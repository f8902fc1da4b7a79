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
  // on every call an agent makes, and building the sorted copy first was most of its cost.
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`not JSON: ${value}`);
      return JSON.stringify(value === 0 ? 0 : value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
      const keys = Object.keys(value).sort();
      const parts: string[] = [];
      for (const key of keys) {
        const v = (value as Record<string, unknown>)[key];
        if (v === undefined) throw new TypeError(`not JSON: undefined at key ${key}`);
        parts.push(`${JSON.stringify(key)}:${canonicalJson(v)}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      throw new TypeError(`not JSON: ${typeof value}`);
  }
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
    for (const key of Object.keys(value).sort()) {
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
