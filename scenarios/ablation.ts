/**
 * The scenario transforms behind AsyncTool's ablations (`tooltime ablate`): the same instance with
 * every tool's latency scaled, or cut to its first k tasks, each still a valid scenario (so its
 * replay re-runs and re-scores from the header alone, as any other).
 *
 * - `scaleLatency(s, f)`: every tool's `latencyScale` multiplied by `f`. The world draws exactly
 *   what it draws unscaled (the streams are named by the call, not by the scenario, and the scale
 *   is applied to the drawn µs: ToolRuntime.scaleUs), decides the attempt's fate (ok, failure,
 *   timeout) on the unscaled draw, and then multiplies the service time, or the timeout, by `f`
 *   with the engine's rounding rule. So a scaled run meets the same quantiles at `f` times the
 *   durations, and the same failures and timeouts.
 * - `firstTasks(s, k)`: the first k tasks in file order (their arrivals kept), the follow-ups about
 *   them, every tool (the agent's choice of tools does not change with k); the `tasks` tag is k,
 *   tags listing one part per task (`patterns`, `seeds`) keep their first k parts, and `steps`
 *   counts what is left.
 * - `withId(s, id)`: the same scenario under another id (a level's instance in an ablation run).
 *   A scenario's id names no random stream, so the episode is the same.
 */
import { assertInvariant } from '../engine/assert.js';
import { parseCanonicalScenario } from './spec/canonical-scenario.js';
import { LATENCY_SCALE_MAX, LATENCY_SCALE_MIN, type Scenario } from './spec/schema.js';

/** `scenario` with every tool's latency and timeout scaled by `factor` (see above). */
export function scaleLatency(scenario: Scenario, factor: number): Scenario {
  assertInvariant(
    Number.isFinite(factor) && factor >= LATENCY_SCALE_MIN && factor <= LATENCY_SCALE_MAX,
    'scaleLatency',
    `the factor (${factor}) is within [${LATENCY_SCALE_MIN}, ${LATENCY_SCALE_MAX}]`,
  );
  if (factor === 1) return scenario;
  const tools = scenario.tools.map((t) => {
    const scale = (t.latencyScale ?? 1) * factor;
    const { latencyScale: _, ...rest } = t;
    return scale === 1 ? rest : { ...rest, latencyScale: scale };
  });
  return parseCanonicalScenario({ ...scenario, tools }, `scenario ${scenario.id}`);
}

/** Tags whose compound value has one part per task, in task order (the suite's composer writes them so). */
const PER_TASK_TAGS = ['patterns', 'seeds'] as const;

/** The k-task version of `scenario`: its first k tasks and what belongs to them (see above). */
export function firstTasks(scenario: Scenario, k: number): Scenario {
  assertInvariant(
    Number.isSafeInteger(k) && k >= 1 && k <= scenario.tasks.length,
    'firstTasks',
    `k (${k}) is between 1 and the scenario's ${scenario.tasks.length} tasks`,
  );
  if (k === scenario.tasks.length) return scenario;
  const tasks = scenario.tasks.slice(0, k);
  const kept = new Set(tasks.map((t) => t.id));
  const messages = scenario.messages.filter((m) => kept.has(m.task));
  const tags: Record<string, string> = { ...scenario.tags };
  if (tags.tasks !== undefined) tags.tasks = String(k);
  for (const key of PER_TASK_TAGS) {
    const parts = tags[key]?.split('+');
    if (parts !== undefined && parts.length === scenario.tasks.length)
      tags[key] = parts.slice(0, k).join('+');
  }
  if (tags.steps !== undefined) tags.steps = String(stepCount(tasks, messages));
  return parseCanonicalScenario(
    { ...scenario, tags, tasks, messages },
    `scenario ${scenario.id} (first ${k} tasks)`,
  );
}

function stepCount(tasks: Scenario['tasks'], messages: Scenario['messages']): number {
  return (
    tasks.reduce((n, t) => n + t.steps.length, 0) + messages.reduce((n, m) => n + m.steps.length, 0)
  );
}

/** `scenario` under the id `id` (which must be a valid scenario id). */
export function withId(scenario: Scenario, id: string): Scenario {
  if (id === scenario.id) return scenario;
  return parseCanonicalScenario({ ...scenario, id }, `scenario ${id}`);
}
