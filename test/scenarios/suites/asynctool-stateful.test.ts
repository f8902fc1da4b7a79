import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAgent } from '../../../agents/index.js';
import { scoreEpisode } from '../../../scenarios/scoring/episode.js';
import { loadScenarioFile } from '../../../scenarios/spec/load.js';
import { referenceStates } from '../../../scenarios/spec/authoring.js';
import type { GoalCheck, JsonValue } from '../../../scenarios/spec/schema.js';
import { validateScenario } from '../../../scenarios/spec/validate.js';
import {
  generateStateful,
  loadStatefulSeeds,
  parseStatefulSeeds,
  seedGoal,
  shippedStatefulSuiteDir,
  STATEFUL_SUITE_SEED,
  statefulSeedScenario,
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

/** Travel's initial booking 1, as the seed file gives it. */
const LONDON_BOOKING = {
  id: 1,
  cardId: 'card_1',
  from: 'JFK',
  to: 'LHR',
  date: '2026-02-20',
  travelClass: 'economy',
  fareCents: 90_000,
  insurance: null,
  status: 'booked',
};

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
  'fs-publish-q4': [
    {
      environment: 'filesystem',
      path: '/reports/q4.csv',
      equals: 'region,revenue\nnorth,140\nsouth,88\n',
    },
    { environment: 'filesystem', path: '/reports/q4-draft.csv', absent: true },
    {
      environment: 'filesystem',
      path: '/archive/q4-draft.csv',
      equals: 'region,revenue\nnorth,140\nsouth,88\n',
    },
  ],
  'fs-rotate-logs': [
    { environment: 'filesystem', path: '/logs/old.log', absent: true },
    { environment: 'filesystem', path: '/logs/ROTATED', equals: 'old.log archived\n' },
    { environment: 'filesystem', path: '/archive/old.log', equals: 'INFO archived\n' },
  ],
  'fs-beacon-prod': [
    {
      environment: 'filesystem',
      path: '/projects/beacon',
      equals: {
        'config.yaml': 'port: 8080\nmode: production\n',
        CHANGELOG: 'mode set to production\n',
      },
    },
  ],
  'fs-notes': [{ environment: 'filesystem', path: '/notes', equals: { 'todo.txt': 'call Ana\n' } }],
  'ib-lunch-reply': [
    { environment: 'inbox', path: '/messages/1/read', equals: true },
    { environment: 'inbox', path: '/messages/3/to', equals: 'USR003' },
    { environment: 'inbox', path: '/messages/3/text', equals: 'Friday works' },
  ],
  'ib-delete-draft': [
    {
      environment: 'inbox',
      path: '/messages',
      equals: [
        {
          id: 1,
          from: 'USR002',
          to: 'USR001',
          text: 'Can you send me the Q3 revenue?',
          read: false,
          sentAtUs: 0,
        },
        { id: 2, from: 'USR003', to: 'USR001', text: 'Lunch on Friday?', read: false, sentAtUs: 0 },
      ],
    },
  ],
  'ib-draft-v2': [
    // The new message (id 4) is appended, then message 3 (index 2) is deleted: 4 moves to index 2.
    { environment: 'inbox', path: '/messages/2/to', equals: 'USR004' },
    { environment: 'inbox', path: '/messages/2/text', equals: 'Draft v2 is ready' },
    { environment: 'inbox', path: '/messages/3', absent: true },
  ],
  'so-announce': [
    { environment: 'social', path: '/posts/3/content', equals: 'Atlas 2.0 is live' },
    { environment: 'social', path: '/posts/3/tags', equals: ['#launch'] },
    { environment: 'social', path: '/following', equals: ['alice', 'carol'] },
  ],
  'so-congrats': [
    { environment: 'social', path: '/comments/0/postId', equals: 1 },
    { environment: 'social', path: '/comments/0/content', equals: 'Congrats!' },
    { environment: 'social', path: '/shares', equals: [1] },
  ],
  'so-delete-hello': [
    {
      environment: 'social',
      path: '/posts',
      equals: [
        {
          id: 1,
          author: 'alice',
          content: 'Launching Atlas today #launch',
          tags: ['#launch'],
          mentions: [],
          createdAtUs: 0,
        },
        {
          id: 2,
          author: 'bob',
          content: 'Coffee chat at 3? #team',
          tags: ['#team'],
          mentions: [],
          createdAtUs: 0,
        },
      ],
    },
  ],
  'tk-email-outage': [
    { environment: 'tickets', path: '/tickets/3/title', equals: 'Email outage' },
    { environment: 'tickets', path: '/tickets/3/priority', equals: 4 },
    { environment: 'tickets', path: '/tickets/3/assignee', equals: 'ops' },
    { environment: 'tickets', path: '/tickets/3/status', equals: 'open' },
  ],
  'tk-escalate-vpn': [
    { environment: 'tickets', path: '/tickets/1/priority', equals: 4 },
    {
      environment: 'tickets',
      path: '/tickets/1/comments/0/text',
      equals: 'Escalated, the whole team is affected',
    },
    { environment: 'tickets', path: '/tickets/1/comments/1', absent: true },
  ],
  'tk-reopen-reset': [
    { environment: 'tickets', path: '/tickets/2/status', equals: 'open' },
    { environment: 'tickets', path: '/tickets/2/resolution', equals: null },
    { environment: 'tickets', path: '/tickets/2/comments/0/text', equals: 'Reset did not work' },
  ],
  'tr-trim-msft': [
    { environment: 'trading', path: '/holdings', equals: { MSFT: 5 } },
    { environment: 'trading', path: '/cashCents', equals: 1_000_000 + 5 * 31_023 },
    { environment: 'trading', path: '/orders/1', absent: true },
  ],
  'tr-limit-cancel': [
    // $200 is below AAPL's $227.16: the order stays open, reserves 5 x $200, and the cancel
    // gives the reservation back.
    { environment: 'trading', path: '/orders/0/status', equals: 'cancelled' },
    { environment: 'trading', path: '/cashCents', equals: 1_000_000 },
    { environment: 'trading', path: '/orders/1', absent: true },
  ],
  'tr-ford': [
    { environment: 'trading', path: '/holdings', equals: { MSFT: 10, F: 100 } },
    { environment: 'trading', path: '/cashCents', equals: 1_000_000 - 100 * 1_085 },
    { environment: 'trading', path: '/watchlist', equals: ['AAPL', 'F'] },
    { environment: 'trading', path: '/orders/1', absent: true },
  ],
  'tv-sfo-lax': [
    {
      environment: 'travel',
      path: '/bookings',
      equals: [
        LONDON_BOOKING,
        {
          id: 2,
          cardId: 'card_1',
          from: 'SFO',
          to: 'LAX',
          date: '2026-03-10',
          travelClass: 'economy',
          fareCents: 20_000,
          insurance: null,
          status: 'booked',
        },
      ],
    },
    {
      environment: 'travel',
      path: '/cards',
      equals: [
        { id: 'card_1', holder: 'Me', last4: '4242', balanceCents: 300_000 - 20_000 },
        { id: 'card_2', holder: 'Me', last4: '1881', balanceCents: 100_000 },
      ],
    },
  ],
  'tv-paris-insured': [
    {
      environment: 'travel',
      path: '/bookings',
      equals: [
        LONDON_BOOKING,
        {
          id: 2,
          cardId: 'card_2',
          from: 'LHR',
          to: 'CDG',
          date: '2026-04-02',
          travelClass: 'business',
          fareCents: 2 * 10_000,
          insurance: { type: 'basic', costCents: 1_000, cardId: 'card_2' },
          status: 'booked',
        },
      ],
    },
    {
      environment: 'travel',
      path: '/cards',
      equals: [
        { id: 'card_1', holder: 'Me', last4: '4242', balanceCents: 300_000 },
        { id: 'card_2', holder: 'Me', last4: '1881', balanceCents: 100_000 - 20_000 - 1_000 },
      ],
    },
  ],
  'tv-cards-ny': [
    {
      environment: 'travel',
      path: '/bookings',
      equals: [
        LONDON_BOOKING,
        {
          id: 2,
          cardId: 'card_1',
          from: 'SFO',
          to: 'JFK',
          date: '2026-06-15',
          travelClass: 'economy',
          fareCents: 50_000,
          insurance: null,
          status: 'booked',
        },
      ],
    },
    {
      environment: 'travel',
      path: '/cards',
      equals: [
        { id: 'card_1', holder: 'Me', last4: '4242', balanceCents: 300_000 - 50_000 },
        { id: 'card_2', holder: 'Me', last4: '1881', balanceCents: 100_000 },
      ],
    },
  ],
  'tv-insure-london': [
    {
      environment: 'travel',
      path: '/bookings',
      equals: [
        {
          ...LONDON_BOOKING,
          insurance: { type: 'comprehensive', costCents: 10_800, cardId: 'card_2' },
        },
      ],
    },
    {
      environment: 'travel',
      path: '/cards',
      equals: [
        { id: 'card_1', holder: 'Me', last4: '4242', balanceCents: 300_000 },
        { id: 'card_2', holder: 'Me', last4: '1881', balanceCents: 100_000 - 10_800 },
      ],
    },
    { environment: 'travel', path: '/supportRequests/0/message', equals: 'I need a wheelchair' },
  ],
};

