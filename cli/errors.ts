/**
 * How the command line fails: bad input is a `UsageError` (one clear line, exit 1, no stack);
 * anything else is an internal error (exit 2, with the stack only under TOOLTIME_DEBUG=1).
 */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const EXIT_BAD_INPUT = 1;
export const EXIT_INTERNAL = 2;

/** Errors from lower layers that describe bad input rather than a bug (matched by name). */
const INPUT_ERROR_NAMES = new Set(['UsageError', 'ScenarioError', 'DistributionError', 'ReplayError', 'ReplayWriteError', 'AgentSpecError', 'TimeError', 'CommanderError']);

export function isInputError(error: unknown): boolean {
  return error instanceof Error && INPUT_ERROR_NAMES.has(error.name);
}

export function reportAndExit(error: unknown): never {
  if (isInputError(error)) {
    process.stderr.write(`tooltime: ${(error as Error).message}\n`);
    process.exit(EXIT_BAD_INPUT);
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`tooltime: internal error: ${message}\n`);
  if (process.env['TOOLTIME_DEBUG'] === '1' && error instanceof Error && error.stack !== undefined) process.stderr.write(`${error.stack}\n`);
  else process.stderr.write('(set TOOLTIME_DEBUG=1 for the stack trace)\n');
  process.exit(EXIT_INTERNAL);
}
