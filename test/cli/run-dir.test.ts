/**
 * `tooltime run --out DIR`: results that survive a kill, runs that do not mix, and no replay left
 * behind that was not written whole (issue 19, section 5).
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  openSync,
  symlinkSync,
  writeFileSync,
  writevSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAgent } from '../../agents/index.js';
import { loadInstances } from '../../cli/instances.js';
import {
  prepareRunDir,
  readRunManifest,
  RUN_FORMAT,
  readEpisodeLines,
  RUN_FORMAT_VERSION,
  writeAtomically,
  writeChunksSync,
} from '../../cli/run-dir.js';
import { UsageError } from '../../cli/errors.js';
import { RunOutput } from '../../cli/run-output.js';
import { runExperiment } from '../../scenarios/experiment.js';
import type { Agent } from '../../scenarios/protocol.js';
import { MAIN, ROOT, hasStackTrace, tooltime } from '../support/cli.js';

const examples = join(ROOT, 'scenarios', 'examples');
const golden = (name: string) => join(ROOT, 'replays', 'golden', name);

interface Line {
  readonly instance: string;
  readonly agent: string;
  readonly seed: number;
  readonly replay: string;
}

/**
 * episodes.jsonl's lines. A line is whole once its newline is written: one read while the run
 * appends (or after a kill, which can cut a write short) may end in part of a line, left out.
 */
function lines(dir: string): Line[] {
  const parts = readFileSync(join(dir, 'episodes.jsonl'), 'utf8').split('\n');
  parts.pop();
  return parts.map((l) => JSON.parse(l) as Line);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a run killed mid-way keeps every finished episode', () => {
  it('kill -9 after some episodes are logged: every line names a replay that verifies, and score DIR reads the partial directory', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'tooltime-kill-')), 'run');
    // The default suite on 20 seeds: minutes of work, killed once its first episodes are logged.
    // On this thread (--workers 1): its recorder streams each replay to the writer thread, so the
    // replay of an episode not yet logged is the one the kill cut. (A worker thread writes a replay
    // whole before its line is sent: there an unlogged replay is whole; test/cli/workers.test.ts.)
    const child = spawn(
      process.execPath,
      [
        MAIN,
        'run',
        '-a',
        'greedy-async',
        '--seeds',
        '1..20',
        '--workers',
        '1',
        '--out',
        out,
        '--quiet',
      ],
      { cwd: ROOT, stdio: 'ignore' },
    );
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    );
    let exitCode: number | null | undefined;
    void exited.then((code) => (exitCode = code));
    const deadline = Date.now() + 150_000;
    let logged = 0;
    while (Date.now() < deadline && exitCode === undefined) {
      logged = existsSync(join(out, 'episodes.jsonl')) ? lines(out).length : 0;
      if (logged >= 20) break;
      await sleep(25);
    }
    expect(exitCode, 'the run ended before it was killed').toBeUndefined();
    expect(logged, 'episodes logged while the run goes').toBeGreaterThanOrEqual(20);
    child.kill('SIGKILL');
    expect(await exited).toBeNull();

    expect(existsSync(join(out, 'summary.json'))).toBe(false);
    expect(readRunManifest(out).agents).toEqual(['greedy-async']);
    const got = lines(out);
    expect(got.length).toBeGreaterThanOrEqual(logged);
    const named = got.map((l) => join(out, l.replay));
    expect(new Set(named).size).toBe(named.length);
    const verify = tooltime(['replay', 'verify', ...named]);
    expect(verify.stderr).toBe('');
    expect(verify.status).toBe(0);
    expect(
      verify.stdout
        .trim()
        .split('\n')
        .filter((l) => / ok \(\d+ records/.test(l)),
    ).toHaveLength(named.length);

    const files = readdirSync(join(out, 'replays')).filter((f) => f.endsWith('.ttr'));
    const score = tooltime(['score', out]);
    expect(score.status, score.stderr).toBe(0);
    expect(hasStackTrace(score.stderr)).toBe(false);
    const rows = score.stdout.trim().split('\n').slice(2);
    expect(rows).toHaveLength(files.length);
    // Logged episodes are whole; of the others, only the one whose line the kill cut (its replay
    // closed, its line not yet written) may be whole too: the rest are listed as truncated.
    let wholeUnlogged = 0;
    for (const row of rows) {
      const file = row.split(/\s+/)[0]!;
      if (named.includes(file)) expect(row).not.toMatch(/\(truncated\)/);
      else if (!/\(truncated\)/.test(row)) wholeUnlogged++;
    }
    expect(wholeUnlogged).toBeLessThanOrEqual(1);
  }, 240_000);

  it('a replay cut inside its header (or empty) is listed as truncated by score and verify, like any other cut', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tooltime-cut-'));
    const bytes = readFileSync(golden('example-chain--sequential--seed1.ttr'));
    writeFileSync(join(dir, 'a-whole.ttr'), bytes);
    writeFileSync(join(dir, 'b-header-cut.ttr'), bytes.subarray(0, 500));
    writeFileSync(join(dir, 'c-prefix-cut.ttr'), bytes.subarray(0, 9));
    writeFileSync(join(dir, 'd-empty.ttr'), '');
    writeFileSync(join(dir, 'e-record-cut.ttr'), bytes.subarray(0, 2300));
    const score = tooltime(['score', dir]);
    expect(score.stderr).not.toMatch(/^tooltime: /m);
    expect(score.status).toBe(0);
    const rows = score.stdout.trim().split('\n').slice(2);
    expect(rows).toHaveLength(5);
    expect(rows[0]).not.toMatch(/truncated/);
    for (const row of rows.slice(1)) expect(row).toMatch(/\(truncated\)/);
    const json = JSON.parse(tooltime(['score', dir, '--json']).stdout) as Array<{
      file: string;
      complete: boolean;
      problem?: string;
    }>;
    expect(json.map((s) => s.complete)).toEqual([true, false, false, false, false]);
    expect(json[1]!.problem).toBe(
      'truncated: the file ends at byte 500, inside the header (at byte 10) (no episode to read)',
    );
    expect(json[3]!.problem).toBe('truncated: the file is empty (no episode to read)');

    const verify = tooltime([
      'replay',
      'verify',
      join(dir, 'b-header-cut.ttr'),
      join(dir, 'd-empty.ttr'),
    ]);
    expect(verify.status).toBe(1);
    expect(verify.stderr).toBe(
      `${join(dir, 'b-header-cut.ttr')}: FAILED: ${json[1]!.problem}\n${join(dir, 'd-empty.ttr')}: FAILED: ${json[3]!.problem}\n`,
    );
  });
});

