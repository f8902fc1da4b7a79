/**
 * The simulation: a clock, an event queue and the loop that runs it (SimPy's `Environment`).
 *
 * Semantics
 * - `nowUs` is the time of the event being run (integer µs); it never decreases.
 * - Events run in the queue's total order (time, priority, insertion seq): see queue.ts.
 * - `scheduleAt(t)` with t < now is an error (never a silent clamp); `schedule(d)` needs d >= 0.
 * - `run({ untilUs })` runs every event with time < untilUs, then sets now = untilUs; events at
 *   untilUs or later stay queued, so `run({ untilUs: t }); run()` equals one `run()`.
 *   `run({ maxEvents })` stops after that many events. `stop()` from a handler ends the run
 *   after the current event.
 * - External decisions: a callback may return a Promise, and a process may yield one. `runAsync`
 *   awaits it before running anything else, with the clock unchanged. Events whose handlers
 *   return plain values never touch the microtask queue, so a run without external decisions
 *   costs the same under `runAsync` as under `run`; `run` rejects a Promise with an error.
 * - Trace: listeners added with `onEvent` see each event just before it runs, in run order.
 *   With no listener the loop pays one null check.
 * - Bounds: priorities are integers in [-128, 127]; at most MAX_QUEUED_EVENTS (100M) events are
 *   queued at once, cancelled ones included until they reach the top: one more is a RangeError
 *   naming the bound (queue.ts).
 */
import { assertInvariant } from './assert.js';
import { TypedEventQueue } from './heap.js';
import type { Process, ProcessGenerator } from './process.js';
import { ProcessResume, ProcessTable, ResumeKind, adoptedWait } from './process-table.js';
import {
  type EventQueue,
  MAX_PRIORITY,
  MIN_PRIORITY,
  Priority,
  ScheduledEvent,
  isPriority,
} from './queue.js';
import { RandomStreams } from './random.js';
import { Signal, allOf, anyOf } from './signal.js';
import { Timeout } from './timeout.js';
import { assertTimeUs } from './time.js';

/**
 * What a trace listener sees of an event: one record the simulation refills for every event, so
 * read it, do not keep it.
 */
export interface TraceRecord {
  readonly timeUs: number;
  readonly priority: number;
  readonly seq: number;
  readonly label: string;
  readonly payload: unknown;
}

/** Called with each event just before it runs, in run order (`Simulation.onEvent`). */
export type TraceListener = (record: TraceRecord) => void;

/**
 * Options of `schedule`/`scheduleAt`: priority among events at the same time, a trace label and
 * a payload for the callback.
 */
export interface ScheduleOptions {
  /**
   * Smaller runs first among events at the same time; default `Priority.normal` (0). An integer
   * in [-128, 127] (MIN_PRIORITY, MAX_PRIORITY in queue.ts): anything else is a SimulationError.
   */
  readonly priority?: number;
  /** Shown to trace listeners; default `callback`. */
  readonly label?: string;
  /** Passed to the callback and shown to trace listeners. */
  readonly payload?: unknown;
}

/**
 * Where `run`/`runAsync` stops besides an empty queue: a time (events strictly before it run) and
 * a count of events.
 */
export interface RunOptions {
  /** Run events strictly before this time, then set the clock to it. */
  readonly untilUs?: number;
  /** Run at most this many events. */
  readonly maxEvents?: number;
}

/** Why a run stopped: the queue emptied, `untilUs` was reached, `maxEvents` ran, or `stop()`. */
export type RunEnd = 'empty' | 'until' | 'maxEvents' | 'stopped';

/** How a run ended and how many events it ran. */
export interface RunResult {
  readonly end: RunEnd;
  readonly eventsRun: number;
}

/**
 * Misuse of the simulation: scheduling in the past, a bad time, a Promise under `run` (use
 * `runAsync`).
 */
export class SimulationError extends Error {
  override name = 'SimulationError';
}

/**
 * A scheduled callback: gets the event's payload. It may return a Promise only under `runAsync`.
 */
