/**
 * Where a call's latency is drawn: one attempt's service time and fate (ok, failure, timeout),
 * from the stream named by the call's identity alone (`callKey`): first the latency sample, then
 * one uniform for the failure model. A tool's latency scale (the latency ablation) multiplies the
 * service time after its fate is decided (ToolRuntime.scaleUs). So a call's latency never depends
 * on the order calls were issued, and the oracle (scoring/oracle.ts) draws the very same attempts
 * the world does.
 */
import type { RandomStreams } from '../../engine/index.js';
import type { ToolRuntime } from '../spec/tools.js';

/** How one attempt of a call goes, before its result is computed. */
export interface Attempt {
  /** Time in service: the sampled latency, or the timeout when that comes first. */
  readonly serviceUs: number;
  readonly fate: 'ok' | 'failure' | 'timeout';
}

/** One attempt's service time and fate for a call of `tool`, drawn from the stream named `key`. */
export function drawAttempt(tool: ToolRuntime, streams: RandomStreams, key: string): Attempt {
  const stream = streams.derive(key);
  const latencyUs = tool.latency.sample(stream);
  const failed = tool.tool.failure !== undefined && stream.double() < tool.tool.failure.rate;
  // The fate is decided on the unscaled draw, so a latency scale changes durations, never fates.
  if (tool.timeoutUs !== null && latencyUs > tool.timeoutUs) {
    return { serviceUs: tool.scaleUs(tool.timeoutUs), fate: 'timeout' };
  }
  return { serviceUs: tool.scaleUs(latencyUs), fate: failed ? 'failure' : 'ok' };
}
