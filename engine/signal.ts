/**
 * Signals: one-shot events that processes and callbacks can wait on (SimPy's `Event`).
 *
 * A signal starts pending and is settled once, by `succeed(value)` or `fail(error)`, or by the
 * clock for a timeout. Settling does not run waiters at once: it schedules one `signal` event at
 * the current time (normal priority), and when that event runs every waiter is resumed, in the
 * order it started waiting. So waiters never run inside the code that settled the signal, and
 * their order is deterministic.
 *
 * Waiting on a signal whose event already ran resumes the waiter through a fresh event at the
 * current time, so a late waiter still sees the value, after everything already queued for now.
 *
 * A timeout (timeout.ts) is a signal the clock settles; a process that yields one at once may
 * adopt its entry, which changes nothing anyone can see: the signal is made plain again first
 * thing whenever it is looked at (`fireSeq` ADOPTED, `unadopt`).
 */
import { Priority } from './queue.js';
import type { Simulation } from './simulation.js';

/** A signal is pending until it is settled once, succeeded or failed. */
export type SignalState = 'pending' | 'succeeded' | 'failed';

type SignalCallback<T> = (signal: Signal<T>) => void;
/** A waiter: a process, by its slot in the simulation's table (process-table.ts), or a callback. */
type Waiter<T> = number | SignalCallback<T>;

/**
 * `Signal.fireSeq` before any entry is queued, once the waiters were notified, and while a
 * process has adopted the signal's entry (a timeout: timeout.ts).
 */
const NO_ENTRY = -1;
export const NOTIFIED = -2;
export const ADOPTED = -3;

/**
 * A one-shot event to wait on (SimPy's Event): settled once by `succeed`/`fail` (or the clock, for
 * a timeout); waiters resume through one event at the settling time, in the order they waited.
 *
 * Kept small, since `yield sim.timeout(d)` makes one per wait: a sole waiter is held as it is,
 * and an array is made only for a second one.
 */
export class Signal<T = unknown> {
  readonly sim: Simulation;
  readonly name: string;
  protected stateValue: SignalState = 'pending';
  /**
   * @internal The success value or the failure (a timeout holds its value here while pending);
   * `value` and `error` are the checked ways to read it.
   */
  outcome: unknown = undefined;
  /**
   * @internal The seq of the queued entry that will notify the waiters (>= 0; an entry is live
   * only while this holds its seq, which is how settling a timeout early cancels its clock),
   * NO_ENTRY, or NOTIFIED once that entry ran.
   */
  fireSeq = NO_ENTRY;
  /**
   * Waiters in arrival order, each a process with the wait token it had or a callback (token 0):
   * none, a sole waiter (its token in `soleToken`), or an array of (waiter, token) pairs. While
   * the signal is adopted (fireSeq ADOPTED: a timeout, timeout.ts), the adopting process and the
   * seq of its entry.
   */
  protected waiters: Waiter<T> | Array<Waiter<T> | number> | null = null;
  protected soleToken = 0;

  constructor(sim: Simulation, name = 'signal') {
    this.sim = sim;
    this.name = name;
  }

  get state(): SignalState {
    if (this.fireSeq === ADOPTED) this.unadopt();
    return this.stateValue;
  }

  get settled(): boolean {
    if (this.fireSeq === ADOPTED) this.unadopt();
    return this.stateValue !== 'pending';
  }

  /** The success value; throws when the signal is not succeeded. */
  get value(): T {
    if (this.fireSeq === ADOPTED) this.unadopt();
    if (this.stateValue !== 'succeeded')
      throw new Error(`signal ${this.name} has no value (state ${this.stateValue})`);
    return this.outcome as T;
  }

  /** The failure; throws when the signal is not failed. */
  get error(): unknown {
    if (this.fireSeq === ADOPTED) this.unadopt();
    if (this.stateValue !== 'failed')
      throw new Error(`signal ${this.name} has no error (state ${this.stateValue})`);
    return this.outcome;
  }

  succeed(value: T): this {
    this.settle('succeeded', value);
    return this;
  }

  fail(error: unknown): this {
    this.settle('failed', error);
    return this;
  }

  /** Runs `callback` when the signal is settled (at once, through an event, if it already is). */
  onSettled(callback: SignalCallback<T>): void {
    if (this.fireSeq === ADOPTED) this.unadopt();
    if (this.fireSeq === NOTIFIED) {
      this.sim.schedule(0, () => callback(this), { priority: Priority.normal, label: 'signal' });
      return;
    }
    this.addWaiter(callback, 0);
  }

  /** True when a process or callback is waiting for this signal to settle. */
  hasWaiters(): boolean {
    if (this.fireSeq === ADOPTED) this.unadopt();
    return this.waiters !== null;
  }

