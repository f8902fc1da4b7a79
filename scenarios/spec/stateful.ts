/**
 * What a scenario's stateful environments mean, shared by validation, the world and scoring:
 * which environment and operation a tool acts on, which instance a task's calls act on, the
 * reference run of a task (its steps applied to the initial state, dependencies first), and its
 * goal (stated, or by default the state that reference run leaves) and whether a state meets it.
 *
 * Instances: an environment declared `shared` has one instance every task acts on; otherwise each
 * task that uses it has its own copy of the initial state. A task uses the environments its steps'
 * tools act on.
 */
import { getEnvironment, type Environment, type Operation } from '../envs/index.js';
import { valueAtPointer } from '../envs/state.js';
import { jsonEqual } from './canonical.js';
import { inArrivalOrder } from './message-order.js';
import type { EnvironmentDecl, GoalCheck, JsonValue, Scenario, Step, Task } from './schema.js';
import { msToUs } from '../../engine/index.js';

/** A stateful tool: the environment (declaration and kind) and the operation it performs. */
export interface ToolOperation {
  readonly decl: EnvironmentDecl;
  readonly env: Environment<JsonValue>;
  readonly name: string;
  readonly op: Operation<JsonValue>;
}

/** Tool name -> its operation, for every stateful tool whose environment and operation exist. */
export function toolOperations(scenario: Scenario): Map<string, ToolOperation> {
  const decls = new Map((scenario.environments ?? []).map((d) => [d.id, d]));
  const out = new Map<string, ToolOperation>();
  for (const tool of scenario.tools) {
    if (tool.impl.kind !== 'environment') continue;
    const decl = decls.get(tool.impl.environment);
    const env = decl === undefined ? undefined : getEnvironment(decl.kind);
    const op = env?.operations[tool.impl.operation];
    if (decl !== undefined && env !== undefined && op !== undefined)
      out.set(tool.name, { decl, env, name: tool.impl.operation, op });
  }
  return out;
}

/** Each scenario's follow-up steps by task, grouped once (a scan per task was quadratic). */
const followUpSteps = new WeakMap<Scenario, Map<string, Step[]>>();

/** A task's steps in the order a follow-up adds them: its own, then each follow-up's by arrival. */
export function taskSteps(scenario: Scenario, task: Task): Step[] {
  let byTask = followUpSteps.get(scenario);
  if (byTask === undefined) {
    byTask = new Map();
    for (const m of inArrivalOrder(scenario.messages)) {
      const list = byTask.get(m.task) ?? [];
      list.push(...m.steps);
      byTask.set(m.task, list);
    }
    followUpSteps.set(scenario, byTask);
  }
  return [...task.steps, ...(byTask.get(task.id) ?? [])];
}

/**
 * `steps` in a dependency order: a step after every step it lists in `after`, ties by position
 * (`latestFirst`: by reverse position, the other extreme validation compares against). Steps on a
 * cycle or after an unknown step are left out.
 */
export function dependencyOrder(steps: readonly Step[], latestFirst = false): Step[] {
  const index = new Map(steps.map((s, i) => [s.id, i]));
  const unmet = steps.map((s) => s.after.filter((a) => index.has(a)).length);
  const known = steps.map((s) => s.after.every((a) => index.has(a)));
  const dependents = steps.map(() => [] as number[]);
  steps.forEach((s, i) => {
    for (const a of s.after) if (index.has(a)) dependents[index.get(a)!]!.push(i);
  });
  const ready = steps.map((_, i) => i).filter((i) => unmet[i] === 0 && known[i]);
  const out: Step[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => (latestFirst ? b - a : a - b));
    const i = ready.shift()!;
    out.push(steps[i]!);
    for (const d of dependents[i]!) if (--unmet[d]! === 0 && known[d]) ready.push(d);
  }
  return out;
}

/** The environments (ids, declaration order) a task's steps act on. */
export function environmentsUsed(
  scenario: Scenario,
  task: Task,
  ops: ReadonlyMap<string, ToolOperation> = toolOperations(scenario),
): string[] {
  const used = new Set(taskSteps(scenario, task).flatMap((s) => ops.get(s.tool)?.decl.id ?? []));
  return (scenario.environments ?? []).map((d) => d.id).filter((id) => used.has(id));
}

/** A task's reference run: each step's outcome, the final states, or the step that failed. */
export interface ReferenceRun {
  /** Stateful steps' outcomes, by step id. */
  readonly outcomes: ReadonlyMap<
    string,
    { ok: true; result: JsonValue } | { ok: false; error: string }
  >;
  /** Environment id -> the state after the run (from its initial state; only those the task uses). */
  readonly states: ReadonlyMap<string, JsonValue>;
  /** The first step whose operation failed, and why (the run stops there). */
  readonly failed: { readonly step: Step; readonly error: string } | null;
}

/**
 * Runs `task`'s steps (dependency order) on fresh copies of the initial states: the reference
 * trajectory. Stateless steps are skipped (their outcomes need no state). Effects apply at the
 * task's arrival time (an operation that records time sees that instant).
 */
export function referenceRun(
  scenario: Scenario,
  task: Task,
  ops: ReadonlyMap<string, ToolOperation> = toolOperations(scenario),
  latestFirst = false,
): ReferenceRun {
  const states = new Map<string, JsonValue>();
  const used = environmentsUsed(scenario, task, ops);
  for (const d of scenario.environments ?? []) if (used.includes(d.id)) states.set(d.id, d.initial);
  const outcomes = new Map<
    string,
    { ok: true; result: JsonValue } | { ok: false; error: string }
  >();
  const nowUs = msToUs(task.arrivalMs);
  for (const step of dependencyOrder(taskSteps(scenario, task), latestFirst)) {
    const to = ops.get(step.tool);
    if (to === undefined) continue;
    const outcome = to.op.apply(states.get(to.decl.id)!, step.args, { nowUs });
    if (!outcome.ok) {
      outcomes.set(step.id, outcome);
      return { outcomes, states, failed: { step, error: outcome.error } };
    }
    states.set(to.decl.id, outcome.state);
    outcomes.set(step.id, { ok: true, result: outcome.result });
  }
  return { outcomes, states, failed: null };
}

/**
 * A task's goal: its stated checks, or by default one check per environment it uses: the whole
 * state equals what the reference run leaves (`reference`: that run's final states).
 */
export function goalOf(
  _scenario: Scenario,
  task: Task,
  reference: () => ReadonlyMap<string, JsonValue>,
): GoalCheck[] {
  if (task.goal !== undefined) return task.goal;
  const states = reference();
  return [...states].map(([environment, state]) => ({ environment, path: '', equals: state }));
}

/** The first check of `goal` that `states` (environment id -> state) fails, and what is there. */
export function unmetCheck(
  goal: readonly GoalCheck[],
  states: (environment: string) => JsonValue | undefined,
): { check: GoalCheck; index: number; found: JsonValue | undefined } | null {
  for (const [index, check] of goal.entries()) {
    const state = states(check.environment);
    const found = state === undefined ? undefined : valueAtPointer(state, check.path);
    const holds =
      'equals' in check
        ? found !== undefined && jsonEqual(found, check.equals)
        : 'exists' in check
          ? found !== undefined
          : found === undefined;
    if (!holds) return { check, index, found };
  }
  return null;
}
