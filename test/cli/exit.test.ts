/**
 * Exit codes and output hygiene of the command line (issue 19, section 4): a closed pipe ends a
 * command quietly; an output path that cannot be written, or a scenario or agent given twice, is
 * one line and exit 1 before the first episode; a run with an errored episode exits 3; the run's
 * header comes before its progress.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAIN, ROOT, hasStackTrace, tooltime } from '../support/cli.js';

const chain = join(ROOT, 'scenarios', 'examples', 'chain.json');
const examples = join(ROOT, 'scenarios', 'examples');
const golden = join(ROOT, 'replays', 'golden');

const temps: string[] = [];
const tempDir = (name: string): string => {
  const dir = mkdtempSync(join(tmpdir(), `tooltime-exit-${name}-`));
  temps.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs the CLI with its stdout a pipe the reader closes: at once (`now`), or after the first chunk
 * (what `| head -1` does). Resolves with the exit code and everything written to stderr.
 */
function withClosedPipe(
  args: readonly string[],
  when: 'now' | 'after-first-chunk',
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    if (when === 'now') child.stdout.destroy();
    else {
      child.stdout.on('data', () => child.stdout.destroy());
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

/** A policy module that leaves a file behind each time an episode makes it (so a test sees whether any episode ran). */
function markerPolicy(dir: string): { spec: string; ran: () => boolean } {
  const marks = join(dir, 'marks');
  mkdirSync(marks, { recursive: true });
  const file = join(dir, 'marker-policy.mjs');
  const source = [
    "import { writeFileSync } from 'node:fs';",
    'let n = 0;',
    'export default function create() {',
    `  writeFileSync(${JSON.stringify(marks)} + '/' + process.pid + '-' + n++, '');`,
    '  return { decide: () => ({ actions: [] }) };',
    '}',
  ];
  writeFileSync(file, `${source.join('\n')}\n`);
  return { spec: file, ran: () => readdirSync(marks).length > 0 };
}

describe('a reader that closes the pipe (| head) ends the command quietly, exit 0', () => {
  const cases: Array<[string, string[], 'now' | 'after-first-chunk']> = [
    // Ten times the golden replays: ~600 kB, many times a pipe's buffer.
    [
      'score DIR --json, output larger than the pipe buffer',
      ['score', ...Array<string>(10).fill(golden), '--json'],
      'after-first-chunk',
    ],
    [
      'run (the table comes after the header the reader took)',
      ['run', examples, '-a', 'greedy-async', '--seeds', '1..3'],
      'after-first-chunk',
    ],
    [
      'run --json, the pipe closed before anything was written',
      ['run', chain, '-a', 'greedy-async', '--json'],
      'now',
    ],
    ['agents, the pipe closed before anything was written', ['agents'], 'now'],
  ];
  for (const [name, args, when] of cases) {
    it(name, async () => {
      const r = await withClosedPipe(args, when);
      expect(hasStackTrace(r.stderr), r.stderr).toBe(false);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    });
  }
});

describe('an output path that cannot be written: one line naming it and the real cause, exit 1, before the first episode', () => {
  it('--out FILE, --out FILE/sub, --record DIR, --record in a missing directory, --out under /proc', () => {
    const dir = tempDir('paths');
    const file = join(dir, 'a-file.txt');
    writeFileSync(file, 'keep me\n');
    const policy = markerPolicy(dir);
    const cases: Array<[string[], string]> = [
      [['--out', file], `tooltime: --out ${file}: it is a file, not a directory`],
      [
        ['--out', join(file, 'sub')],
        `tooltime: --out ${join(file, 'sub')}: ${file} is not a directory`,
      ],
      [['--record', dir], `tooltime: --record ${dir}: it is a directory (give a file name)`],
      [
        ['--record', join(dir, 'missing', 'x.ttr')],
        `tooltime: --record ${join(dir, 'missing', 'x.ttr')}: no such directory ${join(dir, 'missing')}`,
      ],
      [
        ['--record', join(file, 'x.ttr')],
        `tooltime: --record ${join(file, 'x.ttr')}: ${file} is not a directory`,
      ],
      // Node's recursive mkdir never returns on this path; the run makes one level at a time.
      [
        ['--out', '/proc/tooltime-no-such-dir/out'],
        'tooltime: --out /proc/tooltime-no-such-dir/out: cannot create directory /proc/tooltime-no-such-dir: no such file or directory (ENOENT)',
      ],
    ];
    for (const [flags, message] of cases) {
      // A timeout, so that a hang fails the test rather than stalling it.
      const r = tooltime(['run', chain, '-a', policy.spec, ...flags], { timeoutMs: 20_000 });
      expect(r.stderr.trim(), flags.join(' ')).toBe(message);
      expect(r.status, flags.join(' ')).toBe(1);
      expect(hasStackTrace(r.stderr)).toBe(false);
    }
    expect(policy.ran()).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe('keep me\n');
  }, 60_000);

  it('replay fork --record and replay golden --out are checked the same way', () => {
    const dir = tempDir('replay-paths');
    const file = join(dir, 'a-file.txt');
    writeFileSync(file, 'keep me\n');
    const source = join(golden, 'example-chain--greedy-async--seed1.ttr');
    const cases: Array<[string[], string]> = [
      [
        ['replay', 'fork', source, '--at', '3', '--agent', 'sequential', '--record', dir],
        `tooltime: --record ${dir}: it is a directory (give a file name)`,
      ],
      [
        [
          'replay',
          'fork',
          source,
          '--at',
          '3',
          '--agent',
          'sequential',
          '--record',
          join(dir, 'missing', 'x.ttr'),
        ],
        `tooltime: --record ${join(dir, 'missing', 'x.ttr')}: no such directory ${join(dir, 'missing')}`,
      ],
      [
        ['replay', 'golden', '--out', file],
        `tooltime: --out ${file}: it is a file, not a directory`,
      ],
    ];
    for (const [args, message] of cases) {
      const r = tooltime(args, { timeoutMs: 20_000 });
      expect(r.stderr.trim(), args.join(' ')).toBe(message);
      expect(r.status).toBe(1);
    }
    expect(readFileSync(file, 'utf8')).toBe('keep me\n');
  });

  it('a file-system failure under a path the user named is theirs: one line, exit 1 (not an internal error)', async () => {
    const { userPathMessage, declareUserPath } = await import('../../cli/errors.js');
    const erofs = Object.assign(
      new Error("ENOENT: no such file or directory, mkdir '/data/out/replays'"),
      { code: 'EROFS', syscall: 'mkdir', path: '/data/out/replays' },
    );
    expect(userPathMessage(erofs)).toBeNull();
    declareUserPath('/data/out');
    expect(userPathMessage(erofs)).toBe(
      'cannot create directory /data/out/replays: read-only file system (EROFS)',
    );
    expect(userPathMessage({ ...erofs, path: '/data/outside' })).toBeNull();
    const eisdir = Object.assign(new Error('EISDIR'), {
      code: 'EISDIR',
      syscall: 'open',
      path: '/data/out',
    });
    expect(userPathMessage(eisdir)).toBe('cannot write /data/out: it is a directory (EISDIR)');
  });
});

describe('a scenario id or an agent given twice: exit 1 naming it, before the first episode', () => {
  it('one file twice, two files with one id, -a X -a X; nothing is written to --out', () => {
    const dir = tempDir('dup');
    const other = join(dir, 'other.json');
    copyFileSync(chain, other);
    const out = tempDir('dup-out');
    const policy = markerPolicy(dir);
    const cases: Array<[string[], string]> = [
      [
        [chain, chain, '-a', policy.spec],
        `tooltime: scenario id "example-chain" comes twice (${chain} is given twice): each scenario may run once per agent and seed`,
      ],
      [
        [chain, other, '-a', policy.spec],
        `tooltime: scenario id "example-chain" comes twice (in ${chain} and in ${other}): each scenario may run once per agent and seed`,
      ],
      [
        [chain, '-a', policy.spec, '-a', policy.spec],
        `tooltime: agent ${policy.spec} is given twice: each agent may run once per scenario and seed`,
      ],
      [
        [chain, '-a', 'greedy-async', '-a', 'greedy-async'],
        'tooltime: agent greedy-async is given twice: each agent may run once per scenario and seed',
      ],
    ];
    for (const [args, message] of cases) {
      const r = tooltime(['run', ...args, '--out', out]);
      expect(r.stderr.trim(), args.join(' ')).toBe(message);
      expect(r.status).toBe(1);
    }
    expect(policy.ran()).toBe(false);
    expect(readdirSync(out)).toEqual([]);
  });

  it('suites generated with different seeds run together (their ids carry the seed)', () => {
    const dir = tempDir('gen');
    for (const seed of [7, 8])
      expect(
        tooltime([
          'generate',
          '--seed',
          String(seed),
          '--count',
          '2',
          '--out',
          join(dir, `s${seed}`),
        ]).status,
      ).toBe(0);
    expect(readdirSync(join(dir, 's7')).sort()).toEqual([
      'asynctool-s7-0001.json',
      'asynctool-s7-0002.json',
      'index.json',
    ]);
    const r = tooltime(['run', join(dir, 's7'), join(dir, 's8'), '-a', 'greedy-async', '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^4 scenario\(s\) from /);
  });
});

describe('a run with an errored episode says how many and exits 3', () => {
  it('a policy that throws on one seed: the table, then one line on stderr, exit 3', () => {
    const dir = tempDir('errored');
    const policy = join(dir, 'thrower.mjs');
    writeFileSync(
      policy,
      "export default function create() {\n  return { decide() { throw new Error('endpoint gone'); } };\n}\n",
    );
    const r = tooltime([
      'run',
      chain,
      join(examples, 'fan-in.json'),
      '-a',
      policy,
      '-a',
      'greedy-async',
      '--quiet',
    ]);
    expect(r.stdout).toMatch(/^greedy-async\s+100\.0%/m);
    expect(r.stderr).toBe(
      'tooltime: 2 of 4 episode(s) errored (their agent failed); their rows count them as failures\n',
    );
    expect(r.status).toBe(3);
    const json = tooltime(['run', chain, '-a', policy, '--json']);
    expect(json.status).toBe(3);
    expect(JSON.parse(json.stdout).instances).toBe(1);
  });

  it('a run without an errored episode exits 0', () => {
    expect(tooltime(['run', chain, '-a', 'greedy-async', '--quiet']).status).toBe(0);
  });
});

describe('the README documents the exit codes and suite stats --check', () => {
  it('names codes 0 to 4 and both forms of suite stats', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toMatch(
      /### Exit codes\s+0 done; 1 bad input[^;]*; 2 an internal\s+error;\s+3 some episodes errored[^;]*; 4 `--max-cost`/,
    );
    expect(readme).toMatch(/^npx tooltime suite stats\s+#/m);
    expect(readme).toMatch(/^npx tooltime suite stats --check\s+# .*exit 1/m);
  });
});

describe('tooltime run on a terminal', () => {
  /** What `tooltime ARGS` wrote under a pseudo-terminal (script(1)); it must exit 0. */
  const onTerminal = (args: readonly string[]): string => {
    const command = [process.execPath, MAIN, ...args].map((a) => JSON.stringify(a)).join(' ');
    const r = spawnSync('script', ['-qec', command, '/dev/null'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout;
  };

  it('regression: with --workers 2 the bar does not say "0s left" while episodes remain (batches finish hundreds at once)', () => {
    const stdout = onTerminal(['run', '--sample', '48', '--seeds', '1..16', '--workers', '2']);
    // Every frame the bar drew: done, total and what it said was left.
    const frames = [...stdout.matchAll(/episodes \[[^\]]*\] (\d+)\/(\d+) (\S+) left/g)].map(
      (m) => ({ done: Number(m[1]), total: Number(m[2]), left: m[3]! }),
    );
    const midway = frames.filter((f) => f.done > 0 && f.done < f.total * 0.9);
    expect(midway.length).toBeGreaterThan(2);
    expect(midway.filter((f) => f.left === '0s')).toEqual([]);
  });

  it('prints its header line before the progress bar (run under a pseudo-terminal by script(1))', () => {
    const stdout = onTerminal(['run', examples, '-a', 'greedy-async', '--seeds', '1..3']);
    const header = stdout.indexOf('13 scenario(s) from');
    const bar = stdout.indexOf('episodes [');
    expect(bar).toBeGreaterThan(-1);
    expect(header).toBeGreaterThan(-1);
    expect(header).toBeLessThan(bar);
  });
});
