import { defineConfig } from 'vitest/config';

// The canary suites of the test gate: one failing test, and a filter that matches no test file.
export default defineConfig({
  test: { include: ['test/gate/*.gate.ts'], root: '.' },
});
