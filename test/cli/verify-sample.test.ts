/**
 * `tooltime run --verify-sample P`: a sample of episodes re-run from their replays on other
 * threads. A policy module that carries state across episodes (test/policies/
 * nondeterministic-policy.mjs) fails the run with the episode and the first divergence, on this
 * thread and under --workers; deterministic agents pass; a model episode re-runs against its
 * recorded responses, never the model.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samplePoint } from '../../cli/verify-sample.js';
import { ROOT, hasStackTrace, tooltime, tooltimeAsync, modelEnv } from '../support/cli.js';
import { chainModel, startChatServer, type ChatServer } from '../support/llm-server.js';

const examples = join(ROOT, 'scenarios', 'examples');
const base = mkdtempSync(join(tmpdir(), 'tooltime-verify-sample-'));
const NONDETERMINISTIC = './test/policies/nondeterministic-policy.mjs';

describe('tooltime run --verify-sample P', () => {
  for (const workers of ['1', '2']) {
    it(`fails a run whose policy carries state across episodes, naming the episode and the first divergence (--workers ${workers})`, () => {
      const out = join(base, `nondeterministic-w${workers}`);
      // 11 examples x 2 agents x seeds 1..4: 88 episodes, enough for a pool of 2.
      const r = tooltime([
        'run',
        examples,
        '-a',
        NONDETERMINISTIC,
        '-a',
        'greedy-async',
        '--seeds',
        '1..4',
        '--workers',
        workers,
        '--verify-sample',
        '100',
        '--out',
        out,
        '-q',
      ]);
      expect(r.status).toBe(1);
      if (workers === '2') expect(r.stdout).toMatch(/\(on 2 threads\)/);
      expect(r.stderr).toMatch(
        /^tooltime: --verify-sample: episode example-[a-z-]+ \/ \.\/test\/policies\/nondeterministic-policy\.mjs \/ seed \d+ is not deterministic \(.*\.ttr\): a re-run on another thread differs at record \d+: recorded .*"content":"[^"]*\(#\d+\)".*; re-run .*"content":"[^"]*\(#\d+\)"/,
      );
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(hasStackTrace(r.stderr)).toBe(false);
      // A failed run is not finished: no summary.
      expect(existsSync(join(out, 'summary.json'))).toBe(false);
    }, 120_000);
  }

  it('passes deterministic agents, a policy module among them, re-running the chosen share', () => {
    const out = join(base, 'deterministic');
    const args = [
      'run',
      examples,
      '-a',
      './test/policies/example-policy.mjs',
      '-a',
      'greedy-async',
    ];
    const r = tooltime([
      ...args,
      '--seeds',
      '1..10',
      '--workers',
      '2',
      '--verify-sample',
      '25',
      '--out',
      out,
    ]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // Every episode of the run (the header counts them: the examples x 10 seeds x 2 agents).
    const total = Number(/: (\d+) episodes/.exec(r.stdout)?.[1]);
    expect(total).toBeGreaterThanOrEqual(200);
    const m =
      /verify-sample: (\d+) of (\d+) episodes \(25%\) re-run on other threads: replays identical/.exec(
        r.stdout,
      );
    expect(m).not.toBeNull();
    expect(Number(m![2])).toBe(total);
    // The choice is the fixed one by episode key: about a quarter.
    const chosen = Number(m![1]);
    expect(chosen).toBeGreaterThan(0.15 * total);
    expect(chosen).toBeLessThan(0.35 * total);
    expect(existsSync(join(out, 'summary.json'))).toBe(true);
  }, 120_000);

  it('chooses episodes by their key alone, each in [0, 1)', () => {
    const key = { instance: 'example-chain', agent: 'greedy-async', seed: 3 };
    expect(samplePoint(key)).toBe(samplePoint({ ...key }));
    expect(samplePoint(key)).not.toBe(samplePoint({ ...key, seed: 4 }));
    const points = Array.from({ length: 2000 }, (_, seed) => samplePoint({ ...key, seed }));
    expect(points.every((p) => p >= 0 && p < 1)).toBe(true);
    const share = points.filter((p) => p < 0.05).length / points.length;
    expect(share).toBeGreaterThan(0.03);
    expect(share).toBeLessThan(0.07);
  });

  it('refuses a bad --verify-sample, or one without --out, in one line', () => {
    for (const [args, message] of [
      [
        ['--verify-sample', '0', '--out', join(base, 'bad')],
        /^tooltime: --verify-sample must be a percentage above 0 and at most 100, got "0"/,
      ],
      [['--verify-sample', '101', '--out', join(base, 'bad')], /got "101"/],
      [['--verify-sample', 'lots', '--out', join(base, 'bad')], /got "lots"/],
      [
        ['--verify-sample', '5'],
        /^tooltime: --verify-sample re-runs episodes from their replays: give --out DIR/,
      ],
    ] as const) {
      const r = tooltime(['run', '--sample', '1', ...args]);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(hasStackTrace(r.stderr)).toBe(false);
    }
  });
});

describe('tooltime run --verify-sample with a model agent', () => {
  let server: ChatServer;
  beforeAll(async () => {
    server = await startChatServer(chainModel);
  });
  afterAll(async () => {
    await server.close();
  });

  it('re-runs model episodes against their recorded responses, never the model', async () => {
    const env = modelEnv('sk-tooltime-verify-0123456789');
    const args = (out: string, verify: readonly string[]) => [
      'run',
      join(examples, 'chain.json'),
      join(examples, 'fan-out.json'),
      '-a',
      'openai:test-model',
      '--seeds',
      '1..2',
      '--base-url',
      server.url,
      '--out',
      out,
      ...verify,
    ];
    const plain = await tooltimeAsync(args(join(base, 'llm-plain'), []), env);
    expect(plain.stderr).toBe('');
    expect(plain.status).toBe(0);
    const once = server.requests.length;
    expect(once).toBeGreaterThan(0);
    const checked = await tooltimeAsync(
      args(join(base, 'llm-verified'), ['--verify-sample', '100']),
      env,
    );
    expect(checked.stderr).toBe('');
    expect(checked.status).toBe(0);
    expect(checked.stdout).toMatch(
      /verify-sample: 4 of 4 episodes \(100%\) re-run on other threads: replays identical/,
    );
    // The second run asked the model what the first did (its own cache is new), and no more.
    expect(server.requests.length).toBe(2 * once);
  }, 120_000);
});
