/**
 * Hostile input through the built command line (issue 21): code named by a replay, patterns that
 * backtrack, files that never end, and documents `validate` accepted but `run` could not run. Each
 * finding has its own test; each asserts one line on stderr, exit 1, no stack trace, no hang.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeReplay, makeHeader } from '../../replays/index.js';
import type { Scenario } from '../../scenarios/spec/schema.js';
import { hasStackTrace, MAIN, ROOT } from '../support/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'tooltime-hostile-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The CLI with a watchdog: a hang is a failure (status null), not a stuck test run. */
function cli(
  args: readonly string[],
  timeoutMs = 20_000,
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 256 * 1024 * 1024,
  });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** Exit 1 with exactly one line on stderr matching `pattern`, and no stack trace. */
function expectOneLine(r: { status: number | null; stderr: string }, pattern: RegExp): void {
  expect(r.status, r.stderr).toBe(1);
  expect(hasStackTrace(r.stderr)).toBe(false);
  expect(r.stderr).not.toMatch(/internal error/);
  expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
}

/** `run` on `file` fails with `tooltime: ` and the very line `validate` printed. */
function expectRunSays(file: string, validateLine: string): void {
  const r = cli(['run', file, '--agent', 'greedy-async']);
  expectOneLine(r, /^tooltime: /);
  expect(r.stderr.trimEnd()).toBe(`tooltime: ${validateLine.trimEnd()}`);
}

/** A valid scenario: one task whose steps call a table tool, `steps` of them, each after the one before. */
function chainScenario(
  steps: number,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    format: 'tooltime.scenario/1',
    id: 'hostile',
    description: '',
    tags: {},
    messages: [],
    thinkTime: { kind: 'constant', ms: 0 },
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
        arrivalMs: 0,
        message: 'do it',
        steps: Array.from({ length: steps }, (_, i) => ({
          id: `s${i}`,
          tool: 'op',
          args: { n: i },
          after: i === 0 ? [] : [`s${i - 1}`],
          inputs: [],
        })),
        answer: { mustContain: ['done'] },
      },
    ],
    limits: {
      maxTimeMs: 3_600_000,
      maxCalls: Math.max(500, steps),
      maxDecisions: Math.max(500, 2 * steps + 10),
    },
    ...extra,
  };
}

