/**
 * Transports: how a request body reaches a model and what comes back. The agent only sees this
 * interface, so the same agent runs against a live API (http-transport.ts), a response cache
 * (cache.ts) or a recording (recorded.ts), and replays never touch the network.
 */
import type { JsonValue } from '../../scenarios/spec/schema.js';
import type { JsonObject } from './tools.js';

/** One attempt that failed before the one that succeeded (a retry). */
export interface FailedAttempt {
  /** HTTP status, or null for a connection failure or timeout. */
  readonly status: number | null;
  readonly error: string;
  /** How long the transport waited before the next attempt, ms. */
  readonly waitedMs: number;
}

/** What one request produced. Everything here is recorded in the decision's note. */
export interface Exchange {
  /** The response body, as JSON (secrets scrubbed). */
  readonly response: JsonValue;
  /** Measured latency of the attempt that succeeded, ms; null when no wall clock was given. */
  readonly latencyMs: number | null;
  readonly attempts: readonly FailedAttempt[];
  /**
   * The server's message when it could not parse what the model generated (llama.cpp's 500 "...
   * does not match the expected ... format"): the model's failure, not the network's, so the reply
   * is a malformed one (`response` is then the error body). Null or absent otherwise.
   */
  readonly unparsed?: string | null;
}

export interface Transport {
  send(body: JsonObject): Promise<Exchange>;
}

/** A request that failed for good (after retries, or not retryable): the episode ends `errored`. */
export class LlmTransportError extends Error {
  override name = 'LlmTransportError';
}

/**
 * The request did not fit the model's context window (a 400 saying so): the conversation has grown
 * past what the model can read, which ends the episode at the `contextOverflow` limit, not `errored`.
 */
export class LlmContextOverflow extends LlmTransportError {
  override name = 'LlmContextOverflow';
}

/** A replay asked for more responses than were recorded (see recorded.ts). */
export class RecordingEnded extends Error {
  override name = 'RecordingEnded';
}

/** A wall clock, injected by the caller (the command line): simulation code never reads one. */
export interface WallClock {
  /** Monotonic milliseconds, for latencies. */
  monotonicMs(): number;
  /** Milliseconds since the epoch, for HTTP-date `Retry-After` headers. */
  epochMs(): number;
}

/**
 * A request limiter shared by every request to one provider (`--rate-limit`; in-process or across
 * a cluster through Redis: cli/rate-limit.ts). The transport waits on it before each attempt.
 */
export interface RequestLimiter {
  /** Resolves once a request may be sent (the rate allows it and no back-off holds). */
  acquire(): Promise<void>;
  /** The provider answered 429: nobody sharing this limiter sends for `ms` (rounded up to whole s). */
  backOff(ms: number): Promise<void>;
}

/**
 * Permits for requests in flight to one provider (`--max-requests-in-flight`; in-process or across
 * a cluster through Redis: cli/in-flight.ts). The transport holds one from before an attempt is
 * sent until its reply is read, never while it waits to retry.
 */
export interface RequestPermits {
  /** Resolves once fewer than the limit are held, with the release of the permit taken. */
  take(): Promise<() => Promise<void>>;
}
