/**
 * Model agents on `tooltime run --queue` with `tooltime worker --base-url` processes, against a real
 * redis-server and the scripted Chat Completions server (both started here, stopped whatever
 * happens): the run directory (its response cache included) is a local `--workers 1` run's bytes;
 * no key the workers hold reaches Redis; `--rate-limit` holds the requests of every worker
 * together, locally and through Redis; a 429 holds every worker back for its Retry-After.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimMarks } from '../../cli/provider-marks.js';
import { ROOT, tooltimeAsync, modelEnv } from '../support/cli.js';
import { chainModel, startChatServer, type ChatServer, type Model } from '../support/llm-server.js';
import { startRedis, startTooltime, stopAll, waitFor, type Started } from '../support/redis.js';
import { expectSameFiles, runDirFiles } from '../support/run-dir.js';

const base = mkdtempSync(join(tmpdir(), 'tooltime-queue-models-'));
const chain = join(ROOT, 'scenarios', 'examples', 'chain.json');
/** The workers' key: distinctive, so that finding it anywhere in Redis is a finding. */
const WORKER_KEY = 'sk-worker-only-7f3a9c1e5b2d4f60a8e1';
let redis: { url: (db: number) => string };
let server: ChatServer;
/** When each request reached the server (ms, this process's clock), in order. */
let arrivals: number[] = [];

/** The server's model, with each request's arrival time recorded. */
function timed(model: Model): Model {
  return (request) => {
    arrivals.push(Date.now());
    return model(request);
  };
}

beforeAll(async () => {
  redis = await startRedis();
  server = await startChatServer(timed(chainModel));
});
afterAll(async () => {
  await stopAll();
  await server.close();
});

/** The model run every test makes: one model agent and one baseline on chain.json, six seeds. */
const RUN = (seeds = '1..6') => [
  'run',
  chain,
  '-a',
  'openai:test-model',
  'greedy-async',
  '--seeds',
  seeds,
  '-q',
  '--base-url',
  server.url,
];

let reference: Map<string, Buffer> | null = null;

/** The local `--workers 1` run's results (made once). */
async function localReference(): Promise<Map<string, Buffer>> {
  if (reference !== null) return reference;
  const out = join(base, 'local');
  const r = await tooltimeAsync([...RUN(), '--workers', '1', '--out', out], modelEnv('sk-local'));
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  reference = runDirFiles(out);
  expect([...reference.keys()].filter((k) => k.startsWith('cache/')).length).toBeGreaterThan(3);
  return reference;
}

/** `n` model workers on `url`, each ready to take jobs. */
async function startWorkers(url: string, n: number, extra: string[] = []): Promise<Started[]> {
  const args = ['worker', url, '--base-url', server.url, '--concurrency', '2', ...extra];
  const workers = Array.from({ length: n }, () => startTooltime(args, modelEnv(WORKER_KEY)));
  for (const w of workers)
    await waitFor(() => w.out.stdout.includes('taking jobs') || w.hasExited(), 'a worker');
  for (const w of workers) expect(w.out.stderr).toBe('');
  return workers;
}

/** Every value under every key of a Redis database, as text. */
async function redisText(client: Redis): Promise<string> {
  const parts: string[] = [];
  for (const key of await client.keys('*')) {
    const type = await client.type(key);
    parts.push(key);
    if (type === 'string') parts.push((await client.get(key)) ?? '');
    else if (type === 'hash') parts.push(JSON.stringify(await client.hgetall(key)));
    else if (type === 'list') parts.push(JSON.stringify(await client.lrange(key, 0, -1)));
    else if (type === 'set') parts.push(JSON.stringify(await client.smembers(key)));
    else if (type === 'zset') parts.push(JSON.stringify(await client.zrange(key, 0, -1)));
    else if (type === 'stream') parts.push(JSON.stringify(await client.xrange(key, '-', '+')));
  }
  return parts.join('\n');
}

