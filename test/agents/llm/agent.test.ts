/**
 * Model agents end to end against a scripted Chat Completions server (test/support/llm-server.ts)
 * through the real `openai` SDK: async and sync episodes, poll delivery, every malformed reply,
 * think time, per-task usage.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { llmAgentFactory, type LlmOptions } from '../../../agents/index.js';
import {
  DEFAULT_PROFILE,
  estimateTokens,
  llmUsage,
  notesOf,
  profileFor,
  resolveProfile,
  systemPrompt,
  tokenThinkUs,
  PROMPT_VERSION,
} from '../../../agents/llm/index.js';
import { eventsOfType } from '../../../scenarios/world/events.js';
import { examplesDir, loadScenarioFile } from '../../../scenarios/spec/load.js';
import type { Mode, Delivery } from '../../../scenarios/protocol.js';
import { scoreEpisode } from '../../../scenarios/scoring/index.js';
import { runEpisode } from '../../../scenarios/world/world.js';
import { build } from '../../support/scenarios.js';
import {
  chainModel,
  idsFor,
  ok,
  scripted,
  startChatServer,
  transcript,
  type ChatRequest,
  type ChatServer,
  type ServerReply,
  TEST_KEY,
} from '../../support/llm-server.js';
import { compileDistribution } from '../../../engine/index.js';

const KEY = TEST_KEY;
const FAST = { ttftMs: 100, prefillUsPerToken: 1, decodeTokensPerS: 1000 };
const chain = loadScenarioFile(join(examplesDir(), 'chain.json'));

let server: ChatServer;
beforeAll(async () => {
  server = await startChatServer(chainModel);
});
afterAll(async () => {
  await server.close();
});

function models(extra: Partial<LlmOptions> = {}) {
  return llmAgentFactory({
    baseURL: server.url,
    apiKey: KEY,
    thinkProfile: FAST,
    maxRetries: 0,
    ...extra,
  });
}

async function episode(
  model: typeof server.model,
  options: {
    mode?: Mode;
    delivery?: Delivery;
    seed?: number;
    llm?: Partial<LlmOptions>;
    scenario?: typeof chain;
  } = {},
) {
  server.model = model;
  const first = server.requests.length;
  const agent = models(options.llm)('openai:test-model');
  const scenario = options.scenario ?? chain;
  const ep = await runEpisode(scenario, agent, {
    seed: options.seed ?? 1,
    mode: options.mode ?? 'async',
    delivery: options.delivery ?? 'push',
  });
  const score = scoreEpisode(scenario, ep.events);
  return { ep, score, requests: server.requests.slice(first), notes: notesOf(ep.events) };
}

/** The text of the messages a request added after the previous assistant turn. */
function freshText(request: ChatRequest): string {
  const msgs = transcript(request);
  let last = -1;
  msgs.forEach((m, i) => {
    if (m.role === 'assistant') last = i;
  });
  return msgs
    .slice(last + 1)
    .map((m) => m.content)
    .join('\n');
}

