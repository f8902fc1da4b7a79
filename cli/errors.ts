/**
 * How the command line fails: bad input is a `UsageError` (one clear line, exit 1, no stack);
 * anything else is an internal error (exit 2, with the stack only under TOOLTIME_DEBUG=1). A run in
 * which an episode errored (a dead model endpoint) finishes, then exits 3. A reader that closes the
 * pipe early (`| head`) ends the command quietly.
 */
import { resolve, sep } from 'node:path';
import { fsWords } from '../scenarios/spec/input-file.js';

export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * A flag's whole-number value from `min` to `max` (digits only, spaces around allowed), or a
 * UsageError naming the flag: `--FLAG must be an integer from MIN to MAX, got "TEXT"`.
 */
export function integerFlag(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !(Number.isSafeInteger(n) && n >= min && n <= max))
    throw new UsageError(`${flag} must be an integer from ${min} to ${max}, got "${text}"`);
  return n;
}

export const EXIT_BAD_INPUT = 1;
export const EXIT_INTERNAL = 2;
export const EXIT_EPISODES_ERRORED = 3;
/** `run --max-cost` stopped starting episodes: the run is unfinished (resumable), not failed. */
export const EXIT_STOPPED = 4;

/** Errors from lower layers that describe bad input rather than a bug (matched by name). */
const INPUT_ERROR_NAMES = new Set([
  'UsageError',
  'ScenarioError',
  'DistributionError',
  'ReplayError',
  'AgentSpecError',
  'TimeError',
  'CommanderError',
]);

export function isInputError(error: unknown): boolean {
  return error instanceof Error && INPUT_ERROR_NAMES.has(error.name);
}

/** `read-only file system (EROFS)` for a file-system error (fsWords' table), else null. */
export function fsCause(error: unknown): string | null {
  const fs = fsWords(error);
  return fs === null ? null : `${fs.words} (${fs.code})`;
}

/** Paths the user named for output: a failure at or under one is bad input, not a bug. */
const userPaths: string[] = [];

export function declareUserPath(path: string | undefined): void {
  if (path !== undefined) userPaths.push(resolve(path));
}

function underUserPath(path: string): boolean {
  const p = resolve(path);
  return userPaths.some((u) => p === u || p.startsWith(u.endsWith(sep) ? u : `${u}${sep}`));
}

/** The one line for a file-system error on a user's path, or null when it is not one. */
export function userPathMessage(error: unknown): string | null {
  const cause = fsCause(error);
  const { path, syscall } = (error ?? {}) as { path?: unknown; syscall?: unknown };
  if (cause === null || typeof path !== 'string' || !underUserPath(path)) return null;
  const verb =
    syscall === 'mkdir'
      ? 'cannot create directory'
      : syscall === 'open' || syscall === 'write'
        ? 'cannot write'
        : `cannot ${String(syscall)}`;
  return `${verb} ${path}: ${cause}`;
}

export function reportAndExit(error: unknown): never {
  if (isInputError(error)) {
    process.stderr.write(`tooltime: ${(error as Error).message}\n`);
    process.exit(EXIT_BAD_INPUT);
  }
  const onUserPath = userPathMessage(error);
  if (onUserPath !== null) {
    process.stderr.write(`tooltime: ${onUserPath}\n`);
    process.exit(EXIT_BAD_INPUT);
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`tooltime: internal error: ${message}\n`);
  if (process.env.TOOLTIME_DEBUG === '1' && error instanceof Error && error.stack !== undefined)
    process.stderr.write(`${error.stack}\n`);
  else process.stderr.write('(set TOOLTIME_DEBUG=1 for the stack trace)\n');
  process.exit(EXIT_INTERNAL);
}

/**
 * A reader that stops reading (`tooltime run | head -1`) closes the pipe: the next write fails
 * with EPIPE, which without a listener is an uncaught error with a stack trace. For every command,
 * that ends the process quietly with the exit code already set (0 unless, say, an episode errored):
 * no one is left to read the rest. What a command writes to files is written before its report.
 */
export function endQuietlyOnClosedPipe(): void {
  const onError = (stream: 'stdout' | 'stderr') => (error: unknown) => {
    if ((error as { code?: unknown } | null)?.code === 'EPIPE') process.exit();
    if (stream === 'stdout') reportAndExit(error);
    process.exit(EXIT_INTERNAL);
  };
  process.stdout.on('error', onError('stdout'));
  process.stderr.on('error', onError('stderr'));
}
