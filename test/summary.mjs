// Prints vitest's totals as one plain closing line (`tests: N passed, N failed`), which CI reads.
import { readFileSync } from 'node:fs';

const file = process.argv[2];
try {
  const r = JSON.parse(readFileSync(file, 'utf8'));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  process.stdout.write(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed${skipped > 0 ? `, ${skipped} skipped` : ''}\n`);
} catch (error) {
  process.stdout.write(`tests: no results in ${file} (${error instanceof Error ? error.message : String(error)})\n`);
  process.exitCode = 1;
}