export type Callback = (payload: unknown) => unknown;

/** The record trace listeners get, refilled for each event (no allocation per event). */
class TraceScratch implements TraceRecord {
  timeUs = 0;
  priority = 0;
  seq = 0;
  label = '';
  payload: unknown = undefined;
}

/**
 * First signal-wait token (a process's wait, process-table.ts); tokens count down by two (even: an
 * odd wait is a timeout's adopted entry), seqs count up from 0.
 */
const FIRST_WAIT_TOKEN = -2;

interface ExternalWait {
  /** The slot of the process that yielded the promise; -1 for a callback's. */
  readonly slot: number;
  readonly promise: PromiseLike<unknown>;
}

/**
 * A discrete-event simulation: the clock (`nowUs`, integer µs), the event queue in (time, priority,
 * seq) order, seeded random streams, and the loop that runs events (`run`, `runAsync`, `step`).
 * Deterministic: the same schedule and seed give the same run.
 */
export class Simulation {
  nowUs = 0;
  readonly streams: RandomStreams;
  /** Events run since the simulation was created. */
  eventsRun = 0;
  private readonly queue: EventQueue;
  /** Queued entries that were cancelled and not yet dropped from the top. */
  private cancelledQueued = 0;
  private nextWaitToken = FIRST_WAIT_TOKEN;
  private readonly record = new TraceScratch();
  private listeners: TraceListener[] | null = null;
  private external: ExternalWait | null = null;
  private stopRequested = false;
  /** @internal The processes, as a struct of arrays (process-table.ts). */
  readonly procs: ProcessTable;
  /**
   * Seqs of timeouts' entries whose adopting process was interrupted: each still runs, as its
   * timeout's clock running out (timeout.ts). Made on the first, emptied as they run.
   */
  private orphans: Set<number> | null = null;

  constructor(options: { seed?: number | string; startUs?: number } = {}) {
    this.queue = this.newQueue();
    this.procs = new ProcessTable(this);
    this.streams = new RandomStreams(options.seed ?? 0);
    this.nowUs = assertTimeUs(options.startUs ?? 0, 'startUs');
  }

  /**
   * The queue is the engine's own. A subclass may pick another (heap-js-simulation.ts, which only
   * the benchmark and a test use, to show why the default is the engine's own): called once, from
   * the constructor, before anything is scheduled.
   */
  protected newQueue(): EventQueue {
    return new TypedEventQueue();
  }

  /** Live events waiting to run. */
  get pending(): number {
    return this.queue.length - this.cancelledQueued;
  }

  /** Time of the next live event, or undefined when none is queued. */
  peekUs(): number | undefined {
    const queue = this.queue;
    while (queue.length > 0) {
      if (this.isLive(queue.peekItem(), queue.peekSeq())) return queue.peekTime();
      queue.pop();
      this.cancelledQueued--;
    }
    return undefined;
  }

  /** Runs `callback(payload)` at absolute time `timeUs`; returns a handle for `cancel`. */
  scheduleAt(timeUs: number, callback: Callback, options?: ScheduleOptions): ScheduledEvent {
    assertTimeUs(timeUs, 'scheduled time');
    if (timeUs < this.nowUs)
      throw new SimulationError(`cannot schedule in the past: ${timeUs}us < now ${this.nowUs}us`);
    const priority = options?.priority ?? Priority.normal;
    if (!isPriority(priority))
      throw new SimulationError(
        `priority must be an integer in [${MIN_PRIORITY}, ${MAX_PRIORITY}], got ${String(priority)}`,
      );
    const event = new ScheduledEvent(
      timeUs,
      priority,
      options?.label ?? 'callback',
      callback,
      options?.payload,
    );
    event.seq = this.queue.push(timeUs, priority, event);
    event.queued = true;
    return event;
  }

  /** Runs `callback(payload)` after `delayUs` (a non-negative integer); returns a cancel handle. */
  schedule(delayUs: number, callback: Callback, options?: ScheduleOptions): ScheduledEvent {
    return this.scheduleAt(this.delayToTime(delayUs), callback, options);
  }

