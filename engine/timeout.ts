/**
 * Timeouts: what `Simulation.timeout(d)` returns, a Signal that the clock settles after d µs.
 *
 * A timeout is a full Signal to anyone who looks: it can be kept, yielded, passed to
 * `allOf`/`anyOf`, subscribed to, read, or settled early by hand, with the same results, in the
 * same order, as any signal scheduled to settle at its time. Its entry is queued when it is
 * made, (time, normal priority, seq), as a signal's.
 *
 * The common case, `yield sim.timeout(d)`, is made as cheap as `yield d`: when a process yields
 * a timeout that nothing else waits on, whose entry was the last one queued (so its slot is
 * known), the process adopts the entry. The entry's item becomes the process (its slot), under the
 * same time, priority and seq, so it runs where the timeout's would have, and the process
 * resumes there directly, as the timeout's sole waiter would have; the timeout object is left to
 * its caller, referenced by nothing queued. The trace sees what it would have seen (label
 * `timeout`, the same seq). The moment anything else looks at an adopted timeout (its state, a
 * waiter, `succeed`/`fail`), it is made a plain signal again (`unadopt`): its own entry, under
 * its seq, if its time has not come, with the adopting process as its first waiter if it still
 * waits; settled if its entry already ran. Only timeouts without a value are adopted (a trace
 * listener sees a timeout's value as the entry's payload).
 */
import { adoptedWait } from './process-table.js';
import { Priority } from './queue.js';
import { ADOPTED, NOTIFIED, Signal } from './signal.js';
import type { Simulation } from './simulation.js';

/** A Signal that succeeds with its value at `timeUs` (`Simulation.timeout`). */
export class Timeout<T = undefined> extends Signal<T> {
  /**
   * When the clock settles it. While adopted, the timeout has no waiters, and its sole-waiter
   * fields (signal.ts) hold the adopting process's slot and its entry's seq: a Timeout is made per wait,
   * and two fields fewer made the SimPy-shaped bench row about 4% faster.
   */
  readonly timeUs: number;

  constructor(sim: Simulation, timeUs: number, value: T) {
    super(sim, 'timeout');
    this.timeUs = timeUs;
    this.outcome = value;
    this.fireSeq = sim.pushEntry(timeUs, Priority.normal, this);
  }

  /**
   * @internal Called by a process that yields this timeout: true if the process took over its
   * entry (and waits on it as on a delay), false if it must wait on the timeout as on any signal.
   */
  adopt(slot: number): boolean {
    const seq = this.fireSeq;
    if (seq < 0 || this.stateValue !== 'pending' || this.hasWaiters()) return false;
    if (this.outcome !== undefined || !this.sim.replaceEntryItem(seq, slot)) return false;
    this.fireSeq = ADOPTED;
    this.waiters = slot;
    this.soleToken = seq;
    this.sim.procs.waits[slot] = adoptedWait(seq);
    return true;
  }

  protected override unadopt(): void {
    const sim = this.sim;
    const seq = this.soleToken;
    // The adopter's slot: it still holds the adopter while it waits here (a slot is reused only
    // once its process finished, and then its wait no longer names this entry).
    const adopter = this.waiters as number;
    this.waiters = null;
    this.soleToken = 0;
    if (sim.normalEntryPopped(this.timeUs, seq)) {
      // Its entry ran: the adopter resumed there, or (interrupted before) it ran as the clock
      // alone. Either way the clock settled it then, and no one else waited.
      this.stateValue = 'succeeded';
      this.fireSeq = NOTIFIED;
      return;
    }
    this.fireSeq = seq;
    sim.requeueEntry(this.timeUs, seq, this);
    if (sim.procs.waits[adopter] === adoptedWait(seq)) {
      // Its entry under the process dies; the process waits on the signal, first of its waiters.
      sim.dropEntry();
      const token = sim.newWaitToken();
      sim.procs.waits[adopter] = token;
      this.addWaiter(adopter, token);
    } else {
      // The adopter was interrupted: the entry it left to the timeout dies for this one.
      sim.dropOrphan(seq);
    }
  }
}
