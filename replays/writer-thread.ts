/**
 * The thread of a ReplayWriter (writer.ts): applies each batch's operations in order, counts the
 * batch as written (and wakes a run waiting for room), and answers the last batch on its parent
 * port, then ends. A file it cannot open or write is reported once on the failures port and its remaining
 * operations skipped; the other files go on.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
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

function writeAll(fd: number, bytes: Uint8Array, start: number, end: number): void {
  let at = start;
  while (at < end) at += writeSync(fd, bytes, at, end - at);
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
    if (kind === OP_CLOSE) files.delete(id);
    if (file.fd === null) continue;
    try {
      if (kind === OP_BYTES) writeAll(file.fd, bytes, a, b);
      else if (kind === OP_BLOB) {
        const blob = blobs.get(a)!;
        writeAll(file.fd, blob, 0, blob.length);
      } else {
        if (kind !== OP_CLOSE) throw new Error(`writer thread: unknown operation ${kind}`);
        const fd = file.fd;
        file.fd = null;
        closeSync(fd);
      }
    } catch (error) {
      fail(file, error);
    }
  }
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
