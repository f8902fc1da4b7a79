// A deliberately failing test. It is not part of the suite (vitest.config.ts includes *.test.ts
// only): `.ci/run` runs the test gate on it alone and requires a non-zero exit, so a gate that
// stops failing on a failing test fails CI.
import { expect, test } from 'vitest';

test('the gate canary fails on purpose', () => {
  expect(1).toBe(2);
});
