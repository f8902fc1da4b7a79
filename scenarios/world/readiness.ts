/**
 * Where "ready" is defined, the one predicate the tracker (what a plan-aware agent knows), scoring
 * (idle while ready, switches leaving ready work) and the stress checks (starvation) apply: a step
 * is ready when its request has been delivered to the agent, every dependency's successful result
 * has been delivered to it (dependency-violation.ts: issuing it now is no violation), it is not
 * done, and no call for it is in flight (an outcome the agent has not been given yet).
 *
 * Each caller keeps these facts incrementally its own way (from observations, from events); only
 * the rule that combines them lives here.
 */

/** What "ready" is judged from, as the agent has been told it. */
export interface ReadinessFacts {
  readonly released: boolean;
  readonly dependenciesDelivered: boolean;
  readonly done: boolean;
  readonly inFlight: boolean;
}

export function isReady(f: ReadinessFacts): boolean {
  return f.released && f.dependenciesDelivered && !f.done && !f.inFlight;
}
