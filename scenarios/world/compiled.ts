/**
 * What every episode on a scenario shares, built once per scenario object: its plan and its tool
 * runtimes (compiled parameter validators, lookup tables, latency samplers). Both are immutable,
 * so the world, the oracle, scoring, replays and plan-aware agents can share them; building them
 * anew per episode was most of the cost of a short episode.
 *
 * Keyed by object identity in a WeakMap: a scenario that is dropped takes its entry with it.
 * Timed as whole commands on the default suite (7,200 episodes, five pairs of fresh processes,
 * CPU user + system) with each call building anew: `tooltime run --out DIR` took 1.70x
 * (1.56-1.87) and `tooltime replay verify DIR/replays` 1.50x (1.45-1.68); bench/RESULTS.md.
 */
import { compileDistribution, type Distribution } from '../../engine/index.js';
import { Plan } from './plan.js';
import type { ToolInfo } from '../protocol.js';
import type { Scenario } from '../spec/schema.js';
import { CallKeys, ToolRuntime } from '../spec/tools.js';
import { EnvironmentLayout } from './environments.js';

export interface CompiledScenario {
  readonly plan: Plan;
  readonly tools: ReadonlyMap<string, ToolRuntime>;
  /** The scenario's own think time distribution. */
  readonly think: Distribution;
  /** The tools as every observation lists them. */
  readonly toolInfo: readonly ToolInfo[];
  /** The keys of its calls' random streams, kept across episodes. */
  readonly callKeys: CallKeys;
  /** Its stateful tools and which instance a call acts on. */
  readonly environments: EnvironmentLayout;
}

const cache = new WeakMap<Scenario, CompiledScenario>();

export function compiledScenario(scenario: Scenario): CompiledScenario {
  let hit = cache.get(scenario);
  if (hit === undefined) {
    const environments = new EnvironmentLayout(scenario);
    hit = {
      plan: new Plan(scenario),
      tools: new Map(scenario.tools.map((t) => [t.name, new ToolRuntime(t)])),
      think: compileDistribution(scenario.thinkTime),
      // A stateful tool may list the parameter that names its task (environments.ts).
      toolInfo: scenario.tools.map((t) =>
        environments.toolInfo({
          name: t.name,
          description: t.description,
          parameters: t.parameters,
        }),
      ),
      callKeys: new CallKeys(scenario.tools.map((t) => t.name)),
      environments,
    };
    cache.set(scenario, hit);
  }
  return hit;
}

/** The scenario's plan (shared; see compiledScenario). */
export function planOf(scenario: Scenario): Plan {
  return compiledScenario(scenario).plan;
}
