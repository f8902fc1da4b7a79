/**
 * The bench's scale section: cost against concurrency and size (scale-workload.ts), one table each.
 */
import { table } from '../cli/table.js';
import { type BenchOptions, logOf, median, runJob, spread } from './job.js';

export interface ScaleFigures {
  /** By concurrent tasks: median µs per event of run + score, and its median ratio to 2 tasks. */
  readonly concurrency: ReadonlyArray<{
    readonly tasks: number;
    readonly usPerEvent: number;
    readonly ratio: number;
  }>;
  /** By steps: median µs per step of validate + run + score, and its median ratio to the smallest. */
  readonly size: ReadonlyArray<{
    readonly steps: number;
    readonly usPerStep: number;
    readonly ratio: number;
  }>;
}

/** A scale:concurrency job's figures. */
interface C {
  tasks: number;
  episodes: number;
  events: number;
  runSeconds: number;
  scoreSeconds: number;
}

/** A scale:size job's figures. */
interface S {
  steps: number;
  events: number;
  validateSeconds: number;
  runSeconds: number;
  scoreSeconds: number;
}

type Log = (line: string) => void;

const AGENT_NOTE = 'greedy-async, async/push';

/** Steps per task chain, in both tables. */
const STEPS = 5;
const CONCURRENT = [2, 20, 200, 2000];

/**
 * Cost against concurrency and size (scale-workload.ts): per event, as many chains in flight at
 * once grow from 2 to 2,000; per step, as a scenario grows from 10k to 100k steps. Ratios are to
 * the first row of the same round (rounds interleave the rows, so a slow spell of the shared
 * machine hits a round's rows alike), the median over rounds.
 */
export function benchScale(options: BenchOptions = {}): ScaleFigures {
  const log = logOf(options);
  const quick = options.quick === true;
  // The concurrency ratio is a target, read as a median (range) over rounds: five at least.
  const cRounds = quick ? 1 : 5;
  const rounds = quick ? 1 : 3;
  const minEvents = quick ? 30_000 : 100_000;
  const sizes = quick ? [10_000, 30_000] : [10_000, 30_000, 100_000];
  const c: C[][] = CONCURRENT.map(() => []);
  const z: S[][] = sizes.map(() => []);
  for (let r = 0; r < Math.max(cRounds, rounds); r++) {
    if (r < cRounds)
      CONCURRENT.forEach((tasks, i) => {
        c[i]!.push(runJob<C>('scale:concurrency', [tasks, STEPS, minEvents]));
      });
    if (r < rounds)
      sizes.forEach((n, i) => {
        z[i]!.push(runJob<S>('scale:size', [n / STEPS, STEPS]));
      });
  }
  return {
    concurrency: concurrencyTable(c, cRounds, minEvents, log),
    size: sizeTable(z, sizes, rounds, log),
  };
}

/** By row, each round's cost over the first row's in the same round. */
function ratiosToFirst<T>(rows: readonly (readonly T[])[], cost: (x: T) => number): number[][] {
  return rows.map((runs) => runs.map((x, k) => cost(x) / cost(rows[0]![k]!)));
}

/** Per event, by concurrent tasks: run, score and both, and the ratio to the 2-task row. */
function concurrencyTable(
  c: readonly C[][],
  cRounds: number,
  minEvents: number,
  log: Log,
): ScaleFigures['concurrency'] {
  const seconds = {
    run: (x: C) => x.runSeconds,
    score: (x: C) => x.scoreSeconds,
    both: (x: C) => x.runSeconds + x.scoreSeconds,
  };
  const perEvent = (x: C, part: keyof typeof seconds) => (seconds[part](x) / x.events) * 1e6;
  const cRatios = ratiosToFirst(c, (x) => perEvent(x, 'both'));
  const cell = (runs: readonly C[], part: keyof typeof seconds) =>
    spread(
      runs.map((x) => perEvent(x, part)),
      2,
    );
  log(
    `Scale, concurrency: tasks x ${STEPS}-step chains, all arriving at 0, every step j of every task the same call (each call matches one step per task); ${AGENT_NOTE}; episodes on seeds 1, 2, ... until ${minEvents.toLocaleString('en-US')} events, all run then all scored, after as many events run and scored untimed; CPU time of the process (user + system); median (range) of ${cRounds} round(s), each job in its own process; the ratio is to the 2-task row of the same round`,
  );
  log(
    table(
      [
        'concurrent tasks',
        'episodes',
        'events',
        'run µs/event',
        'score µs/event',
        'run + score µs/event',
        'ratio to 2 tasks',
        'target',
      ],
      c.map((runs, i) => [
        String(CONCURRENT[i]),
        String(runs[0]!.episodes),
        String(runs[0]!.events),
        cell(runs, 'run'),
        cell(runs, 'score'),
        cell(runs, 'both'),
        spread(cRatios[i]!, 2),
        CONCURRENT[i] === 2000 ? '<= 1.5' : '',
      ]),
    ),
  );
  return c.map((runs, i) => ({
    tasks: CONCURRENT[i]!,
    usPerEvent: median(runs.map((x) => perEvent(x, 'both'))),
    ratio: median(cRatios[i]!),
  }));
}

/** Per step, by scenario size: validate, run, score and all, and the ratio to the smallest. */
function sizeTable(
  z: readonly S[][],
  sizes: readonly number[],
  rounds: number,
  log: Log,
): ScaleFigures['size'] {
  const parts = {
    validate: (x: S) => x.validateSeconds,
    run: (x: S) => x.runSeconds,
    score: (x: S) => x.scoreSeconds,
    all: (x: S) => x.validateSeconds + x.runSeconds + x.scoreSeconds,
  };
  const perStep = (x: S, part: keyof typeof parts) => (parts[part](x) / x.steps) * 1e6;
  const zRatio = ratiosToFirst(z, (x) => perStep(x, 'all')).map(median);
  const cell = (runs: readonly S[], part: keyof typeof parts) =>
    spread(
      runs.map((x) => perStep(x, part)),
      1,
    );
  log(
    `Scale, size: one scenario of N steps (N/${STEPS} tasks of ${STEPS}-step chains, many short chains rather than one long one; arrivals 20 ms apart, so a few tasks at a time), validated, run and scored once; ${AGENT_NOTE}; CPU time; median (range) of ${rounds} round(s), each job in its own process after a warm-up on 5,000 steps`,
  );
  log(
    table(
      [
        'steps',
        'events',
        'validate µs/step',
        'run µs/step',
        'score µs/step',
        'total µs/step',
        'total s',
        'ratio to 10k',
        'target',
      ],
      z.map((runs, i) => [
        sizes[i]!.toLocaleString('en-US'),
        String(runs[0]!.events),
        cell(runs, 'validate'),
        cell(runs, 'run'),
        cell(runs, 'score'),
        cell(runs, 'all'),
        spread(
          runs.map((x) => (perStep(x, 'all') * x.steps) / 1e6),
          2,
        ),
        zRatio[i]!.toFixed(2),
        'linear: ~1',
      ]),
    ),
  );
  return z.map((runs, i) => ({
    steps: sizes[i]!,
    usPerStep: median(runs.map((x) => perStep(x, 'all'))),
    ratio: zRatio[i]!,
  }));
}
