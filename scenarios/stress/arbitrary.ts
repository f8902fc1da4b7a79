/**
 * Random scenarios for stress testing scheduler policies, as fast-check arbitraries.
 *
 * A `StressCase` is a small structural description (tools, tasks as dependency DAGs, follow-ups,
 * think time) that `caseToScenario` turns into an ordinary scenario. Every part is built from
 * shrinkable primitives, so fast-check shrinks a failing case toward fewer tasks, fewer steps,
 * fewer messages, simpler distributions and smaller latencies.
 *
 * DAG shapes: chain, fan-out, fan-in, diamond, wide (independent steps), deep (long chain) and
 * random DAGs. Latencies come from every distribution family the engine has, heavy tails
 * included; tools may have concurrency limits, transient failure rates and timeouts.
 */
import fc from 'fast-check';
import { compileDistribution, type DistributionSpec } from '../../engine/index.js';
import {
  scenarioSchema,
  SCENARIO_FORMAT,
  type Scenario,
  type ScenarioInput,
} from '../spec/schema.js';

export interface StressTool {
  readonly latency: DistributionSpec;
  readonly concurrency: number | null;
  readonly failureRate: number;
  /** Extra milliseconds above the latency's minimum at which calls time out; null: no timeout. */
  readonly timeoutSlackMs: number | null;
}

export interface StressStep {
  readonly tool: number;
  /** Indices of earlier steps of the same task. */
  readonly deps: readonly number[];
}

export interface StressTask {
  readonly arrivalMs: number;
  readonly shape: string;
  readonly steps: readonly StressStep[];
}

export interface StressMessage {
  readonly atMs: number;
  readonly task: number;
  /** The step the follow-up adds; its deps index the task's own steps. */
  readonly step: StressStep;
}

export interface StressCase {
  readonly tools: readonly StressTool[];
  readonly tasks: readonly StressTask[];
  readonly messages: readonly StressMessage[];
  readonly thinkTime: DistributionSpec;
}

export interface StressCaseOptions {
  readonly maxTasks?: number;
  readonly maxSteps?: number;
  readonly maxTools?: number;
  /** Most follow-ups (default 3). */
  readonly maxMessages?: number;
}

const ms = (min: number, max: number) => fc.integer({ min, max });

/** Every distribution family, with parameters kept in a range where cases stay quick to run. */
export function latencyArb(): fc.Arbitrary<DistributionSpec> {
  const leaf: fc.Arbitrary<DistributionSpec> = fc.oneof(
    ms(0, 2000).map((v): DistributionSpec => ({ kind: 'constant', ms: v })),
    fc
      .tuple(ms(0, 1000), ms(0, 2000))
      .map(([a, w]): DistributionSpec => ({ kind: 'uniform', minMs: a, maxMs: a + w })),
    fc
      .tuple(ms(0, 1000), ms(1, 500))
      .map(([m, sd]): DistributionSpec => ({ kind: 'normal', meanMs: m, sdMs: sd })),
    fc.tuple(ms(1, 1000), ms(1, 5000)).map(
      ([median, extra]): DistributionSpec => ({
        kind: 'lognormal',
        medianMs: median,
        p95Ms: median + extra,
      }),
    ),
    fc
      .tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 1, max: 15 }))
      .map(([mu, s]): DistributionSpec => ({ kind: 'lognormal', mu, sigma: s / 10 })),
    ms(1, 2000).map((m): DistributionSpec => ({ kind: 'exponential', meanMs: m })),
    fc
      .tuple(fc.integer({ min: 1, max: 40 }), ms(1, 300))
      .map(([k, scale]): DistributionSpec => ({ kind: 'gamma', shape: k / 4, scaleMs: scale })),
    fc.tuple(ms(1, 500), fc.integer({ min: 11, max: 40 }), ms(2, 100)).map(
      ([scale, a, capX]): DistributionSpec => ({
        kind: 'pareto',
        scaleMs: scale,
        alpha: a / 10,
        capMs: scale * capX,
      }),
    ),
    fc
      .array(ms(0, 3000), { minLength: 1, maxLength: 5 })
      .map((samples): DistributionSpec => ({ kind: 'empirical', samplesMs: samples })),
    fc.tuple(ms(0, 500), ms(0, 1000), ms(0, 3000)).map(
      ([a, b, c]): DistributionSpec => ({
        kind: 'empirical',
        quantiles: [
          { p: 0, ms: a },
          { p: 0.5, ms: a + b },
          { p: 1, ms: a + b + c },
        ],
      }),
    ),
  );
  return fc.oneof(
    { weight: 6, arbitrary: leaf },
    {
      weight: 1,
      arbitrary: fc
        .tuple(ms(1, 500), leaf)
        .map(([minMs, dist]): DistributionSpec => ({ kind: 'shift', minMs, dist })),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.integer({ min: 1, max: 19 }), leaf, leaf).map(
        ([w, fast, slow]): DistributionSpec => ({
          kind: 'mixture',
          components: [
            { weight: 20 - w, dist: fast },
            { weight: w, dist: slow },
          ],
        }),
      ),
    },
  );
}