  /** @internal Called by a process (its slot) that yields this signal. */
  addProcessWaiter(slot: number, token: number): void {
    if (this.fireSeq === ADOPTED) this.unadopt();
    if (this.fireSeq === NOTIFIED) {
      this.sim.procs.resumeAfterSignal(slot, this, token, true);
      return;
    }
    this.addWaiter(slot, token);
  }

  /** @internal Schedules this signal to settle with `value` at `timeUs` (timeouts). */
  settleAt(timeUs: number, value: T): void {
    if (this.fireSeq !== NO_ENTRY || this.stateValue !== 'pending')
      throw new Error(`signal ${this.name} is already scheduled to settle`);
    this.outcome = value;
    this.fireSeq = this.sim.pushEntry(timeUs, Priority.normal, this);
  }

  /** @internal The value a trace listener sees for this signal's entry. */
  tracePayload(): unknown {
    return this.stateValue === 'failed' ? undefined : this.outcome;
  }

  /** @internal Runs when the signal's entry comes up (the simulation checked it is live). */
  fire(): void {
    // A timeout: the clock settles it now (a no-op for a signal settled by hand).
    if (this.stateValue === 'pending') this.stateValue = 'succeeded';
    this.fireSeq = NOTIFIED;
    const waiters = this.waiters;
    if (waiters === null) return;
    this.waiters = null;
    if (!Array.isArray(waiters)) {
      this.notify(waiters, this.soleToken);
      return;
    }
    for (let i = 0; i < waiters.length; i += 2)
      this.notify(waiters[i] as Waiter<T>, waiters[i + 1] as number);
  }

  private notify(waiter: Waiter<T>, token: number): void {
    if (typeof waiter === 'function') waiter(this);
    else this.sim.procs.resumeAfterSignal(waiter, this, token, false);
  }

  /**
   * Makes a signal whose entry a process adopted (fireSeq ADOPTED) a plain signal again, with the
   * same state, order and waiters it would have had as one: only a timeout is ever adopted.
   */
  protected unadopt(): void {
    throw new Error(`signal ${this.name} was adopted, and only a timeout can be`);
  }

  protected addWaiter(waiter: Waiter<T>, token: number): void {
    const waiters = this.waiters;
    if (waiters === null) {
      this.waiters = waiter;
      this.soleToken = token;
    } else if (Array.isArray(waiters)) {
      waiters.push(waiter, token);
    } else {
      this.waiters = [waiters, this.soleToken, waiter, token];
    }
  }

  private settle(state: 'succeeded' | 'failed', outcome: unknown): void {
    if (this.fireSeq === ADOPTED) this.unadopt();
    if (this.stateValue !== 'pending')
      throw new Error(`signal ${this.name} is already ${this.stateValue}`);
    this.stateValue = state;
    this.outcome = outcome;
    // A timeout settled early by hand: its clock entry dies, and it fires now instead.
    if (this.fireSeq >= 0) this.sim.dropEntry();
    this.fireSeq = this.sim.pushEntry(this.sim.nowUs, Priority.normal, this);
  }
}

/**
 * A signal that succeeds when every one of `signals` has succeeded (value: their values in input
 * order) and fails as soon as one fails (error: that one's error). Empty input succeeds at once.
 */
export function allOf(
  sim: Simulation,
  // biome-ignore lint/suspicious/noExplicitAny: processes and signals of every value type in one place: their generics are invariant, so unknown does not fit
  signals: ReadonlyArray<Signal<any>>,
  name = 'allOf',
): Signal<unknown[]> {
  const combined = new Signal<unknown[]>(sim, name);
  let remaining = signals.length;
  if (remaining === 0) return combined.succeed([]);
  for (const signal of signals) {
    signal.onSettled((s) => {
      if (combined.settled) return;
      if (s.state === 'failed') {
        combined.fail(s.error);
        return;
      }
      remaining--;
      if (remaining === 0) combined.succeed(signals.map((x) => x.value));
    });
  }
  return combined;
}

/**
 * A signal that settles like the first of `signals` to settle (by event order): its value is
 * `{ index, value }` of that signal; a failure fails it. Empty input is an error.
 */
export function anyOf(
  sim: Simulation,
  // biome-ignore lint/suspicious/noExplicitAny: processes and signals of every value type in one place: their generics are invariant, so unknown does not fit
  signals: ReadonlyArray<Signal<any>>,
  name = 'anyOf',
): Signal<{ index: number; value: unknown }> {
  if (signals.length === 0) throw new Error('anyOf needs at least one signal');
  const combined = new Signal<{ index: number; value: unknown }>(sim, name);
  signals.forEach((signal, index) => {
    signal.onSettled((s) => {
      if (combined.settled) return;
      if (s.state === 'failed') combined.fail(s.error);
      else combined.succeed({ index, value: s.value });
    });
  });
  return combined;
}
