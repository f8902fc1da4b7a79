/**
 * Model agents against a misbehaving API: retries (429 with Retry-After, 5xx with backoff,
 * timeouts, bodies that are not JSON), persistent failures that end one episode `errored` while the
 * rest of the run goes on, the response cache (a resumed run sends no request twice), and API keys
 * never reaching a written file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  createAgent,
  llmAgentFactory,
  type LlmOptions,
  type ModelAgentFactory,
} from '../../../agents/index.js';
import {
  DEFAULT_BACKOFF,
  backoffMs,
  llmUsage,
  notesOf,
  requestHash,
  type WallClock,
} from '../../../agents/llm/index.js';
import { MAX_THROTTLES } from '../../../agents/llm/http-transport.js';
import { writeResults } from '../../../cli/commands/run.js';
import { recordEpisode } from '../../../replays/index.js';
import { canonicalJson } from '../../../scenarios/spec/canonical.js';
import { runExperiment } from '../../../scenarios/experiment.js';
import { examplesDir, loadScenarioFile } from '../../../scenarios/spec/load.js';
import { scoreEpisode } from '../../../scenarios/scoring/index.js';
import { runEpisode } from '../../../scenarios/world/world.js';
import {
  chainModel,
  startChatServer,
  type ChatRequest,
  type ChatServer,
  type Model,
  type ServerReply,
  TEST_KEY,
} from '../../support/llm-server.js';

const KEY = TEST_KEY;
const FAST = { ttftMs: 100, prefillUsPerToken: 1, decodeTokensPerS: 1000 };
const chainFile = join(examplesDir(), 'chain.json');
const chain = loadScenarioFile(chainFile);

let server: ChatServer;
beforeAll(async () => {
  server = await startChatServer(chainModel);
});
afterAll(async () => {
  await server.close();
});

/** Every agent of a run: model specs from `made`, the reference baseline from the registry. */
const maker = (made: ModelAgentFactory) => (spec: string) => createAgent(spec, { models: made });

function recorder(): { sleeps: number[]; sleep: (ms: number) => Promise<void> } {
  const sleeps: number[] = [];
  return {
    sleeps,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
  };
}

function models(extra: Partial<LlmOptions> = {}) {
  return llmAgentFactory({
    baseURL: server.url,
    apiKey: KEY,
    thinkProfile: FAST,
    maxRetries: 3,
    sleep: recorder().sleep,
    ...extra,
  });
}

/** Fails the first `n` requests with `failure`, then answers as chainModel. */
function failingFirst(n: number, failure: (r: ChatRequest) => ServerReply): Model {
  let left = n;
  return (r) => (left-- > 0 ? failure(r) : chainModel(r));
}

async function episode(model: Model, llm: Partial<LlmOptions> = {}) {
  server.model = model;
  const first = server.requests.length;
  const ep = await runEpisode(chain, models(llm)('openai:test-model'), { seed: 1 });
  return {
    ep,
    score: scoreEpisode(chain, ep.events),
    notes: notesOf(ep.events),
    hits: server.requests.length - first,
  };
}

