/**
 * The job seam (cli/episode-jobs.ts): a suite packed for a worker is taken only with the hash of
 * its bytes, and a job's line and replay are those the main thread's run makes.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAgent } from '../../agents/index.js';
import { episodeJobRunner, packSuite, runSuite, unpackSuite } from '../../cli/episode-jobs.js';
import { loadInstances } from '../../cli/instances.js';
import { ROOT, tooltime } from '../support/cli.js';

const examples = join(ROOT, 'scenarios', 'examples');

describe('episode jobs', () => {
  it('unpacks a packed suite as it was, an instance when first named, and refuses changed bytes', () => {
    const suite = runSuite(loadInstances([examples], null));
    const packed = structuredClone(packSuite(suite));
    const instanceOf = unpackSuite(packed);
    for (const original of suite.instances) {
      const copy = instanceOf(original.scenario.id)!;
      expect(copy).toEqual(original);
      // Key order too: an agent sees the scenario's objects as the main thread's run shows them.
      expect(JSON.stringify(copy.scenario)).toBe(JSON.stringify(original.scenario));
      expect(instanceOf(original.scenario.id)).toBe(copy);
    }
    expect(instanceOf('no-such-instance')).toBeUndefined();
    const tampered = structuredClone(packed);
    tampered.bytes[tampered.bytes.length >> 1]! ^= 1;
    expect(() => unpackSuite(tampered)).toThrow(
      /the suite handed over \(sha256:[0-9a-f]{64}\) has bytes of sha256:[0-9a-f]{64}, not /,
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
    const instances = unpackSuite(
      structuredClone(packSuite(runSuite(loadInstances([chain], null)))),
    );
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
        instances: unpackSuite(structuredClone(packSuite(runSuite(loadInstances([chain], null))))),
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
