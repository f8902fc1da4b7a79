/**
 * The README's stress claims at scale: each policy passes the checks claimed for it on 2,000 cases
 * per fast-check seed, over three seeds. Slow by design (minutes, not seconds); a failure names the
 * command that reproduces its shrunk case.
 */
import { describe, expect, it } from 'vitest';
import { agentMaker } from '../../../agents/index.js';
import { encodeForStress, reproduceCommand } from '../../../cli/commands/stress.js';
import { runStress, type StressOptions } from '../../../cli/stress-runner.js';
import { CHECK_NAMES, type CheckName } from '../../../scenarios/stress/checks.js';

const RUNS = 2000;
const SEEDS = [1, 2, 3];
const EXAMPLE = './test/policies/example-policy.mjs';
const SAFETY: CheckName[] = ['liveness', 'dependencies', 'capacity', 'determinism'];
// Not efficiency: at this scale a heavy-tailed think time sometimes draws a very long think for a
// late decision (21.7s from a lognormal of median 12ms, on seed 2), which no lower bound can
// charge, since another policy might not have drawn it; the README says so. test/scenarios/stress/checks.test.ts
// checks efficiency on fewer cases.
const AT_SCALE = CHECK_NAMES.filter((c) => c !== 'efficiency');

// What the README claims at scale: the three baselines pass every check but efficiency; sequential
// and round-robin the four safety checks; the README's example policy is stressed as users are told
// to run it.
const CLAIMS: Array<[string, readonly CheckName[]]> = [
  ['greedy-async', AT_SCALE],
  ['critical-path', AT_SCALE],
  ['parallel-sync', AT_SCALE],
  [EXAMPLE, AT_SCALE],
  [`${EXAMPLE}:maxInFlight=3`, AT_SCALE],
  ['sequential', SAFETY],
  ['round-robin', SAFETY],
];

describe(`stress at scale: ${RUNS} cases per seed, seeds ${SEEDS.join(', ')}`, () => {
  for (const [agent, checks] of CLAIMS) {
    for (const seed of SEEDS) {
      it(`${agent}, seed ${seed}: ${checks.join(', ')}`, { timeout: 600_000 }, async () => {
        const options: StressOptions = {
          agent,
          makeAgent: await agentMaker([agent]),
          runs: RUNS,
          seed,
          checks,
          efficiencyFactor: 10,
          starvationDecisions: 25,
          timeLimitMs: null,
          mode: 'async',
          delivery: 'push',
          encode: encodeForStress,
        };
        const report = await runStress(options);
        const f = report.failure;
        const reproduce =
          f === null
            ? ''
            : reproduceCommand({
                agent,
                seed: f.fcSeed,
                path: f.fcPath,
                checks,
                efficiencyFactor: 10,
                starvationDecisions: 25,
                mode: 'async',
                delivery: 'push',
                maxTasks: 6,
                maxSteps: 6,
              });
        expect(
          f === null
            ? null
            : `${f.violation.check} after ${report.cases} cases: ${f.violation.message}; ${reproduce}`,
        ).toBeNull();
        expect(report.cases).toBe(RUNS);
        for (const c of checks) expect(report.tally[c].cases).toBe(RUNS);
      });
    }
  }
});
