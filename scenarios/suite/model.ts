/**
 * The generator's working model: the catalogue of seed tasks and tools it draws from, the draft
 * instance every operator transforms, the two tools the generator itself owns, and small pure
 * helpers the operators share (a step's expected result, reportable leaf values, a task's expected
 * critical path, rounding).
 *
 * A draft is a parsed `Scenario` (every default filled in) plus `meta`: where each task came from
 * and what was done to it. Operators never mutate their input: each clones the draft first.
 */
import {
  compileDistribution,
  type DistributionSpec,
  type RandomStream,
} from '../../engine/index.js';
import { getBuiltin } from '../spec/builtins.js';
import { canonicalJson } from '../spec/canonical.js';
import { inArrivalOrder } from '../spec/message-order.js';
import { loadDomains, type Domain, type SeedPattern, type SeedTask } from './domains.js';
import {
  SCENARIO_FORMAT,
  type JsonValue,
  type Scenario,
  type Step,
  type Task,
  type Tool,
} from '../spec/schema.js';

/** Every seed task and tool the generator may use, indexed. */
export interface Catalog {
  readonly domains: readonly Domain[];
  readonly toolByName: ReadonlyMap<string, Tool>;
  /** Domain slug of each domain tool. */
  readonly toolDomain: ReadonlyMap<string, string>;
  readonly seedById: ReadonlyMap<string, SeedTask>;
}

/** The catalogue built from `domains` (default: every shipped domain). */
export function buildCatalog(domains: readonly Domain[] = loadDomains()): Catalog {
  const toolByName = new Map<string, Tool>();
  const toolDomain = new Map<string, string>();
  const seedById = new Map<string, SeedTask>();
  for (const domain of domains) {
    for (const tool of domain.tools) {
      if (GENERATOR_TOOL_NAMES.includes(tool.name))
        throw new Error(
          `domain ${domain.slug}: tool ${tool.name} clashes with a generator-owned tool`,
        );
      if (toolByName.has(tool.name)) throw new Error(`tool ${tool.name} is defined in two domains`);
      toolByName.set(tool.name, tool);
      toolDomain.set(tool.name, domain.slug);
    }
    for (const seed of domain.seeds) {
      if (seedById.has(seed.task.id)) throw new Error(`seed task id ${seed.task.id} is used twice`);
      seedById.set(seed.task.id, seed);
    }
  }
  return { domains, toolByName, toolDomain, seedById };
}

/** Where a task of a draft came from. */
export interface TaskOrigin {
  /** The task's id in the draft (the seed id, suffixed when two tasks share a seed). */
  readonly id: string;
  readonly seed: string;
  readonly domain: string;
  readonly pattern: SeedPattern;
}

export type Variant = 'base' | 'fast' | 'slow' | 'heavy-tail' | 'one-slow-tool';
export const VARIANTS: readonly Variant[] = ['base', 'fast', 'slow', 'heavy-tail', 'one-slow-tool'];

export type Stress = 'none' | 'concurrency' | 'failures' | 'concurrency+failures';
export const STRESSES: readonly Stress[] = [
  'none',
  'concurrency',
  'failures',
  'concurrency+failures',
];

/** Operator names as they appear in the `operators` tag, in pipeline order. */
export const OPERATOR_ORDER = [
  'compose',
  'deepen',
  'widen',
  'latency',
  'concurrency',
  'failures',
  'stagger',
  'followup',
] as const;
export type OperatorName = (typeof OPERATOR_ORDER)[number];

export interface DraftMeta {
  readonly tasks: readonly TaskOrigin[];
  /** Operators applied so far, in order. */
  readonly operators: readonly OperatorName[];
  readonly variant: Variant;
  /** Tools a stress or variant operator singled out, by role (`slow`, `concurrency`, `failures`). */
  readonly touched: Readonly<Record<string, string>>;
  /** One clause per operator, joined into the description. */
  readonly notes: readonly string[];
}

export interface Draft {
  readonly scenario: Scenario;
  readonly meta: DraftMeta;
}

/** A deep copy of a draft (operators work on copies: they are pure). */
export function cloneDraft(draft: Draft): {
  scenario: Scenario;
  meta: {
    tasks: TaskOrigin[];
    operators: OperatorName[];
    variant: Variant;
    touched: Record<string, string>;
    notes: string[];
  };
} {
  return structuredClone(draft) as never;
}

// ---- Think time and the generator's own tools.

/** The think time every generated instance declares: a model's decision time. */
export const THINK_TIME: DistributionSpec = { kind: 'lognormal', medianMs: 800, p95Ms: 3000 };

