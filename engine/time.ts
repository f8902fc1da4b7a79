/**
 * Simulated time.
 *
 * Every instant and duration inside a simulation is an integer number of microseconds, kept within
 * `Number.MAX_SAFE_INTEGER` (about 285 years), so arithmetic on it is exact and its encoding is
 * canonical. Names carry the unit: `nowUs`, `latencyUs`, `thinkMs`.
 *
 * Rounding rule (the only one in the project): a real-valued quantity becomes microseconds by
 * rounding to the nearest integer, ties toward +infinity (`Math.floor(x + 0.5)`). It is applied
 * once, at the boundary (a sampled latency, a configured millisecond value), never in between.
 */

export const US_PER_MS = 1_000;
export const US_PER_S = 1_000_000;

/** Thrown when a value that must be a time or duration is not a safe non-negative integer. */
export class TimeError extends RangeError {
  override name = 'TimeError';
}

/** True when `value` is a valid simulated instant or duration. */
export function isTimeUs(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

/** Asserts `value` is a safe non-negative integer of microseconds; `what` names it in the error. */
export function assertTimeUs(value: number, what = 'time'): number {
  if (!isTimeUs(value)) {
    throw new TimeError(
      `${what} must be a non-negative safe integer of microseconds, got ${String(value)}`,
    );
  }
  return value;
}

/** Rounds a real number of microseconds by the project's rule (nearest, ties up) and asserts it. */
export function roundUs(realUs: number, what = 'time'): number {
  if (!Number.isFinite(realUs)) {
    throw new TimeError(`${what} must be finite, got ${String(realUs)}`);
  }
  const us = Math.floor(realUs + 0.5);
  // -0 would encode differently from 0 in some formats; normalise it.
  return assertTimeUs(us === 0 ? 0 : us, what);
}

/** Milliseconds (real) to microseconds, by the rounding rule. */
export function msToUs(ms: number, what = 'time'): number {
  return roundUs(ms * US_PER_MS, what);
}

/** Seconds (real) to microseconds, by the rounding rule. */
export function sToUs(s: number, what = 'time'): number {
  return roundUs(s * US_PER_S, what);
}

/** Microseconds to milliseconds, as a real number (for display and reports only). */
export function usToMs(us: number): number {
  return us / US_PER_MS;
}

/** Microseconds to seconds, as a real number (for display and reports only). */
export function usToS(us: number): number {
  return us / US_PER_S;
}

/** Compact human form of a duration: `850us`, `12.5ms`, `3.200s`. */
export function formatUs(us: number): string {
  if (us < US_PER_MS) return `${us}us`;
  if (us < US_PER_S) return `${(us / US_PER_MS).toFixed(1)}ms`;
  return `${(us / US_PER_S).toFixed(3)}s`;
}
