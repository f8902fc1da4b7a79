/**
 * The progress bar's time left (cli/progress.ts): measured over recent wall time, so that episodes
 * finishing in bursts (a pool's batches) do not make it say "0s left".
 */
import { describe, expect, it } from 'vitest';
import { TimeLeft } from '../../cli/progress.js';

/** Seconds in a `TimeLeft` text ("1m50s left", "45s left", "3s left"). */
function seconds(text: string): number {
  const m = /^(?:(\d+)m)?(?:(\d+)s)? left$/.exec(text);
  if (m === null) throw new Error(`not a time left: "${text}"`);
  return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0);
}

describe('TimeLeft', () => {
  it('says nothing until a second has passed, then the time left at the recent rate', () => {
    let nowMs = 0;
    const left = new TimeLeft(1000, () => nowMs);
    nowMs = 500;
    expect(left.update(10)).toBe('');
    // 100 episodes a second, steadily: 900 left is 9 s.
    for (let done = 11; done <= 100; done++) {
      nowMs = done * 10;
      left.update(done);
    }
    nowMs = 1000;
    expect(left.update(100)).toBe('9s left');
  });

  it('regression: batches of 260 finishing in the same millisecond every 150 ms read as their rate, not "0s left"', () => {
    let nowMs = 0;
    const total = 36_000;
    const left = new TimeLeft(total, () => nowMs);
    let done = 0;
    const said: Array<{ done: number; text: string }> = [];
    while (done < total) {
      nowMs += 150;
      for (let k = 0; k < 260 && done < total; k++) {
        done++;
        const text = left.update(done);
        if (k === 259) said.push({ done, text });
      }
    }
    // The true rate: 260 episodes per 150 ms.
    for (const { done: d, text } of said.filter((s) => s.done > 2000 && s.done < total - 4000)) {
      const truth = ((total - d) / 260) * 0.15;
      // cli-progress rounds seconds past 10 to a multiple of 5.
      expect(Math.abs(seconds(text) - truth), `${d}: ${text}`).toBeLessThanOrEqual(
        Math.max(3, truth * 0.1),
      );
    }
  });

  it('follows a change of pace within its window (ten seconds)', () => {
    let nowMs = 0;
    const left = new TimeLeft(100_000, () => nowMs);
    let done = 0;
    // 30 s at 1,000 a second, then 30 s at 100 a second.
    for (let t = 1; t <= 60_000; t += 10) {
      nowMs = t;
      done += t <= 30_000 ? 10 : 1;
      left.update(done);
    }
    const text = left.update(done);
    expect(seconds(text)).toBeGreaterThan(((100_000 - done) / 100) * 0.9);
  });
});
