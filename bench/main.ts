/**
 * `npm run bench` (`node dist/bench/main.js [--quick] [--only PART]`): every benchmark, side by side in one run, printed as a table
 * with ratios. Each measurement runs in its own child process (see worker.ts); figures are medians
 * over repetitions interleaved across variants, so machine noise hits all variants alike.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { table } from '../cli/table.js';
import { type BenchOptions, median, runJob, spread } from './job.js';
import { benchReplay } from './replay-section.js';
import { writeResults } from './results.js';
import { benchScale } from './scale-section.js';

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));

export { table };

/** SimPy 4.1.2 on this workload, measured from source on this machine kind (not installable here). */
export const SIMPY_EVENTS_PER_SECOND = { low: 0.61e6, high: 0.63e6 } as const;

export interface EngineFigures {
  readonly eventsPerSecond: Readonly<Record<EngineVariant, number>>;
  readonly bytesPerPendingEvent: number;
  readonly deep: ReadonlyArray<DeepRow>;
  readonly waiting: ReadonlyArray<WaitingRow>;
}

const ENGINE_VARIANTS = [
  'generators',
  'timeouts',
  'generators-heap-js',
  'callbacks',
  'bare-heap',
] as const;
type EngineVariant = (typeof ENGINE_VARIANTS)[number];

interface Timed {
  readonly events: number;
  readonly seconds: number;
  readonly finalTimeUs: number;
}

/**
 * Runs each job `repetitions` times, interleaved (a slow spell of the shared machine hits every
 * variant alike); returns events/s per job. Every job must end at the same simulated time (the
 * same event stream), or the figures compare different work.
 */
function interleaved(
  jobs: ReadonlyArray<readonly [string, readonly (string | number)[]]>,
  repetitions: number,
  what: string,
): number[][] {
  const rates: number[][] = jobs.map(() => []);
  const finals = new Set<number>();
  for (let r = 0; r < repetitions; r++) {
    jobs.forEach(([job, args], i) => {
      const result = runJob<Timed>(job, args);
      rates[i]!.push(result.events / result.seconds);
      finals.add(result.finalTimeUs);
    });
  }
  if (finals.size !== 1)
    throw new Error(`${what}: variants diverged: final times ${[...finals].join(', ')}`);
  return rates;
}

/** Median and range, in M events/s. */
function mEps(values: readonly number[]): string {
  return spread(
    values.map((v) => v / 1e6),
    2,
  );
}

/** The median of per-round ratios a[i] / b[i] (rounds interleave, so a round's pair ran close). */
function ratio(a: readonly number[], b: readonly number[]): number {
  return median(a.map((x, i) => x / b[i]!));
}

