/**
 * `--rate-limit N[/s|/min]`: one request limiter per provider (base URL), on rate-limiter-flexible.
 * A local run's lives in its process (the library's memory mode); a queue's workers share one in
 * Redis (its Redis mode), under a key made from a hash of the base URL, so a cluster of workers
 * sends at most N requests a period to a provider, all of them together. A 429 blocks the shared
 * key for the Retry-After (whole seconds: the Redis mode keeps whole seconds), so every worker
 * waits, not only the one that was refused.
 *
 * The limit is a fixed window: at most N requests start in each period, so any stretch of one
 * period sees at most 2N (the end of one window and the start of the next).
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import type { RequestLimiter } from '../agents/llm/index.js';
import { UsageError } from './errors.js';

/** A request rate: `points` requests per `seconds`. */
export interface RateLimit {
  readonly points: number;
  readonly seconds: number;
}

/** Requests a period at most (a bound on a mistyped flag). */
const MAX_POINTS = 1_000_000;
/** Redis keys of the limiters: `tooltime:rate:<hash of the base URL>`. */
export const RATE_KEY_PREFIX = 'tooltime:rate';
/** The longest a wait on the limiter sleeps before asking again, ms. */
const MAX_POLL_MS = 1000;

/** `N`, `N/s` or `N/min` (a positive integer of requests). */
export function parseRateLimit(text: string): RateLimit {
  const m = /^\s*(\d+)\s*(?:\/\s*(s|min))?\s*$/.exec(text);
  const points = m === null ? Number.NaN : Number(m[1]);
  if (m === null || !(Number.isSafeInteger(points) && points >= 1 && points <= MAX_POINTS))
    throw new UsageError(
      `--rate-limit must be N, N/s or N/min with N a whole number from 1 to ${MAX_POINTS}, got "${text}"`,
    );
  return { points, seconds: m[2] === 'min' ? 60 : 1 };
}

/** The rate as the flag spells it. */
export function rateText(rate: RateLimit): string {
  return `${rate.points}/${rate.seconds === 60 ? 'min' : 's'}`;
}

/** The limiter key of a provider: no part of the URL itself (it may hold credentials). */
export function providerKey(baseURL: string): string {
  return createHash('sha256').update(baseURL).digest('hex').slice(0, 32);
}

/** An in-process limiter (a local run). */
export function memoryLimiter(rate: RateLimit): RequestLimiter {
  const limiter = new RateLimiterMemory({ points: rate.points, duration: rate.seconds });
  return limiterOver(limiter, 'local');
}

/** A limiter shared through Redis by every process that names the same provider and rate. */
export function redisLimiter(client: Redis, baseURL: string, rate: RateLimit): RequestLimiter {
  const limiter = new RateLimiterRedis({
    storeClient: client,
    keyPrefix: RATE_KEY_PREFIX,
    points: rate.points,
    duration: rate.seconds,
  });
  return limiterOver(limiter, providerKey(baseURL));
}

function limiterOver(limiter: RateLimiterAbstract, key: string): RequestLimiter {
  return {
    async acquire() {
      for (;;) {
        try {
          await limiter.consume(key);
          return;
        } catch (error) {
          // A RateLimiterRes is "not yet" (msBeforeNext); anything else is Redis failing.
          if (!(error instanceof RateLimiterRes)) throw error;
          await sleep(Math.min(MAX_POLL_MS, Math.max(1, error.msBeforeNext)));
        }
      }
    },
    async backOff(ms) {
      await limiter.block(key, Math.max(1, Math.ceil(ms / 1000)));
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
