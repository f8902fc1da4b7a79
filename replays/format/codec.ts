/**
 * Canonical MessagePack: the subset of MessagePack every replay payload is written in.
 *
 * Types: nil, false, true, integers, float64, UTF-8 strings, arrays, maps with string keys. No
 * binary, no extensions, no float32, no 64-bit integers. Every value has exactly one encoding:
 * - integers in [-2^31, 2^32) take the smallest MessagePack integer form; every other finite number
 *   (fractions, larger integers) is a float64; `-0` is written as `0` (JSON has no -0);
 * - strings, arrays and maps take the smallest length form;
 * - map keys are written in sorted order (UTF-16 code units: `sortedKeys`, which canonical JSON
 *   and `canonicalize` use too).
 * So a JSON value is written as its canonical form (`canonicalize` in scenarios/spec/canonical.ts), and
 * equal canonical JSON gives equal bytes. The decoder accepts only canonical encodings (smallest
 * forms, keys strictly increasing, so no duplicate keys), rejects NaN and infinities, bounds every
 * length by the bytes left and the nesting depth by MAX_DEPTH, and builds plain objects with a key
 * `__proto__` as an own property (never a prototype). Its errors are `CodecError`s.
 */
import { sortedKeys } from '../../scenarios/spec/canonical.js';
import { MAX_DEPTH } from './format.js';

export class CodecError extends Error {
  override name = 'CodecError';
}

const TWO_32 = 2 ** 32;
const TWO_31 = 2 ** 31;
const textEncoder = new TextEncoder();
// ignoreBOM: a string that starts with U+FEFF keeps it (the default strips it, so such a string did not
// read back as written, and its replay was refused as non-canonical).
const textDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** A growable byte buffer with MessagePack writers. `reset()` reuses it for the next payload. */
export class MsgWriter {
  buf: Uint8Array;
  pos = 0;
  private view: DataView;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  reset(): void {
    this.pos = 0;
  }

  /** The bytes written since the last reset (a view: copy before the next write). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  nil(): void {
    this.ensure(1);
    this.buf[this.pos++] = 0xc0;
  }

  bool(value: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = value ? 0xc3 : 0xc2;
  }

  /** Any finite number, in its canonical form. */
  number(value: number): void {
    if (Number.isInteger(value) && value >= -TWO_31 && value < TWO_32)
      this.int(value === 0 ? 0 : value);
    else if (Number.isFinite(value)) {
      this.ensure(9);
      this.buf[this.pos] = 0xcb;
      this.view.setFloat64(this.pos + 1, value);
      this.pos += 9;
    } else throw new CodecError(`not JSON: ${value}`);
  }

  /** An integer in [-2^31, 2^32). */
  private int(v: number): void {
    this.ensure(5);
    const b = this.buf;
    let p = this.pos;
    if (v >= 0) {
      if (v < 0x80) b[p++] = v;
      else if (v < 0x100) {
        b[p++] = 0xcc;
        b[p++] = v;
      } else if (v < 0x10000) {
        b[p++] = 0xcd;
        b[p++] = v >>> 8;
        b[p++] = v & 0xff;
      } else {
        b[p++] = 0xce;
        this.view.setUint32(p, v);
        p += 4;
      }
    } else if (v >= -32) b[p++] = v & 0xff;
    else if (v >= -0x80) {
      b[p++] = 0xd0;
      b[p++] = v & 0xff;
    } else if (v >= -0x8000) {
      b[p++] = 0xd1;
      this.view.setInt16(p, v);
      p += 2;
    } else {
      b[p++] = 0xd2;
      this.view.setInt32(p, v);
      p += 4;
    }
    this.pos = p;
  }

