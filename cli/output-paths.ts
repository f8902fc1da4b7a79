/**
 * Output paths a user names (`--out DIR`, `--record FILE`), checked before the first episode runs:
 * a path that cannot be written costs no work, and fails with one line naming it and the real
 * cause. Any later failure under such a path is reported the same way (`declareUserPath`).
 */
import { accessSync, constants, mkdirSync, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { declareUserPath, fsCause, UsageError } from './errors.js';

function fail(flag: string, path: string, what: string): never {
  throw new UsageError(`${flag} ${path}: ${what}`);
}

/** What is at `path`; undefined for nothing (a missing level, or a file where a level should be). */
function statOf(flag: string, shown: string, path: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOTDIR') return undefined;
    return fail(flag, shown, `cannot look at ${path}: ${fsCause(error) ?? String(error)}`);
  }
}

function writable(flag: string, shown: string, dir: string): void {
  try {
    accessSync(dir, constants.W_OK);
  } catch (error) {
    fail(flag, shown, `cannot write in ${dir}: ${fsCause(error) ?? String(error)}`);
  }
}

/**
 * Makes `dir` one level at a time. Node's recursive mkdir reports the wrong cause when a level
 * fails (a read-only file system comes back as ENOENT) and never returns on some paths (/proc/x).
 */
function makeDirectory(flag: string, shown: string, dir: string): void {
  const missing: string[] = [];
  let at = resolve(dir);
  // At most one step per path level: the root's parent is itself.
  while (statOf(flag, shown, at) === undefined && dirname(at) !== at) {
    missing.push(at);
    at = dirname(at);
  }
  const base = statOf(flag, shown, at);
  if (base?.isDirectory() !== true) fail(flag, shown, `${at} is not a directory`);
  for (const level of missing.reverse()) {
    try {
      mkdirSync(level);
    } catch (error) {
      fail(flag, shown, `cannot create directory ${level}: ${fsCause(error) ?? String(error)}`);
    }
  }
}

/** `--out DIR`: made if missing; it must be a directory the run can write in. */
export function prepareOutDir(dir: string, flag = '--out'): void {
  declareUserPath(dir);
  const stat = statOf(flag, dir, dir);
  if (stat !== undefined && !stat.isDirectory()) fail(flag, dir, 'it is a file, not a directory');
  if (stat === undefined) makeDirectory(flag, dir, dir);
  writable(flag, dir, dir);
}

/** `--record FILE`: not a directory, in an existing directory the run can write in. */
export function checkOutFile(file: string, flag = '--record'): void {
  declareUserPath(file);
  const stat = statOf(flag, file, file);
  if (stat?.isDirectory() === true) fail(flag, file, 'it is a directory (give a file name)');
  const parent = dirname(resolve(file));
  const parentStat = statOf(flag, file, parent);
  if (parentStat === undefined) fail(flag, file, `no such directory ${parent}`);
  if (!parentStat.isDirectory()) fail(flag, file, `${parent} is not a directory`);
  writable(flag, file, stat === undefined ? parent : file);
}
