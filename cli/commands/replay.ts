/**
 * `tooltime replay verify|inspect|diff|fork|golden`: working with replay files
 * (.ttr, format in replays/FORMAT.md).
 *
 * - `replay verify FILE|DIR... [--workers N]`: re-runs each episode from its header and compares byte
 *   for byte; `FILE: ok (N records, sha256 HEX)` on stdout, or the first divergent record (both
 *   versions and the 5 records before it) on stderr and exit 1. Many files are verified on worker
 *   threads (one per core but one, or --workers N), reported in the order given.
 * - `replay inspect FILE [--format text|jsonl|chrome] [--out FILE]`: a timeline, JSON lines, or a
 *   Chrome trace for Perfetto / chrome://tracing; `--state-at N`: the environments' states after
 *   record N, as JSON (rebuilt from the events and checked against the recorded digests).
 * - `replay diff A B [--json]`: the first divergence, header differences, and the two episodes side
 *   by side (scores, makespan, counts). Exits 0 whether or not they differ.
 * - `replay fork FILE --at N --agent SPEC [--seed S] --record OUT`: reproduces the first N records,
 *   then hands over to SPEC; `--seed` re-seeds only the new agent's own random streams.
 * - `replay golden [--check] [--out DIR]`: regenerates (or checks) the golden replays.
 * A directory stands for every .ttr file under it, in name order.
 */
import type { Command } from 'commander';
import { agentMaker, isModuleSpec } from '../../agents/index.js';
import type { EpisodeEvent } from '../../scenarios/world/events.js';
import {
  checkGolden,
  diffSources,
  fileSource,
  forkReplay,
  goldenDir,
  INSPECT_FORMATS,
  readReplayBytes,
  verifyReplayFiles,
  writeGolden,
  writeInspect,
  type InspectFormat,
  type ReplaySummary,
} from '../../replays/index.js';
import { EXIT_BAD_INPUT, UsageError } from '../errors.js';
import { msText, pct, replayPaths, write, writeErr } from '../replay-files.js';
import { checkOutFile, prepareOutDir } from '../output-paths.js';
import { writeAtomically } from '../run-dir.js';
import { table } from '../table.js';
import { statesAt } from '../../replays/commands/state.js';

function eventLine(index: number, e: EpisodeEvent | null): string {
  return `${String(index).padStart(6)}  ${e === null ? '(none)' : JSON.stringify(e)}`;
}

function parseCount(raw: string, what: string): number {
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(Number(raw)))
    throw new UsageError(`${what} must be a non-negative integer, got "${raw}"`);
  return Number(raw);
}

function parseSeed(raw: string): number {
  if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(Number(raw)))
    throw new UsageError(`--seed must be an integer, got "${raw}"`);
  return Number(raw);
}

/** Rows of the side-by-side summary: label, then one cell per summary. */
function summaryRows(summaries: readonly ReplaySummary[]): string[][] {
  const row = (label: string, cell: (s: ReplaySummary) => string): string[] => [
    label,
    ...summaries.map(cell),
  ];
  return [
    row('agent', (s) => s.agent),
    row('seed', (s) => String(s.seed)),
    row('records', (s) => `${s.records}${s.complete ? '' : ' (truncated)'}`),
    row('end', (s) => s.endReason ?? '-'),
    row('makespan ms', (s) => msText(s.makespanUs)),
    row('decisions', (s) => String(s.decisions)),
    row('calls', (s) => String(s.calls)),
    row('answers', (s) => String(s.answers)),
    row('success', (s) => (s.score === null ? '-' : String(s.score.success))),
    row('tasks succeeded', (s) =>
      s.score === null ? '-' : `${s.score.tasksSucceeded}/${s.score.tasksTotal}`,
    ),
    row('step precision', (s) => pct(s.score?.steps.precision)),
    row('step recall', (s) => pct(s.score?.steps.recall)),
    row('dependency violations', (s) =>
      s.score === null ? '-' : String(s.score.steps.dependencyViolations),
    ),
    row('idle while ready ms', (s) => msText(s.score?.efficiency.idleWhileReadyUs)),
    row('mean calls in service', (s) =>
      (s.score?.efficiency.meanCallsInService ?? null) === null
        ? '-'
        : s.score!.efficiency.meanCallsInService!.toFixed(2),
    ),
  ];
}

