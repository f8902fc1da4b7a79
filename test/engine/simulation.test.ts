import { describe, expect, it } from 'vitest';
import {
  type Interrupt,
  Priority,
  ProcessError,
  Resource,
  Simulation,
  SimulationError,
  TimeError,
  TraceDigest,
  msToUs,
  roundUs,
  sToUs,
} from '../../engine/index.js';
import type { ProcessGenerator, Signal } from '../../engine/index.js';

describe('time', () => {
  it('rounds to the nearest microsecond, ties up, and rejects what is not a safe time', () => {
    expect(roundUs(1.5)).toBe(2);
    expect(roundUs(2.4999)).toBe(2);
    expect(roundUs(-0.2)).toBe(0);
    expect(Object.is(roundUs(-0.4), 0)).toBe(true);
    expect(msToUs(1.2345)).toBe(1235);
    expect(sToUs(2)).toBe(2_000_000);
    expect(() => roundUs(Number.NaN, 'latency')).toThrow(/latency must be finite/);
    expect(() => roundUs(-3)).toThrow(TimeError);
    expect(() => roundUs(2 ** 60)).toThrow(TimeError);
  });
});

describe('scheduling', () => {
  it('runs events by time, then priority, then insertion order', () => {
    const sim = new Simulation();
    const order: string[] = [];
    const log = (name: string) => () => order.push(name);
    sim.scheduleAt(5, log('a5'));
    sim.scheduleAt(3, log('b3'));
    sim.scheduleAt(5, log('c5-urgent'), { priority: Priority.urgent });
    sim.scheduleAt(5, log('d5'));
    sim.scheduleAt(3, log('e3'));
    sim.run();
    expect(order).toEqual(['b3', 'e3', 'c5-urgent', 'a5', 'd5']);
    expect(sim.nowUs).toBe(5);
  });

  it('refuses to schedule in the past or with a bad delay', () => {
    const sim = new Simulation();
    sim.scheduleAt(10, () => {
      expect(() => sim.scheduleAt(9, () => undefined)).toThrow(
        /cannot schedule in the past: 9us < now 10us/,
      );
      expect(() => sim.schedule(-1, () => undefined)).toThrow(TimeError);
      expect(() => sim.schedule(0.5, () => undefined)).toThrow(TimeError);
    });
    sim.run();
  });

  it('cancels in O(1): a cancelled event never runs and is not counted as pending', () => {
    const sim = new Simulation();
    const ran: number[] = [];
    const a = sim.scheduleAt(1, () => ran.push(1));
    sim.scheduleAt(2, () => ran.push(2));
    expect(sim.pending).toBe(2);
    expect(sim.cancel(a)).toBe(true);
    expect(sim.cancel(a)).toBe(false);
    expect(sim.pending).toBe(1);
    sim.run();
    expect(ran).toEqual([2]);
    expect(sim.cancel(a)).toBe(false);
  });

  it('run({untilUs}) runs events strictly before untilUs, stops there, and resumes identically', () => {
    const trace = (split: boolean) => {
      const sim = new Simulation();
      const seen: Array<[number, string]> = [];
      for (const t of [0, 4, 5, 5, 9]) sim.scheduleAt(t, () => seen.push([sim.nowUs, `e${t}`]));
      if (split) {
        const first = sim.run({ untilUs: 5 });
        expect(first.end).toBe('until');
        expect(sim.nowUs).toBe(5);
        expect(sim.pending).toBe(3);
        expect(seen.map((s) => s[1])).toEqual(['e0', 'e4']);
      }
      sim.run();
      return seen;
    };
    expect(trace(true)).toEqual(trace(false));
  });

  it('run({maxEvents}) and stop() end the run early', () => {
    const sim = new Simulation();
    for (let i = 0; i < 10; i++) sim.scheduleAt(i, () => (i === 6 ? sim.stop() : undefined));
    expect(sim.run({ maxEvents: 3 })).toEqual({ end: 'maxEvents', eventsRun: 3 });
    expect(sim.run()).toEqual({ end: 'stopped', eventsRun: 4 });
    expect(sim.nowUs).toBe(6);
    expect(sim.run()).toEqual({ end: 'empty', eventsRun: 3 });
  });
});

