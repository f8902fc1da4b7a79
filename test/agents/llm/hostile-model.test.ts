/**
 * Hostile models, as llama.cpp's `llama-server` serves them (test/support/llm-server.ts mimics its
 * answers): random tool-call ids, a 500 for output it cannot parse, a 400 when the conversation
 * outgrows the context, and models that never call a tool. A looping model is a result (a `limit`,
 * scored as a failure), never `errored`; every such ending is reproduced by verify.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { llmAgentFactory, makeReplayAgent, type LlmOptions } from '../../../agents/index.js';
import { llmUsage, notesOf } from '../../../agents/llm/index.js';
import { recordEpisode, verifyReplay, readReplay } from '../../../replays/index.js';
import { eventsOfType } from '../../../scenarios/world/events.js';
import { examplesDir, loadScenarioFile } from '../../../scenarios/spec/load.js';
import { scoreEpisode } from '../../../scenarios/scoring/index.js';
import {
  chainModel,
  llamaContextError,
  llamaParseError,
  randomIds,
  scripted,
  startChatServer,
  talker,
  transcript,
  type ChatServer,
  type Model,
  TEST_KEY,
} from '../../support/llm-server.js';

const KEY = TEST_KEY;
const chain = loadScenarioFile(join(examplesDir(), 'chain.json'));

let server: ChatServer;
beforeAll(async () => {
  server = await startChatServer(chainModel);
});
afterAll(async () => {
  await server.close();
});

/** Records one episode of `model` (no wall clock: nothing measured differs between runs). */
async function record(model: Model, llm: Partial<LlmOptions> = {}) {
  server.model = model;
  const before = server.requests.length;
  const agent = llmAgentFactory({
    baseURL: server.url,
    apiKey: KEY,
    thinkProfile: { ttftMs: 100, prefillUsPerToken: 1, decodeTokensPerS: 1000 },
    maxRetries: 3,
    sleep: () => Promise.resolve(),
    ...llm,
  })('openai:test-model');
  const { bytes } = await recordEpisode({ scenario: chain, agent, seed: 3 });
  const read = readReplay(bytes!);
  const ended = eventsOfType(read.events, 'episode_ended')[0]!;
  const limits = eventsOfType(read.events, 'limit_hit').map((e) => e.limit);
  return {
    bytes: bytes!,
    read,
    ended,
    limits,
    hits: server.requests.length - before,
    requests: server.requests.slice(before),
    notes: notesOf(read.events),
    score: scoreEpisode(chain, read.events),
  };
}

async function expectVerified(bytes: Uint8Array): Promise<void> {
  const result = await verifyReplay(bytes, { makeAgent: makeReplayAgent });
  expect(result.ok, result.ok ? '' : `${result.reason} ${JSON.stringify(result.divergence)}`).toBe(
    true,
  );
}

describe('random tool-call ids (llama-server)', () => {
  it("two runs against a server with random ids give byte-identical replays, and the history carries tooltime's ids", async () => {
    const a = await record(randomIds(chainModel));
    const b = await record(randomIds(chainModel));
    expect(a.ended.reason).toBe('completed');
    // The server did give different ids...
    const ids = (r: typeof a) =>
      r.requests.map((q) =>
        transcript(q)
          .flatMap((m) => m.calls.map((c) => c.id))
          .join(','),
      );
    expect(ids(a)).toEqual(ids(b));
    expect(ids(a).at(-1)).toMatch(/^call_1_0,call_2_0,/);
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
    await expectVerified(a.bytes);
  });
});

