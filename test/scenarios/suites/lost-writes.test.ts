/**
 * The stateful suite's lossy instances (scenarios/suite/lossy.ts): writes whose responses can be
 * lost. A blind retry (every plan baseline's) applies such a write twice and the task fails by
 * state while its calls still match the reference; the explorer lists before retrying
 * (agents/lost-writes.ts) and succeeds. Deterministic across processes like every episode.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAgent } from '../../../agents/index.js';
import { countMatching, WRITE_CHECKS } from '../../../agents/lost-writes.js';
import { scoreEpisode } from '../../../scenarios/scoring/episode.js';
import { loadScenarioFile } from '../../../scenarios/spec/load.js';
import type { Scenario } from '../../../scenarios/spec/schema.js';
import {
  generateStateful,
  loadStatefulSeeds,
  lossySeeds,
  parseStatefulSeeds,
  planLossySlots,
  shippedStatefulSuiteDir,
} from '../../../scenarios/suite/index.js';
import type { EpisodeEvent } from '../../../scenarios/world/events.js';
import { runEpisode } from '../../../scenarios/world/world.js';
import { tooltime } from '../../support/cli.js';

const dir = shippedStatefulSuiteDir();
const load = (n: string): Scenario => loadScenarioFile(join(dir, `asynctool-stateful-${n}.json`));
const LOSSY = ['0066', '0067', '0068', '0069', '0070', '0071'];
const temps: string[] = [];
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

/** The calls of `tool` for `task`'s step `step`, with how each ended and whether it applied. */
function attempts(events: readonly EpisodeEvent[], task: string, step: string) {
  const ids = events.flatMap((e) =>
    e.type === 'call_issued' && e.task === task && e.step === step ? [e.callId] : [],
  );
  return ids.map((id) => ({
    ok: events.some((e) => e.type === 'call_completed' && e.callId === id && e.ok),
    applied: events.some((e) => e.type === 'state_changed' && e.callId === id),
  }));
}

describe('lossy instances in the stateful suite', () => {
  it('are appended as three similar duals and three tris, their writes with a lost-response failure model', () => {
    const files = loadStatefulSeeds();
    expect(planLossySlots(files).map((s) => s.kinds.join('+'))).toEqual([
      'inbox+inbox',
      'trading+trading',
      'travel+travel',
      'inbox+trading+travel',
      'trading+travel+inbox',
      'travel+inbox+trading',
    ]);
    const generated = generateStateful();
    expect(generated.map((g) => g.id).slice(-6)).toEqual(
      LOSSY.map((n) => `asynctool-stateful-${n}`),
    );
    for (const g of generated) {
      const lossy = LOSSY.some((n) => g.id.endsWith(n));
      expect(g.scenario.tags.failures === 'lost-writes', g.id).toBe(lossy);
      for (const tool of g.scenario.tools) {
        const write = ['send_message', 'place_order', 'book_flight'].includes(tool.name);
        expect(tool.failure?.lostRate, `${g.id} ${tool.name}`).toBe(
          lossy && write ? 0.5 : undefined,
        );
      }
    }
  });

  it('hold only seeds whose goal sees a doubled write (a duplicate welcome message is invisible to its goal)', () => {
    const ids = (kind: string) =>
      lossySeeds(loadStatefulSeeds().find((f) => f.kind === kind)!).map((s) => s.task.id);
    expect(ids('inbox')).toEqual(['ib-reply-alice', 'ib-draft-v2']);
    expect(ids('travel')).toEqual([
      'tv-sfo-lax',
      'tv-paris-insured',
      'tv-budget-chicago',
      'tv-cards-ny',
    ]);
    expect(ids('trading')).toHaveLength(5);
    expect(ids('social')).toEqual([]);
  });
});

describe("a seed file's lostResponses", () => {
  const travel = () =>
    JSON.parse(readFileSync(join(dir, '..', '..', 'stateful', 'travel.seeds.json'), 'utf8')) as {
      lostResponses: { operations: string[]; failure: Record<string, unknown> };
    };

  it('refuses a read-only or unknown operation, in one line naming it', () => {
    for (const op of ['list_bookings', 'teleport']) {
      const doc = travel();
      doc.lostResponses.operations = ['book_flight', op];
      expect(() => parseStatefulSeeds('travel.seeds.json', JSON.stringify(doc))).toThrow(
        new RegExp(
          `^travel\\.seeds\\.json: lostResponses\\.operations\\[1\\]: ${op} is not a state-changing operation of travel$`,
        ),
      );
    }
  });

  it('refuses a failure model out of range, naming the field', () => {
    const doc = travel();
    doc.lostResponses.failure.lostRate = 2;
    expect(() => parseStatefulSeeds('travel.seeds.json', JSON.stringify(doc))).toThrow(
      /^travel\.seeds\.json: lostResponses\.failure\.lostRate: /,
    );
  });
});

