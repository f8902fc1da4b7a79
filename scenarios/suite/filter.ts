/**
 * Filtering: validity (every instance passes `validateScenario`) and near-duplicates (one instance
 * per canonical structure hash).
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../spec/canonical.js';
import type { Scenario } from '../spec/schema.js';
import { validateScenario, type Problem } from '../spec/validate.js';
import type { DraftMeta } from './model.js';

/**
 * The structure an instance is compared on, ignoring ids, texts and every number (arrival times,
 * latency parameters, rates, args, receipts): the sorted seed task ids, the sorted operators, the
 * latency variant, which tools the variant and stress operators singled out, and per task (in seed
 * id order) its arrival rank, its steps as [tool, indexes of the steps it waits for] and its
 * follow-ups' steps the same way (indexes count on from the task's own steps).
 */
export function structureOf(
  scenario: Scenario,
  meta: Pick<DraftMeta, 'tasks' | 'operators' | 'variant' | 'touched'>,
): unknown {
  const seedOf = new Map(meta.tasks.map((o) => [o.id, o.seed]));
  const arrivals = [...new Set(scenario.tasks.map((t) => t.arrivalMs))].sort((a, b) => a - b);
  const tasks = scenario.tasks.map((task) => {
    const followSteps = scenario.messages.filter((m) => m.task === task.id).map((m) => m.steps);
    const ordered = [...task.steps, ...followSteps.flat()];
    const index = new Map(ordered.map((s, i) => [s.id, i]));
    const shape = (steps: typeof task.steps): Array<[string, number[]]> =>
      steps.map((s) => [s.tool, s.after.map((d) => index.get(d) ?? -1).sort((a, b) => a - b)]);
    return {
      seed: seedOf.get(task.id) ?? task.id,
      arrival: arrivals.indexOf(task.arrivalMs),
      steps: shape(task.steps),
      followUps: followSteps.map(shape),
    };
  });
  tasks.sort((a, b) => (a.seed < b.seed ? -1 : a.seed > b.seed ? 1 : 0));
  const touched = Object.keys(meta.touched)
    .sort()
    .map((k) => [k, meta.touched[k]!]);
  return {
    seeds: tasks.map((t) => t.seed),
    operators: [...meta.operators].sort(),
    variant: meta.variant,
    touched,
    tasks,
  };
}

/** sha256 (hex) of the canonical JSON of `structureOf`. */
export function structureHash(
  scenario: Scenario,
  meta: Pick<DraftMeta, 'tasks' | 'operators' | 'variant' | 'touched'>,
): string {
  return createHash('sha256')
    .update(canonicalJson(structureOf(scenario, meta)))
    .digest('hex');
}

/** Keeps the first item of each structure hash, in order; returns the kept items and how many went. */
export function dropNearDuplicates<T>(
  items: readonly T[],
  hashOf: (item: T) => string,
): { kept: T[]; dropped: number } {
  const seen = new Set<string>();
  const kept: T[] = [];
  for (const item of items) {
    const h = hashOf(item);
    if (seen.has(h)) continue;
    seen.add(h);
    kept.push(item);
  }
  return { kept, dropped: items.length - kept.length };
}

/** The validator's problems with a document (empty: keep it). */
export function problemsOf(doc: unknown): Problem[] {
  return validateScenario(doc);
}
