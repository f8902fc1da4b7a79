/**
 * The command line's side of model agents (`--agent openai:MODEL`): the `run` flags that configure
 * them, the wall clock they may measure latencies with (kept here, outside simulation code), and
 * the usage table (tokens, cost, retries, errored episodes) printed under the comparison table.
 */
import type { Command } from 'commander';
import { performance } from 'node:perf_hooks';
import {
  createAgent,
  isModelSpec,
  llmAgentFactory,
  llmUsage,
  type LlmOptions,
  type ModelAgentFactory,
} from '../agents/index.js';
import {
  parsePrice,
  parseThinkProfile,
  sumUsage,
  type PriceTable,
  type Transport,
  type WallClock,
} from '../agents/llm/index.js';
import type { EpisodeEvent } from '../scenarios/world/events.js';
import type { EpisodeRecord, EpisodeUsage } from '../scenarios/experiment.js';
import type { Agent } from '../scenarios/protocol.js';
import { UsageError } from './errors.js';
import { localPermits, parseMaxInFlight } from './in-flight.js';
import { memoryLimiter, parseRateLimit } from './rate-limit.js';
import { table } from './table.js';

export interface LlmFlags {
  readonly baseUrl?: string;
  readonly apiKeyEnv?: string;
  readonly temperature?: string;
  readonly maxTokens?: string;
  readonly think?: string;
  readonly thinkProfile?: string;
  readonly maxRetries?: string;
  readonly requestTimeout?: string;
  readonly cache?: string;
  readonly price?: string;
  readonly maxCallsPerTurn?: string;
  readonly maxTurns?: string;
  readonly maxIdleTurns?: string;
  readonly rateLimit?: string;
  readonly maxRequestsInFlight?: string;
}

/** The wall clock model agents measure request latency with (`--think wall`). */
export const wallClock: WallClock = {
  monotonicMs: () => performance.now(),
  epochMs: () => Date.now(),
};

export function addLlmOptions(command: Command): Command {
  return command
    .option(
      '--base-url <url>',
      'model agents: the OpenAI-compatible API base URL (e.g. http://localhost:11434/v1 for Ollama)',
    )
    .option(
      '--api-key-env <name>',
      'model agents: the environment variable holding the API key (default OPENAI_API_KEY)',
    )
    .option('--temperature <t>', 'model agents: sampling temperature')
    .option('--max-tokens <n>', 'model agents: max_tokens per reply')
    .option(
      '--think <mode>',
      'model agents: think time from token counts (tokens) or measured latency (wall)',
      'tokens',
    )
    .option(
      '--think-profile <k=v,...>',
      "model agents: ttftMs=..,prefillUsPerToken=..,decodeTokensPerS=.. (default: the model's row in agents/llm/profiles.ts)",
    )
    .option(
      '--max-calls-per-turn <n>',
      'model agents: tool calls run per reply; the rest are refused (default 8)',
    )
    .option(
      '--max-turns <n>',
      "model agents: requests per episode; the episode then ends at the limit maxTurns (default: the scenario's maxDecisions only)",
    )
    .option(
      '--max-idle-turns <n>',
      'model agents: consecutive turns without a usable tool call before the episode ends at the limit maxIdleTurns (default 8)',
    )
    .option(
      '--max-retries <n>',
      'model agents: retries of a request after 429/5xx/timeouts (default 4)',
    )
    .option(
      '--request-timeout <ms>',
      'model agents: timeout of one request attempt (default 120000)',
    )
    .option(
      '--cache <dir>',
      'model agents: response cache folder, so an interrupted run resumes without paying twice',
    )
    .option(
      '--rate-limit <n[/s|/min]>',
      'model agents: requests to the provider started per second (or /min) at most, a 429 holding them all back; with --queue, shared by every worker through Redis',
    )
    .option(
      '--max-requests-in-flight <n>',
      'model agents: requests open to the provider at once at most (a request waits for a permit before it is sent); with --queue, shared by every worker of every run on that Redis',
    )
    .option(
      '--price <in=N,out=N|file.json>',
      'model agents: USD per million prompt (in) and completion (out) tokens, for the cost column',
    );
}

function num(raw: string | undefined, flag: string, integer: boolean): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || (integer && !Number.isSafeInteger(v)))
    throw new UsageError(
      `${flag} must be ${integer ? 'a whole number' : 'a number'}, got "${raw}"`,
    );
  return v;
}

