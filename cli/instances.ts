/**
 * Which scenarios a command runs: the files and folders named, or the shipped suite, optionally
 * narrowed to the fixed, stratified sample documented in scenarios/suite/OPERATORS.md.
 */
import { existsSync } from 'node:fs';
import type { ExperimentInstance } from '../scenarios/experiment.js';
import { sampleIds, sampleSuite, shippedSuiteDir } from '../scenarios/suite/index.js';
import { examplesDir, loadScenarios } from '../scenarios/spec/load.js';
import { UsageError } from './errors.js';
import { isRunDir, RUN_FILE } from './run-dir.js';

/** `sampleSuite`'s rule over already loaded scenarios (strata from their `tasks` and `mix` tags). */
export function sampleInstances(
  loaded: readonly ExperimentInstance[],
  n: number | null,
): ExperimentInstance[] {
  if (n === null || n >= loaded.length) return [...loaded];
  const entries = [...loaded]
    .sort((a, b) => (a.scenario.id < b.scenario.id ? -1 : a.scenario.id > b.scenario.id ? 1 : 0))
    .map((i) => ({ id: i.scenario.id, tags: i.scenario.tags, instance: i }));
  return sampleIds(entries, n).map((e) => e.instance);
}

export function loadInstances(
  paths: readonly string[],
  sample: number | null,
): ExperimentInstance[] {
  // `run --resume DIR` takes DIR as a scenario folder; its run.json is no scenario.
  const run = paths.find(isRunDir);
  if (run !== undefined)
    throw new UsageError(
      `${run} is a run directory (it holds ${RUN_FILE}), not scenarios: to go on with that run, give its command again with --out ${run} --resume`,
    );
  const loaded = loadScenarios(paths);
  if (loaded.length === 0) throw new UsageError(`no scenarios found in ${paths.join(' ')}`);
  return sampleInstances(loaded, sample);
}

/**
 * The shipped AsyncTool suite, or the examples in a checkout without it. A sample of the suite
 * reads and validates only the instances it takes (`sampleSuite`: the suite's index.json gives
 * every instance's tags, and test/scenarios/suites/asynctool.test.ts holds the shipped index to its files), not all 720.
 */
export function defaultInstances(sample: number | null): ExperimentInstance[] {
  const suite = shippedSuiteDir();
  if (!existsSync(suite)) return loadInstances([examplesDir()], sample);
  return sample === null ? loadInstances([suite], null) : sampleSuite(suite, sample);
}

/**
 * A run's episodes are keyed by (instance id, agent, seed): a key that comes twice would overwrite
 * a replay and fail the summary after every episode ran. Checked before the first episode.
 */
export function checkDistinct(
  instances: readonly ExperimentInstance[],
  agents: readonly string[],
): void {
  const byId = new Map<string, string>();
  for (const { file, scenario } of instances) {
    const first = byId.get(scenario.id);
    if (first === undefined) {
      byId.set(scenario.id, file);
      continue;
    }
    const where = first === file ? `${file} is given twice` : `in ${first} and in ${file}`;
    throw new UsageError(
      `scenario id "${scenario.id}" comes twice (${where}): each scenario may run once per agent and seed`,
    );
  }
  const seen = new Set<string>();
  for (const agent of agents) {
    if (seen.has(agent)) {
      throw new UsageError(
        `agent ${agent} is given twice: each agent may run once per scenario and seed`,
      );
    }
    seen.add(agent);
  }
}
