/**
 * tooltime as a library: `import { runEpisode, createAgent, scoreEpisode } from 'tooltime'`.
 *
 * The curated entry point for scripting runs from TypeScript or JavaScript; docs/API.md documents
 * every name here and a test holds the two lists equal. The discrete-event engine on its own is the
 * `tooltime/engine` subpath (engine/index.ts). Nothing else is public: tuning constants and the
 * modules behind these names may change without notice.
 *
 * A minimal run:
 *   const scenario = loadScenarioFile(join(examplesDir(), 'chain.json'));
 *   const episode = await runEpisode(scenario, createAgent('greedy-async'), { seed: 1 });
 *   const score = scoreEpisode(scenario, episode.events);
 *
 * This module sits above every layer (like cli/) and holds no code of its own.
 */

// Scenarios: the format, validation, loading, the shipped examples and suite.
export type {
  AnswerSpec,
  FollowUp,
  JsonValue,
  Limits,
  Scenario,
  ScenarioInput,
  Step,
  StepInput,
  Task,
  Tool,
  ToolImpl,
  EnvironmentDecl,
  GoalCheck,
} from './scenarios/spec/schema.js';
export { environmentTools, goalAt, referenceStates } from './scenarios/spec/authoring.js';
export {
  ScenarioError,
  parseScenario,
  validateScenario,
  type Problem,
} from './scenarios/spec/validate.js';
export { examplesDir, loadScenarioFile, loadScenarios } from './scenarios/spec/load.js';
export { loadSuite, sampleSuite, shippedSuiteDir } from './scenarios/suite/files.js';

// The agent protocol: what an agent sees and what it does.
export type {
  Action,
  Agent,
  AgentContext,
  Decision,
  Delivered,
  Delivery,
  Mode,
  Observation,
  OpenTask,
  PendingCall,
  ToolInfo,
} from './scenarios/protocol.js';

// Running an episode.
export {
  AgentError,
  runEpisode,
  type Episode,
  type EpisodeOptions,
} from './scenarios/world/world.js';
export type {
  EndReason,
  EpisodeEvent,
  EpisodeEventType,
  LimitName,
} from './scenarios/world/events.js';

// Scoring and aggregation (definitions: scenarios/scoring/METRICS.md).
export { scoreEpisode } from './scenarios/scoring/episode.js';
export { aggregate } from './scenarios/scoring/aggregate.js';
export {
  computeOracle,
  type OracleOptions,
  type OracleReport,
  type RealizedStep,
} from './scenarios/scoring/oracle.js';
export type {
  CallScore,
  CallVerdict,
  EfficiencyScores,
  EpisodeCounts,
  EpisodeScore,
  InstanceSummary,
  ScoreReference,
  ScoredEpisode,
  Stat,
  StepScores,
  SuiteMetrics,
  SuiteSummary,
  TaskScore,
} from './scenarios/scoring/types.js';

// Experiments: agents x instances x seeds, scored and summarised.
export { runExperiment } from './scenarios/experiment.js';
export type {
  AgentSummary,
  EpisodeKey,
  EpisodeRecord,
  EpisodeRecorder,
  EpisodeUsage,
  ExperimentInstance,
  ExperimentOptions,
  ExperimentResult,
  TokenUsage,
} from './scenarios/experiment.js';

// Agents from a spec string (`greedy-async:maxInFlight=2`, `./my-policy.mjs`, `openai:MODEL`).
export {
  agentEntries,
  canonicalSpec,
  createAgent,
  type AgentEntry,
  type CreateAgentOptions,
} from './agents/registry.js';
export { agentMaker, type AgentFactory } from './agents/module.js';
export { AgentSpecError, type ParamDef, type ParamKind, type ParamValues } from './agents/spec.js';
export { llmAgentFactory, type LlmOptions, type ModelAgentFactory } from './agents/llm/setup.js';

// Replays: record an episode, read it back, verify it re-runs to the same bytes.
export { ReplayError } from './replays/format/format.js';
export type { ForkOrigin, ReplayHeader } from './replays/format/header.js';
export {
  recordEpisode,
  type RecordOptions,
  type RecordingSummary,
  type ReplaySink,
} from './replays/io/recorder.js';
export {
  readReplay,
  readReplayFile,
  type ReadOptions,
  type ReplayRead,
  type ReplaySizes,
} from './replays/io/reader.js';
export {
  verifyReplay,
  type Divergence,
  type VerifyOptions,
  type VerifyResult,
  type VerifyTiming,
} from './replays/commands/verify.js';
export {
  verifyReplayFiles,
  type FileVerdict,
  type VerifyFilesOptions,
} from './replays/commands/verify-files.js';