/** Options for `llmAgentFactory` from the flags (bad values are one-line errors). */
export function llmOptions(flags: LlmFlags, clock: WallClock = wallClock): LlmOptions {
  const think = flags.think ?? 'tokens';
  if (think !== 'tokens' && think !== 'wall')
    throw new UsageError(`--think must be tokens or wall, got "${think}"`);
  const set = <K extends keyof LlmOptions>(
    key: K,
    value: LlmOptions[K] | undefined,
  ): Partial<LlmOptions> => (value === undefined ? {} : ({ [key]: value } as Partial<LlmOptions>));
  return {
    ...set('baseURL', flags.baseUrl),
    ...set('apiKeyEnv', flags.apiKeyEnv),
    ...set('temperature', num(flags.temperature, '--temperature', false)),
    ...set('maxTokens', num(flags.maxTokens, '--max-tokens', true)),
    think,
    ...set(
      'thinkProfile',
      flags.thinkProfile === undefined ? undefined : parseThinkProfile(flags.thinkProfile),
    ),
    ...set('maxCallsPerTurn', num(flags.maxCallsPerTurn, '--max-calls-per-turn', true)),
    ...set('maxTurns', num(flags.maxTurns, '--max-turns', true)),
    ...set('maxIdleTurns', num(flags.maxIdleTurns, '--max-idle-turns', true)),
    ...set('maxRetries', num(flags.maxRetries, '--max-retries', true)),
    ...set('timeoutMs', num(flags.requestTimeout, '--request-timeout', false)),
    ...set('cacheDir', flags.cache),
    clock,
  };
}

export interface ModelSetup {
  /** Makes every agent of the run: model specs through one shared factory, the rest as `fallback` does. */
  readonly makeAgent: (spec: string) => Agent;
  /** Computes each model episode's usage (null when no agent of the run is a model). */
  readonly usageOf: ((events: readonly EpisodeEvent[]) => EpisodeUsage | null) | null;
  readonly models: ModelAgentFactory | null;
  readonly price: PriceTable | null;
}

/**
 * Sets up model agents for a run when any agent spec names one (checks the key and flags before
 * the first episode; `--rate-limit` and `--max-requests-in-flight` are this process's own);
 * `fallback` makes the other agents. `transport` replaces the HTTP one (no key is read then).
 */
export function modelSetup(
  agents: readonly string[],
  flags: LlmFlags,
  fallback: (spec: string) => Agent = (s) => createAgent(s),
  transport?: Transport,
): ModelSetup {
  const price = flags.price === undefined ? null : parsePrice(flags.price);
  if (!agents.some(isModelSpec)) return { makeAgent: fallback, usageOf: null, models: null, price };
  const rate = flags.rateLimit === undefined ? null : parseRateLimit(flags.rateLimit);
  const inFlight =
    flags.maxRequestsInFlight === undefined ? null : parseMaxInFlight(flags.maxRequestsInFlight);
  const models = llmAgentFactory({
    ...llmOptions(flags),
    ...(transport === undefined ? {} : { transport }),
    ...(rate === null ? {} : { limiter: memoryLimiter(rate) }),
    ...(inFlight === null ? {} : { permits: localPermits(inFlight) }),
  });
  return {
    makeAgent: (spec) => (isModelSpec(spec) ? models(spec) : fallback(spec)),
    usageOf: (events) => llmUsage(events, price),
    models,
    price,
  };
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const usd = (c: number | null): string =>
  c === null ? '-' : c < 0.01 ? c.toFixed(5) : c.toFixed(4);

/** Per agent: usage totals, for the JSON output. */
export function usageByAgent(
  records: readonly EpisodeRecord[],
): Array<{ agent: string } & ReturnType<typeof sumUsage>> {
  const agents = [...new Set(records.filter((r) => r.usage !== undefined).map((r) => r.agent))];
  return agents.map((agent) => ({ agent, ...sumUsage(records.filter((r) => r.agent === agent)) }));
}

/** The usage table and the errored episodes' reasons; empty when no episode has usage. */
export function formatUsage(records: readonly EpisodeRecord[], maxErrors = 10): string {
  const rows = usageByAgent(records);
  if (rows.length === 0) return '';
  const lines = [
    table(
      [
        'model agent',
        'episodes',
        'errored',
        'requests',
        'retries',
        'prompt tokens',
        'completion tokens',
        'tokens/episode',
        'cost USD',
        'cost/episode',
        'malformed replies',
      ],
      rows.map((u) => [
        u.agent,
        String(u.episodes),
        String(u.errored),
        String(u.requests),
        String(u.retries),
        int(u.promptTokens),
        int(u.completionTokens),
        int((u.promptTokens + u.completionTokens) / Math.max(1, u.episodes)),
        usd(u.costUsd),
        usd(u.costUsd === null ? null : u.costUsd / Math.max(1, u.episodes)),
        String(u.issues),
      ]),
    ),
  ];
  const errored = records.filter((r) => r.endReason === 'errored' && r.usage !== undefined);
  for (const r of errored.slice(0, maxErrors))
    lines.push(
      `errored: ${r.instance} seed ${r.seed} (${r.agent}): ${r.usage?.error ?? 'unknown reason'}`,
    );
  if (errored.length > maxErrors)
    lines.push(
      `... and ${errored.length - maxErrors} more errored episodes (see episodes.jsonl with --out)`,
    );
  return lines.join('\n');
}

/**
 * The transport of a queue run's coordinator: its model agents' episodes run on the workers, which
 * call the model with their own keys, so this process needs none and sends nothing.
 */
export const workersCallTheModel: Transport = {
  send: () =>
    Promise.reject(new Error('a queue run sends no model request itself: its workers do')),
};
