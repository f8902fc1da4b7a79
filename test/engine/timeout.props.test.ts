import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Interrupt,
  type Process,
  type ProcessGenerator,
  Signal,
  Simulation,
} from '../../engine/index.js';
import { HeapJsSimulation } from '../../engine/heap-js-simulation.js';
import type { EventQueue } from '../../engine/queue.js';

/**
 * The engine as it was before timeouts could be adopted (timeout.ts): every timeout a plain
 * Signal whose own entry settles it. The lazy path must be indistinguishable from this one.
 */
class FullPathSimulation extends Simulation {
  override timeout<T = undefined>(delayUs: number, value?: T): Signal<T> {
    const signal = new Signal<T>(this, 'timeout');
    signal.settleAt(this.delayToTime(delayUs), value as T);
    return signal;
  }
}

const opArb = fc.oneof(
  fc.record({ op: fc.constant('delay' as const), d: fc.nat(6) }),
  fc.record({ op: fc.constant('timeout' as const), d: fc.nat(6) }),
  fc.record({ op: fc.constant('timeoutValue' as const), d: fc.nat(6), v: fc.nat(9) }),
  fc.record({ op: fc.constant('keep' as const), d: fc.nat(6) }),
  fc.record({ op: fc.constant('keepYield' as const), d: fc.nat(6) }),
  fc.record({ op: fc.constant('yieldPool' as const), i: fc.nat() }),
  fc.record({ op: fc.constant('anyOf' as const), d: fc.nat(6), i: fc.nat() }),
  fc.record({ op: fc.constant('allOf' as const), d: fc.nat(6), i: fc.nat() }),
  fc.record({ op: fc.constant('state' as const), i: fc.nat() }),
  fc.record({ op: fc.constant('onSettled' as const), i: fc.nat() }),
  fc.record({ op: fc.constant('succeed' as const), i: fc.nat(), v: fc.nat(9) }),
  fc.record({ op: fc.constant('fail' as const), i: fc.nat() }),
  fc.record({ op: fc.constant('interrupt' as const), j: fc.nat() }),
  fc.record({ op: fc.constant('callback' as const), d: fc.nat(6), i: fc.nat() }),
);
type Op = typeof opArb extends fc.Arbitrary<infer T> ? T : never;

const programArb = fc.array(fc.array(opArb, { maxLength: 12 }), { minLength: 1, maxLength: 6 });

function show(value: unknown): string {
  if (value instanceof Error) return `${value.name}(${value.message})`;
  return JSON.stringify(value) ?? 'undefined';
}

/**
 * Runs the program: one process per op list, sharing a pool of kept timeouts; returns everything
 * observable, in order: the trace (time, priority, seq, label, payload) and what each process and
 * callback saw (values, states, interrupts, failures).
 */