function thinkArb(): fc.Arbitrary<DistributionSpec> {
  return fc.oneof(
    ms(0, 300).map((v): DistributionSpec => ({ kind: 'constant', ms: v })),
    fc
      .tuple(ms(0, 100), ms(0, 300))
      .map(([a, w]): DistributionSpec => ({ kind: 'uniform', minMs: a, maxMs: a + w })),
    fc.tuple(ms(1, 300), ms(1, 1000)).map(
      ([median, extra]): DistributionSpec => ({
        kind: 'lognormal',
        medianMs: median,
        p95Ms: median + extra,
      }),
    ),
    ms(1, 200).map((m): DistributionSpec => ({ kind: 'exponential', meanMs: m })),
  );
}

/**
 * Tasks in each shape. Built without `chain`, from arrays that shrink by dropping elements: tool
 * and dependency numbers are raw and folded into range by `normalize` (a tool index modulo the
 * tool count, a dependency modulo the step's own index).
 */
function taskArb(maxSteps: number): fc.Arbitrary<StressTask> {
  const arrival = ms(0, 5000);
  const tools = (max: number) => fc.array(fc.nat(15), { minLength: 1, maxLength: max });
  const build =
    (shape: string, deps: (i: number, n: number) => number[]) =>
    (arrivalMs: number, ts: number[]): StressTask => ({
      arrivalMs,
      shape,
      steps: ts.map((tool, i) => ({ tool, deps: deps(i, ts.length) })),
    });
  return fc.oneof(
    fc
      .tuple(arrival, tools(maxSteps))
      .map(([a, ts]) => build('chain', (i) => (i === 0 ? [] : [i - 1]))(a, ts)),
    fc
      .tuple(arrival, tools(maxSteps))
      .map(([a, ts]) => build('fan-out', (i) => (i === 0 ? [] : [0]))(a, ts)),
    fc
      .tuple(arrival, tools(maxSteps))
      .map(([a, ts]) =>
        build('fan-in', (i, n) =>
          i === n - 1 && n > 1 ? Array.from({ length: n - 1 }, (_, j) => j) : [],
        )(a, ts),
      ),
    fc
      .tuple(arrival, fc.array(fc.nat(15), { minLength: 4, maxLength: 4 }))
      .map(([a, ts]) => build('diamond', (i) => [[], [0], [0], [1, 2]][i]!)(a, ts)),
    fc.tuple(arrival, tools(maxSteps)).map(([a, ts]) => build('wide', () => [])(a, ts)),
    fc
      .tuple(arrival, tools(maxSteps * 2))
      .map(([a, ts]) => build('deep', (i) => (i === 0 ? [] : [i - 1]))(a, ts)),
    fc
      .tuple(
        arrival,
        fc.array(
          fc.record({ tool: fc.nat(15), deps: fc.uniqueArray(fc.nat(maxSteps), { maxLength: 3 }) }),
          { minLength: 1, maxLength: maxSteps },
        ),
      )
      .map(([arrivalMs, steps]) => ({
        arrivalMs,
        shape: 'random',
        steps: steps.map((s, i) => ({
          tool: s.tool,
          deps: i === 0 ? [] : [...new Set(s.deps.map((d) => d % i))].sort((x, y) => x - y),
        })),
      })),
  );
}

export function stressCaseArb(options: StressCaseOptions = {}): fc.Arbitrary<StressCase> {
  const maxTasks = options.maxTasks ?? 6;
  const maxSteps = options.maxSteps ?? 6;
  const maxTools = options.maxTools ?? 4;
  const maxMessages = options.maxMessages ?? 3;
  return fc
    .record({
      tools: fc.array(
        fc.record({
          latency: latencyArb(),
          concurrency: fc.option(fc.integer({ min: 1, max: 3 }), { nil: null, freq: 2 }),
          failureRate: fc.oneof(
            { weight: 3, arbitrary: fc.constant(0) },
            { weight: 1, arbitrary: fc.integer({ min: 1, max: 30 }).map((p) => p / 100) },
          ),
          timeoutSlackMs: fc.option(ms(1, 5000), { nil: null, freq: 3 }),
        }),
        { minLength: 1, maxLength: maxTools },
      ),
      tasks: fc.array(taskArb(maxSteps), { minLength: 1, maxLength: maxTasks }),
      messages: fc.array(
        fc.record({
          atMs: ms(0, 8000),
          task: fc.nat(15),
          step: fc.record({
            tool: fc.nat(15),
            deps: fc.option(fc.nat(15), { nil: null }).map((d) => (d === null ? [] : [d])),
          }),
        }),
        { maxLength: maxMessages },
      ),
      thinkTime: thinkArb(),
    })
    .map(normalize);
}

