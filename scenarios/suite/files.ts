/**
 * Suites on disk: one pretty JSON file per instance (`DIR/<id>.json`) plus `DIR/index.json` (the
 * generator's settings, drop counts, and every id with its tags).
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isScenarioFileName, loadScenarioFile, loadScenarios } from '../spec/load.js';
import { scenariosPath } from '../package.js';
import type { Scenario } from '../spec/schema.js';
import { formatJson } from './format.js';
import { SUITE_FORMAT, SUITE_NAME, type GenerateResult } from './generate.js';

export const INDEX_FILE = 'index.json';
/** Files the generator owns in an output folder (replaced on every run; ids before the seed was in them too). */
const OWNED = /^asynctool-(s\d+-)?\d+\.json$/;

/** The suite shipped with tooltime: `scenarios/suites/asynctool/`. */
export function shippedSuiteDir(): string {
  return scenariosPath('suites', SUITE_NAME);
}

/** The command that regenerates a result (for index.json and the README). */
export function regenerateCommand(
  result: Pick<GenerateResult, 'seed' | 'count' | 'tasks' | 'domains' | 'allDomains'>,
  out?: string,
): string {
  const parts = [`tooltime generate --seed ${result.seed} --count ${result.count}`];
  if (result.tasks.length === 1) parts.push(`--tasks ${result.tasks[0]}`);
  if (!result.allDomains) parts.push(`--domains ${result.domains.join(',')}`);
  if (out !== undefined) parts.push(`--out ${out}`);
  return parts.join(' ');
}

/** index.json's document. */
export function indexDocument(result: GenerateResult): {
  [key: string]: import('../spec/schema.js').JsonValue;
} {
  return {
    format: SUITE_FORMAT,
    suite: SUITE_NAME,
    generator: {
      seed: result.seed,
      count: result.count,
      tasks: result.tasks.join('-'),
      domains: result.allDomains ? 'all' : result.domains.join(','),
      command: regenerateCommand(result),
    },
    instances: result.instances.length,
    dropped: {
      inapplicable: result.dropped.inapplicable,
      invalid: result.dropped.invalid,
      duplicate: result.dropped.duplicate,
      unfilled: result.unfilled,
    },
    index: result.instances.map((i) => ({ id: i.id, tags: i.scenario.tags })),
  };
}

/**
 * Writes the instances and index.json into `dir` (created if needed). Files the generator owns
 * there from an earlier run (`asynctool-sSEED-NNNN.json`, index.json) are removed first; others stay.
 */
export function writeSuite(dir: string, result: GenerateResult): string[] {
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(dir))
    if (OWNED.test(name) || name === INDEX_FILE) rmSync(join(dir, name));
  const written: string[] = [];
  for (const inst of result.instances) {
    const file = join(dir, `${inst.id}.json`);
    writeFileSync(file, inst.text);
    written.push(file);
  }
  const index = join(dir, INDEX_FILE);
  writeFileSync(index, formatJson(indexDocument(result)));
  written.push(index);
  return written;
}

/** Scenario files of a suite folder (the names a folder expands to: not index.json), by name. */
export function suiteFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter(isScenarioFileName)
    .sort()
    .map((n) => join(dir, n));
}

/** Every instance of a suite, validated (the first bad file throws ScenarioError), sorted by id. */
export function loadSuite(dir: string): Array<{ file: string; scenario: Scenario }> {
  const out = loadScenarios(suiteFiles(dir));
  return out.sort((a, b) =>
    a.scenario.id < b.scenario.id ? -1 : a.scenario.id > b.scenario.id ? 1 : 0,
  );
}

/** Tags of every instance, from index.json when present, else from the files. Sorted by id. */
export function suiteTags(
  dir: string,
): Array<{ id: string; file: string; tags: Record<string, string> }> {
  let entries: Array<{ id: string; tags: Record<string, string> }> | undefined;
  try {
    const index = JSON.parse(readFileSync(join(dir, INDEX_FILE), 'utf8')) as {
      index?: Array<{ id: string; tags: Record<string, string> }>;
    };
    if (Array.isArray(index.index)) entries = index.index;
  } catch {
    entries = undefined;
  }
  if (entries === undefined) {
    entries = suiteFiles(dir).map((file) => {
      const doc = JSON.parse(readFileSync(file, 'utf8')) as { id?: unknown; tags?: unknown };
      return { id: String(doc.id), tags: (doc.tags ?? {}) as Record<string, string> };
    });
  }
  return entries
    .map((e) => ({ id: e.id, file: join(dir, `${e.id}.json`), tags: e.tags }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * A fixed, balanced sample of `n` instances for quick runs. The instances are grouped by stratum
 * (tags `tasks` x `mix`); each stratum gets a share of n proportional to its size (largest
 * remainders, ties to the earlier stratum in (tasks, mix) order), and within a stratum of m
 * instances sorted by id, a share of q takes the ones at positions floor((i + 1/2) * m / q),
 * i = 0..q-1: evenly spaced, every k-th. Returns them loaded and validated, sorted by id; n >= the
 * suite size gives the whole suite.
 */
export function sampleSuite(dir: string, n: number): Array<{ file: string; scenario: Scenario }> {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new RangeError(`sample size must be a non-negative integer, got ${n}`);
  const all = suiteTags(dir);
  const chosen = n >= all.length ? all : sampleIds(all, n);
  return chosen.map((e) => ({ file: e.file, scenario: loadScenarioFile(e.file) }));
}

/** The sampling rule of `sampleSuite`, on tagged entries sorted by id. */
export function sampleIds<T extends { id: string; tags: Record<string, string> }>(
  entries: readonly T[],
  n: number,
): T[] {
  const groups = new Map<string, T[]>();
  for (const e of entries) {
    const key = `${e.tags.tasks ?? '?'}/${e.tags.mix ?? '?'}`;
    const g = groups.get(key);
    if (g === undefined) groups.set(key, [e]);
    else g.push(e);
  }
  const keys = [...groups.keys()].sort();
  const total = entries.length;
  const exact = keys.map((k) => (n * groups.get(k)!.length) / total);
  const quota = exact.map(Math.floor);
  let left = n - quota.reduce((a, b) => a + b, 0);
  const byRemainder = keys
    .map((_, i) => i)
    .sort((a, b) => exact[b]! - quota[b]! - (exact[a]! - quota[a]!) || a - b);
  for (const i of byRemainder) {
    if (left <= 0) break;
    quota[i]!++;
    left--;
  }
  const out: T[] = [];
  keys.forEach((k, i) => {
    const g = groups.get(k)!;
    const q = Math.min(quota[i]!, g.length);
    for (let j = 0; j < q; j++) out.push(g[Math.floor(((j + 0.5) * g.length) / q)]!);
  });
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