describe('a model that never calls a tool', () => {
  it('ends as a limit (maxIdleTurns) after the idle cap, scored as a failure, not errored; verify reproduces it', async () => {
    const r = await record(talker);
    expect(r.ended).toMatchObject({ reason: 'limit', detail: 'maxIdleTurns' });
    expect(r.limits).toEqual(['maxIdleTurns']);
    expect(r.hits).toBe(8);
    expect(r.notes).toHaveLength(8);
    expect(r.notes[0]!.config).toMatchObject({ maxIdleTurns: 8, maxTurns: null });
    expect(r.score.success).toBe(false);
    expect(llmUsage(r.read.events)).toMatchObject({ error: null, issues: { no_tool_call: 8 } });
    await expectVerified(r.bytes);
  });

  it('the cap counts consecutive idle turns: a usable call resets it; --max-idle-turns sets it', async () => {
    // Two idle turns, the chain's first call, then idle for good: 1 + 2 + 3 requests with a cap of 3.
    const r = await record(scripted([talker, talker, chainModel], talker), { maxIdleTurns: 3 });
    expect(r.ended).toMatchObject({ reason: 'limit', detail: 'maxIdleTurns' });
    expect(r.hits).toBe(6);
    await expectVerified(r.bytes);
  });

  it('--max-turns caps the requests of an episode: a limit named maxTurns', async () => {
    const r = await record(chainModel, { maxTurns: 2 });
    expect(r.ended).toMatchObject({ reason: 'limit', detail: 'maxTurns' });
    expect(r.hits).toBe(2);
    expect(r.score.success).toBe(false);
    await expectVerified(r.bytes);
  });
});

describe("server errors that are the model's doing", () => {
  it('a 500 "does not match the expected format" is not retried: a malformed reply, nudged, counted; the episode goes on', async () => {
    const r = await record(scripted([() => llamaParseError()]));
    expect(r.ended.reason).toBe('completed');
    expect(r.score.success).toBe(true);
    // One request for the unparsable turn: the identical request was not sent again.
    expect(r.requests[0]!.body.messages).toEqual(
      r.requests[1]!.body.messages.slice(0, r.requests[0]!.body.messages.length),
    );
    expect(r.notes[0]!.attempts).toEqual([]);
    expect(r.notes[0]!.issues).toEqual([
      {
        kind: 'unparsed_output',
        toolCallId: null,
        detail: '500 The model produced output that does not match the expected peg-native format',
      },
    ]);
    expect(r.notes[0]!.unparsed).toMatch(/does not match the expected peg-native format/);
    expect(transcript(r.requests[1]!).at(-1)!.content).toContain(
      'Your last reply could not be read: the server could not parse it as tool calls.',
    );
    expect(llmUsage(r.read.events)!.issues).toEqual({ unparsed_output: 1 });
    expect(eventsOfType(r.read.events, 'decision_ended')[0]!.actions).toEqual([
      { type: 'wait', maxUs: 0 },
    ]);
    await expectVerified(r.bytes);
  });

  it('other llama.cpp parse failures too; a model that is never parsable ends at the idle cap, not errored', async () => {
    const r = await record(
      () => llamaParseError('Failed to parse input at pos 12: <tool_call>{"name": "search'),
      { maxIdleTurns: 4 },
    );
    expect(r.hits).toBe(4);
    expect(r.ended).toMatchObject({ reason: 'limit', detail: 'maxIdleTurns' });
    expect(llmUsage(r.read.events)!.issues).toEqual({ unparsed_output: 4 });
    await expectVerified(r.bytes);
  });

  it('a 400 "exceeds the available context size" ends the episode at the contextOverflow limit, unretried; verify reproduces it', async () => {
    let n = 0;
    const r = await record((q) => (n++ < 3 ? chainModel(q) : llamaContextError()));
    expect(r.hits).toBe(4);
    expect(r.ended).toMatchObject({ reason: 'limit', detail: 'contextOverflow' });
    expect(r.limits).toEqual(['contextOverflow']);
    expect(r.notes).toHaveLength(3);
    expect(r.score.success).toBe(false);
    expect(llmUsage(r.read.events)!.error).toBeNull();
    await expectVerified(r.bytes);
  });

  it('a plain 500 is still a failed request: retried, then errored', async () => {
    const r = await record(
      () => ({
        status: 500,
        json: { error: { code: 500, message: 'Internal server error', type: 'server_error' } },
      }),
      { maxRetries: 1 },
    );
    expect(r.hits).toBe(2);
    expect(r.ended).toMatchObject({
      reason: 'errored',
      detail: 'model request failed after 2 attempts: 500 Internal server error',
    });
  });
});
