/**
 * Validation of a scenario's stateful parts, on its parse (validate.ts runs it when the schema
 * passes): environments (known kind, initial state valid for the kind's state schema, the error
 * naming the path inside it), and each task's reference trajectory, run on its environments: a step
 * whose operation fails is named, a result is what the data flow (`inputs`) is checked against, a
 * final state that depends on the order of steps with no `after` between them is refused, and the
 * goal must hold at the end. A task acting on a shared environment must state its goal.
 */
import { canonicalJson, jsonEqual } from './canonical.js';
import type { Outcome } from './tools.js';
import type { Scenario, Step } from './schema.js';
import { getEnvironment, ENVIRONMENTS } from '../envs/index.js';
import { pointerTokens } from '../envs/state.js';
import {
  dependencyOrder,
  environmentsUsed,
  goalOf,
  referenceRun,
  taskSteps,
  toolOperations,
  unmetCheck,
} from './stateful.js';

type Seg = string | number;

/**
 * Canonical JSON bytes an environment's initial state may take. Every write digests the whole
 * state (a replay's `state_changed`), so a call costs time in proportion to it: a 16 MiB state
 * made each write take about 0.5 s (40 writes 28 s). 256 KiB is far beyond any task's world and
 * keeps a write to milliseconds. Depth is bounded as for every JSON value (64 levels, schema.ts).
 */
export const MAX_INITIAL_STATE_BYTES = 256 * 1024;
export interface StatefulFound {
  readonly segs: Seg[];
  readonly message: string;
}

/** What the stateful pass found, and each stateful step's reference outcome by its path's segments. */
export interface StatefulCheck {
  readonly found: StatefulFound[];
  /** Key: `canonicalJson(segs)` of the step (`["tasks",0,"steps",1]`). */
  readonly outcomes: Map<string, Outcome>;
}

