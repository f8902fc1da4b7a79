/**
 * `tooltime run --queue URL` and `tooltime worker URL` on a real redis-server (test/support/redis.ts
 * starts it at a free port and ends it and every process here, whatever happens): the run
 * directory is a local `--workers 1` run's bytes when a worker is killed mid-run, and when the
 * coordinator is killed and resumed; a worker refuses a job of another tooltime version, and a job
 * naming a policy module it was not started with (without loading it).
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageVersion } from '../../scenarios/package.js';
import { hasStackTrace, tooltime } from '../support/cli.js';
import { startRedis, startTooltime, stopAll, waitFor, type Started } from '../support/redis.js';
import { expectSameFiles, runDirFiles } from '../support/run-dir.js';

const base = mkdtempSync(join(tmpdir(), 'tooltime-queue-'));
let redis: { url: (db: number) => string };

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await stopAll();
});

function localRun(args: readonly string[], out: string): Map<string, Buffer> {
  const r = tooltime([...args, '--workers', '1', '--out', out]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return runDirFiles(out);
}

/** `n` workers on `url`, each ready to take jobs. */
async function startWorkers(
  url: string,
  n: number,
  extra: string[] = [],
  env?: NodeJS.ProcessEnv,
): Promise<Started[]> {
  const workers = Array.from({ length: n }, () => startTooltime(['worker', url, ...extra], env));
  for (const w of workers)
    await waitFor(() => w.out.stdout.includes('taking jobs') || w.hasExited(), 'a worker');
  for (const w of workers) expect(w.out.stderr).toBe('');
  return workers;
}

const ran = (w: Started) => w.out.stdout.split('\n').filter((l) => l.startsWith('ran ')).length;
const logged = (dir: string) =>
  existsSync(join(dir, 'episodes.jsonl'))
    ? readFileSync(join(dir, 'episodes.jsonl'), 'utf8').split('\n').length - 1
    : 0;

/** 24 instances of the shipped suite, every baseline and failure-mode agent, seeds 1..2. */
const SUITE = ['run', '--sample', '24', '--seeds', '1..2', '-q'];

