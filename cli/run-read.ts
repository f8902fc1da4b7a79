/**
 * Reading run directories back (`tooltime summarize`, `tooltime compare`): run.json and every
 * whole line of episodes.jsonl, the episodes' scores checked to be of this tooltime's scoring
 * version, or re-scored from their replays when asked (`--rescore`), never mixed.
 */
import { join } from 'node:path';
import { readReplayFile, rescoreReplay } from '../replays/index.js';
import type { AgentSummary, EpisodeRecord } from '../scenarios/experiment.js';
import { aggregate, SCORING_VERSION } from '../scenarios/scoring/index.js';
import { UsageError } from './errors.js';
import { readEpisodeLines, readRunManifest, type RunManifest } from './run-dir.js';
import { runOrder } from './run-output.js';

export interface RunRead {
  readonly dir: string;
  readonly manifest: RunManifest;
  /** In the run's order; each with `replay`, its file relative to `dir`, when it has one. */
  readonly episodes: ReadonlyArray<EpisodeRecord & { readonly replay?: string }>;
}

/** Reads `dir`; scores of another scoring version are re-scored from replays if `rescore`, else refused. */
export async function readRun(dir: string, rescore: boolean): Promise<RunRead> {
  const manifest = readRunManifest(dir);
  const episodes = readEpisodeLines(dir).map((l) => l.record);
  const expected =
    manifest.instanceIds === undefined
      ? null
      : manifest.instanceIds.length *
        manifest.agents.length *
        (manifest.seeds.to - manifest.seeds.from + 1);
  if (expected !== null && episodes.length < expected)
    process.stderr.write(
      `tooltime: ${dir} holds ${episodes.length} of its run's ${expected} episodes (an unfinished run: tooltime run --resume --out ${dir} finishes it)\n`,
    );
  const scored: Array<EpisodeRecord & { replay?: string }> = [];
  for (const e of episodes)
    scored.push(e.score.scoringVersion === SCORING_VERSION ? e : await rescored(dir, e, rescore));
  return { dir, manifest, episodes: runOrder(scored) };
}

async function rescored(
  dir: string,
  e: EpisodeRecord & { replay?: string },
  rescore: boolean,
): Promise<EpisodeRecord & { replay?: string }> {
  const what = `${dir}: episode ${e.instance} / ${e.agent} / seed ${e.seed} is scored by scoring version ${e.score.scoringVersion ?? 1}, this tooltime scores by version ${SCORING_VERSION}`;
  if (!rescore)
    throw new UsageError(
      `${what}: add --rescore to re-score it from its replay (scores of different versions are never mixed)`,
    );
  if (e.replay === undefined) throw new UsageError(`${what}, and it has no replay to re-score`);
  let summary: Awaited<ReturnType<typeof rescoreReplay>>;
  try {
    summary = await rescoreReplay(readReplayFile(join(dir, e.replay)));
  } catch (error) {
    throw new UsageError(
      `${what}; its replay ${join(dir, e.replay)} cannot be read: ${(error as Error).message}`,
    );
  }
  if (summary.score === null)
    throw new UsageError(
      `${what}; its replay ${join(dir, e.replay)} cannot be re-scored: ${summary.scoreError ?? 'truncated'}`,
    );
  return { ...e, score: summary.score };
}

/** One summary per agent, agents in the order they first come. */
export function summariesOf(episodes: readonly EpisodeRecord[]): AgentSummary[] {
  const agents = [...new Set(episodes.map((e) => e.agent))];
  return agents.map((agent) => ({
    agent,
    summary: aggregate(
      episodes
        .filter((e) => e.agent === agent)
        .map((r) => ({ instance: r.instance, seed: r.seed, score: r.score })),
    ),
  }));
}
