/**
 * `tooltime suite stats [DIR]`: counts and balance figures of a suite (default: the shipped one);
 * with --check, exits 1 when a balance threshold fails.
 */
import type { Command } from 'commander';
import {
  formatSuiteStats,
  shippedSuiteDir,
  suiteStats,
  SuiteStatsError,
} from '../../scenarios/suite/index.js';
import { EXIT_BAD_INPUT, UsageError } from '../errors.js';

export function registerSuite(program: Command): void {
  const suite = program.command('suite').description('work with instance suites');
  suite
    .command('stats')
    .description(
      'counts by domain, domain pair, task count, pattern, steps, latency variant and operator, with balance figures',
    )
    .argument('[dir]', 'suite folder (default: the shipped asynctool suite)')
    .option('--check', 'exit 1 when a balance threshold fails')
    .action((dir: string | undefined, options: { check?: boolean }) => {
      let stats: ReturnType<typeof suiteStats>;
      try {
        stats = suiteStats(dir ?? shippedSuiteDir());
      } catch (error) {
        if (error instanceof SuiteStatsError) throw new UsageError(error.message);
        throw error;
      }
      process.stdout.write(formatSuiteStats(stats));
      if (options.check === true && !stats.ok) process.exitCode = EXIT_BAD_INPUT;
    });
}
