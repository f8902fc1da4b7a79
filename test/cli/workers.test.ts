/**
 * `tooltime run --workers N`: episodes.jsonl, summary.json and every replay are byte-identical
 * whatever N is, on the shipped suite's sample, with a policy module named on the command line
 * (loaded in every worker), on model runs against the scripted server (model agents stay on the
 * main thread, with `--concurrency` requests in flight), and after a kill and `--resume`.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAIN, ROOT, hasStackTrace, tooltime, tooltimeAsync, modelEnv } from '../support/cli.js';
import { chainModel, startChatServer, type ChatServer } from '../support/llm-server.js';
import { expectSameFiles, runDirFiles } from '../support/run-dir.js';

const examples = join(ROOT, 'scenarios', 'examples');
const base = mkdtempSync(join(tmpdir(), 'tooltime-workers-'));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function run(args: readonly string[], env?: NodeJS.ProcessEnv): string {
  const r = tooltime(args, env === undefined ? {} : { env });
  expect(r.stderr, args.join(' ')).toBe('');
  expect(r.status, args.join(' ')).toBe(0);
  return r.stdout;
}

/** 24 instances of the shipped suite, every baseline and failure-mode agent, seeds 1..2. */
const SUITE = ['run', '--sample', '24', '--seeds', '1..2'];

