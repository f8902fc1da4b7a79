/**
 * Stress throughput: cases and episode events per second that `tooltime stress` checks for one
 * policy, and the time to find and shrink each deliberately flawed policy's failure.
 */
import { createAgent } from '../agents/index.js';
import { encodeForStress } from '../cli/commands/stress.js';
import { runStress, type StressOptions } from '../cli/stress-runner.js';
import { CHECK_NAMES, type CheckName } from '../scenarios/stress/checks.js';
import { flawedMaker } from '../agents/flawed.js';

function options(
  agent: string,
  checks: readonly CheckName[],
  runs: number,
  extra: Partial<StressOptions> = {},
): StressOptions {
  return {
    agent,
    makeAgent: flawedMaker,
    runs,
    seed: 42,
    checks,
    efficiencyFactor: 10,
    starvationDecisions: 25,
    timeLimitMs: null,
    mode: 'async',
    delivery: 'push',
    encode: encodeForStress,
    ...extra,
  };
}

export async function stressThroughput(
  agent: string,
  runs: number,
): Promise<{ cases: number; events: number; seconds: number }> {
  const start = process.hrtime.bigint();
  const report = await runStress({ ...options(agent, CHECK_NAMES, runs), makeAgent: createAgent });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (report.failure !== null)
    throw new Error(`stress bench: ${agent} failed ${report.failure.violation.check}`);
  return { cases: report.cases, events: report.tally.liveness.events, seconds };
}

const FLAWS: Readonly<Record<string, { check: CheckName; extra?: Partial<StressOptions> }>> = {
  'cap-ignorer': { check: 'capacity' },
  starver: { check: 'starvation', extra: { starvationDecisions: 3 } },
  'early-bird': { check: 'dependencies' },
};

export async function shrinkTime(
  flawed: string,
): Promise<{ seconds: number; cases: number; shrinks: number; steps: number; tasks: number }> {
  const flaw = FLAWS[flawed];
  if (flaw === undefined) throw new Error(`unknown flawed policy ${flawed}`);
  const start = process.hrtime.bigint();
  const report = await runStress(options(flawed, [flaw.check], 300, flaw.extra));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (report.failure === null) throw new Error(`stress bench: ${flawed} was not caught`);
  return {
    seconds,
    cases: report.cases,
    shrinks: report.failure.shrinks,
    steps: report.failure.size.steps,
    tasks: report.failure.size.tasks,
  };
}
