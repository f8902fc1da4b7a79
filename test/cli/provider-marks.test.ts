/**
 * A provider's run marks (cli/provider-marks.ts) on a real redis-server: a coordinator naming
 * other limits is refused while any run holding the mark goes on, and only then.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  claimMarks,
  isConflict,
  type MarkConflict,
  type MarkHold,
  type ProviderMark,
} from '../../cli/provider-marks.js';
import { startRedis, stopAll } from '../support/redis.js';

let client: Redis;

beforeAll(async () => {
  const redis = await startRedis();
  client = new Redis(redis.url(0));
}, 30_000);

afterAll(async () => {
  client?.disconnect();
  await stopAll();
});

// Each test its own provider: one test's leftovers never decide another's.
const RATE = (test: string) => `tooltime:rate:${test}:limit`;
const IN_FLIGHT = (test: string) => `tooltime:in-flight:${test}:limit`;
const marker =
  (test: string) =>
  (rate: string, inFlight: string): ProviderMark[] => [
    { key: RATE(test), value: rate },
    { key: IN_FLIGHT(test), value: inFlight },
  ];

function held(answer: MarkHold | MarkConflict): MarkHold {
  if (isConflict(answer)) throw new Error(`refused: mark ${answer.index} is ${answer.held}`);
  return answer;
}

describe('provider marks', () => {
  it('stay while any run holding them goes on (regression: the first to end dropped them)', async () => {
    const marks = marker('stay');
    const a = held(await claimMarks(client, marks('5/s', '2'), 30_000));
    const b = held(await claimMarks(client, marks('5/s', '2'), 30_000));
    await a.release();
    // B still runs at 5/s: a run at 7/s would break the one limiter per provider.
    expect(await claimMarks(client, marks('7/s', '2'), 30_000)).toEqual({ index: 0, held: '5/s' });
    expect(await claimMarks(client, marks('5/s', '3'), 30_000)).toEqual({ index: 1, held: '2' });
    await b.release();
    const c = held(await claimMarks(client, marks('7/s', '3'), 30_000));
    await c.release();
    expect(await client.exists(RATE('stay'), IN_FLIGHT('stay'))).toBe(0);
  });

  it('lapse with the lease of a run that stopped renewing (a killed coordinator)', async () => {
    const marks = marker('lapse');
    held(await claimMarks(client, marks('5/s', 'none'), 300));
    expect(isConflict(await claimMarks(client, marks('none', 'none'), 30_000))).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const next = held(await claimMarks(client, marks('none', 'none'), 30_000));
    await next.release();
  });

  it('let exactly one of two coordinators starting at once with other values in', async () => {
    const marks = marker('race');
    for (let round = 0; round < 20; round++) {
      const answers = await Promise.all([
        claimMarks(client, marks(`${round + 1}/s`, 'none'), 30_000),
        claimMarks(client, marks(`${round + 100}/s`, 'none'), 30_000),
      ]);
      expect(answers.filter((a) => !isConflict(a))).toHaveLength(1);
      for (const a of answers) if (!isConflict(a)) await a.release();
    }
  });
});
