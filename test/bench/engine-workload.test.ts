import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  bytesInUse,
  runBareHeap,
  runCallbacks,
  runGeneratorHeap,
  runGenerators,
  runShortLived,
  runTypedHeap,
} from '../../bench/engine-workload.js';
import { ROOT } from '../support/cli.js';

// The bench reads its rows side by side as the same work done different ways: every variant
// must run the same event stream (same draws, same order), which the final time shows.
describe('the engine bench workloads run one event stream', () => {
  it('1000 processes: generators (number or timeout, either queue), callbacks and both bare heaps end together', () => {
    const events = 20_000;
    const finals = [
      runGenerators(1000, events, 7),
      runGenerators(1000, events, 7, 'heap-js'),
      runGenerators(1000, events, 7, 'typed', 'timeout'),
      runCallbacks(1000, events, 7),
      runBareHeap(1000, events, 7),
      runTypedHeap(1000, events, 7),
    ].map((r) => r.finalTimeUs);
    expect(new Set(finals).size).toBe(1);
    expect(finals[0]).toBeGreaterThan(0);
  });

  it('deep queues, all busy and mostly asleep, end together with the bare typed heap, bare generators or not', () => {
    for (const depth of [10, 5000]) {
      const busy = [
        runGenerators(depth, 10_000, 7, 'typed', 'number', depth),
        runGenerators(depth, 10_000, 7, 'heap-js', 'number', depth),
        runTypedHeap(depth, 10_000, 7, depth),
        runGeneratorHeap(depth, 10_000, 7, depth),
      ].map((r) => r.finalTimeUs);
      expect(new Set(busy).size).toBe(1);
    }
    const asleep = [
      runGenerators(100, 10_000, 7, 'typed', 'number', 5000, 4900),
      runGenerators(100, 10_000, 7, 'heap-js', 'number', 5000, 4900),
      runTypedHeap(100, 10_000, 7, 100, 4900),
      runGeneratorHeap(100, 10_000, 7, 100, 4900),
    ].map((r) => r.finalTimeUs);
    expect(new Set(asleep).size).toBe(1);
  });
});

describe('the short-lived processes row', () => {
  it('starts one child a µs, each ending 3 µs later: four events a µs (the spawner, and each child starting, resuming and its done)', () => {
    const result = runShortLived(40_000, 7);
    expect(result.events).toBe(40_000);
    expect(Math.abs(result.finalTimeUs - 10_000)).toBeLessThanOrEqual(3);
  });
});

describe('the engine bench measures memory whole', () => {
  it('regression: bytes in use count a typed array, whose bytes live outside the JS heap (the queue keeps its keys in one; heapUsed alone left them out)', () => {
    const noGc = (): void => undefined;
    const before = bytesInUse(noGc);
    const keys = new Float64Array(2_000_000);
    const grown = bytesInUse(noGc) - before;
    expect(keys.length).toBe(2_000_000);
    expect(grown).toBeGreaterThanOrEqual(16_000_000);
  });
});

/** The bench's own measurement (bench/worker.js under --expose-gc), bytes per waiting process. */
function waitingBytes(shape: 'bare' | 'number', count: number): number {
  const worker = join(ROOT, 'dist', 'bench', 'worker.js');
  if (!existsSync(worker)) throw new Error('dist/bench/worker.js is missing: npm test builds it');
  const run = spawnSync(
    process.execPath,
    ['--expose-gc', worker, 'engine:waiting-memory', shape, String(count)],
    { encoding: 'utf8' },
  );
  expect(run.status, run.stderr).toBe(0);
  const last = run.stdout.trim().split('\n').pop() ?? '';
  return (JSON.parse(last) as { bytesPerProcess: number }).bytesPerProcess;
}

describe('the engine holds little per waiting process', () => {
  it('regression: at most 64 bytes per process beyond its suspended generator, 100k waiting on a delay (an object per process and a pointer per entry held 87)', () => {
    const beyond = waitingBytes('number', 100_000) - waitingBytes('bare', 100_000);
    expect(beyond).toBeGreaterThan(24);
    expect(beyond).toBeLessThanOrEqual(64);
  });
});
