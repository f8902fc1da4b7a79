/**
 * `tooltime run --queue redis://HOST:PORT/N`: the coordinator's side. The episodes of built-in and
 * module agents become one BullMQ job each (queue.ts: the job and its content-hash id), taken by
 * `tooltime worker` processes anywhere; each answer (the episodes.jsonl line and the replay bytes)
 * is written into the run directory here, by the same RunOutput a local run writes with, so the
 * finished directory is the bytes of a local run.
 *
 * A job's result stays in Redis until its replay and line are on disk here, then it is removed: a
 * coordinator killed in between finds it, by its id, when resumed, and nothing runs twice.
 */
import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue, QueueEvents, type Job } from 'bullmq';
import { isModelSpec } from '../agents/index.js';
import type { EpisodeKey, EpisodeRecord, ExperimentOptions } from '../scenarios/experiment.js';
import type { Delivery, Mode } from '../scenarios/protocol.js';
import { packageVersion } from '../scenarios/package.js';
import type { Scenario } from '../scenarios/spec/schema.js';
import { recordOfLine, type RunSuite } from './episode-jobs.js';
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
} from './queue.js';
import { REPLAYS_DIR, TEMP_SUFFIX } from './run-dir.js';
import { replayFileName, type RunOutput } from './run-output.js';

/** Episodes enqueued together, and such batches out at once (jobs waiting for a worker at most). */
const BATCH = 8;
const IN_FLIGHT = 64;
/** The queue's event stream, trimmed to about this many events (each answer passes through it). */
const EVENTS_KEPT = 1000;

/** What the run's jobs share. */
export interface QueueRunSetup {
  readonly suite: RunSuite;
  readonly mode: Mode;
  readonly delivery: Delivery;
  readonly output: RunOutput;
  readonly dir: string;
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

  /** ExperimentOptions.elsewhere for the run: every episode but model agents' goes to the queue. */
  elsewhere(setup: QueueRunSetup): NonNullable<ExperimentOptions['elsewhere']> {
    const scenarios = new Map<string, { scenario: Scenario; file: string; digest: string }>();
    for (const { scenario, file } of setup.suite.instances)
      scenarios.set(scenario.id, { scenario, file, digest: scenarioDigest(scenario) });
    const version = packageVersion();
    const dataOf = (key: EpisodeKey): QueueJobData => {
      const { scenario, file, digest } = scenarios.get(key.instance)!;
      const { mode, delivery } = setup;
      const { agent, seed } = key;
      return { version, scenarioDigest: digest, scenario, file, agent, seed, mode, delivery };
    };
    const run = async (keys: readonly EpisodeKey[]): Promise<EpisodeRecord[]> => {
      const jobs = await this.queue.addBulk(
        keys.map((key) => {
          const data = dataOf(key);
          return { name: 'episode', data, opts: { jobId: jobId(data), attempts: 1 } };
        }),
      );
      return Promise.all(jobs.map((job, i) => this.collect(job, keys[i]!, setup)));
    };
    return { takes: (agent) => !isModelSpec(agent), batch: BATCH, inFlight: IN_FLIGHT, run };
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
    writeWhole(join(setup.dir, REPLAYS_DIR, replayFileName(record)), replay);
    setup.output.ranElsewhere(record, result.line, replay.length);
    await job.remove().catch(() => undefined);
    return record;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.queue.close(), this.events.close()]);
  }
}

/** Writes a replay whole or not at all (a kill mid-write leaves no partial file under its name). */
function writeWhole(path: string, bytes: Uint8Array): void {
  const temp = path + TEMP_SUFFIX;
  try {
    writeFileSync(temp, bytes);
    renameSync(temp, path);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // Never created.
    }
    throw error;
  }
}
