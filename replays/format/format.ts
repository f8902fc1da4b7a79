/**
 * The replay file format: constants, the error type, and framing (see replays/FORMAT.md).
 *
 *   file    := MAGIC (8 bytes "TTREPLAY") | version (u16 little-endian) | header frame | record frame* | trailer frame
 *   frame   := length (unsigned LEB128, minimal, at most 5 bytes) | payload (length bytes) | crc32 (u32 LE)
 *
 * The CRC-32 (IEEE, as zlib) covers the length bytes and the payload. Every payload is one
 * MessagePack value in tooltime's canonical subset (codec.ts): the header a map, a record or the
 * trailer an array whose first element is its record code (`0` for the trailer). Frames are written
 * one at a time, so a process killed mid-run leaves a file whose complete frames all read back.
 */
import * as zlib from 'node:zlib';

/** The first 8 bytes of every replay. */
export const MAGIC = new Uint8Array([0x54, 0x54, 0x52, 0x45, 0x50, 0x4c, 0x41, 0x59]); // "TTREPLAY"
export const FORMAT_VERSION = 1;
/** Magic plus version. */
export const PREFIX_BYTES = MAGIC.length + 2;
/** Largest header payload a reader accepts (a scenario can be big). */
export const MAX_HEADER_BYTES = 64 * 1024 * 1024;
/** Largest record payload a reader accepts (a model's request and response in a note can be big). */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;
/** Deepest nesting of arrays and maps in a payload. */
export const MAX_DEPTH = 256;
/** Bytes of the CRC after each payload. */
export const CRC_BYTES = 4;

/** Record codes: the first element of each record array. FORMAT.md gives every record's fields. */
export const Code = {
  TRAILER: 0,
  STARTED: 1,
  STARTED_FULL: 2,
  TASK: 3,
  MESSAGE: 4,
  MESSAGE_FULL: 5,
  DECISION_STARTED: 6,
  DECISION_STARTED_FULL: 7,
  DELIVERED: 8,
  DECISION_ENDED: 9,
  DECISION_ENDED_NOTE: 10,
  DECISION_ENDED_FULL: 11,
  REJECTED: 12,
  ISSUED: 13,
  ISSUED_REF: 14,
  ISSUED_FULL: 15,
  CALL_STARTED: 16,
  CALL_STARTED_AT: 17,
  DONE_OK: 18,
  DONE_ERROR: 19,
  DONE_FULL: 20,
  ANSWER: 21,
  LIMIT: 22,
  ENDED: 23,
  STATE: 24,
} as const;
export type Code = (typeof Code)[keyof typeof Code];

/** `DONE_ERROR` kinds: which error text the call got. */
export const ErrorKind = { TOOL: 0, FAILURE: 1, TIMEOUT: 2, INVALID: 3 } as const;

/** Action codes inside a decision's action list (see FORMAT.md). */
export const ActionCode = {
  CALL_STEP: 0,
  CALL: 1,
  ANSWER: 2,
  WAIT_MAX: 3,
  POLL: -1,
  WAIT: -2,
} as const;

export const LIMIT_NAMES = [
  'maxTimeMs',
  'maxDecisions',
  'maxCalls',
  'maxTurns',
  'maxIdleTurns',
  'contextOverflow',
] as const;
export const END_REASONS = ['completed', 'limit', 'stalled', 'errored'] as const;
export const MODES = ['async', 'sync'] as const;
export const DELIVERIES = ['push', 'poll'] as const;

/**
 * A replay that cannot be read, or does not verify: bad magic, unsupported version, a corrupt or
 * malformed frame, an invalid header. One line naming the file and the place:
 * `run.ttr: record 17 at byte 532: checksum mismatch`.
 */
export class ReplayError extends Error {
  override name = 'ReplayError';
}

// ---- CRC-32 (IEEE 802.3, reflected, as zlib.crc32).

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** zlib's native CRC-32 (Node >= 20.15), for long inputs; short ones are faster in JavaScript. */
const nativeCrc32: ((data: Uint8Array, value?: number) => number) | undefined =
  typeof zlib.crc32 === 'function' ? zlib.crc32 : undefined;

/** The CRC-32 of `bytes[start, end)`; `crc`, the CRC of the bytes before them, continues it. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length, crc = 0): number {
  if (nativeCrc32 !== undefined && end - start >= 256)
    return nativeCrc32(bytes.subarray(start, end), crc) >>> 0;
  let c = (crc ^ 0xffffffff) >>> 0;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// ---- Frames.

/** Bytes of the LEB128 encoding of `n` (n < 2^32). */
export function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

/**
 * Writes a frame around `payload[0, length)` into a fresh array: length, payload, CRC.
 * The caller's buffer is not kept.
 */
