/**
 * Reading replays. `readReplay(bytes)` returns the header, every complete record's event, and
 * whether the file is complete (a trailer whose count and SHA-256 match). A file cut short (no
 * trailer, or a last frame cut) reads as its complete prefix with `complete: false` and a
 * `problem` saying where it stops; a file cut before its header is whole (empty, or cut inside the
 * prefix or the header frame) has no episode to return and throws a `ReplayTruncatedError`, which
 * says so in the same words. Anything else wrong throws a one-line `ReplayError` naming the
 * file and the place: bad magic, unsupported version, a frame whose checksum fails, a length
 * beyond the limits, a record of the wrong shape, an invalid header or scenario, bytes after the
 * trailer. Work and memory are bounded by the input's size.
 */
import type { EpisodeEvent } from '../../scenarios/world/events.js';
import type { Scenario } from '../../scenarios/spec/schema.js';
import { InputFileError, readInputFile } from '../../scenarios/spec/input-file.js';
import { CodecError, MsgReader } from '../format/codec.js';
import {
  FORMAT_VERSION,
  MAGIC,
  MAX_HEADER_BYTES,
  PREFIX_BYTES,
  readFrame,
  ReplayError,
} from '../format/format.js';
import { HeaderError, parseHeader, type ReplayHeader } from '../format/header.js';
import { remember, seen, type SeenScenario } from '../format/scenario-memo.js';
import { FileSource, headerBytes, MemorySource, RecordScanner } from './records.js';

/** Default cap on a replay's size. */
export const DEFAULT_MAX_BYTES = 512 * 1024 * 1024;

/**
 * Bounds and names for reading a replay: the largest input accepted and the name used in messages.
 */
export interface ReadOptions {
  /** Refuse inputs larger than this (default 512 MiB). */
  readonly maxBytes?: number;
  /** The name used in messages (default `<replay>`). */
  readonly file?: string;
}

/** How a replay's bytes divide between header, records and trailer. */
export interface ReplaySizes {
  readonly total: number;
  /** Magic, version and the header frame. */
  readonly header: number;
  /** Every complete record frame. */
  readonly records: number;
  readonly trailer: number;
}

/**
 * A replay read back: its header and parsed scenario, every complete event, whether it is complete
 * (a matching trailer) or why not, the records' SHA-256, sizes and frame offsets.
 */
export interface ReplayRead {
  readonly file: string;
  readonly header: ReplayHeader;
  /** The header's scenario, parsed. */
  readonly scenario: Scenario;
  readonly events: EpisodeEvent[];
  /** A trailer was found and matches (record count and SHA-256). */
  readonly complete: boolean;
  /** Why the file is not complete (it is truncated), or null. */
  readonly problem: string | null;
  /** SHA-256 (hex) of the record frames (from the trailer, checked). Null when truncated. */
  readonly recordsSha256: string | null;
  readonly sizes: ReplaySizes;
  /** Byte offset of each record frame, then the offset where the records end. */
  readonly offsets: readonly number[];
}

/**
 * A file cut before its header is whole: what a run killed while writing it leaves (an empty file,
 * or part of the prefix or header frame). A truncated file like any other, but with no header
 * there is no episode to return, so it is thrown; callers that list files (score, verify) report
 * it as truncated, the others as the one-line error it is.
 */
