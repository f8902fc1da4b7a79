/**
 * bench/RESULTS.md keeps the latest figures of `npm run bench` between two markers, with the date
 * and the machine they were measured on; the prose around the markers is written by people and
 * never touched here, so a run can refresh the figures without losing the discussion of older runs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';

export const RESULTS_START = '<!-- bench:start -->';
export const RESULTS_END = '<!-- bench:end -->';

/** Where and when the figures were measured: what makes two runs' figures comparable or not. */
export interface Machine {
  readonly date: string;
  readonly cpuModel: string;
  readonly cores: number;
  readonly node: string;
}

export function thisMachine(now: Date = new Date()): Machine {
  const list = cpus();
  return {
    date: now.toISOString().slice(0, 10),
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    node: process.version,
  };
}

/** The text between the markers: one line naming the run, then the bench's output verbatim. */
export function resultsBlock(machine: Machine, output: string): string {
  const head = `Run on ${machine.date}, \`npm run bench\` on ${machine.cpuModel} (${machine.cores} cores), Node ${machine.node}.`;
  return `${head}\n\n\`\`\`text\n${output.trimEnd()}\n\`\`\`\n`;
}

/**
 * `text` with the block between the markers replaced by `block`. Throws (naming the problem) when
 * the markers are missing, repeated or out of order: rewriting a file we cannot place the block in
 * would lose the prose around it.
 */
export function refreshResults(text: string, block: string): string {
  const start = text.indexOf(RESULTS_START);
  const end = text.indexOf(RESULTS_END);
  if (start < 0 || end < 0)
    throw new Error(`bench/RESULTS.md: no ${start < 0 ? RESULTS_START : RESULTS_END} marker`);
  if (text.indexOf(RESULTS_START, start + 1) >= 0 || text.indexOf(RESULTS_END, end + 1) >= 0)
    throw new Error('bench/RESULTS.md: a marker appears twice');
  if (end < start)
    throw new Error(`bench/RESULTS.md: ${RESULTS_END} comes before ${RESULTS_START}`);
  return `${text.slice(0, start + RESULTS_START.length)}\n${block}${text.slice(end)}`;
}

/** Rewrites the figures block of the file at `path` in place. */
export function writeResults(path: string, output: string, machine: Machine = thisMachine()): void {
  writeFileSync(path, refreshResults(readFileSync(path, 'utf8'), resultsBlock(machine, output)));
}