describe('the finished episodes.jsonl', () => {
  it('is in the run order (instance, agent, seed), names each replay, and does not depend on --concurrency', () => {
    const outs = ['1', '4'].map((concurrency) => {
      const out = join(mkdtempSync(join(tmpdir(), 'tooltime-order-')), 'run');
      const r = tooltime([
        'run',
        examples,
        '-a',
        'greedy-async',
        '-a',
        'sequential',
        '--seeds',
        '1..3',
        '--concurrency',
        concurrency,
        '--out',
        out,
        '--quiet',
      ]);
      expect(r.status, r.stderr).toBe(0);
      return out;
    });
    const [a, b] = outs.map((out) => readFileSync(join(out, 'episodes.jsonl'), 'utf8'));
    expect(b).toBe(a);
    expect(a!.endsWith('}\n')).toBe(true);
    const got = lines(outs[0]!);
    const instances = [...new Set(got.map((l) => l.instance))];
    expect(instances.length).toBe(readdirSync(examples).filter((f) => f.endsWith('.json')).length);
    const want = instances.flatMap((instance) =>
      ['greedy-async', 'sequential'].flatMap((agent) =>
        [1, 2, 3].map((seed) => `${instance} ${agent} ${seed}`),
      ),
    );
    expect(got.map((l) => `${l.instance} ${l.agent} ${l.seed}`)).toEqual(want);
    for (const l of got) expect(statSync(join(outs[0]!, l.replay)).isFile()).toBe(true);
    expect(got[0]!.replay).toBe(`replays/${got[0]!.instance}--greedy-async--seed1.ttr`);
  });
});

