import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Interrupt, type Process, type ProcessGenerator, Simulation } from '../../engine/index.js';
import { HeapJsSimulation } from '../../engine/heap-js-simulation.js';

const RUNS = Number(process.env.PROCESS_TABLE_PROPS_RUNS ?? 500);

/**
 * What a driver does at one instant: start a child (some delays, then it returns its value),
 * interrupt any handle made so far, have a new process join one, or read one's `done`.
 */
const actionArb = fc.oneof(
  fc.record({ spawn: fc.nat(4), named: fc.boolean() }),
  fc.record({ interrupt: fc.nat(20) }),
  fc.record({ join: fc.nat(20) }),
  fc.record({ done: fc.nat(20) }),
);
const programArb = fc.array(fc.tuple(fc.nat(3), actionArb), { minLength: 1, maxLength: 40 });

interface Child {
  readonly handle: Process<string>;
  readonly name: string;
  /** Set by the child's own generator: what it returned, and when it ended. */
  value: string | null;
  endedUs: number;
  interruptsTaken: number;
  interruptsSent: number;
}

/** A child: `steps` delays of 2 µs, each interruptible (counted), then it returns. */
function* childBody(child: () => Child, steps: number, sim: Simulation): ProcessGenerator<string> {
  for (let i = 0; i < steps; i++) {
    try {
      yield 2;
    } catch (error) {
      expect(error).toBeInstanceOf(Interrupt);
      child().interruptsTaken++;
    }
  }
  const value = `${child().name}@${sim.nowUs}`;
  child().value = value;
  child().endedUs = sim.nowUs;
  return value;
}

/**
 * Runs a program and checks each handle against what its own generator saw: alive exactly until
 * it returned, interrupts reaching it only while alive, `done` and joins seeing its own value,
 * whichever later processes took its slot.
 */
function check(
  sim: Simulation,
  program: ReadonlyArray<readonly [number, Record<string, unknown>]>,
) {
  const children: Child[] = [];
  const joins: Array<{ target: number; value: unknown; atUs: number }> = [];
  let made = 1; // the driver is process-1
  function* driver(): ProcessGenerator<void> {
    for (const [waitUs, action] of program) {
      yield waitUs;
      for (const c of children) expect(c.handle.isAlive).toBe(c.value === null);
      if (action.spawn !== undefined) {
        made++;
        const name = action.named === true ? `c${made}` : `process-${made}`;
        const steps = action.spawn as number;
        let child: Child | undefined;
        const handle = sim.process(
          childBody(() => child!, steps, sim),
          action.named === true ? name : undefined,
        );
        child = { handle, name, value: null, endedUs: -1, interruptsTaken: 0, interruptsSent: 0 };
        children.push(child);
        expect(handle.name).toBe(name);
      } else if (children.length > 0) {
        const target =
          children[((action.interrupt ?? action.join ?? action.done) as number) % children.length]!;
        if (action.interrupt !== undefined) {
          if (target.handle.isAlive) {
            target.handle.interrupt('x');
            target.interruptsSent++;
          } else {
            expect(() => target.handle.interrupt('x')).toThrow('has finished');
          }
        } else if (action.join !== undefined) {
          const index = children.indexOf(target);
          made++;
          sim.process(
            (function* () {
              const value: unknown = yield target.handle;
              joins.push({ target: index, value, atUs: sim.nowUs });
            })(),
          );
        } else {
          expect(target.handle.done.name).toBe(`${target.name}.done`);
        }
      }
    }
  }
  sim.process(driver());
  sim.run();
  expect(sim.pending).toBe(0);
  for (const c of children) {
    expect(c.handle.isAlive).toBe(false);
    expect(c.value).not.toBeNull();
    expect(c.handle.done.value).toBe(c.value);
    // A child has started by the time the driver acts again (its start is urgent), so every
    // interrupt sent while it was alive reaches it, and none meant for another does.
    expect(c.interruptsTaken).toBe(c.interruptsSent);
  }
  for (const j of joins) {
    expect(j.value).toBe(children[j.target]!.value);
    expect(j.atUs).toBeGreaterThanOrEqual(children[j.target]!.endedUs);
  }
  return { joins, values: children.map((c) => [c.value, c.interruptsTaken]), now: sim.nowUs };
}

describe('the process table (slots of finished processes reused)', () => {
  it('every handle stays its own process: alive until it returns, interrupts and joins reach only it, done holds its value', () => {
    fc.assert(
      fc.property(programArb, (program) => {
        expect(check(new Simulation(), program)).toEqual(check(new HeapJsSimulation(), program));
      }),
      { numRuns: RUNS },
    );
  });
});
