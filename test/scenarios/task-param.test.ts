/**
 * Naming the task a stateful call is for (scenarios/world/environments.ts, TASK_PARAM): the tools
 * of a per-task environment that two or more tasks use list an optional `task_id`; the world
 * routes by it, takes it out of the args the operation sees, matches the call among that task's
 * steps only, and refuses a name that is not one of those tasks as an invalid call. Scoring and
 * replays read the same events the same way.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Action, Observation } from '../../scenarios/protocol.js';
import { scoreEpisode } from '../../scenarios/scoring/episode.js';
import { loadScenarioFile, examplesDir } from '../../scenarios/spec/load.js';
import type { JsonValue, Scenario } from '../../scenarios/spec/schema.js';
import { loadSuite, shippedSuiteDir } from '../../scenarios/suite/files.js';
import { shippedStatefulSuiteDir } from '../../scenarios/suite/index.js';
import { compiledScenario } from '../../scenarios/world/compiled.js';
import { TASK_PARAM } from '../../scenarios/world/environments.js';
import type { EpisodeEvent } from '../../scenarios/world/events.js';
import { runEpisode } from '../../scenarios/world/world.js';
import { recordEpisode } from '../../replays/io/recorder.js';
import { verifyReplay } from '../../replays/commands/verify.js';
import { build, scripted } from '../support/scenarios.js';

/** tv-sfo-lax (arrives first) and tv-paris-insured, each on its own copy of `travel`. */
const TRAVEL = loadScenarioFile(join(shippedStatefulSuiteDir(), 'asynctool-stateful-0032.json'));
const A = 'tv-sfo-lax';
const B = 'tv-paris-insured';

type Call = { tool: string; args: JsonValue; ref?: string };

/** Issues each batch of calls in one decision once the previous batch is back, then answers. */
function batches(steps: Call[][], answers: Record<string, string> = {}) {
  let next = 0;
  return scripted((o: Observation) => {
    if (o.pending.length > 0) return { actions: [{ type: 'wait' }] };
    if (o.openTasks.length < 2 && next === 0) return { actions: [{ type: 'wait' }] };
    if (next < steps.length)
      return { actions: steps[next++]!.map((c) => ({ type: 'call', ...c }) as Action) };
    const actions: Action[] = o.openTasks.map((t) => ({
      type: 'answer',
      task: t.id,
      content: answers[t.id] ?? '',
    }));
    return { actions: actions.length > 0 ? actions : [{ type: 'wait' }] };
  });
}

function issued(events: readonly EpisodeEvent[]) {
  return events.filter(
    (e): e is Extract<EpisodeEvent, { type: 'call_issued' }> => e.type === 'call_issued',
  );
}

function outcome(events: readonly EpisodeEvent[], callId: number) {
  return events.find(
    (e): e is Extract<EpisodeEvent, { type: 'call_completed' }> =>
      e.type === 'call_completed' && e.callId === callId,
  )!;
}

function changedTask(events: readonly EpisodeEvent[], callId: number): string | null | undefined {
  const e = events.find((x) => x.type === 'state_changed' && x.callId === callId);
  return e?.type === 'state_changed' ? e.task : undefined;
}

const SUPPORT = { bookingId: 1, message: 'Is my JFK-LHR flight on time?' };

describe('the task_id parameter in the tools agents see', () => {
  it("is listed, optional, on a per-task environment's tools when two tasks use it, naming them", () => {
    const info = compiledScenario(TRAVEL).toolInfo.find((t) => t.name === 'list_bookings')!;
    const props = info.parameters.properties as Record<string, Record<string, JsonValue>>;
    expect(props[TASK_PARAM]!.enum).toEqual([A, B]);
    expect(props[TASK_PARAM]!.type).toBe('string');
    expect(info.parameters.required ?? []).not.toContain(TASK_PARAM);
    // The scenario's own tool is untouched (validation, the file, the operation's schema).
    const own = TRAVEL.tools.find((t) => t.name === 'list_bookings')!;
    expect(Object.keys(own.parameters.properties as object)).not.toContain(TASK_PARAM);
  });

  it('is not listed on a shared instance, on an environment one task uses, nor on stateless tools', () => {
    const shared = loadScenarioFile(join(examplesDir(), 'shared-env.json'));
    const cross = loadScenarioFile(join(shippedStatefulSuiteDir(), 'asynctool-stateful-0012.json'));
    for (const s of [shared, cross]) {
      const c = compiledScenario(s);
      for (const [i, t] of c.toolInfo.entries()) expect(t.parameters).toBe(s.tools[i]!.parameters);
      for (const t of c.toolInfo)
        expect(Object.keys((t.parameters.properties as object) ?? {})).not.toContain(TASK_PARAM);
    }
  });

  it("leaves the default suite's tools exactly as written (the 720 instances' observations unchanged)", () => {
    for (const inst of loadSuite(shippedSuiteDir()).slice(0, 60)) {
      const c = compiledScenario(inst.scenario);
      for (const [i, t] of c.toolInfo.entries())
        expect(t.parameters).toBe(inst.scenario.tools[i]!.parameters);
    }
  });
});

