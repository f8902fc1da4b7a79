/**
 * The pool of `tooltime run --workers N` (cli/run-pool.ts) as built: N threads run episodes, this
 * one and N - 1 workers, with the records and replay bytes of a plain run; and batches hold whole
 * (instance, seed) groups. A worker thread runs plain JavaScript, so the pool is imported from
 * dist/ (built here if missing), whose worker is the compiled module beside it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent } from '../../agents/index.js';
import { episodeJobRunner, runSuite } from '../../cli/episode-jobs.js';
import { loadInstances } from '../../cli/instances.js';
import {
  DEFAULT_SPREAD_EPISODES,
  defaultPoolSize,
  parseWorkers,
  type RunPool as Pool,
  type batchSize as BatchSize,
  nextBatch,
} from '../../cli/run-pool.js';
import type { EpisodeKey } from '../../scenarios/experiment.js';
import { packageRoot } from '../../scenarios/package.js';

const root = packageRoot();
const tmp = mkdtempSync(join(tmpdir(), 'tooltime-run-pool-'));
let RunPool: typeof Pool;
let batchSize: typeof BatchSize;

beforeAll(async () => {
  if (!existsSync(join(root, 'dist', 'cli', 'run-worker.js')))
    spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, encoding: 'utf8' });
  const built = pathToFileURL(join(root, 'dist', 'cli', 'run-pool.js'));
  ({ RunPool, batchSize } = (await import(built.href)) as {
    RunPool: typeof Pool;
    batchSize: typeof BatchSize;
  });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('RunPool', () => {
  it('runs batches on this thread as one of N (N - 1 workers), with the bytes of a plain run', async () => {
    const instances = loadInstances([join(root, 'scenarios', 'examples')], null).slice(0, 4);
    const suite = runSuite(instances);
    const agents = ['greedy-async', 'sequential'];
    const dir = join(tmp, 'pooled');
    mkdirSync(join(dir, 'replays'), { recursive: true });
    let madeHere = 0;
    const makeAgent = (spec: string) => {
      madeHere++;
      return createAgent(spec);
    };
    const setup = { suite, agents, mode: 'async' as const, delivery: 'push' as const, dir };
    const pool = new RunPool(2, 48, setup, makeAgent, null, true);
    const keys: EpisodeKey[] = [];
    for (const { scenario } of suite.instances)
      for (const seed of [1, 2, 3])
        for (const agent of agents) keys.push({ instance: scenario.id, agent, seed });
    const batches = [keys.slice(0, 8), keys.slice(8, 16), keys.slice(16)];
    let records: Awaited<ReturnType<typeof pool.elsewhere.run>>[];
    try {
      expect(pool.workerThreads).toBe(1);
      records = await Promise.all(batches.map((b) => pool.elsewhere.run(b)));
    } finally {
      await pool.close();
    }
    // This thread ran one batch at a time: its episodes' agents, and each group's reference's.
    expect(madeHere).toBeGreaterThan(0);
    const plain = episodeJobRunner({
      ...setup,
      instances: suite.instances,
      makeAgent: createAgent,
      record: true,
    });
    for (const [i, key] of batches.flat().entries()) {
      const result = await plain(key);
      expect(records.flat()[i], `${key.instance} ${key.seed}`).toEqual(result.record);
      const file = readdirSync(join(dir, 'replays')).find((f) =>
        f.startsWith(`${key.instance}--${key.agent}--seed${key.seed}.`),
      );
      expect(Buffer.from(result.replay!).equals(readFileSync(join(dir, 'replays', file!)))).toBe(
        true,
      );
    }
  }, 60_000);

  it('sizes batches as whole (instance, seed) groups', () => {
    for (const [threads, episodes, group] of [
      [2, 7680, 10],
      [2, 960, 10],
      [3, 1000, 7],
      [2, 64, 9],
      [4, 100_000, 11],
    ] as const) {
      const size = batchSize(threads, episodes, group);
      expect(size % group, `${threads} ${episodes} ${group}`).toBe(0);
      expect(size).toBeGreaterThan(0);
      expect(size).toBeLessThanOrEqual(256 + group);
    }
  });

  it('shrinks batches near the end of a run to whole groups, so that no thread is left with a queue', () => {
    for (const [most, episodes, inFlight, group] of [
      [260, 38_400, 4, 10],
      [240, 7680, 4, 10],
      [14, 100, 7, 7],
      [9, 64, 4, 9],
      [33, 1000, 10, 11],
    ] as const) {
      const sizes: number[] = [];
      for (let left = episodes; left > 0; ) {
        const size = nextBatch(most, left, inFlight, group);
        sizes.push(size);
        left -= Math.min(size, left);
      }
      const label = `${most} ${episodes} ${inFlight} ${group}`;
      expect(
        sizes.every((n) => n % group === 0 && n >= group && n <= most),
        label,
      ).toBe(true);
      expect(sizes[0], label).toBe(most);
      // Never growing, and the last batches a group each: what a thread still has queued at the
      // end is a few groups, not inFlight batches of `most`.
      expect(
        sizes.every((n, i) => i === 0 || n <= sizes[i - 1]!),
        label,
      ).toBe(true);
      expect(
        sizes.slice(-inFlight).every((n) => n === group),
        label,
      ).toBe(true);
    }
  });

  it('without --workers, spreads a run over the available cores only from DEFAULT_SPREAD_EPISODES', () => {
    expect(parseWorkers(undefined)).toBeNull();
    expect(parseWorkers('1')).toBe(1);
    // The default run (720 scenarios, 10 agents, one seed) stays on this thread...
    expect(defaultPoolSize(7200, 2)).toBe(0);
    expect(defaultPoolSize(DEFAULT_SPREAD_EPISODES - 1, 2)).toBe(0);
    // ...a sweep past the break-even takes every core the machine has, and one core is no pool.
    expect(defaultPoolSize(DEFAULT_SPREAD_EPISODES, 2)).toBe(2);
    expect(defaultPoolSize(DEFAULT_SPREAD_EPISODES * 4, 8)).toBe(8);
    expect(defaultPoolSize(DEFAULT_SPREAD_EPISODES * 4, 1)).toBe(0);
  });
});
