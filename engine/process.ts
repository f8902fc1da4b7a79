/**
 * Generator-based processes (SimPy's `Process`).
 *
 * A process is a generator that yields what it waits for:
 * - a number: a delay in microseconds (the fast path: no allocation, the process's own event is
 *   reused); resumes with `undefined`;
 * - a `Signal` (a timeout, an `allOf`/`anyOf`, another process's `done`): resumes with its value,
 *   or has its error thrown in (a fresh timeout, `yield sim.timeout(d)`, is waited on as a delay
 *   is, through its own entry, which the process adopts: timeout.ts);
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
import { Priority } from './queue.js';
import { Signal } from './signal.js';
import type { Simulation } from './simulation.js';
import { Timeout } from './timeout.js';

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

const DONE_SUFFIX = '.done';

/** `Process.wait` when the process waits on nothing it could be interrupted out of. */
const NOT_WAITING = -1;

/**
 * `Process.wait` while the process waits on a timeout's entry it adopted (timeout.ts): odd and
 * <= -3, so never a seq (>= 0), NOT_WAITING or a signal-wait token (even, <= -2).
 */
export function adoptedWait(seq: number): number {
  return -2 * seq - 3;
}

/** The seq of the adopted entry `wait` stands for, or -1 when it stands for none. */
function adoptedSeq(wait: number): number {
  return wait <= -3 && wait % 2 !== 0 ? (-wait - 3) / 2 : -1;
}

/** How a ProcessResume resumes its process. */
export const ResumeKind = {
  /** A late waiter of a settled signal resumes with its value. */
  Resume: 0,
  /** A late waiter of a failed signal gets the error thrown in. */
  Throw: 1,
  /** `interrupt` throws an Interrupt in (trace label `interrupt`). */
  Interrupt: 2,
} as const;
export type ResumeKind = (typeof ResumeKind)[keyof typeof ResumeKind];

/**
 * A queued entry that resumes a process with a value (or throws it in). A delay needs none: its
 * entry's item is the process itself.
 */
export class ProcessResume {
  constructor(
    // biome-ignore lint/suspicious/noExplicitAny: processes and signals of every value type in one place: their generics are invariant, so unknown does not fit
    readonly process: Process<any>,
    readonly kind: ResumeKind,
    readonly value: unknown,
  ) {}
}

/**
 * A generator process (`Simulation.process`): starts at the time it is created, resumes when what
 * it yielded is done, and settles `done` with its return value or error; `interrupt` throws an
 * Interrupt into it.
 *
 * Kept small, since a simulation may hold a million of them waiting: four fields, `done` made
 * only when asked for (or when the process ends), the default name made only when read.
 */
export class Process<R = unknown> {
  readonly sim: Simulation;
  /** Null once the generator has returned or thrown. */
  private generator: ProcessGenerator<R> | null;
  /**
   * @internal What the process waits on, as a number: the seq of its queued entry (>= 0; the
   * entry is live only while this still holds its seq, which is how interrupt cancels it), the
   * same for a timeout's entry it adopted (`adoptedWait(seq)`: odd, <= -3), a signal-wait token
   * (even, <= -2; a waiter registration is live only while this holds its token), or
   * NOT_WAITING.
   */
  wait: number;
  /**
   * The name given, or the process's number for the default name `process-N`; once `done` is
   * made, that signal (named `<name>.done`), which then carries the name: one field for both.
   */
  private nameOrDone: string | number | Signal<R>;

  constructor(sim: Simulation, generator: ProcessGenerator<R>, name: string | number) {
    this.sim = sim;
    this.generator = generator;
    this.nameOrDone = name;
    this.wait = sim.pushEntry(sim.nowUs, Priority.urgent, this);
  }

  get name(): string {
    const held = this.nameOrDone;
    if (typeof held === 'string') return held;
    if (typeof held === 'number') return `process-${held}`;
    return held.name.slice(0, -DONE_SUFFIX.length);
  }

  /** Settles with the generator's return value, or fails with what it threw. */
  get done(): Signal<R> {
    const held = this.nameOrDone;
    if (held instanceof Signal) return held;
    const done = new Signal<R>(this.sim, `${this.name}${DONE_SUFFIX}`);
    this.nameOrDone = done;
    return done;
  }

  get state(): ProcessState {
    return this.generator === null ? 'finished' : 'running';
  }

  get isAlive(): boolean {
    return this.generator !== null;
  }

  /** Throws `Interrupt(cause)` into the process at the current time. */
  interrupt(cause: unknown = 'interrupt'): void {
    if (this.generator === null)
      throw new Error(`process ${this.name} has finished and cannot be interrupted`);
    // A queued entry of this process stays queued but is dead once `wait` moves on; an adopted
    // one is left to its timeout, whose clock still runs out there (timeout.ts).
    const adopted = adoptedSeq(this.wait);
    if (this.wait >= 0) this.sim.dropEntry();
    else if (adopted >= 0) this.sim.orphanEntry(adopted);
    this.wait = this.sim.pushEntry(
      this.sim.nowUs,
      Priority.urgent,
      new ProcessResume(this, ResumeKind.Interrupt, new Interrupt(cause)),
    );
  }

  /** @internal Runs the generator until its next yield. */
  step(value: unknown, isError: boolean): void {
    const generator = this.generator;
    if (generator === null) return;
    this.wait = NOT_WAITING;
    let next: IteratorResult<unknown, R>;
    try {
      next = isError ? generator.throw(value) : generator.next(value);
    } catch (error) {
      this.generator = null;
      const done = this.nameOrDone;
      if (!(done instanceof Signal) || !done.hasWaiters()) throw new ProcessError(this.name, error);
      done.fail(error);
      return;
    }
    if (next.done === true) {
      this.generator = null;
      this.done.succeed(next.value);
      return;
    }
    const yielded = next.value;
    if (typeof yielded === 'number') {
      // The fast path: a delay queues the process itself, no allocation.
      const sim = this.sim;
      this.wait = sim.pushEntry(sim.delayToTime(yielded), Priority.normal, this);
    } else if (yielded instanceof Timeout && yielded.adopt(this)) {
      // The SimPy-shaped path (`yield sim.timeout(d)`): the process took over the timeout's
      // entry, and resumes there as on a delay (timeout.ts).
    } else if (yielded instanceof Signal) {
      const token = this.sim.newWaitToken();
      this.wait = token;
      yielded.addProcessWaiter(this, token);
    } else {
      this.waitOn(yielded);
    }
  }

  /** @internal A signal this process waits on has settled. */
  // biome-ignore lint/suspicious/noExplicitAny: processes and signals of every value type in one place: their generics are invariant, so unknown does not fit
  resumeAfterSignal(signal: Signal<any>, token: number, viaEvent: boolean): void {
    if (token !== this.wait || this.generator === null) return;
    const isError = signal.state === 'failed';
    const value = signal.outcome;
    if (!viaEvent) {
      this.step(value, isError);
      return;
    }
    this.wait = this.sim.pushEntry(
      this.sim.nowUs,
      Priority.normal,
      new ProcessResume(this, isError ? ResumeKind.Throw : ResumeKind.Resume, value),
    );
  }

  private waitOn(yielded: unknown): void {
    if (yielded instanceof Process) {
      const token = this.sim.newWaitToken();
      this.wait = token;
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