describe('runs do not mix', () => {
  it('run.json says what was asked, with its format and version', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'tooltime-marker-')), 'run');
    expect(
      tooltime([
        'run',
        examples,
        '-a',
        'greedy-async:maxInFlight=2',
        '--seeds',
        '2..3',
        '--mode',
        'sync',
        '--out',
        out,
        '--quiet',
      ]).status,
    ).toBe(0);
    const manifest = readRunManifest(out);
    expect(manifest).toMatchObject({
      format: RUN_FORMAT,
      version: RUN_FORMAT_VERSION,
      scenarios: [examples],
      agents: ['greedy-async:maxInFlight=2'],
      seeds: { from: 2, to: 3 },
      mode: 'sync',
      delivery: 'push',
      sample: null,
    });
  });

  it('a run directory given where scenarios go (`run --resume DIR`) is one line saying how to resume it', () => {
    const out = mkdtempSync(join(tmpdir(), 'tooltime-rundir-'));
    expect(tooltime(['run', examples, '-a', 'sequential', '--out', out]).status).toBe(0);
    const r = tooltime(['run', '--resume', out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `tooltime: ${out} is a run directory (it holds run.json), not scenarios: to go on with that run, give its command again with --out ${out} --resume\n`,
    );
    // A folder of scenarios that happens to hold a run.json of its own is read as before.
    const mixed = mkdtempSync(join(tmpdir(), 'tooltime-notrun-'));
    writeFileSync(join(mixed, 'run.json'), '{"format":"something-else"}');
    expect(tooltime(['run', mixed]).stderr).toMatch(/run\.json: /);
  });

  it('a directory that is not empty is refused, naming what is in it; nothing in it is touched', () => {
    const out = mkdtempSync(join(tmpdir(), 'tooltime-nonempty-'));
    writeFileSync(join(out, 'notes.txt'), 'mine');
    mkdirSync(join(out, 'replays'));
    writeFileSync(
      join(out, 'replays', 'old.ttr'),
      readFileSync(golden('example-chain--sequential--seed1.ttr')),
    );
    const r = tooltime(['run', examples, '-a', 'greedy-async', '--out', out]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `^tooltime: --out ${out} is not empty \\(it holds notes\\.txt, replays/ \\(1 \\.ttr file\\)\\): .*--force`,
      ),
    );
    expect(hasStackTrace(r.stderr)).toBe(false);
    expect(readdirSync(out).sort()).toEqual(['notes.txt', 'replays']);
    expect(readdirSync(join(out, 'replays'))).toEqual(['old.ttr']);
  });

  it("--force removes only tooltime's files (run.json, episodes.jsonl, summary.json, replays/*.ttr); `--out . --force` keeps the folder's other files", () => {
    const out = mkdtempSync(join(tmpdir(), 'tooltime-force-'));
    const first = tooltime(
      ['run', examples, '-a', 'greedy-async', '-a', 'sequential', '--out', '.', '--quiet'],
      { cwd: out },
    );
    expect(first.status, first.stderr).toBe(0);
    const mine = {
      'notes.txt': 'mine',
      'replays/keep.txt': 'mine too',
      'replays/old/x.ttr': 'a folder of mine',
      'sub/y.ttr': 'not in replays/',
    };
    for (const [name, text] of Object.entries(mine)) {
      mkdirSync(join(out, name, '..'), { recursive: true });
      writeFileSync(join(out, name), text);
    }
    symlinkSync(join(out, 'notes.txt'), join(out, 'replays', 'link.ttr'));
    const stale = join(out, 'replays', 'example-chain--impatient--seed1.ttr');
    writeFileSync(stale, readFileSync(golden('example-chain--sequential--seed1.ttr')));
    const again = tooltime(
      ['run', examples, '-a', 'greedy-async', '--out', '.', '--force', '--quiet'],
      { cwd: out },
    );
    expect(again.status, again.stderr).toBe(0);
    for (const [name, text] of Object.entries(mine))
      expect(readFileSync(join(out, name), 'utf8')).toBe(text);
    expect(existsSync(join(out, 'replays', 'link.ttr'))).toBe(true);
    expect(existsSync(stale)).toBe(false);
    // Only this run's replays are left under replays/, and episodes.jsonl names each of them.
    const ttr = readdirSync(join(out, 'replays')).filter(
      (f) => f.endsWith('.ttr') && statSync(join(out, 'replays', f)).isFile() && f !== 'link.ttr',
    );
    expect(ttr.every((f) => f.includes('--greedy-async--'))).toBe(true);
    expect(
      lines(out)
        .map((l) => l.replay)
        .sort(),
    ).toEqual(ttr.map((f) => `replays/${f}`).sort());
    expect(readRunManifest(out).agents).toEqual(['greedy-async']);
  });
});