export function registerReplay(program: Command): void {
  const replay = program
    .command('replay')
    .description('verify, inspect, compare, fork and regenerate replay files (.ttr)');
  registerVerify(replay);
  registerInspect(replay);
  registerDiff(replay);
  registerFork(replay);
  registerGolden(replay);
}

/** `tooltime replay verify`. */
function registerVerify(replay: Command): void {
  replay
    .command('verify')
    .description('re-run each replay from its header and compare byte for byte')
    .argument(
      '<file...>',
      'replay files, or directories of them (every .ttr file under each, in name order)',
    )
    .option(
      '--workers <n>',
      'worker threads verifying files in parallel (0: none; default: one per core but one, at most one per 16 files, none below 2)',
    )
    .option(
      '--policy <module...>',
      'policy modules you trust to re-run replays whose agent they are (a replay never loads a module on its own)',
    )
    .action(async (files: string[], options: { workers?: string; policy?: string[] }) => {
      const workers =
        options.workers === undefined ? undefined : parseCount(options.workers, '--workers');
      let failed = false;
      // Verdicts come in input order, each printed as soon as it and those before it are in.
      await verifyReplayFiles(replayPaths(files), {
        ...(workers === undefined ? {} : { workers }),
        policies: options.policy ?? [],
        onResult: (result) => {
          if (result.ok) {
            write(`${result.file}: ok (${result.records} records, sha256 ${result.sha256})`);
            return;
          }
          failed = true;
          if ('error' in result) {
            writeErr(`tooltime: ${result.error}`);
            return;
          }
          const lines = [`${result.file}: FAILED: ${result.reason}`];
          const d = result.divergence;
          if (d !== null) {
            lines.push(`  the ${d.before.length} records before it:`);
            d.before.forEach((e, i) => {
              lines.push(eventLine(d.index - d.before.length + i, e));
            });
            lines.push(`  recorded record ${d.index}:`, eventLine(d.index, d.recorded));
            lines.push(`  re-run record ${d.index}:`, eventLine(d.index, d.rerun));
          }
          writeErr(lines.join('\n'));
        },
      });
      if (failed) process.exitCode = EXIT_BAD_INPUT;
    });
}

/** `tooltime replay inspect`. */
function registerInspect(replay: Command): void {
  replay
    .command('inspect')
    .description(
      'show a replay: a timeline (text), JSON lines (jsonl), or a Chrome trace (chrome: open in ui.perfetto.dev)',
    )
    .argument('<file>', 'replay file')
    .option('--format <format>', `one of ${INSPECT_FORMATS.join(', ')}`, 'text')
    .option('--out <file>', 'write to this file instead of stdout')
    .option('--state-at <record>', "print the environments' states after this record, as JSON")
    .action((file: string, options: { format: string; out?: string; stateAt?: string }) => {
      if (options.stateAt !== undefined) return printStates(file, options.stateAt);
      if (!(INSPECT_FORMATS as readonly string[]).includes(options.format))
        throw new UsageError(
          `--format must be one of ${INSPECT_FORMATS.join(', ')}, got "${options.format}"`,
        );
      const source = fileSource(file);
      // Written as it goes; a file is written whole or not at all (renamed into place at the end).
      if (options.out === undefined)
        writeInspect(source, options.format as InspectFormat, (text) => process.stdout.write(text));
      else
        writeAtomically(options.out, (write) =>
          writeInspect(source, options.format as InspectFormat, write),
        );
      const read = source.end();
      if (!read.complete && options.out !== undefined) writeErr(`${file}: ${read.problem}`);
    });
}

