/**
 * Generator-based processes (SimPy's `Process`).
 *
 * A process is a generator that yields what it waits for:
 * - a number: a delay in microseconds (the fast path: no allocation, the process's own event is
 *   reused); resumes with `undefined`;
 * - a `Signal` (a timeout, an `allOf`/`anyOf`, another process's `done`): resumes with its value,
 *   or has its error thrown in;
 * - a `Process`: waits for it to finish, like yielding its `done`;
 * - a Promise (an external decision, such as a model call): the simulation awaits it without
 *   advancing time and runs nothing else meanwhile; only `Simulation.runAsync` allows this.
 *
 * A process starts through an urgent event at the time it is created, so processes created at the
 * same instant start in creation order, ahead of normal events at that instant.
 *
 * `interrupt(cause)` abandons whatever the process waits on and throws an `Interrupt` into it at
 * the current time (urgent priority). The process may catch it and go on.
 *
 * When the generator returns, `done` succeeds with the return value; when it throws, `done` fails,
 * and if nothing waits on `done` at that moment the error escapes from `run` (as in SimPy, a
 * crash nobody handles is not silently dropped).
 */
import { EventKind, Priority, ScheduledEvent } from './queue.js';
import { Signal } from './signal.js';
import type { Simulation } from './simulation.js';

/**
 * The generator a process runs: it yields what it waits for (a delay in µs, a Signal, a Process,
 * or under `runAsync` a Promise) and returns the process's value.
 */
// biome-ignore lint/suspicious/noExplicitAny: the value a process resumes with is the yielded signal's, typed where it is yielded
export type ProcessGenerator<R = unknown> = Generator<unknown, R, any>;

/** Thrown into a process by `interrupt`. */
export class Interrupt extends Error {
  override name = 'Interrupt';
  /** What the interrupter passed. */
  readonly reason: unknown;
  constructor(reason: unknown) {
    super(`interrupted: ${String(reason)}`);
    this.reason = reason;
  }
}

/** A process died and nobody was waiting on it. */
export class ProcessError extends Error {
  override name = 'ProcessError';
  constructor(processName: string, cause: unknown) {
    super(
      `process ${processName} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}

/** A process is `running` until its generator returns or throws. */
export type ProcessState = 'running' | 'finished';

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * A generator process (`Simulation.process`): starts at the time it is created, resumes when what
 * it yielded is done, and settles `done` with its return value or error; `interrupt` throws an
 * Interrupt into it.
 */
export class Process<R = unknown> {
  readonly sim: Simulation;
  readonly name: string;
  readonly done: Signal<R>;
  private readonly generator: ProcessGenerator<R>;
  private finished = false;
  /** Bumped on every new wait, so a stale wake-up (after an interrupt) is ignored. */
  private waitToken = 0;
  /** The queued event that will resume this process next, if any (cancelled by interrupt). */
  private pendingEvent: ScheduledEvent | null = null;
  /** Reused for delays; replaced when an interrupt cancels it while queued. */
  private wakeEvent: ScheduledEvent;

  constructor(sim: Simulation, generator: ProcessGenerator<R>, name: string) {
    this.sim = sim;
    this.name = name;
    this.generator = generator;
    this.done = new Signal<R>(sim, `${name}.done`);
    this.wakeEvent = new ScheduledEvent(
      sim.nowUs,
      Priority.urgent,
      EventKind.ResumeProcess,
      'process',
      null,
      this,
      undefined,
    );
    this.pendingEvent = this.wakeEvent;
    sim.enqueue(this.wakeEvent);
  }

  get state(): ProcessState {
    return this.finished ? 'finished' : 'running';
  }

  get isAlive(): boolean {
    return !this.finished;
  }

  /** Throws `Interrupt(cause)` into the process at the current time. */
  interrupt(cause: unknown = 'interrupt'): void {
    if (this.finished)
      throw new Error(`process ${this.name} has finished and cannot be interrupted`);
    if (this.pendingEvent !== null) {
      this.sim.cancel(this.pendingEvent);
      if (this.pendingEvent === this.wakeEvent) {
        this.wakeEvent = new ScheduledEvent(
          0,
          Priority.normal,
          EventKind.ResumeProcess,
          'process',
          null,
          this,
          undefined,
        );
      }
      this.pendingEvent = null;
    }
    this.waitToken++;
    const event = new ScheduledEvent(
      this.sim.nowUs,
      Priority.urgent,
      EventKind.ThrowIntoProcess,
      'interrupt',
      null,
      this,
      new Interrupt(cause),
    );
    this.pendingEvent = event;
    this.sim.enqueue(event);
  }

  /** @internal Runs the generator until its next yield. */
  step(value: unknown, isError: boolean): void {
    this.pendingEvent = null;
    let next: IteratorResult<unknown, R>;
    try {
      next = isError ? this.generator.throw(value) : this.generator.next(value);
    } catch (error) {
      this.finished = true;
      if (!this.done.hasWaiters()) throw new ProcessError(this.name, error);
      this.done.fail(error);
      return;
    }
    if (next.done === true) {
      this.finished = true;
      this.done.succeed(next.value);
      return;
    }
    this.wait(next.value);
  }

  /** @internal A signal this process waits on has settled. */
  // biome-ignore lint/suspicious/noExplicitAny: processes and signals of every value type in one place: their generics are invariant, so unknown does not fit
  resumeAfterSignal(signal: Signal<any>, token: number, viaEvent: boolean): void {
    if (token !== this.waitToken || this.finished) return;
    const isError = signal.state === 'failed';
    const value = isError ? signal.error : signal.value;
    if (!viaEvent) {
      this.step(value, isError);
      return;
    }
    const event = new ScheduledEvent(
      this.sim.nowUs,
      Priority.normal,
      isError ? EventKind.ThrowIntoProcess : EventKind.ResumeProcess,
      'process',
      null,
      this,
      value,
    );
    this.pendingEvent = event;
    this.sim.enqueue(event);
  }

  private wait(yielded: unknown): void {
    const token = ++this.waitToken;
    if (typeof yielded === 'number') {
      const event = this.wakeEvent;
      event.timeUs = this.sim.delayToTime(yielded);
      // The wake event starts urgent (to start the process); every later wake is normal.
      if (event.priority !== Priority.normal) event.priority = Priority.normal;
      this.pendingEvent = event;
      this.sim.enqueueFuture(event);
    } else if (yielded instanceof Signal) {
      yielded.addProcessWaiter(this, token);
    } else if (yielded instanceof Process) {
      yielded.done.addProcessWaiter(this, token);
    } else if (isThenable(yielded)) {
      this.sim.awaitExternal(this, yielded);
    } else {
      const error = new TypeError(
        `process ${this.name} yielded ${typeof yielded}: yield a delay in µs, a Signal, a Process or a Promise`,
      );
      this.step(error, true);
    }
  }
}
