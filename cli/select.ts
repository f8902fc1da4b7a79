/**
 * Choosing work within the loaded instances (`--instances`, `--tag`, `--limit`) and the tag values
 * an instance has for a breakdown (`--by`). Compound tag values (`data-generation+filesystem`)
 * match each of their parts; `tasks` is the instance's number of tasks unless it has such a tag.
 */
import type { ExperimentInstance } from '../scenarios/experiment.js';
import type { Scenario } from '../scenarios/spec/schema.js';
import { UsageError } from './errors.js';

export interface Selection {
  readonly instances: readonly string[] | null;
  readonly tags: ReadonlyArray<{ readonly key: string; readonly value: string }>;
  readonly limit: number | null;
}

export const NO_SELECTION: Selection = { instances: null, tags: [], limit: null };

export function parseSelection(flags: { instances?: string; tag?: string[]; limit?: string }): Selection {
  const ids = flags.instances === undefined ? null : flags.instances.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (ids !== null && ids.length === 0) throw new UsageError('--instances needs at least one instance id');
  const tags = (flags.tag ?? []).map((t) => {
    const m = /^([^=]+)=(.+)$/.exec(t);
    if (m === null) throw new UsageError(`--tag must look like KEY=VALUE, got "${t}"`);
    return { key: m[1]!.trim(), value: m[2]!.trim() };
  });
  const limit = flags.limit === undefined ? null : Number(flags.limit);
  if (limit !== null && !(Number.isSafeInteger(limit) && limit > 0)) throw new UsageError(`--limit must be a positive integer, got "${flags.limit}"`);
  return { instances: ids, tags, limit };
}

/** The values an instance has for a tag key: a compound value's parts; `tasks` counts tasks. */
export function tagValues(scenario: Pick<Scenario, 'tags' | 'tasks'>, key: string): string[] {
  const raw = scenario.tags[key];
  if (raw === undefined) return key === 'tasks' ? [String(scenario.tasks.length)] : [];
  return raw.split('+').map((s) => s.trim()).filter((s) => s !== '');
}

/** Instances in their order that pass every filter, then the first `limit`; none left is an error. */
export function selectInstances(instances: readonly ExperimentInstance[], sel: Selection): ExperimentInstance[] {
  let out = [...instances];
  if (sel.instances !== null) {
    const known = new Set(out.map((i) => i.scenario.id));
    const missing = sel.instances.filter((id) => !known.has(id));
    if (missing.length > 0) throw new UsageError(`--instances: no instance "${missing[0]}" among the ${out.length} loaded`);
    const wanted = new Set(sel.instances);
    out = out.filter((i) => wanted.has(i.scenario.id));
  }
  for (const { key, value } of sel.tags) out = out.filter((i) => tagValues(i.scenario, key).includes(value));
  if (out.length === 0) throw new UsageError(`no instance matches ${describeSelection(sel)}`);
  return sel.limit === null ? out : out.slice(0, sel.limit);
}

export function describeSelection(sel: Selection): string {
  const parts = [...(sel.instances === null ? [] : [`--instances ${sel.instances.join(',')}`]), ...sel.tags.map((t) => `--tag ${t.key}=${t.value}`)];
  return parts.length === 0 ? 'the run' : parts.join(' ');
}
