/**
 * A recorded model episode on a stateful instance of the asynctool-stateful suite verifies offline:
 * the scripted Chat Completions server plays a model that takes another path than the reference
 * (it lists alice's posts instead of searching), the episode is recorded, the server is shut down,
 * and `verifyReplay` re-runs it from the recorded responses (state digests included). The model's
 * path reaches every goal: sub-task success with step F1 below 1.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { llmAgentFactory, makeReplayAgent } from '../../../agents/index.js';
import { readReplay, recordEpisode, verifyReplay } from '../../../replays/index.js';
import { scoreEpisode } from '../../../scenarios/scoring/episode.js';
import { loadScenarioFile } from '../../../scenarios/spec/load.js';
import { shippedStatefulSuiteDir } from '../../../scenarios/suite/index.js';
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
/** so-like-launch and tk-fix-printer, each on its own copy of its environment. */
const scenario = loadScenarioFile(join(shippedStatefulSuiteDir(), 'asynctool-stateful-0012.json'));

/** Each call, once what it needs is in the conversation. */
const PLAN: ReadonlyArray<{ needs: string; name: string; args: Record<string, unknown> }> = [
  { needs: 'New task so-like-launch', name: 'get_user_posts', args: { username: 'alice' } },
  { needs: 'Launching Atlas today', name: 'like_post', args: { postId: 1 } },
  { needs: 'New task tk-fix-printer', name: 'get_ticket', args: { ticketId: 1 } },
  {
    needs: '"title":"Printer jam"',
    name: 'resolve_ticket',
    args: { ticketId: 1, resolution: 'Cleared the jam' },
  },
  { needs: '"status":"resolved"', name: 'close_ticket', args: { ticketId: 1 } },
  {
    needs: '"liked":1',
    name: 'answer',
    args: { task_id: 'so-like-launch', answer: 'alice wrote it' },
  },
  {
    needs: '"status":"closed"',
    name: 'answer',
    args: { task_id: 'tk-fix-printer', answer: 'Printer jam' },
  },
];

function statefulModel(request: ChatRequest): ServerReply {
  const msgs = transcript(request);
  const seen = msgs
    .filter((m) => m.role === 'user' || m.role === 'tool')
    .map((m) => m.content)
    .join('\n');
  const issued = (name: string, args: Record<string, unknown>) =>
    msgs.some((m) => m.calls.some((c) => c.name === name && c.args === JSON.stringify(args)));
  const id = idsFor(request);
  const next = PLAN.find((p) => seen.includes(p.needs) && !issued(p.name, p.args));
  if (next !== undefined) return ok({ toolCalls: [{ name: next.name, args: next.args, id }] });
  const canCheck = (request.body.tools ?? []).some((t) => t.function?.name === 'check_results');
  return ok({ toolCalls: [{ name: canCheck ? 'check_results' : 'wait', args: {}, id }] });
}

let server: ChatServer | undefined;
afterAll(async () => {
  await server?.close();
});

describe('a recorded model episode on a stateful instance', () => {
  it('verifies offline, and its other path succeeds at sub-task level with step F1 below 1', async () => {
    server = await startChatServer(statefulModel);
    const agent = llmAgentFactory({
      baseURL: server.url,
      apiKey: KEY,
      thinkProfile: { ttftMs: 100, prefillUsPerToken: 1, decodeTokensPerS: 1000 },
      maxRetries: 1,
      sleep: () => Promise.resolve(),
      clock,
    })('openai:test-model');
    const { bytes } = await recordEpisode({ scenario, agent, seed: 4, mode: 'async' });
    await server.close();
    server = undefined;
    const read = readReplay(bytes!);
    const changed = read.events.filter((e) => e.type === 'state_changed');
    // like_post, resolve_ticket, close_ticket (listing and reading change nothing).
    expect(changed.length).toBe(3);
    const result = await verifyReplay(bytes!, { makeAgent: makeReplayAgent });
    expect(
      result.ok,
      result.ok ? '' : `${result.reason} ${JSON.stringify(result.divergence)}`,
    ).toBe(true);
    const score = scoreEpisode(scenario, read.events);
    expect(score.tasks.map((t) => [t.task, t.goalMet, t.success])).toEqual([
      ['so-like-launch', true, true],
      ['tk-fix-printer', true, true],
    ]);
    expect(score.steps.f1).toBeLessThan(1);
    expect(score.steps.unmatchedCalls).toBe(1);
  });
});