describe('a replay the run could not write whole is removed', () => {
  it('a write that fails part-way (a file-size limit: EFBIG, as a full disk gives ENOSPC) stops the run with one line and leaves no partial file', () => {
    const small = 'chain.json';
    const large = 'composite.json';
    // The two replays' sizes, from a run without the limit: the limit goes between them.
    const probe = join(mkdtempSync(join(tmpdir(), 'tooltime-probe-')), 'run');
    expect(
      tooltime([
        'run',
        join(examples, small),
        join(examples, large),
        '-a',
        'greedy-async',
        '--out',
        probe,
        '--quiet',
      ]).status,
    ).toBe(0);
    const size = (out: string, instance: string) =>
      statSync(join(out, 'replays', `${instance}--greedy-async--seed1.ttr`)).size;
    const [smallBytes, largeBytes] = [
      size(probe, 'example-chain'),
      size(probe, 'example-composite'),
    ];
    const limitKiB = Math.floor(largeBytes / 1024);
    const lineBytes = statSync(join(probe, 'episodes.jsonl')).size;
    expect(
      limitKiB * 1024,
      `no 1 KiB step between the replays (${smallBytes}, ${largeBytes} bytes) and the log (${lineBytes})`,
    ).toBeGreaterThan(Math.max(smallBytes, lineBytes / 2));
    expect(limitKiB * 1024).toBeLessThan(largeBytes);

    const out = join(mkdtempSync(join(tmpdir(), 'tooltime-efbig-')), 'run');
    const args = [
      MAIN,
      'run',
      join(examples, small),
      join(examples, large),
      '-a',
      'greedy-async',
      '--out',
      out,
      '--quiet',
    ];
    // bash's `ulimit -f` counts KiB; writes past the limit fail with EFBIG (Node ignores SIGXFSZ).
    const r = spawnSync(
      'bash',
      ['-c', `ulimit -f ${limitKiB} && exec "$0" "$@"`, process.execPath, ...args],
      { cwd: ROOT, encoding: 'utf8' },
    );
    const failed = join(out, 'replays', 'example-composite--greedy-async--seed1.ttr');
    expect(r.stderr).toBe(
      `tooltime: cannot write replay ${failed}: EFBIG: file too large, write\n`,
    );
    expect(r.status).toBe(1);
    expect(existsSync(failed)).toBe(false);
    expect(readdirSync(join(out, 'replays'))).toEqual(['example-chain--greedy-async--seed1.ttr']);
    expect(lines(out).map((l) => l.replay)).toEqual([
      'replays/example-chain--greedy-async--seed1.ttr',
    ]);
    expect(tooltime(['replay', 'verify', join(out, 'replays')]).status).toBe(0);
  });
});

describe('RunOutput: episodes.jsonl while the run goes', () => {
  it('lines come in the order episodes finish, each once its replay is whole; the finished file is in the run order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tooltime-live-'));
    prepareRunDir(dir, { force: false, replays: true });
    const output = new RunOutput({ dir, mode: 'async', delivery: 'push' });
    const instances = loadInstances([examples], null).slice(0, 4);
    // The first instance's episodes wait longest on their "model": with 4 at once, they finish last.
    const waitMs = new Map(instances.map((i, k) => [i.scenario.id, k === 0 ? 60 : 1]));
    const makeAgent = (spec: string): Agent => {
      if (!spec.startsWith('./')) return createAgent(spec); // the sequential reference
      const inner = createAgent('greedy-async');
      let id = '';
      return {
        spec,
        start: (context) => {
          id = context.scenario.id;
          return inner.start?.(context);
        },
        decide: async (observation) => {
          await sleep(waitMs.get(id)!);
          return inner.decide(observation);
        },
      };
    };
    const finished: string[] = [];
    const key = (r: { instance: string; agent: string; seed: number }) =>
      `${r.instance} ${r.agent} ${r.seed}`;
    const result = await runExperiment({
      instances,
      agents: ['./a.mjs', './b.mjs'],
      seeds: [1],
      mode: 'async',
      delivery: 'push',
      concurrency: 4,
      makeAgent,
      recorder: output.recorder,
      onComplete: (record) => {
        finished.push(key(record));
        output.complete(record);
      },
    });
    const runOrder = result.episodes.map(key);
    expect(finished).not.toEqual(runOrder);
    // A model's replay goes to the writer's thread as it ends; its line follows once it is written.
    const deadline = Date.now() + 10_000;
    while (lines(dir).length < finished.length && Date.now() < deadline) await sleep(20);
    expect(lines(dir).map(key)).toEqual(finished);
    for (const l of lines(dir)) expect(statSync(join(dir, l.replay)).size).toBeGreaterThan(0);
    await output.finish(result);
    const want = instances.flatMap((i) =>
      ['./a.mjs', './b.mjs'].map((agent) => `${i.scenario.id} ${agent} 1`),
    );
    expect(lines(dir).map(key)).toEqual(want);
    expect(existsSync(join(dir, 'summary.json'))).toBe(true);
  });
});

