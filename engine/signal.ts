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
 */
import type { Process } from './process.js';
import { EventKind, Priority, ScheduledEvent } from './queue.js';
import type { Simulation } from './simulation.js';

/** A signal is pending until it is settled once, succeeded or failed. */
export type SignalState = 'pending' | 'succeeded' | 'failed';

type SignalCallback<T> = (signal: Signal<T>) => void;

/**
 * A one-shot event to wait on (SimPy's Event): settled once by `succeed`/`fail` (or the clock, for
 * a timeout); waiters resume through one event at the settling time, in the order they waited.
 */
export class Signal<T = unknown> {
  readonly sim: Simulation;
  readonly name: string;
  private stateValue: SignalState = 'pending';
  private result: T | undefined = undefined;
  private errorValue: unknown = undefined;
  /** True once the settling event ran and waiters were notified. */
  private notified = false;
  private fireEvent: ScheduledEvent | null = null;
  // Waiters in arrival order: a process with the wait token it had, or a callback.
  // biome-ignore lint/suspicious/noExplicitAny: processes and signals of every value type in one place: their generics are invariant, so unknown does not fit
  private readonly waiterProcesses: Array<Process<any> | null> = [];
  private readonly waiterTokens: number[] = [];
  private readonly waiterCallbacks: Array<SignalCallback<T> | null> = [];

  constructor(sim: Simulation, name = 'signal') {
    this.sim = sim;
    this.name = name;
  }

  get state(): SignalState {
    return this.stateValue;
  }

  get settled(): boolean {
    return this.stateValue !== 'pending';
  }

  /** The success value; throws when the signal is not succeeded. */
  get value(): T {
    if (this.stateValue !== 'succeeded')
      throw new Error(`signal ${this.name} has no value (state ${this.stateValue})`);
    return this.result as T;
  }

  /** The failure; throws when the signal is not failed. */
  get error(): unknown {
    if (this.stateValue !== 'failed')
      throw new Error(`signal ${this.name} has no error (state ${this.stateValue})`);
    return this.errorValue;
  }

  succeed(value: T): this {
    this.settle('succeeded', value, undefined);
    return this;
  }

  fail(error: unknown): this {
    this.settle('failed', undefined, error);
    return this;
  }

  /** Runs `callback` when the signal is settled (at once, through an event, if it already is). */
  onSettled(callback: SignalCallback<T>): void {
    if (this.notified) {
      this.sim.schedule(0, () => callback(this), { priority: Priority.normal, label: 'signal' });
      return;
    }
    this.waiterProcesses.push(null);
    this.waiterTokens.push(0);
    this.waiterCallbacks.push(callback);
  }

  /** True when a process or callback is waiting for this signal to settle. */
  hasWaiters(): boolean {
    return this.waiterCallbacks.length > 0;
  }

  /** @internal Called by a process that yields this signal. */
  // biome-ignore lint/suspicious/noExplicitAny: processes and signals of every value type in one place: their generics are invariant, so unknown does not fit
  addProcessWaiter(process: Process<any>, token: number): void {
    if (this.notified) {
      process.resumeAfterSignal(this, token, true);
      return;
    }
    this.waiterProcesses.push(process);
    this.waiterTokens.push(token);
    this.waiterCallbacks.push(null);
  }

  /** @internal Schedules this signal to settle with `value` at `timeUs` (timeouts). */
  settleAt(timeUs: number, value: T): void {
    if (this.fireEvent !== null)
      throw new Error(`signal ${this.name} is already scheduled to settle`);
    this.fireEvent = new ScheduledEvent(
      timeUs,
      Priority.normal,
      EventKind.FireSignal,
      'timeout',
      null,
      this,
      value,
    );
    this.sim.enqueue(this.fireEvent);
  }

  /** @internal Runs when the signal's event comes up. */
  fire(payload: unknown): void {
    if (this.stateValue === 'pending') {
      // A timeout: the clock settles it now.
      this.stateValue = 'succeeded';
      this.result = payload as T;
    }
    this.notified = true;
    const count = this.waiterCallbacks.length;
    for (let i = 0; i < count; i++) {
      const process = this.waiterProcesses[i];
      if (process !== null && process !== undefined) {
        process.resumeAfterSignal(this, this.waiterTokens[i]!, false);
      } else {
        this.waiterCallbacks[i]!(this);
      }
    }
    this.waiterProcesses.length = 0;
    this.waiterTokens.length = 0;
    this.waiterCallbacks.length = 0;
  }

  private settle(state: 'succeeded' | 'failed', value: T | undefined, error: unknown): void {
    if (this.stateValue !== 'pending')
      throw new Error(`signal ${this.name} is already ${this.stateValue}`);
    this.stateValue = state;
    this.result = value;
    this.errorValue = error;
    if (this.fireEvent !== null) {
      // A timeout settled early by hand: it fires now instead of at its time.
      this.sim.cancel(this.fireEvent);
    }
    this.fireEvent = new ScheduledEvent(
      this.sim.nowUs,
      Priority.normal,
      EventKind.FireSignal,
      'signal',
      null,
      this,
      value,
    );
    this.sim.enqueue(this.fireEvent);
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
