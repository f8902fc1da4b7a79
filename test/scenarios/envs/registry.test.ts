import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENVIRONMENTS, getEnvironment } from '../../../scenarios/envs/index.js';

const NAMES = ['inbox', 'social', 'tickets', 'trading', 'travel', 'vehicle'];

describe('environment registry', () => {
  it('files each environment under its own name', () => {
    for (const [name, env] of Object.entries(ENVIRONMENTS)) expect(env.name).toBe(name);
    expect(Object.keys(ENVIRONMENTS)).toEqual(expect.arrayContaining(NAMES));
  });

  it('finds an environment by name and nothing for other names', () => {
    expect(getEnvironment('inbox')?.name).toBe('inbox');
    expect(getEnvironment('nope')).toBeUndefined();
    expect(getEnvironment('toString')).toBeUndefined();
    expect(getEnvironment('__proto__')).toBeUndefined();
  });
});

describe('docs/ENVIRONMENTS.md', () => {
  const text = readFileSync(join(import.meta.dirname, '../../../docs/ENVIRONMENTS.md'), 'utf8');

  /** The operation names in the first column of the table under `## name`. */
  function documented(name: string): string[] {
    const start = text.indexOf(`\n## ${name}\n`);
    expect(start, `no section for ${name}`).toBeGreaterThanOrEqual(0);
    const end = text.indexOf('\n## ', start + 1);
    const section = text.slice(start, end < 0 ? undefined : end);
    return [...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]!);
  }

  it('lists exactly the operations of each environment, in their order', () => {
    for (const name of NAMES)
      expect(documented(name), name).toEqual(Object.keys(ENVIRONMENTS[name]!.operations));
  });
});
