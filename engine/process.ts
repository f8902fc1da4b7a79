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
 *
 * The simulation keeps its processes as a struct of arrays (process-table.ts); a `Process` is the
 * caller's handle on one, which the simulation does not keep.
 */
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

/**
 * A generator process (`Simulation.process`): starts at the time it is created, resumes when what
 * it yielded is done, and settles `done` with its return value or error; `interrupt` throws an
 * Interrupt into it.
 *
 * A handle: the simulation keeps the process in its table (process-table.ts) and no reference to
 * this object, so a process whose handle is dropped costs the simulation three array slots.
 */
export class Process<R = unknown> {
  readonly sim: Simulation;
  /** @internal The process's slot in the simulation's table while it runs (then reused). */
  readonly slot: number;
  /** The generator: the slot holds it while this process runs there (how the handle knows). */
  private readonly generator: ProcessGenerator<R>;
  /** The name given, or the process's number for the default name `process-N`. */
  private readonly label: string | number;
  private doneSignal: Signal<R> | null = null;

  /** @internal Made by `Simulation.process` (process-table.ts), which starts the process. */
  constructor(
    sim: Simulation,
    slot: number,
    generator: ProcessGenerator<R>,
    label: string | number,
  ) {
    this.sim = sim;
    this.slot = slot;
    this.generator = generator;
    this.label = label;
  }

  get name(): string {
    return typeof this.label === 'string' ? this.label : `process-${this.label}`;
  }

  /**
   * Settles with the generator's return value, or fails with what it threw. Asked for only after
   * the process ended, it is the signal its end settled, which the finished generator keeps for
   * this handle (a frozen one, in a WeakMap of the simulation).
   */
  get done(): Signal<R> {
    if (this.doneSignal !== null) return this.doneSignal;
    const table = this.sim.procs;
    // Finished: the done its end settled, or, if it failed with nothing waiting (the error
    // escaped `run`), a signal that never settles.
    const done = this.isAlive
      ? table.doneOf(this.slot)
      : (table.finishedDone(this.generator) ?? new Signal<R>(this.sim, `${this.name}.done`));
    this.doneSignal = done;
    return done;
  }

  get state(): ProcessState {
    return this.isAlive ? 'running' : 'finished';
  }

  get isAlive(): boolean {
    return this.sim.procs.generatorAt(this.slot) === this.generator;
  }

  /** Throws `Interrupt(cause)` into the process at the current time. */
  interrupt(cause: unknown = 'interrupt'): void {
    if (!this.isAlive)
      throw new Error(`process ${this.name} has finished and cannot be interrupted`);
    this.sim.procs.interrupt(this.slot, cause);
  }
}
