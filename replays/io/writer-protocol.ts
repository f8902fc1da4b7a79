/**
 * What a ReplayWriter (writer.ts) and its thread (writer-thread.ts) share: one SharedArrayBuffer
 * holding a counter of batches written, then MAX_BATCHES_IN_FLIGHT slots. Batch n is built in
 * slot n % MAX_BATCHES_IN_FLIGHT, only once batch n - MAX_BATCHES_IN_FLIGHT is written (the
 * counter says so), so handing a batch over allocates and copies nothing: the thread is sent n.
 *
 * A slot: its operation count and `last` flag (1 for the batch `close()` hands over), up to
 * BATCH_OPS operations of four int32 each (`kind id a b`, below), then BATCH_BYTES of data that
 * the operations point into.
 */

/** Bytes a batch holds, at most (a suite episode's own bytes are ~1 KB, its scenario ~10 KB once). */
export const BATCH_BYTES = 64 * 1024;
/** Operations a batch holds, at most. */
export const BATCH_OPS = 4 * 1024;
/** Batches handed to the thread and not yet written, at most: the slots. */
export const MAX_BATCHES_IN_FLIGHT = 32;

/** Int32 offsets in a slot: the operation count, the `last` flag, the first operation. */
export const SLOT_COUNT = 0;
export const SLOT_LAST = 1;
export const SLOT_OPS = 2;
/** Byte offset of a slot's data, and the size of a slot. */
export const SLOT_DATA = (SLOT_OPS + 4 * BATCH_OPS) * Int32Array.BYTES_PER_ELEMENT;
export const SLOT_BYTES = SLOT_DATA + BATCH_BYTES;
/** Byte offset of the first slot: the written counter (an int32) comes first, padded to 8. */
export const SLOTS_START = 8;
/** Bytes of the shared buffer. */
export const SHARED_BYTES = SLOTS_START + MAX_BATCHES_IN_FLIGHT * SLOT_BYTES;

export interface Slot {
  readonly ints: Int32Array;
  readonly data: Uint8Array;
}

/** Views of the shared buffer: the written counter (`written[0]`: batches the thread has written) and the slots. */
export function sharedViews(shared: SharedArrayBuffer): {
  readonly written: Int32Array;
  readonly slots: readonly Slot[];
} {
  const slots = Array.from({ length: MAX_BATCHES_IN_FLIGHT }, (_, k) => {
    const start = SLOTS_START + k * SLOT_BYTES;
    return {
      ints: new Int32Array(shared, start, SLOT_DATA / Int32Array.BYTES_PER_ELEMENT),
      data: new Uint8Array(shared, start + SLOT_DATA, BATCH_BYTES),
    };
  });
  return { written: new Int32Array(shared, 0, 1), slots };
}

/** `OPEN file start end`: create or truncate the file whose UTF-8 path is `data[start, end)`. */
export const OP_OPEN = 0;
/** `BYTES file start end`: append `data[start, end)` to the file. */
export const OP_BYTES = 1;
/** `KEEP blob start end`: keep a copy of `data[start, end)` as blob `blob` for the writer's lifetime. */
export const OP_KEEP = 2;
/** `BLOB file blob _`: append a kept blob to the file. */
export const OP_BLOB = 3;
/** `CLOSE file _ _`: close the file. */
export const OP_CLOSE = 4;

/** What the thread says of a file it could not write (on the failures port). */
export interface WriterFailure {
  readonly path: string;
  readonly message: string;
}
