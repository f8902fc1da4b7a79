import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import seedrandom from 'seedrandom';
import {
  RandomStreams,
  Simulation,
  TraceDigest,
  type RandomStream,
  type ScheduledEvent,
} from '../../engine/index.js';
import { keptSeeds, MAX_SEEDS } from '../../engine/random.js';
import { HeapJsSimulation } from '../../engine/heap-js-simulation.js';

const RUNS = 300;

/** A random program: events at random times and priorities, some scheduling more, some cancelled. */
const programArb = fc.record({
  initial: fc.array(fc.record({ atUs: fc.nat(50), priority: fc.integer({ min: -2, max: 2 }) }), {
    maxLength: 40,
  }),
  // For each executed event (by run order, cycling), how many children it schedules and where.
  children: fc.array(
    fc.array(fc.record({ delayUs: fc.nat(20), priority: fc.integer({ min: -2, max: 2 }) }), {
      maxLength: 3,
    }),
    { maxLength: 20 },
  ),
  cancels: fc.array(fc.nat(), { maxLength: 10 }),
});

type Program = typeof programArb extends fc.Arbitrary<infer T> ? T : never;

interface Outcome {
  readonly ran: number[];
  readonly times: number[];
  readonly scheduled: number;
  readonly cancelled: Set<number>;
}

function execute(program: Program, maxChildren = 200): Outcome {
  const sim = new Simulation();
  const ran: number[] = [];
  const times: number[] = [];
  const handles: ScheduledEvent[] = [];
  const cancelled = new Set<number>();
  let childBudget = maxChildren;
  const schedule = (atUs: number, priority: number): void => {
    const id = handles.length;
    handles.push(
      sim.scheduleAt(
        atUs,
        () => {
          ran.push(id);
          times.push(sim.nowUs);
          const kids =
            program.children.length === 0
              ? []
              : program.children[ran.length % program.children.length]!;
          for (const kid of kids) {
            if (childBudget-- <= 0) return;
            schedule(sim.nowUs + kid.delayUs, kid.priority);
          }
        },
        { priority },
      ),
    );
  };
  for (const e of program.initial) schedule(e.atUs, e.priority);
  for (const c of program.cancels) {
    if (handles.length === 0) break;
    const id = c % handles.length;
    if (sim.cancel(handles[id]!)) cancelled.add(id);
  }
  sim.run();
  return { ran, times, scheduled: handles.length, cancelled };
}