describe('retries', () => {
  it('429 then success: retried after the Retry-After the server asked for, and recorded', async () => {
    const r = recorder();
    const { ep, score, notes } = await episode(
      failingFirst(1, () => ({
        status: 429,
        headers: { 'retry-after-ms': '25' },
        json: { error: { message: 'Rate limit reached', type: 'rate_limit' } },
      })),
      { sleep: r.sleep },
    );
    expect(ep.endReason).toBe('completed');
    expect(score.success).toBe(true);
    expect(r.sleeps).toEqual([25]);
    expect(notes[0]!.attempts).toEqual([
      { status: 429, error: expect.stringContaining('Rate limit reached'), waitedMs: 25 },
    ]);
    expect(llmUsage(ep.events)!.retries).toBe(1);
  });

  it("under a limiter a 429 is the limiter's: it backs off through it, sends again, records nothing", async () => {
    const calls: string[] = [];
    const limiter = {
      acquire: async () => void calls.push('acquire'),
      backOff: async (ms: number) => void calls.push(`backOff ${ms}`),
    };
    const r = recorder();
    const throttled = () => ({
      status: 429,
      headers: { 'retry-after-ms': '1500' },
      json: { error: { message: 'Rate limit reached' } },
    });
    const { ep, notes, hits } = await episode(failingFirst(2, throttled), {
      sleep: r.sleep,
      limiter,
    });
    expect(ep.endReason).toBe('completed');
    expect(calls.slice(0, 5)).toEqual([
      'acquire',
      'backOff 1500',
      'acquire',
      'backOff 1500',
      'acquire',
    ]);
    // Every request waited on the limiter; the transport itself slept for none.
    expect(calls.filter((c) => c === 'acquire')).toHaveLength(hits);
    expect(r.sleeps).toEqual([]);
    expect(notes.every((n) => n.attempts.length === 0)).toBe(true);
    expect(llmUsage(ep.events)!.retries).toBe(0);
  });

  it('a permit (--max-requests-in-flight) is held while an attempt is out, never while it waits', async () => {
    const log: string[] = [];
    let held = 0;
    const permits = {
      take: async () => {
        held++;
        log.push('take');
        return async () => {
          held--;
          log.push('release');
        };
      },
    };
    const limiter = {
      acquire: async () => void log.push(`acquire (held ${held})`),
      backOff: async () => void log.push(`backOff (held ${held})`),
    };
    const sleep = async () => void log.push(`sleep (held ${held})`);
    // A 429 (the limiter's), a 503 (a retry), then the chain model's replies.
    const failures: ServerReply[] = [
      { status: 429, json: { error: { message: 'Rate limit reached' } } },
      { status: 503, json: { error: { message: 'overloaded' } } },
    ];
    const { ep, hits } = await episode(
      (r) => {
        log.push(`sent (held ${held})`);
        return failures.shift() ?? chainModel(r);
      },
      { sleep, limiter, permits },
    );
    expect(ep.endReason).toBe('completed');
    const once = ['take', 'acquire (held 1)', 'sent (held 1)', 'release'];
    expect(log.slice(0, 15)).toEqual([
      ...once,
      'backOff (held 0)',
      ...once,
      'sleep (held 0)',
      ...once,
      ...once.slice(0, 1),
    ]);
    // Every request took a permit and gave it back.
    expect(log.filter((c) => c === 'take')).toHaveLength(hits);
    expect(log.filter((c) => c === 'release')).toHaveLength(hits);
    expect(held).toBe(0);
  });

  it(`under a limiter, a request refused ${MAX_THROTTLES} times: the next 429 is a failed attempt`, async () => {
    const limiter = { acquire: async () => undefined, backOff: async () => undefined };
    const r = recorder();
    const { notes } = await episode(
      failingFirst(MAX_THROTTLES + 1, () => ({
        status: 429,
        headers: { 'retry-after-ms': '5' },
        json: { error: { message: 'Rate limit reached' } },
      })),
      { sleep: r.sleep, limiter },
    );
    expect(notes[0]!.attempts).toEqual([
      { status: 429, error: expect.stringContaining('Rate limit reached'), waitedMs: 5 },
    ]);
  });

  it('Retry-After in seconds and as an HTTP date (with the injected clock)', async () => {
    const seconds = recorder();
    await episode(
      failingFirst(1, () => ({
        status: 429,
        headers: { 'retry-after': '2' },
        json: { error: { message: 'slow down' } },
      })),
      { sleep: seconds.sleep },
    );
    expect(seconds.sleeps).toEqual([2000]);
    const dated = recorder();
    const clock: WallClock = {
      monotonicMs: () => performance.now(),
      epochMs: () => Date.UTC(2025, 0, 1, 0, 0, 0),
    };
    await episode(
      failingFirst(1, () => ({
        status: 503,
        headers: { 'retry-after': 'Wed, 01 Jan 2025 00:00:03 GMT' },
        json: { error: { message: 'busy' } },
      })),
      { sleep: dated.sleep, clock },
    );
    expect(dated.sleeps).toEqual([3000]);
  });

  it('5xx without Retry-After: jittered exponential backoff on a deterministic schedule', async () => {
    const r = recorder();
    const first = server.requests.length;
    await episode(
      failingFirst(2, () => ({ status: 503, json: { error: { message: 'overloaded' } } })),
      { sleep: r.sleep, backoff: { baseMs: 100, maxMs: 1000 } },
    );
    const key = requestHash(server.requests[first]!.body as never);
    const options = { ...DEFAULT_BACKOFF, baseMs: 100, maxMs: 1000 };
    expect(r.sleeps).toEqual([backoffMs(options, key, 0), backoffMs(options, key, 1)]);
    expect(r.sleeps[0]).toBeGreaterThanOrEqual(75);
    expect(r.sleeps[0]).toBeLessThanOrEqual(100);
    expect(r.sleeps[1]).toBeGreaterThanOrEqual(150);
    expect(r.sleeps[1]).toBeLessThanOrEqual(200);
  });

  it('the backoff really waits (real timers)', async () => {
    const t0 = performance.now();
    const { ep } = await episode(
      failingFirst(1, () => ({
        status: 429,
        headers: { 'retry-after-ms': '80' },
        json: { error: { message: 'wait' } },
      })),
      { sleep: (ms) => new Promise((res) => setTimeout(res, ms)) },
    );
    expect(ep.endReason).toBe('completed');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(75);
  });

  it('a timeout and a body that is not JSON are retried', async () => {
    const { ep, notes } = await episode(
      failingFirst(2, (r) =>
        r.hit % 2 === 0 ? { delayMs: 400, ...chainModel(r) } : { raw: '<html>bad gateway</html>' },
      ),
      { timeoutMs: 150 },
    );
    expect(ep.endReason).toBe('completed');
    const errors = notes[0]!.attempts.map((a) => a.error);
    expect(errors.some((e) => e === 'request timed out')).toBe(true);
    expect(errors.some((e) => e.startsWith('the response body is not a JSON object'))).toBe(true);
  });

  it('a 400 is not retried: the episode ends errored with the reason', async () => {
    const { ep, hits } = await episode(() => ({
      status: 400,
      json: { error: { message: "Invalid parameter: 'tools'" } },
    }));
    expect(hits).toBe(1);
    expect(ep.endReason).toBe('errored');
    expect(ep.events.at(-1)).toMatchObject({
      type: 'episode_ended',
      reason: 'errored',
      detail: expect.stringMatching(/^model request failed: 400 Invalid parameter: 'tools'$/),
    });
  });

  it('persistent 500 for one episode: that one ends errored, the others go on (concurrently)', async () => {
    server.model = (r) =>
      r.body.seed === 2
        ? { status: 500, json: { error: { message: 'internal failure' } } }
        : chainModel(r);
    const made = models({ maxRetries: 2 });
    const result = await runExperiment({
      instances: [{ file: chainFile, scenario: chain }],
      agents: ['openai:test-model'],
      seeds: [1, 2, 3],
      mode: 'async',
      delivery: 'push',
      makeAgent: maker(made),
      concurrency: 3,
      usageOf: (events) => llmUsage(events),
    });
    expect(result.episodes.map((e) => e.endReason)).toEqual(['completed', 'errored', 'completed']);
    expect(result.episodes[1]!.usage!.error).toMatch(
      /^model request failed after 3 attempts: 500 internal failure$/,
    );
    expect(result.episodes[0]!.score.success).toBe(true);
    expect(result.episodes[2]!.score.success).toBe(true);
  });
});

