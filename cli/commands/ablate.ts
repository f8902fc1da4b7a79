/**
 * `tooltime ablate mode|latency|tasks [SCENARIO_FILE|SUITE_DIR ...]`: AsyncTool's ablations as one
 * run each. The chosen instances (run's selection flags) are run at every level with the same
 * agents and seeds (so every level meets the same draws), into one run directory that resumes as
 * a run's does, and the effect is printed per agent: each level's task success and efficiency,
 * and its difference from the baseline level with a paired interval (cli/ablation.ts).
 *
 * - mode: the same instances in sync mode, async mode (push delivery) and, asked for by `poll`,
 *   async mode with polled delivery.
 * - latency: every tool's latency and timeout scaled by each factor (scenarios/ablation.ts).
 * - tasks: each instance's first k tasks, for each k; instances with fewer tasks than the largest
 *   k are left out.
 */
import type { Command } from 'commander';
import { addLlmOptions } from '../llm.js';
import {
  ABLATION_KINDS,
  ablationInstances,
  baselineLevel,
  MODE_LEVELS,
  parseLevels,
  type AblationKind,
} from '../ablation.js';
import { UsageError } from '../errors.js';
import { addRunFlags, executeRun, instanceTags, planRun, type RunOptions } from './run.js';

export interface AblateOptions extends RunOptions {
  readonly levels?: string;
  readonly baseline?: string;
}

function parseKind(kind: string): AblationKind {
  if (!(ABLATION_KINDS as readonly string[]).includes(kind))
    throw new UsageError(
      `ablate: the ablation is one of ${ABLATION_KINDS.join(', ')}, got "${kind}"`,
    );
  return kind as AblationKind;
}

export async function ablateCommand(
  kindText: string,
  paths: readonly string[],
  options: AblateOptions,
): Promise<void> {
  const kind = parseKind(kindText);
  const levels = parseLevels(kind, options.levels);
  const baseline = baselineLevel(kind, levels, options.baseline);
  if (kind === 'mode' && options.mode !== undefined)
    throw new UsageError('ablate mode: the levels are the modes; give no --mode or --delivery');
  if (kind === 'mode' && options.delivery !== undefined)
    throw new UsageError('ablate mode: the levels are the modes; give no --mode or --delivery');
  // The mode ablation's run.json records its baseline's world; the others run in the one given.
  const world = kind === 'mode' ? MODE_LEVELS[baseline] : undefined;
  const chosen = planRun(
    paths,
    { ...options, mode: options.mode ?? 'async', delivery: options.delivery ?? 'push' },
    world,
  );
  const { instances, variants, left } = ablationInstances(kind, levels, chosen.instances);
  if (left > 0)
    process.stderr.write(
      `tooltime: ${left} of the ${chosen.instances.length} chosen instance(s) have fewer than ${Math.max(...levels.map(Number))} tasks and are left out\n`,
    );
  const tags = instanceTags(instances);
  for (const v of variants) tags[v.id] = { ...tags[v.id], level: v.level };
  await executeRun(
    { ...chosen, instances, instanceTags: tags, ablation: { kind, levels, baseline, variants } },
    options,
  );
}

export function registerAblate(program: Command): void {
  const ablate = program
    .command('ablate')
    .description(
      "AsyncTool's ablations: run the chosen instances at every level (mode: sync/async/poll; latency: scale factors; tasks: first k tasks) with shared seeds into one run directory, and print each level's effect with paired intervals",
    )
    .argument('<ablation>', 'mode, latency or tasks')
    .argument('[scenarios...]', 'scenario files or suite folders (none: the default suite)')
    .option(
      '--levels <list>',
      'comma-separated levels (mode: sync,async,poll; latency: factors; tasks: numbers of tasks); default mode sync,async, latency 0.5,1,2,4, tasks 1,2,3',
    )
    .option(
      '--baseline <level>',
      'the level the others are compared with (default: latency 1 if given, else the first level)',
    )
    .option('--mode <mode>', 'async or sync (latency and tasks ablations; default async)')
    .option('--delivery <delivery>', 'push or poll (latency and tasks ablations; default push)');
  addRunFlags(ablate);
  addLlmOptions(ablate).action(async (kind: string, paths: string[], options: AblateOptions) => {
    await ablateCommand(kind, paths, options);
  });
}
