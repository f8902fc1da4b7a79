/**
 * Cost against scale: whether an episode's cost per event stays flat as concurrency and scenario
 * size grow (issue 21, "cost linear in events").
 *
 * The scenarios are generated here: `tasks` independent tasks, each a chain of `steps` steps on one
 * tool, step j of every task calling it with the same args `{ n: j }`. So every call matches as many
 * expected steps as there are tasks (the world and scoring must pick one: the worst case for step
 * matching), and with every task arriving at 0 that many chains are in flight at once. (A call
 * made for one task may then be matched to another's step, so scores are not checked: only that
 * every episode completes.) The size rows stagger arrivals instead (a few tasks in flight at a
 * time), so that they measure size alone. Many short chains rather than one long one: a chain of
 * 100k steps would hit the recursion in the plan's remaining-path walk (another issue's fix).
 * Times are CPU time of the process, less swayed than wall time by a shared machine's load.
 */
import { createAgent } from '../agents/index.js';
import { scoreEpisode } from '../scenarios/scoring/index.js';
import { parseScenario } from '../scenarios/spec/validate.js';
import { runEpisode, type Episode } from '../scenarios/world/world.js';
import type { ScenarioInput } from '../scenarios/spec/schema.js';

const AGENT = 'greedy-async';

/** `tasks` chains of `steps` steps; arrivals every `arrivalGapMs` (0: all at once). */
export function scaleScenario(tasks: number, steps: number, arrivalGapMs: number): ScenarioInput {
  const rows = Array.from({ length: steps }, (_, j) => ({
    args: { n: j },
    result: { n: j, status: `ok-${j}` },
  }));
  return {
    format: 'tooltime.scenario/1',
    id: `scale-${tasks}x${steps}`,
    tools: [
      {
        name: 'lookup',
        description: 'Looks a number up.',
        parameters: {
          type: 'object',
          properties: { n: { type: 'integer' } },
          required: ['n'],
          additionalProperties: false,
        },
        latency: { kind: 'lognormal', medianMs: 40, p95Ms: 120 },
        impl: { kind: 'table', rows, default: { error: 'unknown' } },
      },
    ],
    tasks: Array.from({ length: tasks }, (_, i) => ({
      id: `t${i}`,
      arrivalMs: i * arrivalGapMs,
      message: `Look up 0..${steps - 1} in turn (task ${i}).`,
      steps: Array.from({ length: steps }, (_, j) => ({
        id: `s${j}`,
        tool: 'lookup',
        args: { n: j },
        after: j === 0 ? [] : [`s${j - 1}`],
      })),
      answer: { mustContain: [`ok-${steps - 1}`] },
    })),
    thinkTime: { kind: 'constant', ms: 1 },
    limits: { maxTimeMs: 1e9, maxDecisions: 100 * tasks * steps, maxCalls: 10 * tasks * steps },
  };
}

/** CPU seconds (user + system) of this process since `since`: less swayed than wall time by other processes on a shared machine. */
function cpuSeconds(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1e6;
}

export interface ConcurrencyFigures {
  readonly tasks: number;
  readonly episodes: number;
  readonly events: number;
  readonly runSeconds: number;
  readonly scoreSeconds: number;
}

/**
 * Episodes of `tasks` concurrent chains on seeds 1, 2, ... until `minEvents` events have run (so
 * every row runs about as many events, and the per-scenario set-up is shared as in a suite run),
 * then each scored; CPU time of each phase. Before that, as many events again run and scored
 * untimed: a short episode's cost fell fourfold over its first 100,000 events as the JIT warmed,
 * which a single warm-up episode hid.
 */
export async function concurrencyCost(
  tasks: number,
  steps: number,
  minEvents: number,
): Promise<ConcurrencyFigures> {
  const scenario = parseScenario(scaleScenario(tasks, steps, 0));
  const episodes = async (seed: number): Promise<Episode[]> => {
    const out: Episode[] = [];
    for (let events = 0; events < minEvents; events += out.at(-1)!.events.length) {
      out.push(await runEpisode(scenario, createAgent(AGENT), { seed: seed + out.length }));
      if (out.at(-1)!.endReason !== 'completed')
        throw new Error(`scale bench: ${scenario.id} ended ${out.at(-1)!.endReason}`);
    }
    return out;
  };
  for (const e of await episodes(1_000_000)) scoreEpisode(scenario, e.events);
  let t = process.cpuUsage();
  const timed = await episodes(1);
  const runSeconds = cpuSeconds(t);
  t = process.cpuUsage();
  for (const e of timed) scoreEpisode(scenario, e.events);
  const scoreSeconds = cpuSeconds(t);
  const events = timed.reduce((n, e) => n + e.events.length, 0);
  return { tasks, episodes: timed.length, events, runSeconds, scoreSeconds };
}

export interface SizeFigures {
  readonly steps: number;
  readonly events: number;
  readonly validateSeconds: number;
  readonly runSeconds: number;
  readonly scoreSeconds: number;
}

/** One scenario of `tasks` x `steps` steps, arrivals staggered: validated, run and scored once each. */
export async function sizeCost(tasks: number, steps: number): Promise<SizeFigures> {
  // Warm the JIT on a smaller scenario of the same shape first (a cold first validation of 10k
  // steps took 2.5 times as long as the next one).
  const small = parseScenario(scaleScenario(1000, steps, 20));
  scoreEpisode(small, (await runEpisode(small, createAgent(AGENT), { seed: 0 })).events);
  const doc = scaleScenario(tasks, steps, 20);
  let t = process.cpuUsage();
  const scenario = parseScenario(doc);
  const validateSeconds = cpuSeconds(t);
  t = process.cpuUsage();
  const episode = await runEpisode(scenario, createAgent(AGENT), { seed: 1 });
  const runSeconds = cpuSeconds(t);
  if (episode.endReason !== 'completed')
    throw new Error(`scale bench: ${scenario.id} ended ${episode.endReason}`);
  t = process.cpuUsage();
  scoreEpisode(scenario, episode.events);
  const scoreSeconds = cpuSeconds(t);
  return {
    steps: tasks * steps,
    events: episode.events.length,
    validateSeconds,
    runSeconds,
    scoreSeconds,
  };
}
