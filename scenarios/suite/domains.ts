/**
 * The twelve tool domains and their hand-written seed tasks.
 *
 * Each `scenarios/domains/<slug>.domain.json` holds one domain: its tools (latency profile, concurrency,
 * failures, table or built-in implementation), one line per tool on why its latency profile fits,
 * and seed tasks labelled with their dependency pattern (chain, fan-out, fan-in, diamond). Tool
 * names and task ids are unique across all domains, so instances can compose tasks of different
 * domains into one scenario without clashes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { scenariosPath } from '../package.js';
import {
  SCENARIO_FORMAT,
  taskSchema,
  toolSchema,
  type ScenarioInput,
  type Task,
  type Tool,
} from '../spec/schema.js';

export type SeedPattern = 'chain' | 'fan-out' | 'fan-in' | 'diamond';
export const SEED_PATTERNS: readonly SeedPattern[] = ['chain', 'fan-out', 'fan-in', 'diamond'];

export interface SeedTask {
  readonly domain: string;
  readonly pattern: SeedPattern;
  readonly task: Task;
}

export interface Domain {
  readonly slug: string;
  readonly title: string;
  readonly description: string;
  readonly latencyNotes: Readonly<Record<string, string>>;
  readonly tools: readonly Tool[];
  readonly seeds: readonly SeedTask[];
}

const domainFileSchema = z
  .object({
    domain: z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be a lower-case slug'),
    title: z.string().min(1),
    description: z.string().min(1),
    latencyNotes: z.record(z.string(), z.string().min(1)),
    tools: z.array(toolSchema).min(1),
    seeds: z
      .array(
        z
          .object({ pattern: z.enum(['chain', 'fan-out', 'fan-in', 'diamond']), task: taskSchema })
          .strict(),
      )
      .min(1),
  })
  .strict();

/** `tools[3].latency.kind` from zod's path array. */
function jsonPath(keys: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const key of keys)
    out += typeof key === 'number' ? `[${key}]` : `${out === '' ? '' : '.'}${String(key)}`;
  return out === '' ? '(root)' : out;
}

/** Parse one domain file's text; `file` names it in errors. */
export function parseDomain(file: string, text: string): Domain {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(
      `${file}: not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const parsed = domainFileSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues
      .slice(0, 5)
      .map((issue) => `${file}: ${jsonPath(issue.path)}: ${issue.message}`);
    const more =
      parsed.error.issues.length > 5 ? `\n(${parsed.error.issues.length - 5} more problems)` : '';
    throw new Error(lines.join('\n') + more);
  }
  const doc = parsed.data;
  const names = new Set<string>();
  doc.tools.forEach((tool, i) => {
    if (names.has(tool.name))
      throw new Error(`${file}: tools[${i}].name: tool ${tool.name} is defined twice`);
    names.add(tool.name);
  });
  for (const key of Object.keys(doc.latencyNotes)) {
    if (!names.has(key)) throw new Error(`${file}: latencyNotes.${key}: no tool of that name`);
  }
  doc.seeds.forEach((seed, i) => {
    seed.task.steps.forEach((step, j) => {
      if (!names.has(step.tool))
        throw new Error(
          `${file}: seeds[${i}].task.steps[${j}].tool: no tool ${step.tool} in this domain`,
        );
    });
  });
  return {
    slug: doc.domain,
    title: doc.title,
    description: doc.description,
    latencyNotes: doc.latencyNotes,
    tools: doc.tools,
    seeds: doc.seeds.map((seed) => ({
      domain: doc.domain,
      pattern: seed.pattern,
      task: seed.task,
    })),
  };
}

let cache: readonly Domain[] | undefined;

/** Every domain under `scenarios/domains/`, in file-name order (parsed once, then cached). */
export function loadDomains(): Domain[] {
  if (cache === undefined) {
    const dir = scenariosPath('domains');
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.domain.json'))
      .sort();
    const domains: Domain[] = [];
    const toolOwner = new Map<string, string>();
    const taskOwner = new Map<string, string>();
    for (const file of files) {
      const domain = parseDomain(file, readFileSync(join(dir, file), 'utf8'));
      if (`${domain.slug}.domain.json` !== file)
        throw new Error(`${file}: domain: "${domain.slug}" does not match the file name`);
      for (const tool of domain.tools) {
        const other = toolOwner.get(tool.name);
        if (other !== undefined)
          throw new Error(`${file}: tool ${tool.name} is also defined in ${other}`);
        toolOwner.set(tool.name, file);
      }
      for (const seed of domain.seeds) {
        const other = taskOwner.get(seed.task.id);
        if (other !== undefined)
          throw new Error(`${file}: task id ${seed.task.id} is also used in ${other}`);
        taskOwner.set(seed.task.id, file);
      }
      domains.push(domain);
    }
    cache = domains;
  }
  return [...cache];
}

/** The domain called `slug`, or undefined. */
export function getDomain(slug: string): Domain | undefined {
  return loadDomains().find((d) => d.slug === slug);
}

/** A one-task scenario running `seed` alone with just the tools it uses. */
export function seedScenario(domain: Domain, seed: SeedTask): ScenarioInput {
  const used = new Set(seed.task.steps.map((step) => step.tool));
  return {
    format: SCENARIO_FORMAT,
    id: `seed-${seed.task.id}`,
    description: `${domain.title} seed ${seed.task.id} (${seed.pattern})`,
    tags: { domain: domain.slug, pattern: seed.pattern },
    tools: domain.tools.filter((tool) => used.has(tool.name)),
    tasks: [seed.task],
  };
}