describe('model agent episodes', () => {
  it('async push: solves the chain, scores a success with no violation, records every exchange', async () => {
    const { ep, score, requests, notes } = await episode(chainModel);
    expect(ep.endReason).toBe('completed');
    expect(score.success).toBe(true);
    expect(score.steps.dependencyViolations).toBe(0);
    expect(score.steps.invalidCalls).toBe(0);
    expect(score.counts.rejectedActions).toBe(0);
    expect(notes).toHaveLength(requests.length);
    expect(ep.agent).toBe('openai:test-model');
    // The conversation: pending notices as tool messages, results as user messages naming the call.
    const last = requests.at(-1)!;
    const msgs = transcript(last);
    expect(last.body.messages[0]!.content).toBe(systemPrompt('async', 'push'));
    expect(
      msgs.some(
        (m) =>
          m.role === 'tool' &&
          /^Pending: call call_\d+_0 to search_flights has started/.test(m.content),
      ),
    ).toBe(true);
    expect(
      msgs.some(
        (m) =>
          m.role === 'user' &&
          /Result of call call_\d+_0 search_flights\(\{"origin":"SFO","destination":"JFK","date":"2025-03-14"\}\): \{"flights"/.test(
            m.content,
          ),
      ),
    ).toBe(true);
    expect(last.body.seed).toBe(1);
    expect(last.body.tools!.map((t) => t.function.name)).toEqual([
      'search_flights',
      'book_flight',
      'send_confirmation',
      'wait',
      'answer',
    ]);
    // Calls carry tooltime's own tool_call ids as refs (call_<decision>_<index>), not the model's.
    const issued = eventsOfType(ep.events, 'call_issued');
    expect(issued.map((c) => c.ref)).toEqual(
      issued.map((_c) => expect.stringMatching(/^call_\d+_0$/)),
    );
    expect(
      msgs.flatMap((m) => m.calls.map((c) => c.id)).every((id) => /^call_\d+_0$/.test(id)),
    ).toBe(true);
    // Notes: prompt version everywhere, config on the first, raw request and response.
    expect(notes.every((n) => n.prompt === PROMPT_VERSION)).toBe(true);
    expect(notes[0]!.config).toMatchObject({
      model: 'test-model',
      think: 'tokens',
      profile: FAST,
      maxCallsPerTurn: 8,
      promptVersion: PROMPT_VERSION,
    });
    expect(notes.slice(1).every((n) => n.config === null)).toBe(true);
    expect(notes[0]!.request).toEqual(requests[0]!.body);
    expect(notes[0]!.systemFingerprint).toBe('fp_test');
    expect(notes[0]!.openTasks).toEqual(['t1']);
  });

  it('sync: classic function calling, the results are the tool messages', async () => {
    const { ep, score, requests } = await episode(chainModel, { mode: 'sync' });
    expect(ep.endReason).toBe('completed');
    expect(score.success).toBe(true);
    expect(score.steps.dependencyViolations).toBe(0);
    const msgs = transcript(requests.at(-1)!);
    expect(
      msgs.some(
        (m) =>
          m.role === 'tool' && m.tool === 'search_flights' && m.content.startsWith('{"flights"'),
      ),
    ).toBe(true);
    expect(msgs.some((m) => m.content.startsWith('Pending'))).toBe(false);
    expect(requests[0]!.body.messages[0]!.content).toContain('synchronous');
  });

  it('async poll: check_results is offered and fetches results', async () => {
    const { ep, score, requests } = await episode(chainModel, { delivery: 'poll' });
    expect(ep.endReason).toBe('completed');
    expect(score.success).toBe(true);
    expect(requests[0]!.body.tools!.map((t) => t.function.name)).toContain('check_results');
    expect(
      eventsOfType(ep.events, 'decision_ended').some((d) =>
        d.actions.some((a) => a.type === 'poll'),
      ),
    ).toBe(true);
  });

  it('two concurrent tasks over echo tools: async overlap, every task grounded', async () => {
    const scenario = build({
      id: 'two-codes',
      tools: [
        {
          name: 'lookup',
          description: 'looks a code up',
          parameters: {
            type: 'object',
            properties: { code: { type: 'string' } },
            required: ['code'],
            additionalProperties: false,
          },
          latency: { kind: 'constant', ms: 1000 },
          impl: { kind: 'builtin', name: 'echo' },
        },
        {
          name: 'confirm',
          description: 'confirms a code',
          parameters: {
            type: 'object',
            properties: { code: { type: 'string' } },
            required: ['code'],
            additionalProperties: false,
          },
          latency: { kind: 'constant', ms: 700 },
          impl: { kind: 'builtin', name: 'echo' },
        },
      ],
      tasks: ['A1', 'B2'].map((code, i) => ({
        id: `t${i + 1}`,
        arrivalMs: i * 300,
        message: `Look up code ${code}, then confirm it.`,
        steps: [
          { id: 'look', tool: 'lookup', args: { code } },
          {
            id: 'conf',
            tool: 'confirm',
            args: { code },
            after: ['look'],
            inputs: [{ arg: 'code', from: 'look', path: 'code' }],
          },
        ],
        answer: { mustContain: [`${code} confirmed`] },
      })),
    });
    const codesModel = (request: ChatRequest): ServerReply => {
      const msgs = transcript(request);
      const all = msgs.map((m) => m.content).join('\n');
      const calls: Array<{ name: string; args: unknown }> = [];
      const issued = (name: string, code: string) =>
        msgs.some((m) => m.calls.some((c) => c.name === name && c.args.includes(`"${code}"`)));
      for (const [, task, code] of all.matchAll(/New task (t\d): Look up code (\w+)/g)) {
        if (!issued('lookup', code!)) calls.push({ name: 'lookup', args: { code } });
        else if (
          all.includes(`lookup({"code":"${code}"}): {"code":"${code}"}`) &&
          !issued('confirm', code!)
        )
          calls.push({ name: 'confirm', args: { code } });
        else if (
          all.includes(`confirm({"code":"${code}"}): {"code":"${code}"}`) &&
          !issued('answer', code!)
        )
          calls.push({ name: 'answer', args: { task_id: task, answer: `${code} confirmed` } });
      }
      if (calls.length === 0) calls.push({ name: 'wait', args: {} });
      const id = idsFor(request);
      return ok(
        { toolCalls: calls.map((c, i) => ({ ...c, id: `${id}_${i}` })) },
        { usage: { prompt_tokens: 200, completion_tokens: 30 } },
      );
    };
    const { ep, score, notes } = await episode(codesModel, { scenario });
    expect(ep.endReason).toBe('completed');
    expect(score.success).toBe(true);
    expect(score.steps.dependencyViolations).toBe(0);
    expect(score.efficiency.overlapShare).toBeGreaterThan(0);
    // Per-task usage: each turn split among the tasks open at its start; the parts add up.
    const usage = llmUsage(ep.events, { kind: 'flat', price: { in: 1, out: 2 } })!;
    expect(usage.requests).toBe(notes.length);
    expect(usage.promptTokens).toBe(200 * notes.length);
    const parts =
      Object.values(usage.perTask).reduce((s, u) => s + u.promptTokens, 0) +
      usage.unattributed.promptTokens;
    expect(parts).toBeCloseTo(usage.promptTokens, 6);
    expect(Object.keys(usage.perTask)).toEqual(['t1', 't2']);
    expect(usage.costUsd).toBeCloseTo(
      (usage.promptTokens * 1 + usage.completionTokens * 2) / 1e6,
      12,
    );
    const shared = notes.filter((n) => n.openTasks.length === 2).length;
    expect(shared).toBeGreaterThan(0);
    expect(usage.perTask.t2!.promptTokens).toBeCloseTo(
      notes
        .filter((n) => n.openTasks.includes('t2'))
        .reduce((s, n) => s + 200 / n.openTasks.length, 0),
      6,
    );
  });
});

describe('malformed replies are input, not a crash', () => {
  const searchArgs = { origin: 'SFO', destination: 'JFK', date: '2025-03-14' };
  const one =
    (toolCalls: Parameters<typeof ok>[0]['toolCalls'], options: Parameters<typeof ok>[1] = {}) =>
    (r: ChatRequest) =>
      ok(
        { toolCalls: (toolCalls ?? []).map((c, i) => ({ id: `${idsFor(r)}_${i}`, ...c })) },
        options,
      );

  async function recovers(
    script: Array<(r: ChatRequest) => ServerReply>,
    llm: Partial<LlmOptions> = {},
  ) {
    const run = await episode(scripted(script), { llm });
    expect(run.ep.endReason).toBe('completed');
    expect(run.score.success).toBe(true);
    return { ...run, second: freshText(run.requests[1]!) };
  }

  it('arguments that are not JSON: an invalid call, a tool error at once', async () => {
    const { score, notes, second, ep } = await recovers([
      one([{ name: 'search_flights', args: '{"origin": "SFO", ' }]),
    ]);
    expect(score.steps.invalidCalls).toBe(1);
    expect(notes[0]!.issues.map((i) => i.kind)).toEqual(['invalid_json']);
    expect(second).toMatch(/^Error: the arguments are not valid JSON \(.+\); the call failed\.$/m);
    expect(eventsOfType(ep.events, 'call_issued')[0]).toMatchObject({
      tool: 'search_flights',
      args: '{"origin": "SFO", ',
      invalid: expect.any(String),
    });
    // The world's own error for that call is not shown a second time.
    expect(
      transcript(server.requests.at(-1)!).some((m) => m.content.includes('invalid call')),
    ).toBe(false);
  });

  it('an unknown tool: an invalid call naming the tools', async () => {
    const { score, notes, second } = await recovers([
      one([{ name: 'find_flights', args: searchArgs }]),
    ]);
    expect(score.steps.invalidCalls).toBe(1);
    expect(notes[0]!.issues.map((i) => i.kind)).toEqual(['unknown_tool']);
    expect(second).toContain(
      'Error: there is no tool "find_flights" (tools: search_flights, book_flight, send_confirmation, wait, answer); the call failed.',
    );
  });

  it('wrong types: an invalid call with the schema problem', async () => {
    const { score, notes, second } = await recovers([
      one([{ name: 'search_flights', args: { ...searchArgs, origin: 123 } }]),
    ]);
    expect(score.steps.invalidCalls).toBe(1);
    expect(notes[0]!.issues[0]).toMatchObject({
      kind: 'invalid_args',
      detail: 'args.origin must be string',
    });
    expect(second).toContain('Error: args.origin must be string; the call failed.');
  });

  it('an answer for a task that does not exist: the world rejects it, the model hears why', async () => {
    const { score, second } = await recovers([
      one([{ name: 'answer', args: { task_id: 't9', answer: 'done' } }]),
    ]);
    expect(score.counts.rejectedActions).toBe(1);
    expect(second).toMatch(/Your answer for task "t9" \(call_\d+_0\) was rejected: no task "t9"\./);
  });

  it('plain text with no tool call: a wasted turn and a nudge', async () => {
    const { score, notes, second, ep } = await recovers([
      () => ok({ content: 'I will search for flights now.' }),
    ]);
    expect(notes[0]!.issues.map((i) => i.kind)).toEqual(['no_tool_call']);
    expect(eventsOfType(ep.events, 'decision_ended')[0]!.actions).toEqual([
      { type: 'wait', maxUs: 0 },
    ]);
    expect(second).toContain('Your last reply had no tool call, so nothing happened.');
    expect(score.counts.decisions).toBe(eventsOfType(ep.events, 'decision_started').length);
    expect(
      transcript(server.requests.at(-1)!).some(
        (m) => m.role === 'assistant' && m.content === 'I will search for flights now.',
      ),
    ).toBe(true);
  });

  it('empty replies (no content, or no choice at all): nudged, the episode goes on', async () => {
    const { notes, second } = await recovers([
      () => ok({ content: '' }),
      () => ({ json: { id: 'x', object: 'chat.completion', choices: [] } }),
    ]);
    expect(notes[0]!.issues.map((i) => i.kind)).toEqual(['empty_reply']);
    expect(notes[1]!.issues.map((i) => i.kind)).toEqual(['empty_reply']);
    expect(second).toContain('Your last reply was empty.');
    expect(notes[1]!.usage.estimated).toBe(true);
  });

  it('more calls than allowed: the rest are refused and never reach the world', async () => {
    const search = { name: 'search_flights', args: searchArgs };
    const { notes, second, ep, score } = await recovers([one([search, search, search])], {
      maxCallsPerTurn: 2,
    });
    expect(score.steps.redundantCalls).toBe(1);
    expect(notes[0]!.issues.map((i) => i.kind)).toEqual(['too_many_calls']);
    expect(eventsOfType(ep.events, 'decision_ended')[0]!.actions).toHaveLength(2);
    expect(second).toContain('Error: not run: at most 2 tool calls per turn.');
  });

  it('a reply cut off by the token limit: its broken call is invalid, and a nudge follows', async () => {
    const { score, notes, second } = await recovers(
      [one([{ name: 'search_flights', args: '{"origin": "SFO", "dest' }], { finish: 'length' })],
      { maxTokens: 64 },
    );
    expect(score.steps.invalidCalls).toBe(1);
    expect(notes[0]!.issues.map((i) => i.kind)).toEqual(['invalid_json', 'truncated']);
    expect(second).toContain('Your last reply was cut off by the token limit (64 tokens).');
    expect(server.requests.at(-1)!.body.max_tokens).toBe(64);
  });

  it("unusable control-tool args; missing or repeated tool_call ids are replaced by tooltime's own, with no issue", async () => {
    const { notes, second, ep } = await recovers([
      (r) => ok({ toolCalls: [{ name: 'answer', args: { task_id: 't1' }, id: `${idsFor(r)}_a` }] }),
      () => ok({ toolCalls: [{ name: 'search_flights', args: searchArgs, id: null }] }),
    ]);
    expect(notes[0]!.issues.map((i) => i.kind)).toEqual(['bad_control_args']);
    expect(second).toContain(
      'Error: answer needs {"task_id": string, "answer": string}; nothing was recorded.',
    );
    expect(eventsOfType(ep.events, 'decision_ended')[0]!.actions).toEqual([
      { type: 'wait', maxUs: 0 },
    ]);
    expect(notes[1]!.issues).toEqual([]);
    const later = transcript(server.requests.at(-1)!);
    expect(
      later.some((m) => m.calls.some((c) => c.id === 'call_2_0' && c.name === 'search_flights')),
    ).toBe(true);
    expect(eventsOfType(ep.events, 'call_issued')[0]!.ref).toBe('call_2_0');
    // The note records the reply with the ids the history sends back.
    expect(JSON.stringify(notes[1]!.response)).toContain('"id":"call_2_0"');
    const usage = llmUsage(ep.events)!;
    expect(usage.issues).toEqual({ bad_control_args: 1 });
  });
});

describe('think time', () => {
  it('token-based: ttft + prompt tokens × prefill + completion tokens / decode rate', async () => {
    const profile = { ttftMs: 200, prefillUsPerToken: 100, decodeTokensPerS: 50 };
    const usage = { prompt_tokens: 1000, completion_tokens: 50 };
    const reply = (r: ChatRequest): ServerReply => ({
      json: { ...(chainModel(r).json as Record<string, unknown>), usage },
    });
    const { ep } = await episode(reply, { llm: { thinkProfile: profile } });
    expect(tokenThinkUs(profile, 1000, 50)).toBe(200_000 + 100_000 + 1_000_000);
    const ended = eventsOfType(ep.events, 'decision_ended');
    expect(ended.length).toBeGreaterThan(3);
    expect(ended.every((d) => d.thinkUs === 1_300_000)).toBe(true);
  });

  it('without usage from the server: tokens estimated from characters, and said so', async () => {
    const noUsage = (r: ChatRequest): ServerReply => {
      const json = { ...(chainModel(r).json as Record<string, unknown>) };
      delete json.usage;
      return { json };
    };
    const { ep, notes, requests } = await episode(noUsage);
    expect(notes.every((n) => n.usage.estimated)).toBe(true);
    const body = requests[0]!.body;
    const prompt = estimateTokens(JSON.stringify(body.messages) + JSON.stringify(body.tools));
    expect(notes[0]!.usage.promptTokens).toBe(prompt);
    // The world raises a stated think time to the scenario's minimum (chain.json: a constant 200 ms).
    expect(eventsOfType(ep.events, 'decision_ended')[0]!.thinkUs).toBe(
      Math.max(
        tokenThinkUs(FAST, prompt, notes[0]!.usage.completionTokens),
        compileDistribution(chain.thinkTime).minUs,
      ),
    );
  });

  it('profiles: longest prefix, provider prefixes and vLLM-style names, overrides', () => {
    expect(profileFor('gpt-4o-mini')).toEqual({
      ttftMs: 350,
      prefillUsPerToken: 40,
      decodeTokensPerS: 90,
    });
    expect(profileFor('openai/gpt-4o-2024-08-06')).toEqual({
      ttftMs: 450,
      prefillUsPerToken: 60,
      decodeTokensPerS: 70,
    });
    expect(profileFor('Qwen/Qwen2.5-7B-Instruct')).toEqual(profileFor('qwen2.5:7b'));
    expect(profileFor('something-else')).toEqual(DEFAULT_PROFILE);
    expect(resolveProfile('gpt-4o-mini', { ttftMs: 1 })).toEqual({
      ttftMs: 1,
      prefillUsPerToken: 40,
      decodeTokensPerS: 90,
    });
  });
});

describe('specs, prices, secrets', () => {
  it('openai:MODEL specs: the model may hold colons; the registry resolves them; a missing key is one clear error', async () => {
    const { canonicalSpec, createAgent, AgentSpecError } = await import('../../../agents/index.js');
    const { modelOf } = await import('../../../agents/llm/index.js');
    expect(modelOf('openai:qwen2.5:7b')).toBe('qwen2.5:7b');
    expect(canonicalSpec(' openai: gpt-4o-mini ')).toBe('openai:gpt-4o-mini');
    expect(() => canonicalSpec('openai')).toThrow(AgentSpecError);
    expect(() => llmAgentFactory({ env: {} })).toThrow(
      /^openai agents need an API key: set OPENAI_API_KEY/,
    );
    expect(() =>
      llmAgentFactory({ env: { OTHER: 'x' }, apiKeyEnv: 'OTHER', think: 'wall' }),
    ).toThrow(/needs a wall clock/);
    const agent = createAgent('openai:qwen2.5:7b', {
      models: llmAgentFactory({ env: { OPENAI_API_KEY: 'none' } }),
    });
    expect(agent.spec).toBe('openai:qwen2.5:7b');
    expect(createAgent('greedy-async').spec).toBe('greedy-async');
  });

  it('prices: flat, per model from a file, and clear errors', async () => {
    const { parsePrice, priceFor, costUsd } = await import('../../../agents/llm/index.js');
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    expect(parsePrice('in=0.15,out=0.60')).toEqual({ kind: 'flat', price: { in: 0.15, out: 0.6 } });
    const dir = mkdtempSync(join(tmpdir(), 'tooltime-price-'));
    writeFileSync(
      join(dir, 'p.json'),
      JSON.stringify({ 'gpt-4o-mini': { in: 0.15, out: 0.6 }, 'qwen2.5:7b': { in: 0, out: 0 } }),
    );
    const table = parsePrice(join(dir, 'p.json'));
    expect(priceFor(table, 'gpt-4o-mini')).toEqual({ in: 0.15, out: 0.6 });
    expect(priceFor(table, 'other')).toBeNull();
    expect(costUsd(priceFor(table, 'gpt-4o-mini'), 1_000_000, 500_000)).toBeCloseTo(0.45, 12);
    expect(() => parsePrice('in=0.1')).toThrow(/give both in=N and out=N/);
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ m: { in: -1, out: 0 } }));
    expect(() => parsePrice(join(dir, 'bad.json'))).toThrow(/"in" must be a non-negative number/);
  });

  it('scrubbing: secrets and credentials out of text and JSON', async () => {
    const { scrubText, scrubJson } = await import('../../../agents/llm/index.js');
    expect(scrubText('key sk-abc123456 here', ['sk-abc123456'])).toBe('key [REDACTED] here');
    expect(scrubText('Authorization: Bearer abcdefghijkl', [])).toBe('Authorization: [REDACTED]');
    expect(scrubText('{"authorization":"Bearer xyz"}', [])).toBe('{"authorization":"[REDACTED]"}');
    expect(scrubText('sent bearer abcdefghijklmnop', [])).toBe('sent Bearer [REDACTED]');
    expect(scrubJson({ a: ['x sk-abc123456'], 'sk-abc123456': 1 }, ['sk-abc123456'])).toEqual({
      a: ['x [REDACTED]'],
      '[REDACTED]': 1,
    });
  });
});
