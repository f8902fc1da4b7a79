/** Builders and fast-check arbitraries for small scenarios in tests. */
import fc from 'fast-check';
import type { DistributionSpec } from '../../engine/index.js';
import type { Agent, Decision, Observation } from '../../scenarios/protocol.js';
import { scenarioSchema, type Scenario, type ScenarioInput } from '../../scenarios/spec/schema.js';

/** A tool that echoes its args, with the given latency and options. */
export function echoTool(
  name: string,
  latency: DistributionSpec,
  extra: {
    concurrency?: number;
    timeoutMs?: number;
    failure?: { rate: number; message: string };
  } = {},
): ScenarioInput['tools'][number] {
  return {
    name,
    description: `echo tool ${name}`,
    parameters: { type: 'object' },
    latency,
    impl: { kind: 'builtin', name: 'echo' },
    ...extra,
  };
}

export function build(input: Omit<ScenarioInput, 'format'> & { format?: string }): Scenario {
  return scenarioSchema.parse({ format: 'tooltime.scenario/1', ...input });
}

/** An agent whose decisions a test scripts. */
export function scripted(decide: (o: Observation) => Decision, spec = 'scripted'): Agent {
  return { spec, decide };
}

export interface DagShape {
  readonly tasks: ReadonlyArray<{
    readonly arrivalMs: number;
    readonly deps: ReadonlyArray<ReadonlyArray<number>>;
  }>;
  readonly tools: number;
  readonly toolOf: readonly number[];
  readonly concurrency: ReadonlyArray<number | null>;
  readonly latencyMs: ReadonlyArray<{ readonly minMs: number; readonly maxMs: number }>;
}

/** Random DAG-shaped scenarios: 1-3 tasks of 1-6 steps over 1-3 echo tools. */
export function dagShapeArb(options: { limits?: boolean } = {}): fc.Arbitrary<DagShape> {
  const taskArb = fc.record({
    arrivalMs: fc.integer({ min: 0, max: 500 }),
    // deps[i] lists indices < i.
    deps: fc
      .integer({ min: 1, max: 6 })
      .chain((n) =>
        fc.tuple(
          ...Array.from({ length: n }, (_, i) =>
            i === 0
              ? fc.constant([] as number[])
              : fc.uniqueArray(fc.nat(i - 1), { maxLength: Math.min(i, 3) }),
          ),
        ),
      ),
  });
  return fc.integer({ min: 1, max: 3 }).chain((tools) =>
    fc.record({
      tasks: fc.array(taskArb, { minLength: 1, maxLength: 3 }),
      tools: fc.constant(tools),
      toolOf: fc.array(fc.nat(tools - 1), { minLength: 18, maxLength: 18 }),
      concurrency: fc.array(
        options.limits === true
          ? fc.option(fc.integer({ min: 1, max: 2 }), { nil: null })
          : fc.constant(null),
        { minLength: tools, maxLength: tools },
      ),
      latencyMs: fc.array(
        fc.integer({ min: 1, max: 2000 }).chain((minMs) =>
          fc.record({
            minMs: fc.constant(minMs),
            maxMs: fc.integer({ min: minMs, max: minMs + 3000 }),
          }),
        ),
        { minLength: tools, maxLength: tools },
      ),
    }),
  );
}

/**
 * The same shape with every tool's latency fixed at its minimum: then each call takes exactly the
 * cheapest time the oracle's lower bound charges, and a greedy agent can meet the bound.
 */
export function constantLatencies(shape: DagShape): DagShape {
  return { ...shape, latencyMs: shape.latencyMs.map((l) => ({ minMs: l.minMs, maxMs: l.minMs })) };
}

export function dagScenario(
  shape: DagShape,
  thinkTime: DistributionSpec = { kind: 'constant', ms: 0 },
): Scenario {
  let k = 0;
  return build({
    id: 'dag',
    thinkTime,
    tools: Array.from({ length: shape.tools }, (_, i) => {
      const c = shape.concurrency[i];
      return echoTool(
        `tool${i}`,
        { kind: 'uniform', ...shape.latencyMs[i]! },
        c === null || c === undefined ? {} : { concurrency: c },
      );
    }),
    tasks: shape.tasks.map((t, ti) => ({
      id: `t${ti}`,
      arrivalMs: t.arrivalMs,
      message: `task ${ti}`,
      steps: t.deps.map((deps, si) => ({
        id: `s${si}`,
        tool: `tool${shape.toolOf[k++ % shape.toolOf.length]}`,
        args: { task: ti, step: si },
        after: deps.map((d) => `s${d}`),
      })),
      answer: { mustContain: [`done ${ti}`] },
    })),
    limits: { maxTimeMs: 10_000_000, maxDecisions: 10_000, maxCalls: 10_000 },
  });
}
