/**
 * `--max-requests-in-flight` against a real redis-server and the scripted Chat Completions server
 * (both started here, stopped whatever happens), which counts the requests open at once: the limit
 * holds across three workers of several jobs each and two coordinators, and in a local run; a
 * worker killed with SIGKILL while holding a permit gives it back once its lease runs out, and not
 * before; waiting for permits changes no byte of the run directory.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inFlightMarkKey, PERMIT_LEASE_MS, permitsKey } from '../../cli/in-flight.js';
import { claimMarks } from '../../cli/provider-marks.js';
import { modelEnv, ROOT, tooltimeAsync } from '../support/cli.js';
import { chainModel, startChatServer, type ChatServer } from '../support/llm-server.js';
import { startRedis, startTooltime, stopAll, waitFor, type Started } from '../support/redis.js';
import { expectSameFiles, runDirFiles } from '../support/run-dir.js';

const base = mkdtempSync(join(tmpdir(), 'tooltime-in-flight-'));
const chain = join(ROOT, 'scenarios', 'examples', 'chain.json');
const WORKER_KEY = 'sk-worker-in-flight';
/** How long the server takes over each reply: long enough for requests to overlap. */
const REPLY_MS = 60;
/** How often a permit's lease is renewed (cli/in-flight.ts), for the bounds on when it ends. */
const RENEW_MS = 1000;
let redis: { url: (db: number) => string };
let server: ChatServer;

/** What the server saw: requests open now and at most, and when each arrived (ms). */
const seen = { open: 0, most: 0, arrivals: [] as number[] };
/** While set, a request arriving is held open until it resolves (a request out for long). */
let holding: Promise<void> | null = null;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  redis = await startRedis();
  server = await startChatServer(async (request) => {
    seen.open++;
    seen.most = Math.max(seen.most, seen.open);
    seen.arrivals.push(Date.now());
    try {
      await sleep(REPLY_MS);
      if (holding !== null) await holding;
      return chainModel(request);
    } finally {
      // Counted closed just before the reply is written: a client sees its reply after this.
      seen.open--;
    }
  });
});
afterAll(async () => {
  await stopAll();
  await server.close();
});

function resetSeen(): void {
  seen.open = 0;
  seen.most = 0;
  seen.arrivals = [];
}

/** The model run: the model agent on chain.json over `seeds`, `concurrency` episodes out at once. */
const RUN = (seeds: string, concurrency: number) => [
  'run',
  chain,
  '-a',
  'openai:test-model',
  '--seeds',
  seeds,
  '-q',
  '--base-url',
  server.url,
  '--concurrency',
  String(concurrency),
];

/** A run that must succeed silently; returns the most requests the server saw open at once. */
async function runOk(args: string[], key?: string): Promise<number> {
  resetSeen();
  const r = await tooltimeAsync(args, modelEnv(key));
  expect(r.stderr, args.join(' ')).toBe('');
  expect(r.status, args.join(' ')).toBe(0);
  return seen.most;
}

/** `n` model workers on `url`, each running `concurrency` jobs at once, ready to take jobs. */
async function startWorkers(
  url: string,
  n: number,
  concurrency: number,
  extra: string[] = [],
): Promise<Started[]> {
  const args = ['worker', url, '--base-url', server.url, '--concurrency', String(concurrency)];
  const workers = Array.from({ length: n }, () =>
    startTooltime([...args, ...extra], modelEnv(WORKER_KEY)),
  );
  for (const w of workers)
    await waitFor(() => w.out.stdout.includes('taking jobs') || w.hasExited(), 'a worker');
  for (const w of workers) expect(w.out.stderr).toBe('');
  return workers;
}

let reference: { files: Map<string, Buffer>; most: number } | null = null;

/** The local run without the limit of seeds 1..4, four at once (made once): the bytes to match. */
async function localReference(): Promise<{ files: Map<string, Buffer>; most: number }> {
  if (reference !== null) return reference;
  const out = join(base, 'local-free');
  const most = await runOk([...RUN('1..4', 4), '--workers', '1', '--out', out], 'k');
  reference = { files: runDirFiles(out), most };
  return reference;
}

