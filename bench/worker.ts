/**
 * One benchmark job per process: `node dist/bench/worker.js JOB [ARGS...]` prints one JSON line.
 * Running each job in a fresh process keeps one job's JIT state from skewing another's figures.
 */
import {
  pendingEventBytes,
  runBareHeap,
  runCallbacks,
  runGeneratorHeap,
  runGenerators,
  runShortLived,
  runTypedHeap,
  waitingProcessBytes,
  type WaitingShape,
} from './engine-workload.js';
import { boundTightness } from './bound-workload.js';
import { engineShare, runSuite } from './episodes-workload.js';
import { concurrencyCost, sizeCost } from './scale-workload.js';
import { shrinkTime, stressThroughput } from './stress-workload.js';
import {
  filesystemCosts,
  longEpisode,
  pipelineOverhead,
  recordOverhead,
  replayBytes,
  verifyFilesThroughput,
  verifyThroughput,
} from './replay-workload.js';

type Job = (args: readonly string[]) => unknown;

const PROCESSES = 1000;
const SEED = 7;

export const JOBS: Readonly<Record<string, Job>> = {
  'engine:generators': ([events]) => runGenerators(PROCESSES, Number(events), SEED),
  'engine:generators-heap-js': ([events]) =>
    runGenerators(PROCESSES, Number(events), SEED, 'heap-js'),
  'engine:timeouts': ([events]) =>
    runGenerators(PROCESSES, Number(events), SEED, 'typed', 'timeout'),
  // The hold model with `depth` events pending, after `depth` warm-up events (the starts).
  'engine:deep-generators': ([depth, events]) =>
    runGenerators(Number(depth), Number(events), SEED, 'typed', 'number', Number(depth)),
  'engine:deep-heap-js': ([depth, events]) =>
    runGenerators(Number(depth), Number(events), SEED, 'heap-js', 'number', Number(depth)),
  'engine:deep-typed-heap': ([depth, events]) =>
    runTypedHeap(Number(depth), Number(events), SEED, Number(depth)),
  'engine:deep-generator-heap': ([depth, events]) =>
    runGeneratorHeap(Number(depth), Number(events), SEED, Number(depth)),
  // `depth` events pending, of which 1000 processes busy and the rest asleep (their starts are
  // the warm-up of the engine; the bare heap starts with them asleep and warms up on the busy).
  'engine:asleep-generators': ([depth, events]) =>
    runGenerators(
      PROCESSES,
      Number(events),
      SEED,
      'typed',
      'number',
      Number(depth),
      Number(depth) - PROCESSES,
    ),
  'engine:asleep-heap-js': ([depth, events]) =>
    runGenerators(
      PROCESSES,
      Number(events),
      SEED,
      'heap-js',
      'number',
      Number(depth),
      Number(depth) - PROCESSES,
    ),
  'engine:asleep-typed-heap': ([depth, events]) =>
    runTypedHeap(PROCESSES, Number(events), SEED, PROCESSES, Number(depth) - PROCESSES),
  'engine:asleep-generator-heap': ([depth, events]) =>
    runGeneratorHeap(PROCESSES, Number(events), SEED, PROCESSES, Number(depth) - PROCESSES),
  'engine:waiting-memory': ([shape, count]) =>
    waitingProcessBytes(String(shape) as WaitingShape, Number(count)),
  'engine:callbacks': ([events]) => runCallbacks(PROCESSES, Number(events), SEED),
  'engine:short-lived': ([events]) => runShortLived(Number(events), SEED),
  'engine:bare-heap': ([events]) => runBareHeap(PROCESSES, Number(events), SEED),
  'engine:memory': ([count]) => pendingEventBytes(Number(count)),
  'episodes:throughput': ([agent, rounds]) => runSuite(String(agent), Number(rounds)),
  'episodes:engine-share': ([agent, rounds]) => engineShare(String(agent), Number(rounds)),
  'bound:tightness': ([sample]) => boundTightness(sample === 'all' ? null : Number(sample)),
  'stress:throughput': ([agent, runs]) => stressThroughput(String(agent), Number(runs)),
  'stress:shrink': ([flawed]) => shrinkTime(String(flawed)),
  'replay:bytes': ([rounds, sample]) => replayBytes(Number(rounds), Number(sample)),
  'replay:record': ([passes, rounds, sample, warmup]) =>
    recordOverhead(Number(passes), Number(rounds), Number(sample), Number(warmup)),
  'replay:pipeline': ([passes, rounds, sample, warmup]) =>
    pipelineOverhead(
      Number(passes),
      Number(rounds),
      sample === 'all' ? null : Number(sample),
      Number(warmup),
    ),
  'replay:verify': ([rounds, sample, warmup, passes, part, order]) =>
    verifyThroughput(
      Number(rounds),
      Number(sample),
      Number(warmup),
      Number(passes),
      part === 'codec' ? 'codec' : 'verify',
      order === 'interleaved' ? 'interleaved' : 'runs',
    ),
  'replay:verify-files': ([rounds, sample, passes, workers, warmup]) =>
    verifyFilesThroughput(
      Number(rounds),
      Number(sample),
      Number(passes),
      Number(workers),
      Number(warmup),
    ),
  'replay:long': ([tasks, warmup, passes, part]) =>
    longEpisode(
      Number(tasks),
      Number(warmup),
      Number(passes),
      part === 'codec' ? 'codec' : 'verify',
    ),
  'replay:fs': ([files]) => filesystemCosts(Number(files)),
  'scale:concurrency': ([tasks, steps, minEvents]) =>
    concurrencyCost(Number(tasks), Number(steps), Number(minEvents)),
  'scale:size': ([tasks, steps]) => sizeCost(Number(tasks), Number(steps)),
};

async function main(): Promise<void> {
  const [name, ...args] = process.argv.slice(2);
  const job = name === undefined ? undefined : JOBS[name];
  if (job === undefined) {
    process.stderr.write(
      `bench worker: unknown job ${String(name)}; jobs: ${Object.keys(JOBS).join(', ')}\n`,
    );
    process.exit(1);
  }
  const result = await job(args);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
