/**
 * The tasks an observation lists as open (arrived and awaiting an answer), in plan order, kept as
 * tasks open, close and gain texts: an observation then copies the list (one block copy) instead
 * of rebuilding it task by task, which read every open task's state at every decision (with
 * thousands open, the largest part of a decision's cost). Closing leaves a tombstone that the
 * next listing sweeps out as it copies, so no event shifts the list: only a listing, which copies
 * it anyway, costs its length.
 */
import { assertInvariant } from '../../engine/assert.js';
import type { OpenTask } from '../protocol.js';

/** What a closed task's position holds until the next listing sweeps it out. */
const CLOSED: OpenTask = Object.freeze({ id: '', messages: Object.freeze([]) });

export class OpenTaskList {
  /** Plan indices, increasing; and by position, what is listed (null: to build, CLOSED: gone). */
  private readonly indices: number[] = [];
  private readonly items: Array<OpenTask | null> = [];
  /** Tasks marked to be built again since the last listing (some may have closed since). */
  private stale: number[] = [];
  private nulls = 0;
  private closed = 0;
  /** The list last handed out (frozen, shared until a change), or null after a change. */
  private view: readonly OpenTask[] | null = null;

  get size(): number {
    return this.indices.length - this.closed;
  }

  has(index: number): boolean {
    const k = this.lowerBound(index);
    return this.indices[k] === index && this.items[k] !== CLOSED;
  }

  /** Task `index` is open, and what it lists is to be built again (it is new, or its texts changed). */
  open(index: number): void {
    const k = this.lowerBound(index);
    const { indices, items } = this;
    if (indices[k] !== index) {
      // Shifting by hand, as IndexSet does (splice's fixed cost dominates on short lists); tasks
      // mostly open in plan order, at the end.
      indices.push(index);
      items.push(null);
      for (let i = indices.length - 1; i > k; i--) {
        indices[i] = indices[i - 1]!;
        items[i] = items[i - 1]!;
      }
      indices[k] = index;
      items[k] = null;
      this.nulls++;
    } else if (items[k] !== null) {
      if (items[k] === CLOSED) this.closed--;
      items[k] = null;
      this.nulls++;
    }
    this.stale.push(index);
    this.view = null;
  }

  close(index: number): void {
    const k = this.lowerBound(index);
    const item = this.items[k];
    if (this.indices[k] !== index || item === CLOSED) return;
    if (item === null) this.nulls--;
    this.items[k] = CLOSED;
    this.closed++;
    this.view = null;
  }

  /** The open tasks as observations list them, each stale one built by `build(index)` now. */
  list(build: (index: number) => OpenTask): readonly OpenTask[] {
    if (this.view !== null) return this.view;
    for (const index of this.stale) {
      const k = this.lowerBound(index);
      if (this.indices[k] === index && this.items[k] === null) {
        this.items[k] = build(index);
        this.nulls--;
      }
    }
    this.stale = [];
    assertInvariant(this.nulls === 0, 'open tasks', `${this.nulls} listed task(s) left unbuilt`);
    if (this.closed > 0) this.sweep();
    this.view = Object.freeze((this.items as OpenTask[]).slice());
    return this.view;
  }

  /** Drops the closed positions, in one pass. */
  private sweep(): void {
    const { indices, items } = this;
    let write = 0;
    for (let read = 0; read < items.length; read++) {
      if (items[read] === CLOSED) continue;
      indices[write] = indices[read]!;
      items[write++] = items[read]!;
    }
    indices.length = write;
    items.length = write;
    this.closed = 0;
  }

  private lowerBound(index: number): number {
    let lo = 0;
    let hi = this.indices.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.indices[mid]! < index) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
