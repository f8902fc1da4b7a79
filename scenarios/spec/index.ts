/**
 * The scenario format: its types and zod schema (schema.ts), the JSON Schema published from it
 * (json-schema.ts), validation with one problem per line (validate.ts), loading files and folders
 * (load.ts), canonical JSON and a scenario's canonical form (canonical.ts, canonical-scenario.ts),
 * and what a scenario's tools mean: args checks, table rows and builtins (tools.ts, builtins.ts).
 */
export { SCENARIO_FORMAT, scenarioSchema, scenarioJsonSchema } from './schema.js';
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
} from './schema.js';
export {
  formatProblem,
  parseScenario,
  ScenarioError,
  validateScenario,
  type Problem,
} from './validate.js';
export {
  examplesDir,
  expandScenarioPaths,
  loadScenarioFile,
  loadScenarios,
  readJsonFile,
} from './load.js';
export { scenarioJsonSchemaText, writeScenarioJsonSchema } from './json-schema.js';
export { canonicalJson, canonicalize, canonEqual, jsonEqual } from './canonical.js';
export { canonicalScenario, parseCanonicalScenario } from './canonical-scenario.js';
export { builtinNames, getBuiltin, type Builtin } from './builtins.js';
export { ToolRuntime, type Outcome } from './tools.js';
export {
  environmentTools,
  goalAt,
  referenceStates,
  type EnvironmentToolOptions,
} from './authoring.js';