export function benchEngine(options: BenchOptions = {}): EngineFigures {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const events = options.quick === true ? 400_000 : 2_000_000;
  const repetitions = options.quick === true ? 1 : 5;
  const rates = interleaved(
    ENGINE_VARIANTS.map((v) => [`engine:${v}`, [events]] as const),
    repetitions,
    'engine bench',
  );
  const by = Object.fromEntries(ENGINE_VARIANTS.map((v, i) => [v, rates[i]!])) as Record<
    EngineVariant,
    number[]
  >;
  const eps = Object.fromEntries(ENGINE_VARIANTS.map((v) => [v, median(by[v])])) as Record<
    EngineVariant,
    number
  >;
  const pendingCount = 1_000_000;
  const memory = runJob<{ bytesPerEvent: number }>(
    'engine:memory',
    [pendingCount],
    ['--expose-gc'],
  );
  log(
    `Engine: 1000 processes looping timeout(exponential, mean 1 s), ${events.toLocaleString('en-US')} events; CPU time of the process; median (range) of ${repetitions}, interleaved, each run in its own process`,
  );
  const row = (name: string, v: EngineVariant, target: string, toA = ''): string[] => [
    name,
    mEps(by[v]),
    ratio(by[v], by['bare-heap']).toFixed(2),
    toA,
    target,
  ];
  log(
    table(
      ['variant', 'M events/s', 'ratio to (c)', 'ratio to (a)', 'target'],
      [
        row('(a) engine, generators: yield delayUs', 'generators', '>= 5 M/s, >= 0.80', '1.00'),
        row(
          '(a1) engine, SimPy-shaped: yield sim.timeout(d)',
          'timeouts',
          '>= 0.80 of (a)',
          ratio(by.timeouts, by.generators).toFixed(2),
        ),
        row(
          '(a2) (a) on heap-js (why engine/heap.ts)',
          'generators-heap-js',
          '',
          ratio(by['generators-heap-js'], by.generators).toFixed(2),
        ),
        row('(b) engine, callbacks', 'callbacks', ''),
        row('(c) bare heap-js push/pop', 'bare-heap', ''),
      ],
    ),
  );
  const simpy = (v: number) =>
    `${(v / SIMPY_EVENTS_PER_SECOND.high).toFixed(1)}-${(v / SIMPY_EVENTS_PER_SECOND.low).toFixed(1)}x`;
  log(
    `SimPy 4.1.2 on this workload: ${SIMPY_EVENTS_PER_SECOND.low / 1e6}-${SIMPY_EVENTS_PER_SECOND.high / 1e6} M events/s (a reference figure measured from source on this machine kind; SimPy cannot be installed here); (a1) runs at ${simpy(eps.timeouts)} that, (a) at ${simpy(eps.generators)}`,
  );
  // Its own event stream (not the hold model's), so apart from the variants above.
  const [shortLived] = interleaved(
    [['engine:short-lived', [events]] as const],
    repetitions,
    'short-lived bench',
  ) as [number[]];
  log(
    `Short-lived processes: one started per µs, each waiting 3 µs and returning (handles dropped, slots reused), ${events.toLocaleString('en-US')} events: ${mEps(shortLived)} M events/s`,
  );
  log(
    `Memory: ${memory.bytesPerEvent.toFixed(1)} bytes per pending callback event with ${pendingCount.toLocaleString('en-US')} pending (target < 150)`,
  );
  log('');
  const deep = benchDeepQueues(options, log);
  log('');
  const waiting = benchWaitingMemory(options, log);
  return { eventsPerSecond: eps, bytesPerPendingEvent: memory.bytesPerEvent, deep, waiting };
}

export interface DeepRow {
  readonly workload: 'busy' | 'asleep';
  readonly depth: number;
  /**
   * Median events/s: the engine (typed queue), the engine on heap-js, the bare typed heap, and
   * the bare typed heap resuming one bare generator per event (V8's part, no engine).
   */
  readonly engine: number;
  readonly heapJs: number;
  readonly typedHeap: number;
  readonly generatorHeap: number;
  /** Median per-round ratio of the engine to the bare typed heap. */
  readonly ratio: number;
  /** Median per-round ratio of the engine to the bare heap resuming generators. */
  readonly ratioToGenerators: number;
}

/**
 * The engine with deep queues, against a bare typed-array heap running the same hold model beside
 * it (bench/engine-workload.ts): `busy`, every pending event a process that runs (each event
 * touches a different process, so with many its state is out of the CPU caches, which the bare
 * heap has none of); `asleep`, 1000 busy processes and the rest waiting far beyond the run (the
 * queue's depth alone).
 */
function benchDeepQueues(options: BenchOptions, log: (line: string) => void): DeepRow[] {
  const quick = options.quick === true;
  const events = quick ? 400_000 : 2_000_000;
  // A run with a million processes busy takes seconds to set up and to warm up: three rounds.
  const repetitionsAt = (depth: number) => (quick ? 1 : depth >= 1_000_000 ? 3 : 5);
  const depths = quick ? [10, 100_000] : [10, 100_000, 1_000_000];
  const rows: DeepRow[] = [];
  const cells: string[][] = [];
  for (const workload of ['busy', 'asleep'] as const) {
    for (const depth of depths) {
      if (workload === 'asleep' && depth <= 1000) continue;
      const prefix = workload === 'busy' ? 'engine:deep' : 'engine:asleep';
      const [engine, heapJs, typed, generators] = interleaved(
        (['generators', 'heap-js', 'typed-heap', 'generator-heap'] as const).map(
          (v) => [`${prefix}-${v}`, [depth, events]] as const,
        ),
        repetitionsAt(depth),
        `deep-queue bench (${workload}, ${depth})`,
      ) as [number[], number[], number[], number[]];
      const r = ratio(engine, typed);
      const toGenerators = ratio(engine, generators);
      rows.push({
        workload,
        depth,
        engine: median(engine),
        heapJs: median(heapJs),
        typedHeap: median(typed),
        generatorHeap: median(generators),
        ratio: r,
        ratioToGenerators: toGenerators,
      });
      cells.push([
        `${workload === 'busy' ? 'all busy' : '1000 busy, rest asleep'}, ${depth.toLocaleString('en-US')} pending`,
        mEps(engine),
        mEps(heapJs),
        mEps(typed),
        mEps(generators),
        r.toFixed(2),
        toGenerators.toFixed(2),
        ratio(heapJs, typed).toFixed(2),
        depth === 1_000_000 ? '>= 0.50' : '',
      ]);
    }
  }
  log(
    `Deep queues: the hold model (exponential delays, mean 1 s) with N events pending, ${events.toLocaleString('en-US')} events after N untimed; the engine with generators yielding a delay, on its typed-array queue and on heap-js, beside a bare typed-array binary heap of (time, seq), and that heap resuming one bare generator per event (the engine's floor: V8 resuming generators, no engine); CPU time; median (range) of ${repetitionsAt(10)} (${repetitionsAt(1_000_000)} at 1M), interleaved, each run in its own process`,
  );
  log(
    table(
      [
        'workload',
        'engine M/s',
        'on heap-js M/s',
        'bare typed heap M/s',
        'bare heap + generators M/s',
        'engine / bare',
        'engine / bare+gen',
        'heap-js / bare',
        'target',
      ],
      cells,
    ),
  );
  return rows;
}