describe('processes', () => {
  it('yields delays, signals and other processes, and returns values', () => {
    const sim = new Simulation();
    const log: string[] = [];
    const child = sim.process(
      (function* (): ProcessGenerator<string> {
        yield 10;
        log.push(`child woke at ${sim.nowUs}`);
        return 'child-result';
      })(),
      'child',
    );
    sim.process(
      (function* () {
        const got = yield child;
        log.push(`parent got ${String(got)} at ${sim.nowUs}`);
        const v = yield sim.timeout(5, 'tick');
        log.push(`timeout gave ${String(v)} at ${sim.nowUs}`);
      })(),
      'parent',
    );
    sim.run();
    expect(log).toEqual([
      'child woke at 10',
      'parent got child-result at 10',
      'timeout gave tick at 15',
    ]);
  });

  it('resumes waiters of a signal in the order they started waiting', () => {
    const sim = new Simulation();
    const go = sim.signal<number>('go');
    const order: string[] = [];
    for (const name of ['p1', 'p2', 'p3']) {
      sim.process(
        (function* () {
          const v = yield go;
          order.push(`${name}:${String(v)}`);
        })(),
      );
    }
    // Registered after the processes have started waiting (they start at t=0, this runs at t=1).
    sim.scheduleAt(1, () => go.onSettled(() => order.push('callback')));
    sim.scheduleAt(7, () => go.succeed(42));
    sim.run();
    expect(order).toEqual(['p1:42', 'p2:42', 'p3:42', 'callback']);
  });

  it('throws a failed signal into its waiter', () => {
    const sim = new Simulation();
    const s = sim.signal('s');
    let caught = '';
    sim.process(
      (function* () {
        try {
          yield s;
        } catch (e) {
          caught = (e as Error).message;
        }
      })(),
    );
    sim.schedule(3, () => s.fail(new Error('boom')));
    sim.run();
    expect(caught).toBe('boom');
  });

  it('allOf waits for every signal; anyOf for the first', () => {
    const sim = new Simulation();
    const results: unknown[] = [];
    sim.process(
      (function* () {
        results.push(yield sim.allOf([sim.timeout(3, 'a'), sim.timeout(1, 'b')]));
        results.push(sim.nowUs);
        results.push(yield sim.anyOf([sim.timeout(8, 'slow'), sim.timeout(2, 'fast')]));
        results.push(sim.nowUs);
      })(),
    );
    sim.run();
    expect(results).toEqual([['a', 'b'], 3, { index: 1, value: 'fast' }, 5]);
  });

  it('interrupt abandons the wait and throws Interrupt into the process at the current time', () => {
    const sim = new Simulation();
    const log: string[] = [];
    const sleeper = sim.process(
      (function* () {
        try {
          yield 100;
          log.push('slept fully');
        } catch (e) {
          log.push(`interrupted at ${sim.nowUs} by ${String((e as Interrupt).reason)}`);
        }
        yield 10;
        log.push(`done at ${sim.nowUs}`);
      })(),
    );
    sim.scheduleAt(30, () => sleeper.interrupt('alarm'));
    sim.run();
    expect(log).toEqual(['interrupted at 30 by alarm', 'done at 40']);
    expect(sleeper.isAlive).toBe(false);
  });

  it('an unhandled process error escapes from run', () => {
    const sim = new Simulation();
    sim.process(
      (function* () {
        yield 1;
        throw new Error('kaboom');
      })(),
      'crasher',
    );
    expect(() => sim.run()).toThrow(ProcessError);
  });

  it('a handled process error fails its done signal instead', () => {
    const sim = new Simulation();
    const crasher = sim.process(
      (function* () {
        yield 1;
        throw new Error('kaboom');
      })(),
    );
    let seen = '';
    sim.process(
      (function* () {
        try {
          yield crasher;
        } catch (e) {
          seen = (e as Error).message;
        }
      })(),
    );
    sim.run();
    expect(seen).toBe('kaboom');
  });
});