export const RECORD_NOTE = 'record_note';
export const FORWARD_RESULT = 'forward_result';
export const GENERATOR_TOOL_NAMES: readonly string[] = [RECORD_NOTE, FORWARD_RESULT];

/** The generator-owned tools with no rows yet (deepen and follow-up add one row per step). */
export function generatorTool(name: string): Tool {
  if (name === RECORD_NOTE) {
    return {
      name: RECORD_NOTE,
      description:
        'Store a value in the shared run notebook under a label; returns the id of the new note.',
      parameters: {
        type: 'object',
        properties: {
          label: { type: 'string', description: 'Label to file the note under' },
          value: { description: 'The value to store: any JSON value' },
        },
        required: ['label', 'value'],
        additionalProperties: false,
      },
      latency: { kind: 'shift', minMs: 20, dist: { kind: 'lognormal', medianMs: 150, p95Ms: 900 } },
      impl: {
        kind: 'table',
        rows: [],
        default: {
          error: 'record_note: unexpected label or value: check both against the request',
        },
      },
    };
  }
  if (name === FORWARD_RESULT) {
    return {
      name: FORWARD_RESULT,
      description: 'Forward a value to a colleague by e-mail; returns the delivery id.',
      parameters: {
        type: 'object',
        properties: {
          recipient: { type: 'string', description: 'E-mail address of the colleague' },
          value: { description: 'The value to forward: any JSON value' },
        },
        required: ['recipient', 'value'],
        additionalProperties: false,
      },
      latency: {
        kind: 'shift',
        minMs: 50,
        dist: { kind: 'lognormal', medianMs: 400, p95Ms: 2000 },
      },
      impl: {
        kind: 'table',
        rows: [],
        default: { error: 'forward_result: unknown recipient or unexpected value' },
      },
    };
  }
  throw new Error(`no generator tool ${name}`);
}

// ---- Random helpers (all draws go through a named stream).

/** Uniform real in [lo, hi). */
export function uniform(stream: RandomStream, lo: number, hi: number): number {
  return lo + stream.double() * (hi - lo);
}

/** One element, uniformly. */
export function pick<T>(stream: RandomStream, items: readonly T[]): T {
  if (items.length === 0) throw new Error('pick from an empty list');
  return items[stream.int(items.length)]!;
}

