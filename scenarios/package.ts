/**
 * The installed package: its root folder, its version, where the files shipped with tooltime live
 * (examples, domains, suites), and where a worker thread's compiled module is, whether the code
 * runs from source under vitest or compiled under `dist/`. The one place that reads package.json.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The package root: the nearest folder above this module holding package.json. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 8; depth++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  throw new Error(
    'tooltime: cannot find the package root (no package.json above the scenarios module)',
  );
}

let version: string | null = null;

/** The version in tooltime's package.json (read once). */
export function packageVersion(): string {
  if (version === null) {
    const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as {
      version?: unknown;
    };
    version = typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  }
  return version;
}

/** A path under the package's `scenarios/` folder (the data, not the compiled code). */
export function scenariosPath(...parts: string[]): string {
  return join(packageRoot(), 'scenarios', ...parts);
}

/**
 * The module a worker thread runs: `file` (a compiled `.js` name) next to the module `moduleUrl`.
 * A worker thread runs plain JavaScript under Node's own loader: when the caller runs from its
 * TypeScript source (vitest transforms the modules it imports, not a worker's), the same module
 * compiled under the package's `dist/` (built by `npm test` before the tests run). Compiled code
 * gets its sibling. This is the one place source code names `dist/`: no module hard-codes it.
 */
export function workerUrl(moduleUrl: string, file: string): URL {
  const sibling = new URL(file, moduleUrl);
  if (!moduleUrl.endsWith('.ts')) return sibling;
  const root = packageRoot();
  return pathToFileURL(join(root, 'dist', relative(root, fileURLToPath(sibling))));
}