describe('external decisions', () => {
  it('runAsync awaits a yielded Promise without advancing simulated time', async () => {
    const sim = new Simulation();
    const log: string[] = [];
    sim.process(
      (function* () {
        yield 5;
        const answer = yield new Promise((resolve) =>
          setTimeout(() => resolve('model says hi'), 5),
        );
        log.push(`${String(answer)} at ${sim.nowUs}`);
        yield 1;
        log.push(`after at ${sim.nowUs}`);
      })(),
    );
    // An event at the same instant must still wait for the decision (the loop runs nothing meanwhile).
    sim.scheduleAt(1, () => sim.scheduleAt(5, () => log.push(`other at ${sim.nowUs}`)));
    await sim.runAsync();
    expect(log).toEqual(['model says hi at 5', 'other at 5', 'after at 6']);
  });

  it('runAsync awaits a Promise returned by a callback and surfaces its rejection', async () => {
    const sim = new Simulation();
    const log: number[] = [];
    sim.scheduleAt(2, async () => {
      await new Promise((r) => setTimeout(r, 1));
      log.push(sim.nowUs);
    });
    sim.scheduleAt(3, () => log.push(sim.nowUs));
    await sim.runAsync();
    expect(log).toEqual([2, 3]);
    sim.schedule(1, () => Promise.reject(new Error('api down')));
    await expect(sim.runAsync()).rejects.toThrow('api down');
  });

  it('run (sync) rejects an external decision with a clear error', () => {
    const sim = new Simulation();
    sim.schedule(0, () => Promise.resolve(1));
    expect(() => sim.run()).toThrow(SimulationError);
  });

  it('runAsync over plain handlers never yields to the microtask queue per event', async () => {
    const sim = new Simulation();
    let microtasks = 0;
    const n = 1000;
    for (let i = 0; i < n; i++) sim.scheduleAt(i, () => undefined);
    // Count how many microtask turns pass while the whole run completes.
    let stop = false;
    const spin = (): void => {
      if (stop) return;
      microtasks++;
      queueMicrotask(spin);
    };
    queueMicrotask(spin);
    const done = sim.runAsync();
    stop = true;
    const result = await done;
    expect(result.eventsRun).toBe(n);
    // The run finished synchronously inside runAsync: no microtask turn ran before it returned.
    expect(microtasks).toBe(0);
  });
});

describe('resource', () => {
  it('grants slots in FIFO order and never beyond capacity', () => {
    const sim = new Simulation();
    const tool = new Resource('tool', 2);
    const log: string[] = [];
    for (const [name, at] of [
      ['a', 0],
      ['b', 0],
      ['c', 1],
      ['d', 1],
    ] as const) {
      sim.scheduleAt(at, () =>
        tool.acquire(() => {
          log.push(`${name}+${sim.nowUs}`);
          sim.schedule(10, () => tool.release());
        }),
      );
    }
    sim.run();
    expect(log).toEqual(['a+0', 'b+0', 'c+10', 'd+10']);
    expect(tool.peak).toBe(2);
    expect(() => tool.release()).toThrow(/release without a slot/);
  });

  it('stays FIFO over a queue that never empties, across the moves that drop its granted requests', () => {
    const sim = new Simulation();
    const tool = new Resource('tool', 1);
    const granted: number[] = [];
    // A request every 1 µs, each holding the slot 2 µs: the queue grows for the whole run.
    for (let i = 0; i < 5000; i++) {
      sim.scheduleAt(i, () =>
        tool.acquire(() => {
          granted.push(i);
          sim.schedule(2, () => tool.release());
        }),
      );
    }
    sim.run({ untilUs: 5000 });
    expect(tool.queued).toBeGreaterThan(2000);
    expect(granted).toEqual(Array.from({ length: granted.length }, (_, i) => i));
    sim.run();
    expect(granted).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    expect(tool.queued).toBe(0);
  });
});

