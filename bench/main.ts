/**
 * `npm run bench` / `tooltime bench`: every benchmark, side by side in one run, printed as a table
 * with ratios. Each measurement runs in its own child process (see worker.ts); figures are medians
 * over repetitions interleaved across variants, so machine noise hits all variants alike.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { table } from '../cli/table.js';

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));

export interface BenchOptions {
  /** Fewer events and repetitions, for a quick look (figures are noisier). */
  readonly quick?: boolean;
  readonly log?: (line: string) => void;
}

/** Runs one worker job in a fresh node process and parses its JSON line. */
export function runJob<T>(job: string, args: readonly (string | number)[] = [], nodeFlags: readonly string[] = []): T {
  const out = execFileSync(process.execPath, [...nodeFlags, WORKER, job, ...args.map(String)], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const last = out.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as T;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export { table };

export interface EngineFigures {
  readonly eventsPerSecond: Readonly<Record<'generators' | 'callbacks' | 'bare-heap', number>>;
  readonly bytesPerPendingEvent: number;
}

export function benchEngine(options: BenchOptions = {}): EngineFigures {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const events = options.quick === true ? 400_000 : 2_000_000;
  const repetitions = options.quick === true ? 1 : 3;
  const variants = ['generators', 'callbacks', 'bare-heap'] as const;
  const samples: Record<(typeof variants)[number], number[]> = { generators: [], callbacks: [], 'bare-heap': [] };
  const finals = new Set<number>();
  for (let r = 0; r < repetitions; r++) {
    for (const v of variants) {
      const result = runJob<{ events: number; seconds: number; finalTimeUs: number }>(`engine:${v}`, [events]);
      samples[v].push(result.events / result.seconds);
      finals.add(result.finalTimeUs);
    }
  }
  // All three variants must have run the same event stream to the same final time.
  if (finals.size !== 1) throw new Error(`engine bench variants diverged: final times ${[...finals].join(', ')}`);
  const eps = { generators: median(samples.generators), callbacks: median(samples.callbacks), 'bare-heap': median(samples['bare-heap']) };
  const pendingCount = 1_000_000;
  const memory = runJob<{ bytesPerEvent: number }>('engine:memory', [pendingCount], ['--expose-gc']);
  log(`Engine: 1000 processes looping timeout(exponential, mean 1 s), ${events.toLocaleString('en-US')} events, median of ${repetitions}, each run in its own process`);
  log(
    table(
      ['variant', 'M events/s', 'ratio to (c)', 'target'],
      [
        ['(a) engine, generator processes', (eps.generators / 1e6).toFixed(2), (eps.generators / eps['bare-heap']).toFixed(2), '>= 5 M/s, >= 0.80'],
        ['(b) engine, callbacks', (eps.callbacks / 1e6).toFixed(2), (eps.callbacks / eps['bare-heap']).toFixed(2), ''],
        ['(c) bare heap-js push/pop', (eps['bare-heap'] / 1e6).toFixed(2), '1.00', ''],
      ],
    ),
  );
  log(`Memory: ${memory.bytesPerEvent.toFixed(1)} bytes per pending event with ${pendingCount.toLocaleString('en-US')} pending (target < 150)`);
  return { eventsPerSecond: eps, bytesPerPendingEvent: memory.bytesPerEvent };
}

export interface EpisodeFigures {
  readonly episodesPerSecond: number;
  readonly episodeEventsPerSecond: number;
  readonly engineShare: number;
}

export function benchEpisodes(options: BenchOptions = {}): EpisodeFigures {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const rounds = options.quick === true ? 1 : 3;
  const agent = 'greedy-async';
  const runs = Array.from({ length: options.quick === true ? 1 : 3 }, () => runJob<{ instances: number; episodes: number; episodeEvents: number; seconds: number }>('episodes:throughput', [agent, rounds]));
  const best = runs.map((r) => r.episodes / r.seconds);
  const first = runs[0]!;
  const eps = median(best);
  const eventsPerSecond = median(runs.map((r) => r.episodeEvents / r.seconds));
  const share = runJob<{ share: number; samples: number }>('episodes:engine-share', [agent, rounds]);
  log(`Episodes: the default suite (${first.instances} instances) with ${agent}, ${rounds} seed(s), median of ${runs.length} runs, each in its own process`);
  log(
    table(
      ['figure', 'value'],
      [
        ['episodes/s', eps.toFixed(0)],
        ['episode events/s', eventsPerSecond.toFixed(0)],
        ['engine share of CPU time (sampled profile)', `${(share.share * 100).toFixed(1)}% of ${share.samples} samples`],
      ],
    ),
  );
  return { episodesPerSecond: eps, episodeEventsPerSecond: eventsPerSecond, engineShare: share.share };
}

export interface StressFigures {
  readonly casesPerSecond: number;
  readonly eventsPerSecond: number;
  readonly shrinkSeconds: Readonly<Record<string, number>>;
}

export function benchStress(options: BenchOptions = {}): StressFigures {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const runs = options.quick === true ? 50 : 200;
  const t = runJob<{ cases: number; events: number; seconds: number }>('stress:throughput', ['greedy-async', runs]);
  const rows: string[][] = [
    ['greedy-async, every check', `${(t.cases / t.seconds).toFixed(0)} cases/s`, `${(t.events / t.seconds).toFixed(0)} events/s`, `${t.cases} cases in ${t.seconds.toFixed(2)} s`],
  ];
  const shrinkSeconds: Record<string, number> = {};
  for (const flawed of ['cap-ignorer', 'starver', 'early-bird']) {
    const s = runJob<{ seconds: number; cases: number; shrinks: number; steps: number; tasks: number }>('stress:shrink', [flawed]);
    shrinkSeconds[flawed] = s.seconds;
    rows.push([`find + shrink ${flawed}`, `${s.seconds.toFixed(2)} s`, `${s.shrinks} shrinks`, `minimal: ${s.tasks} task(s), ${s.steps} step(s)`]);
  }
  log('Stress: tooltime stress on random scenarios (fast-check seed 42), each job in its own process');
  log(table(['job', 'rate or time', '', 'detail'], rows));
  return { casesPerSecond: t.cases / t.seconds, eventsPerSecond: t.events / t.seconds, shrinkSeconds };
}

export function runBench(options: BenchOptions = {}): void {
  benchEngine(options);
  process.stdout.write('\n');
  benchEpisodes(options);
  process.stdout.write('\n');
  benchStress(options);
}
