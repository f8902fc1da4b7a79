/**
 * `tooltime run --agent openai:MODEL` as a user runs it (the built command line, dist/), against
 * the scripted Chat Completions server: flags, the usage table and JSON, errors in one line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { MAIN, ROOT, hasStackTrace, tooltime } from '../support/cli.js';
import {
  chainModel,
  randomIds,
  startChatServer,
  talker,
  type ChatServer,
} from '../support/llm-server.js';

const chain = join(ROOT, 'scenarios', 'examples', 'chain.json');
const KEY = 'sk-tooltime-CLI-5a4b3c2d1e0f9a8b';

function envWithout(...names: string[]): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const n of names) delete env[n];
  return env;
}

/** Runs the command line without blocking this process (the server lives here). */
function run(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { cwd: ROOT, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

let server: ChatServer;
beforeAll(async () => {
  server = await startChatServer(chainModel);
});
afterAll(async () => {
  await server.close();
});

describe('tooltime run with a model agent', () => {
  it('bad input: one line, exit 1 (missing key, no model, bad flags)', () => {
    const env = envWithout('OPENAI_API_KEY', 'MY_KEY');
    const cases: Array<[string[], RegExp]> = [
      [
        ['run', chain, '-a', 'openai:gpt-4o-mini'],
        /^tooltime: openai agents need an API key: set OPENAI_API_KEY \(or name another variable with --api-key-env\)/,
      ],
      [
        ['run', chain, '-a', 'openai:qwen2.5:7b', '--api-key-env', 'MY_KEY'],
        /^tooltime: openai agents need an API key: set MY_KEY;/,
      ],
      [['run', chain, '-a', 'openai:'], /^tooltime: agent spec "openai:": name a model/],
      [
        ['run', chain, '-a', 'openai:m', '--think', 'later'],
        /^tooltime: --think must be tokens or wall, got "later"/,
      ],
      [
        ['run', chain, '-a', 'openai:m', '--temperature', 'hot'],
        /^tooltime: --temperature must be a number, got "hot"/,
      ],
      [
        ['run', chain, '-a', 'openai:m', '--price', 'cheap'],
        /^tooltime: --price: "cheap" is neither in=N,out=N nor an existing JSON file/,
      ],
      [
        ['run', chain, '-a', 'openai:m', '--think-profile', 'speed=3'],
        /^tooltime: --think-profile: unknown key "speed"/,
      ],
      [
        ['run', chain, '-a', 'greedy-async', '--concurrency', '0'],
        /^tooltime: --concurrency must be a positive integer/,
      ],
      [
        ['run', chain, '-a', 'openai:m', '--max-turns', '0'],
        /^tooltime: --max-turns must be a positive integer, got 0/,
      ],
      [
        ['run', chain, '-a', 'openai:m', '--max-idle-turns', 'many'],
        /^tooltime: --max-idle-turns must be a whole number, got "many"/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = tooltime(args, { env });
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(hasStackTrace(r.stderr)).toBe(false);
    }
  });

  it('runs a model next to a baseline: JSON summary with tokens and cost, results and cache without the key', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tooltime-llm-cli-'));
    const cache = join(out, 'cache');
    const args = [
      'run',
      chain,
      '-a',
      'openai:test-model',
      '-a',
      'greedy-async',
      '--seeds',
      '1..2',
      '--base-url',
      server.url,
      '--concurrency',
      '2',
      '--cache',
      cache,
      '--price',
      'in=1,out=2',
      '--think-profile',
      'ttftMs=100,prefillUsPerToken=1',
      '--temperature',
      '0',
      '--max-tokens',
      '256',
      '--out',
      join(out, 'results'),
      '--json',
    ];
    const before = server.requests.length;
    const r = await run(args, { ...envWithout('OPENAI_BASE_URL'), OPENAI_API_KEY: KEY });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.agents.map((a: { agent: string }) => a.agent)).toEqual([
      'openai:test-model',
      'greedy-async',
    ]);
    expect(summary.agents[0].summary.metrics.taskSuccess.mean).toBe(1);
    expect(summary.usage).toHaveLength(1);
    expect(summary.usage[0]).toMatchObject({
      agent: 'openai:test-model',
      episodes: 2,
      errored: 0,
      retries: 0,
      issues: 0,
    });
    expect(summary.usage[0].costUsd).toBeCloseTo(
      (summary.usage[0].promptTokens + 2 * summary.usage[0].completionTokens) / 1e6,
      12,
    );
    const sent = server.requests.slice(before);
    expect(sent.length).toBeGreaterThan(4);
    expect(
      sent.every(
        (q) =>
          q.body.temperature === 0 &&
          q.body.max_tokens === 256 &&
          q.headers.authorization === `Bearer ${KEY}`,
      ),
    ).toBe(true);
    expect(new Set(sent.map((q) => q.body.seed))).toEqual(new Set([1, 2]));
    const lines = readFileSync(join(out, 'results', 'episodes.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(
      lines
        .filter((l) => l.agent === 'openai:test-model')
        .every(
          (l) => l.usage.requests > 0 && l.usage.perTask.t1.promptTokens === l.usage.promptTokens,
        ),
    ).toBe(true);
    expect(
      lines.filter((l) => l.agent === 'greedy-async').every((l) => l.usage === undefined),
    ).toBe(true);
    // The replays of both agents, two episodes at once each written decision by decision (the model's) or whole, verify without the network.
    const replays = join(out, 'results', 'replays');
    expect(readdirSync(replays).sort()).toEqual([
      'example-chain--greedy-async--seed1.ttr',
      'example-chain--greedy-async--seed2.ttr',
      'example-chain--openai_test-model--seed1.ttr',
      'example-chain--openai_test-model--seed2.ttr',
    ]);
    const requestsBeforeVerify = server.requests.length;
    const verified = await run(['replay', 'verify', replays], {
      ...envWithout('OPENAI_BASE_URL'),
      OPENAI_API_KEY: KEY,
    });
    expect(verified.status, verified.stdout + verified.stderr).toBe(0);
    expect(verified.stdout.trim().split('\n')).toHaveLength(4);
    expect(server.requests.length).toBe(requestsBeforeVerify);
    // The table view, answered from the cache (no new request); --force, as results/ holds the first run.
    const again = await run([...args.filter((a) => a !== '--json'), '--force'], {
      ...envWithout('OPENAI_BASE_URL'),
      OPENAI_API_KEY: KEY,
    });
    expect(again.status).toBe(0);
    expect(server.requests.length - before).toBe(sent.length);
    expect(again.stdout).toMatch(
      /^model agent\s+episodes\s+errored\s+requests\s+retries\s+prompt tokens\s+completion tokens\s+tokens\/episode\s+cost USD\s+cost\/episode\s+malformed replies$/m,
    );
    expect(again.stdout).toMatch(/^openai:test-model\s+2\s+0\s+\d+\s+0\s/m);
    // Every file written: the cache, the results and the replays under results/replays.
    for (const dir of [cache, join(out, 'results')]) {
      for (const f of readdirSync(dir, { recursive: true, withFileTypes: true })) {
        if (f.isFile())
          expect(readFileSync(join(f.parentPath, f.name), 'latin1')).not.toContain(KEY);
      }
    }
  });

  it('an errored episode is listed with its reason, the run ends saying how many errored and exits 3; both replays (wall-clock think time, one errored) verify offline', async () => {
    server.model = (r) =>
      r.body.seed === 2
        ? { status: 503, json: { error: { message: 'overloaded' } } }
        : chainModel(r);
    try {
      const out = mkdtempSync(join(tmpdir(), 'tooltime-llm-errored-'));
      const r = await run(
        [
          'run',
          chain,
          '-a',
          'openai:test-model',
          '--seeds',
          '1..2',
          '--base-url',
          server.url,
          '--max-retries',
          '0',
          '--think',
          'wall',
          '--out',
          out,
        ],
        { ...process.env, OPENAI_API_KEY: KEY },
      );
      expect(r.status).toBe(3);
      expect(r.stderr).toBe(
        'tooltime: 1 of 2 episode(s) errored (their agent failed); their rows count them as failures\n',
      );
      expect(r.stdout).toMatch(/^openai:test-model\s+2\s+1\s/m);
      expect(r.stdout).toContain(
        'errored: example-chain seed 2 (openai:test-model): model request failed after 1 attempt: 503 overloaded',
      );
      const requests = server.requests.length;
      const verified = await run(['replay', 'verify', join(out, 'replays')], {
        ...envWithout('OPENAI_BASE_URL'),
        OPENAI_API_KEY: KEY,
      });
      expect(verified.status, verified.stdout + verified.stderr).toBe(0);
      expect(verified.stdout.trim().split('\n')).toHaveLength(2);
      expect(server.requests.length).toBe(requests);
    } finally {
      server.model = chainModel;
    }
  });

  it('a model that never calls a tool ends at --max-idle-turns as a limit, not errored; the replay verifies', async () => {
    server.model = talker;
    try {
      const out = mkdtempSync(join(tmpdir(), 'tooltime-llm-idle-'));
      const before = server.requests.length;
      const r = await run(
        [
          'run',
          chain,
          '-a',
          'openai:test-model',
          '--base-url',
          server.url,
          '--max-idle-turns',
          '3',
          '--out',
          out,
        ],
        { ...envWithout('OPENAI_BASE_URL'), OPENAI_API_KEY: KEY },
      );
      expect(r.status, r.stderr).toBe(0);
      expect(server.requests.length - before).toBe(3);
      expect(r.stdout).toMatch(/^openai:test-model\s+1\s+0\s+3\s/m);
      const [line] = readFileSync(join(out, 'episodes.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(line).toMatchObject({
        endReason: 'limit',
        usage: { error: null, issues: { no_tool_call: 3 } },
      });
      expect(line.score.success).toBe(false);
      const verified = await run(['replay', 'verify', join(out, 'replays')], {
        ...envWithout('OPENAI_BASE_URL'),
        OPENAI_API_KEY: KEY,
      });
      expect(verified.status, verified.stdout + verified.stderr).toBe(0);
    } finally {
      server.model = chainModel;
    }
  });
});

/**
 * Every file under `dir` but run.json and cache/, by relative path, with its bytes. The cache keeps
 * each response as the server sent it (llama-server's random tool-call ids included): a store of
 * what was received, not a result of the run.
 */
function filesOf(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const f of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!f.isFile()) continue;
    const path = join(f.parentPath, f.name).slice(dir.length + 1);
    if (path !== 'run.json' && !path.startsWith(`cache${sep}`))
      out.set(path, readFileSync(join(dir, path)));
  }
  return out;
}

