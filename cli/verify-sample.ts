/**
 * `tooltime run --verify-sample P`: FoundationDB's habit of re-running some simulations and
 * comparing, so that nondeterminism is caught in the run where it happens. P% of a run's episodes,
 * chosen by a hash of each episode's key (the same ones whatever N, the order or a resume), are
 * re-run from their replays on other threads (verify-files.ts's pool: never the thread nor the
 * worker that ran them) and compared byte for byte. A model episode re-runs against its recorded
 * responses, never the model; a policy module re-runs with the module the command line named.
 */
import { createHash } from 'node:crypto';
import { verifyReplayFiles, type FileVerdict } from '../replays/commands/verify-files.js';
import type { EpisodeKey, EpisodeRecord } from '../scenarios/experiment.js';
import { UsageError } from './errors.js';
import { episodeKeyId } from './run-dir.js';

/** What makes the choice: changing it would choose other episodes for the same P. */
const SALT = 'tooltime verify-sample 1';
/** Replays a verify thread takes at least: fewer threads for a small sample. */
const FILES_PER_THREAD = 16;

/** `--verify-sample P`: a percentage above 0, at most 100 (null: not asked). */
export function parseVerifySample(text: string | undefined): number | null {
  if (text === undefined) return null;
  const p = Number(text);
  if (text.trim() === '' || !Number.isFinite(p) || p <= 0 || p > 100)
    throw new UsageError(
      `--verify-sample must be a percentage above 0 and at most 100, got "${text}"`,
    );
  return p;
}

/** The episode's place in [0, 1): it is in a P% sample when below P/100. */
export function samplePoint(key: EpisodeKey): number {
  const digest = createHash('sha256')
    .update(`${SALT}\u0000${episodeKeyId(key)}`)
    .digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

/** What a sample's check found: how many episodes it re-ran. */
export interface SampleVerdict {
  readonly checked: number;
  readonly of: number;
}

/**
 * Re-runs the sampled episodes of `records` (their replays at `replayOf(record)`, written whole)
 * on up to `threads` threads; throws a UsageError naming the first episode (in the run's order)
 * whose re-run differs, and where.
 */
export async function verifySample(
  records: readonly EpisodeRecord[],
  percent: number,
  options: {
    readonly replayOf: (record: EpisodeRecord) => string;
    readonly threads: number;
    readonly policies: readonly string[];
  },
): Promise<SampleVerdict> {
  // Re-run in the order of their sample points, not the run's: state an agent carries from one
  // episode to the next (a counter in a module) then shows, even when every episode is sampled.
  const chosen = records
    .map((record, index) => ({ record, index, at: samplePoint(record) }))
    .filter((c) => c.at < percent / 100)
    .sort((a, b) => a.at - b.at);
  const paths = chosen.map((c) => options.replayOf(c.record));
  const threads = Math.max(
    1,
    Math.min(options.threads, Math.ceil(paths.length / FILES_PER_THREAD)),
  );
  const verdicts = await verifyReplayFiles(paths, { workers: threads, policies: options.policies });
  // The first failure in the run's order is the one reported.
  let bad = -1;
  verdicts.forEach((v, i) => {
    if (!v.ok && (bad < 0 || chosen[i]!.index < chosen[bad]!.index)) bad = i;
  });
  if (bad >= 0) throw new UsageError(mismatch(chosen[bad]!.record, verdicts[bad]!));
  return { checked: chosen.length, of: records.length };
}

/** The one line for an episode whose re-run differs: which, where, and both versions. */
function mismatch(record: EpisodeRecord, verdict: FileVerdict): string {
  const episode = `${record.instance} / ${record.agent} / seed ${record.seed}`;
  const head = `--verify-sample: episode ${episode} is not deterministic (${verdict.file})`;
  if ('error' in verdict) return `${head}: ${verdict.error}`;
  if (verdict.ok) return head;
  const d = verdict.divergence;
  if (d === null) return `${head}: ${verdict.reason}`;
  // Both events from a little before their first differing character: long events differ late.
  const [a, b] = [d.recorded, d.rerun].map((e) => (e === null ? '(none)' : JSON.stringify(e)));
  let at = 0;
  while (at < a!.length && a![at] === b![at]) at++;
  const from = Math.max(0, at - 60);
  const show = (text: string) =>
    `${from > 0 ? '...' : ''}${text.slice(from, from + 160)}${text.length > from + 160 ? '...' : ''}`;
  return `${head}: a re-run on another thread differs at record ${d.index}: recorded ${show(a!)}; re-run ${show(b!)}`;
}
