/**
 * `tooltime worker redis://HOST:PORT/N`: takes episode jobs from the queue a coordinator
 * (`tooltime run --queue URL`) fills, one at a time, and answers each with its episodes.jsonl line
 * and replay bytes. Any number run, on any machine with the same tooltime installed.
 *
 * A worker killed mid-job loses nothing: its lock expires after --lock-ms and another worker's
 * stalled-job check puts the job back (BullMQ). It runs the built-in agents, the policy modules
 * its own --policy names, and model agents on the provider its own --base-url names with the key
 * from its own environment; a job can name neither a module to load nor a key to use.
 */
import { Worker, type Job } from 'bullmq';
import type { Command } from 'commander';
import { Redis } from 'ioredis';
import { agentMaker, isModuleSpec, llmAgentFactory } from '../../agents/index.js';
import type { RequestLimiter, RequestPermits } from '../../agents/llm/index.js';
import { packageVersion } from '../../scenarios/package.js';
import { integerFlag, UsageError } from '../errors.js';
import { permitsClient, redisPermits } from '../in-flight.js';
import { llmOptions } from '../llm.js';
import type { WorkerModels } from '../queue-model.js';
import { queueJobHandler } from '../queue-worker.js';
import { rateText, redisLimiter, type RateLimit } from '../rate-limit.js';
import {
  jobName,
  parseRedisUrl,
  QUEUE_NAME,
  QUEUE_PREFIX,
  reachRedis,
  type QueueJobData,
  type QueueJobResult,
} from '../queue.js';

interface WorkerOptions {
  readonly policy?: string[];
  readonly lockMs?: string;
  readonly concurrency?: string;
  readonly baseUrl?: string;
  readonly apiKeyEnv?: string;
  readonly cache?: string;
}

/** A job held this long without its worker's heartbeat is another worker's (BullMQ's default). */
const DEFAULT_LOCK_MS = 30_000;
/** Times a job may be found stalled (its worker gone) before it fails the run. */
const MAX_STALLED = 5;

function parseLockMs(text: string | undefined): number {
  return text === undefined ? DEFAULT_LOCK_MS : integerFlag('--lock-ms', text, 500, 3_600_000);
}

async function workerCommand(url: string, options: WorkerOptions): Promise<void> {
  const connection = parseRedisUrl(url, 'tooltime worker');
  const lockMs = parseLockMs(options.lockMs);
  const policies = options.policy ?? [];
  const notModule = policies.find((p) => !isModuleSpec(p));
  if (notModule !== undefined)
    throw new UsageError(`--policy ${notModule}: not a policy module (a path to a .js file)`);
  const concurrency = parseConcurrency(options.concurrency);
  const models = workerModels(url, options);
  const handle = queueJobHandler(policies, await agentMaker(policies), models?.models ?? null);
  const worker = new Worker<QueueJobData, QueueJobResult>(
    QUEUE_NAME,
    async (job: Job<QueueJobData, QueueJobResult>) => handle(job.data),
    {
      connection,
      prefix: QUEUE_PREFIX,
      // Episodes are CPU work: one at a time unless told (a model episode mostly waits).
      concurrency,
      lockDuration: lockMs,
      stalledInterval: lockMs,
      maxStalledCount: MAX_STALLED,
      autorun: false,
    },
  );
  worker.on('completed', (job) => {
    process.stdout.write(`ran ${jobName(keyOf(job.data))}\n`);
  });
  worker.on('failed', (job, error) => {
    const what = job === undefined ? 'a job' : jobName(keyOf(job.data));
    process.stderr.write(`tooltime worker: ${what} failed: ${error.message}\n`);
  });
  let lastError = '';
  let ready = false;
  worker.on('error', (error) => {
    // Before it is ready, reachRedis reports it; an outage repeats one error each retry: say it once.
    if (ready && error.message !== lastError)
      process.stderr.write(`tooltime worker: ${error.message}\n`);
    lastError = error.message;
  });
  try {
    await reachRedis(worker.waitUntilReady(), url, [worker]);
    ready = true;
  } catch (error) {
    // Not awaited: closing waits for a connection that never came.
    void worker.close(true).catch(() => undefined);
    models?.close();
    throw error;
  }
  const stop = () => void worker.close().finally(() => models?.close());
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.stdout.write(`tooltime worker ${packageVersion()} on ${url}: taking jobs\n`);
  await worker.run();
}

