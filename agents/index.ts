/**
 * Agents: implementations of the protocol in scenarios/protocol.ts.
 * - baselines.ts: plan-aware scheduling policies (sequential, parallel-sync, greedy-async, round-robin, critical-path);
 * - faulty.ts: failure-mode agents (impatient, forgetful, confused, hasty);
 * - registry.ts: spec strings (`greedy-async:maxInFlight=2`, `openai:gpt-4o-mini`) to agents;
 * - llm/: model agents over any OpenAI-compatible API.
 */
export {
  agentEntries,
  canonicalSpec,
  createAgent,
  type AgentEntry,
  type CreateAgentOptions,
} from './registry.js';
export {
  isModelSpec,
  llmAgentFactory,
  llmUsage,
  makeReplayAgent,
  type LlmOptions,
  type ModelAgentFactory,
} from './llm/index.js';
export { AgentSpecError, type ParamDef } from './spec.js';
export {
  agentMaker,
  isModuleSpec,
  loadAgentModule,
  loadedAgentModule,
  type AgentFactory,
} from './module.js';
export { PlanPolicy, COMMON_PARAMS } from './policy.js';
export { CriticalPath, GreedyAsync, ParallelSync, RoundRobin, Sequential } from './baselines.js';
export { Confused, Forgetful, Hasty, Impatient } from './faulty.js';
