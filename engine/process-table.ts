/**
 * The processes of one simulation, as a struct of arrays (what `Process` handles point into).
 *
 * A simulation may hold a million processes waiting, so what it keeps per process is three array
 * slots and no object: the generator (8 bytes), what it waits on (8) and its number (4, for the
 * default name `process-N`), 20 bytes, where an object per process cost 56 (a header of 24 and
 * four fields). A queued entry of a process names its slot, a small integer (no pointer for the
 * collector to follow, no write barrier when the heap moves it). The `Process` handle that
 * `Simulation.process` returns is the caller's: the simulation keeps no reference to it, so a
 * handle nobody keeps costs nothing while its process waits.
 *
 * Slots of finished processes are reused (last freed, first reused: a free slot's number field
 * links to the next free one). A stale reference to a reused slot is harmless: every queued entry
 * and every waiter registration of a process is live only while the slot's `wait` still holds the
 * seq or token it was made with, and seqs and tokens are never handed out twice; a handle knows
 * its process by its generator, which no other process has.
 *
 * Names and `done` signals are kept beside, in maps, only for the processes that have them (named
 * ones; those whose `done` was asked for while they ran). A finished process's `done` signal is
 * kept where its handle can find it: on its generator (under a symbol), which only the handle
 * still holds (a frozen or sealed generator's, in a WeakMap).
 */
import { assertInvariant } from './assert.js';
import { Interrupt, Process, type ProcessGenerator, ProcessError } from './process.js';
import { Priority } from './queue.js';
import { Signal } from './signal.js';
import type { Simulation } from './simulation.js';
import { Timeout } from './timeout.js';

/** A slot's `wait` when the process waits on nothing it could be interrupted out of. */
const NOT_WAITING = -1;

/**
 * A slot's `wait` while the process waits on a timeout's entry it adopted (timeout.ts): odd and
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
 * entry's item is the process's slot.
 */
export class ProcessResume {
  constructor(
    readonly slot: number,
    readonly kind: ResumeKind,
    readonly value: unknown,
  ) {}
}

const INITIAL_CAPACITY = 16;
/** Capacity grows by a quarter (as the queue's: at most a fifth of the slots stand empty). */
const GROWTH_SHIFT = 2;
/** Process numbers are kept in 32 bits: at most this many processes over a simulation's life. */
export const MAX_PROCESSES = 2 ** 32 - 2;
/** `freeHead` when no slot is free (a free slot's number field holds the next free + 1: 0, none). */
const NO_FREE = -1;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

// biome-ignore lint/suspicious/noExplicitAny: processes and signals of every value type in one place: their generics are invariant, so unknown does not fit
type AnySignal = Signal<any>;

/** The key under which a finished generator keeps its process's `done` for the handle. */
const DONE = Symbol('tooltime.process.done');

/** @internal The processes of one simulation (`Simulation.procs`). */
export class ProcessTable {
  /** By slot: the generator, null once it returned or threw (and for free slots). */
  private generators: Array<ProcessGenerator | null>;
  /**
   * By slot: what the process waits on, as a number: the seq of its queued entry (>= 0; the
   * entry is live only while this still holds its seq, which is how interrupt cancels it), the
   * same for a timeout's entry it adopted (`adoptedWait(seq)`), a signal-wait token (even, <= -2;
   * a waiter registration is live only while this holds its token), or NOT_WAITING.
   */
  waits: Float64Array;
  /** By slot: the process's number (its default name); for a free slot, the next free + 1. */
  private numbers: Uint32Array;
  /** Slots handed out so far (the free ones among them are linked from freeHead). */
  private used = 0;
  private freeHead = NO_FREE;
  private count = 0;
  private names: Map<number, string> | null = null;
  private dones: Map<number, AnySignal> | null = null;
  /** The `done` of finished generators that could not take the DONE key (frozen, sealed). */
  private sealedDones: WeakMap<ProcessGenerator, AnySignal> | null = null;

  constructor(private readonly sim: Simulation) {
    this.generators = new Array<ProcessGenerator | null>(INITIAL_CAPACITY).fill(null);
    this.waits = new Float64Array(INITIAL_CAPACITY).fill(NOT_WAITING);
    this.numbers = new Uint32Array(INITIAL_CAPACITY);
  }

  /** Starts a process (its first step is an urgent entry now); returns its handle. */
  start<R>(generator: ProcessGenerator<R>, name: string | undefined): Process<R> {
    assertInvariant(
      this.count < MAX_PROCESSES,
      'simulation',
      `more than ${MAX_PROCESSES} processes`,
    );
    const number = ++this.count;
    const slot = this.allocate();
    this.generators[slot] = generator;
    this.numbers[slot] = number;
    if (name !== undefined) (this.names ??= new Map()).set(slot, name);
    this.waits[slot] = this.sim.pushEntry(this.sim.nowUs, Priority.urgent, slot);
    return new Process<R>(this.sim, slot, generator, name ?? number);
  }

  /** The generator in `slot` (null once finished or free): how a handle knows it is alive. */
  generatorAt(slot: number): ProcessGenerator | null {
    return this.generators[slot] ?? null;
  }

  nameOf(slot: number): string {
    return this.names?.get(slot) ?? `process-${this.numbers[slot]}`;
  }

  /** The `done` signal of the running process in `slot`, made when first asked for. */
  doneOf(slot: number): AnySignal {
    const dones = (this.dones ??= new Map());
    let done = dones.get(slot);
    if (done === undefined) {
      done = new Signal(this.sim, `${this.nameOf(slot)}.done`);
      dones.set(slot, done);
    }
    return done;
  }

