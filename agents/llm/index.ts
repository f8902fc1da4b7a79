/**
 * Model agents over any OpenAI-compatible Chat Completions API (user guide: docs/MODELS.md).
 *
 * - setup.ts: `openai:MODEL` specs, options, `llmAgentFactory` (key, transport, cache);
 * - agent.ts: `LlmAgent`, one conversation per episode; reply.ts: model output to actions;
 *   render.ts: observations to chat text; tools.ts: the function tools; prompt.ts: the prompt;
 * - think.ts + profiles.ts: think time; usage.ts + price.ts: tokens and cost;
 * - transport.ts, http-transport.ts (SDK, retries: retry.ts), cache.ts, recorded.ts, scrub.ts;
 * - note.ts: the decision note; replay.ts: `makeReplayAgent` for verify.
 */
export { LlmAgent, BEYOND_RECORDING_THINK_US } from './agent.js';
export {
  cacheEntry,
  cachingTransport,
  requestHash,
  writeCacheEntry,
  CACHE_FORMAT,
  type CacheEntry,
  type CacheStats,
} from './cache.js';
export type { LatencyStats } from './measured.js';
export { httpTransport, type HttpTransportOptions } from './http-transport.js';
export {
  NOTE_FORMAT,
  notesOf,
  readNote,
  type Issue,
  type IssueKind,
  type LlmConfig,
  type LlmNote,
} from './note.js';
export {
  costUsd,
  parsePrice,
  priceFor,
  priceJson,
  priceOfJson,
  type Price,
  type PriceTable,
} from './price.js';
export {
  DEFAULT_PROFILE,
  PROFILES,
  parseThinkProfile,
  profileFor,
  resolveProfile,
  type ThinkProfile,
} from './profiles.js';
export { PROMPT_VERSION, systemPrompt } from './prompt.js';
export { recordedTransport, type RecordedOptions } from './recorded.js';
export { makeReplayAgent } from './replay.js';
export {
  DEFAULT_BACKOFF,
  backoffMs,
  isContextOverflow,
  isUnparsedOutput,
  retryAfterMs,
  type BackoffOptions,
} from './retry.js';
export { REDACTED, base64Fragments, redactSecrets, scrubJson, scrubText } from './scrub.js';
export {
  DEFAULT_API_KEY_ENV,
  DEFAULT_MAX_CALLS_PER_TURN,
  DEFAULT_MAX_IDLE_TURNS,
  MODEL_PREFIX,
  canonicalModelSpec,
  isModelSpec,
  llmAgentFactory,
  llmConfig,
  modelOf,
  type LlmOptions,
  type ModelAgentFactory,
} from './setup.js';
export { estimateTokens, tokenThinkUs, wallThinkUs, type ThinkMode } from './think.js';
export {
  LlmContextOverflow,
  LlmTransportError,
  RecordingEnded,
  type Exchange,
  type FailedAttempt,
  type RequestLimiter,
  type RequestPermits,
  type Transport,
  type WallClock,
} from './transport.js';
export { llmUsage, sumUsage, type UsageTotals } from './usage.js';
