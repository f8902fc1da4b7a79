/**
 * Episode throughput: the default suite run end to end with one agent (world + agent + engine),
 * and the engine's share of that time, measured with V8's sampling CPU profiler: the self time of
 * functions defined in engine/ (and heap-js, its queue) over the total.
 */
import { Session } from 'node:inspector/promises';
import { createAgent } from '../agents/index.js';
import { runEpisode } from '../scenarios/world/world.js';
import { defaultInstances } from '../cli/instances.js';

export interface EpisodeThroughput {
  readonly instances: number;
  readonly episodes: number;
  readonly episodeEvents: number;
  readonly seconds: number;
  readonly episodesPerSecond: number;
}

/** Runs every default-suite instance with `agent` for `rounds` rounds (seeds 1..rounds). */
export async function runSuite(agent: string, rounds: number): Promise<EpisodeThroughput> {
  const instances = defaultInstances(null);
  // One untimed round warms the JIT, as in a long run.
  for (const { scenario } of instances) await runEpisode(scenario, createAgent(agent), { seed: 0 });
  let episodes = 0;
  let episodeEvents = 0;
  const start = process.hrtime.bigint();
  for (let seed = 1; seed <= rounds; seed++) {
    for (const { scenario } of instances) {
      const episode = await runEpisode(scenario, createAgent(agent), { seed });
      episodes++;
      episodeEvents += episode.events.length;
    }
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return {
    instances: instances.length,
    episodes,
    episodeEvents,
    seconds,
    episodesPerSecond: episodes / seconds,
  };
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly url: string; readonly functionName: string };
}

/** Share of CPU samples whose innermost frame is engine code (engine/ or heap-js). */
export async function engineShare(
  agent: string,
  rounds: number,
): Promise<{ share: number; samples: number }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  await runSuite(agent, rounds);
  const { profile } = (await session.post('Profiler.stop')) as {
    profile: { nodes: ProfileNode[]; samples: number[] };
  };
  session.disconnect();
  const isEngine = new Map(
    profile.nodes.map((n) => [n.id, /\/engine\/|heap-js/.test(n.callFrame.url)]),
  );
  const isIdle = new Map(
    profile.nodes.map((n) => [
      n.id,
      n.callFrame.functionName === '(idle)' ||
        n.callFrame.functionName === '(program)' ||
        n.callFrame.functionName === '(garbage collector)',
    ]),
  );
  let engine = 0;
  let counted = 0;
  for (const id of profile.samples) {
    if (isIdle.get(id) === true) continue;
    counted++;
    if (isEngine.get(id) === true) engine++;
  }
  return { share: counted === 0 ? 0 : engine / counted, samples: counted };
}
