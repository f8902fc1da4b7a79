/**
 * `tooltime ablate mode|latency|tasks` on real run directories (issue 23, "AsyncTool's experiments
 * as commands"): one directory per ablation whose run.json records it; each level is what a plain
 * run of that level gives, on the same draws; the effect's paired differences are `compare`'s;
 * kill -9 then --resume gives the bytes of an uninterrupted ablation; summarize rebuilds it.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compareEpisodes } from '../../cli/commands/compare.js';
import type { AblationEffect } from '../../cli/ablation.js';
import type { EpisodeRecord } from '../../scenarios/experiment.js';
import { readReplayFile } from '../../replays/index.js';
import { ROOT, tooltime } from '../support/cli.js';
import { expectSameResults, killAfter, ok, refused } from '../support/run-dir.js';

const tmp = mkdtempSync(join(tmpdir(), 'tooltime-ablate-'));
const PICK = ['--sample', '6', '--seeds', '1..2', '-a', 'greedy-async', 'sequential', '-q'];

const episodes = (dir: string): EpisodeRecord[] =>
  readFileSync(join(dir, 'episodes.jsonl'), 'utf8')
    .split('\n')
    .slice(0, -1)
    .map((l) => JSON.parse(l) as EpisodeRecord);
const json = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

/** The episode as a plain run has it: no replay file name, under the instance it derives from. */
const plain = (e: EpisodeRecord & { replay?: string }, instance = e.instance) => {
  const { replay: _, ...rest } = e;
  return { ...rest, instance, score: { ...e.score, scenario: instance } };
};

const dirs = { mode: join(tmp, 'mode'), latency: join(tmp, 'latency'), tasks: join(tmp, 'tasks') };
let modeStdout = '';

beforeAll(() => {
  modeStdout = ok(['ablate', 'mode', ...PICK, '--levels', 'sync,async,poll', '--out', dirs.mode]);
  ok(['ablate', 'latency', ...PICK, '--out', dirs.latency]);
  ok([
    'ablate',
    'tasks',
    '--sample',
    '12',
    '--seeds',
    '1..2',
    '-a',
    'greedy-async',
    '-q',
    '--levels',
    '1,2',
    '--out',
    dirs.tasks,
  ]);
}, 180_000);

describe('ablate mode', () => {
  it("run.json records the ablation: kind, levels, baseline and each instance's level", () => {
    const run = json(join(dirs.mode, 'run.json'));
    expect(run.ablation.kind).toBe('mode');
    expect(run.ablation.levels).toEqual(['sync', 'async', 'poll']);
    expect(run.ablation.baseline).toBe('sync');
    expect(run.ablation.variants).toHaveLength(18);
    expect(run.ablation.variants[1]).toEqual({
      id: `${run.ablation.variants[1].instance}--async`,
      instance: run.ablation.variants[0].instance,
      level: 'async',
    });
    expect(run.instanceIds).toEqual(run.ablation.variants.map((v: { id: string }) => v.id));
    expect(run.instanceTags[run.ablation.variants[2].id].level).toBe('poll');
  });

  it('each level is what a plain run in that world gives (the same draws), its replays in that world', () => {
    const all = episodes(dirs.mode);
    expect(all).toHaveLength(6 * 3 * 2 * 2);
    for (const [level, flags] of [
      ['sync', ['--mode', 'sync']],
      ['async', ['--mode', 'async']],
      ['poll', ['--delivery', 'poll']],
    ] as const) {
      const out = join(tmp, `plain-${level}`);
      ok(['run', ...PICK, ...flags, '--out', out]);
      const mine = all
        .filter((e) => e.instance.endsWith(`--${level}`))
        .map((e) => plain(e, e.instance.slice(0, -`--${level}`.length)));
      expect(mine).toEqual(episodes(out).map((e) => plain(e)));
    }
    const replay = readReplayFile(
      join(
        dirs.mode,
        'replays',
        readdirSync(join(dirs.mode, 'replays')).find((f) => f.includes('--poll--'))!,
      ),
    );
    expect(replay.header.world).toMatchObject({ mode: 'async', delivery: 'poll' });
  });

  it("the effect's differences are compare's paired intervals between the plain runs; the table prints them", () => {
    const effect: AblationEffect = json(join(dirs.mode, 'summary.json')).ablation;
    expect(effect.levels).toEqual(['sync', 'async', 'poll']);
    const sync = episodes(join(tmp, 'plain-sync'));
    const async = episodes(join(tmp, 'plain-async'));
    const compared = compareEpisodes(sync, async);
    for (const agent of ['greedy-async', 'sequential']) {
      const levels = effect.agents.find((a) => a.agent === agent)!.levels;
      const c = compared.find((x) => x.a === agent)!;
      expect(levels[0]!.successDifference).toBeNull();
      expect(levels[1]!.successDifference).toEqual(
        c.metrics.find((m) => m.metric === 'task success')!.difference,
      );
      expect(levels[1]!.efficiencyDifference).toEqual(
        c.metrics.find((m) => m.metric === 'bound/makespan')!.difference,
      );
      expect(levels[1]!.episodes).toBe(12);
    }
    expect(modeStdout).toMatch(
      /^6 scenario\(s\) from the default suite at 3 mode levels \(sync, async, poll; baseline sync\), seeds 1\.\.2: 72 episodes/,
    );
    expect(modeStdout).toMatch(/greedy-async: mode ablation, against mode sync/);
    expect(modeStdout).toMatch(/^sync +12 .* baseline /m);
  });
});