/** The most requests that arrived within any `ms` (from one arrival on). */
function busiest(times: readonly number[], ms: number): number {
  let most = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i]! - times[j]! >= ms) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe('model agents on tooltime run --queue', () => {
  it('three workers: the bytes of a local run, the cache included; no key of theirs in Redis', async () => {
    const ref = await localReference();
    const url = redis.url(1);
    const workers = await startWorkers(url, 3);
    const client = new Redis(url);
    try {
      const out = join(base, 'queue');
      // The coordinator holds no key: the workers call the model with theirs.
      const run = startTooltime(
        [...RUN(), '--concurrency', '4', '--queue', url, '--out', out],
        modelEnv(),
      );
      let scans = 0;
      let seen = '';
      while (!run.hasExited()) {
        seen += await redisText(client);
        scans++;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(await run.exited, run.out.stderr).toBe(0);
      expect(run.out.stderr).toBe('');
      seen += await redisText(client);
      // The jobs were there to scan: a model job carries the model's settings.
      expect(scans).toBeGreaterThan(2);
      expect(seen).toContain('openai:test-model');
      expect(seen).toContain(server.url);
      expect(seen.includes(WORKER_KEY), 'the workers key was found in Redis').toBe(false);
      expectSameFiles(ref, runDirFiles(out), 'a model run on the queue');
      // The workers ran the model episodes, more than one of them.
      const ranModel = workers.map((w) => w.out.stdout.split('/ openai:test-model /').length - 1);
      expect(ranModel.reduce((a, b) => a + b, 0)).toBe(6);
      expect(ranModel.filter((n) => n > 0).length).toBeGreaterThan(1);
      // run.json's modelLatency counts the requests the workers sent (its totalMs is wall time).
      const latency = (dir: string) =>
        JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).modelLatency;
      expect(latency(out).requests).toBe(latency(join(base, 'local')).requests);
      expect(latency(out).requests).toBeGreaterThan(0);
    } finally {
      client.disconnect();
    }
  }, 180_000);

  it('--rate-limit holds every worker together through Redis (and a local run in-process)', async () => {
    const ref = await localReference();
    const RATE = 8;
    // Three workers of two jobs each and six episodes out: far above 8 requests a second unlimited.
    const url = redis.url(2);
    await startWorkers(url, 3);
    const queued: Array<{ where: string; times: number[]; out: string }> = [];
    for (const where of ['queue', 'local']) {
      const out = join(base, `rate-${where}`);
      const flags = where === 'queue' ? ['--queue', url] : ['--workers', '1'];
      arrivals = [];
      const r = await tooltimeAsync(
        [...RUN(), '--concurrency', '6', '--rate-limit', String(RATE), ...flags, '--out', out],
        modelEnv(where === 'local' ? 'sk-local' : undefined),
      );
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expectSameFiles(ref, runDirFiles(out), `a rate-limited run (${where})`);
      queued.push({ where, times: [...arrivals], out });
    }
    for (const { where, times } of queued) {
      // A fixed window: at most RATE start in each second, so at most 2 RATE in any second.
      expect(times.length, where).toBeGreaterThan(3 * RATE);
      expect(busiest(times, 1000), `${where}: requests within one second`).toBeLessThanOrEqual(
        2 * RATE,
      );
      const seconds = (times.at(-1)! - times[0]!) / 1000;
      expect(times.length, `${where}: requests over ${seconds} s`).toBeLessThanOrEqual(
        RATE * (Math.ceil(seconds) + 1),
      );
    }
  }, 180_000);

  it('a 429 holds every worker back for its Retry-After; the bytes stay a local run', async () => {
    const ref = await localReference();
    const url = redis.url(3);
    await startWorkers(url, 3);
    const WINDOW_MS = 3000;
    let refusedAt: number | null = null;
    arrivals = [];
    server.model = timed((request) => {
      const now = Date.now();
      // The 10th request is refused, and any that comes while the Retry-After holds.
      if (arrivals.length === 10 || (refusedAt !== null && now < refusedAt + WINDOW_MS)) {
        refusedAt ??= now;
        return {
          status: 429,
          headers: { 'retry-after': '3' },
          json: { error: { message: 'slow down' } },
        };
      }
      return chainModel(request);
    });
    try {
      const out = join(base, 'throttled');
      const r = await tooltimeAsync(
        [...RUN(), '--concurrency', '6', '--rate-limit', '1000', '--queue', url, '--out', out],
        modelEnv(),
      );
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(refusedAt).not.toBeNull();
      // Requests let through before the refused worker blocked the limiter (a Redis round trip
      // later; on a loaded machine, some hundred ms) may arrive just after the 429; then none.
      const GRACE_MS = 600;
      const during = arrivals.filter(
        (t) => t > refusedAt! + GRACE_MS && t < refusedAt! + WINDOW_MS,
      );
      expect(during, 'requests while the Retry-After held').toEqual([]);
      expect(arrivals.filter((t) => t >= refusedAt! + WINDOW_MS).length).toBeGreaterThan(0);
      // The refused request was sent again, and is not in what the run recorded.
      expectSameFiles(ref, runDirFiles(out), 'a run through a 429');
    } finally {
      server.model = timed(chainModel);
    }
  }, 180_000);

  it('bad setups: one line, exit 1', async () => {
    const url = redis.url(4);
    const noBase = await tooltimeAsync(
      ['run', chain, '-a', 'openai:m', '--queue', url, '--out', join(base, 'b1')],
      modelEnv(),
    );
    expect(noBase.stderr).toBe(
      'tooltime: --queue with a model agent: give --base-url URL (workers call only the provider their own --base-url names)\n',
    );
    expect(noBase.status).toBe(1);
    const noModel = await tooltimeAsync(
      ['run', chain, '-a', 'greedy-async', '--rate-limit', '5'],
      modelEnv(),
    );
    expect(noModel.stderr).toBe(
      'tooltime: --rate-limit limits model requests: this run has no model agent\n',
    );
    expect(noModel.status).toBe(1);
    const bad = await tooltimeAsync([...RUN(), '--rate-limit', '5/h'], modelEnv('k'));
    expect(bad.stderr).toBe(
      'tooltime: --rate-limit must be N, N/s or N/min with N a whole number from 1 to 1000000, got "5/h"\n',
    );
    expect(bad.status).toBe(1);
    const noKey = await tooltimeAsync(['worker', url, '--base-url', server.url], modelEnv());
    expect(noKey.stderr).toMatch(/^tooltime: openai agents need an API key: set OPENAI_API_KEY/);
    expect(noKey.stderr.split('\n')).toHaveLength(2);
    expect(noKey.status).toBe(1);
    const stray = await tooltimeAsync(['worker', url, '--cache', join(base, 'c')], modelEnv());
    expect(stray.stderr).toBe(
      'tooltime: --cache is for model jobs: give --base-url URL (the provider) too\n',
    );
    expect(stray.status).toBe(1);
  }, 60_000);

  it('a worker refuses a model job for another provider, and one when it calls no model', async () => {
    const expectRefused = async (db: number, args: string[], why: string) => {
      const url = redis.url(db);
      const worker = startTooltime(['worker', url, ...args], modelEnv(WORKER_KEY));
      await waitFor(() => worker.out.stdout.includes('taking jobs'), 'a worker');
      const r = await tooltimeAsync(
        [...RUN('1..1'), '--queue', url, '--out', join(base, `refused-${db}`)],
        modelEnv(),
      );
      const job = 'example-chain / openai:test-model / seed 1';
      expect(r.stderr).toBe(
        `tooltime: --queue ${url}: episode ${job} failed on a worker: job ${job} ${why}\n`,
      );
      expect(r.status).toBe(1);
      worker.child.kill('SIGKILL');
      await worker.exited;
    };
    await expectRefused(
      5,
      ['--base-url', 'http://127.0.0.1:9/v1'],
      `calls the model at ${server.url}, this worker's --base-url is http://127.0.0.1:9/v1: a worker calls only the provider its own command line names`,
    );
    await expectRefused(
      6,
      [],
      'names model agent openai:test-model: this worker calls no model (start it with --base-url URL, the provider its API key is for)',
    );
  }, 60_000);

  it('two coordinators may not run one provider at two rates', async () => {
    const url = redis.url(7);
    const client = new Redis(url);
    try {
      const hash = (await import('node:crypto'))
        .createHash('sha256')
        .update(server.url)
        .digest('hex')
        .slice(0, 32);
      await claimMarks(client, [{ key: `tooltime:rate:${hash}:limit`, value: '5/s' }], 30_000);
      const r = await tooltimeAsync(
        [...RUN(), '--rate-limit', '9', '--queue', url, '--out', join(base, 'two-rates')],
        modelEnv(),
      );
      expect(r.stderr).toBe(
        `tooltime: --rate-limit 9/s: another coordinator on ${url} runs ${server.url} at 5/s; one limiter per provider: give the same --rate-limit (or wait until that run ends)\n`,
      );
      expect(r.status).toBe(1);
    } finally {
      client.disconnect();
    }
  }, 60_000);
});
