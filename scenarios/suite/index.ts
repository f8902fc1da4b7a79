/**
 * The AsyncTool instance generator ("hybrid data evolution") and the shipped suite.
 *
 * Seed tasks from the twelve domains are composed into instances of two or three concurrent
 * sub-tasks, evolved by seeded operators (deepen, widen, latency variants, concurrency limits,
 * transient failures, stagger, follow-up), filtered (valid, no near-duplicates) and balanced over
 * strata. OPERATORS.md documents every operator's exact effect; `tooltime generate` runs it and
 * `tooltime suite stats` describes a suite.
 */
export { compose } from './compose.js';
export {
  applyVariant,
  deepen,
  followup,
  injectFailures,
  limitConcurrency,
  stagger,
  widen,
  FAILURE_RANGE,
  FAST_RANGE,
  FOLLOWUP_RANGE,
  HEAVY_ALPHA_RANGE,
  ONE_SLOW_RANGE,
  RECIPIENTS,
  SLOW_RANGE,
  STAGGER_RANGE,
} from './operators.js';
export { heavyTailSpec, scaleSpec, HEAVY_TAIL_CAP_MEANS } from './latency-specs.js';
export { dropNearDuplicates, structureHash, structureOf } from './filter.js';
export {
  balancedCombos,
  pickSeeds,
  planSlots,
  planStrata,
  SeedUsage,
  stratumCandidates,
} from './balance.js';
export type { Mix, Shape, Slot, Stratum } from './balance.js';
export {
  evolve,
  finalize,
  generate,
  instanceId,
  MAX_ATTEMPTS,
  SUITE_FORMAT,
  SUITE_NAME,
} from './generate.js';
export type { DropCounts, GenerateOptions, GeneratedInstance, GenerateResult } from './generate.js';
export { formatJson, scenarioDocument } from './format.js';
export {
  buildCatalog,
  expectedCriticalPathMs,
  FORWARD_RESULT,
  GENERATOR_TOOL_NAMES,
  meanMs,
  OPERATOR_ORDER,
  RECORD_NOTE,
  reportableLeaves,
  stepResult,
  STRESSES,
  THINK_TIME,
  thinkMeanMs,
  VARIANTS,
} from './model.js';
export type {
  Catalog,
  Draft,
  DraftMeta,
  OperatorName,
  Stress,
  TaskOrigin,
  Variant,
} from './model.js';
export {
  indexDocument,
  loadSuite,
  regenerateCommand,
  sampleIds,
  sampleSuite,
  shippedSuiteDir,
  suiteFiles,
  suiteTags,
  writeSuite,
  INDEX_FILE,
} from './files.js';
export { formatSuiteStats, suiteStats, SuiteStatsError, THRESHOLDS } from './stats.js';
export type { BalanceCheck, DimensionStats, SuiteStats } from './stats.js';
export {
  generateStateful,
  loadStatefulSeeds,
  lossySeeds,
  parseStatefulSeeds,
  planStatefulSlots,
  seedGoal,
  shippedStatefulSuiteDir,
  statefulIndex,
  statefulSeedScenario,
  writeStatefulSuite,
  STATEFUL_SUITE_NAME,
  STATEFUL_SUITE_SEED,
} from './stateful.js';
export type { StatefulInstance, StatefulSeed, StatefulSeedFile, StatefulSlot } from './stateful.js';
export { doubleVisible, LOSSY_TRIS, planLossySlots } from './lossy.js';
