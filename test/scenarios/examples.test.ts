import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scenarioJsonSchemaText } from '../../scenarios/spec/json-schema.js';
import { examplesDir, loadScenarios } from '../../scenarios/spec/load.js';
import { Plan } from '../../scenarios/world/plan.js';
import { scenarioJsonSchema } from '../../scenarios/spec/schema.js';
import { scenariosPath } from '../../scenarios/package.js';
import { validateScenario } from '../../scenarios/spec/validate.js';

const files = readdirSync(examplesDir())
  .filter((f) => f.endsWith('.json'))
  .sort();

describe('example scenarios', () => {
  it('there are at least 8, each listed in the README', () => {
    expect(files.length).toBeGreaterThanOrEqual(8);
    const readme = readFileSync(join(examplesDir(), 'README.md'), 'utf8');
    for (const f of files) expect(readme).toContain(`\`${f}\``);
  });

  for (const f of files) {
    it(`${f} validates with zero problems`, () => {
      const doc = JSON.parse(readFileSync(join(examplesDir(), f), 'utf8')) as {
        id: string;
        description: string;
        tags: Record<string, string>;
      };
      expect(validateScenario(doc)).toEqual([]);
      expect(doc.id).toBe(`example-${f.replace(/\.json$/, '')}`);
      expect(doc.description.length).toBeGreaterThan(20);
      expect(doc.tags.pattern).toBeDefined();
    });
  }

  it('load through loadScenarios in name order and build a plan', () => {
    const loaded = loadScenarios([examplesDir()]);
    expect(loaded.map((x) => x.file)).toEqual(files.map((f) => join(examplesDir(), f)));
    for (const { scenario } of loaded) {
      const plan = new Plan(scenario);
      expect(plan.steps.length).toBeGreaterThan(0);
    }
  });

  it('cover the patterns they are meant to show', () => {
    const byId = new Map(
      loadScenarios([examplesDir()]).map(({ scenario }) => [scenario.id, scenario]),
    );
    const get = (id: string) => {
      const s = byId.get(id);
      if (s === undefined) throw new Error(`missing example ${id}`);
      return s;
    };
    expect(get('example-staggered').tasks.map((t) => t.arrivalMs)).toEqual([0, 800]);
    expect(get('example-follow-up').messages[0]!.steps.length).toBe(1);
    expect(get('example-retry').tools.some((t) => (t.failure?.rate ?? 0) >= 0.5)).toBe(true);
    const conc = get('example-concurrency');
    expect(conc.tools[0]!.concurrency).toBe(1);
    expect(conc.tasks[0]!.steps.filter((s) => s.after.length === 0).length).toBeGreaterThanOrEqual(
      3,
    );
    expect(get('example-diamond').tasks[0]!.steps.at(-1)!.after.length).toBe(2);
    expect(get('example-timeout').tools.some((t) => t.timeoutMs !== undefined)).toBe(true);
  });
});

describe('scenario.schema.json', () => {
  it('is up to date with the zod schema (regenerate: tooltime schema --out scenarios/scenario.schema.json)', () => {
    const committed = readFileSync(scenariosPath('scenario.schema.json'), 'utf8');
    expect(committed).toBe(`${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`);
    expect(scenarioJsonSchemaText()).toBe(committed);
  });
});
