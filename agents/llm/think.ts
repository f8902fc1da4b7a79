/**
 * Think time of a model turn, in simulated µs.
 *
 * - `tokens` (default): deterministic, from the token counts the response reports:
 *   round(ttftMs·1000 + promptTokens·prefillUsPerToken + completionTokens·1e6 / decodeTokensPerS).
 *   When the server reports no usage, tokens are estimated as ceil(characters / 4) of the request's
 *   messages and tools (prompt) and of the reply message (completion), and the note says so.
 * - `wall`: the measured latency of the request that succeeded (retries and backoff excluded),
 *   round(latencyMs·1000). The latency is measured by the transport with a clock the caller
 *   injects, and recorded in the note, so a replay reuses it and stays exact; such a run is not
 *   reproducible by nature. Under `tokens` the note records no latency (measured.ts).
 */
import type { ThinkProfile } from './profiles.js';

export type ThinkMode = 'tokens' | 'wall';

export function tokenThinkUs(
  profile: ThinkProfile,
  promptTokens: number,
  completionTokens: number,
): number {
  return Math.max(
    0,
    Math.round(
      profile.ttftMs * 1000 +
        promptTokens * profile.prefillUsPerToken +
        (completionTokens * 1e6) / profile.decodeTokensPerS,
    ),
  );
}

export function wallThinkUs(latencyMs: number): number {
  return Math.max(0, Math.round(latencyMs * 1000));
}

/** The estimate used when a server reports no token usage. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
