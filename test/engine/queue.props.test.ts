import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Simulation, TraceDigest, type ScheduledEvent } from '../../engine/index.js';
import { HeapJsEventQueue, SEQ_SPAN, TypedEventQueue } from '../../engine/heap.js';
import { HeapJsSimulation } from '../../engine/heap-js-simulation.js';
import { MAX_PRIORITY, MIN_PRIORITY, type EventQueue } from '../../engine/queue.js';

// Thousands of cases: the queue is the engine's order, and its bugs hide in rare shapes.
const RUNS = 2000;

interface Ref {
  readonly timeUs: number;
  readonly priority: number;
  readonly seq: number;
  readonly id: number;
}

const byOrder = (a: Ref, b: Ref) => a.timeUs - b.timeUs || a.priority - b.priority || a.seq - b.seq;

// Few distinct times, so equal times (and equal priorities) are the rule, not the exception.
const priorityArb = fc.oneof(
  fc.integer({ min: -2, max: 2 }),
  fc.constantFrom(MIN_PRIORITY, MAX_PRIORITY),
);
const opArb = fc.oneof(
  { weight: 3, arbitrary: fc.record({ push: fc.nat(6), priority: priorityArb }) },
  { weight: 2, arbitrary: fc.constant({ pop: true as const }) },
);

/** Runs `ops` on `queue` and on a sorted-list reference; returns what each popped. */
function drive(
  queue: EventQueue,
  ops: ReadonlyArray<{ push: number; priority: number } | { pop: true }>,
) {
  let ref: Ref[] = [];
  let nowUs = 0;
  let nextId = 0;
  const popped: number[] = [];
  const expected: number[] = [];
  const take = () => {
    expect(queue.pop()).toBe(true);
    popped.push(queue.topItem as number);
    const first = [...ref].sort(byOrder)[0]!;
    ref = ref.filter((r) => r !== first);
    expected.push(first.id);
    expect(queue.topTimeUs).toBe(first.timeUs);
    expect(queue.topPriority).toBe(first.priority);
    expect(queue.topSeq).toBe(first.seq);
    nowUs = first.timeUs;
  };
  for (const op of ops) {
    if ('pop' in op) {
      if (ref.length === 0) expect(queue.pop()).toBe(false);
      else take();
    } else {
      // Times never go back past the last pop, as in a simulation.
      const timeUs = nowUs + op.push;
      const id = nextId++;
      const seq = queue.push(timeUs, op.priority, id);
      ref.push({ timeUs, priority: op.priority, seq, id });
    }
    expect(queue.length).toBe(ref.length);
    expect(queue.peekTime()).toBe(
      ref.length === 0 ? Number.POSITIVE_INFINITY : [...ref].sort(byOrder)[0]!.timeUs,
    );
  }
  while (ref.length > 0) take();
  expect(queue.pop()).toBe(false);
  return { popped, expected };
}

describe('event queues against a sorted list by (time, priority, seq)', () => {
  for (const [name, make] of [
    ['the typed-array queue', () => new TypedEventQueue()],
    ['the heap-js queue', () => new HeapJsEventQueue()],
  ] as const) {
    it(`${name} pops in the reference order, FIFO at equal time and priority`, () => {
      fc.assert(
        fc.property(fc.array(opArb, { maxLength: 400 }), (ops) => {
          const { popped, expected } = drive(make(), ops);
          expect(popped).toEqual(expected);
        }),
        { numRuns: RUNS },
      );
    });
  }

  it('seqs count insertions from 0, and entries() lists every queued entry', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(5), priorityArb), { maxLength: 200 }), (pushes) => {
        const queue = new TypedEventQueue();
        pushes.forEach(([t, p], i) => {
          expect(queue.push(t, p, i)).toBe(i);
        });
        const listed = queue
          .entries()
          .map((e) => [e.timeUs, e.priority, e.seq, e.item])
          .sort((a, b) => (a[2] as number) - (b[2] as number));
        expect(listed).toEqual(pushes.map(([t, p], i) => [t, p, i, i]));
      }),
      { numRuns: RUNS },
    );
  });
});

// What the adopted-timeout path (engine/timeout.ts) asks of a queue beyond push and pop.
const adoptOpArb = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ push: fc.nat(4), priority: fc.integer({ min: -1, max: 1 }) }),
  },
  { weight: 2, arbitrary: fc.constant({ pop: true as const }) },
  { weight: 1, arbitrary: fc.record({ replace: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ repush: fc.nat(), delay: fc.nat(4) }) },
);

interface Handed {
  readonly timeUs: number;
  readonly priority: number;
  readonly seq: number;
  id: number;
  popped: boolean;
}

