/**
 * `tooltime generate --seed N --count K [--tasks 2|3|2-3] [--domains a,b] [--out DIR]`: writes a
 * generated AsyncTool suite (one JSON file per instance plus index.json) and prints one summary line.
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { generate, writeSuite } from '../../scenarios/suite/index.js';
import { UsageError } from '../errors.js';

function integer(text: string, what: string, min: number): number {
  if (!/^\d+$/.test(text.trim()))
    throw new UsageError(`${what} must be a whole number, got ${JSON.stringify(text)}`);
  const n = Number(text.trim());
  if (!Number.isSafeInteger(n) || n < min)
    throw new UsageError(`${what} must be a whole number >= ${min}, got ${text}`);
  return n;
}

function taskCounts(text: string): number[] {
  switch (text.trim()) {
    case '2':
      return [2];
    case '3':
      return [3];
    case '2-3':
    case '2,3':
      return [2, 3];
    default:
      throw new UsageError(`--tasks must be 2, 3 or 2-3, got ${JSON.stringify(text)}`);
  }
}

export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description(
      'generate AsyncTool instances (2-3 concurrent sub-tasks) from the seed tasks: one JSON file per instance plus index.json',
    )
    .requiredOption(
      '--seed <n>',
      'generator seed (a whole number): the same seed gives byte-identical files',
    )
    .requiredOption('--count <k>', 'number of instances')
    .option('--tasks <n>', 'sub-tasks per instance: 2, 3 or 2-3', '2-3')
    .option('--domains <list>', 'comma-separated domain slugs to draw from (default: all)')
    .option('--out <dir>', 'output folder (default: ./asynctool-SEED)')
    .action(
      (options: { seed: string; count: string; tasks: string; domains?: string; out?: string }) => {
        const seed = integer(options.seed, '--seed', 0);
        const count = integer(options.count, '--count', 1);
        const tasks = taskCounts(options.tasks);
        const domains = options.domains
          ?.split(',')
          .map((d) => d.trim())
          .filter((d) => d !== '');
        if (domains !== undefined && domains.length === 0)
          throw new UsageError('--domains is empty');
        const out = resolve(options.out ?? `asynctool-${seed}`);
        const started = performance.now();
        let result: ReturnType<typeof generate>;
        try {
          result = generate(
            domains === undefined ? { seed, count, tasks } : { seed, count, tasks, domains },
          );
        } catch (error) {
          if (error instanceof RangeError) throw new UsageError(error.message);
          throw error;
        }
        try {
          writeSuite(out, result);
        } catch (error) {
          throw new UsageError(
            `cannot write ${out}: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
        const d = result.dropped;
        const secs = ((performance.now() - started) / 1000).toFixed(1);
        process.stdout.write(
          `wrote ${result.instances.length} instances to ${out} (seed ${seed}; dropped ${d.invalid} invalid, ${d.duplicate} near-duplicate, ${d.inapplicable} inapplicable candidates; ${result.unfilled} unfilled) in ${secs}s\n`,
        );
        if (result.instances.length < count)
          process.stderr.write(
            `tooltime: only ${result.instances.length} of ${count} instances could be generated\n`,
          );
      },
    );
}
