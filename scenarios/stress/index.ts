/**
 * Stress testing a policy: random well-formed scenarios as fast-check arbitraries (arbitrary.ts)
 * and the checks every episode must pass (checks.ts: liveness, dependencies, capacity,
 * starvation, efficiency against the episode's prompt schedule, prompt-schedule.ts). The runner
 * that shrinks a failure is cli/stress-runner.ts.
 */
export {
  caseSize,
  caseToScenario,
  stressCaseArb,
  type StressCase,
  type StressCaseOptions,
} from './arbitrary.js';
export {
  CHECK_DEFINITIONS,
  CHECK_NAMES,
  runChecks,
  type CheckName,
  type CheckOptions,
  type EpisodeUnderCheck,
  type Violation,
} from './checks.js';
