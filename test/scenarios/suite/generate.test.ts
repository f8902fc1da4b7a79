import fc from 'fast-check';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  compileDistribution,
  RandomStreams,
  type DistributionSpec,
} from '../../../engine/index.js';
import { canonicalJson, getPath } from '../../../scenarios/spec/canonical.js';
import type { SeedTask } from '../../../scenarios/suite/domains.js';
import {
  applyVariant,
  buildCatalog,
  compose,
  deepen,
  dropNearDuplicates,
  expectedCriticalPathMs,
  FAILURE_RANGE,
  FAST_RANGE,
  finalize,
  followup,
  FOLLOWUP_RANGE,
  generate,
  GENERATOR_TOOL_NAMES,
  HEAVY_ALPHA_RANGE,
  HEAVY_TAIL_CAP_MEANS,
  injectFailures,
  limitConcurrency,
  meanMs,
  ONE_SLOW_RANGE,
  planSlots,
  SLOW_RANGE,
  STAGGER_RANGE,
  stagger,
  stepResult,
  structureHash,
  scenarioDocument,
  thinkMeanMs,
  widen,
  writeSuite,
  type Draft,
  type Variant,
} from '../../../scenarios/suite/index.js';
import type { Scenario, Step, Tool } from '../../../scenarios/spec/schema.js';
import { validateScenario } from '../../../scenarios/spec/validate.js';

const catalog = buildCatalog();
const SEEDS: SeedTask[] = catalog.domains.flatMap((d) => d.seeds);
const RUNS = { numRuns: 40 };

const temps: string[] = [];
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

/** 2-3 distinct seed tasks (any domains) and a stream seed. */
const inputArb = fc.record({
  seeds: fc
    .uniqueArray(fc.nat(SEEDS.length - 1), { minLength: 2, maxLength: 3 })
    .map((ix) => ix.map((i) => SEEDS[i]!)),
  seed: fc.nat(1_000_000),
});

function stream(seed: number, name: string) {
  return new RandomStreams(seed).get(name);
}

function composed(input: { seeds: SeedTask[]; seed: number }): Draft {
  return compose(catalog, input.seeds, stream(input.seed, 'compose'));
}

function problems(draft: Draft): string[] {
  return validateScenario(scenarioDocument(finalize(draft, 'test-0001'))).map(
    (p) => `${p.path}: ${p.message}`,
  );
}

function stepsOf(s: Scenario): Array<{ task: string; step: Step; message: boolean }> {
  return [
    ...s.tasks.flatMap((t) => t.steps.map((step) => ({ task: t.id, step, message: false }))),
    ...s.messages.flatMap((m) => m.steps.map((step) => ({ task: m.task, step, message: true }))),
  ];
}

function toolNamed(s: Scenario, name: string): Tool {
  const t = s.tools.find((x) => x.name === name);
  if (t === undefined) throw new Error(`no tool ${name}`);
  return t;
}

/** New steps of `after` relative to `before`, keyed task/step. */
function newSteps(
  before: Scenario,
  after: Scenario,
): Array<{ task: string; step: Step; message: boolean }> {
  const old = new Set(stepsOf(before).map((x) => `${x.task}/${x.step.id}`));
  return stepsOf(after).filter((x) => !old.has(`${x.task}/${x.step.id}`));
}

/** The data flow of `step` holds: each input's value in its source's result equals the arg. */
function flowHolds(s: Scenario, task: string, step: Step): boolean {
  const own = stepsOf(s).filter((x) => x.task === task);
  return step.inputs.every((input) => {
    const src = own.find((x) => x.step.id === input.from)?.step;
    if (src === undefined || !step.after.includes(input.from)) return false;
    const value = getPath(stepResult(toolNamed(s, src.tool), src.args), input.path);
    return (
      value !== undefined && canonicalJson(value) === canonicalJson(getPath(step.args, input.arg))
    );
  });
}

