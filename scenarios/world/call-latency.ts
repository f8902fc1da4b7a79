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
  /**
   * `lost`: the attempt's effect applies but its response is lost (the agent gets a timeout
   * error): drawn only for a tool whose failure model has a `lostRate`.
   */
  readonly fate: 'ok' | 'failure' | 'timeout' | 'lost';
}

/**
 * One attempt's service time and fate for a call of `tool`, drawn from the stream named `key`:
 * the latency, one uniform for the failure rate, and (only with a `lostRate`, so tools without one
 * draw exactly as before) one more for a lost response. A lost attempt ends at the tool's timeout
 * when it has one (the caller gave up waiting then), else at its latency.
 */
export function drawAttempt(tool: ToolRuntime, streams: RandomStreams, key: string): Attempt {
  const stream = streams.derive(key);
  const latencyUs = tool.latency.sample(stream);
  const failure = tool.tool.failure;
  const failed = failure !== undefined && stream.double() < failure.rate;
  const lost = failure?.lostRate !== undefined && stream.double() < failure.lostRate;
  // The fate is decided on the unscaled draw, so a latency scale changes durations, never fates.
  if (tool.timeoutUs !== null && latencyUs > tool.timeoutUs) {
    return { serviceUs: tool.scaleUs(tool.timeoutUs), fate: 'timeout' };
  }
  if (failed) return { serviceUs: tool.scaleUs(latencyUs), fate: 'failure' };
  if (lost) return { serviceUs: tool.scaleUs(tool.timeoutUs ?? latencyUs), fate: 'lost' };
  return { serviceUs: tool.scaleUs(latencyUs), fate: 'ok' };
}
