/**
 * The bench's replay section (replay-workload.ts): bytes per event, what recording costs (bare
 * episodes and the run pipeline), and verify throughput in memory and from files; one table each.
 */
import { table } from '../cli/table.js';
import { type BenchOptions, logOf, median, runJob } from './job.js';

export interface ReplayFigures {
  readonly bytesPerEvent: Readonly<Record<string, number>>;
  /** Bare episodes: recording to memory, and to a new file per episode in tmpfs (null: none here) and on disk. */
  readonly recordingOverhead: Overheads;
  /** `tooltime run --out`: the same three. */
  readonly pipelineOverhead: Overheads;
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

interface Overheads {
  readonly memory: number;
  readonly tmpfs: number | null;
  readonly disk: number;
}

type Variant = 'plain' | 'memory' | 'file-tmpfs' | 'file-disk';
type Log = (line: string) => void;

/** How much of each workload a run takes (fewer with --quick). */
interface Plan {
  readonly quick: boolean;
  readonly rounds: number;
  readonly sample: number;
  readonly passes: number;
  readonly warmup: number;
}

export function benchReplay(options: BenchOptions = {}): ReplayFigures {
  const log = logOf(options);
  const quick = options.quick === true;
  const plan: Plan = {
    quick,
    rounds: quick ? 1 : 3,
    sample: quick ? 24 : 72,
    passes: quick ? 3 : 11,
    warmup: quick ? 0.3 : 1.5,
  };
  const bytesPerEvent = bytesTable(plan, log);
  const recordingOverhead = recordingTable(plan, log);
  const pipelineOverhead = pipelineTable(plan, log);
  const verify = verifyTable(plan, log);
  return {
    bytesPerEvent,
    recordingOverhead,
    pipelineOverhead,
    ...verify,
    verifyFilesEventsPerSecond: verifyFilesTable(plan, log),
  };
}

/** Bytes per event of replays of the examples and a sample of the suite, against the target. */
function bytesTable(plan: Plan, log: Log): Record<string, number> {
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
  const bytes = runJob<Bytes>('replay:bytes', [plan.rounds, plan.sample]);
  log(`Replays: greedy-async, async/push, seeds 1..${plan.rounds}; each job in its own process`);
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
  const bytesPerEvent: Record<string, number> = {};
  for (const x of bytes.sets) bytesPerEvent[x.name] = x.recordBytes / x.events;
  return bytesPerEvent;
}

/**
 * One row per variant measured: seconds (the median pass), `unit` per second, and its overhead.
 * A variant's overhead is the median over rounds of its pass's time over the plain pass of the
 * same round: a drift of the machine's speed during the job (seen here: 8 ms passes becoming
 * 12 ms) then cancels out, where a ratio of medians mixes rounds.
 */
function overheadTable(
  seconds: Readonly<Partial<Record<Variant, readonly number[]>>>,
  count: number,
  unit: string,
  names: Record<Variant, string>,
  targets: Partial<Record<Variant, string>>,
): { table: string; over: Partial<Record<Variant, number>> } {
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
}

/** The overheads a table measured, with tmpfs null where there is none. */
function overheadsOf(over: Partial<Record<Variant, number>>): Overheads {
  return { memory: over.memory!, tmpfs: over['file-tmpfs'] ?? null, disk: over['file-disk']! };
}

/** What files cost here, then recording overhead on bare episodes: interleaved passes in one process after a warm-up. */
function recordingTable(plan: Plan, log: Log): Overheads {
  const { passes, warmup } = plan;
  const fs = runJob<{ createUs: number; tmpfsCreateUs: number | null; writeUs: number }>(
    'replay:fs',
    [plan.quick ? 200 : 1000],
  );
  const tmpfsNote =
    fs.tmpfsCreateUs === null
      ? 'no tmpfs here'
      : `${fs.tmpfsCreateUs.toFixed(0)} µs in tmpfs (/dev/shm)`;
  const rec = runJob<{
    episodes: number;
    events: number;
    seconds: Partial<Record<Variant, number[]>>;
  }>('replay:record', [passes, plan.rounds, plan.sample, warmup]);
  const episodeUs = (median(rec.seconds.plain!) / rec.episodes) * 1e6;
  log(
    `Files: creating one costs ${fs.createUs.toFixed(0)} µs on this machine's disk (${tmpfsNote}); one small write ${fs.writeUs.toFixed(2)} µs. An episode of the workload below took ${episodeUs.toFixed(0)} µs, unrecorded.`,
  );
  log(
    `Recording overhead, bare episodes: the same ${rec.episodes} episodes (${rec.events.toLocaleString('en-US')} events, each scenario's seeds together as runs make them) with and without a recorder; ${passes} interleaved rounds after ${warmup} s of each: seconds, the median pass; overhead, the median ratio to the plain pass of the same round`,
  );
  const bare = overheadTable(
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
  return overheadsOf(bare.over);
}

/** The same, as a user pays it: `tooltime run --out DIR` on its defaults (oracle, sequential reference, scoring, results written). */
function pipelineTable(plan: Plan, log: Log): Overheads {
  const { quick, sample, passes, warmup } = plan;
  const pipe = runJob<{ episodes: number; seconds: Partial<Record<Variant, number[]>> }>(
    'replay:pipeline',
    [passes, 1, quick ? sample : 'all', warmup],
  );
  log(
    `Recording overhead in the run pipeline: tooltime run${quick ? ` --sample ${sample}` : ''} --out DIR on its defaults (${quick ? 'a sample of ' : ''}the default suite, seed 1, every baseline: ${pipe.episodes} episodes); ${passes} interleaved rounds after ${warmup} s of each, figures as above`,
  );
  const run = overheadTable(
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
  return overheadsOf(run.over);
}

/** A verify job's figures: verify against a plain run, or (its codec job) decode and encode alone. */
type Ver = {
  episodes: number;
  events: number;
  recordBytes: number;
  seconds: Partial<Record<'verify' | 'plain' | 'decode' | 'encode', number[]>>;
  readShare: number;
  rerunShare: number;
};

/** `n` events over the median of `s` seconds, in M events/s. */
const rate = (n: number, s: readonly number[] | undefined) =>
  `${(n / median(s!) / 1e6).toFixed(2)} M`;

/** A row of the verify table; the codec's columns empty without a codec job. */
function verifyRow(name: string, x: Ver, codec: Ver | null, target: string): string[] {
  return [
    name,
    String(x.events),
    rate(x.events, x.seconds.verify),
    `${(x.readShare * 100).toFixed(0)}% / ${(x.rerunShare * 100).toFixed(0)}%`,
    rate(x.events, x.seconds.plain),
    codec === null ? '' : rate(codec.events, codec.seconds.decode),
    codec === null ? '' : rate(codec.events, codec.seconds.encode),
    target,
  ];
}

/** Verify throughput, in memory, steady state; decoding and encoding alone, each pair in its own process. */
function verifyTable(
  plan: Plan,
  log: Log,
): Pick<
  ReplayFigures,
  'verifyEventsPerSecond' | 'interleavedVerifyEventsPerSecond' | 'longVerifyEventsPerSecond'
> {
  const { rounds, sample, passes, warmup } = plan;
  const both = (
    job: string,
    args: readonly (string | number)[],
    after: readonly string[] = [],
  ) => ({
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
  const long = both('replay:long', [plan.quick ? 100 : 200, warmup, passes]);
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
        verifyRow(`${v.episodes} short episodes, as runs order them`, v, v.codec, '>= 1 M verify'),
        verifyRow(`the same, scenarios interleaved`, mixed, null, ''),
        verifyRow(
          `one long episode (${(long.codec.recordBytes / long.codec.events).toFixed(1)} B/event)`,
          long,
          long.codec,
          '>= 1 M verify',
        ),
      ],
    ),
  );
  return {
    verifyEventsPerSecond: v.events / median(v.seconds.verify!),
    interleavedVerifyEventsPerSecond: mixed.events / median(mixed.seconds.verify!),
    longVerifyEventsPerSecond: long.events / median(long.seconds.verify!),
  };
}

/** Verifying a folder of replay files (tooltime replay verify DIR/*.ttr), on this thread and on worker threads. */
function verifyFilesTable(plan: Plan, log: Log): ReplayFigures['verifyFilesEventsPerSecond'] {
  const { rounds, sample, passes, warmup } = plan;
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
  return { here: vf.events / here, workers: vf.events / pool, cold: vf.events / vf.coldSeconds };
}
