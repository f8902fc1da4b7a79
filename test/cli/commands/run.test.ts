import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { MAIN, ROOT, hasStackTrace, tooltime } from '../../support/cli.js';
import { canonicalJson } from '../../../scenarios/spec/canonical.js';
import { SCORING_VERSION } from '../../../scenarios/scoring/index.js';
import type { JsonValue } from '../../../scenarios/spec/schema.js';

const chain = join(ROOT, 'scenarios', 'examples', 'chain.json');
const examples = join(ROOT, 'scenarios', 'examples');

describe('the command line', () => {
  it('runs as a program of its own, as `npx tooltime` runs it (the build makes it executable)', () => {
    const r = spawnSync(MAIN, ['--help'], { encoding: 'utf8' });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: tooltime/m);
  });
});

describe('tooltime run', () => {
  it('prints a comparison table per agent and exits 0', () => {
    const r = tooltime([
      'run',
      examples,
      '-a',
      'greedy-async',
      '-a',
      'sequential',
      '--seeds',
      '1..2',
      '--quiet',
    ]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /scenario\(s\) from .*examples, seeds 1\.\.2, async mode, push delivery: \d+ episodes/,
    );
    expect(r.stdout).toMatch(
      /^agent\s+task success\s+sub-task success\s+step F1\s+violations\/ep\s+bound\/makespan\s+on successes\s+speedup vs seq\s+on successes\s+pass\^k$/m,
    );
    expect(r.stdout).toMatch(/^greedy-async\s+100\.0%/m);
    expect(r.stdout).toMatch(/^sequential\s+100\.0%/m);
    expect(r.stderr).toBe('');
  });

  it('--json prints one machine-readable summary; --out writes JSONL results and the summary', () => {
    const out = mkdtempSync(join(tmpdir(), 'tooltime-run-'));
    const r = tooltime([
      'run',
      chain,
      '-a',
      'greedy-async:maxInFlight=2',
      '--seed',
      '3',
      '--mode',
      'sync',
      '--json',
      '--out',
      out,
    ]);
    expect(r.status).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ instances: 1, seeds: [3], mode: 'sync', delivery: 'push' });
    expect(summary.agents[0].agent).toBe('greedy-async:maxInFlight=2');
    expect(summary.agents[0].summary.metrics.taskSuccess.mean).toBe(1);
    const lines = readFileSync(join(out, 'episodes.jsonl'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      agent: 'greedy-async:maxInFlight=2',
      seed: 3,
      mode: 'sync',
      endReason: 'completed',
    });
    // summary.json is --json's shape (issue 23).
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'))).toEqual(summary);
  });

  it('gives the same results twice', () => {
    const a = tooltime(['run', examples, '--seeds', '1..2', '--json']);
    const b = tooltime(['run', examples, '--seeds', '1..2', '--json']);
    expect(a.stdout).toBe(b.stdout);
  });

  it('bad input: a clear one-line message, exit 1, no stack trace', () => {
    const cases: Array<[string[], RegExp]> = [
      [['run', chain, '-a', 'nope'], /^tooltime: unknown agent "nope" \(known: sequential/],
      [
        ['run', chain, '-a', 'greedy-async:speed=2'],
        /^tooltime: agent greedy-async: unknown parameter "speed"/,
      ],
      [['run', 'missing.json'], /^tooltime: missing\.json: cannot read: no such file or directory/],
      [['run', chain, '--seeds', '5..1'], /^tooltime: --seeds 5\.\.1: the end is before the start/],
      [['run', chain, '--mode', 'later'], /^tooltime: --mode must be async or sync, got "later"/],
      [
        ['run', chain, '--delivery', 'mail'],
        /^tooltime: --delivery must be push or poll, got "mail"/,
      ],
      [['run', chain, '--sample', '0'], /^tooltime: --sample must be a positive integer/],
    ];
    for (const [args, message] of cases) {
      const r = tooltime(args);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(hasStackTrace(r.stderr)).toBe(false);
    }
  });

  it('a malformed scenario names the file and the path of each problem', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tooltime-bad-'));
    const bad = join(dir, 'bad.json');
    const doc = JSON.parse(readFileSync(chain, 'utf8'));
    doc.tasks[0].steps[1].after = ['nowhere'];
    writeFileSync(bad, JSON.stringify(doc));
    const r = tooltime(['run', bad]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${bad}: tasks[0].steps[1].after: unknown step "nowhere"`);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });
});

describe('tooltime agents and --help', () => {
  it('lists every agent with its parameters', () => {
    const r = tooltime(['agents']);
    expect(r.status).toBe(0);
    for (const name of [
      'sequential',
      'parallel-sync',
      'greedy-async',
      'round-robin',
      'critical-path',
      'impatient',
      'forgetful',
      'confused',
      'hasty',
    ])
      expect(r.stdout).toContain(`${name}  (`);
    expect(r.stdout).toContain('maxInFlight=int');
  });

  it('--help lists the commands and exits 0; an unknown command exits 1', () => {
    const help = tooltime(['--help']);
    expect(help.status).toBe(0);
    for (const c of [
      'run',
      'agents',
      'validate',
      'schema',
      'generate',
      'stress',
      'replay',
      'score',
    ])
      expect(help.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    const bad = tooltime(['frobnicate']);
    expect(bad.status).toBe(1);
    expect(hasStackTrace(bad.stderr)).toBe(false);
  });
});

describe('your own policy as a module', () => {
  // Regression: the example ignored follow-up messages (90.9% task success on the examples, and
  // its README stress command failed liveness). test/scenarios/stress/scale.test.ts stresses it at scale.
  it('runs with --agent ./module.mjs, succeeds on every example (follow-ups too), and passes the README stress command', () => {
    const run = tooltime([
      'run',
      join(ROOT, 'scenarios', 'examples'),
      '--agent',
      './test/policies/example-policy.mjs',
      '--quiet',
    ]);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^\.\/test\/policies\/example-policy\.mjs\s+100\.0%/m);
    const stress = tooltime([
      'stress',
      '--agent',
      './test/policies/example-policy.mjs:maxInFlight=3',
      '--runs',
      '100',
    ]);
    expect(stress.stderr).toBe('');
    expect(stress.status).toBe(0);
    expect(stress.stdout).toMatch(/100 cases passed/);
  });

  it('is the one docs/POLICIES.md shows, word for word', () => {
    const guide = readFileSync(join(ROOT, 'docs', 'POLICIES.md'), 'utf8');
    expect(guide).toContain(
      `\`test/policies/example-policy.mjs\`):\n\n\`\`\`js\n${readFileSync(join(ROOT, 'test', 'policies', 'example-policy.mjs'), 'utf8')}\`\`\`\n`,
    );
  });

  it('its replays verify with --policy (the module loaded again from where the run found it), fork to it; without --policy, or from elsewhere, a one-line error naming the module', () => {
    const out = mkdtempSync(join(tmpdir(), 'tooltime-module-replays-'));
    const module = './test/policies/example-policy.mjs';
    const policy = `${module}:maxInFlight=2`;
    expect(
      tooltime(['run', examples, '--agent', policy, '--seeds', '1..2', '--out', out, '--quiet'])
        .status,
    ).toBe(0);
    const replays = join(out, 'replays');
    const files = readdirSync(replays);
    expect(files.length).toBe(
      2 * readdirSync(examples).filter((name) => name.endsWith('.json')).length,
    );
    const verify = tooltime(['replay', 'verify', replays, '--policy', module]);
    expect(verify.status, verify.stderr).toBe(0);
    expect(
      verify.stdout
        .trim()
        .split('\n')
        .filter((line) => / ok \(\d+ records/.test(line)),
    ).toHaveLength(files.length);
    const source = join(replays, files.find((name) => name.startsWith('example-composite'))!);
    const untrusted = tooltime(['replay', 'verify', source]);
    expect(untrusted.status).toBe(1);
    expect(untrusted.stderr).toMatch(
      /^tooltime: .*: the replay's agent is the policy module \.\/test\/policies\/example-policy\.mjs, .*pass --policy \.\/test\/policies\/example-policy\.mjs .*\n$/,
    );
    const forked = join(out, 'forked.ttr');
    const fork = tooltime([
      'replay',
      'fork',
      source,
      '--at',
      '12',
      '--agent',
      module,
      '--record',
      forked,
    ]);
    expect(fork.status, fork.stderr).toBe(0);
    expect(tooltime(['replay', 'verify', forked, '--policy', module]).status).toBe(0);
    const elsewhere = tooltime(['replay', 'verify', source, '--policy', module], { cwd: out });
    expect(elsewhere.status).toBe(1);
    expect(elsewhere.stderr).toMatch(
      /^tooltime: .*: cannot re-create agent "\.\/test\/policies\/example-policy\.mjs:maxInFlight=2": agent module \.\/test\/policies\/example-policy\.mjs: cannot load: .*\n$/,
    );
    expect(hasStackTrace(elsewhere.stderr)).toBe(false);
  });

  it('a module that cannot load is a one-line error', () => {
    const r = tooltime(['run', chain, '--agent', './no-such-policy.mjs']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^tooltime: agent module \.\/no-such-policy\.mjs: cannot load/);
    expect(hasStackTrace(r.stderr)).toBe(false);
  });
});