  /** The `done` of a finished process its handle had not asked for (undefined: it failed). */
  finishedDone(generator: ProcessGenerator): AnySignal | undefined {
    return (generator as { [DONE]?: AnySignal })[DONE] ?? this.sealedDones?.get(generator);
  }

  /** Throws `Interrupt(cause)` into the running process in `slot` at the current time. */
  interrupt(slot: number, cause: unknown): void {
    const sim = this.sim;
    const wait = this.waits[slot]!;
    // A queued entry of this process stays queued but is dead once `wait` moves on; an adopted
    // one is left to its timeout, whose clock still runs out there (timeout.ts).
    const adopted = adoptedSeq(wait);
    if (wait >= 0) sim.dropEntry();
    else if (adopted >= 0) sim.orphanEntry(adopted);
    const resume = new ProcessResume(slot, ResumeKind.Interrupt, new Interrupt(cause));
    this.waits[slot] = sim.pushEntry(sim.nowUs, Priority.urgent, resume);
  }

  /** Runs the generator in `slot` until its next yield (nothing when it has finished). */
  step(slot: number, value: unknown, isError: boolean): void {
    const generator = this.generators[slot];
    if (generator === null || generator === undefined) return;
    this.waits[slot] = NOT_WAITING;
    let next: IteratorResult<unknown, unknown>;
    try {
      next = isError ? generator.throw(value) : generator.next(value);
    } catch (error) {
      this.fail(slot, error);
      return;
    }
    if (next.done === true) {
      this.succeed(slot, generator, next.value);
      return;
    }
    const yielded = next.value;
    if (typeof yielded === 'number') {
      // The fast path: a delay queues the process's slot, no allocation.
      const sim = this.sim;
      this.waits[slot] = sim.pushEntry(sim.delayToTime(yielded), Priority.normal, slot);
    } else if (yielded instanceof Timeout && yielded.adopt(slot)) {
      // The SimPy-shaped path (`yield sim.timeout(d)`): the process took over the timeout's
      // entry, and resumes there as on a delay (timeout.ts).
    } else if (yielded instanceof Signal) {
      this.waitOnSignal(slot, yielded);
    } else {
      this.waitOn(slot, yielded);
    }
  }

  /** A signal the process in `slot` waits on (under `token`) has settled. */
  resumeAfterSignal(slot: number, signal: AnySignal, token: number, viaEvent: boolean): void {
    if (token !== this.waits[slot] || this.generators[slot] === null) return;
    const isError = signal.state === 'failed';
    const value = signal.outcome;
    if (!viaEvent) {
      this.step(slot, value, isError);
      return;
    }
    const kind = isError ? ResumeKind.Throw : ResumeKind.Resume;
    this.waits[slot] = this.sim.pushEntry(
      this.sim.nowUs,
      Priority.normal,
      new ProcessResume(slot, kind, value),
    );
  }

  private waitOnSignal(slot: number, signal: AnySignal): void {
    const token = this.sim.newWaitToken();
    this.waits[slot] = token;
    signal.addProcessWaiter(slot, token);
  }

  private waitOn(slot: number, yielded: unknown): void {
    if (yielded instanceof Process) {
      this.waitOnSignal(slot, yielded.done);
    } else if (isThenable(yielded)) {
      this.sim.awaitExternal(slot, yielded);
    } else {
      const error = new TypeError(
        `process ${this.nameOf(slot)} yielded ${typeof yielded}: yield a delay in µs, a Signal, a Process or a Promise`,
      );
      this.step(slot, error, true);
    }
  }

  /** The generator returned: `done` succeeds (made now if nobody asked for it: an event either way). */
  private succeed(slot: number, generator: ProcessGenerator, value: unknown): void {
    let done = this.dones?.get(slot);
    if (done === undefined) {
      done = new Signal(this.sim, `${this.nameOf(slot)}.done`);
      // Left on the generator, which only the handle still holds (a WeakMap made a run of
      // short-lived processes three times slower); a frozen or sealed one cannot take it, and
      // only those go into the WeakMap.
      if (Object.isExtensible(generator)) (generator as { [DONE]?: AnySignal })[DONE] = done;
      else (this.sealedDones ??= new WeakMap()).set(generator, done);
    }
    this.release(slot);
    done.succeed(value);
  }

  /** The generator threw: `done` fails, or if nothing waits on it, the error escapes `run`. */
  private fail(slot: number, error: unknown): void {
    const done = this.dones?.get(slot);
    const name = this.nameOf(slot);
    this.release(slot);
    if (done === undefined || !done.hasWaiters()) throw new ProcessError(name, error);
    done.fail(error);
  }

  private allocate(): number {
    const slot = this.freeHead;
    if (slot !== NO_FREE) {
      this.freeHead = this.numbers[slot]! - 1;
      return slot;
    }
    if (this.used === this.waits.length) this.grow();
    return this.used++;
  }

  private release(slot: number): void {
    this.generators[slot] = null;
    this.waits[slot] = NOT_WAITING;
    this.names?.delete(slot);
    this.dones?.delete(slot);
    this.numbers[slot] = this.freeHead + 1;
    this.freeHead = slot;
  }

  private grow(): void {
    const capacity = this.waits.length;
    const next = capacity + (capacity >> GROWTH_SHIFT);
    const generators = new Array<ProcessGenerator | null>(next).fill(null);
    for (let i = 0; i < capacity; i++) generators[i] = this.generators[i]!;
    this.generators = generators;
    const waits = new Float64Array(next).fill(NOT_WAITING);
    waits.set(this.waits);
    this.waits = waits;
    const numbers = new Uint32Array(next);
    numbers.set(this.numbers);
    this.numbers = numbers;
  }
}
