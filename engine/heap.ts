/**
 * Binary min-heaps of scheduled events in the queue's order (time, priority, seq).
 *
 * `BinaryEventHeap` is the engine's default. It compares the three fields inline and moves a hole
 * rather than swapping; heap-js calls its comparator through a property on every sift step, and in
 * the engine's call chain (run -> advance -> queue -> heap) V8 did not inline it: on the engine
 * benchmark the same workload ran about 8% faster on this heap. `npm run bench` keeps the
 * measurement: row (a) runs on this heap, row (a2) on `HeapJsEventHeap`, side by side.
 *
 * Bounded: at most `maxSize` events (asserted), so a runaway loop cannot grow memory unnoticed.
 */
import { Heap } from 'heap-js';
import { compareEvents, type ScheduledEvent } from './queue.js';

export const MAX_QUEUED_EVENTS = 100_000_000;

/** What the queue needs of a heap. */
export interface EventHeap {
  readonly length: number;
  push(event: ScheduledEvent): void;
  pop(): ScheduledEvent | undefined;
  peek(): ScheduledEvent | undefined;
  /** Every event, in no particular order (a copy). */
  toArray(): ScheduledEvent[];
}

function before(a: ScheduledEvent, b: ScheduledEvent): boolean {
  return (
    a.timeUs < b.timeUs ||
    (a.timeUs === b.timeUs &&
      (a.priority < b.priority || (a.priority === b.priority && a.seq < b.seq)))
  );
}

export class BinaryEventHeap implements EventHeap {
  private readonly items: ScheduledEvent[] = [];

  constructor(readonly maxSize = MAX_QUEUED_EVENTS) {}

  get length(): number {
    return this.items.length;
  }

  peek(): ScheduledEvent | undefined {
    return this.items[0];
  }

  push(event: ScheduledEvent): void {
    const items = this.items;
    if (items.length >= this.maxSize)
      throw new RangeError(`event queue is full (${this.maxSize} events)`);
    let hole = items.length;
    items.push(event);
    while (hole > 0) {
      const parent = (hole - 1) >> 1;
      const up = items[parent]!;
      if (!before(event, up)) break;
      items[hole] = up;
      hole = parent;
    }
    items[hole] = event;
  }

  pop(): ScheduledEvent | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    const size = items.length;
    if (top === undefined || last === undefined || size === 0) return top;
    let hole = 0;
    for (;;) {
      let child = 2 * hole + 1;
      if (child >= size) break;
      const right = child + 1;
      if (right < size && before(items[right]!, items[child]!)) child = right;
      const down = items[child]!;
      if (!before(down, last)) break;
      items[hole] = down;
      hole = child;
    }
    items[hole] = last;
    return top;
  }

  toArray(): ScheduledEvent[] {
    return [...this.items];
  }
}

/** The same contract on heap-js (kept for the benchmark that justifies BinaryEventHeap). */
export class HeapJsEventHeap implements EventHeap {
  private readonly heap = new Heap<ScheduledEvent>(compareEvents);

  get length(): number {
    return this.heap.length;
  }

  peek(): ScheduledEvent | undefined {
    return this.heap.peek();
  }

  push(event: ScheduledEvent): void {
    this.heap.add(event);
  }

  pop(): ScheduledEvent | undefined {
    return this.heap.pop();
  }

  toArray(): ScheduledEvent[] {
    return this.heap.toArray();
  }
}
