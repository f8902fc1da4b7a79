/**
 * The event queue: a binary heap of scheduled events in one total order.
 *
 * Ordering rule: event A runs before event B when
 *   A.timeUs < B.timeUs, or
 *   A.timeUs = B.timeUs and A.priority < B.priority (a smaller number is more urgent), or
 *   both are equal and A.seq < B.seq,
 * where seq is the queue's insertion counter. So the order is total, and events at the same time
 * and priority run in the order they were scheduled (FIFO). A heap alone does not keep insertion
 * order among equal keys, which is why seq takes part in every comparison (heap.ts).
 *
 * Cancellation is O(1) and lazy: a cancelled event stays in the heap, flagged, and is dropped when
 * it reaches the top. `size` counts live events only.
 */
import { BinaryEventHeap, type EventHeap } from './heap.js';

/** What an event does when it runs; the simulation switches on this (a small int, not a closure). */
export const EventKind = {
  Callback: 0,
  ResumeProcess: 1,
  ThrowIntoProcess: 2,
  FireSignal: 3,
} as const;
export type EventKind = (typeof EventKind)[keyof typeof EventKind];

/** Lower runs first among events at the same time. */
export const Priority = {
  urgent: -1,
  normal: 0,
  low: 1,
} as const;

/**
 * One scheduled event. All fields are set in the constructor so every instance shares one hidden
 * class (the comparator's call sites stay monomorphic). Callers hold it only as a cancel handle.
 */
export class ScheduledEvent {
  timeUs: number;
  priority: number;
  seq = -1;
  kind: EventKind;
  /** Trace label: `callback`, `process`, `signal`, or a caller's own. */
  label: string;
  payload: unknown;
  /** Set while the event is in the heap (cancelled or not). */
  queued = false;
  cancelled = false;
  /** Callback events: the function. Other kinds: null. */
  fn: ((payload: unknown) => unknown) | null;
  /** Process and signal events: the object acted on. */
  target: unknown;

  constructor(
    timeUs: number,
    priority: number,
    kind: EventKind,
    label: string,
    fn: ((payload: unknown) => unknown) | null,
    target: unknown,
    payload: unknown,
  ) {
    this.timeUs = timeUs;
    this.priority = priority;
    this.kind = kind;
    this.label = label;
    this.fn = fn;
    this.target = target;
    this.payload = payload;
  }
}

export function compareEvents(a: ScheduledEvent, b: ScheduledEvent): number {
  return a.timeUs - b.timeUs || a.priority - b.priority || a.seq - b.seq;
}

export class EventQueue {
  private readonly heap: EventHeap;
  private nextSeq = 0;
  private cancelledInHeap = 0;

  constructor(heap: EventHeap = new BinaryEventHeap()) {
    this.heap = heap;
  }

  /** Live (non-cancelled) events waiting to run. */
  get size(): number {
    return this.heap.length - this.cancelledInHeap;
  }

  /** Stamps the next insertion seq on `event` and inserts it. */
  push(event: ScheduledEvent): void {
    if (event.queued) throw new Error('event is already queued');
    event.seq = this.nextSeq++;
    event.queued = true;
    event.cancelled = false;
    this.heap.push(event);
  }

  /** Removes and returns the next live event, or undefined when none is left. */
  pop(): ScheduledEvent | undefined {
    for (;;) {
      const event = this.heap.pop();
      if (event === undefined) return undefined;
      event.queued = false;
      if (!event.cancelled) return event;
      this.cancelledInHeap--;
    }
  }

  /** Puts back an event just taken by `pop` (same seq, so its place in the order is unchanged). */
  unpop(event: ScheduledEvent): void {
    event.queued = true;
    this.heap.push(event);
  }

  /** The next live event without removing it (drops cancelled ones from the top). */
  peek(): ScheduledEvent | undefined {
    for (;;) {
      const event = this.heap.peek();
      if (event === undefined || !event.cancelled) return event;
      this.heap.pop();
      event.queued = false;
      this.cancelledInHeap--;
    }
  }

  /** Cancels a queued event; returns false when it already ran or was already cancelled. */
  cancel(event: ScheduledEvent): boolean {
    if (!event.queued || event.cancelled) return false;
    event.cancelled = true;
    this.cancelledInHeap++;
    return true;
  }

  /** Live events in run order (a copy; for inspection and tests, not the hot path). */
  toSortedArray(): ScheduledEvent[] {
    return this.heap
      .toArray()
      .filter((e) => !e.cancelled)
      .sort(compareEvents);
  }
}
