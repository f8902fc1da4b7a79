/**
 * `tooltime stress --agent SPEC`: property-based stress testing of a scheduling policy (see
 * stress-runner.ts). Exit 0 when every case passes; exit 1 with a minimal failing scenario, its
 * replay and the reproducing command written to --out.
 */
import type { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentMaker } from '../../agents/index.js';
import { canonicalize } from '../../scenarios/spec/canonical.js';
import { CHECK_DEFINITIONS, CHECK_NAMES, type CheckName } from '../../scenarios/stress/checks.js';
import { encodeReplay, makeHeader } from '../../replays/index.js';
import { UsageError } from '../errors.js';
import { runStress, type StressOptions, type StressReport } from '../stress-runner.js';
import { StressPool, stressPoolSize } from '../stress-pool.js';
import { parseWorkers } from '../run-pool.js';
import { table } from '../table.js';

interface StressCliOptions {
  readonly agent: string;
  readonly runs: string;
  readonly seed: string;
  readonly path?: string;
  readonly check?: string[];
  readonly out: string;
  readonly timeLimit?: string;
  readonly efficiencyFactor: string;
  readonly starvationDecisions: string;
  readonly mode: string;
  readonly delivery: string;
  readonly maxTasks: string;
  readonly maxSteps: string;
  readonly workers?: string;
}

function positiveInt(name: string, raw: string, min = 1): number {
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min)
    throw new UsageError(`--${name} must be an integer >= ${min}, got "${raw}"`);
  return n;
}

export const encodeForStress: StressOptions['encode'] = (
  scenario,
  agent,
  seed,
  mode,
  delivery,
  events,
) => encodeReplay(makeHeader({ scenario, agent, seed, mode, delivery }), events, scenario);

export function formatTally(report: StressReport, checks: readonly CheckName[]): string {
  return table(
    ['check', 'cases', 'events', 'definition'],
    checks.map((c) => [
      c,
      String(report.tally[c].cases),
      String(report.tally[c].events),
      CHECK_DEFINITIONS[c],
    ]),
  );
}

/** The command that regenerates the failing case from fast-check's seed and path. */
export function reproduceCommand(options: {
  agent: string;
  seed: number;
  path: string;
  checks: readonly CheckName[];
  efficiencyFactor: number;
  starvationDecisions: number;
  mode: string;
  delivery: string;
  maxTasks: number;
  maxSteps: number;
}): string {
  const checks = options.checks.map((c) => `--check ${c}`).join(' ');
  return `npx tooltime stress --agent '${options.agent}' --seed ${options.seed} --path '${options.path}' ${checks} --efficiency-factor ${options.efficiencyFactor} --starvation-decisions ${options.starvationDecisions} --mode ${options.mode} --delivery ${options.delivery} --max-tasks ${options.maxTasks} --max-steps ${options.maxSteps}`;
}

/**
 * runStress, its cases spread over `workers` threads when fast-check tries many: not to replay a
 * path, nor under a time limit (which stops the run by the clock, between cases). `threads`: 0 when
 * this thread evaluated them.
 */
async function runSpread(
  options: StressOptions,
  workers: number,
): Promise<{ report: StressReport; threads: number }> {
  const plain = options.path === undefined && options.timeLimitMs === null;
  const size = plain ? stressPoolSize(workers, options.runs) : 0;
  if (size === 0) return { report: await runStress(options), threads: 0 };
  const { agent, checks, efficiencyFactor, starvationDecisions, mode, delivery } = options;
  const pool = new StressPool(size, options.runs, {
    agent,
    checks,
    efficiencyFactor,
    starvationDecisions,
    mode,
    delivery,
    ...(options.caseOptions === undefined ? {} : { caseOptions: options.caseOptions }),
  });
  try {
    return { report: await runStress({ ...options, spread: pool.spread }), threads: size };
  } finally {
    await pool.close();
  }
}

