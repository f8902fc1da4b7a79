import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAgent } from '../../../agents/index.js';
import { scoreEpisode } from '../../../scenarios/scoring/episode.js';
import { loadScenarioFile } from '../../../scenarios/spec/load.js';
import type { GoalCheck } from '../../../scenarios/spec/schema.js';
import { validateScenario } from '../../../scenarios/spec/validate.js';
import {
  generateStateful,
  loadStatefulSeeds,
  parseStatefulSeeds,
  seedGoal,
  shippedStatefulSuiteDir,
  STATEFUL_SUITE_SEED,
  suiteStats,
  writeStatefulSuite,
} from '../../../scenarios/suite/index.js';
import { runEpisode } from '../../../scenarios/world/world.js';
import { tooltime } from '../../support/cli.js';

const dir = shippedStatefulSuiteDir();
const KINDS = ['filesystem', 'inbox', 'social', 'tickets', 'trading', 'travel', 'vehicle'];
const temps: string[] = [];
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

const instanceFiles = (): string[] =>
  readdirSync(dir)
    .filter((f) => /^asynctool-stateful-\d{4}\.json$/.test(f))
    .sort();

describe('the stateful seed tasks', () => {
  it('cover every environment with at least 6 seeds, with chains, fan-outs, fan-ins and reads-before-writes', () => {
    const files = loadStatefulSeeds();
    expect(files.map((f) => f.kind)).toEqual(KINDS);
    const patterns = new Set<string>();
    for (const f of files) {
      expect(f.seeds.length, f.kind).toBeGreaterThanOrEqual(6);
      for (const s of f.seeds) patterns.add(s.pattern);
    }
    expect([...patterns].sort()).toEqual(['chain', 'fan-in', 'fan-out', 'read-write']);
  });

  it('refuse a seed file naming an unknown operation, in one line naming the seed', () => {
    const doc = JSON.parse(
      readFileSync(join(dir, '..', '..', 'stateful', 'vehicle.seeds.json'), 'utf8'),
    ) as { seeds: Array<{ task: { steps: Array<{ tool: string }> } }> };
    doc.seeds[1]!.task.steps[0]!.tool = 'fly';
    expect(() => parseStatefulSeeds('vehicle.seeds.json', JSON.stringify(doc))).toThrow(
      /^vehicle\.seeds\.json: seeds\[1\]\.task: no operation fly in vehicle$/,
    );
  });
});

