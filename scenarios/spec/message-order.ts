/**
 * The one definition of follow-up message order: the order in which a scenario's `messages`
 * arrive. A file may list its follow-ups in any order; they arrive by their time on the world's
 * clock (`atMs` in integer µs, by the engine's rounding rule), and follow-ups that arrive at the
 * same instant arrive in the order the file lists them (the tie-break).
 *
 * The plan (plan.ts) puts messages in this order, and everything else reads them from the plan by
 * their position in it: the world schedules them, the tracker and scoring match the n-th arrival
 * of a task to its n-th message, the oracle and the stress checks release their steps, replays
 * record that position. The validator and the generator ask this module directly.
 */
import { msToUs } from '../../engine/index.js';

/** What the order looks at: a follow-up's time (file position is its place in the list). */
export interface Timed {
  readonly atMs: number;
}

/**
 * The positions in `messages` (file order) in arrival order: by arrival time in µs, then by file
 * position. A time that is not a finite, representable number of ms (an invalid document being
 * validated) sorts last, so the order is total on anything.
 */
export function arrivalOrder(messages: readonly Timed[]): number[] {
  const keys = messages.map((m) => arrivalKeyUs(m.atMs));
  return keys.map((_, i) => i).sort((a, b) => keys[a]! - keys[b]! || a - b);
}

/** `messages` listed in arrival order (a new array; the elements are the same objects). */
export function inArrivalOrder<T extends Timed>(messages: readonly T[]): T[] {
  return arrivalOrder(messages).map((i) => messages[i]!);
}

/** The arrival time in µs the order compares: `msToUs(atMs)`, or +Infinity when there is none. */
function arrivalKeyUs(atMs: number): number {
  if (typeof atMs !== 'number' || !Number.isFinite(atMs)) return Infinity;
  try {
    return msToUs(atMs);
  } catch {
    return Infinity;
  }
}
