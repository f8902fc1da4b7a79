/**
 * What the replay commands share: the files a list of arguments names (a directory stands for
 * every .ttr file under it) and how figures and lines are printed.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from './errors.js';

export function write(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function writeErr(text: string): void {
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
}

/**
 * The replay files named by `args`: a directory stands for every `.ttr` file under it (as
 * `tooltime run --out DIR` leaves them in DIR/replays), in name order; anything else is taken as a
 * file (one that cannot be read gets its own verdict). A directory without replays is a usage error.
 */
export function replayPaths(args: readonly string[]): string[] {
  const paths: string[] = [];
  for (const arg of args) {
    if (!statSync(arg, { throwIfNoEntry: false })?.isDirectory()) {
      paths.push(arg);
      continue;
    }
    const found = readdirSync(arg, { recursive: true, encoding: 'utf8' })
      .filter((name) => name.endsWith('.ttr'))
      .sort()
      .map((name) => join(arg, name));
    if (found.length === 0)
      throw new UsageError(`${arg}: no replay files (.ttr) in this directory`);
    paths.push(...found);
  }
  return paths;
}

export const msText = (us: number | null | undefined): string =>
  us === null || us === undefined ? '-' : (us / 1000).toFixed(1);
export const pct = (x: number | null | undefined): string =>
  x === null || x === undefined ? '-' : `${(x * 100).toFixed(1)}%`;