describe('tooltime run --queue with tooltime worker', () => {
  it('three workers, one killed with SIGKILL mid-run: the bytes of a local --workers 1 run', async () => {
    const url = redis.url(1);
    const ref = localRun(SUITE, join(base, 'suite-local'));
    const episodes = ref.get('episodes.jsonl')!.toString().trim().split('\n').length;
    // A short lock: the killed worker's job goes to another worker about a second later.
    const workers = await startWorkers(url, 3, ['--lock-ms', '1000']);
    const out = join(base, 'suite-queue');
    const coordinator = startTooltime([...SUITE, '--queue', url, '--out', out]);
    const victim = workers[0]!;
    await waitFor(() => ran(victim) >= 5 || coordinator.hasExited(), 'a worker to run 5 jobs');
    expect(coordinator.hasExited(), 'the run ended before the worker was killed').toBe(false);
    victim.child.kill('SIGKILL');
    await victim.exited;
    expect(await coordinator.exited, coordinator.out.stderr).toBe(0);
    expect(coordinator.out.stderr).toBe('');
    expect(coordinator.out.stdout).toMatch(/verify-sample: \d+ of \d+ episodes \(5%\)/);
    // The survivors ran the rest: every episode, some perhaps twice, none lost (the bytes below).
    // A worker prints "ran" once its answer is in Redis, so a line may come after the run ended,
    // and the victim may have been killed between its answer and its line (one episode at most).
    expect(ran(victim)).toBeLessThan(episodes);
    const total = () => workers.reduce((n, w) => n + ran(w), 0);
    await waitFor(() => total() >= episodes - 1, 'the workers to report', 5000);
    expect(total()).toBeGreaterThanOrEqual(episodes - 1);
    expectSameFiles(ref, runDirFiles(out), 'a queue run with a worker killed');
  }, 120_000);

  it('a coordinator killed mid-run resumes with --resume: the same bytes, no episode run twice', async () => {
    const url = redis.url(2);
    const args = ['run', '--sample', '8', '--seeds', '1..2', '-q', '-a', 'greedy-async'];
    const more = ['sequential', 'round-robin'];
    const ref = localRun([...args, ...more], join(base, 'resume-local'));
    const episodes = 8 * 2 * 3;
    const workers = await startWorkers(url, 2);
    const out = join(base, 'resume-queue');
    const first = startTooltime([...args, ...more, '--queue', url, '--out', out]);
    await waitFor(() => logged(out) >= 5 || first.hasExited(), 'five episodes logged');
    expect(first.hasExited(), 'the run ended before it was killed').toBe(false);
    first.child.kill('SIGKILL');
    await first.exited;
    const before = logged(out);
    expect(before).toBeLessThan(episodes);
    // Not spawnSync: this process reads the workers' output meanwhile.
    const resumed = startTooltime([...args, ...more, '--queue', url, '--out', out, '--resume']);
    expect(await resumed.exited, resumed.out.stderr).toBe(0);
    expect(resumed.out.stderr).toBe('');
    expectSameFiles(ref, runDirFiles(out), 'a queue run killed and resumed');
    // Jobs finished while no coordinator was there were taken from Redis, not run again.
    const total = () => workers.reduce((n, w) => n + ran(w), 0);
    await waitFor(() => total() >= episodes, 'the workers to report', 5000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(total()).toBe(episodes);
  }, 120_000);

  it('a worker refuses a job of another tooltime version, and one naming a module it was not given', async () => {
    const url = redis.url(3);
    const marker = join(base, 'loaded');
    const policy = './test/policies/marker-policy.mjs';
    const env = { ...process.env, TOOLTIME_TEST_MARKER: marker };
    const [worker] = await startWorkers(url, 1, [], env);
    const queue = new Queue('episodes', {
      connection: { url, maxRetriesPerRequest: null },
      prefix: 'tooltime',
    });
    try {
      const data = {
        version: packageVersion(),
        scenarioDigest: 'sha256:0',
        scenario: { id: 'x' },
        file: 'x.json',
        agent: 'greedy-async',
        seed: 1,
        mode: 'async',
        delivery: 'push',
      };
      const other = await queue.add('episode', { ...data, version: '0.0.1-other' });
      const module = await queue.add('episode', {
        ...data,
        agent: policy,
      });
      await waitFor(() => worker!.out.stderr.split('\n').length >= 3, 'two refusals');
      const failed = await Promise.all([other, module].map((j) => queue.getJob(j.id!)));
      expect(failed[0]!.failedReason).toBe(
        `job x / greedy-async / seed 1 was enqueued by tooltime 0.0.1-other, this worker is tooltime ${packageVersion()}: run workers of the coordinator's version`,
      );
      expect(failed[1]!.failedReason).toBe(
        `job x / ${policy} / seed 1 names policy module ${policy}, which this worker's command line does not: start it with --policy ${policy}`,
      );
      expect(worker!.out.stderr).toContain('0.0.1-other');
      expect(hasStackTrace(worker!.out.stderr)).toBe(false);
      expect(existsSync(marker), 'the module named by a job was loaded').toBe(false);
      expect(worker!.hasExited()).toBe(false);
      // The marker shows a load: a worker whose command line names the module loads it.
      await startWorkers(url, 1, ['--policy', policy], env);
      expect(existsSync(marker)).toBe(true);
    } finally {
      await queue.close();
    }
  }, 60_000);

  it('regression: a Redis that does not answer is one line, exit 1, not a hang, nothing written', () => {
    const out = join(base, 'unreachable');
    const url = 'redis://127.0.0.1:1/0';
    for (const args of [
      ['run', '--sample', '1', '--queue', url, '--out', out],
      ['worker', url],
    ]) {
      const r = tooltime(args, { timeoutMs: 30_000 });
      expect(r.stderr, args.join(' ')).toBe(
        `tooltime: cannot reach Redis at ${url}: connect ECONNREFUSED 127.0.0.1:1\n`,
      );
      expect(r.status).toBe(1);
    }
    expect(existsSync(out)).toBe(false);
  });

  it('bad queue flags: one line, exit 1', () => {
    const bad = tooltime(['run', '--sample', '1', '--queue', 'http://x', '--out', join(base, 'b')]);
    expect(bad.stderr).toBe(
      'tooltime: --queue must be a Redis URL like redis://HOST:PORT/0, got "http://x"\n',
    );
    expect(bad.status).toBe(1);
    const noOut = tooltime(['run', '--sample', '1', '--queue', redis.url(0)]);
    expect(noOut.stderr).toBe(
      'tooltime: --queue writes a run directory: give --out DIR (and no --record)\n',
    );
    expect(noOut.status).toBe(1);
  });
});
