/**
 * Event queues in the queue's order (time, priority, seq): the engine's own, and one on heap-js.
 *
 * `TypedEventQueue` is the engine's default: a 4-ary min-heap kept as a struct of arrays, sifting
 * a hole rather than swapping. Each entry's two keys sit side by side in one Float64Array, time
 * then `order` = (priority - MIN_PRIORITY) * 2^44 + seq (exact: below 2^52), so one comparison of
 * two numbers orders by priority then seq, and a sift step on a deep heap touches one cache line
 * of keys and one of items (the kind is the item's to say, not a third array's). It allocates
 * nothing per event. heap-js is the project's chosen heap, and this queue replaces it only because
 * the bench shows heap-js to be the bottleneck with deep queues: `npm run bench` runs the engine
 * on both queues side by side with 10, 100k and 1M events pending, beside a bare typed-array heap
 * (bench/engine-workload.ts); heap-js, with an object per entry and its comparator called through
 * a property on every sift step, is slower at every depth (bench/RESULTS.md).
 *
 * Bounded: at most `maxSize` entries (MAX_QUEUED_EVENTS by default; one more is a RangeError
 * naming the bound), and at most 2^44 insertions over the queue's life (an invariant error);
 * capacity grows by a quarter as needed (GROWTH_SHIFT: at most a quarter of the slots, 24 bytes
 * each, stand empty after a growth, where doubling left up to half) and is kept (a queue that was
 * once deep keeps its arrays).
 */
import { Heap } from 'heap-js';
import {
  type EventQueue,
  MAX_QUEUED_EVENTS,
  MIN_PRIORITY,
  Priority,
  type QueueEntry,
  checkHandedOut,
  checkSeq,
  compareEntries,
  queueFull,
} from './queue.js';
import { assertInvariant } from './assert.js';

const INITIAL_CAPACITY = 64;
/**
 * Capacity grows by capacity >> GROWTH_SHIFT (a quarter): each entry is copied about four times
 * over the queue's growth, once per growth, which only a queue still getting deeper pays.
 */
const GROWTH_SHIFT = 2;
/** Seqs stay below 2^44 (1.7e13 insertions) so that `order` is exact. */
export const SEQ_SPAN = 2 ** 44;
const INV_SEQ_SPAN = 2 ** -44;
/** The order of a normal-priority entry of seq 0. */
const NORMAL_ORDER = (Priority.normal - MIN_PRIORITY) * SEQ_SPAN;

export class TypedEventQueue implements EventQueue {
  topTimeUs = 0;
  /** The top entry's (priority - MIN_PRIORITY) * SEQ_SPAN + seq. */
  private topOrder = 0;
  topItem: unknown = undefined;
  /** Entry i's time at 2i, its order at 2i + 1. */
  private keys: Float64Array;
  /**
   * Items by slot, as many slots as the keys have (grown with them, so its size is not left to
   * the array's own growth); slots at `size` and beyond hold undefined (nothing kept alive).
   */
  private items: unknown[];
  private size = 0;
  private nextSeq = 0;
  /** The seq of the last entry pushed and the slot it landed in; -1 once anything moved since. */
  private lastSeq = -1;
  private lastHole = 0;
  /** Time and order of the last normal-priority entry popped (-1: none yet). */
  private normalTimeUs = -1;
  private normalOrder = 0;

  constructor(readonly maxSize = MAX_QUEUED_EVENTS) {
    const capacity = Math.min(INITIAL_CAPACITY, maxSize);
    this.keys = new Float64Array(2 * capacity);
    this.items = new Array<unknown>(capacity).fill(undefined);
  }

  get length(): number {
    return this.size;
  }

  get topPriority(): number {
    return Math.floor(this.topOrder * INV_SEQ_SPAN) + MIN_PRIORITY;
  }

  get topSeq(): number {
    return this.topOrder - Math.floor(this.topOrder * INV_SEQ_SPAN) * SEQ_SPAN;
  }

  peekTime(): number {
    return this.size === 0 ? Number.POSITIVE_INFINITY : this.keys[0]!;
  }

  peekSeq(): number {
    const order = this.keys[1]!;
    return order - Math.floor(order * INV_SEQ_SPAN) * SEQ_SPAN;
  }

  peekItem(): unknown {
    return this.items[0];
  }

  push(timeUs: number, priority: number, item: unknown): number {
    if (2 * this.size === this.keys.length) this.grow();
    const seq = this.nextSeq++;
    assertInvariant(seq < SEQ_SPAN, 'event queue', `more than 2^44 insertions`);
    this.insert(timeUs, (priority - MIN_PRIORITY) * SEQ_SPAN + seq, item);
    this.lastSeq = seq;
    return seq;
  }

  pushWithSeq(timeUs: number, priority: number, seq: number, item: unknown): void {
    checkHandedOut(seq, this.nextSeq);
    if (2 * this.size === this.keys.length) this.grow();
    this.insert(timeUs, (priority - MIN_PRIORITY) * SEQ_SPAN + seq, item);
    this.lastSeq = -1;
  }

  replaceLastItem(seq: number, item: unknown): boolean {
    if (seq !== this.lastSeq) return false;
    this.items[this.lastHole] = item;
    return true;
  }

  normalPopped(timeUs: number, seq: number): boolean {
    const t = this.normalTimeUs;
    return t > timeUs || (t === timeUs && this.normalOrder >= NORMAL_ORDER + seq);
  }

