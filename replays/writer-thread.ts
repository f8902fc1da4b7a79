/**
 * The thread of a ReplayWriter (writer.ts): applies each batch's operations in order, counts the
 * batch as written (and wakes a run waiting for room), and answers the last batch on its parent
 * port, then ends. A file it cannot open or write is reported once on the failures port and its remaining
 * operations skipped; the other files go on.
 */
import { closeSync, openSync, writeSync, writevSync } from 'node:fs';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { OP_BLOB, OP_BYTES, OP_CLOSE, OP_KEEP, OP_OPEN, type WriterBatch, type WriterFailure } from './writer.js';

const port = parentPort;
if (port === null) throw new Error('writer-thread.js runs as the worker thread of a ReplayWriter');
const { written: shared, failures } = workerData as { readonly written: SharedArrayBuffer; readonly failures: MessagePort };
const written = new Int32Array(shared);

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
  const failure: WriterFailure = { path: file.path, message: error instanceof Error ? error.message : String(error) };
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

function apply(batch: WriterBatch): void {
  const bytes = new Uint8Array(batch.bytes);
  const ops = batch.ops;
  for (let i = 0; i < ops.length; i += 4) {
    const kind = ops[i]!;
    const id = ops[i + 1]!;
    const a = ops[i + 2]!;
    const b = ops[i + 3]!;
    if (kind === OP_KEEP) {
      blobs.set(id, bytes.slice(a, b));
      continue;
    }
    if (kind === OP_OPEN) {
      const file: OpenFile = { path: batch.paths[a]!, fd: null };
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
}

port.on('message', (batch: WriterBatch) => {
  apply(batch);
  Atomics.add(written, 0, 1);
  Atomics.notify(written, 0);
  if (batch.last) {
    // A sink never closed (its recorder threw mid-episode) keeps what it was given, as a file.
    for (const file of files.values()) if (file.fd !== null) closeSync(file.fd);
    files.clear();
    port.postMessage('written');
    // Nothing comes after the last batch: with its port closed the thread ends on its own (the
    // failures port only sends, so it holds nothing open).
    port.close();
  }
});
