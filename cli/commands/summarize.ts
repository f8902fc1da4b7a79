/**
 * `tooltime summarize DIR...`: every table of a run rebuilt from its directory (episodes.jsonl and
 * run.json), or from several: runs of different agents over the same instances merge into one
 * table. Episodes are never mixed across scoring versions (`--rescore` re-scores from replays).
 */
import type { Command } from 'commander';
import type { Delivery, Mode } from '../../scenarios/protocol.js';
import { UsageError } from '../errors.js';
import { readRun, summariesOf, type RunRead } from '../run-read.js';
import { summaryDocument } from '../run-output.js';
import {
  breakdowns,
  breakdownTableData,
  interleavingTableData,
  parseFormat,
  renderTables,
  summaryTableData,
} from '../tables.js';
import { episodeKeyId } from '../run-dir.js';
import { ablationEffect, ablationTables, type AblationSpec } from '../ablation.js';
import { canonicalJson } from '../../scenarios/spec/canonical.js';

export interface SummarizeOptions {
  readonly by?: string[];
  readonly format?: string;
  readonly rescore?: boolean;
}

/** The runs as one: the same mode and delivery, no episode twice. */
export function mergeRuns(runs: readonly RunRead[]): {
  episodes: RunRead['episodes'];
  mode: Mode;
  delivery: Delivery;
  tags: Record<string, Readonly<Record<string, string>>>;
  by: string[];
} {
  const first = runs[0]!.manifest;
  const seen = new Map<string, string>();
  const tags: Record<string, Readonly<Record<string, string>>> = {};
  for (const run of runs) {
    const m = run.manifest;
    if (m.mode !== first.mode || m.delivery !== first.delivery)
      throw new UsageError(
        `${run.dir} ran in ${m.mode}/${m.delivery}, ${runs[0]!.dir} in ${first.mode}/${first.delivery}: summarize merges runs of one world only`,
      );
    for (const e of run.episodes) {
      const id = episodeKeyId(e);
      const other = seen.get(id);
      if (other !== undefined)
        throw new UsageError(
          `episode ${e.instance} / ${e.agent} / seed ${e.seed} is in ${other} and in ${run.dir}: merge runs of different agents, instances or seeds`,
        );
      seen.set(id, run.dir);
    }
    Object.assign(tags, m.instanceTags ?? {});
  }
  const by = [...new Set(runs.flatMap((r) => r.manifest.by ?? []))];
  return {
    episodes: runs.flatMap((r) => r.episodes),
    mode: first.mode,
    delivery: first.delivery,
    tags,
    by,
  };
}

/** The ablation the runs are (the same in each: runs of different agents), or null for none. */
function ablationOf(runs: readonly RunRead[]): AblationSpec | null {
  const first = runs[0]!.manifest.ablation ?? null;
  for (const run of runs.slice(1)) {
    const spec = run.manifest.ablation ?? null;
    if (canonicalJson(spec) !== canonicalJson(first))
      throw new UsageError(
        `${run.dir} and ${runs[0]!.dir} are not the same ablation (or one is none): summarize them one by one`,
      );
  }
  return first;
}

export async function summarizeCommand(
  dirs: readonly string[],
  options: SummarizeOptions,
): Promise<void> {
  const format = parseFormat(options.format ?? 'text');
  const runs: RunRead[] = [];
  for (const dir of dirs) runs.push(await readRun(dir, options.rescore === true));
  const merged = mergeRuns(runs);
  if (merged.episodes.length === 0)
    throw new UsageError(`${dirs.join(' ')}: no finished episode to summarize`);
  const summaries = summariesOf(merged.episodes);
  const by = breakdowns(merged.episodes, (id) => merged.tags[id], options.by ?? merged.by);
  const result = { episodes: merged.episodes, summaries };
  const spec = ablationOf(runs);
  const effect = spec === null ? null : ablationEffect(spec, merged.episodes);
  if (format === 'json') {
    const world = { mode: merged.mode, delivery: merged.delivery };
    process.stdout.write(
      `${JSON.stringify(summaryDocument(result, world, by, effect), null, 2)}\n`,
    );
    return;
  }
  // As the ablation printed them: its effect tables, not its agents pooled over levels.
  const main =
    effect === null
      ? [summaryTableData(summaries), interleavingTableData(summaries)]
      : ablationTables(effect, format);
  process.stdout.write(`${renderTables([...main, ...by.map(breakdownTableData)], format)}\n`);
}

export function registerSummarize(program: Command): void {
  program
    .command('summarize')
    .description(
      "rebuild a run's tables from its directory (several: merged, e.g. runs of different agents over the same instances)",
    )
    .argument('<dirs...>', 'run directories (tooltime run --out DIR)')
    .option(
      '--by <key>',
      "a table per value of an instance tag (default: the run's own --by); repeatable",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--format <format>', "md, csv or json (summary.json's shape) instead of text tables")
    .option(
      '--rescore',
      'episodes scored by another scoring version: re-score them from their replays (else refused)',
    )
    .action(async (dirs: string[], options: SummarizeOptions) => {
      await summarizeCommand(dirs, options);
    });
}
