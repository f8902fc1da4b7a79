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
  readonly eventsPerSecond: Readonly<Record<'generators' | 'generators-heap-js' | 'callbacks' | 'bare-heap', number>>;
  readonly bytesPerPendingEvent: number;
}

export function benchEngine(options: BenchOptions = {}): EngineFigures {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const events = options.quick === true ? 400_000 : 2_000_000;
  const repetitions = options.quick === true ? 1 : 5;
  const variants = ['generators', 'generators-heap-js', 'callbacks', 'bare-heap'] as const;
  const samples: Record<(typeof variants)[number], number[]> = { generators: [], 'generators-heap-js': [], callbacks: [], 'bare-heap': [] };
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
  const eps = { generators: median(samples.generators), 'generators-heap-js': median(samples['generators-heap-js']), callbacks: median(samples.callbacks), 'bare-heap': median(samples['bare-heap']) };
  const pendingCount = 1_000_000;
  const memory = runJob<{ bytesPerEvent: number }>('engine:memory', [pendingCount], ['--expose-gc']);
  log(`Engine: 1000 processes looping timeout(exponential, mean 1 s), ${events.toLocaleString('en-US')} events, median of ${repetitions}, each run in its own process`);
  log(
    table(
      ['variant', 'M events/s', 'ratio to (c)', 'target'],
      [
        ['(a) engine, generator processes', (eps.generators / 1e6).toFixed(2), (eps.generators / eps['bare-heap']).toFixed(2), '>= 5 M/s, >= 0.80'],
        ['(a2) the same on heap-js (why engine/heap.ts)', (eps['generators-heap-js'] / 1e6).toFixed(2), (eps['generators-heap-js'] / eps['bare-heap']).toFixed(2), ''],
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

export interface ReplayFigures {
  readonly bytesPerEvent: Readonly<Record<string, number>>;
  readonly recordingOverhead: { readonly memory: number; readonly file: number };
  readonly verifyEventsPerSecond: number;
  readonly longVerifyEventsPerSecond: number;
  /** `tooltime run --out`: recording to memory, and to one file per episode, over no recording. */
  readonly pipelineOverhead: { readonly memory: number; readonly file: number };
  /** Verifying a folder of replay files: on this thread, and on 2 started worker threads. */
  readonly verifyFilesEventsPerSecond: { readonly here: number; readonly workers: number };
}

export function benchReplay(options: BenchOptions = {}): ReplayFigures {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const quick = options.quick === true;
  const rounds = quick ? 1 : 3;
  const sample = quick ? 24 : 72;
  type Bytes = { sets: Array<{ name: string; episodes: number; events: number; recordBytes: number; headerBytes: number; maxBytesPerEvent: number }> };
  const bytes = runJob<Bytes>('replay:bytes', [rounds, sample]);
  log(`Replays: greedy-async, async/push, seeds 1..${rounds}; each job in its own process`);
  log(
    table(
      ['workload', 'episodes', 'events', 'B/event (records)', 'worst episode', 'header B (mean)', 'target'],
      bytes.sets.map((x) => [x.name, String(x.episodes), String(x.events), (x.recordBytes / x.events).toFixed(2), (x.maxBytesPerEvent).toFixed(2), (x.headerBytes / x.episodes).toFixed(0), '<= 24 B/event']),
    ),
  );

  // Recording overhead: the three variants in interleaved passes in one process, medians.
  const passes = quick ? 3 : 7;
  const rec = runJob<{ episodes: number; events: number; seconds: Record<'plain' | 'memory' | 'file', number[]> }>('replay:record', [passes, rounds, sample]);
  const { events, episodes } = rec;
  const sec = { plain: median(rec.seconds.plain), memory: median(rec.seconds.memory), file: median(rec.seconds.file) };
  const repetitions = passes;
  const fs = runJob<{ createUs: number; writeUs: number }>('replay:fs', [quick ? 200 : 1000]);
  const over = (x: number) => `${(((x - sec.plain) / sec.plain) * 100).toFixed(0)}%`;
  log(`Recording overhead: the same ${episodes} episodes (${events.toLocaleString('en-US')} events) with and without a recorder, median of ${repetitions} interleaved passes in one process`);
  log(
    table(
      ['variant', 'seconds', 'events/s', 'overhead', 'target'],
      [
        ['no recording', sec.plain.toFixed(3), (events / sec.plain).toFixed(0), '-', ''],
        ['recording to memory (encoding only)', sec.memory.toFixed(3), (events / sec.memory).toFixed(0), over(sec.memory), '<= 25%'],
        ['streaming to a new file per episode', sec.file.toFixed(3), (events / sec.file).toFixed(0), over(sec.file), '<= 25%'],
      ],
    ),
  );
  const perEpisodeUs = Math.max(0, ((sec.file - sec.memory) / episodes) * 1e6);
  log(`  the file variant pays ${perEpisodeUs.toFixed(0)} µs per episode over memory; on this machine creating a file costs ${fs.createUs.toFixed(0)} µs and one write ${fs.writeUs.toFixed(2)} µs (files are written at every decision, by design: a killed run leaves every decision written)`);

  // The same, as a user pays it: `tooltime run --out DIR` (oracle, sequential reference, scoring, results written).
  const pipeSample = quick ? 24 : 72;
  const pipe = runJob<{ episodes: number; seconds: Record<'plain' | 'memory' | 'file', number[]> }>('replay:pipeline', [passes, rounds, pipeSample]);
  const ps = { plain: median(pipe.seconds.plain), memory: median(pipe.seconds.memory), file: median(pipe.seconds.file) };
  const pover = (x: number) => `${(((x - ps.plain) / ps.plain) * 100).toFixed(0)}%`;
  log(`Recording overhead in the run pipeline: tooltime run --sample ${pipeSample} --seeds 1..${rounds} --out DIR (every baseline: ${pipe.episodes} episodes), median of ${passes} interleaved passes in one process`);
  log(
    table(
      ['variant', 'seconds', 'episodes/s', 'overhead', 'target'],
      [
        ['no recording (results written)', ps.plain.toFixed(3), (pipe.episodes / ps.plain).toFixed(0), '-', ''],
        ['recording each episode to memory', ps.memory.toFixed(3), (pipe.episodes / ps.memory).toFixed(0), pover(ps.memory), '<= 25%'],
        ['one new replay file per episode (--out)', ps.file.toFixed(3), (pipe.episodes / ps.file).toFixed(0), pover(ps.file), ''],
      ],
    ),
  );
  const pipeFileUs = Math.max(0, ((ps.file - ps.memory) / pipe.episodes) * 1e6);
  log(`  files cost ${pipeFileUs.toFixed(0)} µs per episode over memory: the filesystem's (file creation ${fs.createUs.toFixed(0)} µs here, above)`);

  // Verify throughput.
  type Ver = { episodes: number; events: number; verifySeconds: number; readSeconds: number; rerunSeconds: number; compareSeconds: number; decodeSeconds: number; encodeSeconds: number; plainRunSeconds: number };
  const v = runJob<Ver>('replay:verify', [rounds, sample]);
  type Long = { events: number; recordBytes: number; verifySeconds: number; rerunSeconds: number; plainRunSeconds: number; decodeSeconds: number; encodeSeconds: number };
  const long = runJob<Long>('replay:long', [quick ? 100 : 200]);
  const rate = (n: number, s: number) => `${(n / s / 1e6).toFixed(2)} M`;
  log('Verify: re-run from the header + byte comparison; decode (readReplay) and encode (encodeReplay) alone for comparison');
  log(
    table(
      ['workload', 'events', 'verify events/s', 're-run share', 'plain run events/s', 'decode events/s', 'encode events/s', 'target'],
      [
        [`${v.episodes} short episodes`, String(v.events), rate(v.events, v.verifySeconds), `${((v.rerunSeconds / v.verifySeconds) * 100).toFixed(0)}%`, rate(v.events, v.plainRunSeconds), rate(v.events, v.decodeSeconds), rate(v.events, v.encodeSeconds), '>= 1 M verify'],
        [`one long episode (${(long.recordBytes / long.events).toFixed(1)} B/event)`, String(long.events), rate(long.events, long.verifySeconds), `${((long.rerunSeconds / long.verifySeconds) * 100).toFixed(0)}%`, rate(long.events, long.plainRunSeconds), rate(long.events, long.decodeSeconds), rate(long.events, long.encodeSeconds), ''],
      ],
    ),
  );
  log('  verify is bound by the re-run: the world and the agent, not the replay codec (compare "plain run events/s").');

  // Verifying a folder of replay files (tooltime replay verify DIR/*.ttr), on this thread and on worker threads.
  const workers = 2;
  const vf = runJob<{ files: number; events: number; workers: number; hereSeconds: number[]; poolSeconds: number[]; coldSeconds: number }>('replay:verify-files', [rounds, sample, quick ? 3 : 5, workers]);
  const here = median(vf.hereSeconds);
  const pool = median(vf.poolSeconds);
  log(`Verify files: ${vf.files} replay files of the workload above (${vf.events.toLocaleString('en-US')} events) read and verified, median of ${vf.hereSeconds.length} interleaved passes after a warm-up`);
  log(
    table(
      ['variant', 'seconds', 'verify events/s', 'speed-up', 'target'],
      [
        ['this thread', here.toFixed(3), rate(vf.events, here), '1.00', ''],
        [`${vf.workers} worker threads (started)`, pool.toFixed(3), rate(vf.events, pool), (here / pool).toFixed(2), '>= 1 M verify'],
        [`${vf.workers} worker threads, cold (as one CLI call: start-up included)`, vf.coldSeconds.toFixed(3), rate(vf.events, vf.coldSeconds), (here / vf.coldSeconds).toFixed(2), ''],
      ],
    ),
  );
  const bytesPerEvent: Record<string, number> = {};
  for (const x of bytes.sets) bytesPerEvent[x.name] = x.recordBytes / x.events;
  return {
    bytesPerEvent,
    recordingOverhead: { memory: (sec.memory - sec.plain) / sec.plain, file: (sec.file - sec.plain) / sec.plain },
    verifyEventsPerSecond: v.events / v.verifySeconds,
    longVerifyEventsPerSecond: long.events / long.verifySeconds,
    pipelineOverhead: { memory: (ps.memory - ps.plain) / ps.plain, file: (ps.file - ps.plain) / ps.plain },
    verifyFilesEventsPerSecond: { here: vf.events / here, workers: vf.events / pool },
  };
}

export function runBench(options: BenchOptions = {}): void {
  benchEngine(options);
  process.stdout.write('\n');
  benchEpisodes(options);
  process.stdout.write('\n');
  benchStress(options);
  process.stdout.write('\n');
  benchReplay(options);
}