/** Hand-written goals: what each seed's task must leave, written from the task's message. */
const HAND_GOALS: Record<string, GoalCheck[]> = {
  'fs-publish-q3': [
    {
      environment: 'filesystem',
      path: '/reports/q3.csv',
      equals: 'region,revenue\nnorth,120\nsouth,95\n',
    },
    { environment: 'filesystem', path: '/reports/q3-draft.csv', absent: true },
    {
      environment: 'filesystem',
      path: '/archive/q3-draft.csv',
      equals: 'region,revenue\nnorth,120\nsouth,95\n',
    },
  ],
  'fs-error-digest': [
    {
      environment: 'filesystem',
      path: '/reports/errors.txt',
      equals: 'ERROR disk full\nERROR timeout\n',
    },
  ],
  'fs-backup-atlas': [
    {
      environment: 'filesystem',
      path: '/backup',
      equals: {
        'README.md': '# Atlas\nRelease notes live in docs.\n',
        'notes.txt': 'v1 shipped\nv2 planned\n',
      },
    },
  ],
  'ib-reply-alice': [
    { environment: 'inbox', path: '/messages/3/to', equals: 'USR002' },
    { environment: 'inbox', path: '/messages/3/text', equals: 'Q3 revenue is 215' },
    { environment: 'inbox', path: '/messages/4', absent: true },
  ],
  'ib-read-unread': [
    { environment: 'inbox', path: '/messages/0/read', equals: true },
    { environment: 'inbox', path: '/messages/1/read', equals: true },
  ],
  'ib-welcome-dave': [
    { environment: 'inbox', path: '/users/4', equals: { id: 'USR005', name: 'Dave' } },
    { environment: 'inbox', path: '/messages/3/to', equals: 'USR005' },
    { environment: 'inbox', path: '/messages/3/text', equals: 'Welcome to the team' },
  ],
  'so-like-launch': [{ environment: 'social', path: '/likes', equals: [1] }],
  'so-follow-bob': [{ environment: 'social', path: '/following', equals: ['alice', 'bob'] }],
  'so-tidy-follows': [
    { environment: 'social', path: '/following', equals: [] },
    { environment: 'social', path: '/likes', equals: [2] },
  ],
  'tk-fix-printer': [
    { environment: 'tickets', path: '/tickets/0/status', equals: 'closed' },
    { environment: 'tickets', path: '/tickets/0/resolution', equals: 'Cleared the jam' },
  ],
  'tk-retitle-printer': [
    { environment: 'tickets', path: '/tickets/0/title', equals: 'Printer jam on floor 2' },
    { environment: 'tickets', path: '/tickets/0/priority', equals: 3 },
  ],
  'tk-triage': [
    { environment: 'tickets', path: '/tickets/0/assignee', equals: 'alex' },
    { environment: 'tickets', path: '/tickets/0/priority', equals: 3 },
  ],
  'tr-buy-nvda': [
    { environment: 'trading', path: '/holdings', equals: { MSFT: 10, NVDA: 10 } },
    { environment: 'trading', path: '/cashCents', equals: 1_000_000 - 10 * 22_034 },
    { environment: 'trading', path: '/orders/0/status', equals: 'filled' },
    { environment: 'trading', path: '/orders/1', absent: true },
  ],
  'tr-rewatch': [{ environment: 'trading', path: '/watchlist', equals: ['TSLA'] }],
  'tr-fund-tesla': [
    { environment: 'trading', path: '/cashCents', equals: 1_500_000 - 20 * 66_792 },
    { environment: 'trading', path: '/holdings', equals: { MSFT: 10, TSLA: 20 } },
    { environment: 'trading', path: '/orders/1', absent: true },
  ],
  'tv-budget-chicago': [
    { environment: 'travel', path: '/budgetCents', equals: 200_000 },
    {
      environment: 'travel',
      path: '/bookings',
      equals: [
        {
          id: 1,
          cardId: 'card_1',
          from: 'JFK',
          to: 'LHR',
          date: '2026-02-20',
          travelClass: 'economy',
          fareCents: 90_000,
          insurance: null,
          status: 'booked',
        },
        {
          id: 2,
          cardId: 'card_1',
          from: 'JFK',
          to: 'ORD',
          date: '2026-05-01',
          travelClass: 'economy',
          fareCents: 30_000,
          insurance: null,
          status: 'booked',
        },
      ],
    },
    {
      environment: 'travel',
      path: '/cards',
      equals: [
        { id: 'card_1', holder: 'Me', last4: '4242', balanceCents: 270_000 },
        { id: 'card_2', holder: 'Me', last4: '1881', balanceCents: 100_000 },
      ],
    },
  ],
  'tv-cancel-london': [
    {
      environment: 'travel',
      path: '/bookings',
      equals: [
        {
          id: 1,
          cardId: 'card_1',
          from: 'JFK',
          to: 'LHR',
          date: '2026-02-20',
          travelClass: 'economy',
          fareCents: 90_000,
          insurance: null,
          status: 'cancelled',
        },
      ],
    },
    {
      environment: 'travel',
      path: '/cards',
      equals: [
        { id: 'card_1', holder: 'Me', last4: '4242', balanceCents: 390_000 },
        { id: 'card_2', holder: 'Me', last4: '1881', balanceCents: 100_000 },
      ],
    },
    {
      environment: 'travel',
      path: '/supportRequests/0/message',
      equals: 'Please confirm the refund',
    },
    { environment: 'travel', path: '/supportRequests/1', absent: true },
  ],
};

