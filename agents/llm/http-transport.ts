/**
 * The live transport: the official `openai` SDK against any OpenAI-compatible Chat Completions
 * endpoint (OpenAI, vLLM, Ollama, llama.cpp server, OpenRouter... chosen by base URL), with the
 * SDK's own retries off (`maxRetries: 0`) and ours instead (retry.ts), so every attempt is recorded.
 *
 * The raw response body is read as text and parsed here (`asResponse()`), so the note holds the
 * JSON the server sent, not the SDK's view of it. Latency is measured with the `WallClock` the
 * caller injects (the command line passes one); without a clock no latency is measured. The SDK is
 * loaded on the first request, so agents that never call out do not pay for it.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../scenarios/spec/canonical.js';
import type { JsonValue } from '../../scenarios/spec/schema.js';
import {
  DEFAULT_BACKOFF,
  backoffMs,
  isContextOverflow,
  isRetryableStatus,
  isUnparsedOutput,
  retryAfterMs,
  type BackoffOptions,
} from './retry.js';
import { scrubJson, scrubText } from './scrub.js';
import type { JsonObject } from './tools.js';
import {
  LlmContextOverflow,
  LlmTransportError,
  type Exchange,
  type FailedAttempt,
  type RequestLimiter,
  type RequestPermits,
  type Transport,
  type WallClock,
} from './transport.js';

export interface HttpTransportOptions {
  readonly apiKey: string;
  /** Default: the SDK's (OPENAI_BASE_URL, else https://api.openai.com/v1). */
  readonly baseURL?: string;
  /** Per-attempt timeout, ms (default 120000). */
  readonly timeoutMs?: number;
  /** Retries after the first attempt (default 4). */
  readonly maxRetries?: number;
  readonly backoff?: Partial<BackoffOptions>;
  /** Measures latencies (and dates Retry-After); without it latencyMs is null. */
  readonly clock?: WallClock;
  /** How to wait between attempts (default setTimeout); tests pass a recorder. */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * Waited on before each attempt. With one, a 429 is the limiter's: it backs off for every user
   * of the limiter and the request is sent again, not recorded as a failed attempt (up to
   * MAX_THROTTLES times a request), so what a run records does not depend on the load.
   */
  readonly limiter?: RequestLimiter;
  /** Held from before each attempt is sent until its reply is read (`--max-requests-in-flight`). */
  readonly permits?: RequestPermits;
}

/** 429s a request absorbs under a limiter before the next one counts as a failed attempt. */
export const MAX_THROTTLES = 32;

type OpenAIModule = typeof import('openai');

interface Failure {
  readonly status: number | null;
  readonly error: string;
  readonly retryable: boolean;
  readonly headers?: { get(name: string): string | null };
  /** The error body's `error` field as the server sent it (JSON), when it sent one. */
  readonly body?: JsonValue;
}

const oneLine = (s: string, max = 300): string => {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
};

function classify(error: unknown, mod: OpenAIModule): Failure {
  if (error instanceof mod.APIConnectionTimeoutError)
    return { status: null, error: 'request timed out', retryable: true };
  if (error instanceof mod.APIConnectionError) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return { status: null, error: `connection error${cause}`, retryable: true };
  }
  if (error instanceof mod.APIError && typeof error.status === 'number') {
    const headers = error.headers;
    const body =
      error.error === undefined || error.error === null ? {} : { body: error.error as JsonValue };
    return {
      status: error.status,
      error: error.message,
      retryable: isRetryableStatus(error.status),
      ...(headers === undefined ? {} : { headers }),
      ...body,
    };
  }
  return {
    status: null,
    error: error instanceof Error ? error.message : String(error),
    retryable: false,
  };
}

const defaultSleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

