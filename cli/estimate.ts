/**
 * `tooltime run --dry-run`: how many episodes a run has and what its model agents may cost, from
 * the price table, without calling anything. The token count is a rough model of a run, stated
 * so (ESTIMATE_RULE): one request per expected step and one per answer, plus one; each request
 * sends the system prompt, the tool schemas and the task messages, plus the transcript so far
 * (TRANSCRIPT_TOKENS per earlier request), and gets COMPLETION_TOKENS back.
 */
import {
  estimateTokens,
  modelOf,
  parsePrice,
  priceFor,
  systemPrompt,
  type PriceTable,
} from '../agents/llm/index.js';
import { isModelSpec } from '../agents/index.js';
import type { ExperimentInstance } from '../scenarios/experiment.js';
import type { Delivery, Mode } from '../scenarios/protocol.js';
import type { Scenario } from '../scenarios/spec/schema.js';

const TRANSCRIPT_TOKENS = 120;
const COMPLETION_TOKENS = 80;
export const ESTIMATE_RULE = `requests = steps + tasks + 1; each sends the system prompt, tools and messages plus ${TRANSCRIPT_TOKENS} tokens per earlier request, and gets ${COMPLETION_TOKENS} back`;

/** Estimated tokens of one model episode on `scenario`. */
export function episodeTokens(
  scenario: Scenario,
  mode: Mode,
  delivery: Delivery,
): { requests: number; promptTokens: number; completionTokens: number } {
  const steps =
    scenario.tasks.reduce((n, t) => n + t.steps.length, 0) +
    (scenario.messages ?? []).reduce((n, m) => n + m.steps.length, 0);
  const requests = steps + scenario.tasks.length + 1;
  const base = estimateTokens(
    systemPrompt(mode, delivery) +
      JSON.stringify(scenario.tools) +
      scenario.tasks.map((t) => t.message).join('\n'),
  );
  const promptTokens = requests * base + (TRANSCRIPT_TOKENS * requests * (requests - 1)) / 2;
  return { requests, promptTokens, completionTokens: requests * COMPLETION_TOKENS };
}

export interface DryRun {
  readonly episodes: number;
  readonly modelEpisodes: number;
  readonly requests: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  /** Null when no model agent runs; a model without a price counts nothing (see `unpriced`). */
  readonly costUsd: number | null;
  readonly unpriced: readonly string[];
}

export function dryRun(
  instances: readonly ExperimentInstance[],
  agents: readonly string[],
  seeds: number,
  world: { mode: Mode; delivery: Delivery },
  price: string | undefined,
): DryRun {
  const table: PriceTable | null = price === undefined ? null : parsePrice(price);
  const models = agents.filter(isModelSpec);
  let requests = 0;
  let promptTokens = 0;
  let completionTokens = 0;
  let cost = 0;
  const unpriced = new Set<string>();
  for (const { scenario } of instances) {
    const t = episodeTokens(scenario, world.mode, world.delivery);
    for (const spec of models) {
      requests += t.requests * seeds;
      promptTokens += t.promptTokens * seeds;
      completionTokens += t.completionTokens * seeds;
      const p = priceFor(table, modelOf(spec));
      if (p === null) unpriced.add(modelOf(spec));
      else cost += (seeds * (t.promptTokens * p.in + t.completionTokens * p.out)) / 1e6;
    }
  }
  return {
    episodes: instances.length * agents.length * seeds,
    modelEpisodes: instances.length * models.length * seeds,
    requests,
    promptTokens,
    completionTokens,
    costUsd: models.length === 0 ? null : cost,
    unpriced: [...unpriced],
  };
}

export function formatDryRun(d: DryRun): string {
  const lines = [
    `${d.episodes} episode(s) to run${d.modelEpisodes === 0 ? ', none by a model agent: no cost' : `, ${d.modelEpisodes} by model agents`}`,
  ];
  if (d.modelEpisodes > 0) {
    lines.push(
      `estimated ${d.requests} requests, ${d.promptTokens} prompt and ${d.completionTokens} completion tokens (rough: ${ESTIMATE_RULE})`,
    );
    lines.push(
      `estimated cost: $${(d.costUsd ?? 0).toFixed(2)}${d.unpriced.length === 0 ? '' : ` (no price for ${d.unpriced.join(', ')}: give --price)`}`,
    );
  }
  return `${lines.join('\n')}\nnothing was run (--dry-run)\n`;
}
