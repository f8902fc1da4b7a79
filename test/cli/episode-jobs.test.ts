/**
 * The job seam (cli/episode-jobs.ts): a suite copied into a worker is taken only with the digest
 * it came with, and a job's line and replay are those the main thread's run makes.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAgent } from '../../agents/index.js';
import { adoptSuite, episodeJobRunner, runSuite } from '../../cli/episode-jobs.js';
import { loadInstances } from '../../cli/instances.js';
import { ROOT, tooltime } from '../support/cli.js';

const examples = join(ROOT, 'scenarios', 'examples');

describe('episode jobs', () => {
  it('adopts a copied suite with its digest, and refuses one that differs from it', () => {
    const suite = runSuite(loadInstances([examples], null));
    const copy = structuredClone(suite);
    expect(adoptSuite(copy).map((i) => i.scenario.id)).toEqual(
      suite.instances.map((i) => i.scenario.id),
    );
    const tampered = structuredClone(suite);
    (tampered.instances[0]!.scenario as { description: string }).description = 'changed';
    expect(() => adoptSuite(tampered)).toThrow(
      /the suite handed over has sha256:[0-9a-f]{64}, not /,
    );
  });

  it("gives a job the line and replay bytes of the main thread's run of the episode", async () => {
    const out = mkdtempSync(join(tmpdir(), 'tooltime-jobs-'));
    const chain = join(examples, 'chain.json');
    const r = tooltime([
      'run',
      chain,
      '-a',
      'greedy-async',
      '--seed',
      '3',
      '--workers',
      '1',
      '--out',
      out,
      '-q',
    ]);
    expect(r.status).toBe(0);
    const instances = adoptSuite(structuredClone(runSuite(loadInstances([chain], null))));
    const run = episodeJobRunner({
      instances,
      mode: 'async',
      delivery: 'push',
      makeAgent: createAgent,
      record: true,
    });
    const result = await run({ instance: 'example-chain', agent: 'greedy-async', seed: 3 });
    expect(result.key).toEqual({ instance: 'example-chain', agent: 'greedy-async', seed: 3 });
    expect(result.line).toBe(readFileSync(join(out, 'episodes.jsonl'), 'utf8'));
    const replay = readFileSync(join(out, 'replays', 'example-chain--greedy-async--seed3.ttr'));
    expect(Buffer.from(result.replay!).equals(replay)).toBe(true);
  });

  it('regression: jobs given at once (a worker with --concurrency 2) each get their own replay', async () => {
    const chain = join(examples, 'chain.json');
    const make = () =>
      episodeJobRunner({
        instances: adoptSuite(structuredClone(runSuite(loadInstances([chain], null)))),
        mode: 'async',
        delivery: 'push',
        makeAgent: createAgent,
        record: true,
      });
    const jobs = [1, 2, 3, 4].map((seed) => ({
      instance: 'example-chain',
      agent: 'greedy-async',
      seed,
    }));
    const alone = make();
    const one: string[] = [];
    for (const job of jobs) one.push(Buffer.from((await alone(job)).replay!).toString('hex'));
    // Started together, before any finished: the runner's replay sink was shared and clobbered.
    const together = make();
    const all = await Promise.all(jobs.map((job) => together(job)));
    expect(all.map((r) => Buffer.from(r.replay!).toString('hex'))).toEqual(one);
    expect(all.map((r) => r.key.seed)).toEqual([1, 2, 3, 4]);
  });
});