/** Jobs a worker runs at once at most (a bound on a mistyped flag). */
const MAX_CONCURRENCY = 256;

function parseConcurrency(text: string | undefined): number {
  return text === undefined ? 1 : integerFlag('--concurrency', text, 1, MAX_CONCURRENCY);
}

/**
 * Model agents on this worker (null: it takes no model job): the provider its --base-url names,
 * its key checked now, and the provider's limiters and permits shared through Redis (`close()`
 * ends their connections).
 */
function workerModels(
  url: string,
  options: WorkerOptions,
): { models: WorkerModels; close: () => void } | null {
  const { baseUrl, apiKeyEnv, cache } = options;
  if (baseUrl === undefined) {
    const stray =
      apiKeyEnv !== undefined ? '--api-key-env' : cache !== undefined ? '--cache' : null;
    if (stray !== null)
      throw new UsageError(`${stray} is for model jobs: give --base-url URL (the provider) too`);
    return null;
  }
  const flags = { baseUrl, ...(apiKeyEnv === undefined ? {} : { apiKeyEnv }) };
  // The key is checked before any job is taken (one line naming the variable when missing).
  llmAgentFactory(llmOptions(flags));
  let client: Redis | null = null;
  let permitClient: Redis | null = null;
  const limiters = new Map<string, RequestLimiter>();
  const permits = new Map<number, RequestPermits>();
  const limiterFor = (rate: RateLimit): RequestLimiter => {
    const key = rateText(rate);
    let limiter = limiters.get(key);
    if (limiter === undefined) {
      if (client === null) {
        client = new Redis(url);
        // A lost connection fails the requests waiting on it (their episodes end errored) and
        // BullMQ's own connection reports the outage: no second report from here.
        client.on('error', () => undefined);
      }
      limiter = redisLimiter(client, baseUrl, rate);
      limiters.set(key, limiter);
    }
    return limiter;
  };
  const permitsFor = (limit: number): RequestPermits => {
    let held = permits.get(limit);
    if (held === undefined) {
      permitClient ??= permitsClient(url);
      held = redisPermits(permitClient, baseUrl, limit);
      permits.set(limit, held);
    }
    return held;
  };
  const models: WorkerModels = {
    baseUrl,
    ...(apiKeyEnv === undefined ? {} : { apiKeyEnv }),
    ...(cache === undefined ? {} : { cacheDir: cache }),
    limiterFor,
    permitsFor,
  };
  const close = () => {
    client?.disconnect();
    permitClient?.disconnect();
  };
  return { models, close };
}

function keyOf(data: QueueJobData): { instance: string; agent: string; seed: number } {
  return { instance: String(data.scenario?.id), agent: data.agent, seed: data.seed };
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description(
      'take episode jobs from the Redis queue of `tooltime run --queue URL` and run them (any number of workers, on any machine with the same tooltime)',
    )
    .argument('<redis-url>', 'the queue, e.g. redis://HOST:6379/0 (as given to run --queue)')
    .option(
      '--policy <spec...>',
      'policy modules this worker may run (spelled as the coordinator names them); jobs naming any other module are refused',
    )
    .option(
      '--concurrency <n>',
      'jobs run at once (default 1: episodes are CPU work; a model episode mostly waits on its requests)',
    )
    .option(
      '--base-url <url>',
      "model jobs: the provider this worker calls, with the key from its own environment; it takes only jobs whose coordinator's --base-url is the same",
    )
    .option(
      '--api-key-env <name>',
      'model jobs: the environment variable holding the API key (default OPENAI_API_KEY)',
    )
    .option(
      '--cache <dir>',
      "model jobs: this worker's own response cache folder (the run's cache is the coordinator's)",
    )
    .option(
      '--lock-ms <ms>',
      `a job whose worker stops for this long is retried by another (default ${DEFAULT_LOCK_MS})`,
    )
    .action(async (url: string, options: WorkerOptions) => {
      await workerCommand(url, options);
    });
}
