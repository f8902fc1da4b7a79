/**
 * The SimPy-equivalent engine workload: N processes, each looping `timeout(exponential, mean 1 s)`.
 *
 * Three ways to run the same event stream (same seed, same draws, same order of delays):
 * - generators: the engine with one generator process per worker (`yield delayUs`), on its own
 *   heap, and again on heap-js (the measurement behind engine/heap.ts);
 * - callbacks: the engine with one self-rescheduling callback per worker;
 * - bare-heap: a plain heap-js push/pop loop over {time, seq} records, with the same comparator
 *   shape the engine uses: the floor of what this queue costs.
 * Each returns the number of events run and the wall time; the caller runs each in its own process
 * (a shared process would make the comparator call sites megamorphic and skew the figures).
 */
import { Heap } from 'heap-js';
import { Simulation, compileDistribution, type RandomStream } from '../engine/index.js';
import { HeapJsSimulation } from '../engine/heap-js-simulation.js';

export interface WorkloadResult {
  readonly events: number;
  readonly seconds: number;
  readonly finalTimeUs: number;
}

const delay = compileDistribution({ kind: 'exponential', meanMs: 1000 });

function seconds(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e9;
}

export function runGenerators(
  processes: number,
  events: number,
  seed: number,
  heap: 'binary' | 'heap-js' = 'binary',
): WorkloadResult {
  const sim = heap === 'heap-js' ? new HeapJsSimulation({ seed }) : new Simulation({ seed });
  const stream = sim.streams.get('delays');
  function* worker(): Generator<number, void, unknown> {
    for (;;) yield delay.sample(stream);
  }
  for (let i = 0; i < processes; i++) sim.process(worker());
  const start = process.hrtime.bigint();
  sim.run({ maxEvents: events });
  return { events, seconds: seconds(start), finalTimeUs: sim.nowUs };
}

export function runCallbacks(processes: number, events: number, seed: number): WorkloadResult {
  const sim = new Simulation({ seed });
  const stream = sim.streams.get('delays');
  const tick = (): void => {
    sim.schedule(delay.sample(stream), tick);
  };
  for (let i = 0; i < processes; i++) sim.schedule(0, tick);
  const start = process.hrtime.bigint();
  sim.run({ maxEvents: events });
  return { events, seconds: seconds(start), finalTimeUs: sim.nowUs };
}

interface BareEvent {
  t: number;
  s: number;
}

export function runBareHeap(processes: number, events: number, seed: number): WorkloadResult {
  const stream: RandomStream = new Simulation({ seed }).streams.get('delays');
  const heap = new Heap<BareEvent>((a, b) => a.t - b.t || a.s - b.s);
  let seq = 0;
  for (let i = 0; i < processes; i++) heap.add({ t: 0, s: seq++ });
  let nowUs = 0;
  const start = process.hrtime.bigint();
  for (let n = 0; n < events; n++) {
    const event = heap.pop()!;
    nowUs = event.t;
    // Reuse the popped record, as the engine reuses a process's wake event.
    event.t = nowUs + delay.sample(stream);
    event.s = seq++;
    heap.add(event);
  }
  return { events, seconds: seconds(start), finalTimeUs: nowUs };
}

/** Bytes of heap per pending event with `count` callback events queued (needs --expose-gc). */
export function pendingEventBytes(count: number): { count: number; bytesPerEvent: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('pendingEventBytes needs node --expose-gc');
  const sim = new Simulation({ seed: 1 });
  const stream = sim.streams.get('delays');
  const noop = (): void => undefined;
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < count; i++) sim.schedule(delay.sample(stream), noop);
  gc();
  const after = process.memoryUsage().heapUsed;
  if (sim.pending !== count) throw new Error('pending count mismatch');
  return { count, bytesPerEvent: (after - before) / count };
}
