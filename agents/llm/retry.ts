/**
 * Retrying failed requests: which failures are retried, and how long to wait.
 *
 * - Retried: HTTP 408, 409, 429 and 5xx, connection failures and timeouts, and a 200 whose body is
 *   not JSON. Anything else (400, 401, 403, 404, 422...) fails at once.
 * - Not retried, and not failures of the request: a 5xx whose body says the server could not parse
 *   the model's output (llama.cpp: "The model produced output that does not match the expected ...
 *   format", "Failed to parse input at pos ...", "Failed to parse tool call arguments as JSON"):
 *   the same request to a deterministic server fails the same way, so it is the model's malformed
 *   reply; and a 400 saying the request exceeds the model's context, which no retry can fix.
 * - The wait before retry k (0-based) is the server's `retry-after-ms` or `Retry-After` (seconds or
 *   an HTTP date) when present, capped at `maxWaitMs`; otherwise exponential backoff
 *   min(maxMs, baseMs·2^k), jittered into [75%, 100%] by a hash of the request and k: a
 *   deterministic schedule (the same request waits the same), still spread across requests.
 */
import { createHash } from 'node:crypto';

export interface BackoffOptions {
  /** First wait, ms (default 500). */
  readonly baseMs: number;
  /** Largest computed wait, ms (default 8000). */
  readonly maxMs: number;
  /** Largest wait a Retry-After header can impose, ms (default 60000). */
  readonly maxWaitMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 8000, maxWaitMs: 60_000 };

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

const UNPARSED = /does not match the expected .{0,80}format|failed to parse (?:input|tool call)/i;
const CONTEXT =
  /exceeds? the available context size|exceed_context_size|maximum context length|context_length_exceeded|context window/i;

/** A reply in which the server says it could not parse what the model generated. */
export function isUnparsedOutput(status: number | null, text: string): boolean {
  return status !== null && status >= 500 && UNPARSED.test(text);
}

/** A reply in which the server says the request does not fit the model's context. */
export function isContextOverflow(status: number | null, text: string): boolean {
  return (status === 400 || status === 413) && CONTEXT.test(text);
}

/** The jittered exponential wait before retry `k` of the request whose key is `requestKey`. */
export function backoffMs(options: BackoffOptions, requestKey: string, k: number): number {
  const raw = Math.min(options.maxMs, options.baseMs * 2 ** k);
  const h = createHash('sha256').update(`${requestKey}\u0000${k}`).digest();
  const u = h.readUInt32BE(0) / 2 ** 32;
  return Math.round(raw * (0.75 + 0.25 * u));
}

/**
 * The wait a response asks for, ms, or null. `epochMs` (the current time) is needed only for an
 * HTTP-date `Retry-After`; without it such a header is ignored.
 */
export function retryAfterMs(
  headers: { get(name: string): string | null } | undefined,
  epochMs: (() => number) | null,
): number | null {
  if (headers === undefined) return null;
  const ms = headers.get('retry-after-ms');
  if (ms !== null && ms.trim() !== '' && Number.isFinite(Number(ms)) && Number(ms) >= 0)
    return Number(ms);
  const after = headers.get('retry-after');
  if (after === null || after.trim() === '') return null;
  const seconds = Number(after);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : null;
  const date = Date.parse(after);
  if (Number.isNaN(date) || epochMs === null) return null;
  return Math.max(0, date - epochMs());
}
