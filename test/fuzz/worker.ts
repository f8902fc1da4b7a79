/**
 * A fuzz worker thread: runs command lines through the real commander program in process, as
 * `node dist/cli/main.js` would (the same registrations, the same mapping of errors to exit codes),
 * and answers with the exit code and what was written. Long-lived: one per core, replaced by the
 * pool only when it hangs or dies.
 */
import { Command, CommanderError } from 'commander';
import { parentPort } from 'node:worker_threads';
import { isInputError, userPathMessage } from '../../cli/errors.js';
import { registerReplay } from '../../cli/commands/replay.js';
import { registerRun } from '../../cli/commands/run.js';
import { registerScore } from '../../cli/commands/score.js';
import { registerValidate } from '../../cli/commands/validate.js';

export interface Job {
  readonly id: number;
  readonly args: readonly string[];
}

export interface Outcome {
  readonly id: number;
  /** 0 accepted, 1 rejected as bad input, 2 internal error, 3 errored episodes. */
  readonly exit: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The stack of an internal error (for the report; never shown to a user). */
  readonly stack: string | null;
  /** Object.prototype gained or lost properties during the command. */
  readonly polluted: boolean;
}

/** What a command writes to stdout is kept up to this much (inspect of a replay can be long). */
const KEEP_CHARS = 4096;

function program(out: (s: string) => void, err: (s: string) => void): Command {
  const p = new Command()
    .name('tooltime')
    .exitOverride()
    .configureOutput({ writeOut: out, writeErr: err });
  registerValidate(p);
  registerRun(p);
  registerReplay(p);
  registerScore(p);
  return p;
}

const protoKeys = (): string => Object.getOwnPropertyNames(Object.prototype).sort().join(',');

/** Runs `args` with stdout and stderr captured, as main.ts maps the result to an exit code. */
async function run(job: Job): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  const out = (s: string): void => {
    if (stdout.length < KEEP_CHARS) stdout += s.slice(0, KEEP_CHARS);
  };
  const err = (s: string): void => {
    stderr += s;
  };
  const saved = { out: process.stdout.write, err: process.stderr.write };
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    err(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  process.exitCode = 0;
  const before = protoKeys();
  let exit: number;
  let stack: string | null = null;
  try {
    await program(out, err).parseAsync(['node', 'tooltime', ...job.args]);
    exit = Number(process.exitCode ?? 0);
  } catch (error) {
    if (error instanceof CommanderError) exit = error.exitCode === 0 ? 0 : 1;
    else if (isInputError(error)) {
      err(`tooltime: ${(error as Error).message}\n`);
      exit = 1;
    } else if (userPathMessage(error) !== null) {
      err(`tooltime: ${userPathMessage(error)}\n`);
      exit = 1;
    } else {
      err(`tooltime: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
      stack = error instanceof Error ? (error.stack ?? null) : null;
      exit = 2;
    }
  } finally {
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
    process.exitCode = 0;
  }
  const polluted = protoKeys() !== before || ({} as Record<string, unknown>).polluted !== undefined;
  return { id: job.id, exit, stdout, stderr, stack, polluted };
}

/**
 * Self-test jobs, so that the pool can be seen to catch what it is for: `__hang` never answers,
 * `__oom` exhausts the heap, `__load FILE` loads a module (the hostile one writes its marker).
 */
async function selfTest(job: Job): Promise<Outcome | null> {
  const [what, arg] = job.args;
  if (what === '__hang') for (;;);
  if (what === '__oom') {
    const hog: unknown[] = [];
    for (;;) hog.push(new Array(1e7).fill(hog.length));
  }
  if (what !== '__load' || arg === undefined) return null;
  await import(arg);
  return { id: job.id, exit: 0, stdout: '', stderr: '', stack: null, polluted: false };
}

parentPort!.on('message', (job: Job) => {
  void selfTest(job)
    .then((outcome) => outcome ?? run(job))
    .then((outcome) => parentPort!.postMessage(outcome));
});
