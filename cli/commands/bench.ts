import type { Command } from 'commander';
import { runBench } from '../../bench/main.js';

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('run every benchmark side by side and print the figures (also: npm run bench)')
    .option('--quick', 'fewer events and repetitions: a quick, noisier look')
    .action((options: { quick?: boolean }) => {
      runBench({ quick: options.quick === true });
    });
}