describe('ablate latency', () => {
  it('scales every tool by each factor: level 1 is the plain run, and each call of level x takes x times as long', () => {
    const all = episodes(dirs.latency);
    const run = json(join(dirs.latency, 'run.json'));
    expect(run.ablation).toMatchObject({
      kind: 'latency',
      levels: ['0.5', '1', '2', '4'],
      baseline: '1',
    });
    const out = join(tmp, 'plain-latency');
    ok(['run', ...PICK, '--out', out]);
    const one = all.filter((e) => e.instance.endsWith('--x1'));
    expect(one.map((e) => plain(e, e.instance.slice(0, -4)))).toEqual(
      episodes(out).map((e) => plain(e)),
    );
    // A replay's header holds the scaled scenario: every tool carries the factor.
    const name = readdirSync(join(dirs.latency, 'replays')).find((f) => f.includes('--x4--'))!;
    const { scenario } = readReplayFile(join(dirs.latency, 'replays', name));
    expect(scenario.tools.every((t) => t.latencyScale === 4)).toBe(true);
    // The same episode at x1 and x2: each call both make takes exactly twice as long.
    const durations = (file: string) => {
      const events = readReplayFile(join(dirs.latency, 'replays', file)).events;
      const started = new Map<number, number>();
      const key = new Map<number, string>();
      const out = new Map<string, number>();
      for (const e of events) {
        if (e.type === 'call_issued') key.set(e.callId, `${e.task}/${e.step}/${e.attempt}`);
        if (e.type === 'call_started') started.set(e.callId, e.timeUs);
        if (e.type === 'call_completed')
          out.set(key.get(e.callId)!, e.timeUs - started.get(e.callId)!);
      }
      return out;
    };
    const x1 = durations(name.replace('--x4--', '--x1--'));
    const x2 = durations(name.replace('--x4--', '--x2--'));
    expect(x1.size).toBeGreaterThan(0);
    for (const [k, us] of x1) if (x2.has(k)) expect(x2.get(k), k).toBe(2 * us);
    const effect: AblationEffect = json(join(dirs.latency, 'summary.json')).ablation;
    expect(effect.agents.map((a) => a.levels.map((l) => l.level))).toEqual([
      ['0.5', '1', '2', '4'],
      ['0.5', '1', '2', '4'],
    ]);
  });

  it('--format md and csv print the effect; json is summary.json', () => {
    const args = ['ablate', 'latency', ...PICK, '--levels', '1,2', '--out', join(tmp, 'fmt')];
    const md = ok([...args, '--format', 'md']);
    expect(md).toMatch(
      /^\| latency x \| episodes \| task success \| vs baseline \| bound\/makespan \| vs baseline \|$/m,
    );
    expect(md).toMatch(/^\| 1 \| 12 \| .* \| baseline \| .* \| baseline \|$/m);
    const csv = ok([...args, '--format', 'csv', '--force']);
    const lines = csv.trim().split('\n');
    expect(lines[0]).toMatch(
      /^agent,level,episodes,success_mean,success_low,success_high,success_n,success_diff_mean,/,
    );
    expect(lines).toHaveLength(1 + 2 * 2);
    const doc = JSON.parse(ok([...args, '--format', 'json', '--force']));
    expect(doc).toEqual(json(join(tmp, 'fmt', 'summary.json')));
    expect(doc.ablation.kind).toBe('latency');
  });
});

