/**
 * The public API (index.ts, and engine/index.ts as `tooltime/engine`) against its reference,
 * docs/API.md, as SimPy checks `__all__` against its docs: every exported name is documented, every
 * documented name is exported, in the right column (a value at run time, or a type only), and
 * each has a doc comment at its definition. Reads the compiled package (`npm test` builds first):
 * run-time names from the module itself, type-only names from the emitted .d.ts text (TypeScript 7
 * has no compiler API to ask).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROOT } from './support/cli.js';

interface EntryPoint {
  /** The specifier users import. */
  readonly name: string;
  /** Its compiled module under dist/. */
  readonly js: string;
}

const ENTRY_POINTS: readonly EntryPoint[] = [
  { name: 'tooltime', js: 'dist/index.js' },
  { name: 'tooltime/engine', js: 'dist/engine/index.js' },
];

/** One exported name as a .d.ts re-export states it: its module and whether only its type is. */
interface Exported {
  readonly name: string;
  readonly typeOnly: boolean;
  /** The .d.ts that declares it (the re-export's target). */
  readonly from: string;
}

/** Every `export [type] { ... } from '...'` of a .d.ts; anything else exported is a failure. */
function reExports(dtsFile: string): Exported[] {
  const text = readFileSync(dtsFile, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  const out: Exported[] = [];
  const statement = /export\s+(type\s+)?\{([^}]*)\}\s+from\s+'([^']+)';/g;
  for (const m of text.matchAll(statement)) {
    const from = join(dirname(dtsFile), m[3]!.replace(/\.js$/, '.d.ts'));
    for (const part of m[2]!
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== '')) {
      const typed = /^type\s+/.test(part);
      const name = part
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)
        .at(-1)!;
      out.push({ name, typeOnly: m[1] !== undefined || typed, from });
    }
  }
  const rest = text.replace(statement, '').trim();
  if (rest !== '')
    throw new Error(`${dtsFile}: exports that are not a named re-export: ${rest.slice(0, 120)}`);
  return out;
}

/** The names docs/API.md lists under `## \`ENTRY\``: table rows `| \`name\` | kind | contract |`. */
function documented(markdown: string, entry: string): { values: string[]; types: string[] } {
  const sections = markdown.split(/^## /m);
  const section = sections.find((s) => s.startsWith(`\`${entry}\``));
  if (section === undefined) throw new Error(`docs/API.md has no "## \`${entry}\`" section`);
  const values: string[] = [];
  const types: string[] = [];
  for (const m of section.matchAll(/^\| `([A-Za-z_$][\w$]*)`[^|]*\| (\w+) \|/gm)) {
    const kind = m[2]!;
    if (kind === 'type' || kind === 'interface') types.push(m[1]!);
    else if (kind === 'function' || kind === 'class' || kind === 'const') values.push(m[1]!);
    else throw new Error(`docs/API.md: ${m[1]}: unknown kind "${kind}"`);
  }
  return { values: values.sort(), types: types.sort() };
}

/**
 * The doc comment right before `name`'s declaration in `dts` (emitted from the source's), or null.
 * The module's own leading comment does not count as the declaration's.
 */
function docComment(dts: string, name: string): string | null {
  const decl = new RegExp(
    `(/\\*\\*(?:(?!\\*/)[\\s\\S])*\\*/)\\s*export (?:declare )?(?:abstract )?(?:function|class|interface|type|const|enum) ${name}\\b`,
  );
  const m = decl.exec(dts);
  return m === null || dts.slice(0, m.index).trim() === '' ? null : m[1]!;
}

const apiDoc = readFileSync(join(ROOT, 'docs', 'API.md'), 'utf8');

describe.each(ENTRY_POINTS)('the public API of $name', (entry) => {
  const js = join(ROOT, entry.js);
  const dts = js.replace(/\.js$/, '.d.ts');

  it('is built (npm test builds first)', () => {
    expect(existsSync(js) && existsSync(dts)).toBe(true);
  });

  it('exports at run time exactly the values docs/API.md lists', async () => {
    const mod = (await import(pathToFileURL(js).href)) as Record<string, unknown>;
    expect(Object.keys(mod).sort()).toEqual(documented(apiDoc, entry.name).values);
  });

  it('exports as types only exactly the types docs/API.md lists', () => {
    const types = reExports(dts)
      .filter((e) => e.typeOnly)
      .map((e) => e.name)
      .sort();
    expect(types).toEqual(documented(apiDoc, entry.name).types);
  });

  it('re-exports as values exactly what the module exports at run time', async () => {
    const mod = (await import(pathToFileURL(js).href)) as Record<string, unknown>;
    const values = reExports(dts)
      .filter((e) => !e.typeOnly)
      .map((e) => e.name)
      .sort();
    expect(values).toEqual(Object.keys(mod).sort());
  });

  it('gives every exported name a doc comment at its definition', () => {
    const missing = reExports(dts)
      .filter((e) => docComment(readFileSync(e.from, 'utf8'), e.name) === null)
      .map((e) => e.name);
    expect(missing).toEqual([]);
  });
});

describe('the package.json entry points', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    main: string;
    types: string;
    exports: Record<string, { types: string; default: string } | string>;
  };

  it('name each entry point with a types condition first, then its module', () => {
    for (const entry of ENTRY_POINTS) {
      const key = entry.name === 'tooltime' ? '.' : `.${entry.name.slice('tooltime'.length)}`;
      const target = pkg.exports[key];
      expect(target, key).toEqual({
        types: `./${entry.js.replace(/\.js$/, '.d.ts')}`,
        default: `./${entry.js}`,
      });
      expect(Object.keys(target as object)[0]).toBe('types');
    }
    expect(pkg.main).toBe('./dist/index.js');
    expect(pkg.types).toBe('./dist/index.d.ts');
  });

  it('resolves `tooltime` by name to the root entry (package self-reference)', async () => {
    const byName = (await import('tooltime')) as Record<string, unknown>;
    const byFile = (await import(pathToFileURL(join(ROOT, 'dist', 'index.js')).href)) as Record<
      string,
      unknown
    >;
    expect(Object.keys(byName).sort()).toEqual(Object.keys(byFile).sort());
  });
});