describe('generate: determinism and validity', () => {
  it('the same seed gives byte-identical files; another seed gives different ones', () => {
    const a = mkdtempSync(join(tmpdir(), 'tooltime-gen-a-'));
    const b = mkdtempSync(join(tmpdir(), 'tooltime-gen-b-'));
    temps.push(a, b);
    writeSuite(a, generate({ seed: 11, count: 24 }));
    writeSuite(b, generate({ seed: 11, count: 24 }));
    const files = readdirSync(a).sort();
    expect(files).toEqual(readdirSync(b).sort());
    expect(files).toHaveLength(25);
    for (const f of files)
      expect(readFileSync(join(b, f), 'utf8')).toBe(readFileSync(join(a, f), 'utf8'));
    const other = generate({ seed: 12, count: 24 });
    // Compared with the same-numbered instance, ids aside (they carry the seed, so always differ).
    const sameNumber = (id: string) =>
      readFileSync(join(a, `${id.replace('-s12-', '-s11-')}.json`), 'utf8').replaceAll(
        '-s11-',
        '-s12-',
      );
    const same = other.instances.filter((inst) => inst.text === sameNumber(inst.id));
    expect(same).toHaveLength(0);
  });

  it('every generated instance validates, with ids, tags and both task counts', () => {
    const result = generate({ seed: 5, count: 40 });
    expect(result.instances).toHaveLength(40);
    expect(result.unfilled).toBe(0);
    result.instances.forEach((inst, i) => {
      expect(inst.id).toBe(`asynctool-s5-${String(i + 1).padStart(4, '0')}`);
      expect(validateScenario(JSON.parse(inst.text))).toEqual([]);
      expect(inst.text.endsWith('}\n')).toBe(true);
      const tags = inst.scenario.tags;
      expect(Number(tags.tasks)).toBe(inst.scenario.tasks.length);
      expect(tags.mix).toBe(tags.domains!.includes('+') ? 'cross' : 'similar');
      expect(tags.operators!.split(',')[0]).toBe('compose');
    });
    expect(new Set(result.instances.map((i) => i.scenario.tasks.length))).toEqual(new Set([2, 3]));
  });

  it('honours --tasks and --domains, and rejects unknown domains', () => {
    const r = generate({ seed: 3, count: 10, tasks: [3], domains: ['filesystem', 'messaging'] });
    for (const inst of r.instances) {
      expect(inst.scenario.tasks).toHaveLength(3);
      for (const d of inst.scenario.tags.domains!.split('+'))
        expect(['filesystem', 'messaging']).toContain(d);
    }
    expect(() => generate({ seed: 1, count: 2, domains: ['nope'] })).toThrow(/unknown domain/);
    expect(() => generate({ seed: 1, count: 0 })).toThrow(/count/);
  });
});