describe('goals computed from the references', () => {
  it('equal the hand-written goals (at least 2 seeds per environment with goal paths)', () => {
    const perKind = new Map<string, number>();
    for (const file of loadStatefulSeeds())
      for (const seed of file.seeds) {
        const id = String(seed.task.id);
        const want = HAND_GOALS[id];
        if (want === undefined) continue;
        expect(seedGoal(file, seed), id).toEqual(want);
        perKind.set(file.kind, (perKind.get(file.kind) ?? 0) + 1);
      }
    for (const kind of KINDS.filter((k) => k !== 'vehicle'))
      expect(perKind.get(kind) ?? 0, kind).toBeGreaterThanOrEqual(2);
  });

  it("carry the same goal into each seed task's first instance", () => {
    const seen = new Set<string>();
    for (const f of instanceFiles()) {
      const scenario = loadScenarioFile(join(dir, f));
      for (const task of scenario.tasks) {
        if (seen.has(task.id) || HAND_GOALS[task.id] === undefined) continue;
        seen.add(task.id);
        expect(task.goal, `${f}: ${task.id}`).toEqual(HAND_GOALS[task.id]);
      }
    }
    expect([...seen].sort()).toEqual(Object.keys(HAND_GOALS).sort());
  });

  it('on vehicle (no goal paths: the whole final state), the goal is the default (the whole final state) and greedy-async meets it', async () => {
    const file = instanceFiles().find((f) =>
      readFileSync(join(dir, f), 'utf8').includes('"id": "vh-start"'),
    )!;
    const scenario = loadScenarioFile(join(dir, file));
    expect(scenario.tasks.find((t) => t.id === 'vh-start')!.goal).toBeUndefined();
    const episode = await runEpisode(scenario, createAgent('greedy-async'), { seed: 1 });
    const score = scoreEpisode(scenario, episode.events);
    expect(score.tasks.find((t) => t.task === 'vh-start')).toMatchObject({
      goalMet: true,
      success: true,
    });
  });
});

describe('the shipped asynctool-stateful suite', () => {
  it('is exactly what the generator writes for its seed (every file byte-identical)', () => {
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as {
      generator: { seed: number; command: string };
    };
    expect(index.generator.seed).toBe(STATEFUL_SUITE_SEED);
    const out = mkdtempSync(join(tmpdir(), 'tooltime-stateful-'));
    temps.push(out);
    writeStatefulSuite(out, index.generator.seed);
    const shipped = readdirSync(dir)
      .filter((f) => f !== 'README.md')
      .sort();
    expect(shipped).toEqual(readdirSync(out).sort());
    for (const f of shipped)
      if (readFileSync(join(out, f), 'utf8') !== readFileSync(join(dir, f), 'utf8'))
        expect.fail(`${f} differs: regenerate with "${index.generator.command} --out ${dir}"`);
  });

  it('has dual and tri instances, some on a shared environment, and every one validates', () => {
    const files = instanceFiles();
    expect(files.length).toBe(generateStateful().length);
    const tasks = new Map<number, number>();
    let shared = 0;
    for (const f of files) {
      const doc = JSON.parse(readFileSync(join(dir, f), 'utf8')) as {
        tasks: unknown[];
        environments: Array<{ shared?: boolean }>;
      };
      expect(validateScenario(doc), f).toEqual([]);
      tasks.set(doc.tasks.length, (tasks.get(doc.tasks.length) ?? 0) + 1);
      if (doc.environments.some((e) => e.shared === true)) shared++;
    }
    expect([...tasks.keys()].sort()).toEqual([2, 3]);
    expect(shared).toBeGreaterThanOrEqual(4);
  });

  it('passes its balance checks (suite stats --check)', () => {
    const stats = suiteStats(dir);
    expect(stats.checks.map((c) => c.dimension)).toContain('state');
    expect(stats.checks.filter((c) => !c.ok)).toEqual([]);
  });

  it('a stray value in another task\'s result does not make a step a violation (regression: "buy 10" and a fuel level of 10)', async () => {
    // tr-buy-nvda's message says "buy 10"; vh-secure's status result holds fuelGallons 10 before
    // the order is placed. A number the request text holds is the agent's own.
    const file = instanceFiles().find((f) => {
      const text = readFileSync(join(dir, f), 'utf8');
      return text.includes('"seeds": "fs-beacon-prod,tr-buy-nvda,vh-secure"');
    })!;
    const scenario = loadScenarioFile(join(dir, file));
    const episode = await runEpisode(scenario, createAgent('greedy-async'), { seed: 1 });
    const score = scoreEpisode(scenario, episode.events);
    expect(score.tasks.map((t) => t.violations)).toEqual([0, 0, 0]);
    expect(score.success).toBe(true);
  });
});