  string(s: string): void {
    const n = s.length;
    // ASCII fast path (ids, keys, hex digests): fixstr below 32 bytes, str8 below 256.
    if (n < 0x100) {
      const head = n < 32 ? 1 : 2;
      this.ensure(head + n);
      const b = this.buf;
      const start = this.pos;
      let p = start + head;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[p++] = c;
      }
      if (i === n) {
        if (head === 1) b[start] = 0xa0 | n;
        else {
          b[start] = 0xd9;
          b[start + 1] = n;
        }
        this.pos = p;
        return;
      }
    }
    const bytes = textEncoder.encode(s);
    const len = bytes.length;
    this.ensure(5 + len);
    const b = this.buf;
    if (len < 32) b[this.pos++] = 0xa0 | len;
    else if (len < 0x100) {
      b[this.pos++] = 0xd9;
      b[this.pos++] = len;
    } else if (len < 0x10000) {
      b[this.pos++] = 0xda;
      b[this.pos++] = len >>> 8;
      b[this.pos++] = len & 0xff;
    } else {
      b[this.pos++] = 0xdb;
      this.view.setUint32(this.pos, len);
      this.pos += 4;
    }
    b.set(bytes, this.pos);
    this.pos += len;
  }

  arrayHeader(n: number): void {
    this.containerHeader(n, 0x90, 0xdc);
  }

  mapHeader(n: number): void {
    this.containerHeader(n, 0x80, 0xde);
  }

  /** An array's or map's length in its smallest form: `fix | n` below 16, else `code16` (or `code16 + 1` for 32 bits) and n. */
  private containerHeader(n: number, fix: number, code16: number): void {
    this.ensure(5);
    const b = this.buf;
    if (n < 16) b[this.pos++] = fix | n;
    else if (n < 0x10000) {
      b[this.pos++] = code16;
      b[this.pos++] = n >>> 8;
      b[this.pos++] = n & 0xff;
    } else {
      b[this.pos++] = code16 + 1;
      this.view.setUint32(this.pos, n);
      this.pos += 4;
    }
  }

  /** Bytes already encoded (one canonical value written earlier). */
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** A JSON value in canonical form; throws CodecError on anything that is not JSON. */
  json(value: unknown, depth = 0): void {
    if (value === null) {
      this.nil();
      return;
    }
    switch (typeof value) {
      case 'boolean':
        this.bool(value);
        return;
      case 'number':
        this.number(value);
        return;
      case 'string':
        this.string(value);
        return;
      case 'object': {
        if (depth >= MAX_DEPTH) throw new CodecError(`JSON nested deeper than ${MAX_DEPTH}`);
        if (Array.isArray(value)) {
          this.arrayHeader(value.length);
          for (let i = 0; i < value.length; i++) this.json(value[i], depth + 1);
          return;
        }
        if (value instanceof Encoded) {
          this.raw(value.bytes);
          return;
        }
        if (!isPlainObject(value))
          throw new CodecError(`not JSON: ${Object.prototype.toString.call(value)}`);
        const keys = sortedKeys(value);
        this.mapHeader(keys.length);
        for (const key of keys) {
          const v = (value as Record<string, unknown>)[key];
          if (v === undefined) throw new CodecError(`not JSON: undefined at key ${key}`);
          this.string(key);
          this.json(v, depth + 1);
        }
        return;
      }
      default:
        throw new CodecError(`not JSON: ${typeof value}`);
    }
  }
}

/**
 * A value given by its canonical encoding: `MsgWriter.json` writes the bytes as they are. For a
 * large value encoded before (a replay header's scenario); the bytes must be one canonical value.
 */
export class Encoded {
  constructor(readonly bytes: Uint8Array) {}
}

/**
 * See `MsgReader.mapEntries`. The bytes from `start` to the `end` returned must be a complete
 * canonical value that decodes to `value`: then decoding them would give `value` and stop at `end`.
 */
export type KnownValue = (
  key: string,
  start: number,
  limit: number,
) => { readonly value: unknown; readonly end: number } | undefined;

/** Reads canonical MessagePack values from `bytes[pos, end)`. */
export class MsgReader {
  pos: number;

  constructor(
    private readonly bytes: Uint8Array,
    start: number,
    private readonly end: number,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new CodecError('value runs past the end of its frame');
  }

  private u8(): number {
    this.need(1);
    return this.bytes[this.pos++]!;
  }

  private u16(): number {
    this.need(2);
    const b = this.bytes;
    const v = (b[this.pos]! << 8) | b[this.pos + 1]!;
    this.pos += 2;
    return v;
  }

  private u32(): number {
    this.need(4);
    const b = this.bytes;
    const v =
      b[this.pos]! * 0x1000000 +
      ((b[this.pos + 1]! << 16) | (b[this.pos + 2]! << 8) | b[this.pos + 3]!);
    this.pos += 4;
    return v;
  }