export async function stressCommand(options: StressCliOptions): Promise<number> {
  const checks = (options.check ?? [...CHECK_NAMES]).map((c) => {
    if (!(CHECK_NAMES as readonly string[]).includes(c))
      throw new UsageError(`unknown check "${c}" (known: ${CHECK_NAMES.join(', ')})`);
    return c as CheckName;
  });
  if (options.mode !== 'async' && options.mode !== 'sync')
    throw new UsageError(`--mode must be async or sync, got "${options.mode}"`);
  if (options.delivery !== 'push' && options.delivery !== 'poll')
    throw new UsageError(`--delivery must be push or poll, got "${options.delivery}"`);
  const efficiencyFactor = Number(options.efficiencyFactor);
  if (!(efficiencyFactor >= 1))
    throw new UsageError(
      `--efficiency-factor must be a number >= 1, got "${options.efficiencyFactor}"`,
    );
  const seed = Number(options.seed);
  if (!Number.isSafeInteger(seed))
    throw new UsageError(`--seed must be an integer, got "${options.seed}"`);
  const base = {
    agent: options.agent,
    runs: positiveInt('runs', options.runs),
    seed,
    checks,
    efficiencyFactor,
    starvationDecisions: positiveInt('starvation-decisions', options.starvationDecisions),
    timeLimitMs:
      options.timeLimit === undefined ? null : positiveInt('time-limit', options.timeLimit) * 1000,
    mode: options.mode as StressOptions['mode'],
    delivery: options.delivery as StressOptions['delivery'],
    caseOptions: {
      maxTasks: positiveInt('max-tasks', options.maxTasks),
      maxSteps: positiveInt('max-steps', options.maxSteps),
    },
    makeAgent: await agentMaker([options.agent]),
    encode: encodeForStress,
  };
  // Fail fast on a bad spec, before fast-check reports it as a property failure.
  base.makeAgent(options.agent);
  const { report, threads } = await runSpread(
    options.path === undefined ? base : { ...base, path: options.path },
    // Stress keeps one thread unless asked: its default is not the run's (see run-pool.ts).
    parseWorkers(options.workers) ?? 1,
  );
  const on = threads === 0 ? '' : ` (cases on ${threads} worker threads)`;
  const out = process.stdout;
  if (report.failure === null) {
    out.write(
      `stress: ${report.agent}: ${report.cases} cases passed${report.interrupted ? ' (stopped by --time-limit)' : ''}${on}\n\n`,
    );
    out.write(`${formatTally(report, checks)}\n`);
    return 0;
  }
  const f = report.failure;
  mkdirSync(options.out, { recursive: true });
  const scenarioFile = join(options.out, 'scenario.json');
  const replayFile = join(options.out, 'replay.ttr');
  const commandFile = join(options.out, 'reproduce.sh');
  writeFileSync(scenarioFile, `${JSON.stringify(canonicalize(f.scenario), null, 2)}\n`);
  writeFileSync(replayFile, f.replay);
  const command = reproduceCommand({
    agent: report.agent,
    seed: f.fcSeed,
    path: f.fcPath,
    checks,
    efficiencyFactor,
    starvationDecisions: base.starvationDecisions,
    mode: options.mode,
    delivery: options.delivery,
    maxTasks: base.caseOptions.maxTasks,
    maxSteps: base.caseOptions.maxSteps,
  });
  const rerun = `npx tooltime run ${scenarioFile} --agent '${report.agent}' --seed ${f.episodeSeed} --mode ${options.mode} --delivery ${options.delivery}`;
  writeFileSync(
    commandFile,
    `#!/usr/bin/env sh\n# Regenerates and re-checks the minimal failing case:\n${command}\n# Runs the saved scenario alone:\n${rerun}\n# Inspects the saved replay:\nnpx tooltime replay inspect ${replayFile}\n`,
  );
  const event = f.violation.eventIndex === null ? null : f.events[f.violation.eventIndex];
  out.write(
    `stress: ${report.agent}: ${f.violation.check} violated after ${report.cases} cases (shrunk ${f.shrinks} times)${on}\n`,
  );
  out.write(`  ${f.violation.check}: ${CHECK_DEFINITIONS[f.violation.check]}\n`);
  out.write(`  what happened: ${f.violation.message}\n`);
  if (event !== undefined && event !== null)
    out.write(`  at event ${f.violation.eventIndex}: ${JSON.stringify(event)}\n`);
  out.write(
    `  minimal case: ${f.size.tasks} task(s), ${f.size.steps} step(s), ${f.size.messages} message(s), ${f.size.tools} tool(s); episode seed ${f.episodeSeed}\n`,
  );
  out.write(`  wrote ${scenarioFile}, ${replayFile} and ${commandFile}\n`);
  out.write(`  reproduce: ${command}\n`);
  return 1;
}

export function registerStress(program: Command): void {
  program
    .command('stress')
    .description(
      'property-based stress test of a scheduling policy: random scenarios, invariant checks, shrinking to a minimal failing case',
    )
    .requiredOption(
      '-a, --agent <spec>',
      'the policy: a registered agent spec or a module ./my-policy.js[:key=value,...]',
    )
    .option('--runs <n>', 'random cases to try', '200')
    .option('--seed <s>', 'fast-check seed (the same seed tries the same cases)', '1')
    .option(
      '--path <path>',
      "fast-check's path of a counterexample, to replay it (with its --seed)",
    )
    .option('--check <name...>', `invariants to check (default all): ${CHECK_NAMES.join(', ')}`)
    .option(
      '--out <dir>',
      'where a failure writes scenario.json, replay.ttr and reproduce.sh',
      'stress-failure',
    )
    .option('--time-limit <s>', 'stop trying new cases after this many seconds')
    .option('--efficiency-factor <f>', 'largest allowed makespan / prompt schedule', '10')
    .option('--starvation-decisions <k>', 'decisions a ready step may be passed over', '25')
    .option('--mode <mode>', 'async or sync', 'async')
    .option('--delivery <delivery>', 'push or poll', 'push')
    .option('--max-tasks <n>', 'most concurrent tasks per case', '6')
    .option('--max-steps <n>', 'most steps per task (deep chains: twice this)', '6')
    .option(
      '--workers <n>',
      'worker threads evaluating the cases (default 1: this thread); the same failure is found and shrunk whatever N is',
    )
    .addHelpText(
      'after',
      `\nChecks:\n${CHECK_NAMES.map((c) => `  ${c.padEnd(13)} ${CHECK_DEFINITIONS[c]}`).join('\n')}\n`,
    )
    .action(async (options: StressCliOptions) => {
      process.exitCode = await stressCommand(options);
    });
}
