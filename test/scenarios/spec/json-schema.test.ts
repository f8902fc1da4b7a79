/**
 * scenarios/spec/json-schema.ts: the published JSON Schema documents itself. Every property, at any
 * depth (definitions, union members, array items), carries a description from the zod schema's
 * `.describe()`, and every shared definition has a name rather than zod's `__schemaN`.
 */
import { describe, expect, it } from 'vitest';
import { scenarioJsonSchema } from '../../../scenarios/spec/schema.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every `properties` entry under `node`, as JSON Pointer-ish paths with the property's schema. */
function properties(
  node: Json,
  path: string,
  out: Array<{ path: string; schema: Json }>,
): typeof out {
  if (node === null || typeof node !== 'object') return out;
  if (Array.isArray(node)) {
    node.forEach((item, i) => {
      properties(item, `${path}/${i}`, out);
    });
    return out;
  }
  for (const [key, value] of Object.entries(node)) {
    if (
      key === 'properties' &&
      value !== null &&
      typeof value === 'object' &&
      !Array.isArray(value)
    ) {
      for (const [name, schema] of Object.entries(value))
        out.push({ path: `${path}/properties/${name}`, schema });
    }
    properties(value, `${path}/${key}`, out);
  }
  return out;
}

describe('the scenario JSON Schema', () => {
  const schema = scenarioJsonSchema() as { $defs: Record<string, Json>; description?: string };
  const found = properties(schema as Json, '#', []);

  it('has a description on every property, at every depth', () => {
    expect(found.length).toBeGreaterThan(50);
    const bare = found.filter(
      ({ schema: s }) =>
        s === null ||
        typeof s !== 'object' ||
        Array.isArray(s) ||
        typeof s.description !== 'string' ||
        s.description.length === 0,
    );
    expect(bare.map((p) => p.path)).toEqual([]);
  });

  it('names its definitions (no __schemaN), each described, and describes the document itself', () => {
    expect(Object.keys(schema.$defs).filter((name) => name.startsWith('__'))).toEqual([]);
    expect(Object.keys(schema.$defs)).toEqual(
      expect.arrayContaining([
        'tool',
        'task',
        'step',
        'input',
        'message',
        'limits',
        'distribution',
        'json',
      ]),
    );
    for (const [name, def] of Object.entries(schema.$defs))
      expect(typeof (def as { description?: unknown }).description, name).toBe('string');
    expect(schema.description).toMatch(/scenario/);
  });
});
