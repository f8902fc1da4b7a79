/**
 * A local run's permits for `--max-requests-in-flight` (cli/in-flight.ts): at most the limit held,
 * waiters served in the order they came, a permit released twice freeing one place only. (Across
 * processes, through Redis: queue-in-flight.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { localPermits } from '../../cli/in-flight.js';

/** Lets every settled promise's callbacks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('localPermits', () => {
  it('holds at most the limit; waiters get permits in order as they are released', async () => {
    const permits = localPermits(2);
    const got: string[] = [];
    const take = (name: string) =>
      permits.take().then((release) => {
        got.push(name);
        return release;
      });
    const a = take('a');
    const b = take('b');
    const c = take('c');
    const d = take('d');
    await settle();
    expect(got).toEqual(['a', 'b']);
    await (await b)();
    await settle();
    expect(got).toEqual(['a', 'b', 'c']);
    await (await a)();
    await settle();
    expect(got).toEqual(['a', 'b', 'c', 'd']);
    await (await c)();
    await (await d)();
    // Every permit is back: two more at once.
    const [e, f] = await Promise.all([permits.take(), permits.take()]);
    await e();
    await f();
  });

  it('a permit released twice frees one place, not two', async () => {
    const permits = localPermits(1);
    const release = await permits.take();
    let second = false;
    let third = false;
    void permits.take().then(() => (second = true));
    void permits.take().then(() => (third = true));
    await release();
    await release();
    await settle();
    expect([second, third]).toEqual([true, false]);
  });
});