export interface WaitingRow {
  readonly count: number;
  /** Bytes per process: the bare suspended generator, then the engine's two ways of waiting. */
  readonly generator: number;
  readonly number: number;
  readonly timeout: number;
}

/** Memory per waiting process against the queue's depth (engine-workload.ts, waitingProcessBytes). */
function benchWaitingMemory(options: BenchOptions, log: (line: string) => void): WaitingRow[] {
  // From 10k: below that, what the first processes cost once (compiled code, the queue's first
  // arrays) is a visible share of the figure.
  const counts =
    options.quick === true ? [10_000, 100_000] : [10_000, 30_000, 100_000, 300_000, 1_000_000];
  const rows = counts.map((count) => {
    // The median of three runs: at 10k a process's share of the heap's own noise is visible.
    const bytes = (shape: string) =>
      median(
        [0, 1, 2].map(
          () =>
            runJob<{ bytesPerProcess: number }>(
              'engine:waiting-memory',
              [shape, count],
              ['--expose-gc'],
            ).bytesPerProcess,
        ),
      );
    return { count, generator: bytes('bare'), number: bytes('number'), timeout: bytes('timeout') };
  });
  log(
    'Memory per waiting process against the queue depth: bytes per process (the JS heap and ArrayBuffers, where the queue keeps its keys), N processes each waiting on its first delay, median of 3 runs; beyond = what the engine holds beside the suspended generator itself (its slots in the process table, its queue entry and, for timeouts, what is left of the signal)',
  );
  log(
    table(
      [
        'processes waiting',
        'bare generator B',
        'yield delayUs B',
        'beyond',
        'yield sim.timeout(d) B',
        'beyond',
        'target',
      ],
      rows.map((r) => [
        r.count.toLocaleString('en-US'),
        r.generator.toFixed(1),
        r.number.toFixed(1),
        (r.number - r.generator).toFixed(1),
        r.timeout.toFixed(1),
        (r.timeout - r.generator).toFixed(1),
        'beyond <= 64',
      ]),
    ),
  );
  return rows;
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
  const runs = Array.from({ length: options.quick === true ? 1 : 3 }, () =>
    runJob<{ instances: number; episodes: number; episodeEvents: number; seconds: number }>(
      'episodes:throughput',
      [agent, rounds],
    ),
  );
  const best = runs.map((r) => r.episodes / r.seconds);
  const first = runs[0]!;
  const eps = median(best);
  const eventsPerSecond = median(runs.map((r) => r.episodeEvents / r.seconds));
  const share = runJob<{ share: number; samples: number }>('episodes:engine-share', [
    agent,
    rounds,
  ]);
  log(
    `Episodes: the default suite (${first.instances} instances) with ${agent}, ${rounds} seed(s), median of ${runs.length} runs, each in its own process`,
  );
  log(
    table(
      ['figure', 'value'],
      [
        ['episodes/s', eps.toFixed(0)],
        ['episode events/s', eventsPerSecond.toFixed(0)],
        [
          'engine share of CPU time (sampled profile)',
          `${(share.share * 100).toFixed(1)}% of ${share.samples} samples`,
        ],
      ],
    ),
  );
  return {
    episodesPerSecond: eps,
    episodeEventsPerSecond: eventsPerSecond,
    engineShare: share.share,
  };
}

