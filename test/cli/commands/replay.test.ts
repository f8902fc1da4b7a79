/** The replay commands through the built CLI (`node dist/cli/main.js`), in separate processes. */
import { spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeReplay, goldenDir, readReplay } from '../../../replays/index.js';
import type { EpisodeEvent } from '../../../scenarios/world/events.js';
import { packageRoot } from '../../../scenarios/package.js';

const root = packageRoot();
const main = join(root, 'dist', 'cli', 'main.js');
const tmp = mkdtempSync(join(tmpdir(), 'tooltime-replay-cli-'));
const run = (...args: string[]) =>
  spawnSync(process.execPath, [main, ...args], { cwd: root, encoding: 'utf8' });
const golden = (f: string) => join(goldenDir(), f);

/** Runs the CLI asynchronously (so two can run at once). */
function runAsync(
  ...args: string[]
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [main, ...args], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

beforeAll(() => {
  if (!existsSync(join(root, 'dist', 'cli', 'commands', 'replay.js')))
    spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, encoding: 'utf8' });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('tooltime replay (CLI)', () => {
  it('writes the same bytes in two processes at once, equal to the stored golden replays', async () => {
    const [a, b] = await Promise.all([
      runAsync('replay', 'golden', '--out', join(tmp, 'a')),
      runAsync('replay', 'golden', '--out', join(tmp, 'b')),
    ]);
    expect(a.status).toBe(0);
    expect(b.status).toBe(0);
    const files = readdirSync(join(tmp, 'a')).sort();
    expect(files).toEqual(
      readdirSync(goldenDir())
        .filter((f) => f.endsWith('.ttr'))
        .sort(),
    );
    for (const f of files) {
      const x = readFileSync(join(tmp, 'a', f));
      expect(x.equals(readFileSync(join(tmp, 'b', f))), f).toBe(true);
      expect(x.equals(readFileSync(golden(f))), f).toBe(true);
    }
    const check = run('replay', 'golden', '--check');
    expect(check.status).toBe(0);
    expect(check.stdout).toMatch(
      new RegExp(
        `ok \\(${readdirSync(goldenDir()).filter((f) => f.endsWith('.ttr')).length} golden replays identical\\)`,
      ),
    );
  });

  it('verify: ok on a golden replay; on an altered one, exit 1 naming the record, both versions and the 5 before', () => {
    const f = golden('example-fan-in--greedy-async--seed1.ttr');
    const ok = run('replay', 'verify', f);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(
      new RegExp(
        `^${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ok \\(\\d+ records, sha256 [0-9a-f]{64}\\)\\n$`,
      ),
    );

    const read = readReplay(new Uint8Array(readFileSync(f)));
    const events = [...read.events];
    const k = events.findIndex((e, i) => i > 8 && e.type === 'call_started');
    events[k] = { ...events[k]!, timeUs: events[k]!.timeUs } as EpisodeEvent;
    const bumped = events.map((e, i) =>
      i >= k ? ({ ...e, timeUs: e.timeUs + 1 } as EpisodeEvent) : e,
    );
    const bad = join(tmp, 'altered.ttr');
    writeFileSync(bad, encodeReplay(read.header, bumped, read.scenario));
    const failed = run('replay', 'verify', bad);
    expect(failed.status).toBe(1);
    expect(failed.stdout).toBe('');
    const lines = failed.stderr.trim().split('\n');
    expect(lines[0]).toBe(`${bad}: FAILED: record ${k} differs`);
    expect(lines[1]).toBe('  the 5 records before it:');
    expect(lines.slice(2, 7).map((l) => Number(l.trim().split(' ')[0]))).toEqual([
      k - 5,
      k - 4,
      k - 3,
      k - 2,
      k - 1,
    ]);
    expect(lines[7]).toBe(`  recorded record ${k}:`);
    expect(JSON.parse(lines[8]!.trim().replace(/^\d+\s+/, ''))).toEqual(bumped[k]);
    expect(lines[9]).toBe(`  re-run record ${k}:`);
    expect(JSON.parse(lines[10]!.trim().replace(/^\d+\s+/, ''))).toEqual(read.events[k]);
  });

  it('bad files: one line, exit 1, no stack', () => {
    const junk = join(tmp, 'junk.ttr');
    writeFileSync(junk, 'hello, not a replay');
    for (const args of [
      ['replay', 'verify', junk],
      ['replay', 'inspect', junk],
      ['score', junk],
      ['replay', 'verify', join(tmp, 'missing.ttr')],
    ]) {
      const r = run(...args);
      expect(r.status).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(
        /^tooltime: .*(not a tooltime replay \(bad magic bytes\)|cannot read: no such file or directory)\n$/,
      );
    }
    const cut = join(tmp, 'cut.ttr');
    writeFileSync(
      cut,
      readFileSync(golden('example-chain--sequential--seed1.ttr')).subarray(0, 2300),
    );
    const inspect = run('replay', 'inspect', cut);
    expect(inspect.status).toBe(0);
    expect(inspect.stdout).toMatch(/INCOMPLETE: truncated: /);
  });

  it('verify and score take directories: every .ttr file under each, in name order; one without replays is an error', () => {
    const dir = join(tmp, 'tree');
    const names = readdirSync(goldenDir())
      .filter((f) => f.endsWith('.ttr'))
      .sort();
    mkdirSync(join(dir, 'replays'), { recursive: true });
    for (const f of names.slice(0, 3)) copyFileSync(golden(f), join(dir, 'replays', f));
    copyFileSync(golden(names[3]!), join(dir, names[3]!));
    writeFileSync(join(dir, 'replays', 'notes.txt'), 'not a replay');
    const want = [
      join(dir, names[3]!),
      ...names.slice(0, 3).map((f) => join(dir, 'replays', f)),
    ].sort();
    const verify = run('replay', 'verify', '--workers', '0', dir);
    expect(verify.status).toBe(0);
    expect(
      verify.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(': ok (')[0]),
    ).toEqual(want);
    const score = run('score', '--json', dir);
    expect(score.status).toBe(0);
    expect((JSON.parse(score.stdout) as Array<{ file: string }>).map((s) => s.file)).toEqual(want);
    const empty = join(tmp, 'empty');
    mkdirSync(empty);
    const none = run('replay', 'verify', empty);
    expect(none.status).toBe(1);
    expect(none.stderr).toBe(`tooltime: ${empty}: no replay files (.ttr) in this directory\n`);
  });

  it('inspect: text, jsonl and a chrome trace', () => {
    const f = golden('example-staggered--greedy-async--seed1.ttr');
    const text = run('replay', 'inspect', f);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^# .*scenario example-staggered, agent greedy-async, seed 1/);
    expect(text.stdout).toMatch(/\n\s+\d+\s+800\.000 ms {2}task_arrived\s+task=quotes\n/);
    const jsonl = run('replay', 'inspect', f, '--format', 'jsonl');
    const lines = jsonl.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type?: string; header?: unknown });
    expect(lines[0]!.header).toBeDefined();
    expect(lines[1]!.type).toBe('episode_started');
    const out = join(tmp, 'trace.json');
    expect(run('replay', 'inspect', f, '--format', 'chrome', '--out', out).status).toBe(0);
    const trace = JSON.parse(readFileSync(out, 'utf8')) as { traceEvents: Array<{ ph: string }> };
    expect(trace.traceEvents.some((e) => e.ph === 'X')).toBe(true);
    expect(run('replay', 'inspect', f, '--format', 'svg').status).toBe(1);
  });

  it('diff, fork (then verify the fork), and score', () => {
    const a = golden('example-composite--greedy-async--seed1.ttr');
    const b = golden('example-composite--sequential--seed1.ttr');
    const diff = run('replay', 'diff', a, b);
    expect(diff.status).toBe(0);
    expect(diff.stdout).toMatch(/first divergence at record \d+:/);
    expect(diff.stdout).toMatch(/makespan ms\s+[\d.]+\s+[\d.]+/);
    expect(JSON.parse(run('replay', 'diff', a, b, '--json').stdout).sameEvents).toBe(false);

    const out = join(tmp, 'fork.ttr');
    const fork = run('replay', 'fork', a, '--at', '12', '--agent', 'sequential', '--record', out);
    expect(fork.status).toBe(0);
    expect(fork.stdout).toMatch(
      /forked .* at record 12 to sequential \(handed over at decision \d+\)/,
    );
    expect(run('replay', 'verify', out).status).toBe(0);
    const seeded = join(tmp, 'fork-seeded.ttr');
    expect(
      run(
        'replay',
        'fork',
        a,
        '--at',
        '12',
        '--agent',
        'impatient',
        '--seed',
        '5',
        '--record',
        seeded,
      ).status,
    ).toBe(0);
    expect(run('replay', 'verify', seeded).status).toBe(0);
    expect(
      run('replay', 'fork', a, '--at', '100000', '--agent', 'sequential', '--record', out).stderr,
    ).toMatch(/cannot fork at 100000: the replay has \d+ records/);

    const score = run('score', a, b, out);
    expect(score.status).toBe(0);
    expect(score.stdout.split('\n')[0]).toMatch(/^file\s+scenario\s+agent/);
    const json = JSON.parse(run('score', a, '--json').stdout) as Array<{
      score: { success: boolean };
    }>;
    expect(json[0]!.score.success).toBe(true);
  });
});
