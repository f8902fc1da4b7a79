/**
 * The thread of a ReplayWriter (writer.ts): for each batch number it is sent, applies that slot's
 * operations in order (writer-protocol.ts), counts the batch as written (which frees the slot and
 * wakes a run waiting for one), and after the last batch answers on its parent port and ends. A
 * file it cannot open or write is reported once on the failures port and its remaining operations
 * skipped; the other files go on.
 */
import { closeSync, openSync, writeSync, writevSync } from 'node:fs';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import {
  MAX_BATCHES_IN_FLIGHT,
  OP_BLOB,
  OP_BYTES,
  OP_CLOSE,
  OP_KEEP,
  OP_OPEN,
  SLOT_COUNT,
  SLOT_LAST,
  SLOT_OPS,
  sharedViews,
  type WriterFailure,
} from './writer-protocol.js';

const port = parentPort;
if (port === null) throw new Error('writer-thread.js runs as the worker thread of a ReplayWriter');
const { shared, failures } = workerData as {
  readonly shared: SharedArrayBuffer;
  readonly failures: MessagePort;
};
const { written, slots } = sharedViews(shared);
// ignoreBOM: a path that starts with U+FEFF keeps it.
const paths = new TextDecoder('utf-8', { ignoreBOM: true });

interface OpenFile {
  readonly path: string;
  /** null once the file has failed: its remaining operations are skipped. */
  fd: number | null;
}

const files = new Map<number, OpenFile>();
const blobs = new Map<number, Uint8Array>();

/**
 * Writes `parts` in order: one writev for what a file gets in a batch (its header, its scenario,
 * its records and trailer), so a short replay costs the thread one system call to write, not three.
 */
function writeParts(fd: number, parts: readonly Uint8Array[]): void {
  let done = writevSync(fd, parts as Uint8Array[]);
  for (const part of parts) {
    // A short writev (rare for files) leaves the rest to plain writes.
    if (done >= part.length) {
      done -= part.length;
      continue;
    }
    let at = done;
    done = 0;
    while (at < part.length) at += writeSync(fd, part, at, part.length - at);
  }
}

function fail(file: OpenFile, error: unknown): void {
  if (file.fd !== null) {
    try {
      closeSync(file.fd);
    } catch {
      // The failure being reported is the one that matters.
    }
    file.fd = null;
  }
  const failure: WriterFailure = {
    path: file.path,
    message: error instanceof Error ? error.message : String(error),
  };
  failures.postMessage(failure);
}

/** Parts for `gathering`'s file not yet written. */
const parts: Uint8Array[] = [];
let gathering: OpenFile | null = null;

function flush(): void {
  const file = gathering;
  gathering = null;
  if (file === null || file.fd === null) return;
  try {
    writeParts(file.fd, parts);
  } catch (error) {
    fail(file, error);
  } finally {
    parts.length = 0;
  }
}

/** Applies batch `n`'s operations; returns whether it is the last. */
function apply(n: number): boolean {
  const { ints, data: bytes } = slots[n % MAX_BATCHES_IN_FLIGHT]!;
  const end = SLOT_OPS + 4 * ints[SLOT_COUNT]!;
  for (let i = SLOT_OPS; i < end; i += 4) {
    const kind = ints[i]!;
    const id = ints[i + 1]!;
    const a = ints[i + 2]!;
    const b = ints[i + 3]!;
    if (kind === OP_KEEP) {
      blobs.set(id, bytes.slice(a, b));
      continue;
    }
    if (kind === OP_OPEN) {
      const file: OpenFile = { path: paths.decode(bytes.subarray(a, b)), fd: null };
      files.set(id, file);
      try {
        file.fd = openSync(file.path, 'w');
      } catch (error) {
        fail(file, error);
      }
      continue;
    }
    const file = files.get(id)!;
    if (file !== gathering) flush();
    if (kind === OP_BYTES || kind === OP_BLOB) {
      if (file.fd === null) continue;
      gathering = file;
      parts.push(kind === OP_BYTES ? bytes.subarray(a, b) : blobs.get(a)!);
      continue;
    }
    if (kind !== OP_CLOSE) throw new Error(`writer thread: unknown operation ${kind}`);
    flush();
    files.delete(id);
    if (file.fd === null) continue;
    const fd = file.fd;
    file.fd = null;
    try {
      closeSync(fd);
    } catch (error) {
      fail(file, error);
    }
  }
  flush();
  return ints[SLOT_LAST] === 1;
}

port.on('message', (n: number) => {
  const last = apply(n);
  // The slot is free again once counted (the parts written from it are written by now).
  Atomics.add(written, 0, 1);
  Atomics.notify(written, 0);
  if (last) {
    // A sink never closed (its recorder threw mid-episode) keeps what it was given, as a file.
    for (const file of files.values()) if (file.fd !== null) closeSync(file.fd);
    files.clear();
    port.postMessage('written');
    // Nothing comes after the last batch: with its port closed the thread ends on its own (the
    // failures port only sends, so it holds nothing open).
    port.close();
  }
});
