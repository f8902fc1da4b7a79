/**
 * Reading a replay's records one at a time, in memory bounded by the largest frame rather than the
 * file: `ReplayStream` reads a file through a window of a few MiB (`inspect`, `diff` and `score`
 * of a replay of millions of records), and `readReplay` runs the same scanner over bytes in memory,
 * so both say the same things about the same bytes.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import type { EpisodeEvent } from '../../scenarios/world/events.js';
import type { Scenario } from '../../scenarios/spec/schema.js';
import { fsReason, kindOf } from '../../scenarios/spec/input-file.js';
import { CodecError, MsgReader } from '../format/codec.js';
import { RecordDecoder } from '../format/decode.js';
import { dictionaryFor } from '../format/dictionary.js';
import {
  MAGIC,
  MAX_HEADER_BYTES,
  MAX_RECORD_BYTES,
  PREFIX_BYTES,
  readFrame,
  ReplayError,
} from '../format/format.js';
import type { ReplayHeader } from '../format/header.js';

/**
 * Bytes of a replay, seen through a window: `window(at, need)` returns bytes holding at least
 * `need` bytes from absolute offset `at` (fewer only at the end of the file), as `bytes[at - base]`;
 * bytes before `at` may be gone afterwards.
 */
export interface ByteSource {
  window(at: number, need: number): { readonly bytes: Uint8Array; readonly base: number };
  /** Every byte of the file is in the last window returned from its offset on. */
  readonly atEnd: boolean;
  /** The file's length, once `atEnd`. */
  readonly length: number;
}

/** A whole file already in memory. */
export class MemorySource implements ByteSource {
  readonly atEnd = true;
  constructor(private readonly bytes: Uint8Array) {}
  get length(): number {
    return this.bytes.length;
  }
  window(): { bytes: Uint8Array; base: number } {
    return { bytes: this.bytes, base: 0 };
  }
}

const CHUNK_BYTES = 1 << 20;

/**
 * A regular file read a chunk at a time through a reused buffer. Opened as `readInputFile` opens
 * (O_NONBLOCK, fstat on the descriptor: only a regular file), with the size limit checked before
 * and while reading. Errors are InputFileError-like reasons, thrown as ReplayErrors naming the file.
 */
export class FileSource implements ByteSource {
  private fd: number | null;
  private buf = new Uint8Array(CHUNK_BYTES);
  private base = 0;
  private used = 0;
  private ended = false;