describe('ablate tasks', () => {
  it('runs the first k tasks of the instances that have the most tasks asked for', () => {
    const run = json(join(dirs.tasks, 'run.json'));
    const chosen = new Set(run.ablation.variants.map((v: { instance: string }) => v.instance));
    expect(chosen.size).toBeGreaterThan(0);
    for (const v of run.ablation.variants) expect(run.instanceTags[v.id].tasks).toBe(v.level);
    const name = readdirSync(join(dirs.tasks, 'replays')).find((f) => f.includes('--k1--'))!;
    const { scenario } = readReplayFile(join(dirs.tasks, 'replays', name));
    expect(scenario.tasks).toHaveLength(1);
  });

  it('leaves out (and says so) instances with fewer tasks than the largest level', () => {
    const r = tooltime([
      'ablate',
      'tasks',
      '--sample',
      '12',
      '-a',
      'greedy-async',
      '-q',
      '--levels',
      '1,3',
    ]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(
      /^tooltime: \d+ of the 12 chosen instance\(s\) have fewer than 3 tasks and are left out\n$/,
    );
    refused(
      [
        'ablate',
        'tasks',
        '--tag',
        'tasks=2',
        '--limit',
        '2',
        '-a',
        'greedy-async',
        '--levels',
        '1,3',
      ],
      /^tooltime: no chosen instance has 3 tasks/,
    );
  });
});

describe('summarize an ablation', () => {
  it('rebuilds its effect: json is summary.json, text is what ablate printed', () => {
    const doc = ok(['summarize', dirs.mode, '--format', 'json']);
    expect(JSON.parse(doc)).toEqual(json(join(dirs.mode, 'summary.json')));
    const text = ok(['summarize', dirs.mode]);
    expect(modeStdout).toContain(text.trim());
  });
});

describe('ablate --resume', () => {
  const ARGS = [
    'ablate',
    'latency',
    '--sample',
    '12',
    '--seeds',
    '1..2',
    '-a',
    'greedy-async',
    'sequential',
    '-q',
  ];
  const TOTAL = 12 * 4 * 2 * 2;
  it('kill -9 mid-run, then --resume: episodes.jsonl, summary.json and replays are those of the uninterrupted ablation', async () => {
    const ref = join(tmp, 'resume-ref');
    ok([...ARGS, '--out', ref]);
    const out = join(tmp, 'resume-killed');
    const logged = await killAfter(ARGS, out, 40);
    expect(logged).toBeLessThan(TOTAL);
    expect(existsSync(join(out, 'summary.json'))).toBe(false);
    ok([...ARGS, '--out', out, '--resume']);
    expectSameResults(ref, out, TOTAL);
    expect(json(join(out, 'run.json')).ablation).toEqual(json(join(ref, 'run.json')).ablation);
  }, 180_000);

  it('refuses to resume another ablation, or a plain run, in its directory', () => {
    const out = join(tmp, 'resume-ref');
    refused(
      [...ARGS, '--levels', '1,2', '--out', out, '--resume'],
      /^tooltime: --resume: .*run\.json records a different run \(ablation was /,
    );
    refused(
      [
        'run',
        '--sample',
        '12',
        '--seeds',
        '1..2',
        '-a',
        'greedy-async',
        'sequential',
        '-q',
        '--out',
        out,
        '--resume',
      ],
      /^tooltime: --resume: .*run\.json records a different run \(ablation was /,
    );
  });
});

describe('bad input', () => {
  it('a scenario whose tools are scaled already, scaled out of bounds: one line (regression: one line per tool)', () => {
    const doc = JSON.parse(readFileSync(join(ROOT, 'scenarios', 'examples', 'chain.json'), 'utf8'));
    for (const tool of doc.tools) tool.latencyScale = 800;
    const file = join(tmp, 'scaled.json');
    writeFileSync(file, JSON.stringify(doc));
    refused(
      ['ablate', 'latency', file, '--levels', '1,2', '-a', 'greedy-async'],
      /^tooltime: instance example-chain: tool \w+'s latencyScale \(800\) times 2 is 1600, outside \[0\.001, 1000\]/,
    );
  });

  it('is one line naming what is wrong, exit 1', () => {
    refused(
      ['ablate', 'speed'],
      /^tooltime: ablate: the ablation is one of mode, latency, tasks, got "speed"/,
    );
    refused(
      ['ablate', 'mode', '--levels', 'sync,fast'],
      /^tooltime: --levels: the mode ablation's levels are sync, async, poll, got "fast"/,
    );
    refused(
      ['ablate', 'latency', '--levels', '1,0'],
      /^tooltime: --levels: a latency scale is a number from 0\.001 to 1000, got "0"/,
    );
    refused(['ablate', 'latency', '--levels', '1,1.0'], /^tooltime: --levels: 1 is given twice/);
    refused(
      ['ablate', 'latency', '--levels', '2'],
      /^tooltime: --levels needs at least two levels/,
    );
    refused(
      ['ablate', 'tasks', '--levels', '1,2.5'],
      /^tooltime: --levels: a number of tasks is an integer from 1 to 64, got "2.5"/,
    );
    refused(
      ['ablate', 'latency', '--baseline', '3'],
      /^tooltime: --baseline 3 is not one of the levels \(0\.5, 1, 2, 4\)/,
    );
    refused(
      ['ablate', 'mode', '--mode', 'sync'],
      /^tooltime: ablate mode: the levels are the modes; give no --mode or --delivery/,
    );
  });
});
