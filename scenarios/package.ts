/**
 * The installed package: its root folder, its version, and where the files shipped with tooltime
 * live (examples, domains, suites). The one place that reads package.json.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
