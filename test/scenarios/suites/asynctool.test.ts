import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  generate,
  loadSuite,
  sampleIds,
  sampleSuite,
  shippedSuiteDir,
  suiteStats,
  suiteTags,
  writeSuite,
} from '../../../scenarios/suite/index.js';
import { validateScenario } from '../../../scenarios/spec/validate.js';

const dir = shippedSuiteDir();
const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as {
  generator: { seed: number; count: number; tasks: string; domains: string; command: string };
  instances: number;
};
const temps: string[] = [];
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

describe('the shipped asynctool suite', () => {
  it('is exactly what the generator writes for its seed and count (every file byte-identical)', () => {
    expect(index.generator.tasks).toBe('2-3');
    expect(index.generator.domains).toBe('all');
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    expect(readme).toContain(index.generator.command);
    const out = mkdtempSync(join(tmpdir(), 'tooltime-suite-'));
    temps.push(out);
    const result = generate({ seed: index.generator.seed, count: index.generator.count });
    expect(result.unfilled).toBe(0);
    writeSuite(out, result);
    const shipped = readdirSync(dir)
      .filter((f) => f !== 'README.md')
      .sort();
    const fresh = readdirSync(out).sort();
    expect(shipped).toEqual(fresh);
    for (const f of fresh) {
      const want = readFileSync(join(out, f), 'utf8');
      const got = readFileSync(join(dir, f), 'utf8');
      if (got !== want)
        expect.fail(
          `${f} differs from the regenerated file: regenerate with "${index.generator.command} --out scenarios/suites/asynctool"`,
        );
    }
  });

  it('has at least 712 instances, dual and tri, under 15 MB, and every one validates', () => {
    const files = readdirSync(dir).filter((f) => /^asynctool-s2024-\d{4}\.json$/.test(f));
    expect(files.length).toBeGreaterThanOrEqual(712);
    expect(index.instances).toBe(files.length);
    const bytes = readdirSync(dir).reduce((a, f) => a + statSync(join(dir, f)).size, 0);
    expect(bytes).toBeLessThan(15 * 1024 * 1024);
    const counts = new Map<number, number>();
    for (const f of files) {
      const doc = JSON.parse(readFileSync(join(dir, f), 'utf8')) as {
        id: string;
        tasks: unknown[];
      };
      const problems = validateScenario(doc);
      if (problems.length > 0)
        expect.fail(`${f}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
      expect(`${doc.id}.json`).toBe(f);
      counts.set(doc.tasks.length, (counts.get(doc.tasks.length) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual([2, 3]);
  });

  it('meets every balance threshold', () => {
    const stats = suiteStats(dir);
    expect(stats.instances).toBe(index.instances);
    const failed = stats.checks.filter((c) => !c.ok);
    expect(failed).toEqual([]);
    const dim = (name: string) => stats.dimensions.find((d) => d.name === name)!;
    expect(dim('domain').counts).toHaveLength(12);
    expect(dim('domainPair').counts).toHaveLength(66);
    expect(dim('variant').counts.map(([k]) => k)).toEqual([
      'base',
      'fast',
      'slow',
      'heavy-tail',
      'one-slow-tool',
    ]);
  });

  it('loadSuite returns every instance sorted by id; sampleSuite is a fixed, stratified sample', () => {
    const tags = suiteTags(dir);
    expect(tags).toHaveLength(index.instances);
    const sample = sampleSuite(dir, 24);
    expect(sample).toHaveLength(24);
    const ids = sample.map((s) => s.scenario.id);
    expect([...ids].sort()).toEqual(ids);
    expect(sampleSuite(dir, 24).map((s) => s.scenario.id)).toEqual(ids);
    // Proportional to the strata: 1/6 dual similar, 1/3 dual cross, 1/6 tri similar, 1/3 tri cross.
    const strata = new Map<string, number>();
    for (const s of sample)
      strata.set(
        `${s.scenario.tags.tasks}/${s.scenario.tags.mix}`,
        (strata.get(`${s.scenario.tags.tasks}/${s.scenario.tags.mix}`) ?? 0) + 1,
      );
    expect(Object.fromEntries(strata)).toEqual({
      '2/similar': 4,
      '2/cross': 8,
      '3/similar': 4,
      '3/cross': 8,
    });
    const small = mkdtempSync(join(tmpdir(), 'tooltime-small-'));
    temps.push(small);
    writeSuite(small, generate({ seed: 9, count: 6 }));
    const loaded = loadSuite(small);
    expect(loaded.map((x) => x.scenario.id)).toEqual([
      'asynctool-s9-0001',
      'asynctool-s9-0002',
      'asynctool-s9-0003',
      'asynctool-s9-0004',
      'asynctool-s9-0005',
      'asynctool-s9-0006',
    ]);
    expect(sampleSuite(small, 100)).toHaveLength(6);
  });

  it('suite stats refuses a folder with no instances', () => {
    const empty = mkdtempSync(join(tmpdir(), 'tooltime-empty-'));
    temps.push(empty);
    expect(() => suiteStats(empty)).toThrow(/no instances/);
  });
});

describe('tooltime run --sample', () => {
  it("takes the sample the instances' own tags give, reading only the instances it takes", async () => {
    const { defaultInstances } = await import('../../../cli/instances.js');
    // The rule over every file's own id and tags (what loading all 720 and sampling them gives).
    const own = readdirSync(dir)
      .filter((f) => /^asynctool-s2024-\d{4}\.json$/.test(f))
      .map(
        (f) =>
          JSON.parse(readFileSync(join(dir, f), 'utf8')) as {
            id: string;
            tags: Record<string, string>;
          },
      )
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const n of [1, 24, 72, 500]) {
      const taken = defaultInstances(n);
      expect(taken.map((i) => i.scenario.id)).toEqual(sampleIds(own, n).map((e) => e.id));
      expect(taken.map((i) => i.file)).toEqual(
        taken.map((i) => join(dir, `${i.scenario.id}.json`)),
      );
    }
  });
});
