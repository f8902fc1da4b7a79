/**
 * What every bench section shares: its options, running a worker job in a fresh process, and the
 * statistics its tables print (medians, ranges).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));

export interface BenchOptions {
  /** Fewer events and repetitions, for a quick look (figures are noisier). */
  readonly quick?: boolean;
  readonly log?: (line: string) => void;
}

/** Where a section prints: `options.log`, else stdout. */
export function logOf(options: BenchOptions): (line: string) => void {
  return options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
}

/** Runs one worker job in a fresh node process and parses its JSON line. */
export function runJob<T>(
  job: string,
  args: readonly (string | number)[] = [],
  nodeFlags: readonly string[] = [],
): T {
  const out = execFileSync(process.execPath, [...nodeFlags, WORKER, job, ...args.map(String)], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const last = out.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as T;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** `median (min-max)` of `values`, to `digits` decimals. */
export function spread(values: readonly number[], digits: number): string {
  const m = median(values).toFixed(digits);
  return values.length < 2
    ? m
    : `${m} (${Math.min(...values).toFixed(digits)}-${Math.max(...values).toFixed(digits)})`;
}