/**
 * Vehicle seeds have no goal paths: their goal is the whole final state, written here in full
 * from each seed's steps (initial state: engine stopped, 10 of 50 gallons, 20 mpg, 12.6 V, every
 * door unlocked, brake pedal released, parking brake engaged, P, standing, cruise off, 22 C auto
 * with the fan at 50).
 */
const HAND_FINAL_STATES: Record<string, JsonValue> = {
  // lock all, press the brake (speed 0, cruise off), start.
  'vh-start': {
    engine: 'running',
    fuelGallons: 10,
    tankCapacityGallons: 50,
    milesPerGallon: 20,
    batteryVolts: 12.6,
    doors: { driver: 'locked', passenger: 'locked', rear_left: 'locked', rear_right: 'locked' },
    brakePedal: 'pressed',
    parkingBrake: 'engaged',
    gear: 'P',
    speedKph: 0,
    cruiseSpeedKph: null,
    climate: { temperatureC: 22, fanSpeed: 50, mode: 'auto' },
  },
  // status and range are read-only; 10 + 30 gallons fits the 50-gallon tank.
  'vh-refuel': {
    engine: 'stopped',
    fuelGallons: 40,
    tankCapacityGallons: 50,
    milesPerGallon: 20,
    batteryVolts: 12.6,
    doors: {
      driver: 'unlocked',
      passenger: 'unlocked',
      rear_left: 'unlocked',
      rear_right: 'unlocked',
    },
    brakePedal: 'released',
    parkingBrake: 'engaged',
    gear: 'P',
    speedKph: 0,
    cruiseSpeedKph: null,
    climate: { temperatureC: 22, fanSpeed: 50, mode: 'auto' },
  },
  // started, in D, both brakes released, driving at 50 (no fuel is spent by driving).
  'vh-drive': {
    engine: 'running',
    fuelGallons: 10,
    tankCapacityGallons: 50,
    milesPerGallon: 20,
    batteryVolts: 12.6,
    doors: { driver: 'locked', passenger: 'locked', rear_left: 'locked', rear_right: 'locked' },
    brakePedal: 'released',
    parkingBrake: 'released',
    gear: 'D',
    speedKph: 50,
    cruiseSpeedKph: null,
    climate: { temperatureC: 22, fanSpeed: 50, mode: 'auto' },
  },
  // 72 F = (72 - 32) x 5 / 9 = 22.2 C (rounded to a tenth); the mode stays auto.
  'vh-climate': {
    engine: 'stopped',
    fuelGallons: 10,
    tankCapacityGallons: 50,
    milesPerGallon: 20,
    batteryVolts: 12.6,
    doors: { driver: 'locked', passenger: 'locked', rear_left: 'locked', rear_right: 'locked' },
    brakePedal: 'released',
    parkingBrake: 'engaged',
    gear: 'P',
    speedKph: 0,
    cruiseSpeedKph: null,
    climate: { temperatureC: 22.2, fanSpeed: 30, mode: 'auto' },
  },
  // as vh-drive at 80, then cruise control on at 90 sets the speed to 90.
  'vh-cruise': {
    engine: 'running',
    fuelGallons: 10,
    tankCapacityGallons: 50,
    milesPerGallon: 20,
    batteryVolts: 12.6,
    doors: { driver: 'locked', passenger: 'locked', rear_left: 'locked', rear_right: 'locked' },
    brakePedal: 'released',
    parkingBrake: 'released',
    gear: 'D',
    speedKph: 90,
    cruiseSpeedKph: 90,
    climate: { temperatureC: 22, fanSpeed: 50, mode: 'auto' },
  },
  // only the front doors are locked; status and range are read-only.
  'vh-secure': {
    engine: 'stopped',
    fuelGallons: 10,
    tankCapacityGallons: 50,
    milesPerGallon: 20,
    batteryVolts: 12.6,
    doors: {
      driver: 'locked',
      passenger: 'locked',
      rear_left: 'unlocked',
      rear_right: 'unlocked',
    },
    brakePedal: 'released',
    parkingBrake: 'engaged',
    gear: 'P',
    speedKph: 0,
    cruiseSpeedKph: null,
    climate: { temperatureC: 22, fanSpeed: 50, mode: 'auto' },
  },
};