describe('event queues: replacing the last item, re-queuing under a seq, which normal entries popped', () => {
  for (const [name, make] of [
    ['the typed-array queue', () => new TypedEventQueue()],
    ['the heap-js queue', () => new HeapJsEventQueue()],
  ] as const) {
    it(`${name} agrees with a sorted list`, () => {
      fc.assert(
        fc.property(fc.array(adoptOpArb, { maxLength: 200 }), (ops) => {
          const queue = make();
          const all: Handed[] = [];
          let queued: Handed[] = [];
          let last: Handed | null = null;
          let nowUs = 0;
          let nextId = 0;
          for (const op of ops) {
            if ('pop' in op) {
              last = null;
              if (queued.length === 0) continue;
              const first = [...queued].sort(byOrder)[0]!;
              queued = queued.filter((h) => h !== first);
              first.popped = true;
              expect(queue.pop()).toBe(true);
              expect([queue.topTimeUs, queue.topSeq, queue.topItem]).toEqual([
                first.timeUs,
                first.seq,
                first.id,
              ]);
              nowUs = first.timeUs;
            } else if ('push' in op) {
              const timeUs = nowUs + op.push;
              const h = { timeUs, priority: op.priority, seq: 0, id: nextId++, popped: false };
              const seq = queue.push(timeUs, op.priority, h.id);
              last = { ...h, seq };
              all.push(last);
              queued.push(last);
            } else if ('replace' in op) {
              // The last pushed entry's seq, or another one: only the former may be replaced.
              const target = op.replace ? last : all[0];
              if (target === undefined || target === null) continue;
              const id = nextId++;
              const replaced = queue.replaceLastItem(target.seq, id);
              expect(replaced).toBe(target === last);
              if (replaced) target.id = id;
            } else {
              // Re-queue a seq handed out before, at normal priority, as a timeout is: only where
              // it has not popped yet, and never twice under one key.
              const old = all[op.repush % Math.max(all.length, 1)];
              if (old === undefined) continue;
              const timeUs = nowUs + op.delay;
              // (the timeout's own entry was queued there all along: nothing later at its time and
              // priority has popped before it).
              const passed = all.some(
                (h) => h.popped && h.priority === 0 && h.timeUs === timeUs && h.seq >= old.seq,
              );
              const twice = all.some(
                (h) => h.timeUs === timeUs && h.priority === 0 && h.seq === old.seq,
              );
              if (passed || twice) continue;
              const h = { timeUs, priority: 0, seq: old.seq, id: nextId++, popped: false };
              queue.pushWithSeq(timeUs, 0, old.seq, h.id);
              all.push(h);
              queued.push(h);
              last = null;
            }
            expect(queue.length).toBe(queued.length);
            for (const h of all)
              if (h.priority === 0) expect(queue.normalPopped(h.timeUs, h.seq)).toBe(h.popped);
          }
        }),
        { numRuns: 1000 },
      );
    });
  }

  it('a seq never handed out is not re-queued: an invariant error', () => {
    for (const queue of [new TypedEventQueue(), new HeapJsEventQueue()]) {
      queue.push(0, 0, 'a');
      expect(() => queue.pushWithSeq(0, 0, 1, 'b')).toThrow(/never handed out/);
    }
  });
});

