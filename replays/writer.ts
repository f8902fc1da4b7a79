/**
 * Many replay files written on a thread of their own: `tooltime run --out DIR` writes one replay
 * per episode. A baseline's episode takes 35-50 µs and creating a file 7-9 µs in tmpfs and
 * 80-600 µs on this machine's disk, so creating the files on the run's thread cost the run more
 * than recording them. A `ReplayWriter`'s sinks gather their bytes into batches; a worker thread
 * opens, writes and closes the files while the run goes on.
 *
 *   const writer = new ReplayWriter();
 *   const recorder = ReplayRecorder.open(writer.sink('run/a.ttr'), { scenario, agent, seed });
 *   ... run, recorder.finish() ...
 *   await writer.close(); // every file written, the thread stopped
 *
 * Order: each file gets its bytes in the order its sink was given them, so a file's bytes are
 * those a FileSink writes. A batch goes to the thread once it holds BATCH_BYTES, at the next turn
 * of the event loop after a checkpoint (a decision's end: an episode that waits on a model is
 * written as it goes, as with a FileSink), and on `close()`.
 *
 * Bounds: at most MAX_BATCHES_IN_FLIGHT batches are handed over and not yet written; past that the
 * run's thread waits for the writer's (a disk slower than the run slows the run rather than
 * filling memory). So a process killed mid-run loses at most the batch being gathered and those
 * in flight; every file already written keeps its complete frames (a file without its trailer
 * reads as truncated).
 *
 * Errors: a file the thread cannot write (a missing folder, a full disk) is a ReplayWriteError
 * naming the file, thrown by the next batch handed over or by `close()`; the thread goes on with
 * the other files, so what else was recorded is kept.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { ReplaySink } from './recorder.js';

/** A file the writer thread could not write. */
export class ReplayWriteError extends Error {
  override name = 'ReplayWriteError';
}

/** Bytes a batch gathers before it goes to the thread (a suite episode's own bytes are ~1 KB). */
export const BATCH_BYTES = 64 * 1024;
/** Batches handed to the thread and not yet written, at most (4 MiB of full ones). */
export const MAX_BATCHES_IN_FLIGHT = 64;
/** A thread that writes nothing for this long has stopped: the run gives up rather than hang. */
const STALL_LIMIT_MS = 60_000;

export interface ReplayWriterOptions {
  /** How long the run waits for room on a thread that writes nothing (a stuck disk) before it throws; default 60 s. */
  readonly stallLimitMs?: number;
}

/**
 * A batch: bytes and operations on them, four numbers each, in order. `file` and `blob` are ids
 * the writer gives; `start..end` is a range of `bytes`.
 */
export interface WriterBatch {
  readonly bytes: ArrayBuffer;
  readonly ops: number[];
  /** Paths of the batch's OPEN operations, in order. */
  readonly paths: string[];
  /** The last batch: the thread answers on its parent port once it is written. */
  readonly last: boolean;
}

/** `OPEN file pathIndex _`: create or truncate the file at `paths[pathIndex]`. */
export const OP_OPEN = 0;
/** `BYTES file start end`: append `bytes[start, end)` to the file. */
export const OP_BYTES = 1;
/** `KEEP blob start end`: keep `bytes[start, end)` as blob `blob` for the writer's lifetime. */
export const OP_KEEP = 2;
/** `BLOB file blob _`: append a kept blob to the file. */
export const OP_BLOB = 3;
/** `CLOSE file _ _`: close the file. */
export const OP_CLOSE = 4;

/** What the thread says of a file it could not write (on the errors port). */
export interface WriterFailure {
  readonly path: string;
  readonly message: string;
}

/** The compiled thread next to this module; from the TypeScript sources (under a test runner) the compiled one in dist/. */
const THREAD_URL = new URL(import.meta.url.endsWith('.ts') ? '../dist/replays/writer-thread.js' : './writer-thread.js', import.meta.url);

