/**
 * The simulated world an agent acts in: `runEpisode` (world.ts: the agent's decision loop, tool
 * calls, messages arriving), think time (think-time.ts), a call's latency draw (call-latency.ts),
 * the plan of expected steps and which step a call performs (plan.ts), their progress as an agent
 * knows it (tracker.ts), what "ready" and "dependency violation" mean (readiness.ts,
 * dependency-violation.ts), a scenario compiled once (compiled.ts), and the events an episode
 * emits (events.ts). The agent protocol is ../protocol.ts.
 */
export { AgentError, runEpisode, type Episode, type EpisodeOptions } from './world.js';
export {
  eventsOfType,
  type EndReason,
  type EpisodeEvent,
  type EpisodeEventType,
  type LimitName,
} from './events.js';
export { Plan, type PlanMessage, type PlanStep, type PlanTask } from './plan.js';
export { PlanTracker, type StepStatus } from './tracker.js';
export { compiledScenario, planOf, type CompiledScenario } from './compiled.js';