export class ReplayTruncatedError extends ReplayError {
  constructor(
    readonly file: string,
    /** `truncated: ...`, as `ReplayRead.problem` words a cut. */
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

/** Throws the ReplayTruncatedError of a file of `length` bytes cut inside `part`. */
function cutBeforeRecords(file: string, length: number, part: string): never {
  const where =
    length === 0 ? 'the file is empty' : `the file ends at byte ${length}, inside ${part}`;
  throw new ReplayTruncatedError(file, `truncated: ${where} (no episode to read)`);
}

/** Throws the ReplayError for `message` at `where` (empty: the file as a whole) in `file`. */
function failIn(file: string): (where: string, message: string) => never {
  return (where, message) => {
    throw new ReplayError(`${file}: ${where === '' ? '' : `${where}: `}${message}`);
  };
}

/** What `readReplayHeader` reads: the header, its scenario parsed, and where the records start. */
export interface HeaderRead {
  readonly file: string;
  readonly header: ReplayHeader;
  readonly scenario: Scenario;
  readonly recordsStart: number;
}

/** Reads and checks a replay up to its header, as `readReplay` does (the same errors). */
export function readReplayHeader(bytes: Uint8Array, options: ReadOptions = {}): HeaderRead {
  const file = options.file ?? '<replay>';
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const fail = failIn(file);
  if (bytes.length > maxBytes) fail('', `${bytes.length} bytes, over the limit of ${maxBytes}`);
  // Every byte there is must match: a file that ends early is cut, one that differs is not a replay.
  for (let i = 0; i < MAGIC.length; i++) {
    if (i >= bytes.length) cutBeforeRecords(file, bytes.length, 'the magic bytes');
    if (bytes[i] !== MAGIC[i]) fail('', 'not a tooltime replay (bad magic bytes)');
  }
  if (bytes.length < PREFIX_BYTES) cutBeforeRecords(file, bytes.length, 'the format version');
  const version = bytes[MAGIC.length]! | (bytes[MAGIC.length + 1]! << 8);
  if (version !== FORMAT_VERSION)
    fail(
      '',
      `unsupported replay format version ${version} (this tooltime reads version ${FORMAT_VERSION})`,
    );

  const hf = readFrame(bytes, PREFIX_BYTES, MAX_HEADER_BYTES);
  const headerWhere = `header at byte ${PREFIX_BYTES}`;
  if (hf.kind === 'cut')
    cutBeforeRecords(file, bytes.length, `the header (at byte ${PREFIX_BYTES})`);
  if (hf.kind === 'bad') fail(headerWhere, hf.message);
  if (hf.kind !== 'frame') throw new Error('unreachable');
  let header: ReplayHeader;
  let scenario: Scenario;
  try {
    const r = new MsgReader(bytes, hf.payloadStart, hf.payloadEnd);
    // A scenario read before is neither decoded nor parsed again (scenario-memo.ts).
    let hit: SeenScenario | undefined;
    const entries = r.mapEntries((key, start, limit) => {
      if (key !== 'scenario') return undefined;
      hit = seen(bytes, start, limit);
      return hit === undefined ? undefined : { value: hit.doc, end: start + hit.bytes.length };
    });
    if (!r.done) throw new CodecError('bytes left after the header map');
    const value: Record<string, unknown> = {};
    for (const e of entries) {
      if (e.key === '__proto__') throw new CodecError('unexpected header key __proto__');
      value[e.key] = e.value;
    }
    ({ header, scenario } = parseHeader(value, file, hit?.scenario));
    const at = entries.find((e) => e.key === 'scenario');
    if (hit === undefined && at !== undefined)
      remember(bytes, at.start, at.end, hf.payloadEnd, header.scenario, scenario);
  } catch (error) {
    if (error instanceof CodecError || error instanceof HeaderError)
      return fail(headerWhere, error.message);
    throw error;
  }
  return { file, header, scenario, recordsStart: hf.end };
}

/**
 * Reads a replay from its bytes, checking every frame's checksum. A truncated replay (a run killed
 * mid-way) reads as its complete prefix with `complete: false` and the reason in `problem`; any
 * other defect (bad magic or version, a corrupt frame, an invalid header) throws one ReplayError
 * naming the file and place.
 */
export function readReplay(bytes: Uint8Array, options: ReadOptions = {}): ReplayRead {
  const { file, header, scenario, recordsStart } = readReplayHeader(bytes, options);
  const scanner = new RecordScanner(file, header, scenario, new MemorySource(bytes), recordsStart);
  const events: EpisodeEvent[] = [];
  const offsets: number[] = [];
  for (let e = scanner.next(); e !== null; e = scanner.next()) {
    events.push(e);
    offsets.push(scanner.at);
  }
  const end = scanner.end;
  offsets.push(end.recordsEnd);
  return {
    file,
    header,
    scenario,
    events,
    complete: end.complete,
    problem: end.problem,
    recordsSha256: end.recordsSha256,
    sizes: {
      total: bytes.length,
      header: recordsStart,
      records: end.recordsEnd - recordsStart,
      trailer: end.trailerBytes,
    },
    offsets,
  };
}

/** Reads a replay file (checking its size before reading it). */
export function readReplayFile(path: string, options: Omit<ReadOptions, 'file'> = {}): ReplayRead {
  return readReplay(readReplayBytes(path, options.maxBytes), { ...options, file: path });
}

/** A replay file's bytes (a regular file of at most `maxBytes`), or a ReplayError naming the file. */
export function readReplayBytes(path: string, maxBytes = DEFAULT_MAX_BYTES): Uint8Array {
  try {
    return readInputFile(path, maxBytes);
  } catch (error) {
    if (error instanceof InputFileError)
      throw new ReplayError(`${path}: cannot read: ${error.message}`);
    throw error;
  }
}

/** A replay file open for reading its records one at a time (`scanner`); close it when done. */
export interface ReplayStream extends HeaderRead {
  readonly scanner: RecordScanner;
  close(): void;
}

/**
 * Opens the replay file at `path` and reads its header (the same errors as `readReplayFile`); its
 * records are then read through a window of a few MiB, whatever the file's size.
 */
export function openReplayStream(path: string, maxBytes = DEFAULT_MAX_BYTES): ReplayStream {
  const source = new FileSource(path, maxBytes);
  try {
    const head = readReplayHeader(headerBytes(source), { file: path, maxBytes });
    const scanner = new RecordScanner(path, head.header, head.scenario, source, head.recordsStart);
    return { ...head, scanner, close: () => source.close() };
  } catch (error) {
    source.close();
    throw error;
  }
}
