/**
 * Reading scenario files: one file (`loadScenarioFile`), or files and folders (`loadScenarios`).
 *
 * Every failure is a `ScenarioError` naming the file: `FILE: cannot read: ...`,
 * `FILE: not valid JSON: ...`, or one line per validation problem (`FILE: PATH: MESSAGE`).
 */
import { type Dirent, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { scenariosPath } from '../package.js';
import type { Scenario } from './schema.js';
import { ScenarioError } from './validate.js';
import { parseCanonicalScenario } from './canonical-scenario.js';
import { MAX_SCENARIO_FILE_BYTES } from './document.js';
import {
  decodeUtf8,
  fsReason,
  InputFileError,
  invalidUtf8Offset,
  readInputFile,
} from './input-file.js';

export { fsReason };

/** The folder of hand-written example scenarios shipped with tooltime. */
export function examplesDir(): string {
  return scenariosPath('examples');
}

/**
 * The JSON document in `path` (a regular file of at most MAX_SCENARIO_FILE_BYTES, UTF-8; a leading
 * byte-order mark is ignored), or a ScenarioError.
 */
export function readJsonFile(path: string): unknown {
  let bytes: Uint8Array;
  try {
    bytes = readInputFile(path, MAX_SCENARIO_FILE_BYTES);
  } catch (error) {
    if (error instanceof InputFileError)
      throw new ScenarioError(path, [{ path: '', message: `cannot read: ${error.message}` }]);
    throw error;
  }
  const text = decodeUtf8(bytes);
  if (text === null)
    throw new ScenarioError(path, [
      {
        path: '',
        message: `not valid UTF-8 at byte ${invalidUtf8Offset(bytes)} (scenario files are UTF-8 text)`,
      },
    ]);
  try {
    return JSON.parse(text.startsWith('\uFEFF') ? text.slice(1) : text) as unknown;
  } catch (error) {
    throw new ScenarioError(path, [
      {
        path: '',
        message: `not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
      },
    ]);
  }
}

/**
 * Reads, parses and validates one scenario file, into its canonical form (canonical-scenario.ts).
 * A file that cannot be read or is not a valid scenario throws ScenarioError listing every problem.
 */
export function loadScenarioFile(path: string): Scenario {
  return parseCanonicalScenario(readJsonFile(path), path);
}

/**
 * The scenario files named by `paths`, in order: a file stands for itself; a folder for every
 * `*.json` below it, recursively, entries sorted by name at each level, except files that are not
 * scenarios: JSON Schemas (`*.schema.json`), domain files (`*.domain.json`) and suite indexes
 * (`index.json`).
 */
export function expandScenarioPaths(paths: readonly string[]): string[] {
  const files: string[] = [];
  for (const path of paths) {
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch (error) {
      throw new ScenarioError(path, [{ path: '', message: `cannot read: ${fsReason(error)}` }]);
    }
    if (isDir) collect(path, files);
    else files.push(path);
  }
  return files;
}

/** True for a file name a folder expands to: `*.json` but not a schema, a domain file or a suite index. */
export function isScenarioFileName(name: string): boolean {
  return (
    name.endsWith('.json') &&
    !name.endsWith('.schema.json') &&
    !name.endsWith('.domain.json') &&
    name !== 'index.json'
  );
}

function collect(dir: string, files: string[]): void {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    throw new ScenarioError(dir, [{ path: '', message: `cannot read: ${fsReason(error)}` }]);
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const full = join(dir, e.name);
    if (e.isDirectory()) collect(full, files);
    else if (isScenarioFileName(e.name)) files.push(full);
  }
}

/** Loads every scenario named by `paths` (see expandScenarioPaths); the first bad file throws. */
export function loadScenarios(
  paths: readonly string[],
): Array<{ file: string; scenario: Scenario }> {
  return expandScenarioPaths(paths).map((file) => ({ file, scenario: loadScenarioFile(file) }));
}
