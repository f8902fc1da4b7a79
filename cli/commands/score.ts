/**
 * `tooltime score FILE|DIR... [--json]`: re-scores replays without re-running them (a directory
 * stands for every .ttr file under it, in name order). The bound and the sequential reference are
 * recomputed from each header; it says when a run folder's stored scores are of another scoring
 * version.
 */
import type { Command } from 'commander';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SCORING_VERSION } from '../../scenarios/scoring/index.js';
import {
  fileSource,
  ReplayTruncatedError,
  rescoreSource,
  type ReplaySummary,
} from '../../replays/index.js';
import { msText, pct, replayPaths, write, writeErr } from '../replay-files.js';
import { table } from '../table.js';

/** A file `score` lists that was cut before its header was whole: no episode, only where it stops. */
interface CutFile {
  readonly file: string;
  readonly complete: false;
  readonly problem: string;
}

/** A replay's summary; a file cut inside its header is listed as truncated, as a cut elsewhere is. */
async function scoreFile(file: string): Promise<ReplaySummary | CutFile> {
  try {
    return await rescoreSource(fileSource(file));
  } catch (error) {
    if (error instanceof ReplayTruncatedError)
      return { file, complete: false, problem: error.problem };
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

/**
 * For each run folder among `args` (a folder holding `episodes.jsonl`, or the `replays/` folder
 * inside one), a line saying so when its stored scores were made by other scoring rules than the
 * ones `tooltime score` re-scores with. A score without `scoringVersion` predates versions (1).
 */
export function storedVersionNotes(args: readonly string[]): string[] {
  const notes: string[] = [];
  const seen = new Set<string>();
  for (const arg of args) {
    const isDir = statSync(arg, { throwIfNoEntry: false })?.isDirectory() === true;
    const dir = isDir ? arg : dirname(arg);
    for (const candidate of [join(dir, 'episodes.jsonl'), join(dirname(dir), 'episodes.jsonl')]) {
      if (seen.has(candidate) || !existsSync(candidate)) continue;
      seen.add(candidate);
      const versions = new Set<number>();
      for (const line of readFileSync(candidate, 'utf8').split('\n')) {
        if (line.trim() === '') continue;
        try {
          const v = (JSON.parse(line) as { score?: { scoringVersion?: unknown } }).score
            ?.scoringVersion;
          versions.add(typeof v === 'number' ? v : 1);
        } catch {
          versions.add(Number.NaN);
        }
      }
      const other = [...versions].filter((v) => v !== SCORING_VERSION);
      if (other.length > 0) {
        const named = other.map((v) => (Number.isNaN(v) ? 'unreadable' : String(v))).join(', ');
        notes.push(
          `${candidate}: stored scores are of scoring version ${named}; the scores here are re-scored from the replays with version ${SCORING_VERSION} (do not mix the two)`,
        );
      }
    }
  }
  return notes;
}

export function registerScore(program: Command): void {
  program
    .command('score')
    .description('re-score replays without re-running them')
    .argument(
      '<file...>',
      'replay files, or directories of them (every .ttr file under each, in name order)',
    )
    .option('--json', 'print the scores as JSON')
    .action(async (files: string[], options: { json?: boolean }) => {
      const scored: Array<ReplaySummary | CutFile> = [];
      for (const f of replayPaths(files)) scored.push(await scoreFile(f));
      for (const note of storedVersionNotes(files)) writeErr(note);
      if (options.json === true) {
        write(JSON.stringify(scored, null, 2));
        return;
      }
      const rows = scored.map((s) =>
        'problem' in s
          ? [s.file, '-', '-', '-', '- (truncated)', '-', '-', '-', '-', '-', '0', '0']
          : scoreRow(s),
      );
      write(
        table(
          [
            'file',
            'scenario',
            'agent',
            'seed',
            'end',
            'success',
            'tasks',
            'precision',
            'recall',
            'makespan ms',
            'calls',
            'decisions',
          ],
          rows,
        ),
      );
      for (const s of scored)
        if ('scoreError' in s && s.scoreError !== null)
          writeErr(`${s.file}: cannot score: ${s.scoreError}`);
    });
}