  constructor(
    private readonly path: string,
    private readonly maxBytes: number,
  ) {
    try {
      this.fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (error) {
      throw new ReplayError(`${path}: cannot read: ${fsReason(error)}`);
    }
    try {
      const stats = fstatSync(this.fd);
      if (!stats.isFile())
        throw new ReplayError(`${path}: cannot read: not a regular file (${kindOf(stats)})`);
      if (stats.size > maxBytes)
        throw new ReplayError(
          `${path}: cannot read: ${stats.size} bytes, over the limit of ${maxBytes}`,
        );
    } catch (error) {
      this.close();
      throw error instanceof ReplayError
        ? error
        : new ReplayError(`${path}: cannot read: ${fsReason(error)}`);
    }
  }

  get atEnd(): boolean {
    return this.ended;
  }

  get length(): number {
    return this.base + this.used;
  }

  window(at: number, need: number): { bytes: Uint8Array; base: number } {
    if (at < this.base)
      throw new Error(`FileSource: offset ${at} was dropped (window at ${this.base})`);
    if (at + need > this.base + this.used && !this.ended) this.fill(at, need);
    return { bytes: this.buf.subarray(0, this.used), base: this.base };
  }

  /** Keeps the bytes from `at` on, then reads until `need` of them are there or the file ends. */
  private fill(at: number, need: number): void {
    const keep = this.base + this.used - at;
    const size = Math.max(CHUNK_BYTES, need + CHUNK_BYTES / 2);
    if (size > this.buf.length) {
      const bigger = new Uint8Array(size);
      bigger.set(this.buf.subarray(at - this.base, this.used));
      this.buf = bigger;
    } else this.buf.copyWithin(0, at - this.base, this.used);
    this.base = at;
    this.used = keep;
    while (this.used < need && !this.ended) {
      let got: number;
      try {
        got = readSync(this.fd!, this.buf, this.used, this.buf.length - this.used, null);
      } catch (error) {
        throw new ReplayError(`${this.path}: cannot read: ${fsReason(error)}`);
      }
      if (got === 0) this.ended = true;
      this.used += got;
      if (this.base + this.used > this.maxBytes)
        throw new ReplayError(
          `${this.path}: cannot read: more than ${this.maxBytes} bytes, over the limit (the file grows as it is read)`,
        );
    }
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/**
 * The bytes from the start of `source` through its header frame (or all there are, when the file
 * ends first or is not a replay): what `readReplayHeader` needs to read the header.
 */
export function headerBytes(source: ByteSource): Uint8Array {
  let need = PREFIX_BYTES + 5;
  for (;;) {
    const { bytes } = source.window(0, need);
    if (source.atEnd || bytes.length < PREFIX_BYTES) return bytes;
    for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) return bytes;
    const f = readFrame(bytes, PREFIX_BYTES, MAX_HEADER_BYTES, false);
    if (f.kind !== 'cut') return bytes;
    need = Math.max(PREFIX_BYTES + f.need, need * 2);
  }
}

/** How the records of a replay ended: what `ReplayRead` says besides the events. */
export interface RecordsEnd {
  readonly records: number;
  readonly complete: boolean;
  readonly problem: string | null;
  readonly recordsSha256: string | null;
  /** Where the records end (the trailer's offset, or the end of the last whole record). */
  readonly recordsEnd: number;
  readonly total: number;
  readonly trailerBytes: number;
}

/**
 * The records of a replay, one at a time (`next()`, null after the last), checked as they come:
 * a ReplayError names the record and its byte offset. After the last, `end` says whether the file
 * is complete (a trailer whose count and SHA-256 match) or where it stops.
 */
export class RecordScanner {
  private readonly decoder: RecordDecoder;
  private readonly hash: Hash = createHash('sha256');
  private hashedTo: number;
  private pos: number;
  private count = 0;
  private result: RecordsEnd | null = null;
  /** Offset of the record `next()` returned last. */
  at = -1;

  constructor(
    private readonly file: string,
    header: ReplayHeader,
    scenario: Scenario,
    private readonly source: ByteSource,
    recordsStart: number,
  ) {
    this.decoder = new RecordDecoder(dictionaryFor(scenario), header);
    this.pos = recordsStart;
    this.hashedTo = recordsStart;
  }

  get end(): RecordsEnd {
    if (this.result === null) throw new Error('RecordScanner: the records are not all read yet');
    return this.result;
  }

  private fail(message: string): never {
    throw new ReplayError(`${this.file}: record ${this.count} at byte ${this.pos}: ${message}`);
  }

  /** The frame at `pos`, reading more of the file while it is cut there; null at the end. */
  private frame():
    | {
        bytes: Uint8Array;
        base: number;
        f: Extract<ReturnType<typeof readFrame>, { kind: 'frame' }>;
      }
    | 'cut'
    | null {
    let need = 16;
    for (;;) {
      const w = this.source.window(this.pos, 0);
      if (this.pos - w.base >= w.bytes.length && this.source.atEnd) return null;
      const f = readFrame(w.bytes, this.pos - w.base, MAX_RECORD_BYTES);
      if (f.kind === 'frame') return { bytes: w.bytes, base: w.base, f };
      if (f.kind === 'bad') this.fail(f.message);
      if (this.source.atEnd) return 'cut';
      // Hash what the window is about to drop, then read on.
      this.hashUpTo(this.pos, w);
      need = Math.max(f.need, need * 2);
      this.source.window(this.pos, need);
    }
  }

  private hashUpTo(to: number, w: { bytes: Uint8Array; base: number }): void {
    if (to > this.hashedTo) this.hash.update(w.bytes.subarray(this.hashedTo - w.base, to - w.base));
    this.hashedTo = to;
  }

  next(): EpisodeEvent | null {
    if (this.result !== null) return null;
    const got = this.frame();
    if (got === null || got === 'cut') {
      const length = this.source.length;
      const problem =
        got === 'cut'
          ? `truncated: record ${this.count} at byte ${this.pos} is cut (the file ends ${length - this.pos} bytes into it)`
          : `truncated: no trailer after ${this.count} records (the file ends at byte ${length})`;
      this.result = {
        records: this.count,
        complete: false,
        problem,
        recordsSha256: null,
        recordsEnd: this.pos,
        total: length,
        trailerBytes: 0,
      };
      return null;
    }
    const { bytes, base, f } = got;
    let value: unknown;
    try {
      const r = new MsgReader(bytes, f.payloadStart, f.payloadEnd);
      value = r.value();
      if (!r.done) throw new CodecError('bytes left after the record');
      if (Array.isArray(value) && value[0] === 0)
        return this.trailer(value, bytes, base, f.end + base);
      const event = this.decoder.decode(value);
      this.at = this.pos;
      this.pos = f.end + base;
      this.count++;
      return event;
    } catch (error) {
      if (error instanceof CodecError) return this.fail(error.message);
      throw error;
    }
  }

  /** Checks the trailer at `pos` (ending at `end`) against the records read; the end of the records. */
  private trailer(value: unknown[], bytes: Uint8Array, base: number, end: number): null {
    if (
      value.length !== 3 ||
      typeof value[1] !== 'number' ||
      typeof value[2] !== 'string' ||
      !/^[0-9a-f]{64}$/.test(value[2])
    ) {
      throw new CodecError('a trailer is [0, records, sha256 hex]');
    }
    const where = `${this.file}: trailer at byte ${this.pos}`;
    // Hashed before looking past the trailer: the window may then drop the records' bytes.
    this.hashUpTo(this.pos, { bytes, base });
    const rest = this.source.window(end, 1);
    if (rest.bytes.length > end - rest.base)
      throw new ReplayError(
        `${where}: ${this.drainLength(end)} unexpected bytes after the trailer`,
      );
    const length = this.source.length;
    if (value[1] !== this.count)
      throw new ReplayError(`${where}: says ${value[1]} records, the file has ${this.count}`);
    const sha = this.hash.digest('hex');
    if (sha !== value[2])
      throw new ReplayError(
        `${where}: SHA-256 of the records does not match (the file is corrupt)`,
      );
    this.result = {
      records: this.count,
      complete: true,
      problem: null,
      recordsSha256: sha,
      recordsEnd: this.pos,
      total: length,
      trailerBytes: end - this.pos,
    };
    return null;
  }

  /** How many bytes the file has from `from` on (reading to its end: bounded by the size limit). */
  private drainLength(from: number): number {
    let at = from;
    while (!this.source.atEnd) {
      const w = this.source.window(at, CHUNK_BYTES);
      at = w.base + w.bytes.length;
    }
    return this.source.length - from;
  }
}
