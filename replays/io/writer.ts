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
 * Bounds: batches are built in the slots of a shared buffer (writer-protocol.ts): at most
 * MAX_BATCHES_IN_FLIGHT (32) of 64 KiB are handed over and not yet written; past that the run's
 * thread waits for the writer's (a disk slower than the run slows the run rather than filling
 * memory). So a process killed mid-run loses at most the batch being gathered and those
 * in flight; every file already written keeps its complete frames (a file without its trailer
 * reads as truncated).
 *
 * Errors: a file the thread cannot write (a missing folder, a full disk) is a ReplayWriteError
 * naming the file, thrown by the next batch handed over or by `close()`; the thread goes on with
 * the other files, so what else was recorded is kept.
 */
import {
  MessageChannel,
  receiveMessageOnPort,
  Worker,
  type MessagePort,
} from 'node:worker_threads';
import type { ReplaySink } from './recorder.js';
import { assertInvariant } from '../../engine/assert.js';
import { workerUrl } from '../../scenarios/package.js';
import {
  BATCH_BYTES,
  BATCH_OPS,
  MAX_BATCHES_IN_FLIGHT,
  OP_BLOB,
  OP_BYTES,
  OP_CLOSE,
  OP_KEEP,
  OP_OPEN,
  SHARED_BYTES,
  SLOT_COUNT,
  SLOT_LAST,
  SLOT_OPS,
  sharedViews,
  type Slot,
  type WriterFailure,
} from './writer-protocol.js';

/** A file the writer thread could not write. */
export class ReplayWriteError extends Error {
  override name = 'ReplayWriteError';
}

/** A thread that writes nothing for this long has stopped: the run gives up rather than hang. */
const STALL_LIMIT_MS = 60_000;
/** Shared bytes (a scenario) kept by the thread up to this size; larger ones are written as bytes. */
const MAX_BLOB_BYTES = BATCH_BYTES / 2;

export interface ReplayWriterOptions {
  /** How long the run waits for room on a thread that writes nothing (a stuck disk) before it throws; default 60 s. */
  readonly stallLimitMs?: number;
}

/** The compiled thread next to this module (see workerUrl for runs from the TypeScript sources). */
const THREAD_URL = workerUrl(import.meta.url, './writer-thread.js');

