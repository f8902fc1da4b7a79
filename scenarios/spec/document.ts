/**
 * The limits of a scenario document, checked before anything else reads it (validation, the
 * canonical form, the replay header): every value JSON (finite numbers, plain objects, strings
 * that are Unicode text), nested at most MAX_DOCUMENT_DEPTH deep, and at most MAX_SCENARIO_BYTES
 * of canonical JSON. The walk is iterative and linear in the document's size, so a document that
 * is deep, huge or not JSON at all gets one problem here instead of a stack overflow, a replay
 * header too big to read back, or an internal error further on.
 *
 * Why these numbers: every step of the code that reads a scenario recurses at most as deep as the
 * document (canonicalize, the JSON Schema validator), so MAX_DOCUMENT_DEPTH keeps that far within
 * the stack; and a replay's header holds the scenario in canonical MessagePack, at most 2.25 times
 * its canonical JSON (a float like `5e9,` takes 4 bytes as JSON and 9 as MessagePack; everything
 * else takes fewer), so 16 MiB of JSON fits the reader's 64 MiB header limit with room to spare.
 */

/** Deepest nesting of arrays and objects in a scenario document (the document itself is depth 0). */
export const MAX_DOCUMENT_DEPTH = 100;
/** Largest scenario, as the UTF-8 bytes of its canonical JSON. */
export const MAX_SCENARIO_BYTES = 16 * 1024 * 1024;
/** Largest scenario file read (whitespace and escapes included). */
export const MAX_SCENARIO_FILE_BYTES = 64 * 1024 * 1024;

export interface DocumentProblem {
  readonly segs: Array<string | number>;
  readonly message: string;
}

interface Frame {
  readonly value: object;
  /** The object's keys; null for an array. */
  readonly keys: string[] | null;
  readonly length: number;
  /** Index of the next child to visit. */
  next: number;
}

/**
 * UTF-8 bytes of `s` as a JSON string (quotes and escapes included, as JSON.stringify writes it),
 * or -1 when `s` holds a lone surrogate (not Unicode text: UTF-8 cannot hold it).
 */
export function jsonStringBytes(s: string): number {
  let n = 2;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80)
      n +=
        c === 0x22 || c === 0x5c
          ? 2
          : c >= 0x20
            ? 1
            : c === 8 || c === 9 || c === 10 || c === 12 || c === 13
              ? 2
              : 6;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return -1;
      n += 4;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return -1;
    else n += 3;
  }
  return n;
}

function loneSurrogate(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const d = s.charCodeAt(i + 1);
    if (c >= 0xd800 && c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) i++;
    else if (c >= 0xd800 && c <= 0xdfff) return `U+${c.toString(16).toUpperCase()}`;
  }
  return '?';
}

function lonely(s: string): string {
  return `holds a lone surrogate (${loneSurrogate(s)}): strings must be Unicode text`;
}

/** Bytes of a leaf as canonical JSON, or the problem with it. */
function leafBytes(v: unknown): number | string {
  if (v === null) return 4;
  switch (typeof v) {
    case 'boolean':
      return v ? 4 : 5;
    case 'number':
      if (Number.isFinite(v)) return String(v === 0 ? 0 : v).length;
      return Number.isNaN(v)
        ? 'expected a JSON value, got NaN'
        : `expected a JSON value, got ${v} (a number out of range, such as 1e999)`;
    case 'string': {
      const n = jsonStringBytes(v);
      return n < 0 ? lonely(v) : n;
    }
    default:
      return `expected a JSON value, got ${typeof v}`;
  }
}

/**
 * The first problem with `doc` as a scenario document's shape (see the module comment), or null.
 * Never throws, never recurses.
 */
export function checkDocument(doc: unknown): DocumentProblem | null {
  const stack: Frame[] = [];
  const path = (): Array<string | number> =>
    stack.map((f) => (f.keys === null ? f.next - 1 : f.keys[f.next - 1]!));
  let bytes = 0;
  let value: unknown = doc;
  for (;;) {
    if (value === null || typeof value !== 'object') {
      const n = leafBytes(value);
      if (typeof n === 'string') return { segs: path(), message: n };
      bytes += n;
    } else {
      if (stack.length >= MAX_DOCUMENT_DEPTH)
        return { segs: path(), message: `nested deeper than ${MAX_DOCUMENT_DEPTH}` };
      let keys: string[] | null = null;
      if (!Array.isArray(value)) {
        const proto = Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null;
        if (proto !== Object.prototype && proto !== null)
          return {
            segs: path(),
            message: `expected a JSON value, got ${proto.constructor?.name ?? 'object'}`,
          };
        keys = Object.keys(value);
        for (const key of keys) {
          const n = jsonStringBytes(key);
          if (n < 0)
            return { segs: path(), message: `the key ${JSON.stringify(key)} ${lonely(key)}` };
          bytes += n + 1; // the key and its colon
        }
      }
      const length = keys === null ? (value as unknown[]).length : keys.length;
      bytes += 2 + Math.max(0, length - 1); // brackets and commas
      stack.push({ value, keys, length, next: 0 });
    }
    // The next value to visit: the next child of the innermost container that has one left.
    let top = stack[stack.length - 1];
    while (top !== undefined && top.next >= top.length) {
      stack.pop();
      top = stack[stack.length - 1];
    }
    if (top === undefined) break;
    const k = top.next++;
    value =
      top.keys === null
        ? (top.value as unknown[])[k]
        : (top.value as Record<string, unknown>)[top.keys[k]!];
  }
  if (bytes > MAX_SCENARIO_BYTES) {
    return {
      segs: [],
      message: `${bytes} bytes as canonical JSON, over the limit of ${MAX_SCENARIO_BYTES} (16 MiB): a replay could not hold it`,
    };
  }
  return null;
}