  /** Cancels a queued event; false when it already ran or was cancelled. */
  cancel(event: ScheduledEvent): boolean {
    if (!event.queued || event.cancelled) return false;
    event.cancelled = true;
    this.cancelledQueued++;
    return true;
  }

  /**
   * Starts a generator process at the current time; returns its handle (the simulation keeps the
   * process, not the handle: process-table.ts).
   */
  process<R>(generator: ProcessGenerator<R>, name?: string): Process<R> {
    return this.procs.start(generator, name);
  }

  /** A pending signal, settled by `succeed` or `fail`. */
  signal<T = unknown>(name?: string): Signal<T> {
    return new Signal<T>(this, name);
  }

  /**
   * A signal that succeeds with `value` after `delayUs` (a Timeout: yielded at once by a process,
   * it costs about what yielding the delay costs; timeout.ts).
   */
  timeout<T = undefined>(delayUs: number, value?: T): Signal<T> {
    return new Timeout<T>(this, this.delayToTime(delayUs), value as T);
  }

  // biome-ignore lint/suspicious/noExplicitAny: processes and signals of every value type in one place: their generics are invariant, so unknown does not fit
  allOf(signals: ReadonlyArray<Signal<any>>): Signal<unknown[]> {
    return allOf(this, signals);
  }

  // biome-ignore lint/suspicious/noExplicitAny: processes and signals of every value type in one place: their generics are invariant, so unknown does not fit
  anyOf(signals: ReadonlyArray<Signal<any>>): Signal<{ index: number; value: unknown }> {
    return anyOf(this, signals);
  }

  /** Adds a trace listener; returns a function that removes it. */
  onEvent(listener: TraceListener): () => void {
    this.listeners = [...(this.listeners ?? []), listener];
    return () => {
      const rest = (this.listeners ?? []).filter((l) => l !== listener);
      this.listeners = rest.length === 0 ? null : rest;
    };
  }

  /** Ends the current `run`/`runAsync` after the event being run. */
  stop(): void {
    this.stopRequested = true;
  }

  /** Runs the next event; false when the queue is empty. A Promise from a handler is an error. */
  step(): boolean {
    const queue = this.queue;
    for (;;) {
      if (!queue.pop()) return false;
      if (this.dispatch()) break;
    }
    if (this.external !== null) throw this.externalInSyncRun();
    return true;
  }

  /** Runs events in order until the queue empties, `untilUs`, `maxEvents` or `stop()`. */
  run(options: RunOptions = {}): RunResult {
    const untilUs = this.checkUntil(options.untilUs);
    const maxEvents = options.maxEvents ?? Number.MAX_SAFE_INTEGER;
    this.stopRequested = false;
    let eventsRun = 0;
    let end: RunEnd | null = null;
    while (end === null) {
      end = this.advance(untilUs, maxEvents, eventsRun);
      if (end === null) eventsRun++;
      if (this.external !== null) throw this.externalInSyncRun();
    }
    return this.finishRun(end, untilUs, eventsRun);
  }

  /** As `run`, and awaits Promises returned by handlers or yielded by processes. */
  async runAsync(options: RunOptions = {}): Promise<RunResult> {
    const untilUs = this.checkUntil(options.untilUs);
    const maxEvents = options.maxEvents ?? Number.MAX_SAFE_INTEGER;
    this.stopRequested = false;
    let eventsRun = 0;
    let end: RunEnd | null = null;
    while (end === null) {
      end = this.advance(untilUs, maxEvents, eventsRun);
      if (end === null) eventsRun++;
      // An external decision may lead to another (a process that awaits twice in a row).
      while (this.external !== null) {
        const wait = this.external;
        this.external = null;
        let value: unknown;
        let failed = false;
        try {
          value = await wait.promise;
        } catch (error) {
          if (wait.slot < 0) throw error;
          value = error;
          failed = true;
        }
        if (wait.slot >= 0) this.procs.step(wait.slot, value, failed);
      }
    }
    return this.finishRun(end, untilUs, eventsRun);
  }

