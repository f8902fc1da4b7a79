/**
 * A response cache on disk, so an interrupted run resumes without paying twice: one file per
 * request, named by the SHA-256 of the canonical request body (`<hash>.json`), holding the request
 * and the whole exchange (response, measured latency, retries). A hit returns the exchange exactly
 * as first recorded, so a resumed run records the same notes, byte for byte, as an uninterrupted
 * one. Files are written atomically (a temporary file, then rename), so a killed run never leaves a
 * half-written entry; an unreadable entry is ignored and fetched again. Only successes are cached.
 * The key is the body alone (model, messages, tools, sampling settings), not the endpoint: use one
 * cache folder per provider. An entry holds a measured latency only when it was filled under think
 * time `wall` (measured.ts); a run that needs one (`needsLatency`) takes an entry without as a miss.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson } from '../../scenarios/spec/canonical.js';
import { decodeUtf8, readInputFile } from '../../scenarios/spec/input-file.js';
import type { JsonValue } from '../../scenarios/spec/schema.js';
import { redactSecrets } from './scrub.js';
import type { JsonObject } from './tools.js';
import type { Exchange, FailedAttempt, Transport } from './transport.js';

export const CACHE_FORMAT = 'tooltime.llm-cache/1';

export function requestHash(body: JsonObject): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

export interface CacheStats {
  hits: number;
  misses: number;
}

let tmpCounter = 0;

/**
 * Cap on a cache entry's size: it holds one request (the whole history) and its reply, far below
 * this; a FIFO, a link to /dev/zero or a runaway file in the cache folder is a miss, not a hang.
 */
export const MAX_CACHE_ENTRY_BYTES = 64 * 1024 * 1024;

function readEntry(path: string): Exchange | null {
  let json: unknown;
  try {
    const text = decodeUtf8(readInputFile(path, MAX_CACHE_ENTRY_BYTES));
    if (text === null) return null;
    json = JSON.parse(text);
  } catch {
    return null;
  }
  if (json === null || typeof json !== 'object') return null;
  const e = json as {
    format?: unknown;
    exchange?: { response?: unknown; latencyMs?: unknown; attempts?: unknown; unparsed?: unknown };
  };
  const ex = e.exchange;
  if (e.format !== CACHE_FORMAT || ex === undefined || ex === null || typeof ex !== 'object')
    return null;
  if (
    ex.response === undefined ||
    !(ex.latencyMs === null || typeof ex.latencyMs === 'number') ||
    !Array.isArray(ex.attempts)
  )
    return null;
  return {
    response: ex.response as JsonValue,
    latencyMs: ex.latencyMs,
    attempts: ex.attempts as FailedAttempt[],
    unparsed: typeof ex.unparsed === 'string' ? ex.unparsed : null,
  };
}

/** Wraps `inner` with the cache in `dir` (created when missing). `secrets` are kept out of the files. */
export function cachingTransport(
  inner: Transport,
  dir: string,
  options: { secrets?: readonly string[]; stats?: CacheStats; needsLatency?: boolean } = {},
): Transport {
  mkdirSync(dir, { recursive: true });
  const secrets = options.secrets ?? [];
  return {
    async send(body: JsonObject): Promise<Exchange> {
      const key = requestHash(body);
      const path = join(dir, `${key}.json`);
      const hit = readEntry(path);
      if (hit !== null && !(options.needsLatency === true && hit.latencyMs === null)) {
        if (options.stats !== undefined) options.stats.hits++;
        return hit;
      }
      if (options.stats !== undefined) options.stats.misses++;
      const exchange = await inner.send(body);
      writeCacheEntry(dir, cacheEntry(body, exchange, secrets));
      return exchange;
    },
  };
}

/** A cache entry: its key (the request's hash) and the file's text. */
export interface CacheEntry {
  readonly key: string;
  readonly text: string;
}

/** The entry a cache keeps for `body` answered by `exchange` (`secrets` redacted). */
export function cacheEntry(
  body: JsonObject,
  exchange: Exchange,
  secrets: readonly string[],
): CacheEntry {
  const key = requestHash(body);
  const entry = redactSecrets(
    {
      format: CACHE_FORMAT,
      key,
      request: body,
      exchange: {
        response: exchange.response,
        latencyMs: exchange.latencyMs,
        attempts: exchange.attempts.map((a) => ({ ...a })),
        unparsed: exchange.unparsed ?? null,
      },
    },
    secrets,
  );
  return { key, text: `${JSON.stringify(entry)}\n` };
}

/** Writes an entry into the cache folder `dir`, whole (a temporary file, then rename). */
export function writeCacheEntry(dir: string, entry: CacheEntry): void {
  if (!/^[0-9a-f]{64}$/.test(entry.key)) throw new Error(`not a cache key: ${entry.key}`);
  const tmp = join(dir, `.${entry.key}.${process.pid}.${++tmpCounter}.tmp`);
  writeFileSync(tmp, entry.text);
  renameSync(tmp, join(dir, `${entry.key}.json`));
}