describe('a lost booking response (asynctool-stateful-0068, seed 1)', () => {
  const scenario = load('0068');
  const TASK = 'tv-budget-chicago';

  it('greedy-async retries blindly: the booking applies twice, the task fails by state with step F1 1', async () => {
    const ep = await runEpisode(scenario, createAgent('greedy-async'), { seed: 1 });
    expect(attempts(ep.events, TASK, 'book')).toEqual([
      { ok: false, applied: true }, // the lost response
      { ok: true, applied: true }, // the blind retry: a second booking
    ]);
    const score = scoreEpisode(scenario, ep.events);
    const task = score.tasks.find((t) => t.task === TASK)!;
    expect([task.goalMet, task.answerCorrect, task.success]).toEqual([false, true, false]);
    expect(score.steps.f1).toBe(1);
  });

  it('the explorer lists the bookings before retrying, sees the booking, and does not book again', async () => {
    const ep = await runEpisode(scenario, createAgent('explorer'), { seed: 1 });
    expect(attempts(ep.events, TASK, 'book')).toEqual([{ ok: false, applied: true }]);
    const recheck = ep.events.find(
      (e) => e.type === 'call_issued' && e.ref?.startsWith(`${TASK}/recheck-`) === true,
    );
    expect(recheck?.type === 'call_issued' && recheck.tool).toBe('list_bookings');
    // It reads its own task's copy by name (two tasks book on their own copies here).
    expect(recheck?.type === 'call_issued' && recheck.args).toEqual({ task_id: TASK });
    const score = scoreEpisode(scenario, ep.events);
    expect(score.tasks.map((t) => [t.task, t.goalMet, t.success])).toEqual([
      [TASK, true, true],
      ['tv-cards-ny', true, true],
    ]);
  });
});

describe('a transient failure (no effect) on a guarded write (asynctool-stateful-0066, seed 2)', () => {
  it('the explorer finds nothing created, retries, and succeeds; the blind retry is right here too', async () => {
    const scenario = load('0066');
    const ex = await runEpisode(scenario, createAgent('explorer'), { seed: 2 });
    const failed = scenario.tasks.flatMap((t) =>
      t.steps.map((s) => ({ task: t.id, step: s.id, calls: attempts(ex.events, t.id, s.id) })),
    );
    const retried = failed.find((f) => f.calls.length === 2)!;
    expect(retried.calls).toEqual([
      { ok: false, applied: false },
      { ok: true, applied: true },
    ]);
    expect(scoreEpisode(scenario, ex.events).success).toBe(true);
    const gr = await runEpisode(scenario, createAgent('greedy-async'), { seed: 2 });
    expect(scoreEpisode(scenario, gr.events).success).toBe(true);
  });
});

describe('on every lossy instance (seeds 1-3)', () => {
  it('the explorer succeeds on every task; greedy-async fails some, by state, with step F1 near 1', async () => {
    let blindFailed = 0;
    let blindTasks = 0;
    for (const n of LOSSY)
      for (const seed of [1, 2, 3]) {
        const scenario = load(n);
        const ex = scoreEpisode(
          scenario,
          (await runEpisode(scenario, createAgent('explorer'), { seed })).events,
        );
        expect(ex.subtaskSuccessRate, `${n} seed ${seed}`).toBe(1);
        const gr = scoreEpisode(
          scenario,
          (await runEpisode(scenario, createAgent('greedy-async'), { seed })).events,
        );
        blindTasks += gr.tasksTotal;
        for (const t of gr.tasks) if (!t.success) blindFailed += t.goalMet === false ? 1 : 0;
      }
    expect(blindFailed / blindTasks).toBeGreaterThan(0.2);
  });
});

describe('countMatching', () => {
  it('counts the listed items a write would create, by its fields', () => {
    const check = WRITE_CHECKS.inbox!.send_message!;
    const result = {
      messages: [
        { to: 'USR002', text: 'hi' },
        { to: 'USR002', text: 'hi' },
        { to: 'USR003', text: 'hi' },
      ],
    };
    expect(countMatching(check, result, { receiverId: 'USR002', text: 'hi' })).toBe(2);
    expect(countMatching(check, result, { receiverId: 'USR004', text: 'hi' })).toBe(0);
    expect(countMatching(check, 'not a listing', { receiverId: 'USR002', text: 'hi' })).toBe(0);
  });
});

describe('a lossy instance across processes', () => {
  it('records the same replay bytes in two processes for a blind and a checking agent; both verify', () => {
    const file = join(dir, 'asynctool-stateful-0069.json');
    expect(readFileSync(file, 'utf8')).toContain('"lostRate": 0.5');
    const out = mkdtempSync(join(tmpdir(), 'tooltime-lossy-det-'));
    temps.push(out);
    for (const agent of ['greedy-async', 'explorer']) {
      const bytes = ['a', 'b'].map((name) => {
        const path = join(out, `${agent}-${name}.ttr`);
        const r = tooltime(['run', file, '-a', agent, '--seeds', '3..3', '--record', path]);
        expect(r.status, r.stderr).toBe(0);
        return readFileSync(path);
      });
      expect(bytes[0]!.equals(bytes[1]!), agent).toBe(true);
      const verify = tooltime(['replay', 'verify', join(out, `${agent}-a.ttr`)]);
      expect(verify.status, verify.stdout + verify.stderr).toBe(0);
    }
  });
});