describe('tooltime run --workers N', () => {
  it('writes the same results for N = 1, 2, 3 on the suite sample, N threads when N > 1', () => {
    const dirs = [1, 2, 3].map((n) => {
      const out = join(base, `suite-w${n}`);
      const stdout = run([...SUITE, '--workers', String(n), '--out', out]);
      // The pool really ran them (a run that stayed on this thread would pass the comparison).
      if (n === 1) expect(stdout).not.toMatch(/ threads\)/);
      else expect(stdout).toMatch(new RegExp(`: \\d+ episodes \\(on ${n} threads\\)\\n`));
      return runDirFiles(out);
    });
    const replays = [...dirs[0]!.keys()].filter((k) => k.endsWith('.ttr'));
    const lines = dirs[0]!.get('episodes.jsonl')!.toString().trim().split('\n');
    expect(replays.length).toBe(lines.length);
    expect(replays.length).toBeGreaterThanOrEqual(24 * 2 * 5);
    expectSameFiles(dirs[0]!, dirs[1]!, '--workers 2');
    expectSameFiles(dirs[0]!, dirs[2]!, '--workers 3');
  }, 180_000);

  it('prints the same tables and --json without --out (no replays: records travel as JSON text)', () => {
    const text = [1, 2].map((n) => run([...SUITE, '--workers', String(n), '--by', 'tasks', '-q']));
    expect(text[1]).toContain('(on 2 threads)');
    expect(text[1]!.replace(' (on 2 threads)', '')).toBe(text[0]);
    const json = [1, 2].map((n) => run([...SUITE, '--workers', String(n), '--json']));
    expect(json[1]).toBe(json[0]);
  }, 120_000);

  it('loads a policy module named on the command line in every worker, with the same results', () => {
    const dirs = [1, 2].map((n) => {
      const out = join(base, `module-w${n}`);
      const args = [
        'run',
        examples,
        '-a',
        './test/policies/example-policy.mjs',
        '-a',
        'greedy-async',
      ];
      const stdout = run([...args, '--seeds', '1..40', '--workers', String(n), '--out', out]);
      expect(stdout).toMatch(/^\.\/test\/policies\/example-policy\.mjs\s+100\.0%/m);
      if (n === 2) expect(stdout).toMatch(/\(on 2 threads\)/);
      return runDirFiles(out);
    });
    expectSameFiles(dirs[0]!, dirs[1]!, '--workers 2 with a policy module');
  }, 120_000);

  it('refuses a bad --workers in one line', () => {
    for (const bad of ['0', 'two', '-1', '1.5', '100000']) {
      const r = tooltime(['run', '--sample', '1', '--workers', bad]);
      expect(r.status, bad).toBe(1);
      expect(r.stderr).toMatch(/^tooltime: --workers must be an integer from 1 to 256, got "/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(hasStackTrace(r.stderr)).toBe(false);
    }
  });

  it('kill -9 mid-run under --workers 2, then --resume --workers 3: the results of an uninterrupted --workers 1 run', async () => {
    const args = [...SUITE, '-a', 'greedy-async', 'sequential', 'round-robin', '-q'];
    const ref = join(base, 'resume-ref');
    run([...args, '--workers', '1', '--out', ref]);
    const out = join(base, 'resume');
    const child = spawn(process.execPath, [MAIN, ...args, '--workers', '2', '--out', out], {
      cwd: ROOT,
      stdio: 'ignore',
    });
    let exited = false;
    const exit = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    void exit.then(() => (exited = true));
    const logged = () =>
      existsSync(join(out, 'episodes.jsonl'))
        ? readFileSync(join(out, 'episodes.jsonl'), 'utf8').split('\n').length - 1
        : 0;
    const deadline = Date.now() + 60_000;
    while (!exited && Date.now() < deadline && logged() < 10) await sleep(2);
    expect(exited, 'the run ended before it was killed').toBe(false);
    child.kill('SIGKILL');
    await exit;
    const before = logged();
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(24 * 2 * 3);
    // Every logged line's replay is whole and verifies (a worker writes it before sending the line).
    const named = readFileSync(join(out, 'episodes.jsonl'), 'utf8')
      .split('\n')
      .slice(0, before)
      .map((line) => join(out, (JSON.parse(line) as { replay: string }).replay));
    const verify = tooltime(['replay', 'verify', ...named]);
    expect(verify.status, verify.stderr).toBe(0);
    expect(verify.stdout.match(/: ok \(/g)).toHaveLength(before);
    run([...args, '--workers', '3', '--out', out, '--resume']);
    expectSameFiles(
      runDirFiles(ref),
      runDirFiles(out),
      'killed under --workers 2, resumed under 3',
    );
  }, 180_000);
});

describe('tooltime run --workers N with a model agent', () => {
  let server: ChatServer;
  beforeAll(async () => {
    server = await startChatServer(chainModel);
  });
  afterAll(async () => {
    await server.close();
  });

  it('writes the same results for N = 1, 2, 3 (model and baselines, --concurrency 2, one response cache)', async () => {
    const env = modelEnv('sk-tooltime-workers-0123456789');
    // Measured latencies (usage.latencyMs) differ run to run: a first run fills the response
    // cache, and the compared runs are answered from it, as a re-run of a sweep is.
    const args = (n: number, out: string) => [
      'run',
      examples,
      '-a',
      'openai:test-model',
      '-a',
      'greedy-async',
      'sequential',
      '--seeds',
      '1..6',
      '--base-url',
      server.url,
      '--concurrency',
      '2',
      '--cache',
      join(base, 'cache'),
      '--workers',
      String(n),
      '--out',
      out,
    ];
    const warm = await tooltimeAsync(args(2, join(base, 'llm-warm')), env);
    expect(warm.stderr).toBe('');
    expect(warm.status).toBe(0);
    const requests = server.requests.length;
    expect(requests).toBeGreaterThan(0);
    const dirs: Array<Map<string, Buffer>> = [];
    for (const n of [1, 2, 3]) {
      const out = join(base, `llm-w${n}`);
      const r = await tooltimeAsync(args(n, out), env);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      if (n > 1) expect(r.stdout).toMatch(new RegExp(`\\(on ${n} worker threads\\)`));
      dirs.push(runDirFiles(out));
    }
    // Every model request of the compared runs was answered from the one cache.
    expect(server.requests.length).toBe(requests);
    const models = [...dirs[0]!.keys()].filter((k) => k.includes('openai_test-model'));
    expect(models.length).toBeGreaterThan(2);
    expectSameFiles(dirs[0]!, dirs[1]!, '--workers 2');
    expectSameFiles(dirs[0]!, dirs[2]!, '--workers 3');
  }, 240_000);
});
