import { describe, expect, it } from 'vitest';
import { isReady, type ReadinessFacts } from '../../../scenarios/world/readiness.js';

describe('isReady: the one definition of a ready step', () => {
  const ready: ReadinessFacts = {
    released: true,
    dependenciesDelivered: true,
    done: false,
    inFlight: false,
  };

  it('a released step, every dependency delivered, not done, nothing in flight, is ready', () => {
    expect(isReady(ready)).toBe(true);
  });

  it('each fact alone, turned the other way, makes it not ready', () => {
    expect(isReady({ ...ready, released: false })).toBe(false);
    expect(isReady({ ...ready, dependenciesDelivered: false })).toBe(false);
    expect(isReady({ ...ready, done: true })).toBe(false);
    expect(isReady({ ...ready, inFlight: true })).toBe(false);
  });
});
