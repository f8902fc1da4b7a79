/**
 * Run directories (`--out DIR`) as the research and ablation tests drive them: commands that must
 * succeed or be refused, episodes.jsonl's whole lines, a run killed mid-way, and two directories
 * holding the same results.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { expect } from 'vitest';
import { MAIN, ROOT, hasStackTrace, tooltime } from './cli.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `tooltime args`, which must succeed silently on stderr; returns its stdout. */
export function ok(args: readonly string[]): string {
  const r = tooltime(args);
  expect(r.stderr, args.join(' ')).toBe('');
  expect(r.status, args.join(' ')).toBe(0);
  return r.stdout;
}

/** One line naming the problem, exit 1, no stack trace. */
export function refused(args: readonly string[], message: RegExp): void {
  const r = tooltime(args);
  expect(r.status, args.join(' ')).toBe(1);
  expect(r.stderr).toMatch(message);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(hasStackTrace(r.stderr)).toBe(false);
}

/** The whole lines of DIR/episodes.jsonl (none if it is missing); a cut last line is left out. */
export function episodeLines(dir: string): string[] {
  const path = join(dir, 'episodes.jsonl');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').slice(0, -1);
}

/**
 * Starts `tooltime args --out out` and kills it (SIGKILL) once run.json exists and `logged`
 * episodes are in episodes.jsonl; returns how many were. Fails if the command ended first.
 */
export async function killAfter(
  args: readonly string[],
  out: string,
  logged: number,
): Promise<number> {
  const child = spawn(process.execPath, [MAIN, ...args, '--out', out], {
    cwd: ROOT,
    stdio: 'ignore',
  });
  let exited = false;
  const exit = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  void exit.then(() => (exited = true));
  const deadline = Date.now() + 60_000;
  while (
    !exited &&
    Date.now() < deadline &&
    !(existsSync(join(out, 'run.json')) && episodeLines(out).length >= logged)
  )
    await sleep(5);
  expect(exited, 'the command ended before it was killed').toBe(false);
  child.kill('SIGKILL');
  await exit;
  return episodeLines(out).length;
}

/** episodes.jsonl, summary.json and every replay (`episodes` of them) are byte-identical in both. */
export function expectSameResults(a: string, b: string, episodes: number): void {
  for (const file of ['episodes.jsonl', 'summary.json'])
    expect(readFileSync(join(b, file), 'utf8'), file).toBe(readFileSync(join(a, file), 'utf8'));
  const names = readdirSync(join(a, 'replays')).sort();
  expect(readdirSync(join(b, 'replays')).sort()).toEqual(names);
  expect(names).toHaveLength(episodes);
  for (const name of names)
    expect(
      readFileSync(join(b, 'replays', name)).equals(readFileSync(join(a, 'replays', name))),
      name,
    ).toBe(true);
}

/** The files of a run directory by path, run.json (the command and times) left out. */
export function runDirFiles(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name !== 'run.json') files.set(relative(dir, path), readFileSync(path));
    }
  };
  walk(dir);
  return files;
}

/** Two runDirFiles agree file for file, byte for byte (the first difference named). */
export function expectSameFiles(
  a: Map<string, Buffer>,
  b: Map<string, Buffer>,
  what: string,
): void {
  expect([...b.keys()], what).toEqual([...a.keys()]);
  for (const [name, bytes] of a) expect(b.get(name)!.equals(bytes), `${what}: ${name}`).toBe(true);
}
