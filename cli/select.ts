/**
 * Choosing work within the loaded instances (`--instances`, `--tag`, `--limit`) and the tag values
 * an instance has for a breakdown (`--by`). Compound tag values (`data-generation+filesystem`)
 * match each of their parts; `tasks` is the instance's number of tasks unless it has such a tag.
 */
import type { ExperimentInstance } from '../scenarios/experiment.js';
import { existsSync } from 'node:fs';
import { sampleIds, shippedSuiteDir, suiteTags } from '../scenarios/suite/index.js';
import { loadScenarioFile } from '../scenarios/spec/load.js';
import { defaultInstances } from './instances.js';
import { UsageError } from './errors.js';

export interface Selection {
  readonly instances: readonly string[] | null;
  readonly tags: ReadonlyArray<{ readonly key: string; readonly value: string }>;
  readonly limit: number | null;
}

export const NO_SELECTION: Selection = { instances: null, tags: [], limit: null };

export function parseSelection(flags: {
  instances?: string;
  tag?: string[];
  limit?: string;
}): Selection {
  const ids =
    flags.instances === undefined
      ? null
      : flags.instances
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');
  if (ids !== null && ids.length === 0)
    throw new UsageError('--instances needs at least one instance id');
  const tags = (flags.tag ?? []).map((t) => {
    const m = /^([^=]+)=(.+)$/.exec(t);
    if (m === null) throw new UsageError(`--tag must look like KEY=VALUE, got "${t}"`);
    return { key: m[1]!.trim(), value: m[2]!.trim() };
  });
  const limit = flags.limit === undefined ? null : Number(flags.limit);
  if (limit !== null && !(Number.isSafeInteger(limit) && limit > 0))
    throw new UsageError(`--limit must be a positive integer, got "${flags.limit}"`);
  return { instances: ids, tags, limit };
}

/** The values an instance has for a tag key: a compound value's parts; `tasks` counts tasks. */
export function tagValues(
  scenario: { readonly tags: Readonly<Record<string, string>>; readonly tasks: readonly unknown[] },
  key: string,
): string[] {
  const raw = scenario.tags[key];
  if (raw === undefined) return key === 'tasks' ? [String(scenario.tasks.length)] : [];
  return raw
    .split('+')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Instances in their order that pass every filter, then the first `limit`; none left is an error. */
export function selectInstances(
  instances: readonly ExperimentInstance[],
  sel: Selection,
): ExperimentInstance[] {
  return selectEntries(
    instances,
    (i) => i.scenario.id,
    (i, key) => tagValues(i.scenario, key),
    sel,
  );
}

/** `selectInstances` over anything with an id and tags (the suite's index, before loading). */
export function selectEntries<T>(
  entries: readonly T[],
  idOf: (e: T) => string,
  valuesOf: (e: T, key: string) => string[],
  sel: Selection,
): T[] {
  let out = [...entries];
  if (sel.instances !== null) {
    const known = new Set(out.map(idOf));
    const missing = sel.instances.filter((id) => !known.has(id));
    if (missing.length > 0)
      throw new UsageError(
        `--instances: no instance "${missing[0]}" among the ${out.length} loaded`,
      );
    const wanted = new Set(sel.instances);
    out = out.filter((e) => wanted.has(idOf(e)));
  }
  for (const { key, value } of sel.tags) out = out.filter((e) => valuesOf(e, key).includes(value));
  if (out.length === 0) throw new UsageError(`no instance matches ${describeSelection(sel)}`);
  return sel.limit === null ? out : out.slice(0, sel.limit);
}

/**
 * The shipped suite's instances chosen by `sample` and `sel` from its index's tags, loading only
 * those chosen (the whole suite takes seconds to load and validate); the examples without it.
 */
export function selectDefault(sample: number | null, sel: Selection): ExperimentInstance[] {
  const dir = shippedSuiteDir();
  if (!existsSync(dir)) return selectInstances(defaultInstances(sample), sel);
  const all = suiteTags(dir);
  const sampled = sample === null || sample >= all.length ? all : sampleIds(all, sample);
  const chosen = selectEntries(
    sampled,
    (e) => e.id,
    (e, key) => tagValues({ tags: e.tags, tasks: [] }, key),
    sel,
  );
  return chosen.map((e) => ({ file: e.file, scenario: loadScenarioFile(e.file) }));
}

export function describeSelection(sel: Selection): string {
  const parts = [
    ...(sel.instances === null ? [] : [`--instances ${sel.instances.join(',')}`]),
    ...sel.tags.map((t) => `--tag ${t.key}=${t.value}`),
  ];
  return parts.length === 0 ? 'the run' : parts.join(' ');
}