export class ReplayWriter {
  private readonly worker: Worker;
  /** Failures from the thread, read without waiting (receiveMessageOnPort). */
  private readonly failures: MessagePort;
  /** `[0]`: batches the thread has written. */
  private readonly written: Int32Array;
  private readonly slots: readonly Slot[];
  /** Batches handed over; the one being built is batch `posted`, in slot `posted % MAX_BATCHES_IN_FLIGHT`. */
  private posted = 0;
  /** Whether the batch being built has its slot (batch `posted - MAX_BATCHES_IN_FLIGHT` is written). */
  private slotFree = true;
  private ints: Int32Array;
  private data: Uint8Array;
  /** Operations and data bytes in the batch being built. */
  private opCount = 0;
  private used = 0;
  /** The file of the last BYTES op, whose range ends at `used`: the next bytes for it extend it (0: none; reset by every other op and by a post). */
  private extendable = 0;
  private nextFile = 1;
  private readonly blobs = new WeakMap<Uint8Array, number>();
  private nextBlob = 1;
  private readonly paths = new TextEncoder();
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
    if (!(this.stallLimitMs > 0))
      throw new RangeError(`stallLimitMs must be positive, got ${this.stallLimitMs}`);
    const shared = new SharedArrayBuffer(SHARED_BYTES);
    ({ written: this.written, slots: this.slots } = sharedViews(shared));
    this.ints = this.slots[0]!.ints;
    this.data = this.slots[0]!.data;
    const { port1, port2 } = new MessageChannel();
    this.failures = port1;
    this.worker = new Worker(THREAD_URL, {
      workerData: { shared, failures: port2 },
      transferList: [port2],
    });
    this.ended = new Promise<void>((resolve, reject) => {
      const stop = (why: string) => {
        this.broken ??= new ReplayWriteError(
          `the replay writer thread ${why} before writing every file`,
        );
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
    // A path is at most a few KB: it fits in an empty batch.
    if (this.room(3 * path.length, 1) < 3 * path.length)
      throw new RangeError(`replay path too long (${path.length} characters)`);
    const { read, written } = this.paths.encodeInto(path, this.data.subarray(this.used));
    assertInvariant(read === path.length, 'replay writer', 'the path fits in the room made for it');
    this.op(OP_OPEN, file, this.used, this.used + written);
    this.used += written;
    return options.live === false
      ? new WriterSink(this, file, path)
      : new LiveWriterSink(this, file, path);
  }

  /** @internal: appends `chunk` to `file`, over several batches if it must. */
  append(file: number, chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length) {
      const room = this.room(chunk.length - at, this.extendable === file ? 0 : 1);
      const n = Math.min(room, chunk.length - at);
      this.data.set(n === chunk.length ? chunk : chunk.subarray(at, at + n), this.used);
      const start = this.used;
      this.used += n;
      at += n;
      // Still the batch where the last op ends (room() did not hand it over): extend that op.
      if (this.extendable === file) this.ints[SLOT_OPS + 4 * (this.opCount - 1) + 3] = this.used;
      else this.op(OP_BYTES, file, start, this.used);
      this.extendable = file;
    }
  }

  /** @internal: appends bytes that never change, sent to the thread once per writer (if not too big). */
  appendShared(file: number, bytes: Uint8Array): void {
    if (bytes.length > MAX_BLOB_BYTES) return this.append(file, bytes);
    let blob = this.blobs.get(bytes);
    if (blob === undefined) {
      blob = this.nextBlob++;
      this.blobs.set(bytes, blob);
      this.room(bytes.length, 2);
      this.data.set(bytes, this.used);
      this.op(OP_KEEP, blob, this.used, this.used + bytes.length);
      this.used += bytes.length;
    } else this.room(0, 1);
    this.op(OP_BLOB, file, blob, 0);
  }

  /** @internal: the file is complete. */
  closeFile(file: number): void {
    this.room(0, 1);
    this.op(OP_CLOSE, file, 0, 0);
  }

  /** @internal: hands the batch over at the next turn of the event loop. */
  checkpoint(): void {
    if (this.postQueued) return;
    this.postQueued = true;
    setImmediate(() => {
      this.postQueued = false;
      if (this.closed === null && this.opCount > 0) this.post(false);
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
    throw more === 0
      ? first
      : new ReplayWriteError(`${first.message} (and ${more} more replay file(s) not written)`);
  }

  private op(kind: number, id: number, a: number, b: number): void {
    assertInvariant(
      this.slotFree && this.opCount < BATCH_OPS,
      'replay writer',
      'an operation goes into a free slot with room',
    );
    const at = SLOT_OPS + 4 * this.opCount++;
    const ints = this.ints;
    ints[at] = kind;
    ints[at + 1] = id;
    ints[at + 2] = a;
    ints[at + 3] = b;
    this.extendable = 0;
  }

  /**
   * Makes room in the batch for `ops` more operations and up to `bytes` more data bytes, handing a
   * full batch over; returns the data bytes there is room for now (at least 1 if `bytes` > 0).
   */
  private room(bytes: number, ops: number): number {
    if (!this.slotFree) this.waitForSlot();
    if (
      this.opCount + ops > BATCH_OPS ||
      (bytes > 0 && this.used === BATCH_BYTES) ||
      (ops > 0 && bytes > BATCH_BYTES - this.used && bytes <= BATCH_BYTES)
    ) {
      this.post(false);
      this.waitForSlot();
    }
    return Math.min(bytes, BATCH_BYTES - this.used);
  }

  /** Hands the batch being built to the thread; the next one needs its slot (see waitForSlot). */
  private post(last: boolean): void {
    if (this.broken !== null) throw this.broken;
    if (!this.slotFree) this.waitForSlot();
    const ints = this.ints;
    ints[SLOT_COUNT] = this.opCount;
    ints[SLOT_LAST] = last ? 1 : 0;
    this.worker.postMessage(this.posted);
    this.posted++;
    const slot = this.slots[this.posted % MAX_BATCHES_IN_FLIGHT]!;
    this.ints = slot.ints;
    this.data = slot.data;
    this.opCount = 0;
    this.used = 0;
    this.extendable = 0;
    this.slotFree = false;
    if (last) return; // close() reports failures once everything is written
    this.readFailures();
    const failure = this.unreported.shift();
    if (failure !== undefined) throw failure;
  }

  /** Blocks until the slot of the batch being built is free: MAX_BATCHES_IN_FLIGHT batches at most wait for the thread. */
  private waitForSlot(): void {
    for (;;) {
      const written = Atomics.load(this.written, 0);
      if (this.posted - written < MAX_BATCHES_IN_FLIGHT) {
        this.slotFree = true;
        return;
      }
      if (Atomics.wait(this.written, 0, written, this.stallLimitMs) === 'timed-out') {
        throw new ReplayWriteError(
          `the replay writer thread wrote nothing for ${this.stallLimitMs / 1000} s with ${this.posted - written} batches waiting`,
        );
      }
    }
  }

  private readFailures(): void {
    for (;;) {
      const received = receiveMessageOnPort(this.failures);
      if (received === undefined) return;
      const failure = received.message as WriterFailure;
      this.unreported.push(
        new ReplayWriteError(`cannot write replay ${failure.path}: ${failure.message}`),
      );
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
