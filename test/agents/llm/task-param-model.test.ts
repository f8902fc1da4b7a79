/**
 * A model names the task its exploring call is for (scenarios/world/environments.ts, TASK_PARAM).
 * On asynctool-stateful-0032 two travel tasks each have their own copy of the environment; the
 * scripted model books task B's flight, then lists bookings naming task B while task A is still
 * open. The listing must show B's copy (the LHR-CDG booking): routed by its ref (the tool-call id)
 * alone, it went to A's copy, the first open task's. The episode is recorded, the server shut
 * down, and it verifies offline.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { llmAgentFactory, makeReplayAgent } from '../../../agents/index.js';
import { readReplay, recordEpisode, verifyReplay } from '../../../replays/index.js';
import { scoreEpisode } from '../../../scenarios/scoring/episode.js';
import { loadScenarioFile } from '../../../scenarios/spec/load.js';
import { shippedStatefulSuiteDir } from '../../../scenarios/suite/index.js';
import type { EpisodeEvent } from '../../../scenarios/world/events.js';
import {
  idsFor,
  ok,
  startChatServer,
  transcript,
  type ChatRequest,
  type ChatServer,
  type ServerReply,
  TEST_KEY,
  wallClock,
} from '../../support/llm-server.js';

const KEY = TEST_KEY;
const clock = wallClock;
const scenario = loadScenarioFile(join(shippedStatefulSuiteDir(), 'asynctool-stateful-0032.json'));
const A = 'tv-sfo-lax';
const B = 'tv-paris-insured';

const FARE_A = { from: 'SFO', to: 'LAX', date: '2026-03-10', travelClass: 'economy' };
const BOOK_A = { ...FARE_A, cardId: 'card_1' };
const BOOK_B = {
  from: 'LHR',
  to: 'CDG',
  date: '2026-04-02',
  travelClass: 'business',
  cardId: 'card_2',
};
const LIST_B = { task_id: B };
const INSURE_B = { bookingId: 2, insuranceType: 'basic', cardId: 'card_2' };
const resultOf = (name: string, args: object) => `${name}(${JSON.stringify(args)}): `;

/** Each call, once every text it needs is in the conversation (results are named by their args). */
const PLAN: ReadonlyArray<{ needs: string[]; name: string; args: Record<string, unknown> }> = [
  { needs: [`New task ${A}`], name: 'get_flight_cost', args: FARE_A },
  { needs: [resultOf('get_flight_cost', FARE_A)], name: 'book_flight', args: BOOK_A },
  { needs: [`New task ${B}`], name: 'get_nearest_airport', args: { city: 'London' } },
  {
    needs: [resultOf('get_nearest_airport', { city: 'London' })],
    name: 'book_flight',
    args: BOOK_B,
  },
  // The exploring read: A is still open (answered last), so only the name routes it to B.
  { needs: [resultOf('book_flight', BOOK_B)], name: 'list_bookings', args: LIST_B },
  { needs: [resultOf('list_bookings', LIST_B)], name: 'purchase_insurance', args: INSURE_B },
  {
    needs: [resultOf('purchase_insurance', INSURE_B), resultOf('book_flight', BOOK_A)],
    name: 'answer',
    args: { task_id: B, answer: 'booking 2' },
  },
  {
    needs: [resultOf('purchase_insurance', INSURE_B), resultOf('book_flight', BOOK_A)],
    name: 'answer',
    args: { task_id: A, answer: 'The fare is $200' },
  },
];

function taskNamingModel(request: ChatRequest): ServerReply {
  const msgs = transcript(request);
  const seen = msgs
    .filter((m) => m.role === 'user' || m.role === 'tool')
    .map((m) => m.content)
    .join('\n');
  const issued = (name: string, args: Record<string, unknown>) =>
    msgs.some((m) => m.calls.some((c) => c.name === name && c.args === JSON.stringify(args)));
  const id = idsFor(request);
  const next = PLAN.find((p) => p.needs.every((n) => seen.includes(n)) && !issued(p.name, p.args));
  if (next !== undefined) return ok({ toolCalls: [{ name: next.name, args: next.args, id }] });
  return ok({ toolCalls: [{ name: 'wait', args: {}, id }] });
}

let server: ChatServer | undefined;
afterAll(async () => {
  await server?.close();
});

function callNamed(events: readonly EpisodeEvent[], tool: string) {
  return events.find(
    (e): e is Extract<EpisodeEvent, { type: 'call_issued' }> =>
      e.type === 'call_issued' && e.tool === tool,
  )!;
}

