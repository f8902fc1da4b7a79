/**
 * What the coordinator (`run --queue URL`) and `tooltime worker URL` share: the Redis address as a
 * user gives it, the queue's name, what a job holds, and its id.
 *
 * A job is a plain description of one episode: the canonical scenario itself (so a worker needs no
 * copy of the suite, only the same tooltime), the agent spec, the seed, the world, and the
 * coordinator's tooltime version, which a worker of another version refuses; a model agent's job
 * also its model settings (QueueModelJob). It never holds an API key nor anything a worker would
 * load: a worker runs the built-in agents, the policy modules its own command line names, and model
 * agents on the provider its own --base-url names, and nothing else.
 *
 * The job id is a content hash of everything that determines the episode, so the same episode
 * enqueued twice (a resumed coordinator) is one job, and a result already made is taken as it is.
 */
import { createHash } from 'node:crypto';
import type { ConnectionOptions } from 'bullmq';
import type { EpisodeKey } from '../scenarios/experiment.js';
import type { Delivery, Mode } from '../scenarios/protocol.js';
import { canonicalJson } from '../scenarios/spec/canonical.js';
import type { Scenario } from '../scenarios/spec/schema.js';
import { UsageError } from './errors.js';

/** The queue every coordinator and worker of a Redis database shares (keys `tooltime:episodes:*`). */
export const QUEUE_NAME = 'episodes';
export const QUEUE_PREFIX = 'tooltime';
/** How long a coordinator or worker waits for Redis to answer at start before it gives up. */
export const CONNECT_TIMEOUT_MS = 10_000;

/** One episode, as it travels through Redis. */
export interface QueueJobData {
  /** The coordinator's tooltime version: a worker of another version refuses the job. */
  readonly version: string;
  /** sha256 of the scenario's canonical JSON (the worker checks the scenario against it). */
  readonly scenarioDigest: string;
  /** The canonical scenario (canonicalScenario), as JSON keeps it. */
  readonly scenario: Scenario;
  /** The instance's file as the coordinator names it (its records carry it). */
  readonly file: string;
  readonly agent: string;
  readonly seed: number;
  readonly mode: Mode;
  readonly delivery: Delivery;
  /** A model agent's episode: how to call the model (absent for every other agent). */
  readonly model?: QueueModelJob;
}

/**
 * How a model agent's episode calls its model, from the coordinator's flags: never a key (each
 * worker reads its own from its environment), never a path on the worker's machine.
 */
export interface QueueModelJob {
  /** The provider, as the coordinator's --base-url names it; a worker takes the job only if its own --base-url is the same. */
  readonly baseUrl: string;
  /** The model flags that shape the episode (MODEL_JOB_FLAGS), as given on the command line. */
  readonly flags: Readonly<Record<string, string>>;
  /** The price table as a price file holds it (priceJson), or null. */
  readonly price: Readonly<Record<string, unknown>> | null;
  /** `--rate-limit` as given (the workers' shared limiter of the provider), or null. */
  readonly rateLimit: string | null;
  /** `--max-requests-in-flight` (the workers' shared permits of the provider), or null. */
  readonly maxInFlight: number | null;
}

/** The model flags a job carries (LlmFlags names): what shapes the episode, nothing local. */
export const MODEL_JOB_FLAGS = [
  'temperature',
  'maxTokens',
  'think',
  'thinkProfile',
  'maxCallsPerTurn',
  'maxTurns',
  'maxIdleTurns',
  'maxRetries',
  'requestTimeout',
] as const;

/**
 * A job's answer: the episodes.jsonl line and the replay's bytes in base64; for a model episode,
 * the response cache's entries of its requests and the measured latency of those sent.
 */
export interface QueueJobResult {
  readonly line: string;
  readonly replay: string;
  readonly responses?: ReadonlyArray<{ readonly key: string; readonly text: string }>;
  readonly latency?: { readonly requests: number; readonly totalMs: number };
}

/** sha256 of a canonical scenario's canonical JSON. */
export function scenarioDigest(scenario: Scenario): string {
  return `sha256:${createHash('sha256').update(canonicalJson(scenario)).digest('hex')}`;
}

/** The job id: a hash of what determines the episode (and the version that runs it). */
export function jobId(data: QueueJobData): string {
  const { version, scenarioDigest: digest, file, agent, seed, mode, delivery } = data;
  // The rate limit and the requests in flight shape when requests go, not what comes back: not
  // part of the episode.
  const model =
    data.model === undefined
      ? {}
      : {
          model: { baseUrl: data.model.baseUrl, flags: data.model.flags, price: data.model.price },
        };
  const what = canonicalJson({
    version,
    scenario: digest,
    file,
    agent,
    seed,
    mode,
    delivery,
    ...model,
  });
  return `ep-${createHash('sha256').update(what).digest('hex').slice(0, 40)}`;
}

/** The job's episode in words, for messages. */
export function jobName(key: EpisodeKey): string {
  return `${key.instance} / ${key.agent} / seed ${key.seed}`;
}

/**
 * `redis://HOST:PORT/N` (or rediss://, with user and password) into BullMQ's connection; bad text
 * is one line naming the flag.
 */
export function parseRedisUrl(text: string, flag: string): ConnectionOptions {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${flag} must be a Redis URL like redis://HOST:PORT/0, got "${text}"`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
    throw new UsageError(`${flag} must be a Redis URL like redis://HOST:PORT/0, got "${text}"`);
  const db = url.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d{1,2}$/.test(db))
    throw new UsageError(`${flag} ${text}: the database must be a number (redis://HOST:PORT/N)`);
  // Workers block on Redis: no per-command retry limit (BullMQ's requirement for workers).
  return { url: text, maxRetriesPerRequest: null };
}

/**
 * Resolves once `ready` does; fails with one line naming the address at the first connection error
 * any of `clients` reports, or once CONNECT_TIMEOUT_MS passed (a client never connected would keep
 * retrying: the caller then disconnects without waiting for it).
 */
export async function reachRedis(
  ready: Promise<unknown>,
  url: string,
  clients: readonly { once(event: 'error', listener: (error: Error) => void): unknown }[],
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const failed = new Promise<never>((_, reject) => {
    const fail = (why: string) => reject(new UsageError(`cannot reach Redis at ${url}: ${why}`));
    timer = setTimeout(
      () => fail(`no answer in ${CONNECT_TIMEOUT_MS / 1000} s`),
      CONNECT_TIMEOUT_MS,
    );
    for (const c of clients) c.once('error', (error) => fail(error.message));
  });
  try {
    await Promise.race([ready, failed]);
  } finally {
    clearTimeout(timer);
  }
}
