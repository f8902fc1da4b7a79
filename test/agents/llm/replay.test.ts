/**
 * Recorded model episodes re-run exactly with the server shut down: through `makeReplayAgent`
 * (recorded responses, `recordedTransport`) and through `verifyReplay`, for async and sync
 * episodes, measured (`wall`) think time, an errored episode and one cut by its time limit while
 * the model was thinking.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { llmAgentFactory, makeReplayAgent, type LlmOptions } from '../../../agents/index.js';
import {
  httpTransport,
  notesOf,
  recordedTransport,
  LlmAgent,
  llmConfig,
} from '../../../agents/llm/index.js';
import { readReplay, recordEpisode, verifyReplay } from '../../../replays/index.js';
import { canonicalJson } from '../../../scenarios/spec/canonical.js';
import { eventsOfType } from '../../../scenarios/world/events.js';
import { examplesDir, loadScenarioFile } from '../../../scenarios/spec/load.js';
import type { Mode } from '../../../scenarios/protocol.js';
import type { Scenario } from '../../../scenarios/spec/schema.js';
import { runEpisode } from '../../../scenarios/world/world.js';
import {
  chainModel,
  startChatServer,
  type ChatServer,
  type Model,
  TEST_KEY,
  wallClock,
} from '../../support/llm-server.js';
import { compileDistribution } from '../../../engine/index.js';

const KEY = TEST_KEY;
const chain = loadScenarioFile(join(examplesDir(), 'chain.json'));
const clock = wallClock;

interface Recorded {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly hits: number;
}

let server: ChatServer;
const recorded: Recorded[] = [];

async function record(
  name: string,
  model: Model,
  options: { mode?: Mode; scenario?: Scenario; llm?: Partial<LlmOptions> } = {},
): Promise<Recorded> {
  server.model = model;
  const before = server.requests.length;
  const agent = llmAgentFactory({
    baseURL: server.url,
    apiKey: KEY,
    thinkProfile: { ttftMs: 100, prefillUsPerToken: 1, decodeTokensPerS: 1000 },
    maxRetries: 1,
    sleep: () => Promise.resolve(),
    clock,
    ...options.llm,
  })('openai:test-model');
  const { bytes } = await recordEpisode({
    scenario: options.scenario ?? chain,
    agent,
    seed: 4,
    mode: options.mode ?? 'async',
  });
  const r = { name, bytes: bytes!, hits: server.requests.length - before };
  recorded.push(r);
  return r;
}

beforeAll(async () => {
  server = await startChatServer(chainModel);
  await record('async', chainModel);
  await record('sync', chainModel, { mode: 'sync' });
  await record('wall', (r) => ({ ...chainModel(r), delayMs: 15 }), { llm: { think: 'wall' } });
  // As tooltime recorded before issue 21: think time from tokens, and each measured latency in
  // the notes all the same (a live transport with a clock, given as is).
  await record('tokens-with-latency', (r) => ({ ...chainModel(r), delayMs: 2 }), {
    llm: { transport: httpTransport({ baseURL: server.url, apiKey: KEY, clock }) },
  });
  let n = 0;
  await record('errored', (r) =>
    n++ < 3 ? chainModel(r) : { status: 500, json: { error: { message: 'gone' } } },
  );
  await record('limit', chainModel, {
    scenario: { ...chain, limits: { ...chain.limits, maxTimeMs: 1500 } },
    llm: { thinkProfile: { ttftMs: 400 } },
  });
  await server.close();
});

afterAll(async () => {
  await server.close();
});

function byName(name: string): Recorded {
  return recorded.find((r) => r.name === name)!;
}

describe('replaying model episodes without the network', () => {
  it('the recordings are what they claim to be', () => {
    const end = (name: string) =>
      eventsOfType(readReplay(byName(name).bytes).events, 'episode_ended')[0]!;
    expect(end('async').reason).toBe('completed');
    expect(end('sync').reason).toBe('completed');
    expect(end('wall').reason).toBe('completed');
    expect(end('errored')).toMatchObject({
      reason: 'errored',
      detail: 'model request failed after 2 attempts: 500 gone',
    });
    expect(end('limit')).toMatchObject({ reason: 'limit', detail: 'maxTimeMs' });
    // The limit struck during a model turn: that response has no note.
    const limit = readReplay(byName('limit').bytes);
    expect(notesOf(limit.events).length).toBe(byName('limit').hits - 1);
  });

  it('think "wall" records the measured latency and uses it as the think time (raised to the scenario\'s minimum)', () => {
    const { events } = readReplay(byName('wall').bytes);
    const notes = notesOf(events);
    const ended = eventsOfType(events, 'decision_ended');
    expect(notes[0]!.config?.think).toBe('wall');
    for (const [i, n] of notes.entries()) {
      expect(n.latencyMs).toBeGreaterThanOrEqual(14);
      expect(ended[i]!.thinkUs).toBe(
        Math.max(Math.round(n.latencyMs! * 1000), compileDistribution(chain.thinkTime).minUs),
      );
    }
  });

  it('issue 21: think "tokens" leaves the measured latency out of the notes (a clock given or not); the factory counts it', async () => {
    expect(notesOf(readReplay(byName('async').bytes).events).map((n) => n.latencyMs)).toEqual(
      notesOf(readReplay(byName('async').bytes).events).map(() => null),
    );
    const live = await startChatServer((r) => ({ ...chainModel(r), delayMs: 2 }));
    const factory = llmAgentFactory({ baseURL: live.url, apiKey: KEY, clock, maxRetries: 0 });
    let bytes: Uint8Array | null = null;
    try {
      ({ bytes } = await recordEpisode({
        scenario: chain,
        agent: factory('openai:test-model'),
        seed: 4,
      }));
    } finally {
      await live.close();
    }
    const notes = notesOf(readReplay(bytes!).events);
    expect(notes.length).toBeGreaterThan(2);
    expect(notes.every((n) => n.latencyMs === null)).toBe(true);
    expect(factory.latencyStats.requests).toBe(notes.length);
    expect(factory.latencyStats.totalMs).toBeGreaterThan(0);
  });

  it('a replay recorded before issue 21 (think "tokens", latencies in its notes) keeps them', () => {
    const notes = notesOf(readReplay(byName('tokens-with-latency').bytes).events);
    expect(notes[0]!.config?.think).toBe('tokens');
    expect(notes.every((n) => typeof n.latencyMs === 'number')).toBe(true);
  });

  for (const name of ['async', 'sync', 'wall', 'errored', 'limit', 'tokens-with-latency']) {
    it(`${name}: verifyReplay with makeReplayAgent matches byte for byte (server down)`, async () => {
      const result = await verifyReplay(byName(name).bytes, { makeAgent: makeReplayAgent });
      expect(
        result.ok,
        result.ok ? '' : `${result.reason} ${JSON.stringify(result.divergence)}`,
      ).toBe(true);
    });

    it(`${name}: re-running on the recorded transport gives the same events`, async () => {
      const read = readReplay(byName(name).bytes);
      const again = await runEpisode(read.scenario, makeReplayAgent(read.header, read.events), {
        seed: read.header.seed,
        mode: read.header.world.mode,
        delivery: read.header.world.delivery,
      });
      expect(canonicalJson(again.events)).toBe(canonicalJson(read.events));
    });
  }

  it('recordedTransport also takes the notes as recorded (raw JSON)', async () => {
    const read = readReplay(byName('sync').bytes);
    const raw = eventsOfType(read.events, 'decision_ended').map((e) => e.note);
    const agent = new LlmAgent('openai:test-model', notesOf(read.events)[0]!.config!, {
      transport: recordedTransport(raw),
    });
    const again = await runEpisode(read.scenario, agent, { seed: read.header.seed, mode: 'sync' });
    expect(canonicalJson(again.events)).toBe(canonicalJson(read.events));
  });

  it('a re-run that diverges from the recording says which request', async () => {
    const read = readReplay(byName('async').bytes);
    const notes = notesOf(read.events);
    const config = { ...llmConfig('test-model', {}), ...notes[0]!.config!, temperature: 0.5 };
    const agent = new LlmAgent('openai:test-model', config, {
      transport: recordedTransport(notes),
    });
    const ep = await runEpisode(read.scenario, agent, { seed: read.header.seed });
    expect(ep.endReason).toBe('errored');
    expect(ep.events.at(-1)).toMatchObject({
      detail: 'replay diverged: request 1 differs from the recorded one',
    });
  });
});