  /**
   * Runs the next event unless the run should end; returns why it ends, or null after running one.
   * A stop() requested by the event just run ends the run after it (the event still counts).
   */
  private advance(untilUs: number, maxEvents: number, eventsRun: number): RunEnd | null {
    if (this.stopRequested) return 'stopped';
    if (eventsRun >= maxEvents) return 'maxEvents';
    const queue = this.queue;
    for (;;) {
      // A cancelled entry at or after untilUs stays queued: only later ones are behind it.
      if (queue.peekTime() >= untilUs) return queue.length === 0 ? 'empty' : 'until';
      queue.pop();
      if (this.dispatch()) return null;
    }
  }

  /**
   * @internal Queues an entry (a process's, by its slot, or a signal's, or a resume); returns its
   * seq.
   */
  pushEntry(
    timeUs: number,
    priority: number,
    // biome-ignore lint/suspicious/noExplicitAny: processes and signals of every value type in one place: their generics are invariant, so unknown does not fit
    item: number | Signal<any> | ProcessResume,
  ): number {
    return this.queue.push(timeUs, priority, item);
  }

  /** @internal Re-queues a timeout's entry under the seq it had (timeout.ts). */
  // biome-ignore lint/suspicious/noExplicitAny: processes and signals of every value type in one place: their generics are invariant, so unknown does not fit
  requeueEntry(timeUs: number, seq: number, item: Signal<any>): void {
    this.queue.pushWithSeq(timeUs, Priority.normal, seq, item);
  }

  /**
   * @internal Gives the entry of `seq` a process's slot as its item if it was the last queued
   * (timeout.ts).
   */
  replaceEntryItem(seq: number, slot: number): boolean {
    return this.queue.replaceLastItem(seq, slot);
  }

  /** @internal Whether the normal-priority entry (timeUs, seq) was popped (timeout.ts). */
  normalEntryPopped(timeUs: number, seq: number): boolean {
    return this.queue.normalPopped(timeUs, seq);
  }

  /**
   * @internal The process that adopted the timeout entry `seq` was interrupted: the entry stays
   * live, the timeout's own (timeout.ts).
   */
  orphanEntry(seq: number): void {
    this.orphans ??= new Set();
    this.orphans.add(seq);
  }

  /** @internal An orphaned timeout entry is replaced by the timeout's own (timeout.ts). */
  dropOrphan(seq: number): void {
    assertInvariant(this.orphans?.delete(seq) === true, 'simulation', `no orphan entry ${seq}`);
    this.cancelledQueued++;
  }

  /** @internal A queued entry was cancelled (it stays queued, dead, until it reaches the top). */
  dropEntry(): void {
    this.cancelledQueued++;
  }

  /** @internal A fresh token for a process's wait on a signal (never equal to a seq). */
  newWaitToken(): number {
    const token = this.nextWaitToken;
    this.nextWaitToken -= 2;
    return token;
  }

  /** @internal Absolute time of a delay from now, checked. */
  delayToTime(delayUs: number): number {
    const timeUs = this.nowUs + delayUs;
    // One combined check on the hot path; the slow path says which part was wrong.
    if (delayUs >= 0 && Number.isSafeInteger(delayUs) && Number.isSafeInteger(timeUs))
      return timeUs;
    assertTimeUs(delayUs, 'delay');
    return assertTimeUs(timeUs, 'scheduled time');
  }

  /** @internal The process in `slot` yielded a Promise. */
  awaitExternal(slot: number, promise: PromiseLike<unknown>): void {
    if (this.external !== null) throw new SimulationError('two external decisions pending at once');
    this.external = { slot, promise };
  }

