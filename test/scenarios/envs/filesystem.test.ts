import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../scenarios/spec/canonical.js';
import { filesystem, type Dir } from '../../../scenarios/envs/filesystem.js';
import type { JsonValue } from '../../../scenarios/spec/schema.js';

const NAMES = ['a', 'b', 'c.txt', 'd.csv'];
const pathArb = fc
  .array(fc.constantFrom(...NAMES), { minLength: 0, maxLength: 3 })
  .map((ns) => `/${ns.join('/')}`);

/** One random operation with args that fit its parameter schema. */
const callArb: fc.Arbitrary<{ op: string; args: Record<string, JsonValue> }> = fc.oneof(
  fc.record({
    op: fc.constant('mkdir'),
    args: fc.record({ path: pathArb, parents: fc.boolean() }),
  }),
  fc.record({ op: fc.constant('touch'), args: fc.record({ path: pathArb }) }),
  fc.record({
    op: fc.constant('write'),
    args: fc.record({ path: pathArb, content: fc.string({ maxLength: 8 }), append: fc.boolean() }),
  }),
  fc.record({
    op: fc.constantFrom('mv', 'cp'),
    args: fc.record({ source: pathArb, destination: pathArb }),
  }),
  fc.record({ op: fc.constant('rm'), args: fc.record({ path: pathArb, recursive: fc.boolean() }) }),
  fc.record({ op: fc.constantFrom('ls', 'cat', 'find', 'wc'), args: fc.record({ path: pathArb }) }),
  fc.record({
    op: fc.constant('grep'),
    args: fc.record({ path: pathArb, pattern: fc.constant('x') }),
  }),
);

/** Every path in the tree (directories with a trailing "/"), sorted. */
function paths(dir: Dir, at = ''): string[] {
  return Object.entries(dir).flatMap(([n, e]) =>
    typeof e === 'string' ? [`${at}/${n}`] : [`${at}/${n}/`, ...paths(e, `${at}/${n}`)],
  );
}

describe('filesystem environment', () => {
  it('create/move/copy/delete sequences keep a valid tree; apply never mutates its input; a failed op changes nothing', () => {
    fc.assert(
      fc.property(fc.array(callArb, { maxLength: 25 }), (calls) => {
        let state: Dir = { a: { 'c.txt': 'x\ny' } };
        for (const { op, args } of calls) {
          const before = canonicalJson(state);
          const out = filesystem.operations[op]!.apply(state, args, { nowUs: 0 });
          // Pure: the input state is exactly as it was, whatever happened.
          expect(canonicalJson(state)).toBe(before);
          if (!out.ok) continue;
          // A read-only operation returns the very state it was given.
          if (filesystem.operations[op]!.readOnly) expect(out.state).toBe(state);
          expect(filesystem.stateSchema.safeParse(out.state).success).toBe(true);
          state = out.state;
        }
        // A tree: no path twice, and every entry's parent is a directory in it.
        const all = paths(state);
        expect(new Set(all).size).toBe(all.length);
        for (const p of all) {
          const parent = p.replace(/\/$/, '').split('/').slice(0, -1).join('/');
          if (parent !== '') expect(all).toContain(`${parent}/`);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('mv keeps the entries: a move of a directory takes its files along, under the new name', () => {
    const out = filesystem.operations.mv!.apply(
      { a: { 'c.txt': 'hi' }, b: {} },
      { source: '/a', destination: '/b' },
      { nowUs: 0 },
    );
    expect(out).toEqual({
      ok: true,
      state: { b: { a: { 'c.txt': 'hi' } } },
      result: { path: '/b/a' },
    });
  });

  it('names its errors: no such file, a directory into itself, existing targets', () => {
    const root: Dir = { a: { b: {} }, f: 'x' };
    const err = (op: string, args: Record<string, JsonValue>) => {
      const out = filesystem.operations[op]!.apply(root, args, { nowUs: 0 });
      return out.ok ? 'ok' : out.error;
    };
    expect(err('cat', { path: '/nope' })).toBe('cat: /nope: no such file');
    expect(err('mv', { source: '/a', destination: '/a/b' })).toBe(
      'mv: cannot put /a inside itself',
    );
    expect(err('mkdir', { path: '/a' })).toBe('mkdir: /a: file exists');
    expect(err('rm', { path: '/a' })).toBe('rm: /a: directory not empty (use recursive)');
    expect(err('write', { path: '/x/y', content: '' })).toBe('write: /x: no such directory');
    expect(err('ls', { path: 'a' })).toBe('ls: "a": paths are absolute (start with "/")');
  });
});
