/**
 * The user-facing documents: README.md and docs/*.md. Every relative link points to a file that
 * exists (a moved module or guide breaks the test, not the reader), the README keeps its two
 * quick-start commands, and the complete example of docs/SCENARIOS.md is a valid scenario.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateScenario } from '../scenarios/spec/validate.js';

const ROOT = join(import.meta.dirname, '..');
const DOCS = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
/** The other documents a reader reaches from those: their links are checked too. */
const LINKED = [
  'bench/RESULTS.md',
  'scenarios/scoring/METRICS.md',
  'scenarios/suite/OPERATORS.md',
  'scenarios/examples/README.md',
  'replays/FORMAT.md',
];

/** The targets of inline Markdown links `[text](target)` outside code blocks and code spans. */
function relativeLinks(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  const out: string[] = [];
  for (const m of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = m[1]!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue; // a URL or an anchor here
    out.push(target.replace(/#.*$/, ''));
  }
  return out;
}

describe('relativeLinks', () => {
  it('finds file links, drops anchors, URLs and code', () => {
    const md =
      'See [a](docs/A.md) and [b](../b.md#part), [web](https://x.org), [here](#top), `[c](no.md)`.\n```\n[d](no.md)\n```\n';
    expect(relativeLinks(md)).toEqual(['docs/A.md', '../b.md']);
  });
});

describe.each([...DOCS, ...LINKED])('%s', (doc) => {
  const text = readFileSync(join(ROOT, doc), 'utf8');
  it('links only to files that exist', () => {
    const links = relativeLinks(text);
    const missing = links.filter((link) => !existsSync(resolve(ROOT, dirname(doc), link)));
    expect(missing).toEqual([]);
  });
});

describe('README.md', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  it('has the two quick-start commands, under Quick start', () => {
    const quick = readme.slice(
      readme.indexOf('## Quick start'),
      readme.indexOf('\n## ', readme.indexOf('## Quick start') + 1),
    );
    expect(quick).toContain('```sh\nnpm ci && npm start\n```');
    expect(quick).toContain('```sh\nnpm test\n```');
  });

  it('links every guide in docs/', () => {
    for (const doc of DOCS.filter((d) => d !== 'README.md'))
      expect(relativeLinks(readme)).toContain(doc);
  });

  it('stays a user guide: under 260 lines', () => {
    expect(readme.split('\n').length).toBeLessThan(260);
  });
});

describe('docs/SCENARIOS.md', () => {
  it('its complete example is a valid scenario', () => {
    const text = readFileSync(join(ROOT, 'docs', 'SCENARIOS.md'), 'utf8');
    const section = text.slice(text.indexOf('## A complete example'));
    const json = /```json\n([\s\S]*?)\n```/.exec(section)?.[1];
    expect(json).toBeDefined();
    expect(validateScenario(JSON.parse(json!))).toEqual([]);
  });
});
