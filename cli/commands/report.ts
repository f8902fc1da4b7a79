/**
 * `tooltime report DIR... --out report.html`: one self-contained HTML file (cli/report/) over one or
 * more run directories: leaderboard, breakdowns, plots, and every episode's timeline and transcript.
 */
import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { collectReport } from '../report/data.js';
import { reportHtml } from '../report/html.js';
import { UsageError } from '../errors.js';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description(
      'write one self-contained HTML report (opens from disk, no network) over run directories',
    )
    .argument('<dirs...>', 'run directories (from tooltime run --out DIR)')
    .requiredOption('--out <file>', 'the HTML file to write')
    .action((dirs: string[], options: { out: string }) => {
      const data = collectReport(dirs);
      const html = reportHtml(data, `tooltime report: ${dirs.join(', ')}`);
      try {
        writeFileSync(options.out, html);
      } catch (error) {
        throw new UsageError(
          `${options.out}: cannot write (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
        );
      }
      process.stdout.write(
        `wrote ${options.out} (${data.episodes.length} episodes, ${(html.length / 1e6).toFixed(1)} MB)\n`,
      );
    });
}