function execute(sim: Simulation, program: Op[][]): string[] {
  const log: string[] = [];
  sim.onEvent((r) => {
    log.push(
      `event ${r.timeUs} ${r.priority} ${r.seq} ${r.label} ${show(r.payload)}, ${sim.pending} pending`,
    );
  });
  // biome-ignore lint/suspicious/noExplicitAny: signals of every value type in one pool
  const pool: Signal<any>[] = [];
  const processes: Process<void>[] = [];
  // biome-ignore lint/suspicious/noExplicitAny: as above
  const pick = (i: number): Signal<any> | undefined =>
    pool.length === 0 ? undefined : pool[i % pool.length];
  const see = (who: string, what: string): void => {
    log.push(`${sim.nowUs} ${who} ${what}`);
  };
  function* wait(who: string, target: unknown): ProcessGenerator<void> {
    try {
      see(who, `resumed ${show(yield target)}`);
    } catch (error) {
      see(who, `threw ${show(error)}`);
      if (!(error instanceof Interrupt)) return;
    }
  }
  function* body(id: number, ops: Op[]): ProcessGenerator<void> {
    const who = `p${id}`;
    for (const [k, o] of ops.entries()) {
      const at = `${who}.${k}`;
      const t = 'i' in o ? pick(o.i) : undefined;
      switch (o.op) {
        case 'delay':
          yield* wait(at, o.d);
          break;
        case 'timeout':
          yield* wait(at, sim.timeout(o.d));
          break;
        case 'timeoutValue':
          yield* wait(at, sim.timeout(o.d, o.v));
          break;
        case 'keep':
          pool.push(sim.timeout(o.d));
          break;
        case 'keepYield': {
          const kept = sim.timeout(o.d);
          pool.push(kept);
          yield* wait(at, kept);
          break;
        }
        case 'yieldPool':
          if (t !== undefined) yield* wait(at, t);
          break;
        case 'anyOf':
        case 'allOf': {
          const fresh = sim.timeout(o.d);
          const both = t === undefined ? [fresh] : [fresh, t];
          yield* wait(at, o.op === 'anyOf' ? sim.anyOf(both) : sim.allOf(both));
          break;
        }
        case 'state':
          if (t !== undefined) see(at, `state ${t.state} ${t.settled}`);
          break;
        case 'onSettled':
          t?.onSettled((s) => see(at, `settled ${s.state}`));
          break;
        case 'succeed':
          if (t !== undefined && !t.settled) t.succeed(o.v);
          break;
        case 'fail':
          // A failure nobody waits on is only seen by who reads it; keep it from escaping.
          if (t !== undefined && !t.settled) t.fail(new Error(`failed by ${at}`));
          break;
        case 'interrupt': {
          const other = processes[o.j % processes.length];
          if (other !== undefined && other !== processes[id] && other.isAlive) other.interrupt(at);
          break;
        }
        case 'callback': {
          sim.schedule(o.d, () => {
            const later = pick(o.i);
            if (later !== undefined) see(`${at}.cb`, `state ${later.state}`);
          });
          break;
        }
      }
    }
    see(who, 'ends');
  }
  program.forEach((ops, id) => {
    processes.push(sim.process(body(id, ops), `p${id}`));
  });
  // A process interrupted before it started, or failed with nobody waiting, escapes from run:
  // seen, then the run goes on (each escape ends one process, so this ends).
  for (let escapes = 0; ; escapes++) {
    try {
      sim.run();
      break;
    } catch (error) {
      see('run', `threw ${show(error)}`);
      if (escapes > program.length) throw error;
    }
  }
  for (const [i, t] of pool.entries()) see(`pool${i}`, `final ${t.state}`);
  see('run', `${sim.eventsRun} events, ${sim.pending} pending`);
  return log;
}

function queueOf(sim: Simulation): EventQueue {
  return (sim as unknown as { queue: EventQueue }).queue;
}

describe('timeouts: the adopted path and the plain signal path', () => {
  it('run any program of timeouts (yielded, kept, in anyOf/allOf, subscribed late, read, settled by hand, their waiters interrupted) identically', () => {
    fc.assert(
      fc.property(programArb, (program) => {
        const full = execute(new FullPathSimulation(), program);
        expect(execute(new Simulation(), program)).toEqual(full);
        expect(execute(new HeapJsSimulation(), program)).toEqual(full);
      }),
      { numRuns: Number(process.env.TIMEOUT_PROPS_RUNS ?? 400) },
    );
  });

  it('a timeout yielded at once is adopted: its entry holds the process (its slot), under the timeout seq', () => {
    for (const sim of [new Simulation(), new HeapJsSimulation()]) {
      let made: Signal | undefined;
      const p = sim.process(
        (function* () {
          made = sim.timeout(10);
          yield made;
        })(),
      );
      sim.run({ maxEvents: 1 });
      const entries = queueOf(sim).entries();
      expect(entries.length).toBe(1);
      expect(entries[0]!.item).toBe(p.slot);
      expect(entries[0]!.timeUs).toBe(10);
      // Looked at, it is a plain signal again: its entry is its own, under the same seq.
      expect(made!.state).toBe('pending');
      const live = queueOf(sim)
        .entries()
        .filter((e) => e.item === made);
      expect(live.map((e) => e.seq)).toEqual([entries[0]!.seq]);
      sim.run();
      expect(made!.state).toBe('succeeded');
    }
  });

  it('an adopted timeout whose process was interrupted still settles at its time, in its place', () => {
    const sim = new Simulation();
    const seen: string[] = [];
    let t: Signal | undefined;
    const p = sim.process(
      (function* () {
        t = sim.timeout(5);
        try {
          yield t;
        } catch (error) {
          seen.push(`${sim.nowUs} ${(error as Interrupt).reason}`);
        }
        yield 10;
      })(),
    );
    sim.schedule(2, () => p.interrupt('stop'));
    sim.schedule(5, () => seen.push(`5 before: ${t!.state}`));
    sim.run({ untilUs: 5 });
    expect(t!.state).toBe('pending');
    sim.run({ untilUs: 6 });
    expect(t!.state).toBe('succeeded');
    expect(seen).toEqual(['2 stop', '5 before: pending']);
  });
});