describe('trace hook', () => {
  it('shows every executed event in order, and detaches', () => {
    const sim = new Simulation();
    const seen: string[] = [];
    const detach = sim.onEvent((r) => seen.push(`${r.timeUs}:${r.label}:${String(r.payload)}`));
    sim.scheduleAt(2, () => undefined, { label: 'ping', payload: 'x' });
    sim.process(
      (function* () {
        yield 1;
      })(),
      'p',
    );
    sim.run();
    expect(seen).toEqual([
      '0:process:undefined',
      '1:process:undefined',
      '1:signal:undefined',
      '2:ping:x',
    ]);
    detach();
    sim.schedule(1, () => undefined);
    sim.run();
    expect(seen).toHaveLength(4);
  });

  it('a trace digest is equal for equal runs and differs for different seeds', () => {
    const digestOf = (seed: number) => {
      const sim = new Simulation({ seed });
      const digest = new TraceDigest();
      digest.attach(sim);
      const stream = sim.streams.get('delays');
      for (let p = 0; p < 5; p++) {
        sim.process(
          (function* () {
            for (let i = 0; i < 20; i++) yield Math.floor(stream.double() * 1000);
          })(),
        );
      }
      sim.run();
      return digest.hex();
    };
    expect(digestOf(1)).toBe(digestOf(1));
    expect(digestOf(1)).not.toBe(digestOf(2));
  });
});

describe('signals', () => {
  it('cannot be settled twice', () => {
    const sim = new Simulation();
    const s: Signal<number> = sim.signal('once');
    s.succeed(1);
    expect(() => s.succeed(2)).toThrow(/already succeeded/);
  });
});

// Processes and signals queue themselves (no event object per entry) and are cancelled by moving
// on from the entry's seq: these hold what that must keep of the old event objects' behaviour.
describe('queue entries of processes and signals', () => {
  it('an interrupt kills the queued wake-up: pending drops by one and the old delay never resumes it', () => {
    const sim = new Simulation();
    const log: string[] = [];
    const sleeper = sim.process(
      (function* () {
        try {
          yield 100;
        } catch {
          log.push(`interrupted at ${sim.nowUs}`);
        }
        yield 500;
        log.push(`woke at ${sim.nowUs}`);
      })(),
    );
    sim.run({ untilUs: 30 });
    expect(sim.pending).toBe(1);
    sleeper.interrupt('now');
    // The dead wake-up (at 100) is still queued but not pending; the interrupt is.
    expect(sim.pending).toBe(1);
    expect(sim.peekUs()).toBe(30);
    sim.run({ untilUs: 200 });
    expect(log).toEqual(['interrupted at 30']);
    expect(sim.pending).toBe(1);
    sim.run();
    expect(log).toEqual(['interrupted at 30', 'woke at 530']);
    expect(sim.pending).toBe(0);
  });

  it('a timeout settled by hand fires once, now, as a signal; its clock entry is dead', () => {
    const sim = new Simulation();
    const seen: string[] = [];
    sim.onEvent((r) => seen.push(`${r.timeUs}:${r.label}:${String(r.payload)}`));
    const t = sim.timeout(100, 'clock');
    let got: unknown;
    sim.process(
      (function* () {
        got = yield t;
      })(),
      'waiter',
    );
    sim.scheduleAt(10, () => t.succeed('hand'));
    sim.run({ untilUs: 50 });
    expect(got).toBe('hand');
    expect(sim.pending).toBe(0);
    expect(sim.peekUs()).toBeUndefined();
    sim.run();
    expect(seen).toEqual([
      '0:process:undefined',
      '10:callback:undefined',
      '10:signal:hand',
      '10:signal:undefined',
    ]);
    expect(sim.eventsRun).toBe(4);
  });

  it('trace labels: a timeout running out is `timeout`, an interrupt `interrupt`, a late waiter `process`', () => {
    const sim = new Simulation();
    const seen: string[] = [];
    sim.onEvent((r) => seen.push(`${r.timeUs}:${r.priority}:${r.seq}:${r.label}`));
    const t = sim.timeout(5, 'v');
    const p = sim.process(
      (function* () {
        yield t;
        yield 100;
      })(),
    );
    sim.scheduleAt(7, () => {
      p.interrupt();
      sim.process(
        (function* () {
          expect(yield t).toBe('v');
        })(),
      );
    });
    expect(() => sim.run()).toThrow(ProcessError);
    expect(seen).toEqual(['0:-1:1:process', '5:0:0:timeout', '7:0:2:callback', '7:-1:4:interrupt']);
    sim.run();
    expect(seen.slice(4)).toEqual(['7:-1:5:process', '7:0:6:process', '7:0:7:signal']);
  });

  it('a process keeps its name when its done signal is made, and done is named after it', () => {
    const sim = new Simulation();
    const named = sim.process(
      (function* () {
        yield 1;
      })(),
      'worker',
    );
    const unnamed = sim.process(
      (function* () {
        yield 1;
      })(),
    );
    expect([named.name, unnamed.name]).toEqual(['worker', 'process-2']);
    expect([named.done.name, unnamed.done.name]).toEqual(['worker.done', 'process-2.done']);
    expect(named.done).toBe(named.done);
    expect([named.name, unnamed.name]).toEqual(['worker', 'process-2']);
    sim.run();
    expect(named.done.state).toBe('succeeded');
    expect(unnamed.state).toBe('finished');
  });
});