describe('response cache', () => {
  const run = (dir: string, seeds: number[]) =>
    runExperiment({
      instances: [{ file: chainFile, scenario: chain }],
      agents: ['openai:test-model'],
      seeds,
      mode: 'async',
      delivery: 'push',
      makeAgent: maker(models({ cacheDir: dir, maxRetries: 0 })),
      concurrency: 2,
      usageOf: (events) => llmUsage(events),
    });

  it('a second run is answered from the cache: no request, same results byte for byte', async () => {
    server.model = chainModel;
    const dir = mkdtempSync(join(tmpdir(), 'tooltime-llm-cache-'));
    const before = server.requests.length;
    const a = await run(dir, [1, 2]);
    const sent = server.requests.length - before;
    expect(sent).toBeGreaterThan(4);
    expect(readdirSync(dir).filter((f) => f.endsWith('.json'))).toHaveLength(sent);
    expect(readdirSync(dir).some((f) => f.endsWith('.tmp'))).toBe(false);
    const b = await run(dir, [1, 2]);
    expect(server.requests.length - before).toBe(sent);
    expect(canonicalJson(b.episodes)).toBe(canonicalJson(a.episodes));
  });

  it('an interrupted run resumes: requests answered before are never sent again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tooltime-llm-resume-'));
    const log: Array<{ hash: string; ok: boolean }> = [];
    let seed2 = 0;
    server.model = (r) => {
      const fail = r.body.seed === 2 && ++seed2 > 2;
      log.push({ hash: requestHash(r.body as never), ok: !fail });
      return fail ? { status: 500, json: { error: { message: 'crash' } } } : chainModel(r);
    };
    const first = await run(dir, [1, 2]);
    expect(first.episodes.map((e) => e.endReason)).toEqual(['completed', 'errored']);
    const answered = new Set(log.filter((l) => l.ok).map((l) => l.hash));
    log.length = 0;
    server.model = (r) => {
      log.push({ hash: requestHash(r.body as never), ok: true });
      return chainModel(r);
    };
    const resumed = await run(dir, [1, 2]);
    expect(resumed.episodes.map((e) => e.endReason)).toEqual(['completed', 'completed']);
    expect(log.length).toBeGreaterThan(0);
    expect(log.filter((l) => answered.has(l.hash))).toEqual([]);
    // Same results as a run that was never interrupted.
    const fresh = await run(mkdtempSync(join(tmpdir(), 'tooltime-llm-fresh-')), [1, 2]);
    expect(canonicalJson(resumed.episodes)).toBe(canonicalJson(fresh.episodes));
  });
});

