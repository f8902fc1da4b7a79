/**
 * How tight the oracle's lower bound is: every baseline on the default suite (or an even sample),
 * seed 1, each episode's bound / makespan. The bound holds for every legal agent (hedging ones and
 * ones stating a zero think time included), so a baseline that pays the scenario's sampled think
 * time on every decision cannot come near 1.0; the best baseline's mean says how much room is left.
 */
import { agentEntries, createAgent } from '../agents/index.js';
import { defaultInstances } from '../cli/instances.js';
import { runExperiment } from '../scenarios/experiment.js';

export interface BoundTightness {
  readonly instances: number;
  /** Per baseline: mean bound/makespan over its successful episodes, and their number. */
  readonly agents: ReadonlyArray<{
    readonly agent: string;
    readonly meanRatio: number | null;
    readonly n: number;
    readonly successWeighted: number | null;
  }>;
}

export async function boundTightness(sample: number | null): Promise<BoundTightness> {
  const instances = defaultInstances(sample);
  const agents = agentEntries()
    .filter((e) => e.kind === 'baseline')
    .map((e) => e.name);
  const result = await runExperiment({
    instances,
    agents,
    seeds: [1],
    mode: 'async',
    delivery: 'push',
    makeAgent: (spec) => createAgent(spec),
  });
  return {
    instances: instances.length,
    agents: result.summaries.map(({ agent, summary }) => ({
      agent,
      meanRatio: summary.metrics.boundRatioOfSuccesses.mean,
      n: summary.metrics.boundRatioOfSuccesses.n,
      successWeighted: summary.metrics.successWeightedBoundRatio.mean,
    })),
  };
}
