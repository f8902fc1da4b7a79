/**
 * `--max-requests-in-flight N`: at most N requests open to one provider (base URL) at once. A local
 * run's permits live in its process; a queue's workers share a counting semaphore in Redis, keyed
 * by a hash of the base URL, so the workers of every run sharing that Redis hold at most N
 * together. A request holds its permit from before it is sent until its reply is read
 * (http-transport.ts): waiting for one only delays a send, so what a run records does not change.
 *
 * The Redis semaphore is redis-semaphore's (on ioredis, which BullMQ already uses) rather than Lua
 * of our own: its take, renew and release are each one atomic script, and a holder's lease is
 * renewed on a timer while its request runs. A worker killed holding a permit stops renewing it,
 * and the permit is dropped once its lease ran out (the next taker's script removes it, or the
 * key's own expiry): PERMIT_LEASE_MS after its last renewal at most. Leases are dated by each
 * machine's clock, so the machines' clocks must agree to well under the lease (NTP does).
 */
import { Redis } from 'ioredis';
import { Semaphore } from 'redis-semaphore';
import type { RequestPermits } from '../agents/llm/index.js';
import { assertInvariant } from '../engine/assert.js';
import { UsageError } from './errors.js';
import { providerKey } from './rate-limit.js';

/** The most requests in flight a flag may ask for (a bound on a mistyped flag). */
export const MAX_REQUESTS_IN_FLIGHT = 10_000;
/** Keys: the permits `tooltime:inflight:semaphore:<hash>`, the runs' mark `...:<hash>:limit`. */
export const IN_FLIGHT_KEY_PREFIX = 'tooltime:inflight';
/** A permit whose holder stopped renewing it is dropped after this long (a killed worker's). */
export const PERMIT_LEASE_MS = 5000;
/** How often a holder renews its permit's lease (several renewals fit in one lease). */
const PERMIT_RENEW_MS = 1000;
/** How often a request waiting for a permit asks again, ms. */
const PERMIT_POLL_MS = 25;

/** `N`, a whole number of requests from 1 to MAX_REQUESTS_IN_FLIGHT. */
export function parseMaxInFlight(text: string): number {
  const n = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !(n >= 1 && n <= MAX_REQUESTS_IN_FLIGHT))
    throw new UsageError(
      `--max-requests-in-flight must be a whole number from 1 to ${MAX_REQUESTS_IN_FLIGHT}, got "${text}"`,
    );
  return n;
}

/** The Redis key of a provider's run mark (which limit the coordinators running it use). */
export const inFlightMarkKey = (baseURL: string): string =>
  `${IN_FLIGHT_KEY_PREFIX}:${providerKey(baseURL)}:limit`;

/** The Redis key of a provider's permits (a sorted set of holders, dated by their leases). */
export const permitsKey = (baseURL: string): string =>
  `${IN_FLIGHT_KEY_PREFIX}:semaphore:${providerKey(baseURL)}`;

/** In-process permits (a local run): at most `limit` held, the rest served in order. */
export function localPermits(limit: number): RequestPermits {
  assertInvariant(Number.isSafeInteger(limit) && limit >= 1, 'localPermits', `limit ${limit}`);
  let held = 0;
  const waiting: Array<() => void> = [];
  return {
    async take() {
      if (held < limit) held++;
      // The permit passes straight from its releaser to this waiter: `held` stays counted.
      else await new Promise<void>((resolve) => waiting.push(resolve));
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        const next = waiting.shift();
        if (next === undefined) held--;
        else next();
        assertInvariant(held >= 0 && held <= limit, 'localPermits', `${held} held`);
      };
    },
  };
}

/** A connection for redisPermits (keys under IN_FLIGHT_KEY_PREFIX); `disconnect()` when done. */
export function permitsClient(url: string): Redis {
  const client = new Redis(url, { keyPrefix: `${IN_FLIGHT_KEY_PREFIX}:` });
  // A lost connection fails the requests waiting on it (their episodes end errored) and BullMQ's
  // own connection reports the outage: no second report from here.
  client.on('error', () => undefined);
  return client;
}

/** Permits shared through Redis by every process naming the same provider and limit. */
export function redisPermits(client: Redis, baseURL: string, limit: number): RequestPermits {
  assertInvariant(Number.isSafeInteger(limit) && limit >= 1, 'redisPermits', `limit ${limit}`);
  const key = providerKey(baseURL);
  return {
    async take() {
      const permit = new Semaphore(client, key, limit, {
        lockTimeout: PERMIT_LEASE_MS,
        acquireTimeout: Number.POSITIVE_INFINITY,
        retryInterval: PERMIT_POLL_MS,
        refreshInterval: PERMIT_RENEW_MS,
        // A lease lost while its request runs (this process stalled past it): the request is out,
        // nothing to undo; for a moment one more may be in flight. (The default throws on a timer.)
        onLockLost: () => undefined,
      });
      await permit.acquire();
      // A failed release (Redis gone) is the lease's to end: the request itself succeeded.
      return () => permit.release().catch(() => undefined);
    },
  };
}
