/**
 * Where think time is applied: how long a decision lasts in simulated time before its actions
 * take effect. The agent may state it (`Decision.thinkUs`); otherwise it is drawn from the think
 * distribution (the scenario's, or the episode's override) on the `think` stream.
 */
import type { Distribution, RandomStreams } from '../../engine/index.js';

/**
 * The think time of one decision. A stated think time is clamped up to the distribution's
 * minimum: no decision is faster than the scenario allows, which the oracle's lower bound
 * relies on.
 */
export function thinkTimeUs(
  think: Distribution,
  statedUs: number | undefined,
  streams: RandomStreams,
): number {
  if (statedUs === undefined) return think.sample(streams.get('think'));
  return Math.max(statedUs, think.minUs);
}
