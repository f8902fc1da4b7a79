/**
 * Verifying many replay files, on worker threads when asked: verification is CPU-bound (re-running
 * each episode), so N workers verify about N times as many files a second on N cores. Each worker
 * (verify-worker.ts, compiled) reads and verifies the files it is handed, one at a time; files are
 * handed out as workers finish, so a slow file does not hold up the others. Verdicts come back in
 * input order whichever finishes first, and are the same as `verifyReplay`'s on this thread.
 *
 * A file that cannot be read or is not a valid replay is a verdict (`error`, the one-line
 * ReplayError message), not a failure of the batch: the other files are still verified. Anything
 * else thrown (a bug) rejects the whole call, as it would on this thread.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ReplayError } from '../format/format.js';
import { readReplayBytes } from '../io/reader.js';
import { verifyReplay, type VerifyResult } from './verify.js';

/** A file's verdict: `verifyReplay`'s result, or why the file could not be verified at all. */
export type FileVerdict =
  | VerifyResult
  | { readonly ok: false; readonly file: string; readonly error: string };

/**
 * How to verify many files: worker threads (default by file count; 0 for this thread), a size cap,
 * and a callback per verdict, in input order.
 */
export interface VerifyFilesOptions {
  /** Worker threads; 0 verifies on this thread. Default: `autoWorkers(paths.length)`. */
  readonly workers?: number;
  /** Refuse files larger than this (default: the reader's). */
  readonly maxBytes?: number;
  /** Policy modules the user trusts (see `VerifyOptions.policies`). */
  readonly policies?: readonly string[];
  /** Called with each verdict in input order, as soon as it and every verdict before it are in. */
  readonly onResult?: (verdict: FileVerdict, index: number) => void;
}

/** Files per worker below which starting workers (tens of ms each) costs more than it saves. */
const FILES_PER_WORKER = 16;

/**
 * Workers worth starting for `files` files: one per core but one, with at least FILES_PER_WORKER
 * files each; 0 (verify on this thread) when that makes fewer than 2. A core is left to V8's own
 * threads (compiling, collecting garbage): verifying on one thread already keeps ~1.5 cores busy,
 * and on a 2-core machine 2 workers verified a folder more slowly than this thread alone.
 */
export function autoWorkers(files: number): number {
  const n = Math.min(availableParallelism() - 1, Math.floor(files / FILES_PER_WORKER));
  return n >= 2 ? n : 0;
}

/**
 * What a worker is sent: consecutive files to verify, the first at `index` in the batch. Several
 * files a message, as a short replay verifies in about the time a message round trip takes: one
 * file a message made 2 workers no faster than this thread.
 */
export interface VerifyJob {
  readonly index: number;
  readonly files: readonly string[];
}

/** What a worker answers: the job's verdicts in order, or an unexpected error (not a ReplayError). */
export type VerifyReply =
  | { readonly index: number; readonly verdicts: readonly FileVerdict[] }
  | {
      readonly index: number;
      readonly crash: { readonly message: string; readonly stack: string | undefined };
    };

/** Files a job holds at most; fewer when the batch is small, so that every worker gets some. */
const MAX_FILES_PER_JOB = 32;

/** Reads and verifies one file; a ReplayError becomes the verdict. */
export async function verifyFile(
  file: string,
  maxBytes?: number,
  policies: readonly string[] = [],
): Promise<FileVerdict> {
  try {
    return await verifyReplay(readReplayBytes(file, maxBytes), {
      file,
      policies,
      ...(maxBytes === undefined ? {} : { maxBytes }),
    });
  } catch (error) {
    if (error instanceof ReplayError) return { ok: false, file, error: error.message };
    throw error;
  }
}

/**
 * The worker beside this module. A worker thread runs plain JavaScript under Node's own loader, so
 * pools run from the compiled package (dist/); the tests import the built module to test them.
 */
const WORKER_URL = new URL('./verify-worker.js', import.meta.url);

/** Jobs a worker holds at once: the one it works on and the next, so it never waits for a message. */
const IN_FLIGHT = 2;

/**
 * Verifies replay files, on worker threads when there are enough of them. Resolves to one verdict
 * per path, in input order; a file that cannot be read is a failed verdict naming it, not a throw.
 */