  /** Whether a queued entry is still live (cancellation is lazy: see queue.ts). */
  private isLive(item: unknown, seq: number): boolean {
    if (typeof item === 'number') {
      const wait = this.procs.waits[item];
      return wait === seq || wait === adoptedWait(seq) || this.orphans?.has(seq) === true;
    }
    if (item instanceof Signal) return item.fireSeq === seq;
    if (item instanceof ProcessResume) return this.procs.waits[item.slot] === seq;
    return !(item as ScheduledEvent).cancelled;
  }

  /**
   * Runs the entry just popped (the queue's `top*` fields) if it is live and returns true; drops
   * it and returns false if it was cancelled. The item's class says what the entry does.
   */
  private dispatch(): boolean {
    const queue = this.queue;
    const item = queue.topItem;
    if (typeof item === 'number') {
      // The hot path, a process's slot: it starts, a delay ended, or a timeout the process
      // adopted did (shown as the timeout's entry it is).
      const seq = queue.topSeq;
      const wait = this.procs.waits[item];
      if (wait === seq) this.begin('process', undefined);
      else if (wait === adoptedWait(seq)) this.begin('timeout', undefined);
      else return this.runOrphan(seq);
      this.procs.step(item, undefined, false);
    } else if (item instanceof Signal) {
      if (item.fireSeq !== queue.topSeq) return this.dropDead();
      // Pending here means a timeout's clock ran out; a signal settled by hand is not.
      const label = item.state === 'pending' ? 'timeout' : 'signal';
      this.begin(label, this.listeners === null ? undefined : item.tracePayload());
      item.fire();
    } else if (item instanceof ProcessResume) {
      if (this.procs.waits[item.slot] !== queue.topSeq) return this.dropDead();
      this.begin(item.kind === ResumeKind.Interrupt ? 'interrupt' : 'process', item.value);
      this.procs.step(item.slot, item.value, item.kind !== ResumeKind.Resume);
    } else {
      const event = item as ScheduledEvent;
      event.queued = false;
      if (event.cancelled) return this.dropDead();
      this.begin(event.label, event.payload);
      this.runCallback(event);
    }
    return true;
  }

  /** A process's entry it no longer waits on: an orphaned timeout's clock, or dead. */
  private runOrphan(seq: number): boolean {
    if (this.orphans === null || !this.orphans.delete(seq)) return this.dropDead();
    this.begin('timeout', undefined);
    return true;
  }

  private dropDead(): false {
    this.cancelledQueued--;
    return false;
  }

  /** Moves the clock to the entry being run, counts it and shows it to trace listeners. */
  private begin(label: string, payload: unknown): void {
    const queue = this.queue;
    this.nowUs = queue.topTimeUs;
    this.eventsRun++;
    if (this.listeners === null) return;
    const record = this.record;
    record.timeUs = queue.topTimeUs;
    record.priority = queue.topPriority;
    record.seq = queue.topSeq;
    record.label = label;
    record.payload = payload;
    for (const listener of this.listeners) listener(record);
  }

  private runCallback(event: ScheduledEvent): void {
    const result = event.fn(event.payload);
    if (
      result !== undefined &&
      result !== null &&
      typeof (result as { then?: unknown }).then === 'function'
    ) {
      if (this.external !== null)
        throw new SimulationError('two external decisions pending at once');
      this.external = { slot: -1, promise: result as PromiseLike<unknown> };
    }
  }

  private checkUntil(untilUs: number | undefined): number {
    if (untilUs === undefined) return Number.MAX_SAFE_INTEGER + 1;
    assertTimeUs(untilUs, 'untilUs');
    if (untilUs < this.nowUs)
      throw new SimulationError(`untilUs ${untilUs}us is before now ${this.nowUs}us`);
    return untilUs;
  }

  private finishRun(end: RunEnd, untilUs: number, eventsRun: number): RunResult {
    if (end === 'until' || (end === 'empty' && untilUs <= Number.MAX_SAFE_INTEGER)) {
      this.nowUs = untilUs;
      end = 'until';
    }
    return { end, eventsRun };
  }

  private externalInSyncRun(): SimulationError {
    this.external = null;
    return new SimulationError(
      'a handler returned a Promise (an external decision): use runAsync()',
    );
  }
}
