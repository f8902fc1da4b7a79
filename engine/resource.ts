/**
 * A resource with a fixed number of slots and a FIFO wait queue (SimPy's `Resource`).
 *
 * `acquire(onGranted)` takes a slot: when one is free the grant is immediate (the callback runs
 * before `acquire` returns); otherwise the request joins the back of the queue. `release()` gives
 * the slot to the request at the front, whose callback runs inside `release`. Requests are thus
 * granted strictly in arrival order, and `inUse` never exceeds `capacity` (asserted).
 *
 * The queue is bounded (`maxQueued`): a request beyond it is an error, not unbounded growth.
 * `capacity` may be `Infinity` for an unlimited resource.
 */
/** Misuse of a resource: a bad capacity, a release with no slot in use, or a full wait queue. */
export class ResourceError extends Error {
  override name = 'ResourceError';
}

export type GrantCallback = () => void;

/**
 * Granted requests kept at the front of the queue before it is compacted. A move shifts the requests
 * still waiting, no more than were granted since the last move: a constant cost per grant.
 */
const COMPACT_AFTER = 64;

/**
 * Slots with a FIFO wait queue (SimPy's Resource): `acquire` grants a free slot at once or queues
 * the request; `release` grants the next in arrival order. In use never exceeds capacity.
 */
export class Resource {
  readonly name: string;
  readonly capacity: number;
  readonly maxQueued: number;
  private inUseCount = 0;
  private peakInUse = 0;
  /**
   * Requests waiting are `waiting[waitingHead..]`; the granted ones before the head are dropped
   * when the queue empties, or in one move once there are COMPACT_AFTER of them and no fewer than
   * those waiting: a queue that never empties (a tool overloaded for a whole run) keeps at most
   * max(COMPACT_AFTER, queued) granted requests, not every request it ever held.
   */
  private readonly waiting: GrantCallback[] = [];
  private waitingHead = 0;

  constructor(name: string, capacity: number, maxQueued = 1_000_000) {
    if (!(capacity === Infinity || (Number.isSafeInteger(capacity) && capacity >= 1))) {
      throw new ResourceError(
        `resource ${name}: capacity must be a positive integer or Infinity, got ${capacity}`,
      );
    }
    this.name = name;
    this.capacity = capacity;
    this.maxQueued = maxQueued;
  }

  get inUse(): number {
    return this.inUseCount;
  }

  /** Largest `inUse` seen so far. */
  get peak(): number {
    return this.peakInUse;
  }

  get queued(): number {
    return this.waiting.length - this.waitingHead;
  }

  /** Takes a slot now or when one frees up, in FIFO order; `onGranted` runs at grant. */
  acquire(onGranted: GrantCallback): void {
    if (this.inUseCount < this.capacity && this.queued === 0) {
      this.grant(onGranted);
      return;
    }
    if (this.queued >= this.maxQueued)
      throw new ResourceError(
        `resource ${this.name}: more than ${this.maxQueued} requests waiting`,
      );
    this.waiting.push(onGranted);
  }

  /** Frees a slot and grants it to the longest-waiting request, if any. */
  release(): void {
    if (this.inUseCount <= 0)
      throw new ResourceError(`resource ${this.name}: release without a slot in use`);
    this.inUseCount--;
    if (this.queued > 0) {
      const next = this.waiting[this.waitingHead]!;
      this.waitingHead++;
      if (this.waitingHead === this.waiting.length) {
        this.waiting.length = 0;
        this.waitingHead = 0;
      } else if (this.waitingHead >= COMPACT_AFTER && this.waitingHead * 2 >= this.waiting.length) {
        this.waiting.copyWithin(0, this.waitingHead);
        this.waiting.length -= this.waitingHead;
        this.waitingHead = 0;
      }
      this.grant(next);
    }
  }

  private grant(onGranted: GrantCallback): void {
    this.inUseCount++;
    if (this.inUseCount > this.capacity)
      throw new ResourceError(
        `resource ${this.name}: ${this.inUseCount} in use exceeds capacity ${this.capacity}`,
      );
    if (this.inUseCount > this.peakInUse) this.peakInUse = this.inUseCount;
    onGranted();
  }
}