describe('engine properties', () => {
  it('time never decreases; every live event runs exactly once; a cancelled one never runs', () => {
    fc.assert(
      fc.property(programArb, (program) => {
        const { ran, times, scheduled, cancelled } = execute(program);
        for (let i = 1; i < times.length; i++)
          expect(times[i]!).toBeGreaterThanOrEqual(times[i - 1]!);
        expect(new Set(ran).size).toBe(ran.length);
        for (const id of cancelled) expect(ran).not.toContain(id);
        expect(ran.length + cancelled.size).toBe(scheduled);
      }),
      { numRuns: RUNS },
    );
  });

  it('events run in (time, priority, insertion) order: model-based against a sorted list', () => {
    interface ModelEvent {
      readonly id: number;
      readonly timeUs: number;
      readonly priority: number;
      readonly seq: number;
    }
    interface Model {
      nowUs: number;
      seq: number;
      events: ModelEvent[];
    }
    interface Real {
      readonly sim: Simulation;
      readonly handles: Map<number, ScheduledEvent>;
      readonly ran: number[];
    }
    const byOrder = (a: ModelEvent, b: ModelEvent) =>
      a.timeUs - b.timeUs || a.priority - b.priority || a.seq - b.seq;

    class ScheduleCommand implements fc.Command<Model, Real> {
      constructor(
        readonly delayUs: number,
        readonly priority: number,
      ) {}
      check(): boolean {
        return true;
      }
      run(model: Model, real: Real): void {
        const id = model.seq;
        model.events.push({
          id,
          timeUs: model.nowUs + this.delayUs,
          priority: this.priority,
          seq: model.seq++,
        });
        real.handles.set(
          id,
          real.sim.schedule(this.delayUs, () => real.ran.push(id), { priority: this.priority }),
        );
      }
      toString(): string {
        return `schedule(+${this.delayUs}, p${this.priority})`;
      }
    }
    class CancelCommand implements fc.Command<Model, Real> {
      constructor(readonly pick: number) {}
      check(model: Model): boolean {
        return model.events.length > 0;
      }
      run(model: Model, real: Real): void {
        const victim = model.events[this.pick % model.events.length]!;
        model.events = model.events.filter((e) => e !== victim);
        expect(real.sim.cancel(real.handles.get(victim.id)!)).toBe(true);
        expect(real.sim.pending).toBe(model.events.length);
      }
      toString(): string {
        return `cancel(${this.pick})`;
      }
    }
    class StepCommand implements fc.Command<Model, Real> {
      check(): boolean {
        return true;
      }
      run(model: Model, real: Real): void {
        const expected = [...model.events].sort(byOrder)[0];
        const stepped = real.sim.step();
        if (expected === undefined) {
          expect(stepped).toBe(false);
          return;
        }
        model.events = model.events.filter((e) => e !== expected);
        model.nowUs = expected.timeUs;
        expect(real.ran.at(-1)).toBe(expected.id);
        expect(real.sim.nowUs).toBe(expected.timeUs);
      }
      toString(): string {
        return 'step';
      }
    }
    const commands = [
      fc
        .tuple(fc.nat(3), fc.integer({ min: -1, max: 1 }))
        .map(([d, p]) => new ScheduleCommand(d, p)),
      fc.nat().map((n) => new CancelCommand(n)),
      fc.constant(new StepCommand()),
    ];
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 60 }), (cmds) => {
        fc.modelRun(
          () => ({
            model: { nowUs: 0, seq: 0, events: [] },
            real: { sim: new Simulation(), handles: new Map(), ran: [] },
          }),
          cmds,
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('run({untilUs}) stops with now === untilUs, leaves later events pending, and resumes identically', () => {
    fc.assert(
      fc.property(programArb, fc.nat(80), (program, untilUs) => {
        const whole = execute(program);
        // Same program, split at untilUs.
        const sim = new Simulation();
        const ran: Array<[number, number]> = [];
        for (const [i, e] of program.initial.entries())
          sim.scheduleAt(e.atUs, () => ran.push([i, sim.nowUs]), { priority: e.priority });
        const result = sim.run({ untilUs });
        expect(result.end).toBe('until');
        expect(sim.nowUs).toBe(untilUs);
        for (const [, t] of ran) expect(t).toBeLessThan(untilUs);
        expect(sim.pending).toBe(program.initial.filter((e) => e.atUs >= untilUs).length);
        sim.run();
        const straight = new Simulation();
        const ran2: Array<[number, number]> = [];
        for (const [i, e] of program.initial.entries())
          straight.scheduleAt(e.atUs, () => ran2.push([i, straight.nowUs]), {
            priority: e.priority,
          });
        straight.run();
        expect(ran).toEqual(ran2);
        expect(whole.ran.length).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: RUNS },
    );
  });

  it('determinism: the same seed and program give the same trace digest; another seed a different one', () => {
    const digest = (seed: number, processes: number, steps: number): string => {
      const sim = new Simulation({ seed });
      const trace = new TraceDigest();
      trace.attach(sim);
      for (let p = 0; p < processes; p++) {
        const stream = sim.streams.get(`p${p}`);
        sim.process(
          (function* () {
            for (let i = 0; i < steps; i++) yield Math.floor(stream.double() * 1_000_000);
          })(),
          `p${p}`,
        );
      }
      sim.run();
      return trace.hex();
    };
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e9 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 20 }),
        (seed, processes, steps) => {
          expect(digest(seed, processes, steps)).toBe(digest(seed, processes, steps));
          expect(digest(seed, processes, steps)).not.toBe(digest(seed + 1, processes, steps));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('stream independence: creating and drawing from a new stream never changes another stream', () => {
    const nameArb = fc.string({ minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(
        fc.integer(),
        fc.uniqueArray(nameArb, { minLength: 2, maxLength: 6 }),
        fc.nat(50),
        (seed, names, extraDraws) => {
          const [watched, ...others] = names as [string, ...string[]];
          const alone = new RandomStreams(seed).get(watched);
          const expected = Array.from({ length: 20 }, () => alone.double());
          const crowded = new RandomStreams(seed);
          const got: number[] = [];
          for (let i = 0; i < 20; i++) {
            // Interleave draws from the other streams, created lazily in between.
            for (const other of others)
              for (let k = 0; k < extraDraws % 5; k++) crowded.get(other).double();
            got.push(crowded.get(watched).double());
          }
          expect(got).toEqual(expected);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('streams draw exactly what seedrandom Alea draws from the key tooltime/ROOT/NAME, states included', () => {
    const name = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.string({ unit: 'grapheme', maxLength: 20 }),
      fc.constantFrom('think', 'call/step/t1/s1/1', 'agent/impatient'),
    );
    fc.assert(
      fc.property(
        fc.oneof(fc.integer(), fc.string({ maxLength: 12 })),
        name,
        fc.nat(20),
        (seed, streamName, skip) => {
          type Stateful = { double(): number; state(): unknown };
          const reference = seedrandom.alea(`tooltime/${String(seed)}/${streamName}`, {
            state: true,
          }) as unknown as Stateful;
          const streams = new RandomStreams(seed);
          const named = streams.get(streamName);
          const derived = streams.derive(streamName);
          for (let i = 0; i < skip + 3; i++) {
            const want = reference.double();
            expect(named.double()).toBe(want);
            expect(derived.double()).toBe(want);
          }
          expect(named.state()).toEqual(reference.state());
          expect(derived.state()).toEqual(reference.state());
          expect(named.int(1000)).toBe(Math.floor(reference.double() * 1000));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('a seed remembered from an earlier stream (any root, any name) draws what seeding afresh draws; roots never share one', () => {
    type Stateful = { double(): number };
    const reference = (root: string | number, name: string): number[] => {
      const r = seedrandom.alea(`tooltime/${String(root)}/${name}`, {
        state: true,
      }) as unknown as Stateful;
      return [r.double(), r.double(), r.double()];
    };
    const draws = (s: RandomStream): number[] => [s.double(), s.double(), s.double()];
    fc.assert(
      fc.property(
        fc.oneof(fc.integer(), fc.string({ maxLength: 6 })),
        fc.oneof(fc.integer(), fc.string({ maxLength: 6 })),
        fc.string({ maxLength: 12 }),
        (rootA, rootB, name) => {
          // First use seeds and remembers; later ones, in new RandomStreams of either root, remember.
          for (let round = 0; round < 2; round++) {
            expect(draws(new RandomStreams(rootA).derive(name))).toEqual(reference(rootA, name));
            expect(draws(new RandomStreams(rootB).derive(name))).toEqual(reference(rootB, name));
            expect(draws(new RandomStreams(rootA).get(name))).toEqual(reference(rootA, name));
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it(`the seed memo keeps at most ${MAX_SEEDS} seeds, and streams made before it was emptied still seed right`, () => {
    const early = new RandomStreams('memo-bound');
    const late = new RandomStreams('memo-bound-other');
    for (let i = 0; i < 3 * MAX_SEEDS; i++) {
      const name = `n${i}`;
      const stream = (i % 2 === 0 ? early : late).derive(name);
      expect(keptSeeds()).toBeLessThanOrEqual(MAX_SEEDS);
      if (i % 997 === 0) {
        const want = seedrandom.alea(
          `tooltime/${i % 2 === 0 ? 'memo-bound' : 'memo-bound-other'}/${name}`,
          { state: true },
        ) as unknown as { double(): number };
        expect(stream.double()).toBe(want.double());
      }
    }
    // Everything derived before the last reset is seeded again, correctly, and remembered again.
    const before = keptSeeds();
    const again = early.derive('n0');
    expect(again.double()).toBe(
      (
        seedrandom.alea('tooltime/memo-bound/n0', { state: true }) as unknown as {
          double(): number;
        }
      ).double(),
    );
    expect(keptSeeds()).toBe(before + 1);
    expect(early.derive('n0').double()).toBe(new RandomStreams('memo-bound').derive('n0').double());
    expect(keptSeeds()).toBe(before + 1);
  });

  it('a stream snapshot restores the exact continuation', () => {
    fc.assert(
      fc.property(fc.integer(), fc.nat(100), (seed, skip) => {
        const streams = new RandomStreams(seed);
        const a = streams.get('a');
        const b = streams.get('b');
        for (let i = 0; i < skip; i++) (i % 2 === 0 ? a : b).double();
        const snapshot = JSON.parse(JSON.stringify(streams.snapshot()));
        const restored = RandomStreams.restore(snapshot);
        for (let i = 0; i < 10; i++) {
          expect(restored.get('a').double()).toBe(a.double());
          expect(restored.get('b').double()).toBe(b.double());
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe('heaps', () => {
  it('the engine heap and the heap-js one run any schedule in the same order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(30), fc.integer({ min: -2, max: 2 }), fc.boolean()), {
          maxLength: 80,
        }),
        (plan) => {
          const order = (heap: 'binary' | 'heap-js') => {
            const sim = heap === 'heap-js' ? new HeapJsSimulation() : new Simulation();
            const ran: number[] = [];
            const handles = plan.map(([t, p], i) =>
              sim.scheduleAt(t, () => ran.push(i), { priority: p }),
            );
            plan.forEach(([, , cancel], i) => {
              if (cancel) sim.cancel(handles[i]!);
            });
            sim.run();
            return ran;
          };
          expect(order('binary')).toEqual(order('heap-js'));
        },
      ),
      { numRuns: RUNS },
    );
  });
});