/** A value for a message: JSON, shortened. */
function show(v: unknown): string {
  const s = v === undefined ? 'absent' : JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

export function checkStateful(scenario: Scenario): StatefulCheck {
  const found: StatefulFound[] = [];
  const outcomes = new Map<string, Outcome>();
  // A stateless scenario has nothing to check here.
  if ((scenario.environments ?? []).length === 0 && scenario.tasks.every((t) => !t.goal))
    return { found, outcomes };
  // Only environments that are sound are run: the problems found say why the others are not.
  if (!checkDeclarations(scenario, found)) return { found, outcomes };
  const segsOf = stepPaths(scenario);
  const ops = toolOperations(scenario);
  scenario.tasks.forEach((task, i) => {
    const used = environmentsUsed(scenario, task, ops);
    checkGoalShape(scenario, i, used, found);
    if (used.length > 0) checkReference(scenario, i, ops, segsOf, found, outcomes);
  });
  return { found, outcomes };
}

/** Ids unique, kinds known, initial states valid for their kind; true when all are. */
function checkDeclarations(scenario: Scenario, found: StatefulFound[]): boolean {
  const seen = new Map<string, number>();
  const before = found.length;
  (scenario.environments ?? []).forEach((d, k) => {
    const first = seen.get(d.id);
    if (first !== undefined) {
      found.push({
        segs: ['environments', k, 'id'],
        message: `duplicate environment id ${JSON.stringify(d.id)} (first at environments[${first}])`,
      });
      return;
    }
    seen.set(d.id, k);
    const env = getEnvironment(d.kind);
    if (env === undefined) {
      const known = Object.keys(ENVIRONMENTS).join(', ');
      found.push({
        segs: ['environments', k, 'kind'],
        message: `unknown environment kind ${JSON.stringify(d.kind)} (known: ${known})`,
      });
      return;
    }
    const bytes = Buffer.byteLength(canonicalJson(d.initial), 'utf8');
    if (bytes > MAX_INITIAL_STATE_BYTES) {
      found.push({
        segs: ['environments', k, 'initial'],
        message: `${bytes} bytes as canonical JSON, over the limit of ${MAX_INITIAL_STATE_BYTES} (256 KiB) for an initial state`,
      });
      return;
    }
    const parsed = env.stateSchema.safeParse(d.initial);
    for (const issue of parsed.success ? [] : parsed.error.issues) {
      const inside = issue.path.map((p) => (typeof p === 'number' ? p : String(p)));
      found.push({
        segs: ['environments', k, 'initial', ...inside],
        message: `not a valid ${d.kind} state: ${issue.message}`,
      });
    }
  });
  return found.length === before;
}

/**
 * Task `i`'s reference run: its stateful steps' outcomes (for the data flow), the step that fails,
 * a final state that depends on the order of independent steps, a goal it does not reach.
 */
function checkReference(
  scenario: Scenario,
  i: number,
  ops: ReturnType<typeof toolOperations>,
  segsOf: ReadonlyMap<Step, Seg[]>,
  found: StatefulFound[],
  outcomes: Map<string, Outcome>,
): void {
  const task = scenario.tasks[i]!;
  const run = referenceRun(scenario, task, ops);
  const byId = new Map(taskSteps(scenario, task).map((s) => [s.id, s]));
  for (const [id, outcome] of run.outcomes) {
    const segs = segsOf.get(byId.get(id)!);
    if (segs !== undefined) outcomes.set(canonicalJson(segs), outcome);
  }
  if (run.failed !== null) {
    const segs = segsOf.get(run.failed.step) ?? ['tasks', i];
    found.push({
      segs: [...segs, 'args'],
      message: `the reference trajectory fails at step ${run.failed.step.id}: ${run.failed.error}`,
    });
    return;
  }
  const other = referenceRun(scenario, task, ops, true);
  const orderFree =
    other.failed === null && [...run.states].every(([id, s]) => jsonEqual(s, other.states.get(id)));
  if (!orderFree) {
    found.push({
      segs: ['tasks', i, 'steps'],
      message:
        'the final state depends on the order of steps with no `after` between them: order them with `after`',
    });
    return;
  }
  if (task.goal === undefined) return;
  const unmet = unmetCheck(
    goalOf(scenario, task, () => run.states),
    (id) => run.states.get(id),
  );
  if (unmet === null) return;
  const last = dependencyOrder(taskSteps(scenario, task)).at(-1)!;
  found.push({
    segs: ['tasks', i, 'goal', unmet.index],
    message: `the reference trajectory does not reach it: after its last step (${last.id}) the value at ${JSON.stringify(unmet.check.path)} of ${unmet.check.environment} is ${show(unmet.found)}`,
  });
}

/** Each step of the parse -> its path in the document. */
function stepPaths(scenario: Scenario): Map<Step, Seg[]> {
  const out = new Map<Step, Seg[]>();
  for (const [i, t] of scenario.tasks.entries())
    for (const [k, s] of t.steps.entries()) out.set(s, ['tasks', i, 'steps', k]);
  for (const [j, m] of scenario.messages.entries())
    for (const [k, s] of m.steps.entries()) out.set(s, ['messages', j, 'steps', k]);
  return out;
}

/** A goal names environments the task uses by valid pointers; a shared one must be named. */
function checkGoalShape(
  scenario: Scenario,
  i: number,
  used: string[],
  found: StatefulFound[],
): void {
  const task = scenario.tasks[i]!;
  (task.goal ?? []).forEach((check, k) => {
    if (!used.includes(check.environment)) {
      found.push({
        segs: ['tasks', i, 'goal', k, 'environment'],
        message: `task ${task.id} does not act on environment ${JSON.stringify(check.environment)} (it acts on: ${used.join(', ') || 'none'})`,
      });
    }
    if (pointerTokens(check.path) === null)
      found.push({
        segs: ['tasks', i, 'goal', k, 'path'],
        message: `${JSON.stringify(check.path)} is not a JSON pointer ("" or starting with "/")`,
      });
  });
  for (const id of used) {
    const decl = (scenario.environments ?? []).find((d) => d.id === id);
    if (decl?.shared !== true) continue;
    if (!(task.goal ?? []).some((c) => c.environment === id))
      found.push({
        segs: ['tasks', i],
        message: `task ${task.id} acts on the shared environment ${id}: its goal must name its own part of it (a goal check on ${id}), since the whole final state depends on how tasks interleave`,
      });
  }
}