/** Folds raw indices into range: tools modulo the tool count, tasks modulo the task count, deps below their step. */
function normalize(raw: StressCase): StressCase {
  const toolCount = raw.tools.length;
  const tasks = raw.tasks.map((t) => ({
    ...t,
    steps: t.steps.map((s) => ({ tool: s.tool % toolCount, deps: s.deps })),
  }));
  const messages = raw.messages.map((m) => {
    const task = tasks[m.task % tasks.length]!;
    return {
      atMs: Math.max(m.atMs, task.arrivalMs),
      task: m.task % tasks.length,
      step: {
        tool: m.step.tool % toolCount,
        deps: [...new Set(m.step.deps.map((d) => d % task.steps.length))],
      },
    };
  });
  return { tools: raw.tools, tasks, messages, thinkTime: raw.thinkTime };
}

/** The scenario a case describes: echo tools `tool0..`, tasks `t0..` with steps `s0..`, follow-up steps `f0..`. */
export function caseToScenario(c: StressCase, id = 'stress-case'): Scenario {
  const input: ScenarioInput = {
    format: SCENARIO_FORMAT,
    id,
    description: `stress case: ${c.tasks.length} task(s) (${c.tasks.map((t) => `${t.shape}/${t.steps.length}`).join(', ')}), ${c.messages.length} follow-up(s), ${c.tools.length} tool(s)`,
    // Only the tools some step uses (a shrunk case often leaves others behind); names keep their index.
    tools: c.tools.flatMap((t, i) => {
      if (
        !c.tasks.some((task) => task.steps.some((s) => s.tool === i)) &&
        !c.messages.some((m) => m.step.tool === i)
      )
        return [];
      const minMs = compileDistribution(t.latency).minUs / 1000;
      const tool: ScenarioInput['tools'][number] = {
        name: `tool${i}`,
        description: `echo tool ${i}: returns its arguments`,
        parameters: { type: 'object' },
        latency: t.latency,
        impl: { kind: 'builtin', name: 'echo' },
        ...(t.concurrency === null ? {} : { concurrency: t.concurrency }),
        ...(t.failureRate > 0
          ? { failure: { rate: t.failureRate, message: 'transient error: please retry' } }
          : {}),
        ...(t.timeoutSlackMs === null ? {} : { timeoutMs: Math.ceil(minMs) + t.timeoutSlackMs }),
      };
      return [tool];
    }),
    tasks: c.tasks.map((t, ti) => ({
      id: `t${ti}`,
      arrivalMs: t.arrivalMs,
      message: `task ${ti}: a ${t.shape} of ${t.steps.length} step(s)`,
      steps: t.steps.map((s, si) => ({
        id: `s${si}`,
        tool: `tool${s.tool}`,
        args: { step: si, task: ti },
        after: s.deps.map((d) => `s${d}`),
      })),
      answer: { mustContain: [`task ${ti} done`] },
    })),
    messages: c.messages.map((m, mi) => ({
      atMs: m.atMs,
      task: `t${m.task}`,
      text: `also run step f${mi} of task ${m.task}`,
      steps: [
        {
          id: `f${mi}`,
          tool: `tool${m.step.tool}`,
          args: { followUp: mi, task: m.task },
          after: m.step.deps.map((d) => `s${d}`),
        },
      ],
    })),
    thinkTime: c.thinkTime,
    limits: { maxTimeMs: 100_000_000, maxDecisions: 20_000, maxCalls: 10_000 },
  };
  // Args keys written in sorted order: the scenario is its own canonical form (what its replay's
  // header holds), so a policy that reads key order sees the same in a run and in its re-run.
  return scenarioSchema.parse(input);
}

/** Size of a case, as shrinking reduces it: tasks, steps (incl. follow-up steps), messages. */
export function caseSize(c: StressCase): {
  tasks: number;
  steps: number;
  messages: number;
  tools: number;
} {
  const used = new Set([
    ...c.tasks.flatMap((t) => t.steps.map((s) => s.tool)),
    ...c.messages.map((m) => m.step.tool),
  ]);
  return {
    tasks: c.tasks.length,
    steps: c.tasks.reduce((n, t) => n + t.steps.length, 0) + c.messages.length,
    messages: c.messages.length,
    tools: used.size,
  };
}