/** `replay inspect --state-at N`: the states after record N; a digest that differs is named. */
function printStates(file: string, raw: string): void {
  if (!/^(0|[1-9][0-9]{0,14})$/.test(raw))
    throw new UsageError(`--state-at must be a record number (0 or more), got "${raw}"`);
  const source = fileSource(file);
  const states = statesAt(source, Number(raw));
  write(JSON.stringify(states, null, 2));
  if (states.divergedAt !== null) {
    writeErr(`${file}: record ${states.divergedAt}: the state differs from its recorded digest`);
    process.exitCode = EXIT_BAD_INPUT;
  }
}

/** `tooltime replay diff`. */
function registerDiff(replay: Command): void {
  replay
    .command('diff')
    .description(
      'where two replays diverge first, and how the episodes differ (exits 0 either way)',
    )
    .argument('<a>', 'replay file')
    .argument('<b>', 'replay file')
    .option('--json', 'print the comparison as JSON')
    .action((a: string, b: string, options: { json?: boolean }) => {
      const diff = diffSources(fileSource(a), fileSource(b));
      if (options.json === true) {
        write(JSON.stringify(diff, null, 2));
        return;
      }
      const lines: string[] = [`A: ${a}`, `B: ${b}`];
      for (const h of diff.header) lines.push(`header ${h}`);
      if (diff.divergence === null) lines.push(`same events (${diff.a.records} records)`);
      else {
        const d = diff.divergence;
        lines.push(
          `first divergence at record ${d.index}:`,
          `  A ${eventLine(d.index, d.a).trimStart()}`,
          `  B ${eventLine(d.index, d.b).trimStart()}`,
        );
      }
      lines.push('', table(['', 'A', 'B'], summaryRows([diff.a, diff.b])));
      write(lines.join('\n'));
    });
}

/** `tooltime replay fork`. */
function registerFork(replay: Command): void {
  replay
    .command('fork')
    .description('reproduce the first N records of a replay, then hand control to another agent')
    .argument('<file>', 'replay file')
    .requiredOption('--at <n>', 'records to reproduce')
    .requiredOption('--agent <spec>', 'agent that takes over')
    .option(
      '--seed <s>',
      "re-seeds the new agent's own random streams (the world keeps the replay's seed)",
    )
    .requiredOption('--record <out>', 'where to write the forked replay')
    .action(
      async (
        file: string,
        options: { at: string; agent: string; seed?: string; record: string },
      ) => {
        const at = parseCount(options.at, '--at');
        const seed = options.seed === undefined ? null : parseSeed(options.seed);
        checkOutFile(options.record);
        const bytes = readReplayBytes(file);
        // A policy module (./my-policy.mjs) is loaded here, as tooltime run loads it; registry agents need nothing.
        const makeAgent = isModuleSpec(options.agent) ? await agentMaker([options.agent]) : null;
        const result = await forkReplay(bytes, {
          at,
          agent: options.agent,
          seed,
          file,
          out: options.record,
          ...(makeAgent === null ? {} : { makeAgent }),
        });
        const handover =
          result.handover === null
            ? 'the new agent made no decision'
            : `handed over at decision ${result.handover}`;
        write(
          `${options.record}: forked ${file} at record ${at} to ${result.header.agent.spec} (${handover}); ${result.summary.records} records, ${result.episode.endReason} at ${msText(result.episode.makespanUs)} ms`,
        );
      },
    );
}

/** `tooltime replay golden`. */
function registerGolden(replay: Command): void {
  replay
    .command('golden')
    .description(
      'regenerate the golden replays (replays/golden), or --check them; regenerate only for an intended change in behaviour',
    )
    .option('--check', 'compare fresh recordings with the stored files instead of writing them')
    .option('--out <dir>', 'folder of the golden replays', goldenDir())
    .action(async (options: { check?: boolean; out: string }) => {
      if (options.check === true) {
        const result = await checkGolden(options.out);
        if (result.ok) write(`${options.out}: ok (${result.checked} golden replays identical)`);
        else {
          writeErr(result.problems.join('\n'));
          process.exitCode = EXIT_BAD_INPUT;
        }
        return;
      }
      prepareOutDir(options.out);
      const names = await writeGolden(options.out);
      write(`${options.out}: wrote ${names.length} golden replays`);
    });
}