describe('tooltime run records replays', () => {
  it('--out writes one replay per episode; each verifies, and re-scores to the score the run reported', () => {
    const out = mkdtempSync(join(tmpdir(), 'tooltime-replays-'));
    const r = tooltime([
      'run',
      examples,
      '-a',
      'greedy-async',
      '-a',
      'impatient',
      '--seed',
      '2',
      '--out',
      out,
      '--quiet',
    ]);
    expect(r.status).toBe(0);
    const episodes = readFileSync(join(out, 'episodes.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    for (const e of episodes.slice(0, 6)) {
      const file = join(out, 'replays', `${e.instance}--${e.agent}--seed${e.seed}.ttr`);
      const verify = tooltime(['replay', 'verify', file]);
      expect(verify.status, verify.stdout + verify.stderr).toBe(0);
    }
  });

  it("issue 22: tooltime score on a run's --out gives every episode the score the run reported, byte for byte (bound and sequential reference included)", () => {
    for (const delivery of ['push', 'poll']) {
      const out = mkdtempSync(join(tmpdir(), 'tooltime-rescore-'));
      const r = tooltime([
        'run',
        examples,
        '-a',
        'greedy-async',
        '-a',
        'hasty',
        '--seed',
        '2',
        '--delivery',
        delivery,
        '--out',
        out,
        '--quiet',
      ]);
      expect(r.status).toBe(0);
      const episodes = readFileSync(join(out, 'episodes.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      const scored = JSON.parse(tooltime(['score', out, '--json']).stdout) as Array<{
        file: string;
        score: unknown;
      }>;
      expect(scored.length).toBe(episodes.length);
      const byFile = new Map(scored.map((s) => [basename(s.file), s.score]));
      let withBound = 0;
      for (const e of episodes) {
        const again = byFile.get(`${e.instance}--${e.agent}--seed${e.seed}.ttr`);
        expect(canonicalJson(again as JsonValue)).toBe(canonicalJson(e.score));
        if (e.score.efficiency.boundUs !== null && e.score.efficiency.sequentialMakespanUs !== null)
          withBound++;
      }
      expect(withBound).toBe(episodes.length);
    }
  });

  it('issue 22: results say which scoring made them; tooltime score says when stored scores are of another version', () => {
    const out = mkdtempSync(join(tmpdir(), 'tooltime-version-'));
    const r = tooltime(['run', chain, '-a', 'greedy-async', '--seed', '1', '--out', out, '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).agents[0].summary.scoringVersion).toBe(SCORING_VERSION);
    expect(
      JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).agents[0].summary.scoringVersion,
    ).toBe(SCORING_VERSION);
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).scoringVersion).toBe(
      SCORING_VERSION,
    );
    const lines = readFileSync(join(out, 'episodes.jsonl'), 'utf8').trim().split('\n');
    for (const line of lines) expect(JSON.parse(line).score.scoringVersion).toBe(SCORING_VERSION);
    const same = tooltime(['score', out]);
    expect([same.status, same.stderr]).toEqual([0, '']);
    // Stored by older rules (no version recorded: version 1).
    writeFileSync(
      join(out, 'episodes.jsonl'),
      `${lines.map((l) => l.replace(`"scoringVersion":${SCORING_VERSION},`, '')).join('\n')}\n`,
    );
    for (const arg of [out, join(out, 'replays')]) {
      const older = tooltime(['score', arg]);
      expect(older.status).toBe(0);
      expect(older.stderr).toBe(
        `${join(out, 'episodes.jsonl')}: stored scores are of scoring version 1; the scores here are re-scored from the replays with version ${SCORING_VERSION} (do not mix the two)\n`,
      );
    }
  });

  it('--out: a replay that cannot be written is one line naming it and exit 1; the run stops there, and every replay written before it is logged and verifies', () => {
    const out = mkdtempSync(join(tmpdir(), 'tooltime-replays-'));
    const blocked = join(out, 'replays', 'example-composite--greedy-async--seed2.ttr');
    mkdirSync(blocked, { recursive: true }); // a folder where the replay should go
    // --force: the directory holds that folder (which --force leaves alone: it is not a file of tooltime's).
    const r = tooltime([
      'run',
      examples,
      '-a',
      'greedy-async',
      '--seed',
      '2',
      '--out',
      out,
      '--force',
      '--quiet',
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `tooltime: cannot write replay ${blocked}: EISDIR: illegal operation on a directory, open '${blocked}'\n`,
    );
    expect(hasStackTrace(r.stderr)).toBe(false);
    const written = readdirSync(join(out, 'replays')).filter((name) => name !== basename(blocked));
    expect(written.length).toBeGreaterThan(0);
    const logged = readFileSync(join(out, 'episodes.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { replay: string }).replay);
    expect(logged.sort()).toEqual(written.map((name) => `replays/${name}`).sort());
    const verify = tooltime([
      'replay',
      'verify',
      ...written.map((name) => join(out, 'replays', name)),
    ]);
    expect(verify.status, verify.stdout + verify.stderr).toBe(0);
  });

  it('--record FILE records the single episode; more than one is a usage error', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tooltime-record-')), 'one.ttr');
    expect(tooltime(['run', chain, '-a', 'greedy-async', '--record', file, '--quiet']).status).toBe(
      0,
    );
    expect(tooltime(['replay', 'verify', file]).status).toBe(0);
    const many = tooltime(['run', examples, '--record', file]);
    expect(many.status).toBe(1);
    expect(many.stderr).toMatch(
      /^tooltime: --record FILE records one episode, but this run has \d+/,
    );
  });
});