describe('issue 21: model runs reproduce across processes without --cache', () => {
  it('two processes of one tooltime run against a deterministic server with random tool-call ids and varying response times write byte-identical run directories (run.json aside); the measured latency is in run.json', async () => {
    // As llama-server answers: random tool-call ids; and each reply takes its own wall time.
    const llama = randomIds(chainModel);
    server.model = async (q) => ({ ...(await llama(q)), delayMs: Math.floor(Math.random() * 8) });
    try {
      const root = mkdtempSync(join(tmpdir(), 'tooltime-llm-repro-'));
      const runOnce = async (name: string) => {
        const out = join(root, name);
        const r = await run(
          [
            'run',
            chain,
            '-a',
            'openai:test-model',
            '--seeds',
            '1..2',
            '--base-url',
            server.url,
            '--temperature',
            '0',
            '--out',
            out,
          ],
          { ...envWithout('OPENAI_BASE_URL'), OPENAI_API_KEY: KEY },
        );
        expect(r.status, r.stderr).toBe(0);
        return out;
      };
      const a = await runOnce('a');
      const b = await runOnce('b');
      const fa = filesOf(a);
      const fb = filesOf(b);
      expect([...fa.keys()].sort()).toEqual([...fb.keys()].sort());
      expect([...fa.keys()]).toEqual(
        expect.arrayContaining([
          'episodes.jsonl',
          'summary.json',
          join('replays', 'example-chain--openai_test-model--seed1.ttr'),
        ]),
      );
      for (const [path, bytes] of fa) expect(bytes.equals(fb.get(path)!), path).toBe(true);
      // Nor does the cache hold a measured latency (a --think wall run would need its own).
      const cached = readdirSync(join(a, 'cache')).map((f) =>
        JSON.parse(readFileSync(join(a, 'cache', f), 'utf8')),
      );
      expect(cached.length).toBeGreaterThan(4);
      expect(cached.every((e) => e.exchange.latencyMs === null)).toBe(true);
      // What was measured is kept outside that promise: in run.json.
      const manifest = JSON.parse(readFileSync(join(a, 'run.json'), 'utf8'));
      expect(manifest.modelLatency.requests).toBeGreaterThan(4);
      expect(manifest.modelLatency.totalMs).toBeGreaterThan(0);
      const verified = await run(['replay', 'verify', join(a, 'replays')], {
        ...envWithout('OPENAI_BASE_URL'),
        OPENAI_API_KEY: KEY,
      });
      expect(verified.status, verified.stdout + verified.stderr).toBe(0);
    } finally {
      server.model = chainModel;
    }
  });
});
