// The test gate: runs vitest, prints one plain closing line (`tests: N passed, N failed`, which CI
// reads) and exits non-zero when vitest failed, any test failed, any file failed to load, or no
// test ran at all. `npm test` and `.ci/run` call it; `.ci/run` also runs it on a canary suite that
// must fail, so a gate that stops failing fails CI.
//
// Usage: node test/run.mjs [--config FILE] [vitest filters...]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'tooltime-test-'));
const report = join(dir, 'results.json');
const vitest = join('node_modules', 'vitest', 'vitest.mjs');
const args = ['run', '--reporter=default', '--reporter=json', `--outputFile=${report}`];
const child = spawnSync(process.execPath, [vitest, ...args, ...process.argv.slice(2)], {
  stdio: 'inherit',
});
const verdict = judge(child, report);
rmSync(dir, { recursive: true, force: true });
process.stdout.write(`${verdict.line}\n`);
process.exit(verdict.ok ? 0 : 1);

/** The closing line and whether the run passed: every reason to fail is checked on its own. */
function judge(run, file) {
  if (run.error) return { ok: false, line: `tests: vitest did not start (${run.error.message})` };
  let r;
  try {
    r = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return { ok: false, line: `tests: no results from vitest (${why})` };
  }
  const passed = r.numPassedTests ?? 0;
  const failed = r.numFailedTests ?? 0;
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  const brokenFiles = r.numFailedTestSuites ?? 0;
  const line = `tests: ${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`;
  const reasons = [];
  if (run.status !== 0) reasons.push(`vitest exited ${run.status ?? run.signal}`);
  if (failed > 0) reasons.push(`${failed} test(s) failed`);
  if (brokenFiles > 0) reasons.push(`${brokenFiles} file(s) failed`);
  if (passed + failed === 0) reasons.push('no test ran');
  if (r.success === false && reasons.length === 0) reasons.push('vitest reported failure');
  if (reasons.length === 0) return { ok: true, line };
  process.stderr.write(`test gate: FAILED: ${reasons.join('; ')}\n`);
  return { ok: false, line };
}