describe('baselines on the stateful suite (a sample: every 5th instance)', () => {
  const sample = (): string[] => instanceFiles().filter((_, i) => i % 5 === 0);
  const runAll = async (spec: string) => {
    const agent = createAgent(spec);
    const scores = [];
    for (const f of sample()) {
      const scenario = loadScenarioFile(join(dir, f));
      const episode = await runEpisode(scenario, agent, { seed: 1 });
      scores.push({ file: f, score: scoreEpisode(scenario, episode.events) });
    }
    return scores;
  };

  it('every plan baseline and the explorer reach every goal (the failure-mode agents are the ones that miss)', async () => {
    for (const spec of [
      'sequential',
      'parallel-sync',
      'greedy-async',
      'round-robin',
      'critical-path',
      'explorer',
    ])
      for (const { file, score } of await runAll(spec))
        expect(score.success, `${spec} on ${file}`).toBe(true);
    const hasty = await runAll('hasty');
    expect(hasty.some(({ score }) => !score.success)).toBe(true);
  });

  it('the explorer succeeds at sub-task level with lower step F1: its probes are calls off the reference', async () => {
    const scores = await runAll('explorer');
    let explored = 0;
    for (const { file, score } of scores) {
      expect(score.subtaskSuccessRate, file).toBe(1);
      expect(score.steps.recall, file).toBe(1);
      expect(score.steps.dependencyViolations, file).toBe(0);
      // A probe that some task's plan makes anyway is skipped, so an instance may have none.
      if (score.steps.unmatchedCalls > 0) explored++;
      expect(score.steps.f1 < 1, file).toBe(score.steps.unmatchedCalls > 0);
    }
    expect(explored).toBeGreaterThanOrEqual(Math.ceil(scores.length * 0.8));
    const meanF1 = scores.reduce((a, { score }) => a + score.steps.f1, 0) / scores.length;
    expect(meanF1).toBeLessThan(0.95);
  });

  it('the explorer is greedy-async exactly on a stateless scenario (no environment to look at)', async () => {
    const scenario = loadScenarioFile(join(dir, '..', '..', 'examples', 'diamond.json'));
    const a = await runEpisode(scenario, createAgent('explorer'), { seed: 3 });
    const b = await runEpisode(scenario, createAgent('greedy-async'), { seed: 3 });
    // The first event names the agent; every one after it is the same.
    expect(JSON.stringify(a.events.slice(1))).toBe(JSON.stringify(b.events.slice(1)));
  });
});

describe('a shared-environment instance across processes', () => {
  it('records the same replay bytes in two processes, and the replay verifies (tooltime CLI)', () => {
    const file = join(dir, 'asynctool-stateful-0064.json');
    expect(readFileSync(file, 'utf8')).toContain('"shared": true');
    const out = mkdtempSync(join(tmpdir(), 'tooltime-stateful-det-'));
    temps.push(out);
    const bytes = ['a', 'b'].map((name) => {
      const path = join(out, `${name}.ttr`);
      const r = tooltime(['run', file, '-a', 'explorer', '--seeds', '7..7', '--record', path]);
      expect(r.status, r.stderr).toBe(0);
      return readFileSync(path);
    });
    expect(bytes[0]!.equals(bytes[1]!)).toBe(true);
    const verify = tooltime(['replay', 'verify', join(out, 'a.ttr')]);
    expect(verify.status, verify.stdout + verify.stderr).toBe(0);
  });
});