describe('queue bounds', () => {
  it('a full queue is a RangeError naming the bound, and the queue is left as it was', () => {
    const queue = new TypedEventQueue(100);
    for (let i = 0; i < 100; i++) queue.push(i, 0, i);
    expect(() => queue.push(0, 0, 'one more')).toThrow(
      /event queue is full \(100 events queued; the bound is MAX_QUEUED_EVENTS\)/,
    );
    expect(queue.length).toBe(100);
    const order: unknown[] = [];
    while (queue.pop()) order.push(queue.topItem);
    expect(order).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const heapJs = new HeapJsEventQueue(3);
    for (let i = 0; i < 3; i++) heapJs.push(i, 0, i);
    expect(() => heapJs.push(0, 0, 'one more')).toThrow(/event queue is full \(3 events/);
  });

  it('more than 2^44 insertions is an invariant error, not a silently wrong order', () => {
    const queue = new TypedEventQueue();
    (queue as unknown as { nextSeq: number }).nextSeq = SEQ_SPAN - 1;
    expect(queue.push(0, 0, 'last')).toBe(SEQ_SPAN - 1);
    expect(() => queue.push(0, 0, 'past the bound')).toThrow(/event queue invariant/);
  });

  it('a priority outside [-128, 127] or not an integer is refused in one line', () => {
    const sim = new Simulation();
    for (const priority of [128, -129, 0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => sim.schedule(0, () => undefined, { priority })).toThrow(
        /^priority must be an integer in \[-128, 127\], got /,
      );
    }
    expect(sim.pending).toBe(0);
    sim.schedule(0, () => undefined, { priority: MIN_PRIORITY });
    sim.schedule(0, () => undefined, { priority: MAX_PRIORITY });
    expect(sim.pending).toBe(2);
  });
});

/** A random program of callbacks: times, priorities, cancellations, and a time to stop at. */
const programArb = fc.record({
  events: fc.array(fc.tuple(fc.nat(20), priorityArb), { maxLength: 120 }),
  cancels: fc.array(fc.nat(), { maxLength: 30 }),
  untilUs: fc.nat(25),
});

describe('the simulation runs its queue in the reference order', () => {
  it('cancelled events never run; run({untilUs}) runs exactly the live events before it, in order, then the rest', () => {
    fc.assert(
      fc.property(programArb, ({ events, cancels, untilUs }) => {
        const sim = new Simulation();
        const ran: number[] = [];
        const handles: ScheduledEvent[] = events.map(([t, p], id) =>
          sim.scheduleAt(t, () => ran.push(id), { priority: p }),
        );
        const cancelled = new Set<number>();
        for (const c of cancels) {
          if (handles.length === 0) break;
          const id = c % handles.length;
          expect(sim.cancel(handles[id]!)).toBe(!cancelled.has(id));
          cancelled.add(id);
        }
        const live: Ref[] = events
          .map(([timeUs, priority], id) => ({ timeUs, priority, seq: id, id }))
          .filter((r) => !cancelled.has(r.id))
          .sort(byOrder);
        expect(sim.pending).toBe(live.length);
        const before = live.filter((r) => r.timeUs < untilUs);
        const result = sim.run({ untilUs });
        expect(ran).toEqual(before.map((r) => r.id));
        expect(result.eventsRun).toBe(before.length);
        expect(sim.nowUs).toBe(untilUs);
        expect(sim.pending).toBe(live.length - before.length);
        expect(sim.peekUs()).toBe(live[before.length]?.timeUs);
        sim.run();
        expect(ran).toEqual(live.map((r) => r.id));
        expect(sim.pending).toBe(0);
      }),
      { numRuns: RUNS },
    );
  });

  it('processes, timeouts, signals and interrupts run the same on the typed-array queue and on heap-js', () => {
    const stepArb = fc.oneof(
      fc.record({ delay: fc.nat(4) }),
      fc.record({ timeout: fc.nat(4) }),
      fc.record({ settleEarly: fc.nat(4) }),
      fc.record({ interrupt: fc.nat(7) }),
      fc.record({ schedule: fc.nat(4), priority: priorityArb }),
    );
    const planArb = fc.array(fc.array(stepArb, { maxLength: 8 }), { minLength: 1, maxLength: 8 });
    const trace = (plan: ReadonlyArray<ReadonlyArray<Record<string, number>>>, heapJs: boolean) => {
      const sim = heapJs ? new HeapJsSimulation() : new Simulation();
      const digest = new TraceDigest();
      digest.attach(sim);
      const log: string[] = [];
      const processes = plan.map((steps, p) =>
        sim.process(
          (function* () {
            for (const step of steps) {
              try {
                if (step.delay !== undefined) yield step.delay;
                else if (step.timeout !== undefined) yield sim.timeout(step.timeout, p);
                else if (step.settleEarly !== undefined) {
                  // A timeout settled by hand before its clock: its clock entry dies.
                  const t = sim.timeout(step.settleEarly + 1, 'late');
                  sim.schedule(step.settleEarly, () => {
                    if (!t.settled) t.succeed('early');
                  });
                  log.push(`${p}:${String(yield t)}@${sim.nowUs}`);
                } else if (step.interrupt !== undefined) {
                  const victim = processes[step.interrupt % processes.length];
                  if (victim?.isAlive && victim !== processes[p]) victim.interrupt(`by ${p}`);
                  yield 0;
                } else {
                  sim.schedule(step.schedule!, () => log.push(`cb${p}@${sim.nowUs}`), {
                    priority: step.priority!,
                  });
                }
              } catch (error) {
                log.push(`${p}:caught ${(error as Error).message}@${sim.nowUs}`);
              }
            }
          })(),
        ),
      );
      // An interrupt before a process first runs escapes from run (nothing waits on it): note it
      // and run on, so that path is compared too.
      for (let escaped = 0; ; escaped++) {
        expect(escaped).toBeLessThanOrEqual(plan.length);
        try {
          sim.run();
          break;
        } catch (error) {
          log.push(`escaped: ${(error as Error).message}@${sim.nowUs}`);
        }
      }
      expect(sim.pending).toBe(0);
      return { digest: digest.hex(), count: digest.count, log, now: sim.nowUs };
    };
    fc.assert(
      fc.property(planArb, (plan) => {
        expect(trace(plan, false)).toEqual(trace(plan, true));
      }),
      { numRuns: RUNS },
    );
  });
});
