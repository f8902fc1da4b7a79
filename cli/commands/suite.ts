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
import {
  STATEFUL_SUITE_NAME,
  STATEFUL_SUITE_SEED,
  writeStatefulSuite,
} from '../../scenarios/suite/stateful.js';
import { resolve } from 'node:path';
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
  suite
    .command('generate-stateful')
    .description(
      'write the stateful suite (seed tasks of scenarios/stateful/ composed into dual and tri instances)',
    )
    .option(
      '--seed <n>',
      'generator seed: the same seed gives byte-identical files',
      String(STATEFUL_SUITE_SEED),
    )
    .option('--out <dir>', `output folder (default: ./${STATEFUL_SUITE_NAME})`)
    .action((options: { seed: string; out?: string }) => {
      if (!/^\d+$/.test(options.seed.trim()) || !Number.isSafeInteger(Number(options.seed)))
        throw new UsageError(`--seed must be a whole number, got ${JSON.stringify(options.seed)}`);
      const out = resolve(options.out ?? STATEFUL_SUITE_NAME);
      let written: string[];
      try {
        written = writeStatefulSuite(out, Number(options.seed));
      } catch (error) {
        throw new UsageError(
          `cannot write ${out}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      process.stdout.write(
        `wrote ${written.length - 1} instances to ${out} (seed ${options.seed})\n`,
      );
    });
}
