/**
 * From a spec string and options to a model agent: `openai:MODEL` (the model name may itself hold
 * colons: `openai:qwen2.5:7b`), the API key from the environment, one transport (SDK client, retry
 * policy, optional cache) shared by every episode of a run.
 */
import type { Agent } from '../../scenarios/protocol.js';
import { AgentSpecError } from '../spec.js';
import { LlmAgent } from './agent.js';
import { cacheEntry, cachingTransport, type CacheEntry, type CacheStats } from './cache.js';
import { httpTransport } from './http-transport.js';
import { tallyingLatency, withoutLatency, type LatencyStats } from './measured.js';
import type { LlmConfig } from './note.js';
import { resolveProfile, type ThinkProfile } from './profiles.js';
import { PROMPT_VERSION } from './prompt.js';
import type { BackoffOptions } from './retry.js';
import type { ThinkMode } from './think.js';
import type { RequestLimiter, RequestPermits, Transport, WallClock } from './transport.js';

export const MODEL_PREFIX = 'openai:';
export const DEFAULT_API_KEY_ENV = 'OPENAI_API_KEY';
export const DEFAULT_MAX_CALLS_PER_TURN = 8;
/** Consecutive turns without a usable tool call before an episode ends at `maxIdleTurns`. */
export const DEFAULT_MAX_IDLE_TURNS = 8;

export function isModelSpec(spec: string): boolean {
  const s = spec.trim();
  return s === 'openai' || s.startsWith(MODEL_PREFIX);
}

/** The model of an `openai:MODEL` spec (everything after the first colon, trimmed). */
export function modelOf(spec: string): string {
  const s = spec.trim();
  const model = s.startsWith(MODEL_PREFIX) ? s.slice(MODEL_PREFIX.length).trim() : '';
  if (model === '')
    throw new AgentSpecError(
      `agent spec "${spec}": name a model, for example openai:gpt-4o-mini or openai:qwen2.5:7b`,
    );
  return model;
}

export function canonicalModelSpec(spec: string): string {
  return `${MODEL_PREFIX}${modelOf(spec)}`;
}

/**
 * Settings of model agents (what the CLI's model flags set): endpoint and key, sampling, think
 * time, calls per turn, retries and timeouts, a response cache, and the transport. Every field is
 * optional.
 */
export interface LlmOptions {
  /** The API's base URL (default: the SDK's: OPENAI_BASE_URL, else OpenAI). */
  readonly baseURL?: string;
  /** The key itself (tests); otherwise read from `env[apiKeyEnv]`. */
  readonly apiKey?: string;
  /** The environment variable holding the key (default OPENAI_API_KEY). */
  readonly apiKeyEnv?: string;
  /** Default: process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly temperature?: number;
  readonly maxTokens?: number;
  readonly think?: ThinkMode;
  /** Overrides of the model's think profile (profiles.ts). */
  readonly thinkProfile?: Partial<ThinkProfile>;
  readonly maxCallsPerTurn?: number;
  /** Requests per episode (default: none beyond the scenario's maxDecisions). */
  readonly maxTurns?: number;
  /** Consecutive turns without a usable tool call (default DEFAULT_MAX_IDLE_TURNS). */
  readonly maxIdleTurns?: number;
  readonly maxRetries?: number;
  /** Per-attempt timeout, ms. */
  readonly timeoutMs?: number;
  readonly backoff?: Partial<BackoffOptions>;
  /** A response cache folder (cache.ts). */
  readonly cacheDir?: string;
  /** A wall clock for measured latencies (needed by think "wall"); simulation code never reads one. */
  readonly clock?: WallClock;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Replaces the HTTP transport (a recording, a test double); no key is needed then. */
  readonly transport?: Transport;
  /** Waited on before every request (`--rate-limit`); 429s then back off through it. */
  readonly limiter?: RequestLimiter;
  /** Held by each request while it is in flight (`--max-requests-in-flight`). */
  readonly permits?: RequestPermits;
  /**
   * Given each request's cache entry as the response cache would keep it, hit or miss (a queue
   * worker hands them to the coordinator, whose cache then holds what a local run's would).
   */
  readonly collect?: (entry: CacheEntry) => void;
}

/**
 * Makes a fresh model agent per `openai:MODEL` spec, sharing one transport and cache; `cacheStats`
 * reports the response cache's hits and misses (null without a cache); `latencyStats` the
 * measured latencies of the requests sent to the server (cache hits and a given transport
 * excluded): what the notes leave out unless think time is `wall` (measured.ts).
 */
export type ModelAgentFactory = ((spec: string) => Agent) & {
  readonly cacheStats: CacheStats | null;
  readonly latencyStats: LatencyStats;
};

function check(ok: boolean, message: string): void {
  if (!ok) throw new AgentSpecError(message);
}

