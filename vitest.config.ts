import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // vitest 4 only excludes node_modules and .git: without this, dist/ would run twice.
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