describe('API keys', () => {
  const LEAKY = 'sk-tooltime-LEAKCHECK-9f8e7d6c5b4a3210';

  function filesUnder(dir: string): string[] {
    return readdirSync(dir).flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? filesUnder(p) : [p];
    });
  }

  it('never appear in results, caches, replays or error reasons, even when the server echoes them', async () => {
    const seenAuth: string[] = [];
    let n = 0;
    const echoing: Model = (r) => {
      const auth = String(r.headers.authorization);
      seenAuth.push(auth);
      if (n++ === 0)
        return {
          status: 500,
          json: { error: { message: `bad request with Authorization: ${auth} (key ${LEAKY})` } },
        };
      const reply = chainModel(r);
      const json = reply.json as {
        choices: Array<{
          message: {
            content: string | null;
            tool_calls?: Array<{ function: { name: string; arguments: string } }>;
          };
        }>;
      };
      const msg = json.choices[0]!.message;
      msg.content = `echo: ${auth} / ${LEAKY}`;
      for (const c of msg.tool_calls ?? [])
        if (c.function.name === 'answer')
          c.function.arguments = JSON.stringify({
            task_id: 't1',
            answer: `BK-7731 booked; key ${LEAKY}`,
          });
      return reply;
    };
    server.model = echoing;
    const out = mkdtempSync(join(tmpdir(), 'tooltime-llm-keys-'));
    const cacheDir = join(out, 'cache');
    const made = models({ apiKey: LEAKY, cacheDir, maxRetries: 2 });
    const result = await runExperiment({
      instances: [{ file: chainFile, scenario: chain }],
      agents: ['openai:test-model'],
      seeds: [1],
      mode: 'async',
      delivery: 'push',
      makeAgent: maker(made),
      usageOf: (events) => llmUsage(events),
    });
    expect(result.episodes[0]!.endReason).toBe('completed');
    expect(result.episodes[0]!.score.success).toBe(true);
    writeResults(join(out, 'results'), result);
    // A replay of the same episode (answered from the cache).
    n = 1;
    const { bytes } = await recordEpisode({
      scenario: chain,
      agent: made('openai:test-model'),
      seed: 1,
    });
    writeFileSync(join(out, 'episode.ttr'), bytes!);
    // An errored episode whose reason would quote the key.
    server.model = () => ({
      status: 401,
      json: {
        error: { message: `Incorrect API key provided: ${LEAKY}. Authorization: Bearer ${LEAKY}` },
      },
    });
    const failed = await runEpisode(chain, models({ apiKey: LEAKY })('openai:test-model'), {
      seed: 9,
    });
    expect(failed.endReason).toBe('errored');
    writeFileSync(join(out, 'errored.json'), JSON.stringify(failed.events));

    expect(seenAuth[0]).toBe(`Bearer ${LEAKY}`);
    const files = filesUnder(out);
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) {
      const text = readFileSync(f).toString('latin1');
      expect(text.includes(LEAKY), f).toBe(false);
      expect(text.includes('9f8e7d6c5b4a3210'), f).toBe(false);
    }
    expect(JSON.stringify(failed.events.at(-1))).toContain('[REDACTED]');
    expect(
      readdirSync(cacheDir).some((f) =>
        readFileSync(join(cacheDir, f), 'utf8').includes('echo: Bearer [REDACTED] / [REDACTED]'),
      ),
    ).toBe(true);
    expect(Buffer.from(bytes!).toString('latin1')).toContain('BK-7731 booked; key [REDACTED]');
  });
});
