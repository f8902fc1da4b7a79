/**
 * Scenarios: what an agent is tested on, the world it acts in, and how it is scored.
 *
 * - spec/: the scenario format (types, validation, loading, canonical forms, tools' meaning)
 * - world/: the simulated world (runEpisode: think time, call latency, messages), plan, tracker
 * - protocol.ts: what the world and an agent say to each other (Agent, Observation, Decision)
 * - scoring/: scores of an episode and a suite (METRICS.md), the oracle
 * - experiment.ts: agents x instances x seeds, run, scored and summarized
 * - suite/: the AsyncTool suite generator (domains, operators, balance) and suites on disk
 * - stress/: random scenarios and the checks a policy must pass
 * - package.ts: the installed package (root, version, shipped data)
 * Data: examples/, suites/, domains/*.json and scenario.schema.json sit here as files.
 */
export * as spec from './spec/index.js';
export * as world from './world/index.js';
export * as scoring from './scoring/index.js';
export * as suite from './suite/index.js';
export * as stress from './stress/index.js';
export type {
  Action,
  Agent,
  AgentContext,
  Decision,
  Delivered,
  Delivery,
  Mode,
  Observation,
} from './protocol.js';
export {
  runExperiment,
  type AgentSummary,
  type ExperimentInstance,
  type ExperimentOptions,
  type ExperimentResult,
} from './experiment.js';
export { scenarioSchema, type Scenario } from './spec/schema.js';
export { loadScenarioFile, loadScenarios } from './spec/load.js';
export { parseScenario, validateScenario, ScenarioError } from './spec/validate.js';
export { runEpisode, type Episode, type EpisodeOptions } from './world/world.js';
export type { EpisodeEvent } from './world/events.js';
export { aggregate, scoreEpisode, type EpisodeScore, type SuiteSummary } from './scoring/index.js';
export { packageRoot, packageVersion } from './package.js';