describe('operators (property tests on random seed tasks)', () => {
  it('compose keeps every step and tool and gives distinct task ids', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const { scenario: s, meta } = composed(input);
        expect(s.tasks).toHaveLength(input.seeds.length);
        expect(new Set(s.tasks.map((t) => t.id)).size).toBe(s.tasks.length);
        for (const seed of input.seeds) {
          const task = s.tasks[meta.tasks.findIndex((o) => o.seed === seed.task.id)]!;
          expect(task.steps).toEqual(seed.task.steps);
          expect(task.answer).toEqual(seed.task.answer);
          expect(task.arrivalMs).toBe(0);
        }
        const used = new Set(input.seeds.flatMap((x) => x.task.steps.map((st) => st.tool)));
        expect(s.tools.map((t) => t.name).sort()).toEqual([...used].sort());
        for (const t of s.tools) expect(t).toEqual(catalog.toolByName.get(t.name));
      }),
      RUNS,
    );
  });

  it('compose renames a repeated seed task', () => {
    const seed = SEEDS[0]!;
    const { scenario } = compose(catalog, [seed, seed], stream(1, 'compose'));
    expect(scenario.tasks.map((t) => t.id).sort()).toEqual(
      [seed.task.id, `${seed.task.id}-2`].sort(),
    );
    expect(validateScenario(scenarioDocument(scenario))).toEqual([]);
  });

  it('deepen adds exactly one step that depends on an existing sink step, with correct data flow', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const base = composed(input);
        const out = deepen(base, stream(input.seed, 'deepen'));
        if (out === null) return;
        const added = newSteps(base.scenario, out.scenario);
        expect(added).toHaveLength(1);
        const { task, step, message } = added[0]!;
        expect(message).toBe(false);
        expect(step.tool).toBe('record_note');
        expect(step.after).toHaveLength(1);
        const before = base.scenario.tasks.find((t) => t.id === task)!;
        expect(before.steps.map((s) => s.id)).toContain(step.after[0]);
        expect(before.steps.some((s) => s.after.includes(step.after[0]!))).toBe(false); // a sink
        expect(step.inputs).toEqual([
          { arg: 'value', from: step.after[0], path: step.inputs[0]!.path },
        ]);
        expect(flowHolds(out.scenario, task, step)).toBe(true);
        const receipt = stepResult(toolNamed(out.scenario, 'record_note'), step.args) as {
          noteId: string;
        };
        expect(out.scenario.tasks.find((t) => t.id === task)!.answer.mustContain).toContain(
          receipt.noteId,
        );
        expect(problems(out)).toEqual([]);
        expect(base.scenario.tasks.find((t) => t.id === task)!.steps).toHaveLength(
          before.steps.length,
        ); // input untouched
      }),
      RUNS,
    );
  });

  it('widen adds exactly one step with no dependencies', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const base = composed(input);
        const out = widen(base, stream(input.seed, 'widen'), catalog);
        if (out === null) return;
        const added = newSteps(base.scenario, out.scenario);
        expect(added).toHaveLength(1);
        expect(added[0]!.step.after).toEqual([]);
        expect(added[0]!.step.inputs).toEqual([]);
        expect(added[0]!.message).toBe(false);
        expect(out.scenario.tools.some((t) => t.name === added[0]!.step.tool)).toBe(true);
        expect(problems(out)).toEqual([]);
      }),
      RUNS,
    );
  });

  it("stagger: later tasks arrive after 0 and within [0.1, 0.9] of the first task's expected critical path", () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const base = composed(input);
        const out = stagger(base, stream(input.seed, 'stagger'))!;
        const s = out.scenario;
        const e = expectedCriticalPathMs(s.tasks[0]!.steps, s.tools, thinkMeanMs(s));
        expect(s.tasks[0]!.arrivalMs).toBe(0);
        const later = s.tasks.slice(1).map((t) => t.arrivalMs);
        for (const a of later) {
          expect(a).toBeGreaterThan(0);
          expect(a).toBeLessThan(e);
          expect(a).toBeGreaterThanOrEqual(STAGGER_RANGE[0] * e - 0.001);
          expect(a).toBeLessThanOrEqual(STAGGER_RANGE[1] * e + 0.001);
        }
        expect([...later].sort((x, y) => x - y)).toEqual(later);
        expect(problems(out)).toEqual([]);
      }),
      RUNS,
    );
  });

  it("follow-up adds a message in the task's flight window with one dependent step and an updated answer", () => {
    fc.assert(
      fc.property(inputArb, fc.boolean(), (input, staggered) => {
        let base = composed(input);
        if (staggered) base = stagger(base, stream(input.seed, 'stagger'))!;
        const out = followup(base, stream(input.seed, 'followup'));
        if (out === null) return;
        const s = out.scenario;
        expect(s.messages).toHaveLength(base.scenario.messages.length + 1);
        const m = s.messages[s.messages.length - 1]!;
        const task = s.tasks.find((t) => t.id === m.task)!;
        const e = expectedCriticalPathMs(task.steps, s.tools, thinkMeanMs(s));
        expect(m.atMs).toBeGreaterThanOrEqual(task.arrivalMs + FOLLOWUP_RANGE[0] * e - 0.001);
        expect(m.atMs).toBeLessThanOrEqual(task.arrivalMs + FOLLOWUP_RANGE[1] * e + 0.001);
        expect(m.steps).toHaveLength(1);
        const step = m.steps[0]!;
        expect(task.steps.map((x) => x.id)).toContain(step.after[0]);
        expect(flowHolds(s, task.id, step)).toBe(true);
        const receipt = stepResult(toolNamed(s, 'forward_result'), step.args) as {
          deliveryId: string;
        };
        expect(m.answer!.mustContain).toEqual([...task.answer.mustContain, receipt.deliveryId]);
        expect(newSteps(base.scenario, s)).toHaveLength(1);
        expect(problems(out)).toEqual([]);
      }),
      RUNS,
    );
  });

  const variantArb = fc.constantFrom<Variant>('fast', 'slow', 'heavy-tail', 'one-slow-tool');
  it('latency variants change domain tool latencies as documented', () => {
    fc.assert(
      fc.property(inputArb, variantArb, (input, variant) => {
        const base = composed(input);
        const out = applyVariant(base, variant, stream(input.seed, 'latency'))!;
        expect(out.meta.variant).toBe(variant);
        const pairs = base.scenario.tools.map((t) => ({
          before: t,
          after: toolNamed(out.scenario, t.name),
        }));
        const ratios = pairs.map(
          ({ before, after }) => meanMs(after.latency) / meanMs(before.latency),
        );
        if (variant === 'fast' || variant === 'slow') {
          const [lo, hi] = variant === 'fast' ? FAST_RANGE : SLOW_RANGE;
          for (const r of ratios) {
            expect(r).toBeGreaterThanOrEqual(lo * 0.999);
            expect(r).toBeLessThanOrEqual(hi * 1.001);
            expect(Math.abs(r / ratios[0]! - 1)).toBeLessThan(1e-3); // one factor for all
          }
        } else if (variant === 'one-slow-tool') {
          const changed = ratios.filter((r) => Math.abs(r - 1) > 1e-9);
          expect(changed).toHaveLength(1);
          expect(changed[0]!).toBeGreaterThanOrEqual(ONE_SLOW_RANGE[0] * 0.999);
          expect(changed[0]!).toBeLessThanOrEqual(ONE_SLOW_RANGE[1] * 1.001);
        } else {
          for (const { before, after } of pairs) {
            let spec: DistributionSpec = after.latency;
            let inner: DistributionSpec = before.latency;
            if (inner.kind === 'shift') {
              expect(spec.kind).toBe('shift');
              if (spec.kind !== 'shift') return;
              expect(spec.minMs).toBe(inner.minMs);
              [spec, inner] = [spec.dist, inner.dist];
            }
            expect(spec.kind).toBe('pareto');
            if (spec.kind !== 'pareto') return;
            expect(spec.alpha).toBeGreaterThanOrEqual(HEAVY_ALPHA_RANGE[0]);
            expect(spec.alpha).toBeLessThanOrEqual(HEAVY_ALPHA_RANGE[1]);
            const mean = meanMs(inner);
            // Untruncated Pareto mean = scale * alpha / (alpha - 1) = the old mean (4 digits kept).
            expect(
              Math.abs((spec.scaleMs * spec.alpha) / (spec.alpha - 1) / mean - 1),
            ).toBeLessThan(2e-3);
            expect(spec.capMs).toBeCloseTo(Number((mean * HEAVY_TAIL_CAP_MEANS).toPrecision(4)), 6);
            // A heavy tail: the sampled p95 is several times the median.
            const d = compileDistribution(spec);
            const draws = new RandomStreams(input.seed).get('samples');
            const xs = Array.from({ length: 2000 }, () => d.sample(draws)).sort((x, y) => x - y);
            expect(xs[1899]! / xs[999]!).toBeGreaterThan(3);
          }
        }
        expect(problems(out)).toEqual([]);
      }),
      RUNS,
    );
  });

  it('base leaves latencies alone', () => {
    const base = composed({ seeds: [SEEDS[0]!, SEEDS[10]!], seed: 1 });
    const out = applyVariant(base, 'base', stream(1, 'latency'))!;
    expect(out.scenario.tools).toEqual(base.scenario.tools);
    expect(out.meta.operators).toEqual(['compose']);
  });

  it('concurrency limits one tool used by several steps to 1 or 2, below its old limit', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const base = composed(input);
        const out = limitConcurrency(base, stream(input.seed, 'concurrency'));
        const uses = (name: string) =>
          stepsOf(base.scenario).filter((x) => x.step.tool === name).length;
        if (out === null) {
          for (const t of base.scenario.tools)
            expect(uses(t.name) < 2 || (t.concurrency ?? Infinity) <= 1).toBe(true);
          return;
        }
        const changed = base.scenario.tools.filter(
          (t) => toolNamed(out.scenario, t.name).concurrency !== t.concurrency,
        );
        expect(changed).toHaveLength(1);
        const t = changed[0]!;
        const limit = toolNamed(out.scenario, t.name).concurrency!;
        expect([1, 2]).toContain(limit);
        expect(limit).toBeLessThan(t.concurrency ?? Infinity);
        expect(limit).toBeLessThan(uses(t.name));
        expect(problems(out)).toEqual([]);
      }),
      RUNS,
    );
  });

  it("transient failures set one domain tool's rate in [0.2, 0.4]", () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const base = composed(input);
        const out = injectFailures(base, stream(input.seed, 'failures'))!;
        const changed = base.scenario.tools.filter(
          (t) => toolNamed(out.scenario, t.name).failure?.rate !== t.failure?.rate,
        );
        expect(changed).toHaveLength(1);
        expect(GENERATOR_TOOL_NAMES).not.toContain(changed[0]!.name);
        const rate = toolNamed(out.scenario, changed[0]!.name).failure!.rate;
        expect(rate).toBeGreaterThanOrEqual(FAILURE_RANGE[0]);
        expect(rate).toBeLessThanOrEqual(FAILURE_RANGE[1]);
        expect(problems(out)).toEqual([]);
      }),
      RUNS,
    );
  });

  it('operators are pure: the input draft is unchanged and the same stream gives the same output', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const base = composed(input);
        const snapshot = JSON.stringify(base);
        const run = () =>
          followup(
            stagger(deepen(base, stream(input.seed, 'd')) ?? base, stream(input.seed, 's'))!,
            stream(input.seed, 'f'),
          );
        expect(JSON.stringify(run())).toBe(JSON.stringify(run()));
        expect(JSON.stringify(base)).toBe(snapshot);
      }),
      { numRuns: 20 },
    );
  });
});

