/**
 * The research workflow on real run directories (issue 23, "A run is a directory" and "Tables that
 * slice and compare"): kill -9 then --resume gives the bytes of an uninterrupted run; a different
 * command is refused; --dry-run; --instances/--tag/--limit; --by; summarize rebuilds the run's
 * tables; compare; --format.
 */
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endsWithTrailer } from '../../cli/resume.js';
import { pct } from '../../cli/tables.js';
import { MAIN, ROOT, tooltime, modelEnv } from '../support/cli.js';
import { episodeLines, expectSameResults, killAfter, ok, refused } from '../support/run-dir.js';
import { chainModel, startChatServer, type ChatServer } from '../support/llm-server.js';

const examples = join(ROOT, 'scenarios', 'examples');
const suiteIndex = join(ROOT, 'scenarios', 'suites', 'asynctool', 'index.json');
const tmp = mkdtempSync(join(tmpdir(), 'tooltime-research-'));
/** 24 instances of the shipped suite, two agents, seeds 1..2: 96 episodes, a few seconds. */
const RUN = ['run', '--sample', '24', '--seeds', '1..2', '-a', 'greedy-async', 'sequential', '-q'];
const EPISODES = 96;
const ref = join(tmp, 'ref');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(() => {
  ok([...RUN, '--out', ref]);
}, 120_000);

