/**
 * Which scenarios a command runs: the files and folders named, or the default suite, optionally
 * narrowed to a fixed sample.
 */
import { existsSync } from 'node:fs';
import type { ExperimentInstance } from '../scenarios/experiment.js';
import { examplesDir, loadScenarios } from '../scenarios/load.js';
import { scenariosPath } from '../scenarios/paths.js';
import { UsageError } from './errors.js';

/**
 * A fixed sample of `n` items spread evenly over the list (item floor(i * length / n) for
 * i = 0..n-1), so a sample of a sorted suite covers it end to end and never changes between runs.
 */
export function sampleEvenly<T>(items: readonly T[], n: number | null): T[] {
  if (n === null || n >= items.length) return [...items];
  return Array.from({ length: n }, (_, i) => items[Math.floor((i * items.length) / n)]!);
}

export function loadInstances(paths: readonly string[], sample: number | null): ExperimentInstance[] {
  const loaded = loadScenarios(paths);
  if (loaded.length === 0) throw new UsageError(`no scenarios found in ${paths.join(' ')}`);
  return sampleEvenly(loaded, sample);
}

/** The shipped AsyncTool suite when present, else the hand-written examples. */
export function defaultSuiteDir(): string {
  const suite = scenariosPath('suites', 'asynctool');
  return existsSync(suite) ? suite : examplesDir();
}

export function defaultInstances(sample: number | null): ExperimentInstance[] {
  return loadInstances([defaultSuiteDir()], sample);
}
