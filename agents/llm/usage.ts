/**
 * Tokens and cost of a model episode, from its decision notes alone (so stored runs and replays can
 * be re-costed with another price table).
 *
 * Per task: each turn's tokens (and cost) are split equally among the tasks open when the turn
 * started (arrived and not answered since their last request: `observation.openTasks`, recorded
 * in the note); a turn with no open task goes to `unattributed`. So the per-task figures and
 * `unattributed` add up to the episode's totals, and a task that shares the model's attention with
 * two others carries a third of each turn it shared.
 */
import { eventsOfType, type EpisodeEvent } from '../../scenarios/world/events.js';
import type { EpisodeUsage, TokenUsage } from '../../scenarios/experiment.js';
import { notesOf } from './note.js';
import { costUsd, priceFor, type PriceTable } from './price.js';

interface Acc {
  promptTokens: number;
  completionTokens: number;
  costUsd: number | null;
}

const add = (acc: Acc, p: number, c: number, cost: number | null): void => {
  acc.promptTokens += p;
  acc.completionTokens += c;
  acc.costUsd = cost === null ? acc.costUsd : (acc.costUsd ?? 0) + cost;
};

const freeze = (a: Acc): TokenUsage => ({
  promptTokens: a.promptTokens,
  completionTokens: a.completionTokens,
  costUsd: a.costUsd,
});

/** The episode's usage, or null when no decision carries a model note and it did not error as one. */
export function llmUsage(
  events: readonly EpisodeEvent[],
  prices: PriceTable | null = null,
): EpisodeUsage | null {
  const notes = notesOf(events);
  const started = eventsOfType(events, 'episode_started')[0];
  const ended = eventsOfType(events, 'episode_ended')[0];
  const isModel = started?.agent.startsWith('openai:') === true;
  if (notes.length === 0 && !isModel) return null;
  const model =
    notes.find((n) => n.config !== null)?.config?.model ??
    (isModel ? started.agent.slice('openai:'.length) : '');
  const price = priceFor(prices, model);
  const total: Acc = { promptTokens: 0, completionTokens: 0, costUsd: price === null ? null : 0 };
  const unattributed: Acc = {
    promptTokens: 0,
    completionTokens: 0,
    costUsd: price === null ? null : 0,
  };
  const perTask = new Map<string, Acc>();
  const issues = new Map<string, number>();
  let retries = 0;
  let estimatedTurns = 0;
  let latency: number | null = null;
  for (const n of notes) {
    const { promptTokens: p, completionTokens: c } = n.usage;
    const cost = costUsd(price, p, c);
    add(total, p, c, cost);
    if (n.openTasks.length === 0) add(unattributed, p, c, cost);
    const share = n.openTasks.length === 0 ? 0 : 1 / n.openTasks.length;
    for (const t of n.openTasks) {
      let acc = perTask.get(t);
      if (acc === undefined)
        perTask.set(
          t,
          (acc = { promptTokens: 0, completionTokens: 0, costUsd: price === null ? null : 0 }),
        );
      add(acc, p * share, c * share, cost === null ? null : cost * share);
    }
    retries += n.attempts.length;
    if (n.usage.estimated) estimatedTurns++;
    if (n.latencyMs !== null) latency = (latency ?? 0) + n.latencyMs;
    for (const i of n.issues) issues.set(i.kind, (issues.get(i.kind) ?? 0) + 1);
  }
  const tasks: Record<string, TokenUsage> = {};
  for (const t of [...perTask.keys()].sort()) tasks[t] = freeze(perTask.get(t)!);
  const issueCounts: Record<string, number> = {};
  for (const k of [...issues.keys()].sort()) issueCounts[k] = issues.get(k)!;
  return {
    promptTokens: total.promptTokens,
    completionTokens: total.completionTokens,
    costUsd: total.costUsd,
    requests: notes.length,
    retries,
    estimatedTurns,
    latencyMs: latency,
    issues: issueCounts,
    perTask: tasks,
    unattributed: freeze(unattributed),
    error: ended !== undefined && ended.reason === 'errored' ? ended.detail : null,
  };
}

/** Usage summed over episodes (one agent's), for the results table. */
export interface UsageTotals {
  readonly episodes: number;
  readonly errored: number;
  readonly requests: number;
  readonly retries: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly costUsd: number | null;
  readonly issues: number;
}

export function sumUsage(
  records: ReadonlyArray<{ readonly endReason: string; readonly usage?: EpisodeUsage }>,
): UsageTotals {
  let requests = 0;
  let retries = 0;
  let prompt = 0;
  let completion = 0;
  let cost: number | null = null;
  let issues = 0;
  let errored = 0;
  for (const r of records) {
    if (r.endReason === 'errored') errored++;
    const u = r.usage;
    if (u === undefined) continue;
    requests += u.requests;
    retries += u.retries;
    prompt += u.promptTokens;
    completion += u.completionTokens;
    if (u.costUsd !== null) cost = (cost ?? 0) + u.costUsd;
    for (const v of Object.values(u.issues)) issues += v;
  }
  return {
    episodes: records.length,
    errored,
    requests,
    retries,
    promptTokens: prompt,
    completionTokens: completion,
    costUsd: cost,
    issues,
  };
}