describe('goals computed from the references', () => {
  const seedIds = (): string[] =>
    loadStatefulSeeds()
      .flatMap((f) => f.seeds.map((s) => String(s.task.id)))
      .sort();

  it('every seed task has a hand-written goal (a whole final state on vehicle), equal to the one computed from its reference', () => {
    for (const file of loadStatefulSeeds())
      for (const seed of file.seeds) {
        const id = String(seed.task.id);
        if (seed.goalPaths === undefined) {
          // No goal paths: the goal is the whole state the reference leaves.
          expect(seedGoal(file, seed), id).toBeUndefined();
          expect(HAND_FINAL_STATES[id], `${id}: no hand-written final state`).toBeDefined();
          const states = referenceStates(statefulSeedScenario(file, seed), id);
          expect(states.get(file.kind), id).toEqual(HAND_FINAL_STATES[id]);
        } else {
          expect(HAND_GOALS[id], `${id}: no hand-written goal`).toBeDefined();
          expect(seedGoal(file, seed), id).toEqual(HAND_GOALS[id]);
        }
      }
    const hand = [...Object.keys(HAND_GOALS), ...Object.keys(HAND_FINAL_STATES)].sort();
    expect(hand).toEqual(seedIds());
    expect(hand.length).toBe(43);
  });

  it("carry the same goal into every seed task's first instance", () => {
    const seen = new Set<string>();
    for (const f of instanceFiles()) {
      const scenario = loadScenarioFile(join(dir, f));
      for (const task of scenario.tasks) {
        if (seen.has(task.id)) continue;
        seen.add(task.id);
        const whole = HAND_FINAL_STATES[task.id];
        if (whole === undefined) {
          expect(task.goal, `${f}: ${task.id}`).toEqual(HAND_GOALS[task.id]);
          continue;
        }
        // The default goal: the whole state its reference leaves on the one environment it uses.
        expect(task.goal, `${f}: ${task.id}`).toBeUndefined();
        const states = referenceStates(scenario, task.id);
        expect([...states.keys()], `${f}: ${task.id}`).toEqual(['vehicle']);
        expect(states.get('vehicle'), `${f}: ${task.id}`).toEqual(whole);
      }
    }
    expect([...seen].sort()).toEqual(seedIds());
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

  // Instances whose writes can lose responses: a blind retry (every plan baseline's) may apply a
  // write twice there (lost-writes.test.ts), and the explorer's confirmed writes are unmatched steps.
  const lossy = (file: string): boolean =>
    readFileSync(join(dir, file), 'utf8').includes('"lostRate"');

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
        if (spec === 'explorer' || !lossy(file))
          expect(score.success, `${spec} on ${file}`).toBe(true);
    const hasty = await runAll('hasty');
    expect(hasty.some(({ score }) => !score.success)).toBe(true);
  });

  it('the explorer succeeds at sub-task level with lower step F1: its probes are calls off the reference', async () => {
    const scores = await runAll('explorer');
    let explored = 0;
    for (const { file, score } of scores) {
      expect(score.subtaskSuccessRate, file).toBe(1);
      if (!lossy(file)) expect(score.steps.recall, file).toBe(1);
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