export function httpTransport(options: HttpTransportOptions): Transport {
  const secrets = [options.apiKey];
  const maxRetries = options.maxRetries ?? 4;
  const backoff: BackoffOptions = { ...DEFAULT_BACKOFF, ...options.backoff };
  const sleep = options.sleep ?? defaultSleep;
  const clock = options.clock ?? null;
  let loaded: Promise<{ mod: OpenAIModule; client: Client }> | null = null;
  const load = () =>
    (loaded ??= import('openai').then((mod) => ({
      mod,
      client: new mod.default({
        apiKey: options.apiKey,
        ...(options.baseURL === undefined ? {} : { baseURL: options.baseURL }),
        maxRetries: 0,
        timeout: options.timeoutMs ?? 120_000,
        logLevel: 'off',
      }),
    })));

  return {
    async send(body: JsonObject): Promise<Exchange> {
      const { mod, client } = await load();
      const requestKey = createHash('sha256').update(canonicalJson(body)).digest('hex');
      const attempts: FailedAttempt[] = [];
      let throttles = 0;
      for (let k = 0; ; k++) {
        // The permit before the rate: a request waiting for a permit has not started, so it spends
        // the rate's token only once it may go (else a second could see more than the rate allows).
        const release = await options.permits?.take();
        let tried: Attempted;
        try {
          await options.limiter?.acquire();
          tried = await attempt(mod, client, body, secrets, clock);
        } finally {
          await release?.();
        }
        if ('reply' in tried) return { ...tried.reply, attempts };
        const failure = tried.failure;
        const scrubbed = scrubText(failure.error, secrets);
        const message = oneLine(scrubbed);
        const detail = `${scrubbed} ${JSON.stringify(failure.body ?? null)}`;
        if (isUnparsedOutput(failure.status, detail)) {
          // The model's malformed reply, not a failed request: no retry (the same request fails the same way).
          const response = scrubJson(
            { error: failure.body ?? { message: failure.error } },
            secrets,
          );
          return { response, latencyMs: tried.latencyMs, attempts, unparsed: message };
        }
        if (isContextOverflow(failure.status, detail))
          throw new LlmContextOverflow(`model request failed: ${message}`);
        if (options.limiter !== undefined && failure.status === 429 && throttles < MAX_THROTTLES) {
          await options.limiter.backOff(
            throttleMs(failure, backoff, requestKey, throttles++, clock),
          );
          k--;
          continue;
        }
        if (!failure.retryable || k >= maxRetries) {
          const tries = k + 1;
          const status =
            failure.status === null || message.startsWith(String(failure.status))
              ? ''
              : `${failure.status} `;
          throw new LlmTransportError(
            `model request failed${failure.retryable ? ` after ${tries} attempt${tries === 1 ? '' : 's'}` : ''}: ${status}${message}`,
          );
        }
        const asked = retryAfterMs(failure.headers, clock === null ? null : () => clock.epochMs());
        const waitedMs = Math.round(
          asked === null ? backoffMs(backoff, requestKey, k) : Math.min(asked, backoff.maxWaitMs),
        );
        attempts.push({ status: failure.status, error: message, waitedMs });
        await sleep(waitedMs);
      }
    },
  };
}

type Client = InstanceType<OpenAIModule['default']>;

/** One attempt's outcome: the reply, or the failure (with the time it took: a malformed reply's). */
type Attempted =
  | { readonly reply: { readonly response: JsonValue; readonly latencyMs: number | null } }
  | { readonly failure: Failure; readonly latencyMs: number | null };

/** Sends `body` once and reads the whole reply (the request is in flight until then). */
async function attempt(
  mod: OpenAIModule,
  client: Client,
  body: JsonObject,
  secrets: readonly string[],
  clock: WallClock | null,
): Promise<Attempted> {
  const t0 = clock === null ? null : clock.monotonicMs();
  const since = () =>
    t0 === null || clock === null ? null : Math.round((clock.monotonicMs() - t0) * 1000) / 1000;
  try {
    const res = await client.chat.completions.create(body as never).asResponse();
    const text = await res.text();
    const latencyMs = since();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (json !== null && typeof json === 'object' && !Array.isArray(json))
      return {
        reply: { response: withoutServerStamps(scrubJson(json as JsonValue, secrets)), latencyMs },
      };
    // The whole body is scrubbed before oneLine cuts it short (a cut key would escape the scrub).
    const error = `the response body is not a JSON object: ${text}`;
    return { failure: { status: res.status, error, retryable: true }, latencyMs };
  } catch (error) {
    return { failure: classify(error, mod), latencyMs: since() };
  }
}

/** How long a 429 holds the limiter: what the server asks for, else the backoff schedule. */
function throttleMs(
  failure: Failure,
  backoff: BackoffOptions,
  requestKey: string,
  n: number,
  clock: WallClock | null,
): number {
  const asked = retryAfterMs(failure.headers, clock === null ? null : () => clock.epochMs());
  return asked === null ? backoffMs(backoff, requestKey, n) : Math.min(asked, backoff.maxWaitMs);
}

/**
 * Top-level fields a server stamps on each reply that say nothing of what the model said: the
 * reply's own `id`, the wall-clock second it was `created`, and llama.cpp's `timings`. They differ
 * on every request even from a deterministic model, so they are dropped here, where a live reply
 * enters tooltime, and never reach a note, the cache or a replay (a run of one command against a
 * deterministic server gives the same bytes twice). `system_fingerprint` stays: it names the
 * model's build, which a reader of the replay wants to know.
 */
const SERVER_STAMPS: readonly string[] = ['id', 'created', 'timings'];

function withoutServerStamps(response: JsonValue): JsonValue {
  if (response === null || typeof response !== 'object' || Array.isArray(response)) return response;
  if (!SERVER_STAMPS.some((k) => Object.hasOwn(response, k))) return response;
  const kept: { [key: string]: JsonValue } = {};
  for (const [k, v] of Object.entries(response)) if (!SERVER_STAMPS.includes(k)) kept[k] = v;
  return kept;
}