export class ReplayWriter {
  private readonly worker: Worker;
  /** Failures from the thread, read without waiting (receiveMessageOnPort). */
  private readonly failures: MessagePort;
  /** `[0]`: batches the thread has written. */
  private readonly written: Int32Array;
  private posted = 0;
  private bytes = new Uint8Array(BATCH_BYTES);
  private used = 0;
  private ops: number[] = [];
  private paths: string[] = [];
  /** The file of the last BYTES op, whose range ends at `used`: the next bytes for it extend it. */
  private extendable = 0;
  private nextFile = 1;
  private readonly blobs = new WeakMap<Uint8Array, number>();
  private nextBlob = 1;
  private postQueued = false;
  private closed: Promise<void> | null = null;
  private readonly unreported: ReplayWriteError[] = [];
  /** Settles when the thread has written the last batch (resolved) or has stopped or failed (rejected). */
  private readonly ended: Promise<void>;
  /** Why the thread stopped early, once this thread's event loop has heard of it. */
  private broken: ReplayWriteError | null = null;

  private readonly stallLimitMs: number;

  constructor(options: ReplayWriterOptions = {}) {
    this.stallLimitMs = options.stallLimitMs ?? STALL_LIMIT_MS;
    if (!(this.stallLimitMs > 0)) throw new RangeError(`stallLimitMs must be positive, got ${this.stallLimitMs}`);
    const shared = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
    this.written = new Int32Array(shared);
    const { port1, port2 } = new MessageChannel();
    this.failures = port1;
    this.worker = new Worker(THREAD_URL, { workerData: { written: shared, failures: port2 }, transferList: [port2] });
    this.ended = new Promise<void>((resolve, reject) => {
      const stop = (why: string) => {
        this.broken ??= new ReplayWriteError(`the replay writer thread ${why} before writing every file`);
        reject(this.broken);
      };
      this.worker.on('message', () => resolve());
      this.worker.on('error', (error) => stop(`failed (${error.message})`));
      this.worker.on('exit', (code) => stop(`stopped (exit code ${code})`));
    });
    // Awaited by close(); a thread that fails before then must not be an unhandled rejection.
    this.ended.catch(() => undefined);
  }

  /** Batches handed to the thread and not yet written (at most MAX_BATCHES_IN_FLIGHT). */
  get batchesInFlight(): number {
    return this.posted - Atomics.load(this.written, 0);
  }

  /** Batches handed to the thread so far. */
  get batchesPosted(): number {
    return this.posted;
  }

  /** A sink whose bytes go to the file at `path` (created or truncated). */
  sink(path: string, options: WriterSinkOptions = {}): ReplaySink {
    if (this.closed !== null) throw new Error('the replay writer is closed');
    const file = this.nextFile++;
    this.op(OP_OPEN, file, this.paths.length, 0);
    this.paths.push(path);
    return options.live === false ? new WriterSink(this, file, path) : new LiveWriterSink(this, file, path);
  }

  /** @internal: appends `chunk` to `file`. */
  append(file: number, chunk: Uint8Array): void {
    this.room(chunk.length);
    this.bytes.set(chunk, this.used);
    const start = this.used;
    this.used += chunk.length;
    const ops = this.ops;
    if (this.extendable === file && ops.length > 0) ops[ops.length - 1] = this.used;
    else this.op(OP_BYTES, file, start, this.used);
    this.extendable = file;
  }

  /** @internal: appends bytes that never change, sent to the thread once per writer. */
  appendShared(file: number, bytes: Uint8Array): void {
    let blob = this.blobs.get(bytes);
    if (blob === undefined) {
      blob = this.nextBlob++;
      this.blobs.set(bytes, blob);
      this.room(bytes.length);
      this.bytes.set(bytes, this.used);
      this.op(OP_KEEP, blob, this.used, this.used + bytes.length);
      this.used += bytes.length;
    }
    this.op(OP_BLOB, file, blob, 0);
  }

  /** @internal: the file is complete. */
  closeFile(file: number): void {
    this.op(OP_CLOSE, file, 0, 0);
    if (this.used >= BATCH_BYTES) this.post(false);
  }

  /** @internal: hands the batch over at the next turn of the event loop. */
  checkpoint(): void {
    if (this.postQueued) return;
    this.postQueued = true;
    setImmediate(() => {
      this.postQueued = false;
      if (this.closed === null) this.post(false);
    });
  }

