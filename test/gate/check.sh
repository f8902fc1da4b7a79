#!/usr/bin/env bash
# Proves the test gate can fail: the wrapper `npm test` uses must exit non-zero on a failing test
# and when no test file runs. Output goes to a log so CI reads only the real suite's closing line.
set -uo pipefail
cd "$(dirname "$0")/../.."
log="$(mktemp)"
fail() { echo "test gate check: FAILED: $1 (log: $log)"; tail -20 "$log"; exit 1; }
node test/run.mjs --config test/gate/vitest.config.ts >"$log" 2>&1 \
  && fail 'a failing test left the gate at exit 0'
grep -q 'tests: 0 passed, 1 failed' "$log" || fail 'the canary did not run as one failing test'
node test/run.mjs --config test/gate/vitest.config.ts no-such-test-file >"$log" 2>&1 \
  && fail 'a run with no test file left the gate at exit 0'
echo 'test gate check: a failing test and an empty run both fail the gate'
rm -f "$log"