/** The agent configuration for a model, from options (validated). */
export function llmConfig(model: string, options: LlmOptions): LlmConfig {
  const { temperature, maxTokens, maxCallsPerTurn, maxTurns, maxIdleTurns } = options;
  check(
    temperature === undefined || (Number.isFinite(temperature) && temperature >= 0),
    `--temperature must be a non-negative number, got ${String(temperature)}`,
  );
  check(
    maxTokens === undefined || (Number.isSafeInteger(maxTokens) && maxTokens > 0),
    `--max-tokens must be a positive integer, got ${String(maxTokens)}`,
  );
  check(
    maxCallsPerTurn === undefined || (Number.isSafeInteger(maxCallsPerTurn) && maxCallsPerTurn > 0),
    `--max-calls-per-turn must be a positive integer, got ${String(maxCallsPerTurn)}`,
  );
  check(
    maxTurns === undefined || (Number.isSafeInteger(maxTurns) && maxTurns > 0),
    `--max-turns must be a positive integer, got ${String(maxTurns)}`,
  );
  check(
    maxIdleTurns === undefined || (Number.isSafeInteger(maxIdleTurns) && maxIdleTurns > 0),
    `--max-idle-turns must be a positive integer, got ${String(maxIdleTurns)}`,
  );
  return {
    model,
    temperature: temperature ?? null,
    maxTokens: maxTokens ?? null,
    think: options.think ?? 'tokens',
    profile: resolveProfile(model, options.thinkProfile),
    maxCallsPerTurn: maxCallsPerTurn ?? DEFAULT_MAX_CALLS_PER_TURN,
    promptVersion: PROMPT_VERSION,
    maxTurns: maxTurns ?? null,
    maxIdleTurns: maxIdleTurns ?? DEFAULT_MAX_IDLE_TURNS,
  };
}

/**
 * A factory of model agents sharing one transport. Checks everything up front (key, numbers), so a
 * bad setting fails before the first episode with one line (`AgentSpecError`).
 */
export function llmAgentFactory(options: LlmOptions = {}): ModelAgentFactory {
  const { maxRetries, timeoutMs } = options;
  check(
    options.think === undefined || options.think === 'tokens' || options.think === 'wall',
    `--think must be tokens or wall, got ${String(options.think)}`,
  );
  check(
    maxRetries === undefined || (Number.isSafeInteger(maxRetries) && maxRetries >= 0),
    `--max-retries must be a non-negative integer, got ${String(maxRetries)}`,
  );
  check(
    timeoutMs === undefined || (Number.isFinite(timeoutMs) && timeoutMs > 0),
    `--request-timeout must be a positive number of ms, got ${String(timeoutMs)}`,
  );
  llmConfig('probe', options);
  let secrets: string[] = [];
  let transport: Transport;
  const latencyStats: LatencyStats = { requests: 0, totalMs: 0 };
  if (options.transport !== undefined) {
    transport = options.transport;
    if (options.apiKey !== undefined) secrets = [options.apiKey];
  } else {
    const envName = options.apiKeyEnv ?? DEFAULT_API_KEY_ENV;
    const env = options.env ?? process.env;
    const apiKey = options.apiKey ?? env[envName];
    check(
      apiKey !== undefined && apiKey.trim() !== '',
      `openai agents need an API key: set ${envName}${options.apiKeyEnv === undefined ? ' (or name another variable with --api-key-env)' : ''}; a local server that needs none takes any value, e.g. ${envName}=none`,
    );
    check(
      options.think !== 'wall' || options.clock !== undefined,
      'think time "wall" needs a wall clock (the command line provides one)',
    );
    secrets = [apiKey!];
    transport = httpTransport({
      apiKey: apiKey!,
      ...(options.baseURL === undefined ? {} : { baseURL: options.baseURL }),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      ...(maxRetries === undefined ? {} : { maxRetries }),
      ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      ...(options.sleep === undefined ? {} : { sleep: options.sleep }),
      ...(options.limiter === undefined ? {} : { limiter: options.limiter }),
      ...(options.permits === undefined ? {} : { permits: options.permits }),
    });
    transport = tallyingLatency(transport, latencyStats);
    // Measured, so never the same twice: left out of the notes (and the cache) unless it is the
    // think time. A given transport (a recording) answers as recorded: older notes carry latencies.
    if (options.think !== 'wall') transport = withoutLatency(transport);
  }
  const cacheStats: CacheStats | null =
    options.cacheDir === undefined ? null : { hits: 0, misses: 0 };
  if (options.cacheDir !== undefined)
    transport = cachingTransport(transport, options.cacheDir, {
      secrets,
      stats: cacheStats!,
      needsLatency: options.think === 'wall',
    });
  if (options.collect !== undefined) transport = collecting(transport, secrets, options.collect);
  // An entry a `wall` run filled holds its latency: not for these notes either.
  if (options.cacheDir !== undefined && options.transport === undefined && options.think !== 'wall')
    transport = withoutLatency(transport);
  const factory = (spec: string): Agent => {
    const model = modelOf(spec);
    return new LlmAgent(canonicalModelSpec(spec), llmConfig(model, options), {
      transport,
      secrets,
    });
  };
  return Object.assign(factory, { cacheStats, latencyStats });
}

/** `inner`, handing each exchange's cache entry to `collect`. */
function collecting(
  inner: Transport,
  secrets: readonly string[],
  collect: (entry: CacheEntry) => void,
): Transport {
  return {
    async send(body) {
      const exchange = await inner.send(body);
      collect(cacheEntry(body, exchange, secrets));
      return exchange;
    },
  };
}