describe('writeAtomically: the one way a command writes a file whole or not at all', () => {
  it('writes a text or pieces, leaving no temporary file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tooltime-atomic-'));
    writeAtomically(join(dir, 'a.txt'), 'one\n');
    writeAtomically(join(dir, 'b.txt'), (write) => {
      for (const piece of ['t', 'w', 'o\n']) write(piece);
    });
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('one\n');
    expect(readFileSync(join(dir, 'b.txt'), 'utf8')).toBe('two\n');
    expect(readdirSync(dir).sort()).toEqual(['a.txt', 'b.txt']);
  });

  it('writes buffers: more than one vectored write holds (1,024), empty ones, text of several bytes a character', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tooltime-atomic-'));
    const lines = Array.from({ length: 2500 }, (_, i) =>
      Buffer.from(i % 7 === 0 ? '' : `{"n":${i},"s":"é漢${'x'.repeat(i % 13)}"}\n`, 'utf8'),
    );
    writeAtomically(join(dir, 'episodes.jsonl'), lines);
    expect(readFileSync(join(dir, 'episodes.jsonl')).equals(Buffer.concat(lines))).toBe(true);
    expect(readdirSync(dir)).toEqual(['episodes.jsonl']);
  });

  it('writeChunksSync goes on from where a short write stopped, in the middle of a buffer', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tooltime-chunks-'));
    const path = join(dir, 'out.txt');
    const chunks = ['alpha-', '', 'beta-gamma-', 'd', 'éé-end\n'].map((t) => Buffer.from(t));
    const fd = openSync(path, 'w');
    let calls = 0;
    try {
      // At most 4 bytes a call: every buffer is cut somewhere.
      writeChunksSync(fd, chunks, (f, buffers) => {
        calls++;
        const first = buffers[0]!;
        return writevSync(f, [first.subarray(0, Math.min(4, first.length))]);
      });
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(path).equals(Buffer.concat(chunks))).toBe(true);
    // 2 + 0 + 3 + 1 + 3 calls: 'éé-end\n' is 9 bytes.
    expect(calls).toBe(chunks.reduce((n, c) => n + Math.ceil(c.length / 4), 0));
    expect(calls).toBe(9);
  });

  it('a fill that throws leaves the old file as it was and no temporary file (replay inspect --out had its own writer)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tooltime-atomic-'));
    const path = join(dir, 'out.txt');
    writeFileSync(path, 'before\n');
    const broken = new Error('a corrupt record');
    expect(() =>
      writeAtomically(path, (write) => {
        write('half');
        throw broken;
      }),
    ).toThrow(broken);
    expect(readFileSync(path, 'utf8')).toBe('before\n');
    expect(readdirSync(dir)).toEqual(['out.txt']);
  });

  it('a file-system failure is one UsageError naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tooltime-atomic-'));
    const path = join(dir, 'missing', 'out.txt');
    expect(() => writeAtomically(path, 'x')).toThrow(
      new UsageError(`cannot write ${path}: no such file or directory`),
    );
  });
});

describe('readEpisodeLines: one rule for a cut last line', () => {
  it('resume, summarize and report all leave out a last line a kill cut (report refused it as not JSON)', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'tooltime-cut-line-')), 'run');
    const run = tooltime([
      'run',
      join(examples, 'chain.json'),
      '-a',
      'greedy-async',
      '--out',
      out,
      '--quiet',
    ]);
    expect(run.status, run.stderr).toBe(0);
    const whole = readFileSync(join(out, 'episodes.jsonl'), 'utf8');
    writeFileSync(join(out, 'episodes.jsonl'), `${whole}{"instance":"example-ch`);
    expect(
      readEpisodeLines(out)
        .map((l) => `${l.text}\n`)
        .join(''),
    ).toBe(whole);
    const summarize = tooltime(['summarize', out]);
    expect(summarize.stderr).toBe('');
    expect(summarize.status).toBe(0);
    const report = tooltime(['report', out, '--out', join(out, '..', 'report.html')]);
    expect(report.stderr).toBe('');
    expect(report.status).toBe(0);
    const resumed = tooltime([
      'run',
      join(examples, 'chain.json'),
      '-a',
      'greedy-async',
      '--out',
      out,
      '--resume',
      '--quiet',
    ]);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(readFileSync(join(out, 'episodes.jsonl'), 'utf8')).toBe(whole);
  });

  it('a whole line that is not JSON is one error naming the file and line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tooltime-bad-line-'));
    writeFileSync(join(dir, 'episodes.jsonl'), '{"a":1}\nnot json\n');
    expect(() => readEpisodeLines(dir)).toThrow(
      new UsageError(`${join(dir, 'episodes.jsonl')}:2: not JSON`),
    );
    expect(readEpisodeLines(join(dir, 'none'), true)).toEqual([]);
  });
});