  /** Sifts a hole up from the end for the entry (timeUs, order); notes where it landed. */
  private insert(timeUs: number, order: number, item: unknown): void {
    const { keys, items } = this;
    let hole = this.size++;
    while (hole > 0) {
      const parent = (hole - 1) >> 2;
      const parentTime = keys[2 * parent]!;
      if (timeUs > parentTime || (timeUs === parentTime && order > keys[2 * parent + 1]!)) break;
      keys[2 * hole] = parentTime;
      keys[2 * hole + 1] = keys[2 * parent + 1]!;
      items[hole] = items[parent];
      hole = parent;
    }
    keys[2 * hole] = timeUs;
    keys[2 * hole + 1] = order;
    items[hole] = item;
    this.lastHole = hole;
  }

  pop(): boolean {
    const last = this.size - 1;
    if (last < 0) return false;
    const { keys, items } = this;
    const topOrder = keys[1]!;
    this.topTimeUs = keys[0]!;
    this.topOrder = topOrder;
    this.topItem = items[0];
    this.size = last;
    this.lastSeq = -1;
    if (topOrder >= NORMAL_ORDER && topOrder < NORMAL_ORDER + SEQ_SPAN) {
      this.normalTimeUs = this.topTimeUs;
      this.normalOrder = topOrder;
    }
    const timeUs = keys[2 * last]!;
    const order = keys[2 * last + 1]!;
    const item = items[last];
    items[last] = undefined;
    if (last === 0) return true;
    let hole = 0;
    for (;;) {
      const first = 4 * hole + 1;
      if (first >= last) break;
      const end = Math.min(first + 4, last);
      let best = first;
      let bestTime = keys[2 * first]!;
      let bestOrder = keys[2 * first + 1]!;
      for (let c = first + 1; c < end; c++) {
        const t = keys[2 * c]!;
        if (t > bestTime) continue;
        const o = keys[2 * c + 1]!;
        if (t < bestTime || o < bestOrder) {
          best = c;
          bestTime = t;
          bestOrder = o;
        }
      }
      if (bestTime > timeUs || (bestTime === timeUs && bestOrder > order)) break;
      keys[2 * hole] = bestTime;
      keys[2 * hole + 1] = bestOrder;
      items[hole] = items[best];
      hole = best;
    }
    keys[2 * hole] = timeUs;
    keys[2 * hole + 1] = order;
    items[hole] = item;
    return true;
  }

  entries(): QueueEntry[] {
    const out: QueueEntry[] = [];
    for (let i = 0; i < this.size; i++) {
      const order = this.keys[2 * i + 1]!;
      const level = Math.floor(order * INV_SEQ_SPAN);
      out.push({
        timeUs: this.keys[2 * i]!,
        priority: level + MIN_PRIORITY,
        seq: order - level * SEQ_SPAN,
        item: this.items[i],
      });
    }
    return out;
  }

  private grow(): void {
    const capacity = this.keys.length / 2;
    if (capacity >= this.maxSize) throw queueFull(this.maxSize);
    const next = Math.min(capacity + (capacity >> GROWTH_SHIFT), this.maxSize);
    const keys = new Float64Array(2 * next);
    keys.set(this.keys);
    this.keys = keys;
    const items = new Array<unknown>(next).fill(undefined);
    for (let i = 0; i < capacity; i++) items[i] = this.items[i];
    this.items = items;
  }
}

interface HeapEntry {
  timeUs: number;
  priority: number;
  seq: number;
  item: unknown;
}

/** The same contract on heap-js, an object per entry (kept for the bench that justifies ours). */
export class HeapJsEventQueue implements EventQueue {
  topTimeUs = 0;
  topPriority = 0;
  topSeq = 0;
  topItem: unknown = undefined;
  private readonly heap = new Heap<HeapEntry>(compareEntries);
  private nextSeq = 0;
  /** The entry pushed last, while nothing was popped since (heap-js keeps entries' identity). */
  private last: HeapEntry | null = null;
  private normalTimeUs = -1;
  private normalSeq = -1;

  constructor(readonly maxSize = MAX_QUEUED_EVENTS) {}

  get length(): number {
    return this.heap.length;
  }

  peekTime(): number {
    return this.heap.peek()?.timeUs ?? Number.POSITIVE_INFINITY;
  }

  peekSeq(): number {
    return this.heap.peek()!.seq;
  }

  peekItem(): unknown {
    return this.heap.peek()!.item;
  }

  push(timeUs: number, priority: number, item: unknown): number {
    if (this.heap.length >= this.maxSize) throw queueFull(this.maxSize);
    const seq = this.nextSeq++;
    checkSeq(seq);
    this.insert({ timeUs, priority, seq, item });
    return seq;
  }

  pushWithSeq(timeUs: number, priority: number, seq: number, item: unknown): void {
    checkHandedOut(seq, this.nextSeq);
    if (this.heap.length >= this.maxSize) throw queueFull(this.maxSize);
    this.insert({ timeUs, priority, seq, item });
    this.last = null;
  }

  replaceLastItem(seq: number, item: unknown): boolean {
    if (this.last === null || this.last.seq !== seq) return false;
    this.last.item = item;
    return true;
  }

  normalPopped(timeUs: number, seq: number): boolean {
    const t = this.normalTimeUs;
    return t > timeUs || (t === timeUs && this.normalSeq >= seq);
  }

  pop(): boolean {
    const entry = this.heap.pop();
    if (entry === undefined) return false;
    this.topTimeUs = entry.timeUs;
    this.topPriority = entry.priority;
    this.topSeq = entry.seq;
    this.topItem = entry.item;
    this.last = null;
    if (entry.priority === Priority.normal) {
      this.normalTimeUs = entry.timeUs;
      this.normalSeq = entry.seq;
    }
    return true;
  }

  private insert(entry: HeapEntry): void {
    this.heap.add(entry);
    this.last = entry;
  }

  entries(): QueueEntry[] {
    return this.heap.toArray().map((e) => ({ ...e }));
  }
}
