#!/usr/bin/env node
/**
 * The `tooltime` command line. Each command lives in its own module under cli/commands/ (helpers
 * they share stay in cli/); this file only wires them into commander and maps failures to exit
 * codes (see errors.ts).
 */
import { Command, CommanderError } from 'commander';
import { packageVersion } from '../scenarios/package.js';
import { endQuietlyOnClosedPipe, EXIT_BAD_INPUT, reportAndExit } from './errors.js';
import { registerAblate } from './commands/ablate.js';
import { registerAgents } from './commands/agents.js';
import { registerGenerate } from './commands/generate.js';
import { registerReplay } from './commands/replay.js';
import { registerReport } from './commands/report.js';
import { registerRun } from './commands/run.js';
import { registerSchema } from './commands/schema.js';
import { registerScore } from './commands/score.js';
import { registerStress } from './commands/stress.js';
import { registerSuite } from './commands/suite.js';
import { registerSummarize } from './commands/summarize.js';
import { registerCompare } from './commands/compare.js';
import { registerValidate } from './commands/validate.js';
import { registerWorker } from './commands/worker.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('tooltime')
    .description(
      'Discrete-event simulation of LLM agents under asynchronous tool calling, with deterministic replay.',
    )
    .version(packageVersion())
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerGenerate(program);
  registerSuite(program);
  registerValidate(program);
  registerSchema(program);
  registerRun(program);
  registerWorker(program);
  registerAgents(program);
  registerStress(program);
  registerReplay(program);
  registerScore(program);
  registerReport(program);
  registerSummarize(program);
  registerCompare(program);
  registerAblate(program);
  return program;
}

async function main(): Promise<void> {
  endQuietlyOnClosedPipe();
  const program = buildProgram();
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; commander has already printed its message for usage errors.
      process.exit(error.exitCode === 0 ? 0 : EXIT_BAD_INPUT);
    }
    reportAndExit(error);
  }
}

await main();
