/**
 * The event queue: scheduled events in one total order.
 *
 * Ordering rule: event A runs before event B when
 *   A.timeUs < B.timeUs, or
 *   A.timeUs = B.timeUs and A.priority < B.priority (a smaller number is more urgent), or
 *   both are equal and A.seq < B.seq,
 * where seq is the queue's insertion counter. So the order is total, and events at the same time
 * and priority run in the order they were scheduled (FIFO). A heap alone does not keep insertion
 * order among equal keys, which is why seq takes part in every comparison (heap.ts).
 *
 * An entry is (time, priority, seq, item): the item is what running it acts on, and says what
 * that is by its type (a number is a process's slot, which resumes: process-table.ts; a Signal
 * notifies its waiters, a ScheduledEvent runs its callback, a ProcessResume resumes a process
 * with a value). The queue knows nothing of
 * items; the simulation decides when it pops an entry whether it is still live (cancellation is
 * lazy: a cancelled entry stays queued and is dropped when it reaches the top).
 *
 * Bounds: at most MAX_QUEUED_EVENTS entries at once (pushing one more throws a RangeError naming
 * the bound); priorities are integers in [MIN_PRIORITY, MAX_PRIORITY] (the engine's queue packs
 * them with the seq into one number); seq stays below 2^44 (heap.ts; asserted).
 */
import { assertInvariant } from './assert.js';

/** Priorities are integers in this range (256 levels: the queue packs them beside the seq). */
export const MIN_PRIORITY = -128;
export const MAX_PRIORITY = 127;

/** Lower runs first among events at the same time. */
export const Priority = {
  urgent: -1,
  normal: 0,
  low: 1,
} as const;

/**
 * At most this many entries (cancelled ones included until they reach the top) are queued at
 * once: about 2.4 GB of queue (24 bytes an entry). A runaway loop hits this as a clear error instead of exhausting
 * memory unnoticed.
 */
export const MAX_QUEUED_EVENTS = 100_000_000;

/** True when `priority` fits the queue (an integer in [MIN_PRIORITY, MAX_PRIORITY]). */
export function isPriority(priority: number): boolean {
  return Number.isInteger(priority) && priority >= MIN_PRIORITY && priority <= MAX_PRIORITY;
}

/**
 * A scheduled callback: what `schedule`/`scheduleAt` return, held as a cancel handle. Processes
 * and signals queue entries without one (they are their own handles).
 */
export class ScheduledEvent {
  timeUs: number;
  priority: number;
  seq = -1;
  /** Trace label: `callback` or a caller's own. */
  label: string;
  payload: unknown;
  /** Set while the event is queued (cancelled or not). */
  queued = false;
  cancelled = false;
  readonly fn: (payload: unknown) => unknown;

  constructor(
    timeUs: number,
    priority: number,
    label: string,
    fn: (payload: unknown) => unknown,
    payload: unknown,
  ) {
    this.timeUs = timeUs;
    this.priority = priority;
    this.label = label;
    this.fn = fn;
    this.payload = payload;
  }
}

/** One queued entry, as `EventQueue.entries` lists them (inspection and tests only). */
export interface QueueEntry {
  readonly timeUs: number;
  readonly priority: number;
  readonly seq: number;
  readonly item: unknown;
}

/**
 * What the simulation needs of a queue. `pop` does not return an object (that would allocate one
 * per event): it moves the top entry into the `top*` fields, which stay valid until the next pop.
 */
export interface EventQueue {
  /** Entries queued, cancelled ones included. */
  readonly length: number;
  /** Inserts an entry after every entry that does not come after it; returns its seq. */
  push(timeUs: number, priority: number, item: unknown): number;
  /**
   * Inserts an entry under a seq this queue handed out earlier (a re-queued timeout, signal.ts):
   * it takes the place in the order that seq gives it.
   */
  pushWithSeq(timeUs: number, priority: number, seq: number, item: unknown): void;
  /**
   * Replaces the item of the entry of `seq` if that entry was the last pushed and nothing was
   * popped or pushed since (its slot is still known); false, and nothing changed, otherwise.
   */
  replaceLastItem(seq: number, item: unknown): boolean;
  /**
   * Whether the entry (timeUs, Priority.normal, seq) has been popped, if it was ever queued: the
   * entries of one time and priority pop in seq order (any pushed later has a larger seq), so
   * the last normal-priority entry popped says it.
   */
  normalPopped(timeUs: number, seq: number): boolean;
  /** Time of the top entry, or +Infinity when the queue is empty. */
  peekTime(): number;
  /** The top entry's seq and item (the queue must not be empty). */
  peekSeq(): number;
  peekItem(): unknown;
  /** Removes the top entry into the `top*` fields; false (fields unchanged) when empty. */
  pop(): boolean;
  readonly topTimeUs: number;
  readonly topPriority: number;
  readonly topSeq: number;
  readonly topItem: unknown;
  /** Every entry, in no particular order (a copy). */
  entries(): QueueEntry[];
}

export function compareEntries(a: QueueEntry, b: QueueEntry): number {
  return a.timeUs - b.timeUs || a.priority - b.priority || a.seq - b.seq;
}

/** Asserts the next seq is still exact (2^53 insertions: not reachable, but not silent). */
export function checkSeq(seq: number): void {
  assertInvariant(seq < Number.MAX_SAFE_INTEGER, 'event queue', 'seq exhausted');
}

/** An entry re-queued under its own seq (`pushWithSeq`) names one the queue handed out before. */
export function checkHandedOut(seq: number, nextSeq: number): void {
  assertInvariant(seq >= 0 && seq < nextSeq, 'event queue', `seq ${seq} was never handed out`);
}

/** The error of a full queue, naming the bound. */
export function queueFull(maxSize: number): RangeError {
  return new RangeError(
    `event queue is full (${maxSize} events queued; the bound is MAX_QUEUED_EVENTS)`,
  );
}