describe('--max-requests-in-flight', () => {
  it('holds across three workers and two coordinators, and in a local run; the bytes stay a local run', async () => {
    const url = redis.url(1);
    // Ready while the local runs go (a worker sends nothing until it has a job).
    const workers = startWorkers(url, 3, 3);
    const ref = await localReference();
    // Four episodes out at once open up to four requests; the limit holds them to two.
    expect(ref.most, 'requests open at once in a local run without the limit').toBeGreaterThan(2);
    const out = join(base, 'local-limited');
    const local = await runOk(
      [...RUN('1..4', 4), '--max-requests-in-flight', '2', '--out', out],
      'k',
    );
    expect(local, 'requests open at once in a local run with the limit').toBeLessThanOrEqual(2);
    expectSameFiles(ref.files, runDirFiles(out), 'a local run with the limit');
    await workers;
    const both = async (limit: string[], tag: string): Promise<number> => {
      resetSeen();
      // Coordinator a's run is the one compared; b's (other seeds) runs beside it on the provider.
      const runs = ['1..4', '5..8'].map((seeds, i) =>
        tooltimeAsync(
          [...RUN(seeds, 4), ...limit, '--queue', url, '--out', join(base, `${tag}-${i}`)],
          modelEnv(),
        ),
      );
      for (const r of await Promise.all(runs)) {
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
      }
      expectSameFiles(ref.files, runDirFiles(join(base, `${tag}-0`)), `a queue run (${tag})`);
      return seen.most;
    };
    // Eight episodes out on nine worker slots: more than two requests open at once without it.
    expect(await both([], 'queue-free'), 'without the limit').toBeGreaterThan(2);
    const most = await both(['--max-requests-in-flight', '2'], 'queue-limited');
    expect(most, 'requests open at once across the cluster').toBeLessThanOrEqual(2);
    // Nothing is left held, and the runs' mark went with them.
    const client = new Redis(url);
    try {
      expect(await client.zcard(permitsKey(server.url))).toBe(0);
      expect(await client.get(inFlightMarkKey(server.url))).toBeNull();
    } finally {
      client.disconnect();
    }
  }, 120_000);

  it('a worker killed holding a permit: the permit comes back once its lease ran out; the run finishes', async () => {
    const ref = await localReference();
    const url = redis.url(2);
    const client = new Redis(url);
    let release: () => void = () => undefined;
    holding = new Promise<void>((resolve) => (release = resolve));
    resetSeen();
    try {
      // One worker takes every episode: the first request is held open, the rest wait for it.
      const [first] = await startWorkers(url, 1, 4, ['--lock-ms', '1000']);
      const out = join(base, 'kill-queue');
      const run = startTooltime(
        [...RUN('1..4', 4), '--max-requests-in-flight', '1', '--queue', url, '--out', out],
        modelEnv(),
      );
      await waitFor(() => seen.arrivals.length > 0, 'the first request');
      await startWorkers(url, 1, 4, ['--lock-ms', '1000']);
      // Held past its lease: renewed while its request runs, the permit lets no other request in.
      await sleep(seen.arrivals[0]! + PERMIT_LEASE_MS + 500 - Date.now());
      expect(seen.arrivals, 'requests while the permit was held').toHaveLength(1);
      const held = await client.zrange(permitsKey(server.url), 0, -1);
      expect(held).toHaveLength(1);
      first!.child.kill('SIGKILL');
      const killedAt = Date.now();
      await first!.exited;
      release();
      while (
        (await client.zscore(permitsKey(server.url), held[0]!)) !== null &&
        Date.now() - killedAt < 3 * PERMIT_LEASE_MS
      )
        await sleep(20);
      const backAfter = Date.now() - killedAt;
      // Its last renewal came at most RENEW_MS before the kill; it ends a lease after that.
      expect(backAfter).toBeGreaterThanOrEqual(PERMIT_LEASE_MS - RENEW_MS - 100);
      expect(backAfter).toBeLessThanOrEqual(PERMIT_LEASE_MS + 1000);
      expect(await run.exited, run.out.stderr).toBe(0);
      expect(run.out.stderr).toBe('');
      expectSameFiles(ref.files, runDirFiles(out), 'a run through a killed worker');
      expect(await client.zcard(permitsKey(server.url))).toBe(0);
      expect(seen.most).toBe(1);
    } finally {
      holding = null;
      release();
      client.disconnect();
    }
  }, 120_000);

  it('bad values, no model agent, and a second coordinator naming another limit: one line, exit 1', async () => {
    const bad = ['0', '2.5', '10001'];
    const badRuns = bad.map((v) =>
      tooltimeAsync([...RUN('1..1', 1), '--max-requests-in-flight', v], modelEnv('k')),
    );
    const noModel = tooltimeAsync(
      ['run', chain, '-a', 'greedy-async', '--max-requests-in-flight', '2'],
      modelEnv(),
    );
    for (const [i, r] of (await Promise.all(badRuns)).entries()) {
      expect(r.stderr).toBe(
        `tooltime: --max-requests-in-flight must be a whole number from 1 to 10000, got "${bad[i]}"\n`,
      );
      expect(r.status).toBe(1);
    }
    expect((await noModel).stderr).toBe(
      'tooltime: --max-requests-in-flight limits model requests: this run has no model agent\n',
    );
    expect((await noModel).status).toBe(1);
    // Each on its own database, at once: a mark set there as another coordinator's.
    const refusals = [
      { db: 3, held: '3', other: '3 requests in flight at most' },
      { db: 4, held: 'none', other: 'no limit' },
    ].map(async ({ db, held, other }) => {
      const url = redis.url(db);
      const client = new Redis(url);
      try {
        await claimMarks(client, [{ key: inFlightMarkKey(server.url), value: held }], 30_000);
        const out = join(base, `two-limits-${db}`);
        const r = await tooltimeAsync(
          [...RUN('1..1', 1), '--max-requests-in-flight', '2', '--queue', url, '--out', out],
          modelEnv(),
        );
        expect(r.stderr).toBe(
          `tooltime: --max-requests-in-flight 2: another coordinator on ${url} runs ${server.url} with ${other}; one limit per provider: give the same --max-requests-in-flight (or wait until that run ends)\n`,
        );
        expect(r.status).toBe(1);
        expect(existsSync(out), 'the run directory was made').toBe(false);
      } finally {
        client.disconnect();
      }
    });
    await Promise.all(refusals);
  }, 60_000);
});