  /** One value (JSON-shaped: null, boolean, number, string, array, plain object). */
  value(depth = 0): unknown {
    const t = this.u8();
    if (t < 0x80) return t;
    if (t >= 0xe0) return t - 0x100;
    if (t >= 0xa0 && t < 0xc0) return this.str(t & 0x1f, 0);
    if (t >= 0x90 && t < 0xa0) return this.array(t & 0x0f, 0, depth);
    if (t >= 0x80 && t < 0x90) return this.map(t & 0x0f, 0, depth);
    switch (t) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xcb: {
        this.need(8);
        const v = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos, 8).getFloat64(
          0,
        );
        this.pos += 8;
        if (!Number.isFinite(v)) throw new CodecError(`not JSON: ${v}`);
        if ((Number.isInteger(v) && v >= -TWO_31 && v < TWO_32) || Object.is(v, -0))
          throw new CodecError('non-canonical number (an integer written as float64)');
        return v;
      }
      case 0xcc: {
        const v = this.u8();
        if (v < 0x80) throw new CodecError('non-canonical integer');
        return v;
      }
      case 0xcd: {
        const v = this.u16();
        if (v < 0x100) throw new CodecError('non-canonical integer');
        return v;
      }
      case 0xce: {
        const v = this.u32();
        if (v < 0x10000) throw new CodecError('non-canonical integer');
        return v;
      }
      case 0xd0: {
        const v = (this.u8() << 24) >> 24;
        if (v >= -32) throw new CodecError('non-canonical integer');
        return v;
      }
      case 0xd1: {
        const v = (this.u16() << 16) >> 16;
        if (v >= -0x80) throw new CodecError('non-canonical integer');
        return v;
      }
      case 0xd2: {
        const v = this.u32() | 0;
        if (v >= -0x8000) throw new CodecError('non-canonical integer');
        return v;
      }
      case 0xd9:
        return this.str(this.u8(), 32);
      case 0xda:
        return this.str(this.u16(), 0x100);
      case 0xdb:
        return this.str(this.u32(), 0x10000);
      case 0xdc:
        return this.array(this.u16(), 16, depth);
      case 0xdd:
        return this.array(this.u32(), 0x10000, depth);
      case 0xde:
        return this.map(this.u16(), 16, depth);
      case 0xdf:
        return this.map(this.u32(), 0x10000, depth);
      default:
        throw new CodecError(`unsupported MessagePack type 0x${t.toString(16).padStart(2, '0')}`);
    }
  }

  private str(len: number, min: number): string {
    if (len < min) throw new CodecError('non-canonical string length');
    this.need(len);
    const b = this.bytes;
    const start = this.pos;
    this.pos += len;
    if (len < 64) {
      let s = '';
      for (let i = start; i < start + len; i++) {
        const c = b[i]!;
        if (c >= 0x80) return this.utf8(start, len);
        s += String.fromCharCode(c);
      }
      return s;
    }
    return this.utf8(start, len);
  }

  private utf8(start: number, len: number): string {
    try {
      return textDecoder.decode(this.bytes.subarray(start, start + len));
    } catch {
      throw new CodecError('string is not valid UTF-8');
    }
  }

  private array(n: number, min: number, depth: number): unknown[] {
    if (n < min) throw new CodecError('non-canonical array length');
    if (depth >= MAX_DEPTH) throw new CodecError(`nested deeper than ${MAX_DEPTH}`);
    // Every element takes at least one byte: bound the length by what is left.
    if (n > this.end - this.pos)
      throw new CodecError(`array of ${n} elements runs past the end of its frame`);
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) out.push(this.value(depth + 1));
    return out;
  }

  /**
   * A map at the top level, entry by entry, with where each value's bytes are: for a reader that
   * wants to recognise a part it has seen before (the header's scenario). `known(key, start, limit)`
   * may recognise the bytes of the value at `start` (up to `limit` at most) as a complete value
   * decoded before, and return it with where it ends; they are not decoded again.
   */
  mapEntries(known?: KnownValue): Array<{
    readonly key: string;
    readonly value: unknown;
    readonly start: number;
    readonly end: number;
  }> {
    const t = this.u8();
    let n: number;
    if (t >= 0x80 && t < 0x90) n = t & 0x0f;
    else if (t === 0xde) n = this.u16();
    else if (t === 0xdf) n = this.u32();
    else throw new CodecError('expected a map');
    const out: Array<{ key: string; value: unknown; start: number; end: number }> = [];
    this.map(
      n,
      t === 0xde ? 16 : t === 0xdf ? 0x10000 : 0,
      0,
      (key, value, start, end) => out.push({ key, value, start, end }),
      known,
    );
    return out;
  }

  private map(
    n: number,
    min: number,
    depth: number,
    entry?: (key: string, value: unknown, start: number, end: number) => void,
    known?: KnownValue,
  ): Record<string, unknown> {
    if (n < min) throw new CodecError('non-canonical map length');
    if (depth >= MAX_DEPTH) throw new CodecError(`nested deeper than ${MAX_DEPTH}`);
    if (n * 2 > this.end - this.pos)
      throw new CodecError(`map of ${n} entries runs past the end of its frame`);
    const out: Record<string, unknown> = {};
    let prev: string | null = null;
    for (let i = 0; i < n; i++) {
      const t = this.bytes[this.pos];
      const isStr =
        t !== undefined && ((t >= 0xa0 && t < 0xc0) || t === 0xd9 || t === 0xda || t === 0xdb);
      if (!isStr) throw new CodecError('map key is not a string');
      const key = this.value(depth + 1) as string;
      if (prev !== null && !(prev < key))
        throw new CodecError(
          prev === key
            ? `duplicate map key ${JSON.stringify(key)}`
            : 'map keys are not in canonical (sorted) order',
        );
      prev = key;
      const start = this.pos;
      const seen = known?.(key, start, this.end);
      let v: unknown;
      if (seen === undefined) v = this.value(depth + 1);
      else {
        if (!(seen.end > start && seen.end <= this.end))
          throw new Error(`a known value cannot end at ${seen.end}`);
        v = seen.value;
        this.pos = seen.end;
      }
      entry?.(key, v, start, this.pos);
      if (key === '__proto__')
        Object.defineProperty(out, key, {
          value: v,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      else out[key] = v;
    }
    return out;
  }
}

/** The canonical encoding of one JSON value. */
export function encodeJson(value: unknown): Uint8Array {
  const w = new MsgWriter();
  w.json(value);
  return w.bytes().slice();
}

/** Decodes exactly one value filling `bytes`. */
export function decodeJson(bytes: Uint8Array): unknown {
  const r = new MsgReader(bytes, 0, bytes.length);
  const v = r.value();
  if (!r.done) throw new CodecError('bytes left after the value');
  return v;
}