export interface BoundFigures {
  /** The best baseline's mean bound/makespan over its successful episodes on the suite. */
  readonly bestMeanRatio: number | null;
  readonly bestAgent: string | null;
}

/** How tight the oracle's lower bound is on the default suite (issue 22): the best baseline's mean ratio. */
export function benchBound(options: BenchOptions = {}): BoundFigures {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const sample = options.quick === true ? 48 : 'all';
  const r = runJob<{
    instances: number;
    agents: Array<{
      agent: string;
      meanRatio: number | null;
      n: number;
      successWeighted: number | null;
    }>;
  }>('bound:tightness', [sample]);
  const ranked = [...r.agents].sort((a, b) => (b.meanRatio ?? -1) - (a.meanRatio ?? -1));
  const best = ranked[0] ?? null;
  log(
    `Bound tightness: the oracle's lower bound / makespan, every baseline on the default suite (${r.instances} instances), seed 1, async push`,
  );
  log(
    table(
      ['agent', 'mean bound/makespan (successes)', 'n', 'success-weighted'],
      ranked.map((a) => [
        a.agent,
        a.meanRatio === null ? '-' : a.meanRatio.toFixed(3),
        String(a.n),
        a.successWeighted === null ? '-' : a.successWeighted.toFixed(3),
      ]),
    ),
  );
  log(
    `best baseline: ${best?.agent ?? '-'} at ${best?.meanRatio?.toFixed(3) ?? '-'} (1.0 would meet the bound; the bound lets a decision take the think time's minimum and a call its cheapest reachable success)`,
  );
  return { bestMeanRatio: best?.meanRatio ?? null, bestAgent: best?.agent ?? null };
}

export interface StressFigures {
  readonly casesPerSecond: number;
  readonly eventsPerSecond: number;
  readonly shrinkSeconds: Readonly<Record<string, number>>;
}

export function benchStress(options: BenchOptions = {}): StressFigures {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const runs = options.quick === true ? 50 : 200;
  const t = runJob<{ cases: number; events: number; seconds: number }>('stress:throughput', [
    'greedy-async',
    runs,
  ]);
  const rows: string[][] = [
    [
      'greedy-async, every check',
      `${(t.cases / t.seconds).toFixed(0)} cases/s`,
      `${(t.events / t.seconds).toFixed(0)} events/s`,
      `${t.cases} cases in ${t.seconds.toFixed(2)} s`,
    ],
  ];
  const shrinkSeconds: Record<string, number> = {};
  for (const flawed of ['cap-ignorer', 'starver', 'early-bird']) {
    const s = runJob<{
      seconds: number;
      cases: number;
      shrinks: number;
      steps: number;
      tasks: number;
    }>('stress:shrink', [flawed]);
    shrinkSeconds[flawed] = s.seconds;
    rows.push([
      `find + shrink ${flawed}`,
      `${s.seconds.toFixed(2)} s`,
      `${s.shrinks} shrinks`,
      `minimal: ${s.tasks} task(s), ${s.steps} step(s)`,
    ]);
  }
  log(
    'Stress: tooltime stress on random scenarios (fast-check seed 42), each job in its own process',
  );
  log(table(['job', 'rate or time', '', 'detail'], rows));
  return {
    casesPerSecond: t.cases / t.seconds,
    eventsPerSecond: t.events / t.seconds,
    shrinkSeconds,
  };
}

export interface WorkersFigures {
  /** Median wall and CPU seconds by variant, on the small and the large sweep. */
  readonly runs: ReadonlyArray<{
    readonly variant: string;
    readonly wall: { readonly small: number; readonly large: number };
    readonly cpu: { readonly small: number; readonly large: number };
  }>;
  /** `--workers 2` over `--workers 1` in wall time: the large sweep's total, and start-up excluded. */
  readonly speedup: { readonly total: number; readonly marginal: number };
  /** The same for two `--workers 1` processes at once on the halves of the seeds: the ceiling. */
  readonly ceiling: { readonly total: number; readonly marginal: number };
}

/** User and system CPU seconds of this process's waited-for children so far (Linux /proc). */
function childrenCpuSeconds(): { readonly user: number; readonly sys: number } {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  // cutime and cstime, fields 16 and 17 of stat(5), counted from the state field (3).
  return { user: Number(fields[13]) / 100, sys: Number(fields[14]) / 100 };
}

/**
 * Wall and CPU seconds of whole `tooltime run` processes started at once, one per argument list,
 * each with its own --out (start-up, workers' start-up and all): the time until the last ends.
 */