/** The model agent of these tests, on the test server at `url`. */
function modelAgent(url: string) {
  return llmAgentFactory({
    baseURL: url,
    apiKey: KEY,
    thinkProfile: { ttftMs: 100, prefillUsPerToken: 1, decodeTokensPerS: 1000 },
    maxRetries: 1,
    sleep: () => Promise.resolve(),
    clock,
  })('openai:test-model');
}

describe('a model names the task its exploring call is for', () => {
  it("its listing naming task B reads B's copy while A is open; the episode verifies offline", async () => {
    server = await startChatServer(taskNamingModel);
    const agent = modelAgent(server.url);
    const { bytes } = await recordEpisode({ scenario, agent, seed: 4, mode: 'async' });
    // The model was told it may name the task, and which tasks it may name.
    const listTool = server.requests[0]!.body.tools!.find(
      (t) => t.function?.name === 'list_bookings',
    )!;
    expect(listTool.function.parameters.properties.task_id.enum).toEqual([A, B]);
    await server.close();
    server = undefined;
    const read = readReplay(bytes!);
    const list = callNamed(read.events, 'list_bookings');
    expect(list.invalid).toBeNull();
    const listed = read.events.find((e) => e.type === 'call_completed' && e.callId === list.callId);
    const text = JSON.stringify(listed?.type === 'call_completed' ? listed.result : null);
    expect(text).toContain('"to":"CDG"');
    expect(text).not.toContain('"to":"LAX"');
    // A was open when the listing was issued: the name, not the open tasks, chose the copy.
    const answerA = read.events.findIndex((e) => e.type === 'answer_given' && e.task === A);
    expect(read.events.indexOf(list)).toBeLessThan(answerA);
    const result = await verifyReplay(bytes!, { makeAgent: makeReplayAgent });
    expect(
      result.ok,
      result.ok ? '' : `${result.reason} ${JSON.stringify(result.divergence)}`,
    ).toBe(true);
    const score = scoreEpisode(scenario, read.events);
    expect(score.tasks.map((t) => [t.task, t.goalMet, t.success])).toEqual([
      [A, true, true],
      [B, true, true],
    ]);
    // The listing is the one call off the reference trajectory.
    expect(score.steps.unmatchedCalls).toBe(1);
  });

  it('a hostile task_id (a 200 kB string, a number) is an invalid call the model is told about in one short line', async () => {
    const HUGE = 'x'.repeat(200_000);
    const hostile = (request: ChatRequest): ServerReply => {
      const id = idsFor(request);
      const hit = request.hit;
      if (hit === 0)
        return ok({
          toolCalls: [
            { name: 'list_bookings', args: { task_id: HUGE }, id: `${id}_a` },
            { name: 'list_bookings', args: { task_id: 7 }, id: `${id}_b` },
          ],
        });
      // Then each task is answered once it has arrived, so the episode ends soon.
      const msgs = transcript(request);
      const seen = msgs.map((m) => m.content).join('\n');
      const answered = (t: string) =>
        msgs.some((m) => m.calls.some((c) => c.name === 'answer' && c.args.includes(t)));
      const due = [A, B].find((t) => seen.includes(`New task ${t}`) && !answered(t));
      return due === undefined
        ? ok({ toolCalls: [{ name: 'wait', args: {}, id }] })
        : ok({ toolCalls: [{ name: 'answer', args: { task_id: due, answer: '200' }, id }] });
    };
    server = await startChatServer(hostile);
    const agent = modelAgent(server.url);
    const { episode } = await recordEpisode({ scenario, agent, seed: 4, mode: 'async' });
    const second = transcript(server.requests[1]!);
    await server.close();
    server = undefined;
    expect(episode.endReason).not.toBe('errored');
    const calls = episode.events.filter(
      (e): e is Extract<EpisodeEvent, { type: 'call_issued' }> => e.type === 'call_issued',
    );
    for (const c of calls.slice(0, 2))
      expect(c.invalid).toBe(
        `args.task_id must be one of ${A}, ${B} (the tasks that use this tool's environment)`,
      );
    // What the model reads back about each call: an error naming the parameter, not the value.
    const told = second.filter((m) => m.role === 'tool').map((m) => m.content);
    expect(told).toHaveLength(2);
    for (const t of told) {
      expect(t).toMatch(/^Error: args\.task_id /);
      expect(t.length).toBeLessThan(200);
    }
  });
});
