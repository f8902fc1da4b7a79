/**
 * `npm run bench` (`node dist/bench/main.js [--quick]`): every benchmark, side by side in one run, printed as a table
 * with ratios. Each measurement runs in its own child process (see worker.ts); figures are medians
 * over repetitions interleaved across variants, so machine noise hits all variants alike.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { table } from '../cli/table.js';
import { writeResults } from './results.js';

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));

export interface BenchOptions {
  /** Fewer events and repetitions, for a quick look (figures are noisier). */
  readonly quick?: boolean;
  readonly log?: (line: string) => void;
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

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export { table };

export interface EngineFigures {
  readonly eventsPerSecond: Readonly<
    Record<'generators' | 'generators-heap-js' | 'callbacks' | 'bare-heap', number>
  >;
  readonly bytesPerPendingEvent: number;
}

export function benchEngine(options: BenchOptions = {}): EngineFigures {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const events = options.quick === true ? 400_000 : 2_000_000;
  const repetitions = options.quick === true ? 1 : 5;
  const variants = ['generators', 'generators-heap-js', 'callbacks', 'bare-heap'] as const;
  const samples: Record<(typeof variants)[number], number[]> = {
    generators: [],
    'generators-heap-js': [],
    callbacks: [],
    'bare-heap': [],
  };
  const finals = new Set<number>();
  for (let r = 0; r < repetitions; r++) {
    for (const v of variants) {
      const result = runJob<{ events: number; seconds: number; finalTimeUs: number }>(
        `engine:${v}`,
        [events],
      );
      samples[v].push(result.events / result.seconds);
      finals.add(result.finalTimeUs);
    }
  }
  // All three variants must have run the same event stream to the same final time.
  if (finals.size !== 1)
    throw new Error(`engine bench variants diverged: final times ${[...finals].join(', ')}`);
  const eps = {
    generators: median(samples.generators),
    'generators-heap-js': median(samples['generators-heap-js']),
    callbacks: median(samples.callbacks),
    'bare-heap': median(samples['bare-heap']),
  };
  const pendingCount = 1_000_000;
  const memory = runJob<{ bytesPerEvent: number }>(
    'engine:memory',
    [pendingCount],
    ['--expose-gc'],
  );
  log(
    `Engine: 1000 processes looping timeout(exponential, mean 1 s), ${events.toLocaleString('en-US')} events, median of ${repetitions}, each run in its own process`,
  );
  log(
    table(
      ['variant', 'M events/s', 'ratio to (c)', 'target'],
      [
        [
          '(a) engine, generator processes',
          (eps.generators / 1e6).toFixed(2),
          (eps.generators / eps['bare-heap']).toFixed(2),
          '>= 5 M/s, >= 0.80',
        ],
        [
          '(a2) the same on heap-js (why engine/heap.ts)',
          (eps['generators-heap-js'] / 1e6).toFixed(2),
          (eps['generators-heap-js'] / eps['bare-heap']).toFixed(2),
          '',
        ],
        [
          '(b) engine, callbacks',
          (eps.callbacks / 1e6).toFixed(2),
          (eps.callbacks / eps['bare-heap']).toFixed(2),
          '',
        ],
        ['(c) bare heap-js push/pop', (eps['bare-heap'] / 1e6).toFixed(2), '1.00', ''],
      ],
    ),
  );
  log(
    `Memory: ${memory.bytesPerEvent.toFixed(1)} bytes per pending event with ${pendingCount.toLocaleString('en-US')} pending (target < 150)`,
  );
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

export interface ReplayFigures {
  readonly bytesPerEvent: Readonly<Record<string, number>>;
  /** Bare episodes: recording to memory, and to a new file per episode in tmpfs (null: none here) and on disk. */
  readonly recordingOverhead: {
    readonly memory: number;
    readonly tmpfs: number | null;
    readonly disk: number;
  };
  /** `tooltime run --out`: the same three. */
  readonly pipelineOverhead: {
    readonly memory: number;
    readonly tmpfs: number | null;
    readonly disk: number;
  };
  readonly verifyEventsPerSecond: number;
  readonly interleavedVerifyEventsPerSecond: number;
  readonly longVerifyEventsPerSecond: number;
  /** Verifying a folder of replay files: on this thread, on 2 started worker threads, and as one cold call. */
  readonly verifyFilesEventsPerSecond: {
    readonly here: number;
    readonly workers: number;
    readonly cold: number;
  };
}

type Variant = 'plain' | 'memory' | 'file-tmpfs' | 'file-disk';

export function benchReplay(options: BenchOptions = {}): ReplayFigures {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const quick = options.quick === true;
  const rounds = quick ? 1 : 3;
  const sample = quick ? 24 : 72;
  const passes = quick ? 3 : 11;
  const warmup = quick ? 0.3 : 1.5;
  type Bytes = {
    sets: Array<{
      name: string;
      episodes: number;
      events: number;
      recordBytes: number;
      headerBytes: number;
      maxBytesPerEvent: number;
    }>;
  };
  const bytes = runJob<Bytes>('replay:bytes', [rounds, sample]);
  log(`Replays: greedy-async, async/push, seeds 1..${rounds}; each job in its own process`);
  log(
    table(
      [
        'workload',
        'episodes',
        'events',
        'B/event (records)',
        'worst episode',
        'header B (mean)',
        'target',
      ],
      bytes.sets.map((x) => [
        x.name,
        String(x.episodes),
        String(x.events),
        (x.recordBytes / x.events).toFixed(2),
        x.maxBytesPerEvent.toFixed(2),
        (x.headerBytes / x.episodes).toFixed(0),
        '<= 24 B/event',
      ]),
    ),
  );

  const fs = runJob<{ createUs: number; tmpfsCreateUs: number | null; writeUs: number }>(
    'replay:fs',
    [quick ? 200 : 1000],
  );
  const tmpfsNote =
    fs.tmpfsCreateUs === null
      ? 'no tmpfs here'
      : `${fs.tmpfsCreateUs.toFixed(0)} µs in tmpfs (/dev/shm)`;

  // A variant's overhead is the median over rounds of its pass's time over the plain pass of the
  // same round: a drift of the machine's speed during the job (seen here: 8 ms passes becoming
  // 12 ms) then cancels out, where a ratio of medians mixes rounds.
  const rows = (
    seconds: Readonly<Partial<Record<Variant, readonly number[]>>>,
    count: number,
    unit: string,
    names: Record<Variant, string>,
    targets: Partial<Record<Variant, string>>,
  ) => {
    const plain = seconds.plain!;
    const out: string[][] = [];
    const over: Partial<Record<Variant, number>> = {};
    for (const v of ['plain', 'memory', 'file-tmpfs', 'file-disk'] as const) {
      const s = seconds[v];
      if (s === undefined) continue;
      const m = median(s);
      over[v] = median(s.map((x, i) => x / plain[i]!)) - 1;
      out.push([
        names[v],
        m.toFixed(3),
        (count / m).toFixed(0),
        v === 'plain' ? '-' : `${(over[v]! * 100).toFixed(0)}%`,
        targets[v] ?? '',
      ]);
    }
    return { table: table(['variant', 'seconds', unit, 'overhead', 'target'], out), over };
  };

  // Recording overhead, bare episodes: interleaved passes in one process after a warm-up.
  const rec = runJob<{
    episodes: number;
    events: number;
    seconds: Partial<Record<Variant, number[]>>;
  }>('replay:record', [passes, rounds, sample, warmup]);
  const episodeUs = (median(rec.seconds.plain!) / rec.episodes) * 1e6;
  log(
    `Files: creating one costs ${fs.createUs.toFixed(0)} µs on this machine's disk (${tmpfsNote}); one small write ${fs.writeUs.toFixed(2)} µs. An episode of the workload below took ${episodeUs.toFixed(0)} µs, unrecorded.`,
  );
  log(
    `Recording overhead, bare episodes: the same ${rec.episodes} episodes (${rec.events.toLocaleString('en-US')} events, each scenario's seeds together as runs make them) with and without a recorder; ${passes} interleaved rounds after ${warmup} s of each: seconds, the median pass; overhead, the median ratio to the plain pass of the same round`,
  );
  const bare = rows(
    rec.seconds,
    rec.events,
    'events/s',
    {
      plain: 'no recording',
      memory: 'recording to memory',
      'file-tmpfs': 'a FileSink per episode (as --record FILE), in tmpfs',
      'file-disk': 'a FileSink per episode (as --record FILE), on disk',
    },
    // The target is the run's (below): bare episodes show what the recorder costs against the simulation alone.
    {},
  );
  log(bare.table);

  // The same, as a user pays it: `tooltime run --out DIR` on its defaults (oracle, sequential reference, scoring, results written).
  const pipe = runJob<{ episodes: number; seconds: Partial<Record<Variant, number[]>> }>(
    'replay:pipeline',
    [passes, 1, quick ? sample : 'all', warmup],
  );
  log(
    `Recording overhead in the run pipeline: tooltime run${quick ? ` --sample ${sample}` : ''} --out DIR on its defaults (${quick ? 'a sample of ' : ''}the default suite, seed 1, every baseline: ${pipe.episodes} episodes); ${passes} interleaved rounds after ${warmup} s of each, figures as above`,
  );
  const run = rows(
    pipe.seconds,
    pipe.episodes,
    'episodes/s',
    {
      plain: 'no recording (results written)',
      memory: 'recording each episode to memory',
      'file-tmpfs': '--out DIR in tmpfs',
      'file-disk': '--out DIR on disk',
    },
    { memory: '<= 25%', 'file-tmpfs': '<= 25%' },
  );
  log(run.table);
  log(
    '  --out: a thread of its own writes the files (replays/io/writer.ts); the pass includes starting it and waiting until every file is written',
  );

  // Verify throughput, in memory, steady state; decoding and encoding alone, each pair in its own process.
  type Ver = {
    episodes: number;
    events: number;
    recordBytes: number;
    seconds: Partial<Record<'verify' | 'plain' | 'decode' | 'encode', number[]>>;
    readShare: number;
    rerunShare: number;
  };
  const both = (
    job: string,
    args: readonly (string | number)[],
    after: readonly string[] = [],
  ): Ver & { codec: Ver } => ({
    ...runJob<Ver>(job, [...args, 'verify', ...after]),
    codec: runJob<Ver>(job, [...args, 'codec', ...after]),
  });
  const v = both('replay:verify', [rounds, sample, warmup, passes], ['runs']);
  const mixed = runJob<Ver>('replay:verify', [
    rounds,
    sample,
    warmup,
    passes,
    'verify',
    'interleaved',
  ]);
  const long = both('replay:long', [quick ? 100 : 200, warmup, passes]);
  const rate = (n: number, s: readonly number[] | undefined) =>
    `${(n / median(s!) / 1e6).toFixed(2)} M`;
  const verRow = (name: string, x: Ver, codec: Ver | null, target: string) => [
    name,
    String(x.events),
    rate(x.events, x.seconds.verify),
    `${(x.readShare * 100).toFixed(0)}% / ${(x.rerunShare * 100).toFixed(0)}%`,
    rate(x.events, x.seconds.plain),
    codec === null ? '' : rate(codec.events, codec.seconds.decode),
    codec === null ? '' : rate(codec.events, codec.seconds.encode),
    target,
  ];
  log(
    `Verify in memory: re-run from the header + byte comparison (verifyReplay) against a plain run of the same episodes; decode (readReplay) and encode (encodeReplay) in a process of their own; median of ${passes} interleaved passes after ${warmup} s of each. ` +
      `Short episodes in the order runs make them and verify DIR reads them (each scenario's seeds together), and interleaved (no two in a row share a scenario: its data is out of the CPU caches each time)`,
  );
  log(
    table(
      [
        'workload',
        'events',
        'verify events/s',
        'header / re-run',
        'plain run events/s',
        'decode events/s',
        'encode events/s',
        'target',
      ],
      [
        verRow(`${v.episodes} short episodes, as runs order them`, v, v.codec, '>= 1 M verify'),
        verRow(`the same, scenarios interleaved`, mixed, null, ''),
        verRow(
          `one long episode (${(long.codec.recordBytes / long.codec.events).toFixed(1)} B/event)`,
          long,
          long.codec,
          '>= 1 M verify',
        ),
      ],
    ),
  );

  // Verifying a folder of replay files (tooltime replay verify DIR/*.ttr), on this thread and on worker threads.
  const workers = 2;
  const vf = runJob<{
    files: number;
    events: number;
    workers: number;
    hereSeconds: number[];
    poolSeconds: number[];
    coldSeconds: number;
  }>('replay:verify-files', [rounds, sample, passes, workers, warmup]);
  const here = median(vf.hereSeconds);
  const pool = median(vf.poolSeconds);
  log(
    `Verify files: tooltime replay verify DIR/replays/*.ttr after tooltime run --sample ${sample} --seeds 1..${rounds} --out DIR: ${vf.files} files (${vf.events.toLocaleString('en-US')} events) read and verified; median of ${passes} interleaved passes after ${warmup} s of each, and once cold`,
  );
  log(
    table(
      ['variant', 'seconds', 'verify events/s', 'speed-up', 'target'],
      [
        ['this thread', here.toFixed(3), rate(vf.events, [here]), '1.00', '>= 1 M verify'],
        [
          `${vf.workers} worker threads (started)`,
          pool.toFixed(3),
          rate(vf.events, [pool]),
          (here / pool).toFixed(2),
          '>= 1 M verify',
        ],
        [
          `${vf.workers} worker threads, cold (one call: workers started, JIT cold)`,
          vf.coldSeconds.toFixed(3),
          rate(vf.events, [vf.coldSeconds]),
          (here / vf.coldSeconds).toFixed(2),
          '',
        ],
      ],
    ),
  );
  const bytesPerEvent: Record<string, number> = {};
  for (const x of bytes.sets) bytesPerEvent[x.name] = x.recordBytes / x.events;
  return {
    bytesPerEvent,
    recordingOverhead: {
      memory: bare.over.memory!,
      tmpfs: bare.over['file-tmpfs'] ?? null,
      disk: bare.over['file-disk']!,
    },
    pipelineOverhead: {
      memory: run.over.memory!,
      tmpfs: run.over['file-tmpfs'] ?? null,
      disk: run.over['file-disk']!,
    },
    verifyEventsPerSecond: v.events / median(v.seconds.verify!),
    interleavedVerifyEventsPerSecond: mixed.events / median(mixed.seconds.verify!),
    longVerifyEventsPerSecond: long.events / median(long.seconds.verify!),
    verifyFilesEventsPerSecond: {
      here: vf.events / here,
      workers: vf.events / pool,
      cold: vf.events / vf.coldSeconds,
    },
  };
}

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

/** `median (min-max)` of `values`, to `digits` decimals. */
function spread(values: readonly number[], digits: number): string {
  const m = median(values).toFixed(digits);
  return values.length < 2
    ? m
    : `${m} (${Math.min(...values).toFixed(digits)}-${Math.max(...values).toFixed(digits)})`;
}

/**
 * Cost against concurrency and size (scale-workload.ts): per event, as many chains in flight at
 * once grow from 2 to 2,000; per step, as a scenario grows from 10k to 100k steps. Ratios are to
 * the first row of the same round (rounds interleave the rows, so a slow spell of the shared
 * machine hits a round's rows alike), the median over rounds.
 */
export function benchScale(options: BenchOptions = {}): ScaleFigures {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const quick = options.quick === true;
  const rounds = quick ? 1 : 3;
  const steps = 5;
  const minEvents = quick ? 30_000 : 100_000;
  const concurrent = [2, 20, 200, 2000];
  const sizes = quick ? [10_000, 30_000] : [10_000, 30_000, 100_000];
  type C = {
    tasks: number;
    episodes: number;
    events: number;
    runSeconds: number;
    scoreSeconds: number;
  };
  type S = {
    steps: number;
    events: number;
    validateSeconds: number;
    runSeconds: number;
    scoreSeconds: number;
  };
  const c: C[][] = concurrent.map(() => []);
  const z: S[][] = sizes.map(() => []);
  for (let r = 0; r < rounds; r++) {
    concurrent.forEach((tasks, i) => {
      c[i]!.push(runJob<C>('scale:concurrency', [tasks, steps, minEvents]));
    });
    sizes.forEach((n, i) => {
      z[i]!.push(runJob<S>('scale:size', [n / steps, steps]));
    });
  }
  const seconds = {
    run: (x: C) => x.runSeconds,
    score: (x: C) => x.scoreSeconds,
    both: (x: C) => x.runSeconds + x.scoreSeconds,
  };
  const perEvent = (x: C, part: keyof typeof seconds) => (seconds[part](x) / x.events) * 1e6;
  const cRatio = c.map((runs) =>
    median(runs.map((x, k) => perEvent(x, 'both') / perEvent(c[0]![k]!, 'both'))),
  );
  log(
    `Scale, concurrency: tasks x ${steps}-step chains, all arriving at 0, every step j of every task the same call (each call matches one step per task); ${AGENT_NOTE}; episodes on seeds 1, 2, ... until ${minEvents.toLocaleString('en-US')} events, all run then all scored, after as many events run and scored untimed; CPU time of the process (user + system); median (range) of ${rounds} round(s), each job in its own process`,
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
        String(concurrent[i]),
        String(runs[0]!.episodes),
        String(runs[0]!.events),
        spread(
          runs.map((x) => perEvent(x, 'run')),
          2,
        ),
        spread(
          runs.map((x) => perEvent(x, 'score')),
          2,
        ),
        spread(
          runs.map((x) => perEvent(x, 'both')),
          2,
        ),
        cRatio[i]!.toFixed(2),
        concurrent[i] === 2000 ? '<= 1.5' : '',
      ]),
    ),
  );
  const parts = {
    validate: (x: S) => x.validateSeconds,
    run: (x: S) => x.runSeconds,
    score: (x: S) => x.scoreSeconds,
    all: (x: S) => x.validateSeconds + x.runSeconds + x.scoreSeconds,
  };
  const perStep = (x: S, part: keyof typeof parts) => (parts[part](x) / x.steps) * 1e6;
  const zRatio = z.map((runs) =>
    median(runs.map((x, k) => perStep(x, 'all') / perStep(z[0]![k]!, 'all'))),
  );
  log(
    `Scale, size: one scenario of N steps (N/${steps} tasks of ${steps}-step chains, many short chains rather than one long one; arrivals 20 ms apart, so a few tasks at a time), validated, run and scored once; ${AGENT_NOTE}; CPU time; median (range) of ${rounds} round(s), each job in its own process after a warm-up on 5,000 steps`,
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
        spread(
          runs.map((x) => perStep(x, 'validate')),
          1,
        ),
        spread(
          runs.map((x) => perStep(x, 'run')),
          1,
        ),
        spread(
          runs.map((x) => perStep(x, 'score')),
          1,
        ),
        spread(
          runs.map((x) => perStep(x, 'all')),
          1,
        ),
        spread(
          runs.map((x) => (perStep(x, 'all') * x.steps) / 1e6),
          2,
        ),
        zRatio[i]!.toFixed(2),
        'linear: ~1',
      ]),
    ),
  );
  return {
    concurrency: c.map((runs, i) => ({
      tasks: concurrent[i]!,
      usPerEvent: median(runs.map((x) => perEvent(x, 'both'))),
      ratio: cRatio[i]!,
    })),
    size: z.map((runs, i) => ({
      steps: sizes[i]!,
      usPerStep: median(runs.map((x) => perStep(x, 'all'))),
      ratio: zRatio[i]!,
    })),
  };
}

const AGENT_NOTE = 'greedy-async, async/push';

export function runBench(options: BenchOptions = {}): string {
  const lines: string[] = [];
  const log = (line: string): void => {
    lines.push(line);
    (options.log ?? ((l: string) => process.stdout.write(`${l}\n`)))(line);
  };
  const parts = [benchEngine, benchEpisodes, benchStress, benchBound, benchReplay, benchScale];
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
  const output = runBench({ quick });
  // A quick run's figures are too noisy to stand as the latest results.
  if (!quick) {
    const results = fileURLToPath(new URL('../../bench/RESULTS.md', import.meta.url));
    writeResults(results, output);
    process.stdout.write(`figures written to ${results}\n`);
  }
}
