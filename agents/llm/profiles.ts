/**
 * Think-time profiles: how long a model turn takes in simulated time, per model.
 *
 * A turn lasts `ttftMs` (fixed overhead: network, queueing, time to first token) + prompt tokens ×
 * `prefillUsPerToken` + completion tokens / `decodeTokensPerS` (see think.ts). The figures below
 * are round planning assumptions of the order published providers and common local setups show,
 * not measurements; set your own with `--think-profile`, or use `--think wall` to take each
 * request's measured latency instead.
 *
 * | model (prefix)  | ttftMs | prefillUsPerToken | decodeTokensPerS | setting                   |
 * |-----------------|-------:|-------------------:|-----------------:|---------------------------|
 * | (default)       |    500 |                100 |               50 | unknown model             |
 * | gpt-4o-mini     |    350 |                 40 |               90 | hosted, small             |
 * | gpt-4o          |    450 |                 60 |               70 | hosted, large             |
 * | gpt-4.1-nano    |    300 |                 30 |              120 | hosted, smallest          |
 * | gpt-4.1-mini    |    350 |                 40 |               90 | hosted, small             |
 * | gpt-4.1         |    450 |                 60 |               70 | hosted, large             |
 * | qwen2.5:7b      |    150 |                400 |               45 | local 7-8B, one GPU       |
 * | qwen2.5         |    200 |                600 |               35 | local, other sizes        |
 * | llama3.1:8b     |    150 |                400 |               45 | local 7-8B, one GPU       |
 * | llama3.2:3b     |    100 |                200 |               80 | local 3B                  |
 * | mistral         |    150 |                400 |               45 | local 7B                  |
 *
 * A model name matches the longest prefix in the table, compared in lower case after any
 * `provider/` part (`openai/gpt-4o-mini` on OpenRouter matches `gpt-4o-mini`); `qwen2.5-7b-instruct`
 * style names (vLLM) match the `qwen2.5:7b` row too (`-` and `:` are treated alike).
 */
import { AgentSpecError } from '../spec.js';

export interface ThinkProfile {
  /** Fixed time per turn, ms. */
  readonly ttftMs: number;
  /** Prompt processing time per prompt token, µs. */
  readonly prefillUsPerToken: number;
  /** Generation speed, completion tokens per second. */
  readonly decodeTokensPerS: number;
}

export const DEFAULT_PROFILE: ThinkProfile = {
  ttftMs: 500,
  prefillUsPerToken: 100,
  decodeTokensPerS: 50,
};

export const PROFILES: ReadonlyArray<{ readonly prefix: string; readonly profile: ThinkProfile }> =
  [
    {
      prefix: 'gpt-4o-mini',
      profile: { ttftMs: 350, prefillUsPerToken: 40, decodeTokensPerS: 90 },
    },
    { prefix: 'gpt-4o', profile: { ttftMs: 450, prefillUsPerToken: 60, decodeTokensPerS: 70 } },
    {
      prefix: 'gpt-4.1-nano',
      profile: { ttftMs: 300, prefillUsPerToken: 30, decodeTokensPerS: 120 },
    },
    {
      prefix: 'gpt-4.1-mini',
      profile: { ttftMs: 350, prefillUsPerToken: 40, decodeTokensPerS: 90 },
    },
    { prefix: 'gpt-4.1', profile: { ttftMs: 450, prefillUsPerToken: 60, decodeTokensPerS: 70 } },
    {
      prefix: 'qwen2.5:7b',
      profile: { ttftMs: 150, prefillUsPerToken: 400, decodeTokensPerS: 45 },
    },
    { prefix: 'qwen2.5', profile: { ttftMs: 200, prefillUsPerToken: 600, decodeTokensPerS: 35 } },
    {
      prefix: 'llama3.1:8b',
      profile: { ttftMs: 150, prefillUsPerToken: 400, decodeTokensPerS: 45 },
    },
    {
      prefix: 'llama3.2:3b',
      profile: { ttftMs: 100, prefillUsPerToken: 200, decodeTokensPerS: 80 },
    },
    { prefix: 'mistral', profile: { ttftMs: 150, prefillUsPerToken: 400, decodeTokensPerS: 45 } },
  ];

const norm = (s: string): string => s.toLowerCase().replaceAll('-', ':');

/** The table's profile for a model name (longest matching prefix), else the default. */
export function profileFor(model: string): ThinkProfile {
  const name = norm(model.slice(model.lastIndexOf('/') + 1));
  let best: { prefix: string; profile: ThinkProfile } | null = null;
  for (const row of PROFILES) {
    if (
      name.startsWith(norm(row.prefix)) &&
      (best === null || row.prefix.length > best.prefix.length)
    )
      best = row;
  }
  return best?.profile ?? DEFAULT_PROFILE;
}

const KEYS = ['ttftMs', 'prefillUsPerToken', 'decodeTokensPerS'] as const;

/** Parses `ttftMs=300,prefillUsPerToken=50,decodeTokensPerS=80` (any subset) into overrides. */
export function parseThinkProfile(text: string): Partial<ThinkProfile> {
  const out: { -readonly [K in keyof ThinkProfile]?: number } = {};
  for (const part of text.split(',')) {
    const [key, raw, extra] = part.split('=').map((s) => s.trim());
    if (key === undefined || raw === undefined || extra !== undefined || key === '')
      throw new AgentSpecError(
        `--think-profile: "${part}" is not key=value (keys: ${KEYS.join(', ')})`,
      );
    if (!(KEYS as readonly string[]).includes(key))
      throw new AgentSpecError(`--think-profile: unknown key "${key}" (keys: ${KEYS.join(', ')})`);
    const value = Number(raw);
    if (
      raw === '' ||
      !Number.isFinite(value) ||
      value < 0 ||
      (key === 'decodeTokensPerS' && value === 0)
    ) {
      throw new AgentSpecError(
        `--think-profile: ${key} must be a ${key === 'decodeTokensPerS' ? 'positive' : 'non-negative'} number, got "${raw}"`,
      );
    }
    out[key as keyof ThinkProfile] = value;
  }
  return out;
}

/** The model's profile with overrides applied. */
export function resolveProfile(model: string, overrides: Partial<ThinkProfile> = {}): ThinkProfile {
  const base = profileFor(model);
  return {
    ttftMs: overrides.ttftMs ?? base.ttftMs,
    prefillUsPerToken: overrides.prefillUsPerToken ?? base.prefillUsPerToken,
    decodeTokensPerS: overrides.decodeTokensPerS ?? base.decodeTokensPerS,
  };
}
