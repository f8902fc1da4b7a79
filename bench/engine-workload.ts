/**
 * The SimPy-equivalent engine workload: N processes, each looping `timeout(exponential, mean 1 s)`
 * (the hold model: N events always pending).
 *
 * Ways to run the same event stream (same seed, same draws, same order of delays):
 * - generators: the engine with one generator process per worker yielding a number
 *   (`yield delayUs`), on its own queue, and again on heap-js (the measurement behind
 *   engine/heap.ts);
 * - timeouts: the same processes written as SimPy users write them, `yield sim.timeout(delayUs)`;
 * - callbacks: the engine with one self-rescheduling callback per worker;
 * - bare-heap: a plain heap-js push/pop loop over {time, seq} records, with the same comparator
 *   shape the engine used to have;
 * - typed-heap: a bare binary heap over two Float64Arrays (time, seq): the floor of what a queue
 *   of this depth costs, written here apart from the engine's own.
 * Each returns the number of events run and the CPU time of the process (less swayed than wall
 * time by a shared machine's load; it includes the garbage collector's threads, which is fair to
 * the variants that allocate); the caller runs each in its own process (a shared process would
 * make the comparator call sites megamorphic and skew the figures). A run first runs `warmup`
 * events untimed (with N pending, the first N are the processes' starts).
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

/** CPU seconds of this process since `start` (`process.cpuUsage()`). */
function cpuSeconds(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

export type GeneratorShape = 'number' | 'timeout';

/** Far beyond any run here: where the asleep processes of the deep-queue rows wait. */
const ASLEEP_US = 10 ** 15;

/**
 * The hold model on the engine: `processes` processes looping their delays, and `asleep` more
 * that wait once on a delay far beyond the run (queued, never run: a deep queue whose processes
 * are not all busy). `warmup` events run untimed first.
 */
export function runGenerators(
  processes: number,
  events: number,
  seed: number,
  heap: 'typed' | 'heap-js' = 'typed',
  shape: GeneratorShape = 'number',
  warmup = 0,
  asleep = 0,
): WorkloadResult {
  const sim = heap === 'heap-js' ? new HeapJsSimulation({ seed }) : new Simulation({ seed });
  const stream = sim.streams.get('delays');
  function* numbers(): Generator<number, void, unknown> {
    for (;;) yield delay.sample(stream);
  }
  function* timeouts(): Generator<unknown, void, unknown> {
    for (;;) yield sim.timeout(delay.sample(stream));
  }
  function* sleeper(): Generator<number, void, unknown> {
    yield ASLEEP_US;
  }
  const worker = shape === 'timeout' ? timeouts : numbers;
  for (let i = 0; i < processes; i++) sim.process(worker());
  for (let i = 0; i < asleep; i++) sim.process(sleeper());
  if (warmup > 0) sim.run({ maxEvents: warmup });
  const start = process.cpuUsage();
  sim.run({ maxEvents: events });
  return { events, seconds: cpuSeconds(start), finalTimeUs: sim.nowUs };
}

/**
 * Short-lived processes: a spawner starts one child every µs; each child waits 3 µs and returns,
 * its handle dropped, so about three are alive at a time. `events` events in all (a child costs
 * its start, its resume and its done signal's event). What the rows of waiting processes never
 * do: processes ending, their `done` made, their slots reused.
 */
export function runShortLived(events: number, seed: number): WorkloadResult {
  const sim = new Simulation({ seed });
  function* child(): Generator<number, number, unknown> {
    yield 3;
    return 1;
  }
  function* spawner(): Generator<number, void, unknown> {
    for (;;) {
      sim.process(child());
      yield 1;
    }
  }
  sim.process(spawner());
  const start = process.cpuUsage();
  sim.run({ maxEvents: events });
  return { events, seconds: cpuSeconds(start), finalTimeUs: sim.nowUs };
}

export function runCallbacks(processes: number, events: number, seed: number): WorkloadResult {
  const sim = new Simulation({ seed });
  const stream = sim.streams.get('delays');
  const tick = (): void => {
    sim.schedule(delay.sample(stream), tick);
  };
  for (let i = 0; i < processes; i++) sim.schedule(0, tick);
  const start = process.cpuUsage();
  sim.run({ maxEvents: events });
  return { events, seconds: cpuSeconds(start), finalTimeUs: sim.nowUs };
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
  const start = process.cpuUsage();
  for (let n = 0; n < events; n++) {
    const event = heap.pop()!;
    nowUs = event.t;
    // Reuse the popped record (an engine process queues itself, not a new object).
    event.t = nowUs + delay.sample(stream);
    event.s = seq++;
    heap.add(event);
  }
  return { events, seconds: cpuSeconds(start), finalTimeUs: nowUs };
}

/**
 * The hold model on a bare binary heap of (time, seq) in two Float64Arrays: the reference the
 * engine's deep-queue rows are read against. Same draws in the same order as the engine's runs.
 */
export function runTypedHeap(
  processes: number,
  events: number,
  seed: number,
  warmup = 0,
  asleep = 0,
): WorkloadResult {
  const stream: RandomStream = new Simulation({ seed }).streams.get('delays');
  const heap = new TypedHeap(processes + asleep);
  for (let i = 0; i < processes; i++) heap.push(0);
  for (let i = 0; i < asleep; i++) heap.push(ASLEEP_US);
  const step = (): void => {
    const nowUs = heap.popTime();
    heap.push(nowUs + delay.sample(stream));
    heap.nowUs = nowUs;
  };
  for (let n = 0; n < warmup; n++) step();
  const start = process.cpuUsage();
  for (let n = 0; n < events; n++) step();
  return { events, seconds: cpuSeconds(start), finalTimeUs: heap.nowUs };
}

/**
 * The floor of the deep-queue rows: the bare typed heap, each entry also naming one of
 * `processes` bare generators (the same one-loop, one-yield shape as the engine's), and each
 * event resuming its generator for the next delay (`asleep` more entries wait beyond the run).
 * No engine at all: the heap and V8 resuming a generator that, with a million of them, has not
 * run for about a million events. Same draws in the same order as the engine's runs.
 */
export function runGeneratorHeap(
  processes: number,
  events: number,
  seed: number,
  warmup = 0,
  asleep = 0,
): WorkloadResult {
  const stream: RandomStream = new Simulation({ seed }).streams.get('delays');
  function* numbers(): Generator<number, void, unknown> {
    for (;;) yield delay.sample(stream);
  }
  const generators = new Array<Generator<number, void, unknown>>(processes);
  for (let i = 0; i < processes; i++) generators[i] = numbers();
  const heap = new TypedHeap(processes + asleep);
  for (let i = 0; i < processes; i++) heap.push(0, i);
  for (let i = 0; i < asleep; i++) heap.push(ASLEEP_US, -1);
  const step = (): void => {
    const nowUs = heap.popTime();
    const id = heap.poppedId;
    heap.push(nowUs + (generators[id]!.next().value as number), id);
    heap.nowUs = nowUs;
  };
  for (let n = 0; n < warmup; n++) step();
  const start = process.cpuUsage();
  for (let n = 0; n < events; n++) step();
  return { events, seconds: cpuSeconds(start), finalTimeUs: heap.nowUs };
}

/**
 * A fixed-capacity binary min-heap on (time, seq), each entry with an id (what it is for): as
 * little as such a queue can do.
 */
class TypedHeap {
  nowUs = 0;
  /** The id of the entry the last popTime removed. */
  poppedId = 0;
  private readonly times: Float64Array;
  private readonly seqs: Float64Array;
  private readonly ids: Int32Array;
  private size = 0;
  private nextSeq = 0;

  constructor(capacity: number) {
    this.times = new Float64Array(capacity);
    this.seqs = new Float64Array(capacity);
    this.ids = new Int32Array(capacity);
  }

  push(timeUs: number, id = 0): void {
    const { times, seqs, ids } = this;
    const seq = this.nextSeq++;
    let hole = this.size++;
    while (hole > 0) {
      const parent = (hole - 1) >> 1;
      if (times[parent]! <= timeUs) break;
      times[hole] = times[parent]!;
      seqs[hole] = seqs[parent]!;
      ids[hole] = ids[parent]!;
      hole = parent;
    }
    times[hole] = timeUs;
    seqs[hole] = seq;
    ids[hole] = id;
  }

  /** Removes the top and returns its time (the heap is never empty here). */
  popTime(): number {
    const { times, seqs, ids } = this;
    const top = times[0]!;
    this.poppedId = ids[0]!;
    const last = --this.size;
    const timeUs = times[last]!;
    const seq = seqs[last]!;
    const id = ids[last]!;
    let hole = 0;
    for (;;) {
      let child = 2 * hole + 1;
      if (child >= last) break;
      if (
        child + 1 < last &&
        (times[child + 1]! < times[child]! ||
          (times[child + 1] === times[child] && seqs[child + 1]! < seqs[child]!))
      )
        child++;
      if (times[child]! > timeUs || (times[child] === timeUs && seqs[child]! > seq)) break;
      times[hole] = times[child]!;
      seqs[hole] = seqs[child]!;
      ids[hole] = ids[child]!;
      hole = child;
    }
    times[hole] = timeUs;
    seqs[hole] = seq;
    ids[hole] = id;
    return top;
  }
}

/**
 * Bytes in use: the JS heap and the backing stores of ArrayBuffers (the engine queue's keys are
 * a Float64Array, whose bytes live outside the JS heap: `heapUsed` alone does not count them).
 */
export function bytesInUse(gc: () => void): number {
  // Twice: the first may leave dead ArrayBuffers' backing stores to a sweeper that frees them later.
  gc();
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/** Bytes per pending event with `count` callback events queued (needs --expose-gc). */
export function pendingEventBytes(count: number): { count: number; bytesPerEvent: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('pendingEventBytes needs node --expose-gc');
  const sim = new Simulation({ seed: 1 });
  const stream = sim.streams.get('delays');
  const noop = (): void => undefined;
  const before = bytesInUse(gc);
  for (let i = 0; i < count; i++) sim.schedule(delay.sample(stream), noop);
  const after = bytesInUse(gc);
  if (sim.pending !== count) throw new Error('pending count mismatch');
  return { count, bytesPerEvent: (after - before) / count };
}

export type WaitingShape = 'bare' | GeneratorShape;

/**
 * Bytes per waiting process with `count` processes waiting (needs --expose-gc), the queue's
 * typed arrays included:
 * - bare: the generators alone, each run to its first yield and kept in an array of exactly
 *   `count` slots (8 bytes each, subtracted: what is left is the suspended generator itself);
 * - number / timeout: `count` engine processes, each started and waiting on its first delay
 *   (`yield delayUs`) or timeout (`yield sim.timeout(delayUs)`), everything the engine holds for
 *   them included (the process's slots in its table, its queue entry, the timeout signal).
 * The generator functions are the same shape in all three (one loop, one yield).
 */
export function waitingProcessBytes(
  shape: WaitingShape,
  count: number,
): { shape: WaitingShape; count: number; bytesPerProcess: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('waitingProcessBytes needs node --expose-gc');
  const sim = new Simulation({ seed: 1 });
  const stream = sim.streams.get('delays');
  function* numbers(): Generator<number, void, unknown> {
    for (;;) yield delay.sample(stream);
  }
  function* timeouts(): Generator<unknown, void, unknown> {
    for (;;) yield sim.timeout(delay.sample(stream));
  }
  const before = bytesInUse(gc);
  let keep: unknown[] | null = null;
  if (shape === 'bare') {
    // Filled first: a large `new Array(n)` left holey may be kept as a dictionary, costing more.
    keep = new Array<unknown>(count).fill(null);
    for (let i = 0; i < count; i++) {
      const generator = numbers();
      generator.next();
      keep[i] = generator;
    }
  } else {
    const worker = shape === 'timeout' ? timeouts : numbers;
    for (let i = 0; i < count; i++) sim.process(worker());
    sim.run({ maxEvents: count });
    if (sim.pending !== count) throw new Error('pending count mismatch');
  }
  const after = bytesInUse(gc);
  const slots = keep === null ? 0 : 8 * keep.length;
  return { shape, count, bytesPerProcess: (after - before - slots) / count };
}