export function frame(payload: Uint8Array, length: number): Uint8Array {
  const lenBytes = varintSize(length);
  const out = new Uint8Array(lenBytes + length + CRC_BYTES);
  let n = length;
  let p = 0;
  while (n >= 0x80) {
    out[p++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  out[p++] = n;
  out.set(payload.subarray(0, length), p);
  p += length;
  const crc = crc32(out, 0, p);
  out[p] = crc & 0xff;
  out[p + 1] = (crc >>> 8) & 0xff;
  out[p + 2] = (crc >>> 16) & 0xff;
  out[p + 3] = crc >>> 24;
  return out;
}

/** Bytes a frame needs before its payload at most (the longest length). */
export const FRAME_RESERVE = 5;

/**
 * Frames a payload written in place: `buf[payloadStart, payloadEnd)` holds the payload, with
 * FRAME_RESERVE free bytes before it and room for 4 more after it. Writes the length just before
 * the payload and the CRC after it; returns the frame (a view of `buf`).
 */
export function frameInPlace(
  buf: Uint8Array,
  payloadEnd: number,
  payloadStart = FRAME_RESERVE,
): Uint8Array {
  const start = writeFrameLength(buf, payloadStart, payloadEnd - payloadStart);
  writeCrc(buf, payloadEnd, crc32(buf, start, payloadEnd));
  return buf.subarray(start, payloadEnd + CRC_BYTES);
}

/** Writes a frame's `length` just before `payloadStart` (FRAME_RESERVE bytes are free there); returns where the frame starts. */
export function writeFrameLength(buf: Uint8Array, payloadStart: number, length: number): number {
  const start = payloadStart - varintSize(length);
  let n = length;
  let p = start;
  while (n >= 0x80) {
    buf[p++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[p] = n;
  return start;
}

/** Writes a frame's CRC (u32 little-endian) at `at`. */
export function writeCrc(buf: Uint8Array, at: number, crc: number): void {
  buf[at] = crc & 0xff;
  buf[at + 1] = (crc >>> 8) & 0xff;
  buf[at + 2] = (crc >>> 16) & 0xff;
  buf[at + 3] = crc >>> 24;
}

const PREFIX = prefix();

/** Writes the fixed prefix (magic and format version) at `at`. */
export function writePrefix(buf: Uint8Array, at: number): void {
  buf.set(PREFIX, at);
}

/** The fixed prefix: magic and format version. */
export function prefix(): Uint8Array {
  const out = new Uint8Array(PREFIX_BYTES);
  out.set(MAGIC, 0);
  out[MAGIC.length] = FORMAT_VERSION & 0xff;
  out[MAGIC.length + 1] = FORMAT_VERSION >>> 8;
  return out;
}

/** One frame as found in a file. */
export type FrameRead =
  | {
      readonly kind: 'frame';
      readonly start: number;
      readonly payloadStart: number;
      readonly payloadEnd: number;
      readonly end: number;
    }
  /** The file ends inside this frame: its length, payload or CRC is cut. */
  | { readonly kind: 'cut'; readonly start: number; readonly need: number }
  | { readonly kind: 'bad'; readonly start: number; readonly message: string };

/**
 * Reads the frame at `start`. A length over `maxPayload` is `bad` (corrupt), even when the file is
 * also cut there: an honest writer never writes one. A CRC mismatch is `bad`, unless `checkCrc`
 * is false (for a caller that compares the whole frame, CRC included, with bytes it wrote itself).
 */
export function readFrame(
  bytes: Uint8Array,
  start: number,
  maxPayload: number,
  checkCrc = true,
): FrameRead {
  const end = bytes.length;
  let length = 0;
  let p = start;
  for (let i = 0; ; i++) {
    if (p >= end) return { kind: 'cut', start, need: 1 };
    const b = bytes[p++]!;
    if (i === 4 && b > 0x0f)
      return { kind: 'bad', start, message: 'frame length does not fit in 32 bits' };
    length += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) {
      if (b === 0 && i > 0)
        return { kind: 'bad', start, message: 'frame length is not minimally encoded' };
      break;
    }
    if (i === 4) return { kind: 'bad', start, message: 'frame length is longer than 5 bytes' };
  }
  if (length === 0) return { kind: 'bad', start, message: 'empty frame' };
  if (length > maxPayload)
    return {
      kind: 'bad',
      start,
      message: `frame length ${length} is over the limit of ${maxPayload} bytes`,
    };
  const payloadStart = p;
  const payloadEnd = p + length;
  if (payloadEnd + CRC_BYTES > end)
    return { kind: 'cut', start, need: payloadEnd + CRC_BYTES - start };
  const stored =
    (bytes[payloadEnd]! |
      (bytes[payloadEnd + 1]! << 8) |
      (bytes[payloadEnd + 2]! << 16) |
      (bytes[payloadEnd + 3]! << 24)) >>>
    0;
  if (checkCrc && crc32(bytes, start, payloadEnd) !== stored)
    return { kind: 'bad', start, message: 'checksum mismatch (the frame is corrupt)' };
  return { kind: 'frame', start, payloadStart, payloadEnd, end: payloadEnd + CRC_BYTES };
}

/** `bytes` holds `chunk` at offset `at`. */
export function holdsAt(bytes: Uint8Array, at: number, chunk: Uint8Array): boolean {
  if (at + chunk.length > bytes.length) return false;
  // Frames are mostly a dozen bytes: a loop beats making two Buffers.
  if (chunk.length < 64) {
    for (let i = 0; i < chunk.length; i++) if (bytes[at + i] !== chunk[i]) return false;
    return true;
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset + at, chunk.length).equals(
    Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length),
  );
}

/** `a` and `b` hold the same bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && holdsAt(a, 0, b);
}