export async function verifyReplayFiles(
  paths: readonly string[],
  options: VerifyFilesOptions = {},
): Promise<FileVerdict[]> {
  const workers = Math.min(options.workers ?? autoWorkers(paths.length), paths.length);
  if (workers > 0) {
    const pool = new VerifyPool(workers, options.maxBytes, options.policies);
    try {
      return await pool.verify(paths, options.onResult);
    } finally {
      await pool.close();
    }
  }
  const order = new InOrder(paths.length, options.onResult);
  for (let i = 0; i < paths.length; i++)
    order.settle(i, await verifyFile(paths[i]!, options.maxBytes, options.policies));
  return order.verdicts();
}

/** Collects verdicts as they come and reports them in input order. */
class InOrder {
  private readonly got: Array<FileVerdict | undefined>;
  private reported = 0;
  settled = 0;

  constructor(
    readonly size: number,
    private readonly onResult?: (verdict: FileVerdict, index: number) => void,
  ) {
    this.got = new Array(size);
  }

  settle(index: number, verdict: FileVerdict): void {
    this.got[index] = verdict;
    this.settled++;
    while (this.reported < this.size && this.got[this.reported] !== undefined) {
      this.onResult?.(this.got[this.reported]!, this.reported);
      this.reported++;
    }
  }

  verdicts(): FileVerdict[] {
    return this.got as FileVerdict[];
  }
}

interface Batch {
  readonly paths: readonly string[];
  readonly order: InOrder;
  next: number;
  /** Files per job: about a quarter of each worker's share, 1 to MAX_FILES_PER_JOB. */
  readonly jobSize: number;
  readonly resolve: (verdicts: FileVerdict[]) => void;
  readonly reject: (error: Error) => void;
}

/**
 * Worker threads that verify batches of files, one batch at a time; kept between batches, so a
 * caller verifying several batches (the benchmark) starts them once. `close()` when done.
 */
export class VerifyPool {
  private readonly workers: Worker[];
  private batch: Batch | null = null;
  private broken: Error | null = null;
  private closing = false;

  constructor(size: number, maxBytes?: number, policies: readonly string[] = []) {
    this.workers = Array.from({ length: Math.max(1, size) }, () => {
      const worker = new Worker(WORKER_URL, { workerData: { maxBytes, policies } });
      worker.on('message', (reply: VerifyReply) => this.reply(worker, reply));
      worker.on('error', (error) => this.fail(error));
      worker.on('exit', (code) => {
        if (!this.closing) this.fail(new Error(`a verify worker exited (code ${code})`));
      });
      return worker;
    });
  }

  /** Verifies `paths`; verdicts in input order (also to `onResult`, as soon as each can be). */
  verify(
    paths: readonly string[],
    onResult?: (verdict: FileVerdict, index: number) => void,
  ): Promise<FileVerdict[]> {
    if (this.broken !== null) return Promise.reject(this.broken);
    if (this.batch !== null || this.closing)
      return Promise.reject(new Error('the verify pool is busy or closed'));
    if (paths.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      const jobSize = Math.max(
        1,
        Math.min(MAX_FILES_PER_JOB, Math.floor(paths.length / (this.workers.length * 4))),
      );
      this.batch = {
        paths,
        order: new InOrder(paths.length, onResult),
        next: 0,
        jobSize,
        resolve,
        reject,
      };
      // Round-robin, so that a short batch is spread over every worker.
      for (let k = 0; k < IN_FLIGHT; k++) for (const worker of this.workers) this.feed(worker);
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private feed(worker: Worker): void {
    const b = this.batch;
    if (b === null || b.next >= b.paths.length) return;
    const files = b.paths.slice(b.next, b.next + b.jobSize);
    const job: VerifyJob = { index: b.next, files };
    b.next += files.length;
    worker.postMessage(job);
  }

  private reply(worker: Worker, reply: VerifyReply): void {
    const b = this.batch;
    if (b === null) return;
    if ('crash' in reply) {
      const error = new Error(reply.crash.message);
      if (reply.crash.stack !== undefined) error.stack = reply.crash.stack;
      this.fail(error);
      return;
    }
    reply.verdicts.forEach((verdict, k) => {
      b.order.settle(reply.index + k, verdict);
    });
    if (b.order.settled === b.paths.length) {
      this.batch = null;
      b.resolve(b.order.verdicts());
    } else this.feed(worker);
  }

  /** A worker crashed or threw something other than a ReplayError: the pool is no use any more. */
  private fail(error: Error): void {
    this.broken ??= error;
    const b = this.batch;
    this.batch = null;
    b?.reject(error);
  }
}
