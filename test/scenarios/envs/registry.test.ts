import { describe, expect, it } from 'vitest';
import { ENVIRONMENTS, getEnvironment } from '../../../scenarios/envs/index.js';

describe('environment registry', () => {
  it('files each environment under its own name', () => {
    for (const [name, env] of Object.entries(ENVIRONMENTS)) expect(env.name).toBe(name);
    expect(Object.keys(ENVIRONMENTS)).toEqual(
      expect.arrayContaining(['inbox', 'social', 'tickets', 'trading', 'travel', 'vehicle']),
    );
  });

  it('finds an environment by name and nothing for other names', () => {
    expect(getEnvironment('inbox')?.name).toBe('inbox');
    expect(getEnvironment('nope')).toBeUndefined();
    expect(getEnvironment('toString')).toBeUndefined();
    expect(getEnvironment('__proto__')).toBeUndefined();
  });
});