describe('routing by the named task', () => {
  it("an off-path write naming task B changes B's copy; without a name it changes the first open task's (A)", async () => {
    const agent = batches([
      [{ tool: 'contact_customer_support', args: { ...SUPPORT, [TASK_PARAM]: B }, ref: 'x1' }],
      [{ tool: 'contact_customer_support', args: SUPPORT, ref: 'x2' }],
    ]);
    const ep = await runEpisode(TRAVEL, agent, { seed: 3 });
    const [named, plain] = issued(ep.events);
    expect(named!.args).toEqual({ ...SUPPORT, [TASK_PARAM]: B }); // recorded as sent
    expect(outcome(ep.events, named!.callId).ok).toBe(true);
    expect(changedTask(ep.events, named!.callId)).toBe(B);
    expect(changedTask(ep.events, plain!.callId)).toBe(A);
  });

  it('the named task wins over a ref naming another task', async () => {
    const agent = batches([
      [{ tool: 'contact_customer_support', args: { ...SUPPORT, [TASK_PARAM]: A }, ref: `${B}/x` }],
    ]);
    const ep = await runEpisode(TRAVEL, agent, { seed: 3 });
    expect(changedTask(ep.events, issued(ep.events)[0]!.callId)).toBe(A);
  });

  it("a call naming a task performs only that task's steps: B's booking named for A is off-path on A's copy", async () => {
    const bookB = {
      from: 'LHR',
      to: 'CDG',
      date: '2026-04-02',
      travelClass: 'business',
      cardId: 'card_2',
    };
    const agent = batches([
      [{ tool: 'book_flight', args: { ...bookB, [TASK_PARAM]: A } }],
      [{ tool: 'book_flight', args: { ...bookB, [TASK_PARAM]: B } }],
    ]);
    const ep = await runEpisode(TRAVEL, agent, { seed: 3 });
    const [forA, forB] = issued(ep.events);
    expect([forA!.task, forA!.step]).toEqual([null, null]);
    expect(changedTask(ep.events, forA!.callId)).toBe(A);
    expect([forB!.task, forB!.step]).toEqual([B, 'book']);
    expect(changedTask(ep.events, forB!.callId)).toBe(B);
    // Scoring matches the calls as the world did (the parameter ignored, among the named task's steps).
    const score = scoreEpisode(TRAVEL, ep.events);
    expect(score.calls.map((c) => c.step)).toEqual([null, `${B}/book`]);
  });
});

/** Three tasks with one identical step each, on their own copies; the tool always fails. */
function triple(): Scenario {
  const task = (id: string) => ({
    id,
    arrivalMs: 0,
    message: `check the cards (${id})`,
    steps: [{ id: 'cards', tool: 'list_credit_cards', args: {} }],
    answer: { mustContain: ['card_1'] },
  });
  return build({
    id: 'task-param-triple',
    environments: [{ id: 'travel', kind: 'travel', initial: TRAVEL.environments![0]!.initial }],
    tools: [
      {
        name: 'list_credit_cards',
        latency: { kind: 'constant', ms: 100 },
        failure: { rate: 1 },
        impl: { kind: 'environment', environment: 'travel', operation: 'list_credit_cards' },
      },
    ],
    tasks: [task('t1'), task('t2'), task('t3')],
  });
}

describe('matching among identical steps of several tasks', () => {
  it('a named call takes its own step; unnamed calls take the others in plan order', async () => {
    const call = (task?: string): Call => ({
      tool: 'list_credit_cards',
      args: task === undefined ? {} : { [TASK_PARAM]: task },
    });
    const agent = batches([[call('t2'), call(), call()]]);
    const ep = await runEpisode(triple(), agent, { seed: 1 });
    expect(issued(ep.events).map((e) => e.task)).toEqual(['t2', 't1', 't3']);
  });

  it('a step freed by a failure and then taken by a named call is not given to an unnamed one', async () => {
    const call = (task?: string): Call => ({
      tool: 'list_credit_cards',
      args: task === undefined ? {} : { [TASK_PARAM]: task },
    });
    const agent = batches([[call()], [call('t1'), call()]]);
    const scenario = triple();
    const ep = await runEpisode(scenario, agent, { seed: 1 });
    expect(ep.endReason).not.toBe('errored');
    expect(issued(ep.events).map((e) => e.task)).toEqual(['t1', 't1', 't2']);
    const score = scoreEpisode(scenario, ep.events);
    expect(score.calls.map((c) => c.step)).toEqual(['t1/cards', 't1/cards', 't2/cards']);
  });
});

describe('a task name that is not one of the tasks is a tool error the agent sees', () => {
  const cases: Array<[string, JsonValue]> = [
    ['an unknown task', 'tv-nowhere'],
    ['a task of another environment', 'nope'],
    ['a huge string', 'x'.repeat(1_000_000)],
    ['a number', 7],
    ['an object', { task: A }],
    ['null', null],
  ];
  for (const [what, value] of cases)
    it(`${what}: the call fails at once as invalid, in one short line, and the episode goes on`, async () => {
      const agent = batches([[{ tool: 'list_bookings', args: { [TASK_PARAM]: value } }]]);
      const ep = await runEpisode(TRAVEL, agent, { seed: 2 });
      const [call] = issued(ep.events);
      expect(call!.invalid).toBe(
        `args.${TASK_PARAM} must be one of ${A}, ${B} (the tasks that use this tool's environment)`,
      );
      const done = outcome(ep.events, call!.callId);
      expect(done.ok).toBe(false);
      expect(done.error!.length).toBeLessThan(200);
      expect(ep.endReason).toBe('completed');
    });
});

describe('replays of calls that name their task', () => {
  it('verify re-runs them byte for byte, and the state digests agree', async () => {
    const agent = () =>
      batches([
        [{ tool: 'contact_customer_support', args: { ...SUPPORT, [TASK_PARAM]: B } }],
        [{ tool: 'list_bookings', args: { [TASK_PARAM]: A } }],
      ]);
    const rec = await recordEpisode({ scenario: TRAVEL, agent: agent(), seed: 5 });
    const result = await verifyReplay(rec.bytes!, { makeAgent: () => agent() });
    expect(result.ok, result.ok ? '' : result.reason).toBe(true);
  });
});