function timeRuns(argLists: ReadonlyArray<readonly string[]>): CommandTime {
  // In memory where there is a tmpfs: on this machine's ext4, creating the 7,680 replay files of a
  // run cost 0.1-6 s of system CPU, the most right after a run's files were deleted (the inode
  // allocator steps over recently freed inodes), which is the disk, not the speed-up measured.
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const outs = argLists.map(() => mkdtempSync(join(base, 'tooltime-bench-workers-')));
  const quote = (a: string) => `'${a.replace(/'/g, "'\\''")}'`;
  const command = (args: readonly string[], i: number) =>
    [process.execPath, CLI, 'run', ...args, '--quiet', '--json', '--out', outs[i]!]
      .map(quote)
      .join(' ');
  // The shell waits for each: their CPU comes into its own, and so into this process's children's.
  const script = `${argLists.map((a, i) => `${command(a, i)} >/dev/null & p${i}=$!`).join('; ')}; ${argLists.map((_, i) => `wait $p${i}`).join(' && ')}`;
  const cpu0 = childrenCpuSeconds();
  const start = process.hrtime.bigint();
  try {
    execFileSync('/bin/sh', ['-c', script], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const cpu1 = childrenCpuSeconds();
    const [user, sys] = [cpu1.user - cpu0.user, cpu1.sys - cpu0.sys];
    return { wall: Number(process.hrtime.bigint() - start) / 1e9, cpu: user + sys, user, sys };
  } finally {
    for (const out of outs) rmSync(out, { recursive: true, force: true });
  }
}

/**
 * `tooltime run --workers N` on a CPU-bound sweep (48 instances of the suite, every baseline and
 * failure-mode agent, replays written): the whole command, N = 1 and 2, on a small and a large seed
 * range. The fixed cost (process, suite and workers' start-up, and each thread's JIT warm-up) is in
 * both ranges, so the speed-up on their difference is the one excluding it; the total is reported
 * too. The ceiling row runs two
 * independent `--workers 1` processes at once, each on half of the seeds: what the machine gives
 * any parallelism of this sweep (each process pays its own start-up and JIT warm-up, as a worker
 * thread does). Rounds interleave variants. CPU is user + system seconds of every thread (system
 * time is mostly the file system creating replay files, and swings with other work on the disk).
 * Replays go to /dev/shm where it exists (see timeRuns). Wall time on a shared machine: the load
 * average is printed with the figures.
 */
export function benchWorkers(options: BenchOptions = {}): WorkersFigures {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const quick = options.quick === true;
  const rounds = quick ? 1 : 3;
  // The small range is past most of a thread's JIT warm-up (V8 compiles ~80% of what it will by
  // ~5,000 episodes of one isolate; with 2 threads each runs half), so the marginal is the steady
  // state; 1..2 against 1..16 (until 2026-12-06) measured mostly warm-up. RESULTS.md, "Workers".
  const [small, large] = quick ? [4, 16] : [16, 80];
  const sample = ['--sample', '48'];
  const sweep = (from: number, to: number, workers: number) => [
    ...sample,
    '--seeds',
    `${from}..${to}`,
    '--workers',
    String(workers),
  ];
  const variants: ReadonlyArray<{ name: string; at: (seeds: number) => CommandTime }> = [
    { name: '--workers 1', at: (n) => timeRuns([sweep(1, n, 1)]) },
    { name: '--workers 2', at: (n) => timeRuns([sweep(1, n, 2)]) },
    {
      name: 'ceiling: 2 x --workers 1 at once, half the seeds each',
      at: (n) => timeRuns([sweep(1, n / 2, 1), sweep(n / 2 + 1, n, 1)]),
    },
  ];
  const times = variants.map(() => ({ small: [] as CommandTime[], large: [] as CommandTime[] }));
  const loadBefore = loadavg();
  for (let r = 0; r < rounds; r++)
    variants.forEach((v, i) => {
      times[i]!.small.push(v.at(small));
      times[i]!.large.push(v.at(large));
    });
  const loadAfter = loadavg();
  const med = (ts: readonly CommandTime[], k: keyof CommandTime) => median(ts.map((t) => t[k]));
  const runs = variants.map((v, i) => ({
    variant: v.name,
    wall: { small: med(times[i]!.small, 'wall'), large: med(times[i]!.large, 'wall') },
    cpu: { small: med(times[i]!.small, 'cpu'), large: med(times[i]!.large, 'cpu') },
  }));
  const over = (x: (typeof runs)[number]) => ({
    total: runs[0]!.wall.large / x.wall.large,
    marginal: (runs[0]!.wall.large - runs[0]!.wall.small) / (x.wall.large - x.wall.small),
  });
  const [speedup, ceiling] = [over(runs[1]!), over(runs[2]!)];
  // The same ratio round by round (each variant's round r against `--workers 1`'s round r): on a
  // shared machine the medians of different rounds can pair a fast round with a slow one.
  const perRound = (i: number) =>
    times[i]!.large.map(
      (t, r) =>
        (times[0]!.large[r]!.wall - times[0]!.small[r]!.wall) / (t.wall - times[i]!.small[r]!.wall),
    );
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  log(
    `Workers: tooltime run --sample 48 --seeds 1..${small} and 1..${large} (every baseline and failure-mode agent, --out ${existsSync('/dev/shm') ? 'in /dev/shm' : 'in the temporary directory'}), --workers 1 and 2, and the ceiling; whole-process seconds (CPU: user + system of every thread), median (min-max) of ${rounds} round(s) interleaved; load average ${load(loadBefore)} before, ${load(loadAfter)} after, on ${availableParallelism()} cores shared with other work`,
  );
  const cell = (ts: readonly CommandTime[], k: keyof CommandTime) =>
    spread(
      ts.map((t) => t[k]),
      2,
    );
  log(
    table(
      [
        'variant',
        `wall 1..${small}`,
        `wall 1..${large}`,
        'marginal wall',
        `cpu 1..${small}`,
        `cpu 1..${large}`,
        `user/sys 1..${large}`,
        'marginal cpu',
        'speed-up total',
        'speed-up start-up excl.',
        'by round',
        'target',
      ],
      runs.map((x, i) => [
        x.variant,
        cell(times[i]!.small, 'wall'),
        cell(times[i]!.large, 'wall'),
        (x.wall.large - x.wall.small).toFixed(2),
        cell(times[i]!.small, 'cpu'),
        cell(times[i]!.large, 'cpu'),
        `${med(times[i]!.large, 'user').toFixed(2)}/${med(times[i]!.large, 'sys').toFixed(2)}`,
        (x.cpu.large - x.cpu.small).toFixed(2),
        over(x).total.toFixed(2),
        over(x).marginal.toFixed(2),
        spread(perRound(i), 2),
        i === 1 ? '>= 1.8 (start-up excl., 2 idle cores)' : '',
      ]),
    ),
  );
  return { runs, speedup, ceiling };
}

/** Wall and CPU seconds of one whole command (CPU: user + system, and each). */
interface CommandTime {
  readonly wall: number;
  readonly cpu: number;
  readonly user: number;
  readonly sys: number;
}

/** The bench's sections, by the name `--only` takes, in the order a full run prints them. */
const SECTIONS = {
  engine: benchEngine,
  episodes: benchEpisodes,
  stress: benchStress,
  bound: benchBound,
  replay: benchReplay,
  scale: benchScale,
  workers: benchWorkers,
} as const;

export function runBench(
  options: BenchOptions = {},
  only: readonly string[] = Object.keys(SECTIONS),
): string {
  const lines: string[] = [];
  const log = (line: string): void => {
    lines.push(line);
    (options.log ?? ((l: string) => process.stdout.write(`${l}\n`)))(line);
  };
  const parts = only.map((name) => {
    const part = SECTIONS[name as keyof typeof SECTIONS];
    if (part === undefined)
      throw new Error(`bench: no section "${name}"; sections: ${Object.keys(SECTIONS).join(', ')}`);
    return part;
  });
  parts.forEach((part, i) => {
    if (i > 0) log('');
    part({ ...options, log });
  });
  return `${lines.join('\n')}\n`;
}

// The entry of `npm run bench`: the bench sits above the CLI (it imports cli/ helpers), so it is
// its own program rather than a `tooltime` command.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const quick = process.argv.includes('--quick');
  // `--only scale,replay`: those sections alone (figures printed, RESULTS.md left as it is).
  const at = process.argv.indexOf('--only');
  const only = at < 0 ? undefined : (process.argv[at + 1] ?? '').split(',').filter((n) => n !== '');
  const output = runBench({ quick }, only);
  // A quick or partial run's figures do not stand as the latest results.
  if (!quick && only === undefined) {
    const results = fileURLToPath(new URL('../../bench/RESULTS.md', import.meta.url));
    writeResults(results, output);
    process.stdout.write(`figures written to ${results}\n`);
  }
}
