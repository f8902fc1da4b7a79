/**
 * The simulated world an agent acts in: `runEpisode` (world.ts: the agent's decision loop with its
 * think time, tool calls with their latency drawn per call, messages arriving), the plan of expected
 * steps (plan.ts) and their progress (tracker.ts), a scenario compiled once (compiled.ts), and the
 * events an episode emits (events.ts). The agent protocol is ../protocol.ts.
 */
export { AgentError, runEpisode, type Episode, type EpisodeOptions } from './world.js';
export { eventsOfType, type EndReason, type EpisodeEvent, type EpisodeEventType, type LimitName } from './events.js';
export { Plan, type PlanMessage, type PlanStep, type PlanTask } from './plan.js';
export { PlanTracker, type StepStatus } from './tracker.js';
export { compiledScenario, planOf, type CompiledScenario } from './compiled.js';