describe('filtering and balance', () => {
  it('the near-duplicate filter removes instances of the same structure (numbers and ids ignored)', () => {
    const a = stagger(composed({ seeds: [SEEDS[0]!, SEEDS[20]!], seed: 1 }), stream(1, 'stagger'))!;
    const again = stagger(
      composed({ seeds: [SEEDS[0]!, SEEDS[20]!], seed: 1 }),
      stream(2, 'stagger'),
    )!; // other arrival times
    const b = stagger(composed({ seeds: [SEEDS[0]!, SEEDS[21]!], seed: 1 }), stream(1, 'stagger'))!;
    expect(a.scenario.tasks.map((t) => t.arrivalMs)).not.toEqual(
      again.scenario.tasks.map((t) => t.arrivalMs),
    );
    const hash = (d: Draft) => structureHash(d.scenario, d.meta);
    expect(hash(a)).toBe(hash(again));
    expect(hash(a)).not.toBe(hash(b));
    const { kept, dropped } = dropNearDuplicates([a, again, b, a], hash);
    expect(kept).toEqual([a, b]);
    expect(dropped).toBe(2);
  });

  it('the plan balances strata: variant, stress, operators and domain combinations per stratum', () => {
    const domains = catalog.domains.map((d) => d.slug).sort();
    const { strata, slots } = planSlots(720, [2, 3], domains, new RandomStreams(2024));
    expect(slots).toHaveLength(720);
    expect(strata.map((s) => [s.tasks, s.mix, s.size])).toEqual([
      [2, 'similar', 120],
      [2, 'cross', 240],
      [3, 'similar', 120],
      [3, 'cross', 240],
    ]);
    const spread = (values: string[]): number => {
      const counts = new Map<string, number>();
      for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
      return Math.max(...counts.values()) - Math.min(...counts.values());
    };
    for (const st of strata) {
      const mine = slots.filter((s) => s.tasks === st.tasks && s.mix === st.mix);
      expect(spread(mine.map((s) => s.variant))).toBeLessThanOrEqual(1);
      expect(spread(mine.map((s) => s.stress))).toBeLessThanOrEqual(1);
      expect(spread(mine.map((s) => `${s.variant}/${s.stress}`))).toBeLessThanOrEqual(1);
      for (const op of ['deepen', 'widen', 'stagger', 'followup'] as const) {
        const on = mine.filter((s) => s.shape[op]).length;
        expect(Math.abs(2 * on - mine.length)).toBeLessThanOrEqual(1);
      }
      // Domain combinations used evenly (within one); domains within two (greedy, not an exact matching).
      expect(spread(mine.map((s) => s.domains.join('+')))).toBeLessThanOrEqual(1);
      expect(spread(mine.flatMap((s) => s.domains))).toBeLessThanOrEqual(2);
    }
    // Tri cross: every domain pair within two of each other (greedy triangle packing).
    const pairs = slots
      .filter((s) => s.tasks === 3 && s.mix === 'cross')
      .flatMap((s) => [
        `${s.domains[0]}+${s.domains[1]}`,
        `${s.domains[0]}+${s.domains[2]}`,
        `${s.domains[1]}+${s.domains[2]}`,
      ]);
    expect(spread(pairs)).toBeLessThanOrEqual(2);
  });
});