function writeScenario(name: string, doc: unknown): string {
  const file = join(tmp, name);
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

/** A replay whose header holds `scenario` as it is (never validated), with valid checksums and no records. */
function replayOf(name: string, scenario: Record<string, unknown>): string {
  const file = join(tmp, name);
  // The scenario is passed along so that encoding it does not validate it (which would hang here).
  const doc = scenario as unknown as Scenario;
  writeFileSync(
    file,
    encodeReplay(makeHeader({ scenario: doc, agent: 'greedy-async', seed: 1 }), [], doc),
  );
  return file;
}

describe('a replay cannot make tooltime run code', () => {
  it('verify never imports the module a replay names; it says how to pass it, and --policy loads it', () => {
    const marker = join(tmp, 'module-ran');
    const evil = join(tmp, 'evil.mjs');
    const example = join(ROOT, 'test', 'policies', 'example-policy.mjs');
    writeFileSync(
      evil,
      `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'ran');\nexport { default } from ${JSON.stringify(example)};\n`,
    );
    const dir = join(tmp, 'module-replays');
    mkdirSync(dir);
    const chain = join(ROOT, 'scenarios', 'examples', 'chain.json');
    for (const seed of ['1', '2'])
      expect(
        cli([
          'run',
          chain,
          '--agent',
          evil,
          '--seed',
          seed,
          '--record',
          join(dir, `r${seed}.ttr`),
          '--quiet',
        ]).status,
      ).toBe(0);
    unlinkSync(marker);

    const one = cli(['replay', 'verify', join(dir, 'r1.ttr')]);
    expect(existsSync(marker)).toBe(false);
    expectOneLine(
      one,
      new RegExp(
        `^tooltime: .*r1\\.ttr: the replay's agent is the policy module ${evil.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*pass --policy ${evil.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`,
      ),
    );
    // On worker threads too: each file's verdict, and still no module loaded.
    const workers = cli(['replay', 'verify', dir, '--workers', '2']);
    expect(existsSync(marker)).toBe(false);
    expect(workers.status).toBe(1);
    expect(workers.stderr.trimEnd().split('\n')).toHaveLength(2);
    expect(hasStackTrace(workers.stderr)).toBe(false);
    // score, inspect and diff read replays without re-creating any agent.
    expect(cli(['score', dir]).status).toBe(0);
    expect(cli(['replay', 'inspect', join(dir, 'r1.ttr')]).status).toBe(0);
    expect(cli(['replay', 'diff', join(dir, 'r1.ttr'), join(dir, 'r2.ttr')]).status).toBe(0);
    expect(existsSync(marker)).toBe(false);

    const trusted = cli(['replay', 'verify', dir, '--policy', evil]);
    expect(trusted.status, trusted.stderr).toBe(0);
    expect(existsSync(marker)).toBe(true);
  });
});

describe('patterns in a scenario cannot hang the tool', () => {
  const hostile = (): Record<string, unknown> => {
    const doc = chainScenario(1);
    (doc.tools as Array<Record<string, unknown>>)[0]!.parameters = {
      type: 'object',
      properties: { s: { type: 'string', pattern: '^(a+)+$' } },
    };
    (doc.tasks as Array<{ steps: Array<Record<string, unknown>> }>)[0]!.steps[0]!.args = {
      s: `${'a'.repeat(40)}!`,
    };
    return doc;
  };

  it('validate and run answer at once on a backtracking pattern', () => {
    const file = writeScenario('redos.json', hostile());
    expectOneLine(
      cli(['validate', file], 10_000),
      /^.*redos\.json: tasks\[0\]\.steps\[0\]\.args: args\.s must match pattern/,
    );
    expectOneLine(
      cli(['run', file, '--agent', 'greedy-async'], 10_000),
      /^tooltime: .*redos\.json: tasks\[0\]\.steps\[0\]\.args: args\.s must match pattern/,
    );
  });

  it('verify, score and inspect answer at once on such a scenario in a replay header', () => {
    const file = replayOf('redos.ttr', hostile());
    for (const args of [
      ['replay', 'verify', file],
      ['score', file],
      ['replay', 'inspect', file],
    ]) {
      expectOneLine(
        cli(args, 10_000),
        /^tooltime: .*redos\.ttr: header at byte \d+: invalid scenario in the header: .*must match pattern/,
      );
    }
  });
});

describe('input files are read within bounds', () => {
  it('a scenario that is a link to /dev/zero, or a FIFO, is refused as not a regular file', () => {
    const zero = join(tmp, 'zero.json');
    symlinkSync('/dev/zero', zero);
    expectOneLine(cli(['validate', zero]), /zero\.json: cannot read: not a regular file/);
    expectOneLine(
      cli(['run', zero, '--agent', 'greedy-async']),
      /^tooltime: .*zero\.json: cannot read: not a regular file/,
    );
    const fifo = join(tmp, 'fifo.json');
    execFileSync('mkfifo', [fifo]);
    expectOneLine(cli(['validate', fifo], 10_000), /fifo\.json: cannot read: not a regular file/);
  });

  it('a scenario file over the size limit is refused before it is read', () => {
    const big = join(tmp, 'big.json');
    writeFileSync(big, '');
    truncateSync(big, 200 * 1024 * 1024); // sparse: no disk used
    expectOneLine(
      cli(['validate', big]),
      /big\.json: cannot read: 209715200 bytes, over the limit of \d+/,
    );
  });

  it('a replay that is a link to /dev/zero is refused by verify, score and inspect', () => {
    const zero = join(tmp, 'zero.ttr');
    symlinkSync('/dev/zero', zero);
    for (const args of [
      ['replay', 'verify', zero],
      ['score', zero],
      ['replay', 'inspect', zero],
    ]) {
      expectOneLine(cli(args), /^tooltime: .*zero\.ttr: cannot read: not a regular file/);
    }
  });
});

describe('whatever validate accepts, run runs; whatever it refuses, run refuses with the same line', () => {
  it('a chain of 3,000 dependent steps validates and runs', () => {
    const file = writeScenario('long-chain.json', chainScenario(3000));
    const v = cli(['validate', file]);
    expect(v.status, v.stderr).toBe(0);
    const r = cli(['run', file, '--agent', 'critical-path', '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('args nested 20,000 deep: the same one line from validate and run', () => {
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const text = JSON.stringify(chainScenario(1)).replace('{"n":0}', `{"n":${deep}}`);
    const file = join(tmp, 'deep.json');
    writeFileSync(file, text);
    const v = cli(['validate', file]);
    expectOneLine(v, /deep\.json: tasks\[0\]\.steps\[0\]\.args\.n(\[0\])+: nested deeper than \d+/);
    expectRunSays(file, v.stderr);
  });

  it('1e999 in a file: the same one line from validate and run', () => {
    const file = join(tmp, 'inf.json');
    writeFileSync(file, JSON.stringify(chainScenario(1)).replace('{"n":0}', '{"n":1e999}'));
    const v = cli(['validate', file]);
    expectOneLine(v, /inf\.json: tasks\[0\]\.steps\[0\]\.args\.n: .*Infinity/);
    expectRunSays(file, v.stderr);
  });

  it('a scenario too big for a replay header is refused by validate and run alike', () => {
    const file = writeScenario(
      'huge.json',
      chainScenario(1, { description: 'x'.repeat(17 * 1024 * 1024) }),
    );
    const v = cli(['validate', file]);
    expectOneLine(v, /huge\.json: \d+ bytes as canonical JSON, over the limit of \d+ \(16 MiB\)/);
    expectRunSays(file, v.stderr);
  });

  it('a scenario file that is not UTF-8 is refused with the byte offset', () => {
    const text = Buffer.from(
      JSON.stringify(chainScenario(1, { description: 'caf\u00e9' })),
      'latin1',
    );
    const file = join(tmp, 'latin1.json');
    writeFileSync(file, text);
    const offset = text.indexOf(0xe9);
    expectOneLine(
      cli(['validate', file]),
      new RegExp(`latin1\\.json: not valid UTF-8 at byte ${offset}`),
    );
    expectOneLine(
      cli(['run', file, '--agent', 'greedy-async']),
      new RegExp(`latin1\\.json: not valid UTF-8 at byte ${offset}`),
    );
  });

  it('a message of just U+FEFF records replays that read back, verify and score', () => {
    const doc = chainScenario(2);
    (doc.tasks as Array<Record<string, unknown>>)[0]!.message = '\ufeff';
    const file = writeScenario('bom.json', doc);
    const replay = join(tmp, 'bom.ttr');
    expect(
      cli(['run', file, '--agent', 'greedy-async', '--record', replay, '--quiet']).status,
    ).toBe(0);
    const verify = cli(['replay', 'verify', replay]);
    expect(verify.stderr).toBe('');
    expect(verify.status).toBe(0);
    expect(cli(['score', replay]).status).toBe(0);
    const jsonl = cli(['replay', 'inspect', replay, '--format', 'jsonl']);
    expect(jsonl.status).toBe(0);
    expect(
      (
        JSON.parse(jsonl.stdout.split('\n')[0]!) as {
          header: { scenario: { tasks: Array<{ message: string }> } };
        }
      ).header.scenario.tasks[0]!.message,
    ).toBe('\ufeff');
  });
});

// Keep the helper honest: the files it writes are what the tests think they are.
it('writeScenario writes the document as JSON', () => {
  const f = writeScenario('plain.json', { a: 1 });
  expect(JSON.parse(readFileSync(f, 'utf8'))).toEqual({ a: 1 });
});