describe('process handles (the simulation keeps its processes in a table and reuses slots)', () => {
  function* returning(delayUs: number, value: string): ProcessGenerator<string> {
    yield delayUs;
    return value;
  }

  it('a finished process handle stays finished when its slot is reused: done keeps its value, interrupt refuses, the new process is untouched', () => {
    const sim = new Simulation();
    const first = sim.process(returning(1, 'first'));
    sim.run();
    // Not asked for while it ran: its done is found by the handle after the slot is reused.
    const second = sim.process(returning(5, 'second'), 'second');
    expect(second.slot).toBe(first.slot);
    expect(first.isAlive).toBe(false);
    expect(first.state).toBe('finished');
    expect(second.isAlive).toBe(true);
    expect(first.name).toBe('process-1');
    expect(first.done.value).toBe('first');
    expect(() => first.interrupt('stale')).toThrow('process process-1 has finished');
    sim.run();
    expect(second.done.value).toBe('second');
    expect(sim.nowUs).toBe(6);
  });

  it('a process waiting on a reused slot-mate sees the right one: yield of a finished handle resumes with its value', () => {
    const sim = new Simulation();
    const first = sim.process(returning(1, 'first'));
    const seen: unknown[] = [];
    sim.process(
      (function* () {
        yield 3;
        // first has finished and its slot holds a later process meanwhile.
        const later = sim.process(returning(10, 'later'));
        expect(later.slot).toBe(first.slot);
        seen.push(yield first, sim.nowUs);
        seen.push(yield later, sim.nowUs);
      })(),
    );
    sim.run();
    expect(seen).toEqual(['first', 3, 'later', 13]);
  });

  it('a handle dropped by its caller is not needed: names of unnamed processes count on, and slots are reused at most once at a time', () => {
    const sim = new Simulation();
    const names: string[] = [];
    for (let i = 0; i < 3; i++) sim.process(returning(i + 1, `v${i}`));
    sim.run();
    const later = [sim.process(returning(1, 'a')), sim.process(returning(1, 'b'))];
    const slots = new Set(later.map((p) => p.slot));
    for (const p of later) names.push(p.name, p.done.name);
    expect(slots.size).toBe(2);
    expect(names).toEqual(['process-4', 'process-4.done', 'process-5', 'process-5.done']);
    sim.run();
    expect(later.map((p) => p.done.value)).toEqual(['a', 'b']);
  });
});

describe('process handles: a generator that cannot take a property', () => {
  it('a frozen generator runs to its end, and its done succeeds whether asked for while it ran or only after (regression: asked after, it never settled)', () => {
    const sim = new Simulation();
    const frozen = () =>
      Object.freeze(
        (function* (): ProcessGenerator<string> {
          yield 1;
          return 'frozen';
        })(),
      );
    const unasked = sim.process(frozen());
    const asked = sim.process(frozen());
    const done = asked.done;
    expect(sim.run().end).toBe('empty');
    expect(done.value).toBe('frozen');
    expect([unasked.isAlive, asked.isAlive]).toEqual([false, false]);
    expect([unasked.done.state, unasked.done.value]).toEqual(['succeeded', 'frozen']);
    expect(sim.nowUs).toBe(1);
  });
});