  /**
   * Hands the rest over, waits until the thread has written everything, and stops it. Throws the
   * first failure not yet thrown (saying how many more there were). Idempotent.
   */
  close(): Promise<void> {
    this.closed ??= this.finish();
    return this.closed;
  }

  private async finish(): Promise<void> {
    try {
      this.post(true);
    } catch (error) {
      await this.worker.terminate();
      throw error;
    }
    // The thread ends by itself once it has answered: waiting for that would add its teardown to the run.
    await this.ended;
    this.readFailures();
    const first = this.unreported.shift();
    if (first === undefined) return;
    const more = this.unreported.length;
    this.unreported.length = 0;
    throw more === 0 ? first : new ReplayWriteError(`${first.message} (and ${more} more replay file(s) not written)`);
  }

  private op(kind: number, id: number, a: number, b: number): void {
    this.ops.push(kind, id, a, b);
    this.extendable = 0;
  }

  /** Makes room for `length` more bytes in the batch: hands a full one over, grows for a big chunk. */
  private room(length: number): void {
    if (this.used + length <= this.bytes.length) return;
    if (this.used > 0 || this.ops.length > 0) this.post(false);
    if (length > this.bytes.length) this.bytes = new Uint8Array(length);
  }

  private post(last: boolean): void {
    if (this.broken !== null) throw this.broken;
    if (!last && this.ops.length === 0) return;
    this.waitForRoom();
    // The batch's bytes are moved to the thread, not copied: a copy of what is used, unless full.
    const bytes = this.used === this.bytes.length ? this.bytes.buffer : this.bytes.slice(0, this.used).buffer;
    const batch: WriterBatch = { bytes, ops: this.ops, paths: this.paths, last };
    this.worker.postMessage(batch, [bytes]);
    this.posted++;
    if (bytes === this.bytes.buffer) this.bytes = new Uint8Array(BATCH_BYTES);
    this.used = 0;
    this.ops = [];
    this.paths = [];
    this.extendable = 0;
    if (last) return; // close() reports failures once everything is written
    this.readFailures();
    const failure = this.unreported.shift();
    if (failure !== undefined) throw failure;
  }

  /** Blocks while MAX_BATCHES_IN_FLIGHT batches are not yet written. */
  private waitForRoom(): void {
    for (;;) {
      const written = Atomics.load(this.written, 0);
      if (this.posted - written < MAX_BATCHES_IN_FLIGHT) return;
      if (Atomics.wait(this.written, 0, written, this.stallLimitMs) === 'timed-out') {
        throw new ReplayWriteError(`the replay writer thread wrote nothing for ${this.stallLimitMs / 1000} s with ${this.posted - written} batches waiting`);
      }
    }
  }

  private readFailures(): void {
    for (;;) {
      const received = receiveMessageOnPort(this.failures);
      if (received === undefined) return;
      const failure = received.message as WriterFailure;
      this.unreported.push(new ReplayWriteError(`cannot write replay ${failure.path}: ${failure.message}`));
    }
  }
}

export interface WriterSinkOptions {
  /**
   * Whether the episode takes wall time (a model's, a module agent's: true, the default): its
   * records are then handed to the thread at the next turn of the event loop after each decision,
   * so a process killed mid-episode leaves them on disk. A built-in policy's episode takes
   * microseconds: with `live: false` its records go over when the episode ends (or 64 KiB of them
   * gather), which spares the recorder a hand-over per decision.
   */
  readonly live?: boolean;
}

/** One file's sink on a ReplayWriter: records handed over at the end (see `live`). */
class WriterSink implements ReplaySink {
  private open = true;

  constructor(
    protected readonly writer: ReplayWriter,
    private readonly file: number,
    readonly path: string,
  ) {}

  write(chunk: Uint8Array): void {
    this.assertOpen();
    this.writer.append(this.file, chunk);
  }

  writeShared(bytes: Uint8Array): void {
    this.assertOpen();
    this.writer.appendShared(this.file, bytes);
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    this.writer.closeFile(this.file);
  }

  private assertOpen(): void {
    if (!this.open) throw new Error(`replay ${this.path} is closed`);
  }
}

/** A live episode's sink: the recorder hands its records over at every decision (a checkpoint). */
class LiveWriterSink extends WriterSink {
  checkpoint(): void {
    this.writer.checkpoint();
  }
}
