/**
 * Where the files shipped with tooltime live (examples, domains, suites), whether the code runs
 * from source under vitest or compiled under `dist/`.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: the nearest folder above this module holding package.json. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 8; depth++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('tooltime: cannot find the package root (no package.json above the scenarios module)');
}

/** A path under the package's `scenarios/` folder (the data, not the compiled code). */
export function scenariosPath(...parts: string[]): string {
  return join(packageRoot(), 'scenarios', ...parts);
}
