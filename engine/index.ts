/**
 * The engine: a generic discrete-event simulation core. It knows nothing of tools, tasks or agents.
 *
 * - time.ts: integer microseconds and the one rounding rule.
 * - queue.ts: the (time, priority, seq) total order.
 * - simulation.ts: the clock and the loop (`run`, `runAsync`, `step`), scheduling, trace hook.
 * - process.ts / signal.ts: generator processes, signals, allOf / anyOf, interrupts;
 *   process-table.ts: a simulation's processes as a struct of arrays (a Process is a handle);
 *   timeout.ts: the signals `timeout` makes (a process that yields one at once adopts its entry).
 * - resource.ts: slots with a FIFO queue.
 * - assert.ts: invariant checks in the code.
 * - random.ts: named seeded streams; distributions.ts: latency distributions sampled to µs
 *   (normal.ts: the standard normal's quantile and CDF they use).
 *
 * This index is the engine's public face (`tooltime/engine` for users who want a DES): no tuning
 * constants, no internals (the queue and its heap, the normal helpers, assertInvariant); engine
 * code and the layers above import those from their modules. docs/API.md lists every name.
 */
export {
  TimeError,
  assertTimeUs,
  formatUs,
  isTimeUs,
  msToUs,
  roundUs,
  sToUs,
  usToMs,
  usToS,
} from './time.js';
export { Priority, type ScheduledEvent } from './queue.js';
export { Simulation, SimulationError } from './simulation.js';
export type {
  Callback,
  RunEnd,
  RunOptions,
  RunResult,
  ScheduleOptions,
  TraceListener,
  TraceRecord,
} from './simulation.js';
export { Process, Interrupt, ProcessError } from './process.js';
export type { ProcessGenerator, ProcessState } from './process.js';
export { Signal, allOf, anyOf } from './signal.js';
export type { SignalState } from './signal.js';
export { Resource, ResourceError } from './resource.js';
export { RandomStreams } from './random.js';
export type { RandomStream, StreamState, StreamsSnapshot } from './random.js';
export {
  DistributionError,
  checkDistribution,
  compileDistribution,
  describeDistribution,
} from './distributions.js';
export type {
  Distribution,
  DistributionKind,
  DistributionProblem,
  DistributionSpec,
} from './distributions.js';
export { TraceDigest } from './trace.js';
