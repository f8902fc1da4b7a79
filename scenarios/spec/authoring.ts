/**
 * Helpers for writing stateful scenarios in code (a suite generator, a test): the tools of an
 * environment, the state a task's reference trajectory leaves, its default goal, and a loosened
 * goal that keeps only some parts of that state. Scenario files need none of this: it builds the
 * same JSON a person would write (docs/SCENARIOS.md, "Stateful environments").
 */
import type { DistributionSpec } from '../../engine/index.js';
import { getEnvironment } from '../envs/index.js';
import { valueAtPointer } from '../envs/state.js';
import type { GoalCheck, JsonValue, Scenario, ScenarioInput } from './schema.js';
import { referenceRun, toolOperations } from './stateful.js';

type ToolInput = ScenarioInput['tools'][number];

export interface EnvironmentToolOptions {
  /** Service time of every call (the scenario's `latency` of each tool). */
  readonly latency: DistributionSpec;
  /** The operations to expose (default: all of them, in the environment's order). */
  readonly operations?: readonly string[];
  /** Tool name per operation (default: the operation's name). */
  readonly names?: { readonly [operation: string]: string };
  /** A failure model for the tools that change state (`lostRate` makes retries hazardous). */
  readonly failure?: ToolInput['failure'];
}

/**
 * Tools for operations of environment `environment` (declared in the scenario with kind `kind`);
 * description and parameters are left out, so they come from the operations. Throws on an unknown
 * kind or operation (a programming error of the caller).
 */
export function environmentTools(
  environment: string,
  kind: string,
  options: EnvironmentToolOptions,
): ToolInput[] {
  const env = getEnvironment(kind);
  if (env === undefined) throw new Error(`environmentTools: no environment kind ${kind}`);
  const ops = options.operations ?? Object.keys(env.operations);
  return ops.map((operation) => {
    const op = env.operations[operation];
    if (op === undefined)
      throw new Error(`environmentTools: ${kind} has no operation ${operation}`);
    const tool: ToolInput = {
      name: options.names?.[operation] ?? operation,
      latency: options.latency,
      impl: { kind: 'environment', environment, operation },
    };
    return !op.readOnly && options.failure !== undefined
      ? { ...tool, failure: options.failure }
      : tool;
  });
}

/**
 * The states task `taskId`'s reference trajectory leaves (environment id -> state), as validation
 * and scoring compute them. Throws naming the step when the reference fails.
 */
export function referenceStates(scenario: Scenario, taskId: string): Map<string, JsonValue> {
  const task = scenario.tasks.find((t) => t.id === taskId);
  if (task === undefined) throw new Error(`referenceStates: no task ${taskId}`);
  const run = referenceRun(scenario, task, toolOperations(scenario));
  if (run.failed !== null)
    throw new Error(`task ${taskId}: step ${run.failed.step.id} fails: ${run.failed.error}`);
  return new Map(run.states);
}

/**
 * A loosened goal: for each JSON pointer in `paths`, the value the reference leaves there
 * (`equals`), or `absent` where it leaves nothing. Use it to require only the task's own part of
 * a shared environment, or to ignore parts an agent may change harmlessly.
 */
export function goalAt(
  scenario: Scenario,
  taskId: string,
  environment: string,
  paths: readonly string[],
): GoalCheck[] {
  const state = referenceStates(scenario, taskId).get(environment);
  if (state === undefined)
    throw new Error(`goalAt: task ${taskId} does not act on environment ${environment}`);
  return paths.map((path) => {
    const value = valueAtPointer(state, path);
    return value === undefined
      ? { environment, path, absent: true as const }
      : { environment, path, equals: value };
  });
}
