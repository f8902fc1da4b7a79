/**
 * Hostile input, in process (issue 21): the units behind the command-line findings of
 * hostile.cli.test.ts, each with its own named regression test.
 */
import fc from 'fast-check';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requestHash } from '../../../agents/llm/index.js';
import { decodeJson, encodeJson } from '../../../replays/index.js';
import { invalidUtf8Offset } from '../../../scenarios/spec/input-file.js';
import { Plan } from '../../../scenarios/world/plan.js';
import type { Scenario } from '../../../scenarios/spec/schema.js';
import { compileParameters } from '../../../scenarios/spec/tools.js';
import { ROOT } from '../../support/cli.js';
import { parseScenario, validateScenario } from '../../../scenarios/spec/validate.js';

function chain(steps: number, message = 'do it'): Record<string, unknown> {
  return {
    format: 'tooltime.scenario/1',
    id: 'chain',
    tools: [
      {
        name: 'op',
        description: 'an operation',
        parameters: { type: 'object' },
        latency: { kind: 'constant', ms: 1 },
        impl: { kind: 'table', rows: [], default: { result: 'done' } },
      },
    ],
    tasks: [
      {
        id: 't1',
        message,
        steps: Array.from({ length: steps }, (_, i) => ({
          id: `s${i}`,
          tool: 'op',
          args: { n: i },
          after: i === 0 ? [] : [`s${i - 1}`],
        })),
        answer: { mustContain: ['done'] },
      },
    ],
    limits: { maxCalls: Math.max(500, steps), maxDecisions: Math.max(500, 2 * steps + 10) },
  };
}

describe('replay strings round-trip exactly', () => {
  it('a leading U+FEFF is kept', () => {
    for (const s of ['\ufeff', '\ufeffhello', '\ufeff\ufeff', 'a\ufeff'])
      expect(decodeJson(encodeJson(s))).toBe(s);
    expect(decodeJson(encodeJson({ message: '\ufeff', k: ['\ufeffx'] }))).toEqual({
      message: '\ufeff',
      k: ['\ufeffx'],
    });
  });

  it('any string of Unicode text, alone or in a document, a BOM first or not', () => {
    const text = fc.string({ unit: 'binary', maxLength: 80 });
    fc.assert(
      fc.property(text, fc.boolean(), (s, bom) => {
        const v = bom ? `\ufeff${s}` : s;
        expect(decodeJson(encodeJson(v))).toBe(v);
        expect(decodeJson(encodeJson({ [v]: [v] }))).toEqual({ [v]: [v] });
      }),
      { numRuns: 500 },
    );
  });

  it('a lone surrogate is not Unicode text: a scenario holding one is refused with its path', () => {
    const doc = chain(1, 'bad \ud800 text');
    expect(validateScenario(doc)).toEqual([
      {
        path: 'tasks[0].message',
        message: 'holds a lone surrogate (U+D800): strings must be Unicode text',
      },
    ]);
    // What anything else writes (an agent's args) is written as UTF-8 writes it: U+FFFD.
    expect(decodeJson(encodeJson('a\udc00b'))).toBe('a\ufffdb');
  });
});

describe('invalid UTF-8 is found at its byte', () => {
  it('agrees with the strict decoder on arbitrary bytes, and the prefix before the offset decodes', () => {
    const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    const decodes = (b: Uint8Array): boolean => {
      try {
        strict.decode(b);
        return true;
      } catch {
        return false;
      }
    };
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 40 }),
        fc.string({ unit: 'binary', maxLength: 20 }),
        (noise, text) => {
          const bytes = new Uint8Array([...new TextEncoder().encode(text), ...noise]);
          const at = invalidUtf8Offset(bytes);
          expect(at < 0).toBe(decodes(bytes));
          if (at >= 0) {
            expect(decodes(bytes.subarray(0, at))).toBe(true);
            expect(at).toBeGreaterThanOrEqual(new TextEncoder().encode(text).length);
          }
        },
      ),
      { numRuns: 2000 },
    );
    expect(invalidUtf8Offset(Buffer.from('{"a":"caf\u00e9"}', 'latin1'))).toBe(9);
  });
});