/** A shuffled copy (Fisher-Yates, from the back). */
export function shuffled<T>(stream: RandomStream, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = stream.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** `x` with `digits` significant digits (keeps generated numbers short and stable). */
export function sig(x: number, digits = 4): number {
  return Number(x.toPrecision(digits));
}

/** Milliseconds rounded to the microsecond. */
export function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

// ---- Results, leaves, durations.

/** What a step's call returns when it succeeds (table row or default, or the builtin), or undefined on an error. */
export function stepResult(tool: Tool, args: Record<string, JsonValue>): JsonValue | undefined {
  const impl = tool.impl;
  if (impl.kind === 'table') {
    const key = canonicalJson(args);
    const row = impl.rows.find((r) => canonicalJson(r.args) === key);
    if (row !== undefined) return row.result;
    return 'result' in impl.default ? impl.default.result : undefined;
  }
  if (impl.kind === 'environment') return undefined; // its result depends on the state
  const builtin = getBuiltin(impl.name);
  if (builtin === undefined) return undefined;
  try {
    return builtin.run(args);
  } catch {
    return undefined;
  }
}

export interface Leaf {
  /** Dotted path into the result (`''`: the result itself). */
  readonly path: string;
  readonly value: string | number;
}

/**
 * Values an operator may pass on or ask about: strings of 3-80 characters and finite numbers, at
 * most 4 levels deep, the first 3 items of each array, keys without dots; in document order.
 */
export function reportableLeaves(result: JsonValue | undefined): Leaf[] {
  const out: Leaf[] = [];
  const walk = (v: JsonValue, path: string, depth: number): void => {
    if (typeof v === 'string') {
      if (v.length >= 3 && v.length <= 80) out.push({ path, value: v });
      return;
    }
    if (typeof v === 'number') {
      if (Number.isFinite(v)) out.push({ path, value: v });
      return;
    }
    if (v === null || typeof v === 'boolean' || depth >= 4) return;
    const join = (k: string): string => (path === '' ? k : `${path}.${k}`);
    if (Array.isArray(v)) {
      v.slice(0, 3).forEach((item, i) => {
        walk(item, join(String(i)), depth + 1);
      });
      return;
    }
    for (const [k, item] of Object.entries(v)) {
      if (k === '' || k.includes('.')) continue;
      walk(item, join(k), depth + 1);
    }
  };
  if (result !== undefined) walk(result, '', 0);
  return out;
}

/** Mean of a latency spec in milliseconds (1000 when the mean is infinite). */
export function meanMs(spec: DistributionSpec): number {
  const mean = compileDistribution(spec).meanUs;
  return mean === null ? 1000 : mean / 1000;
}

/**
 * The expected critical path of a set of steps, in ms: the heaviest dependency chain, each step
 * weighing its tool's mean latency plus one mean think time (the agent decides before each call).
 * Only `after` edges between the given steps count.
 */
export function expectedCriticalPathMs(
  steps: readonly Step[],
  tools: readonly Tool[],
  thinkMeanMs: number,
): number {
  const latency = new Map(tools.map((t) => [t.name, meanMs(t.latency)]));
  const byId = new Map(steps.map((s) => [s.id, s]));
  const memo = new Map<string, number>();
  const finish = (s: Step, depth: number): number => {
    const hit = memo.get(s.id);
    if (hit !== undefined) return hit;
    if (depth > steps.length) throw new Error(`dependency cycle through ${s.id}`);
    let start = 0;
    for (const d of s.after) {
      const dep = byId.get(d);
      if (dep !== undefined) start = Math.max(start, finish(dep, depth + 1));
    }
    const end = start + (latency.get(s.tool) ?? 0) + thinkMeanMs;
    memo.set(s.id, end);
    return end;
  };
  let best = 0;
  for (const s of steps) best = Math.max(best, finish(s, 0));
  return best;
}

/** Mean think time of a scenario in ms. */
export function thinkMeanMs(scenario: Scenario): number {
  return meanMs(scenario.thinkTime);
}

/** Every step of a scenario: tasks' own steps, then follow-up steps, with the owning task. */
export function allSteps(
  scenario: Scenario,
): Array<{ task: string; step: Step; message: number | null }> {
  const out: Array<{ task: string; step: Step; message: number | null }> = [];
  for (const t of scenario.tasks)
    for (const s of t.steps) out.push({ task: t.id, step: s, message: null });
  scenario.messages.forEach((m, i) => {
    for (const s of m.steps) out.push({ task: m.task, step: s, message: i });
  });
  return out;
}

/** A step id not yet used in task `taskId` (own and follow-up steps): `base1`, `base2`, ... */
export function freshStepId(scenario: Scenario, taskId: string, base: string): string {
  const used = new Set(
    allSteps(scenario)
      .filter((x) => x.task === taskId)
      .map((x) => x.step.id),
  );
  for (let k = 1; ; k++) if (!used.has(`${base}${k}`)) return `${base}${k}`;
}

/** Steps of `task` that no other own step of the task waits for. */
export function sinkSteps(task: Task): Step[] {
  const needed = new Set(task.steps.flatMap((s) => s.after));
  return task.steps.filter((s) => !needed.has(s.id));
}

/** How a text refers to a step's call: `the copy_file call (source: /var/log/x.log)`. */
export function callPhrase(step: Step): string {
  const first = Object.entries(step.args).find(
    ([, v]) => typeof v === 'string' || typeof v === 'number',
  );
  if (first === undefined) return `the ${step.tool} call`;
  let value = String(first[1]);
  if (value.length > 48) value = `${value.slice(0, 45)}...`;
  return `the ${step.tool} call (${first[0]}: ${value})`;
}

/** `"matches.0" of its result`, or `its result` for the empty path. */
export function pathPhrase(path: string): string {
  return path === '' ? 'its result' : `the "${path}" field of its result`;
}

/** The answer the task currently expects at the end: its last follow-up's answer (in arrival order), else its own. */
export function currentAnswer(scenario: Scenario, taskId: string): string[] {
  const task = scenario.tasks.find((t) => t.id === taskId);
  if (task === undefined) throw new Error(`no task ${taskId}`);
  let answer = task.answer.mustContain;
  for (const m of inArrivalOrder(scenario.messages))
    if (m.task === taskId && m.answer !== undefined) answer = m.answer.mustContain;
  return [...answer];
}

/** An empty scenario shell with the generator's defaults. */
export function emptyScenario(): Scenario {
  return {
    format: SCENARIO_FORMAT,
    id: 'draft',
    description: '',
    tags: {},
    tools: [],
    tasks: [],
    messages: [],
    thinkTime: THINK_TIME,
    limits: { maxTimeMs: 3_600_000, maxDecisions: 500, maxCalls: 500 },
  };
}
