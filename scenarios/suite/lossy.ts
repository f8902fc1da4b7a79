/**
 * The lossy instances of the stateful suite (stateful.ts appends them after the others, so those
 * stay as they were): tasks whose writes can lose their responses. A seed file's `lostResponses`
 * names state-changing operations (a message send, an order, a booking) and a failure model with
 * a `lostRate`; in a lossy instance the tools of those operations get it. An attempt may then
 * apply its effect and still report a timeout (world.ts), so an agent that retries blindly applies
 * the write twice, while one that reads the state before retrying does not.
 *
 * Only seeds whose goal sees a doubled write go into them (`doubleVisible`): a goal that checks
 * only the first message sent would score a duplicate as a success, and the instance would show
 * nothing.
 */
import { msToUs } from '../../engine/index.js';
import type { GoalCheck, JsonValue, Scenario } from '../spec/schema.js';
import { dependencyOrder, taskSteps, toolOperations, unmetCheck } from '../spec/stateful.js';
import type { StatefulSeedFile, StatefulSlot } from './stateful.js';

/** Tris of the lossy kinds (with exactly three, the same three kinds each time). */
export const LOSSY_TRIS = 3;

/**
 * The lossy slots: one similar dual per kind with `lostResponses` (two tasks of that kind, each
 * on its own copy: a model must also say which copy a check reads), then LOSSY_TRIS tris of
 * consecutive lossy kinds (in file order), when there are three or more.
 */
export function planLossySlots(files: readonly StatefulSeedFile[]): StatefulSlot[] {
  const kinds = files.filter((f) => f.lostResponses !== undefined).map((f) => f.kind);
  const slots: StatefulSlot[] = kinds.map((k) => ({ kinds: [k, k], shared: false, lossy: true }));
  if (kinds.length < 3) return slots;
  for (let r = 0; r < LOSSY_TRIS; r++) {
    const triple = [0, 1, 2].map((d) => kinds[(r + d) % kinds.length]!);
    slots.push({ kinds: triple, shared: false, lossy: true });
  }
  return slots;
}

/**
 * Whether applying one of the task's `operations` steps twice (a lost response and a blind
 * retry) leaves a state that fails `goal`, or makes a later step fail: the single task of
 * `scenario`, run in dependency order from the initial state as its reference is.
 */
export function doubleVisible(
  scenario: Scenario,
  goal: readonly GoalCheck[],
  operations: readonly string[],
): boolean {
  const task = scenario.tasks[0]!;
  const ops = toolOperations(scenario);
  const steps = dependencyOrder(taskSteps(scenario, task));
  const nowUs = msToUs(task.arrivalMs);
  for (const doubled of steps) {
    const to = ops.get(doubled.tool);
    if (to === undefined || !operations.includes(to.name)) continue;
    const states = new Map<string, JsonValue>();
    for (const d of scenario.environments ?? []) states.set(d.id, d.initial);
    let failed = false;
    for (const step of steps) {
      const op = ops.get(step.tool);
      if (op === undefined) continue;
      for (let k = step === doubled ? 2 : 1; k > 0 && !failed; k--) {
        const out = op.op.apply(states.get(op.decl.id)!, step.args, { nowUs });
        if (out.ok) states.set(op.decl.id, out.state);
        else failed = true;
      }
    }
    if (failed || unmetCheck(goal, (env) => states.get(env)) !== null) return true;
  }
  return false;
}
