/**
 * Golden replays: every example scenario × greedy-async and sequential, seed 1, default world
 * (async, push), stored in replays/golden/ as `<scenario id>--<agent>--seed1.ttr`. A test re-runs
 * them and asserts byte identity, so any change in behaviour (world, agents, format) shows up.
 * Regenerate (`tooltime replay golden`) only when a change in behaviour is intended, and say why in
 * the commit.
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { createAgent } from '../../agents/index.js';
import { examplesDir, expandScenarioPaths, loadScenarioFile } from '../../scenarios/spec/load.js';
import { packageRoot } from '../../scenarios/package.js';
import { sameBytes } from '../format/format.js';
import { readReplay } from '../io/reader.js';
import { recordEpisode } from '../io/recorder.js';

export const GOLDEN_AGENTS: readonly string[] = ['greedy-async', 'sequential'];
export const GOLDEN_SEED = 1;

export function goldenDir(): string {
  return join(packageRoot(), 'replays', 'golden');
}

export interface GoldenReplay {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** Records every golden replay in memory, in a fixed order. */
export async function generateGolden(): Promise<GoldenReplay[]> {
  const out: GoldenReplay[] = [];
  for (const file of expandScenarioPaths([examplesDir()])) {
    const scenario = loadScenarioFile(file);
    for (const spec of GOLDEN_AGENTS) {
      const { bytes } = await recordEpisode({
        scenario,
        agent: createAgent(spec),
        seed: GOLDEN_SEED,
      });
      out.push({ name: `${scenario.id}--${spec}--seed${GOLDEN_SEED}.ttr`, bytes: bytes! });
    }
  }
  return out;
}

/** Writes the golden replays to `dir` and removes stale `.ttr` files there; returns the names written. */
export async function writeGolden(dir = goldenDir()): Promise<string[]> {
  const golden = await generateGolden();
  mkdirSync(dir, { recursive: true });
  const names = new Set(golden.map((g) => g.name));
  for (const f of readdirSync(dir))
    if (f.endsWith('.ttr') && !names.has(f)) unlinkSync(join(dir, f));
  for (const g of golden) writeFileSync(join(dir, g.name), g.bytes);
  return golden.map((g) => g.name);
}

/** Compares freshly recorded golden replays with the files in `dir`: one line per problem. */
export async function checkGolden(
  dir = goldenDir(),
): Promise<{ ok: boolean; checked: number; problems: string[] }> {
  const golden = await generateGolden();
  const problems: string[] = [];
  const names = new Set(golden.map((g) => g.name));
  for (const g of golden) {
    const path = join(dir, g.name);
    if (!existsSync(path)) {
      problems.push(`${path}: missing`);
      continue;
    }
    const stored = new Uint8Array(readFileSync(path));
    if (sameBytes(stored, g.bytes)) continue;
    problems.push(
      `${path}: differs from a fresh recording (${describeDifference(path, stored, g.bytes)})`,
    );
  }
  if (existsSync(dir))
    for (const f of readdirSync(dir))
      if (f.endsWith('.ttr') && !names.has(f))
        problems.push(`${join(dir, f)}: not a golden replay any more (stale)`);
  return { ok: problems.length === 0, checked: golden.length, problems };
}

function describeDifference(path: string, stored: Uint8Array, fresh: Uint8Array): string {
  try {
    const a = readReplay(stored, { file: path });
    const b = readReplay(fresh, { file: 'fresh' });
    if (JSON.stringify(a.header) !== JSON.stringify(b.header)) {
      const fields = (
        ['tooltime', 'scenario', 'agent', 'seed', 'world', 'forkedFrom'] as const
      ).filter((k) => JSON.stringify(a.header[k]) !== JSON.stringify(b.header[k]));
      return `header differs in ${fields.join(', ')}`;
    }
    const n = Math.max(a.events.length, b.events.length);
    for (let i = 0; i < n; i++) {
      if (JSON.stringify(a.events[i]) !== JSON.stringify(b.events[i]))
        return `first at record ${i}: stored ${JSON.stringify(a.events[i] ?? null)}, fresh ${JSON.stringify(b.events[i] ?? null)}`;
    }
    return 'same events, different bytes: the encoding changed';
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
