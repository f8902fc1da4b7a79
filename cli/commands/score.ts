/**
 * `tooltime score FILE|DIR... [--json]`: re-scores replays without re-running them (a directory
 * stands for every .ttr file under it, in name order).
 */
import type { Command } from 'commander';
import { readReplayFile, summarizeReplay } from '../../replays/index.js';
import { msText, pct, replayPaths, write, writeErr } from '../replay-files.js';
import { table } from '../table.js';

export function registerScore(program: Command): void {
  program
    .command('score')
    .description('re-score replays without re-running them')
    .argument('<file...>', 'replay files, or directories of them (every .ttr file under each, in name order)')
    .option('--json', 'print the scores as JSON')
    .action((files: string[], options: { json?: boolean }) => {
      const summaries = replayPaths(files).map((f) => summarizeReplay(readReplayFile(f)));
      if (options.json === true) {
        write(JSON.stringify(summaries, null, 2));
        return;
      }
      const rows = summaries.map((s) => [
        s.file,
        s.scenario,
        s.agent,
        String(s.seed),
        s.complete ? (s.endReason ?? '-') : `${s.endReason ?? '-'} (truncated)`,
        s.score === null ? '-' : String(s.score.success),
        s.score === null ? '-' : `${s.score.tasksSucceeded}/${s.score.tasksTotal}`,
        pct(s.score?.steps.precision),
        pct(s.score?.steps.recall),
        msText(s.makespanUs),
        String(s.calls),
        String(s.decisions),
      ]);
      write(table(['file', 'scenario', 'agent', 'seed', 'end', 'success', 'tasks', 'precision', 'recall', 'makespan ms', 'calls', 'decisions'], rows));
      for (const s of summaries) if (s.scoreError !== null) writeErr(`${s.file}: cannot score: ${s.scoreError}`);
    });
}
