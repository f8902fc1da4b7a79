/**
 * How generated files are written: a fixed key order for every object the scenario format defines
 * (free-form JSON such as parameter schemas, args and results keeps its own order), empty optional
 * arrays left out, and a 2-space pretty printer that keeps a container on one line when it fits in
 * 100 columns. Same input, same bytes.
 */
import type { DistributionSpec } from '../../engine/index.js';
import type { JsonValue, Scenario, Step, Tool } from '../spec/schema.js';

type Json = JsonValue;
type Obj = { [key: string]: Json };

/** Keys of `tags` in this order first; any others after, sorted. */
export const TAG_ORDER = [
  'domains',
  'mix',
  'tasks',
  'patterns',
  'seeds',
  'variant',
  'stress',
  'operators',
  'steps',
] as const;

function orderTags(tags: Record<string, string>): Obj {
  const out: Obj = {};
  for (const k of TAG_ORDER) if (tags[k] !== undefined) out[k] = tags[k];
  for (const k of Object.keys(tags).sort()) if (!(k in out)) out[k] = tags[k]!;
  return out;
}

export function orderSpec(spec: DistributionSpec): Obj {
  switch (spec.kind) {
    case 'constant':
      return { kind: spec.kind, ms: spec.ms };
    case 'uniform':
      return { kind: spec.kind, minMs: spec.minMs, maxMs: spec.maxMs };
    case 'normal':
      return { kind: spec.kind, meanMs: spec.meanMs, sdMs: spec.sdMs };
    case 'lognormal':
      return 'mu' in spec
        ? { kind: spec.kind, mu: spec.mu, sigma: spec.sigma }
        : { kind: spec.kind, medianMs: spec.medianMs, p95Ms: spec.p95Ms };
    case 'exponential':
      return { kind: spec.kind, meanMs: spec.meanMs };
    case 'gamma':
      return { kind: spec.kind, shape: spec.shape, scaleMs: spec.scaleMs };
    case 'pareto':
      return spec.capMs === undefined
        ? { kind: spec.kind, scaleMs: spec.scaleMs, alpha: spec.alpha }
        : { kind: spec.kind, scaleMs: spec.scaleMs, alpha: spec.alpha, capMs: spec.capMs };
    case 'empirical':
      return 'samplesMs' in spec
        ? { kind: spec.kind, samplesMs: [...spec.samplesMs] }
        : { kind: spec.kind, quantiles: spec.quantiles.map((q) => ({ p: q.p, ms: q.ms })) };
    case 'mixture':
      return {
        kind: spec.kind,
        components: spec.components.map((c) => ({ weight: c.weight, dist: orderSpec(c.dist) })),
      };
    case 'shift':
      return { kind: spec.kind, minMs: spec.minMs, dist: orderSpec(spec.dist) };
  }
}

function orderTool(t: Tool): Obj {
  const out: Obj = {
    name: t.name,
    description: t.description,
    parameters: t.parameters,
    latency: orderSpec(t.latency),
  };
  if (t.concurrency !== undefined) out.concurrency = t.concurrency;
  if (t.timeoutMs !== undefined) out.timeoutMs = t.timeoutMs;
  if (t.failure !== undefined) out.failure = { rate: t.failure.rate, message: t.failure.message };
  out.impl =
    t.impl.kind === 'builtin'
      ? { kind: 'builtin', name: t.impl.name }
      : t.impl.kind === 'environment'
        ? { kind: 'environment', environment: t.impl.environment, operation: t.impl.operation }
        : {
            kind: 'table',
            rows: t.impl.rows.map((r) => ({ args: r.args, result: r.result })),
            default:
              'error' in t.impl.default
                ? { error: t.impl.default.error }
                : { result: t.impl.default.result },
          };
  return out;
}

function orderStep(s: Step): Obj {
  const out: Obj = { id: s.id, tool: s.tool, args: s.args };
  if (s.after.length > 0) out.after = [...s.after];
  if (s.inputs.length > 0)
    out.inputs = s.inputs.map((i) => ({ arg: i.arg, from: i.from, path: i.path }));
  return out;
}

/** The scenario as the JSON document a generated file holds (key order fixed, empty arrays dropped). */
export function scenarioDocument(s: Scenario): Obj {
  const out: Obj = {
    format: s.format,
    id: s.id,
    description: s.description,
    tags: orderTags(s.tags),
    tools: s.tools.map(orderTool),
    tasks: s.tasks.map((t) => ({
      id: t.id,
      arrivalMs: t.arrivalMs,
      message: t.message,
      steps: t.steps.map(orderStep),
      answer: { mustContain: [...t.answer.mustContain] },
    })),
  };
  if (s.messages.length > 0) {
    out.messages = s.messages.map((m) => {
      const msg: Obj = { atMs: m.atMs, task: m.task, text: m.text };
      if (m.steps.length > 0) msg.steps = m.steps.map(orderStep);
      if (m.answer !== undefined) msg.answer = { mustContain: [...m.answer.mustContain] };
      return msg;
    });
  }
  out.thinkTime = orderSpec(s.thinkTime);
  out.limits = {
    maxTimeMs: s.limits.maxTimeMs,
    maxDecisions: s.limits.maxDecisions,
    maxCalls: s.limits.maxCalls,
  };
  return out;
}

export const LINE_WIDTH = 100;

function flat(v: Json): string {
  if (Array.isArray(v)) return `[${v.map(flat).join(', ')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v);
    return entries.length === 0
      ? '{}'
      : `{${entries.map(([k, x]) => `${JSON.stringify(k)}: ${flat(x)}`).join(', ')}}`;
  }
  return JSON.stringify(v);
}

function pretty(v: Json, indent: number, lead: number): string {
  const one = flat(v);
  if (v === null || typeof v !== 'object' || indent + lead + one.length <= LINE_WIDTH) return one;
  const pad = ' '.repeat(indent + 2);
  const end = ' '.repeat(indent);
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return `[\n${v.map((x) => pad + pretty(x, indent + 2, 0)).join(',\n')}\n${end}]`;
  }
  const entries = Object.entries(v);
  if (entries.length === 0) return '{}';
  return `{\n${entries.map(([k, x]) => `${pad}${JSON.stringify(k)}: ${pretty(x, indent + 2, JSON.stringify(k).length + 2)}`).join(',\n')}\n${end}}`;
}

/** Pretty JSON text with a trailing newline. */
export function formatJson(value: Json): string {
  return `${pretty(value, 0, 0)}\n`;
}
