/**
 * `tooltime score FILE|DIR... [--json]`: re-scores replays without re-running them (a directory
 * stands for every .ttr file under it, in name order).
 */
import type { Command } from 'commander';
import { readReplayFile, ReplayTruncatedError, summarizeReplay, type ReplaySummary } from '../../replays/index.js';
import { msText, pct, replayPaths, write, writeErr } from '../replay-files.js';
import { table } from '../table.js';

/** A file `score` lists that was cut before its header was whole: no episode, only where it stops. */
interface CutFile {
  readonly file: string;
  readonly complete: false;
  readonly problem: string;
}

/** A replay's summary; a file cut inside its header is listed as truncated, as a cut elsewhere is. */
function scoreFile(file: string): ReplaySummary | CutFile {
  try {
    return summarizeReplay(readReplayFile(file));
  } catch (error) {
    if (error instanceof ReplayTruncatedError) return { file, complete: false, problem: error.problem };
    throw error;
  }
}

function scoreRow(s: ReplaySummary): string[] {
  return [
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
  ];
}

export function registerScore(program: Command): void {
  program
    .command('score')
    .description('re-score replays without re-running them')
    .argument('<file...>', 'replay files, or directories of them (every .ttr file under each, in name order)')
    .option('--json', 'print the scores as JSON')
    .action((files: string[], options: { json?: boolean }) => {
      const scored = replayPaths(files).map(scoreFile);
      if (options.json === true) {
        write(JSON.stringify(scored, null, 2));
        return;
      }
      const rows = scored.map((s) => ('problem' in s ? [s.file, '-', '-', '-', '- (truncated)', '-', '-', '-', '-', '-', '0', '0'] : scoreRow(s)));
      write(table(['file', 'scenario', 'agent', 'seed', 'end', 'success', 'tasks', 'precision', 'recall', 'makespan ms', 'calls', 'decisions'], rows));
      for (const s of scored) if ('scoreError' in s && s.scoreError !== null) writeErr(`${s.file}: cannot score: ${s.scoreError}`);
    });
}
