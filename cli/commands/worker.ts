/**
 * `tooltime worker redis://HOST:PORT/N`: takes episode jobs from the queue a coordinator
 * (`tooltime run --queue URL`) fills, one at a time, and answers each with its episodes.jsonl line
 * and replay bytes. Any number run, on any machine with the same tooltime installed.
 *
 * A worker killed mid-job loses nothing: its lock expires after --lock-ms and another worker's
 * stalled-job check puts the job back (BullMQ). It runs the built-in agents and the policy modules
 * its own --policy names; a job can name neither a module to load nor a key to use.
 */
import { Worker, type Job } from 'bullmq';
import type { Command } from 'commander';
import { agentMaker, isModuleSpec } from '../../agents/index.js';
import { packageVersion } from '../../scenarios/package.js';
import { UsageError } from '../errors.js';
import { queueJobHandler } from '../queue-worker.js';
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
}

/** A job held this long without its worker's heartbeat is another worker's (BullMQ's default). */
const DEFAULT_LOCK_MS = 30_000;
/** Times a job may be found stalled (its worker gone) before it fails the run. */
const MAX_STALLED = 5;

function parseLockMs(text: string | undefined): number {
  if (text === undefined) return DEFAULT_LOCK_MS;
  const ms = Number(text);
  if (!/^\d+$/.test(text.trim()) || !(ms >= 500 && ms <= 3_600_000))
    throw new UsageError(`--lock-ms must be an integer from 500 to 3600000, got "${text}"`);
  return ms;
}

async function workerCommand(url: string, options: WorkerOptions): Promise<void> {
  const connection = parseRedisUrl(url, 'tooltime worker');
  const lockMs = parseLockMs(options.lockMs);
  const policies = options.policy ?? [];
  const notModule = policies.find((p) => !isModuleSpec(p));
  if (notModule !== undefined)
    throw new UsageError(`--policy ${notModule}: not a policy module (a path to a .js file)`);
  const handle = queueJobHandler(policies, await agentMaker(policies));
  const worker = new Worker<QueueJobData, QueueJobResult>(
    QUEUE_NAME,
    async (job: Job<QueueJobData, QueueJobResult>) => handle(job.data),
    {
      connection,
      prefix: QUEUE_PREFIX,
      // Episodes are CPU work: one at a time; start more workers for more cores.
      concurrency: 1,
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
    throw error;
  }
  const stop = () => void worker.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  process.stdout.write(`tooltime worker ${packageVersion()} on ${url}: taking jobs\n`);
  await worker.run();
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
      '--lock-ms <ms>',
      `a job whose worker stops for this long is retried by another (default ${DEFAULT_LOCK_MS})`,
    )
    .action(async (url: string, options: WorkerOptions) => {
      await workerCommand(url, options);
    });
}