describe('run.json and summary.json', () => {
  it('run.json records the run and its circumstances; summary.json is --json without them', () => {
    const run = JSON.parse(readFileSync(join(ref, 'run.json'), 'utf8'));
    expect(run.scoringVersion).toBe(2);
    expect(run.command).toEqual([...RUN, '--out', ref]);
    expect(run.agents).toEqual(['greedy-async', 'sequential']);
    expect(run.instanceIds).toHaveLength(24);
    expect(run.suiteDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(run.node).toBe(process.version);
    expect(Date.parse(run.endedAt)).toBeGreaterThanOrEqual(Date.parse(run.startedAt));
    const summary = JSON.parse(readFileSync(join(ref, 'summary.json'), 'utf8'));
    expect(Object.keys(summary)).toEqual([
      'scoringVersion',
      'instances',
      'seeds',
      'mode',
      'delivery',
      'agents',
    ]);
    expect(summary).toMatchObject({
      scoringVersion: 2,
      instances: 24,
      seeds: [1, 2],
      mode: 'async',
      delivery: 'push',
    });
    expect(JSON.parse(ok([...RUN, '--json']))).toEqual(summary);
  });
});

describe('--resume', () => {
  it('kill -9 at several moments, then --resume: episodes.jsonl, summary.json and replays are those of the uninterrupted run', async () => {
    for (const at of [0, 1, 40]) {
      const out = join(tmp, `killed-${at}`);
      const logged = await killAfter(RUN, out, at);
      expect(logged, `killed after ${at}`).toBeLessThan(EPISODES);
      expect(existsSync(join(out, 'summary.json'))).toBe(false);
      // Kept episodes are not run again: their replays are not rewritten.
      const kept = episodeLines(out).map((l) => join(out, JSON.parse(l).replay as string));
      const written = kept.map((f) => statSync(f).mtimeMs);
      await sleep(20);
      ok([...RUN, '--out', out, '--resume']);
      expectSameResults(ref, out, EPISODES);
      expect(kept.map((f) => statSync(f).mtimeMs)).toEqual(written);
      const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
      expect(run.resumedAt).toHaveLength(1);
      expect(run.endedAt).not.toBeNull();
    }
  }, 180_000);

  it('keeps whole episodes only: a cut last line, a cut replay and an errored episode run again', () => {
    const out = join(tmp, 'damaged');
    ok([...RUN, '--out', out]);
    const lines = episodeLines(out);
    // Lines 0-9 kept whole; line 10 cut; the replay of line 3 cut short; line 5 errored.
    const cutReplay = JSON.parse(lines[3]!).replay as string;
    const errored = lines[5]!.replace('"endReason":"completed"', '"endReason":"errored"');
    expect(errored).not.toBe(lines[5]);
    writeFileSync(
      join(out, 'episodes.jsonl'),
      [...lines.slice(0, 5), errored, ...lines.slice(6, 10)].join('\n') +
        '\n' +
        lines[10]!.slice(0, 50),
    );
    truncateSync(join(out, cutReplay), statSync(join(out, cutReplay)).size - 3);
    expect(endsWithTrailer(join(out, cutReplay))).toBe(false);
    rmSync(join(out, 'summary.json'));
    ok([...RUN, '--out', out, '--resume']);
    expectSameResults(ref, out, EPISODES);
  }, 60_000);

  it('refuses a different command (one line, exit 1) and leaves the directory as it was', () => {
    const out = join(tmp, 'refuse');
    ok([...RUN, '--out', out]);
    const before = readFileSync(join(out, 'episodes.jsonl'), 'utf8');
    refused(
      [
        'run',
        '--sample',
        '24',
        '--seeds',
        '1..3',
        '-a',
        'greedy-async',
        'sequential',
        '--out',
        out,
        '--resume',
      ],
      /^tooltime: --resume: .*run\.json records a different run \(seeds was \{"from":1,"to":2\}, now \{"from":1,"to":3\}\)/,
    );
    refused(
      ['run', '--sample', '24', '--seeds', '1..2', '-a', 'greedy-async', '--out', out, '--resume'],
      /different run \(agents was/,
    );
    refused(
      [...RUN, '--tag', 'tasks=2', '--out', out, '--resume'],
      /different run \(selection was/,
    );
    refused(
      [
        'run',
        examples,
        '--seeds',
        '1..2',
        '-a',
        'greedy-async',
        'sequential',
        '--out',
        out,
        '--resume',
      ],
      /different run \(scenarios was/,
    );
    refused(
      [...RUN, '--out', join(tmp, 'nothing-here'), '--resume'],
      /^tooltime: .*run\.json: cannot read/,
    );
    refused(
      [...RUN, '--resume'],
      /^tooltime: --resume continues a run directory: give its --out DIR/,
    );
    expect(readFileSync(join(out, 'episodes.jsonl'), 'utf8')).toBe(before);
    // What does not change results may: the concurrency, the progress bar.
    ok([...RUN, '--out', out, '--resume', '--concurrency', '2']);
    expectSameResults(ref, out, EPISODES);
  }, 60_000);
});

describe('--dry-run and choosing work', () => {
  const index = JSON.parse(readFileSync(suiteIndex, 'utf8')).index as Array<{
    id: string;
    tags: Record<string, string>;
  }>;
  const has = (tags: Record<string, string>, key: string, value: string) =>
    (tags[key] ?? '').split('+').includes(value);

  it('--dry-run prints the episode count and runs nothing (no directory, no key for a model)', () => {
    const out = join(tmp, 'dry');
    expect(ok([...RUN, '--out', out, '--dry-run'])).toBe(
      `${EPISODES} episode(s) to run, none by a model agent: no cost\nnothing was run (--dry-run)\n`,
    );
    expect(existsSync(out)).toBe(false);
    const env = { ...process.env };
    delete env.OPENAI_API_KEY;
    const r = tooltime(
      [
        'run',
        '--sample',
        '10',
        '-a',
        'openai:gpt-4o-mini',
        'greedy-async',
        '--price',
        'in=1,out=2',
        '--dry-run',
      ],
      { env },
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /^20 episode\(s\) to run, 10 by model agents\nestimated \d+ requests, \d+ prompt and \d+ completion tokens \(rough: .*\)\nestimated cost: \$\d+\.\d\d\n/,
    );
  });

  it('--tag over compound values and the number of tasks, --instances, --limit', () => {
    const count = (args: string[]) =>
      Number(/^(\d+) episode/.exec(ok(['run', '-a', 'greedy-async', '--dry-run', ...args]))![1]);
    expect(count(['--tag', 'domains=filesystem'])).toBe(
      index.filter((e) => has(e.tags, 'domains', 'filesystem')).length,
    );
    expect(count(['--tag', 'domains=filesystem'])).toBeGreaterThan(
      index.filter((e) => e.tags.domains === 'filesystem').length,
    );
    expect(count(['--tag', 'patterns=diamond', '--tag', 'tasks=3'])).toBe(
      index.filter((e) => has(e.tags, 'patterns', 'diamond') && e.tags.tasks === '3').length,
    );
    expect(count(['--tag', 'patterns=diamond', '--limit', '5'])).toBe(5);
    expect(count(['--instances', 'asynctool-s2024-0001,asynctool-s2024-0002'])).toBe(2);
    const out = ok(['run', examples, '-a', 'sequential', '--tag', 'domain=travel', '--json']);
    expect(JSON.parse(out).instances).toBe(3);
    refused(
      ['run', examples, '--tag', 'domain=nowhere'],
      /^tooltime: no instance matches --tag domain=nowhere/,
    );
    refused(
      ['run', examples, '--instances', 'example-chain,nope'],
      /^tooltime: --instances: no instance "nope"/,
    );
    refused(['run', examples, '--tag', 'domain'], /^tooltime: --tag must look like KEY=VALUE/);
    refused(['run', examples, '--limit', '0'], /^tooltime: --limit must be a positive integer/);
  });
});

describe('tables: --by, summarize, compare, --format', () => {
  const byDir = join(tmp, 'by');
  let runText = '';
  beforeAll(() => {
    runText = ok([
      'run',
      examples,
      '--seeds',
      '1..2',
      '-a',
      'sequential',
      'greedy-async',
      '--by',
      'domain',
      '--by',
      'tasks',
      '--out',
      byDir,
    ]);
  }, 60_000);

  it('--by prints a table per tag and summary.json holds them; each value sums to the run', () => {
    expect(runText).toContain('By domain:\ndomain ');
    expect(runText).toContain('By tasks:\ntasks ');
    const summary = JSON.parse(readFileSync(join(byDir, 'summary.json'), 'utf8'));
    const [domain, tasks] = summary.breakdowns;
    expect(domain.key).toBe('domain');
    expect(domain.groups.map((g: { value: string }) => g.value)).toContain('travel');
    for (const b of [domain, tasks]) {
      const episodes = b.groups.reduce(
        (n: number, g: { agents: Array<{ summary: { episodes: number } }> }) =>
          n + g.agents.reduce((m, a) => m + a.summary.episodes, 0),
        0,
      );
      expect(episodes, b.key).toBe(52);
    }
    expect(tasks.groups.map((g: { value: string }) => g.value)).toEqual(['1', '2']);
    refused(
      ['run', examples, '--by', 'colour'],
      /^tooltime: --by colour: no instance of the run has a "colour" tag/,
    );
  });

  it("summarize DIR gives the run's tables and, as json, its summary.json", () => {
    const tables = runText
      .split('\n')
      .slice(2)
      .join('\n')
      .replace(/\nwrote .*\n$/, '');
    expect(ok(['summarize', byDir])).toBe(tables);
    expect(ok(['summarize', byDir, '--format', 'json'])).toBe(
      readFileSync(join(byDir, 'summary.json'), 'utf8'),
    );
  });

  it('summarize merges runs of different agents into the table of one run of both', () => {
    const a = join(tmp, 'only-seq');
    const b = join(tmp, 'only-greedy');
    ok(['run', examples, '--seeds', '1..2', '-a', 'sequential', '--out', a]);
    ok(['run', examples, '--seeds', '1..2', '-a', 'greedy-async', '--out', b]);
    expect(ok(['summarize', a, b, '--by', 'domain', '--format', 'json'])).toBe(
      ok(['summarize', byDir, '--by', 'domain', '--format', 'json']),
    );
    refused(
      ['summarize', a, a],
      /^tooltime: episode example-chain \/ sequential \/ seed 1 is in .* and in /,
    );
  });

  it('scores of another scoring version are refused, or re-scored from replays with --rescore', () => {
    const dir = join(tmp, 'old-scores');
    ok(['run', examples, '--seeds', '1..2', '-a', 'sequential', 'greedy-async', '--out', dir]);
    const path = join(dir, 'episodes.jsonl');
    writeFileSync(
      path,
      readFileSync(path, 'utf8').replace('"scoringVersion":2', '"scoringVersion":1'),
    );
    refused(
      ['summarize', dir],
      /is scored by scoring version 1, this tooltime scores by version 2: add --rescore/,
    );
    refused(['compare', dir, byDir], /scoring version 1/);
    // Scores stored before versions were recorded are version 1.
    writeFileSync(path, readFileSync(path, 'utf8').replace('"scoringVersion":1,', ''));
    refused(
      ['summarize', dir],
      /is scored by scoring version 1, this tooltime scores by version 2: add --rescore/,
    );
    expect(ok(['summarize', dir, '--rescore', '--format', 'json'])).toBe(
      readFileSync(join(dir, 'summary.json'), 'utf8'),
    );
  });

  it('compare of a directory with itself: zero differences; --pair pairs agents by name given', () => {
    const same = JSON.parse(ok(['compare', byDir, byDir, '--format', 'json']));
    expect(same.comparisons.map((c: { a: string; b: string }) => [c.a, c.b])).toEqual([
      ['sequential', 'sequential'],
      ['greedy-async', 'greedy-async'],
    ]);
    for (const c of same.comparisons) {
      expect(c.pairs).toBe(26);
      for (const m of c.metrics)
        expect([
          m.metric,
          m.difference.mean,
          m.difference.low ?? 0,
          m.difference.high ?? 0,
        ]).toEqual([m.metric, 0, 0, 0]);
    }
    const paired = JSON.parse(
      ok(['compare', byDir, byDir, '--pair', 'sequential=greedy-async', '--format', 'json']),
    );
    const speedup = paired.comparisons[0].metrics.find(
      (m: { metric: string }) => m.metric === 'speedup vs seq',
    );
    expect(speedup.a).toBe(1);
    expect(speedup.difference.mean).toBeGreaterThan(0);
    expect(speedup.difference.low).toBeGreaterThan(0);
    expect(ok(['compare', byDir, byDir])).toMatch(/^B - A: .*\n\nagent \(A \/ B\) +metric +pairs/);
    refused(
      ['compare', byDir, byDir, '--pair', 'sequential=nobody'],
      /^tooltime: --pair sequential=nobody: the second run has no agent nobody/,
    );
  });

  it('--format md and csv: Markdown tables, and CSV of plain numbers equal to summary.json', () => {
    const md = ok(['summarize', byDir, '--format', 'md']);
    expect(md).toMatch(/^\| agent \| task success \|.*\n\| --- \| ---: \|/);
    expect(md).toContain('By domain\n\n| domain | agent |');
    const csv = ok(['summarize', byDir, '--format', 'csv']);
    const [header, first] = csv.split('\n');
    const cols = header!.split(',');
    const cells = first!.split(',');
    const summary = JSON.parse(readFileSync(join(byDir, 'summary.json'), 'utf8'));
    expect(cells[0]).toBe('sequential');
    expect(Number(cells[cols.indexOf('taskSuccess_low')])).toBe(
      summary.agents[0].summary.metrics.taskSuccess.low,
    );
    expect(Number(cells[cols.indexOf('successWeightedBoundRatio_mean')])).toBe(
      summary.agents[0].summary.metrics.successWeightedBoundRatio.mean,
    );
    expect(
      ok([
        'run',
        examples,
        '--seeds',
        '1..2',
        '-a',
        'sequential',
        'greedy-async',
        '--format',
        'csv',
        '--by',
        'domain',
        '--by',
        'tasks',
      ]),
    ).toBe(csv);
    expect(ok(['compare', byDir, byDir, '--format', 'csv'])).toMatch(
      /^agent_a,agent_b,metric,pairs,a,b,difference,low,high\nsequential,sequential,task success,26,1,1,0,0,0\n/,
    );
    refused(
      ['summarize', byDir, '--format', 'xls'],
      /^tooltime: --format must be md, csv or json, got "xls"/,
    );
  });
});

describe('table cells', () => {
  it('regression: a share with no value prints "-", not "-%" (switches leaving a ready step with no switch)', () => {
    expect(pct({ n: 0, mean: null, sd: null, interval: null, low: null, high: null })).toBe('-');
    expect(pct({ n: 4, mean: 0.5, sd: null, interval: 'wilson', low: 0.15, high: 0.85 })).toBe(
      '50.0% [15.0, 85.0]',
    );
  });
});

describe('a model run: --max-cost, and a response cache in the run directory', () => {
  let server: ChatServer;
  beforeAll(async () => {
    server = await startChatServer(chainModel);
  });
  afterAll(async () => {
    await server.close();
  });

  /** Runs the command line without blocking this process (the server lives here). */
  const run = (args: readonly string[]) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const env = modelEnv('sk-test');
      const child = spawn(process.execPath, [MAIN, ...args], { cwd: ROOT, env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });
  const essentials = (dir: string) =>
    episodeLines(dir).map((l) => {
      const e = JSON.parse(l);
      return [e.instance, e.agent, e.seed, e.endReason, e.makespanUs, e.score, e.usage.costUsd];
    });

  it('--max-cost stops starting episodes (exit 4, resumable); --resume finishes without asking again for what DIR/cache holds', async () => {
    const out = join(tmp, 'model');
    const args = [
      'run',
      join(examples, 'chain.json'),
      '-a',
      'openai:test-model',
      '--seeds',
      '1..4',
      '--base-url',
      server.url,
      '--price',
      'in=1,out=2',
      '--out',
      out,
      '-q',
    ];
    const stopped = await run([...args, '--max-cost', '0.000001']);
    expect(stopped.status).toBe(4);
    expect(stopped.stderr).toMatch(
      /^tooltime: --max-cost 0\.000001 reached \(\$0\.\d+ recorded\): stopped after 1 of 4 episodes, no summary; continue with the same command plus --resume/,
    );
    expect(stopped.stderr.trim().split('\n')).toHaveLength(1);
    expect(episodeLines(out)).toHaveLength(1);
    expect(existsSync(join(out, 'summary.json'))).toBe(false);
    expect(readdirSync(join(out, 'cache')).length).toBeGreaterThan(0);
    // Still at the cap: nothing starts, nothing is asked.
    const asked = server.requests.length;
    expect((await run([...args, '--resume', '--max-cost', '0.000001'])).status).toBe(4);
    expect(server.requests.length).toBe(asked);
    const done = await run([...args, '--resume', '--max-cost', '100']);
    expect(done.stderr).toBe('');
    expect(done.status).toBe(0);
    expect(episodeLines(out)).toHaveLength(4);
    const finished = essentials(out);
    const summary = readFileSync(join(out, 'summary.json'), 'utf8');
    // Episodes lost after they ran (their lines gone) run again from the cache: no request is repeated.
    const before = server.requests.length;
    writeFileSync(join(out, 'episodes.jsonl'), `${episodeLines(out)[0]}\n`);
    rmSync(join(out, 'summary.json'));
    const again = await run([...args, '--resume']);
    expect(again.status).toBe(0);
    expect(server.requests.length).toBe(before);
    expect(essentials(out)).toEqual(finished);
    expect(readFileSync(join(out, 'summary.json'), 'utf8')).toBe(summary);
  }, 60_000);
});

describe('regression (review): a file-system failure while resuming', () => {
  it('is one line naming the path, exit 1, not an internal error (the resumed directory is a path the user named)', () => {
    const out = mkdtempSync(join(tmpdir(), 'tooltime-resume-fs-'));
    const chain = join(ROOT, 'scenarios', 'examples', 'chain.json');
    ok(['run', chain, '-a', 'greedy-async', '--out', out, '--force', '-q']);
    rmSync(join(out, 'replays'), { recursive: true });
    writeFileSync(join(out, 'replays'), 'not a directory');
    refused(
      ['run', chain, '-a', 'greedy-async', '--out', out, '-q', '--resume'],
      /not a directory \(ENOTDIR\)/,
    );
    rmSync(out, { recursive: true, force: true });
  });
});
