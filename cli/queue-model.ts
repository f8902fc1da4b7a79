/**
 * A model agent's episode on a queue worker. The job says which model and how (the coordinator's
 * model flags, its price table, rate limit and requests in flight); the worker's own command line
 * says which provider it calls (`--base-url`, which the job's must equal: a job never sends this
 * machine's key elsewhere), where its key is (`--api-key-env`, read from its own environment) and
 * where its own response cache is (`--cache`). Requests wait on the provider's limiter and permits
 * shared through Redis.
 *
 * The answer carries, beside the line and the replay, the response cache's entry of each request
 * the episode made (the coordinator writes them into the run's cache, so its directory holds what a
 * local run's would) and the measured latency of the requests sent (run.json's modelLatency).
 */
import { UnrecoverableError } from 'bullmq';
import { isModelSpec, llmAgentFactory, llmUsage } from '../agents/index.js';
import {
  priceOfJson,
  type CacheEntry,
  type RequestLimiter,
  type RequestPermits,
} from '../agents/llm/index.js';
import type { Agent } from '../scenarios/protocol.js';
import { adoptCanonicalScenario } from '../scenarios/spec/canonical-scenario.js';
import { episodeJobRunner } from './episode-jobs.js';
import { parseMaxInFlight } from './in-flight.js';
import { llmOptions, type LlmFlags } from './llm.js';
import { jobName, MODEL_JOB_FLAGS, type QueueJobData, type QueueJobResult } from './queue.js';
import { parseRateLimit, type RateLimit } from './rate-limit.js';

/** What a worker's command line says about model agents. */
export interface WorkerModels {
  /** The one provider this worker calls (its --base-url). */
  readonly baseUrl: string;
  readonly apiKeyEnv?: string;
  /** The worker's own response cache folder (--cache), or none. */
  readonly cacheDir?: string;
  /** The provider's limiter at a rate, shared through Redis. */
  readonly limiterFor: (rate: RateLimit) => RequestLimiter;
  /** The provider's permits for at most `limit` requests in flight, shared through Redis. */
  readonly permitsFor: (limit: number) => RequestPermits;
}

const FLAGS: ReadonlySet<string> = new Set(MODEL_JOB_FLAGS);

function refuse(message: string): never {
  // Unrecoverable: no other attempt would do better (BullMQ fails the job at once).
  throw new UnrecoverableError(message);
}

/** The job's model settings as this worker may run them (refused with one line otherwise). */
function checkedSettings(data: QueueJobData, models: WorkerModels | null): LlmFlags {
  const name = jobName({ instance: data.scenario.id, agent: data.agent, seed: data.seed });
  if (models === null)
    refuse(
      `job ${name} names model agent ${data.agent}: this worker calls no model (start it with --base-url URL, the provider its API key is for)`,
    );
  const model = data.model;
  if (model === undefined || model === null || typeof model !== 'object')
    refuse(`job ${name} names model agent ${data.agent} but carries no model settings`);
  if (model.baseUrl !== models.baseUrl)
    refuse(
      `job ${name} calls the model at ${String(model.baseUrl)}, this worker's --base-url is ${models.baseUrl}: a worker calls only the provider its own command line names`,
    );
  const flags = model.flags ?? {};
  for (const [k, v] of Object.entries(flags))
    if (!FLAGS.has(k) || typeof v !== 'string') refuse(`job ${name}: no model setting "${k}"`);
  return {
    ...flags,
    baseUrl: models.baseUrl,
    ...(models.apiKeyEnv === undefined ? {} : { apiKeyEnv: models.apiKeyEnv }),
    ...(models.cacheDir === undefined ? {} : { cache: models.cacheDir }),
  };
}

/** Runs a model agent's job; `builtIn` makes the other agents (the reference agent). */
export async function runModelJob(
  data: QueueJobData,
  models: WorkerModels | null,
  builtIn: (spec: string) => Agent,
): Promise<QueueJobResult> {
  const name = jobName({ instance: data.scenario.id, agent: data.agent, seed: data.seed });
  const flags = checkedSettings(data, models);
  const { price, rateLimit, maxInFlight } = data.model!;
  const responses = new Map<string, CacheEntry>();
  let factory: ReturnType<typeof llmAgentFactory>;
  let usagePrice: ReturnType<typeof priceOfJson> | null;
  try {
    const rate = rateLimit === null ? null : parseRateLimit(rateLimit);
    // A job's value, not a flag's: checked as the flag would be (no limit when the job has none).
    const inFlight =
      maxInFlight === null || maxInFlight === undefined
        ? null
        : parseMaxInFlight(String(maxInFlight));
    factory = llmAgentFactory({
      ...llmOptions(flags),
      collect: (entry) => responses.set(entry.key, entry),
      ...(rate === null ? {} : { limiter: models!.limiterFor(rate) }),
      ...(inFlight === null ? {} : { permits: models!.permitsFor(inFlight) }),
    });
    usagePrice = price === null ? null : priceOfJson(price, `job ${name}: its price`);
  } catch (error) {
    refuse(`job ${name}: ${(error as Error).message}`);
  }
  const run = episodeJobRunner({
    instances: [{ file: data.file, scenario: adoptCanonicalScenario(data.scenario) }],
    mode: data.mode,
    delivery: data.delivery,
    makeAgent: (spec) => (isModelSpec(spec) ? factory(spec) : builtIn(spec)),
    record: true,
    usageOf: (events) => llmUsage(events, usagePrice),
  });
  const result = await run({ instance: data.scenario.id, agent: data.agent, seed: data.seed });
  if (result.replay === null) throw new Error(`job ${name}: no replay was recorded`);
  return {
    line: result.line,
    replay: Buffer.from(result.replay).toString('base64'),
    responses: [...responses.values()],
    latency: { ...factory.latencyStats },
  };
}
