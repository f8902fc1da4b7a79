/**
 * `tooltime run --queue redis://HOST:PORT/N`: the coordinator's side. Every episode becomes one
 * BullMQ job (queue.ts: the job and its content-hash id), taken by `tooltime worker` processes
 * anywhere; each answer (the episodes.jsonl line and the replay bytes; a model episode's cache
 * entries and latency) is written into the run directory here, by the same RunOutput a local run
 * writes with, so the finished directory is the bytes of a local run. Model episodes out at once
 * are bounded by --concurrency; the requests in flight to a provider across every run, by the
 * workers' shared permits (--max-requests-in-flight, in-flight.ts).
 *
 * A job's result stays in Redis until its replay and line are on disk here, then it is removed: a
 * coordinator killed in between finds it, by its id, when resumed, and nothing runs twice.
 */
import { Queue, QueueEvents, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { isModelSpec } from '../agents/index.js';
import { writeCacheEntry, type LatencyStats } from '../agents/llm/index.js';
import type { EpisodeKey, EpisodeRecord, ExperimentOptions } from '../scenarios/experiment.js';
import type { Delivery, Mode } from '../scenarios/protocol.js';
import { packageVersion } from '../scenarios/package.js';
import type { Scenario } from '../scenarios/spec/schema.js';
import { recordOfLine, writeReplay, type RunSuite } from './episode-jobs.js';
import { UsageError } from './errors.js';
import {
  jobId,
  jobName,
  parseRedisUrl,
  QUEUE_NAME,
  QUEUE_PREFIX,
  reachRedis,
  scenarioDigest,
  type QueueJobData,
  type QueueJobResult,
  type QueueModelJob,
} from './queue.js';
import { inFlightMarkKey, localPermits } from './in-flight.js';
import { claimMarks, isConflict } from './provider-marks.js';
import { providerKey, RATE_KEY_PREFIX } from './rate-limit.js';
import type { RunOutput } from './run-output.js';

/** Episodes enqueued together, and such batches out at once (jobs waiting for a worker at most). */
const BATCH = 8;
const IN_FLIGHT = 64;
/** A run's claim on its provider's limits lasts this long unless renewed (every third of it). */
const PROVIDER_CLAIM_S = 30;
/** The queue's event stream, trimmed to about this many events (each answer passes through it). */
const EVENTS_KEPT = 1000;

/** What the run's jobs share. */
export interface QueueRunSetup {
  readonly suite: RunSuite;
  readonly mode: Mode;
  readonly delivery: Delivery;
  readonly output: RunOutput;
  readonly dir: string;
  /** Model agents' episodes go to the queue too when given (else they run here). */
  readonly models?: QueueModels;
}

/** A provider's limits as a run's flags give them (null: none). */
export interface ProviderLimits {
  /** `--rate-limit` as rateText spells it. */
  readonly rate: string | null;
  /** `--max-requests-in-flight`. */
  readonly maxInFlight: number | null;
}

/** How a run's model agents' episodes travel, and where their answers go. */
export interface QueueModels {
  /** What each of their jobs carries (never a key). */
  readonly job: QueueModelJob;
  /** The run's response cache folder: each answer's entries are written there. */
  readonly cacheDir: string | null;
  /** Summed from the answers: run.json's modelLatency. */
  readonly latency: LatencyStats;
  /** Model episodes out at once (--concurrency): this run's requests in flight at most. */
  readonly inFlight: number;
}

/** A coordinator's connection to the queue; `close()` when done. */
export class QueueRun {
  private constructor(
    private readonly url: string,
    private readonly queue: Queue<QueueJobData, QueueJobResult>,
    private readonly events: QueueEvents,
  ) {}

  /** Connects (one line naming the address when Redis does not answer). */
  static async connect(url: string): Promise<QueueRun> {
    const connection = parseRedisUrl(url, '--queue');
    const queue = new Queue<QueueJobData, QueueJobResult>(QUEUE_NAME, {
      connection,
      prefix: QUEUE_PREFIX,
      streams: { events: { maxLen: EVENTS_KEPT } },
    });
    const events = new QueueEvents(QUEUE_NAME, { connection, prefix: QUEUE_PREFIX });
    // Every job waited on listens for the queue closing: hundreds at once are expected.
    queue.setMaxListeners(0);
    events.setMaxListeners(0);
    const run = new QueueRun(url, queue, events);
    try {
      const ready = Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
      await reachRedis(ready, url, [queue, events]);
    } catch (error) {
      // Not awaited: closing waits for a connection that never came.
      void run.close();
      throw error;
    }
    return run;
  }

  /**
   * ExperimentOptions.elsewhere for the run: every episode goes to the queue (model agents' only
   * with `setup.models`, at most its `inFlight` at once).
   */
  elsewhere(setup: QueueRunSetup): NonNullable<ExperimentOptions['elsewhere']> {
    const scenarios = new Map<string, { scenario: Scenario; file: string; digest: string }>();
    for (const { scenario, file } of setup.suite.instances)
      scenarios.set(scenario.id, { scenario, file, digest: scenarioDigest(scenario) });
    const version = packageVersion();
    const dataOf = (key: EpisodeKey): QueueJobData => {
      const { scenario, file, digest } = scenarios.get(key.instance)!;
      const { mode, delivery } = setup;
      const { agent, seed } = key;
      const model = isModelSpec(agent) && setup.models ? { model: setup.models.job } : {};
      return {
        version,
        scenarioDigest: digest,
        scenario,
        file,
        agent,
        seed,
        mode,
        delivery,
        ...model,
      };
    };
    const models = setup.models;
    // In order, as a local run's permits are (the same in-process semaphore).
    const slots = localPermits(Math.max(1, models?.inFlight ?? 1));
    const enqueue = async (keys: readonly EpisodeKey[]): Promise<EpisodeRecord[]> => {
      const jobs = await this.queue.addBulk(
        keys.map((key) => {
          const data = dataOf(key);
          return { name: 'episode', data, opts: { jobId: jobId(data), attempts: 1 } };
        }),
      );
      return Promise.all(jobs.map((job, i) => this.collect(job, keys[i]!, setup)));
    };
    const run = async (keys: readonly EpisodeKey[]): Promise<EpisodeRecord[]> => {
      const records = new Map<EpisodeKey, EpisodeRecord>();
      const model = keys.filter((k) => isModelSpec(k.agent));
      const other = keys.filter((k) => !isModelSpec(k.agent));
      // A model episode holds a slot from its enqueueing to its answer: one request at a time each.
      const ran = model.map(async (key) => {
        const release = await slots.take();
        try {
          records.set(key, (await enqueue([key]))[0]!);
        } finally {
          await release();
        }
      });
      const rest = enqueue(other).then((rs) => {
        for (const [i, r] of rs.entries()) records.set(other[i]!, r);
      });
      // Awaited together: a failure of either is the batch's, never an unhandled rejection.
      await Promise.all([...ran, rest]);
      return keys.map((k) => records.get(k)!);
    };
    const takes = (agent: string) => models !== undefined || !isModelSpec(agent);
    return { takes, batch: () => BATCH, inFlight: IN_FLIGHT, run };
  }

  /** Waits for a job's answer, writes it into the run directory, then drops it from Redis. */
  private async collect(
    job: Job<QueueJobData, QueueJobResult>,
    key: EpisodeKey,
    setup: QueueRunSetup,
  ): Promise<EpisodeRecord> {
    // The same id failed before (a refused job of an earlier attempt): this run asks again.
    if ((await job.getState()) === 'failed') await job.retry('failed');
    let answer: unknown;
    try {
      answer = await job.waitUntilFinished(this.events);
    } catch (error) {
      throw new UsageError(
        `--queue ${this.url}: episode ${jobName(key)} failed on a worker: ${(error as Error).message}`,
      );
    }
    const result = (typeof answer === 'string' ? JSON.parse(answer) : answer) as QueueJobResult;
    const record = recordOfLine(result.line);
    const replay = Buffer.from(result.replay, 'base64');
    writeReplay(setup.dir, record, replay);
    tallyModel(result, setup.models);
    setup.output.ranElsewhere([{ record, line: result.line, bytes: replay.length }]);
    await job.remove().catch(() => undefined);
    return record;
  }

  /**
   * Says, through Redis, which rate and which requests in flight (`none`: no limit) this run's
   * workers use for the provider at `baseUrl`, for as long as the run lasts; refuses with one line
   * when another coordinator on the queue says another value (one limit per provider: the two could
   * not both hold).
   */
  async claimProvider(baseUrl: string, limits: ProviderLimits): Promise<void> {
    const client = new Redis(this.url);
    // The queue's own connections report an outage; this one's commands fail with it.
    client.on('error', () => undefined);
    this.release = async () => client.disconnect();
    const rate = {
      key: `${RATE_KEY_PREFIX}:${providerKey(baseUrl)}:limit`,
      mine: limits.rate ?? 'none',
    };
    const inFlight = {
      key: inFlightMarkKey(baseUrl),
      mine: limits.maxInFlight === null ? 'none' : String(limits.maxInFlight),
    };
    const marks = [
      { key: rate.key, value: rate.mine },
      { key: inFlight.key, value: inFlight.mine },
    ];
    const answer = await claimMarks(client, marks, PROVIDER_CLAIM_S * 1000);
    const other = (held: string, unit: string) => (held === 'none' ? 'no limit' : held + unit);
    if (isConflict(answer) && answer.index === 0)
      throw new UsageError(
        `--rate-limit ${rate.mine}: another coordinator on ${this.url} runs ${baseUrl} at ${other(answer.held, '')}; one limiter per provider: give the same --rate-limit (or wait until that run ends)`,
      );
    if (isConflict(answer))
      throw new UsageError(
        `--max-requests-in-flight ${inFlight.mine}: another coordinator on ${this.url} runs ${baseUrl} with ${other(answer.held, ' requests in flight at most')}; one limit per provider: give the same --max-requests-in-flight (or wait until that run ends)`,
      );
    const timer = setInterval(
      () => void answer.renew().catch(() => undefined),
      PROVIDER_CLAIM_S * 300,
    );
    timer.unref();
    this.release = async () => {
      clearInterval(timer);
      try {
        await answer.release();
      } finally {
        client.disconnect();
      }
    };
  }

  private release: () => Promise<void> = async () => undefined;

  async close(): Promise<void> {
    await this.release().catch(() => undefined);
    await Promise.allSettled([this.queue.close(), this.events.close()]);
  }
}

/** A model episode's answer: its responses into the run's cache, its latency into the total. */
function tallyModel(result: QueueJobResult, models: QueueModels | undefined): void {
  if (models === undefined) return;
  for (const entry of result.responses ?? [])
    if (models.cacheDir !== null) writeCacheEntry(models.cacheDir, entry);
  models.latency.requests += result.latency?.requests ?? 0;
  models.latency.totalMs += result.latency?.totalMs ?? 0;
}