describe('patterns cannot hang validation', () => {
  it('^(a+)+$ against 40 a and ! answers in well under a second', () => {
    const doc = chain(1);
    (doc.tools as Array<Record<string, unknown>>)[0]!.parameters = {
      type: 'object',
      properties: { s: { type: 'string', pattern: '^(a+)+$' } },
    };
    (doc.tasks as Array<{ steps: Array<Record<string, unknown>> }>)[0]!.steps[0]!.args = {
      s: `${'a'.repeat(40)}!`,
    };
    const t0 = performance.now();
    expect(validateScenario(doc)).toEqual([
      { path: 'tasks[0].steps[0].args', message: 'args.s must match pattern "^(a+)+$"' },
    ]);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('each pattern of a schema is its own (ajv keys compiled patterns by their text)', () => {
    const v = compileParameters({
      type: 'object',
      properties: { s: { type: 'string', pattern: '^a+$' } },
      patternProperties: { '^x': { type: 'number' } },
    });
    expect(v({ s: 'aa' })).toBe(true);
    expect(v({ s: 'aa', x1: 1 })).toBe(true);
    expect(v({ s: 'aa', x1: 'no' })).toBe(false);
    expect(v({ s: 'ab' })).toBe(false);
    expect(compileParameters({ type: 'string', pattern: '^\\p{L}+$' })('été')).toBe(true);
  });

  it('a pattern RE2 cannot match in linear time is refused when validated', () => {
    const doc = chain(1);
    (doc.tools as Array<Record<string, unknown>>)[0]!.parameters = {
      type: 'object',
      properties: { s: { type: 'string', pattern: '^(a)\\1$' } },
    };
    const problems = validateScenario(doc);
    expect(problems[0]!.path).toBe('tools[0].parameters');
    expect(problems[0]!.message).toMatch(
      /^invalid JSON Schema: pattern "\^\(a\)\\\\1\$" is not supported .*no lookaround or backreferences$/,
    );
  });
});

describe('long chains', () => {
  it('remainingPathsUs on a chain of 30,000 steps: no recursion, linear', () => {
    const plan = new Plan(parseScenario(chain(30_000)) as Scenario);
    const t0 = performance.now();
    const paths = plan.remainingPathsUs(() => 1);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(paths.get('t1/s0')).toBe(30_000);
    expect(paths.get('t1/s29999')).toBe(1);
    expect(plan.remainingPathUs(plan.steps[3]!, () => 2)).toBe(2 * (30_000 - 3));
  });
});

describe('no argument list as long as the input', () => {
  it('replay inspect (text) of 500,000 records: no Math.max(...events)', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { formatText, goldenDir, readReplay } = await import('../../../replays/index.js');
    const read = readReplay(
      new Uint8Array(readFileSync(join(goldenDir(), 'example-fan-in--greedy-async--seed1.ttr'))),
    );
    const events = Array.from({ length: 500_000 }, (_, i) => read.events[i % read.events.length]!);
    const text = formatText({ ...read, events });
    expect(text.split('\n')).toHaveLength(500_000 + 3);
  });

  it('the builtins max and min over 500,000 values', async () => {
    const { getBuiltin } = await import('../../../scenarios/spec/builtins.js');
    const values = Array.from({ length: 500_000 }, (_, i) => (i * 7919) % 500_000);
    expect(getBuiltin('max')!.run({ values })).toBe(499_999);
    expect(getBuiltin('min')!.run({ values })).toBe(0);
  });
});

describe('LLM cache entries and price files are read as bounded input files', () => {
  /** Runs `code` (an ES module importing the built tree) in a child with a watchdog: a hang is status null. */
  function child(code: string): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 15_000,
      maxBuffer: 1 << 20,
    });
    return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  it('a cache entry that is a FIFO or a link to /dev/zero is a miss, not a hang or a blow-up', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tooltime-cache-'));
    try {
      const body = { model: 'm', messages: [] };
      const path = join(dir, `${requestHash(body)}.json`);
      const send = `
        import { cachingTransport } from './dist/agents/llm/cache.js';
        const stats = { hits: 0, misses: 0 };
        const inner = { send: async () => ({ response: { ok: 1 }, latencyMs: null, attempts: [] }) };
        const t = cachingTransport(inner, ${JSON.stringify(dir)}, { stats });
        await t.send(${JSON.stringify(body)});
        process.stdout.write(JSON.stringify(stats));`;
      execFileSync('mkfifo', [path]);
      const fifo = child(send);
      expect(fifo.status, fifo.stderr).toBe(0);
      expect(JSON.parse(fifo.stdout)).toEqual({ hits: 0, misses: 1 });
      rmSync(path);
      symlinkSync('/dev/zero', path);
      const zero = child(send);
      expect(zero.status, zero.stderr).toBe(0);
      expect(JSON.parse(zero.stdout)).toEqual({ hits: 0, misses: 1 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--price naming a FIFO or /dev/zero is one AgentSpecError line, not a hang or a blow-up', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tooltime-price-'));
    try {
      const fifo = join(dir, 'fifo.json');
      const zero = join(dir, 'zero.json');
      execFileSync('mkfifo', [fifo]);
      symlinkSync('/dev/zero', zero);
      writeFileSync(
        join(dir, 'latin1.json'),
        Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x3a, 0x31, 0x7d]),
      );
      const parse = (file: string) =>
        child(`
        import { parsePrice } from './dist/agents/llm/price.js';
        try { parsePrice(${JSON.stringify(file)}); process.stdout.write('parsed'); }
        catch (e) { process.stdout.write(e.name + ': ' + e.message); }`);
      expect(parse(fifo).stdout).toBe(
        `AgentSpecError: --price ${fifo}: cannot read: not a regular file (a FIFO)`,
      );
      expect(parse(zero).stdout).toBe(
        `AgentSpecError: --price ${zero}: cannot read: not a regular file (a character device)`,
      );
      expect(parse(join(dir, 'latin1.json')).stdout).toBe(
        `AgentSpecError: --price ${join(dir, 'latin1.json')}: not UTF-8 text`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
