/**
 * The evolution operators after compose (see OPERATORS.md for each one's exact effect).
 *
 * Each is a pure function `(draft, stream[, ...]) => draft | null`: it copies its input, draws only
 * from the stream it is given, and returns null when it does not apply to the draft (say, no tool
 * is used by two steps for `concurrency`); the pipeline then tries another candidate.
 */
import type { RandomStream } from '../../engine/index.js';
import { canonicalJson } from '../spec/canonical.js';
import { inArrivalOrder } from '../spec/message-order.js';
import type { JsonValue, Scenario, Step, Tool } from '../spec/schema.js';
import { heavyTailSpec, scaleSpec } from './latency-specs.js';
import {
  allSteps,
  callPhrase,
  cloneDraft,
  currentAnswer,
  expectedCriticalPathMs,
  FORWARD_RESULT,
  freshStepId,
  GENERATOR_TOOL_NAMES,
  generatorTool,
  pathPhrase,
  pick,
  RECORD_NOTE,
  reportableLeaves,
  roundMs,
  sig,
  sinkSteps,
  stepResult,
  thinkMeanMs,
  uniform,
  type Catalog,
  type Draft,
  type Leaf,
  type Variant,
} from './model.js';

// ---- Ranges the operators draw from (the tests and OPERATORS.md quote these).

export const STAGGER_RANGE = [0.1, 0.9] as const;
export const FOLLOWUP_RANGE = [0.2, 0.8] as const;
export const FAST_RANGE = [0.25, 0.5] as const;
export const SLOW_RANGE = [2, 4] as const;
export const HEAVY_ALPHA_RANGE = [1.2, 1.6] as const;
export const ONE_SLOW_RANGE = [8, 15] as const;
export const FAILURE_RANGE = [0.2, 0.4] as const;
export const RECIPIENTS: readonly string[] = [
  'ana.ruiz@ops.example',
  'ben.okafor@ops.example',
  'chen.li@ops.example',
  'dara.nolan@ops.example',
  'eli.sato@ops.example',
];

function toolOf(scenario: Scenario, name: string): Tool {
  const tool = scenario.tools.find((t) => t.name === name);
  if (tool === undefined) throw new Error(`no tool ${name} in the draft`);
  return tool;
}

/** The generator tool `name` in the scenario, added (with no rows) if absent. */
function ensureGeneratorTool(scenario: Scenario, name: string): Tool & { impl: { kind: 'table' } } {
  let tool = scenario.tools.find((t) => t.name === name);
  if (tool === undefined) {
    tool = generatorTool(name);
    scenario.tools.push(tool);
  }
  if (tool.impl.kind !== 'table') throw new Error(`${name} is not a table tool`);
  return tool as Tool & { impl: { kind: 'table' } };
}

/** An id `PREFIX-NNNNNN` not yet a result id of `rows` (key `field`). */
function freshReceipt(
  stream: RandomStream,
  prefix: string,
  rows: ReadonlyArray<{ result: JsonValue }>,
  field: string,
): string {
  const used = new Set(
    rows.map((r) =>
      r.result !== null && typeof r.result === 'object' && !Array.isArray(r.result)
        ? String(r.result[field])
        : '',
    ),
  );
  for (;;) {
    const id = `${prefix}-${100000 + stream.int(900000)}`;
    if (!used.has(id)) return id;
  }
}

function sentence(text: string, addition: string): string {
  return `${text.trimEnd()} ${addition}`;
}

/** Domain steps of a list with their reportable leaves (generator steps are never a source). */
function sources(
  scenario: Scenario,
  steps: readonly Step[],
): Array<{ step: Step; leaves: Leaf[] }> {
  const out: Array<{ step: Step; leaves: Leaf[] }> = [];
  for (const step of steps) {
    if (GENERATOR_TOOL_NAMES.includes(step.tool)) continue;
    const leaves = reportableLeaves(stepResult(toolOf(scenario, step.tool), step.args));
    if (leaves.length > 0) out.push({ step, leaves });
  }
  return out;
}

// ---- deepen

/**
 * Adds one `record_note` step to one task: it waits for a sink step S of the task (a step no other
 * step of the task waits for) and stores a value of S's result (`inputs: value <- S.path`) under
 * the label `TASK/noteK`; a new table row answers exactly those args with a fresh note id, which
 * joins the task's expected answer (and every follow-up answer of the task). The task's message
 * gains one sentence asking for it. Draws: task, sink, leaf, note id.
 */
export function deepen(draft: Draft, stream: RandomStream): Draft | null {
  const out = cloneDraft(draft);
  const s = out.scenario;
  const candidates = s.tasks
    .map((task) => ({ task, sinks: sources(s, sinkSteps(task)) }))
    .filter((c) => c.sinks.length > 0);
  if (candidates.length === 0) return null;
  const { task, sinks } = pick(stream, candidates);
  const source = pick(stream, sinks);
  const leaf = pick(stream, source.leaves);
  const id = freshStepId(s, task.id, 'note');
  const label = `${task.id}/${id}`;
  const tool = ensureGeneratorTool(s, RECORD_NOTE);
  const noteId = freshReceipt(stream, 'NOTE', tool.impl.rows, 'noteId');
  tool.impl.rows.push({
    args: { label, value: leaf.value },
    result: { noteId, label, status: 'stored' },
  });
  task.steps.push({
    id,
    tool: RECORD_NOTE,
    args: { label, value: leaf.value },
    after: [source.step.id],
    inputs: [{ arg: 'value', from: source.step.id, path: leaf.path }],
  });
  task.message = sentence(
    task.message,
    `Once you have ${callPhrase(source.step)}, store ${pathPhrase(leaf.path)} with record_note under the label "${label}" and give me the note id.`,
  );
  task.answer = { mustContain: [...task.answer.mustContain, noteId] };
  for (const m of s.messages)
    if (m.task === task.id && m.answer !== undefined)
      m.answer = { mustContain: [...m.answer.mustContain, noteId] };
  out.meta.operators.push('deepen');
  out.meta.notes.push(
    `deepened ${task.id}: ${id} records ${source.step.id}.${leaf.path === '' ? '(result)' : leaf.path}`,
  );
  return out;
}

// ---- widen

/**
 * Adds one independent step (no `after`, no `inputs`) to one task: a root step (one with no
 * dependencies) of another seed task of the same domain, with the same tool and args (so an
 * existing table row answers it), never a call already in the instance. The task's message asks
 * for one reportable value of its result (a string one when there is any, else a number), which joins the task's expected answer. The tool is
 * added to the instance if it was not there. Draws: task, candidate step, leaf.
 */
export function widen(draft: Draft, stream: RandomStream, catalog: Catalog): Draft | null {
  const out = cloneDraft(draft);
  const s = out.scenario;
  const present = new Set(
    allSteps(s).map((x) => `${x.step.tool}\u0000${canonicalJson(x.step.args)}`),
  );
  const candidates: Array<{ taskIndex: number; step: Step; tool: Tool; leaves: Leaf[] }> = [];
  out.meta.tasks.forEach((origin, taskIndex) => {
    const domain = catalog.domains.find((d) => d.slug === origin.domain);
    if (domain === undefined) return;
    for (const seed of domain.seeds) {
      if (seed.task.id === origin.seed) continue;
      for (const step of seed.task.steps) {
        if (step.after.length > 0) continue;
        const key = `${step.tool}\u0000${canonicalJson(step.args)}`;
        if (present.has(key)) continue;
        present.add(key); // one candidate per call, even when two seeds share it
        const tool = catalog.toolByName.get(step.tool);
        if (tool === undefined) continue;
        const all = reportableLeaves(stepResult(tool, step.args));
        const strings = all.filter((l) => typeof l.value === 'string');
        const leaves = strings.length > 0 ? strings : all;
        if (leaves.length > 0) candidates.push({ taskIndex, step, tool, leaves });
      }
    }
  });
  if (candidates.length === 0) return null;
  const taskIndexes = [...new Set(candidates.map((c) => c.taskIndex))];
  const taskIndex = pick(stream, taskIndexes);
  const chosen = pick(
    stream,
    candidates.filter((c) => c.taskIndex === taskIndex),
  );
  const leaf = pick(stream, chosen.leaves);
  const task = s.tasks[taskIndex]!;
  const id = freshStepId(s, task.id, 'side');
  task.steps.push({
    id,
    tool: chosen.step.tool,
    args: structuredClone(chosen.step.args),
    after: [],
    inputs: [],
  });
  if (!s.tools.some((t) => t.name === chosen.tool.name)) s.tools.push(structuredClone(chosen.tool));
  const argsText = Object.entries(chosen.step.args)
    .map(([k, v]) => `${k} ${typeof v === 'string' ? `"${v}"` : JSON.stringify(v)}`)
    .join(', ');
  const what = chosen.tool.description.replace(/\.\s*$/, '');
  task.message = sentence(
    task.message,
    `Separately, call ${chosen.tool.name} (${what.charAt(0).toLowerCase()}${what.slice(1)}) with ${argsText}, and tell me ${pathPhrase(leaf.path)}.`,
  );
  const value = String(leaf.value);
  task.answer = { mustContain: [...task.answer.mustContain, value] };
  for (const m of s.messages)
    if (m.task === task.id && m.answer !== undefined)
      m.answer = { mustContain: [...m.answer.mustContain, value] };
  out.meta.operators.push('widen');
  out.meta.notes.push(`widened ${task.id}: independent ${id} calls ${chosen.tool.name}`);
  return out;
}

// ---- stagger

/**
 * Tasks after the first arrive while the first is in flight: with E the first task's expected
 * critical path (`expectedCriticalPathMs`: mean latency plus mean think time per step on the
 * heaviest chain) and a0 its arrival, task k >= 1 arrives at a0 + u_k * E, the u_k drawn uniformly
 * in [0.1, 0.9] and sorted ascending (so tasks keep their order), rounded to the microsecond.
 * Draws: one per later task.
 */
export function stagger(draft: Draft, stream: RandomStream): Draft | null {
  const out = cloneDraft(draft);
  const s = out.scenario;
  if (s.tasks.length < 2) return null;
  const first = s.tasks[0]!;
  const e = expectedCriticalPathMs(first.steps, s.tools, thinkMeanMs(s));
  const us = s.tasks
    .slice(1)
    .map(() => uniform(stream, STAGGER_RANGE[0], STAGGER_RANGE[1]))
    .sort((a, b) => a - b);
  const notes: string[] = [];
  us.forEach((u, k) => {
    const task = s.tasks[k + 1]!;
    task.arrivalMs = roundMs(first.arrivalMs + Math.max(u * e, 0.001));
    notes.push(`${task.id} at ${formatMs(task.arrivalMs)}`);
  });
  out.meta.operators.push('stagger');
  out.meta.notes.push(
    `staggered arrivals while ${first.id} runs (expected ${formatMs(e)}): ${notes.join(', ')}`,
  );
  return out;
}

// ---- followup

/**
 * A follow-up message on one task, arriving while the task is in flight: at a + u * E (a the
 * task's arrival, E its expected critical path, u uniform in [0.2, 0.8]). It adds one
 * `forward_result` step that waits for one of the task's own steps S and forwards a value of S's
 * result (`inputs: value <- S.path`) to a colleague; a new table row answers those args with a
 * delivery id, and the message's `answer` is the task's current expected answer plus that id.
 * Draws: task, step, leaf, recipient, arrival, delivery id.
 */
export function followup(draft: Draft, stream: RandomStream): Draft | null {
  const out = cloneDraft(draft);
  const s = out.scenario;
  const candidates = s.tasks
    .map((task) => ({ task, steps: sources(s, task.steps) }))
    .filter((c) => c.steps.length > 0);
  if (candidates.length === 0) return null;
  const { task, steps } = pick(stream, candidates);
  const source = pick(stream, steps);
  const leaf = pick(stream, source.leaves);
  const recipient = pick(stream, RECIPIENTS);
  const e = expectedCriticalPathMs(task.steps, s.tools, thinkMeanMs(s));
  const atMs = roundMs(task.arrivalMs + uniform(stream, FOLLOWUP_RANGE[0], FOLLOWUP_RANGE[1]) * e);
  const tool = ensureGeneratorTool(s, FORWARD_RESULT);
  const args = { recipient, value: leaf.value };
  const existing = tool.impl.rows.find((r) => canonicalJson(r.args) === canonicalJson(args));
  let deliveryId: string;
  if (existing !== undefined) {
    deliveryId = String((existing.result as Record<string, JsonValue>).deliveryId);
  } else {
    deliveryId = freshReceipt(stream, 'FWD', tool.impl.rows, 'deliveryId');
    tool.impl.rows.push({ args, result: { deliveryId, recipient, status: 'sent' } });
  }
  const id = freshStepId(s, task.id, 'fwd');
  const answer = [...currentAnswer(s, task.id), deliveryId];
  s.messages.push({
    atMs,
    task: task.id,
    text: `One more thing about this request: once you have ${callPhrase(source.step)}, forward ${pathPhrase(leaf.path)} to ${recipient} with forward_result, and include the delivery id in your answer.`,
    steps: [
      {
        id,
        tool: FORWARD_RESULT,
        args,
        after: [source.step.id],
        inputs: [{ arg: 'value', from: source.step.id, path: leaf.path }],
      },
    ],
    answer: { mustContain: answer },
  });
  // Messages listed in arrival order (message-order.ts), so the file reads as they arrive.
  s.messages.splice(0, s.messages.length, ...inArrivalOrder(s.messages));
  out.meta.operators.push('followup');
  out.meta.notes.push(
    `follow-up on ${task.id} at ${formatMs(atMs)} adds ${id} (forward ${source.step.id}.${leaf.path === '' ? '(result)' : leaf.path})`,
  );
  return out;
}

// ---- latency variants

/** Domain tools of the draft that its steps use (generator-owned tools keep their latency). */
function domainToolsUsed(s: Scenario): Tool[] {
  const used = new Set(allSteps(s).map((x) => x.step.tool));
  return s.tools.filter((t) => used.has(t.name) && !GENERATOR_TOOL_NAMES.includes(t.name));
}

/** Latency times f; a timeout scales with it, so it keeps cutting off the same share of calls. */
function scaleTool(t: Tool, f: number): void {
  t.latency = scaleSpec(t.latency, f);
  if (t.timeoutMs !== undefined) t.timeoutMs = sig(t.timeoutMs * f, 6);
}

/**
 * Changes the latency of the domain tools (generator-owned tools keep theirs):
 * - base: nothing (not counted as an operator);
 * - fast: one factor f ~ U[0.25, 0.5) for the instance, every domain tool's latency scaled by f;
 * - slow: the same with f ~ U[2, 4);
 * - heavy-tail: each domain tool (in tool order) draws alpha ~ U[1.2, 1.6) and becomes the Pareto
 *   law of the same untruncated mean, truncated at 50 means (`heavyTailSpec`);
 * - one-slow-tool: one domain tool used by a step, drawn uniformly, scaled by f ~ U[8, 15).
 * A scaled tool's `timeoutMs` is scaled by the same factor; heavy-tail leaves timeouts alone.
 * Factors and alphas keep 3 significant digits.
 */
export function applyVariant(draft: Draft, variant: Variant, stream: RandomStream): Draft | null {
  const out = cloneDraft(draft);
  const s = out.scenario;
  out.meta.variant = variant;
  if (variant === 'base') {
    out.meta.notes.push('domain latencies (base)');
    return out;
  }
  const tools = domainToolsUsed(s);
  if (tools.length === 0) return null;
  if (variant === 'fast' || variant === 'slow') {
    const [lo, hi] = variant === 'fast' ? FAST_RANGE : SLOW_RANGE;
    const f = sig(uniform(stream, lo, hi), 3);
    for (const t of tools) scaleTool(t, f);
    out.meta.notes.push(`${variant}: every domain tool's latency times ${f}`);
  } else if (variant === 'heavy-tail') {
    for (const t of tools)
      t.latency = heavyTailSpec(
        t.latency,
        sig(uniform(stream, HEAVY_ALPHA_RANGE[0], HEAVY_ALPHA_RANGE[1]), 3),
      );
    out.meta.notes.push('heavy-tail: every domain tool Pareto-distributed with its mean kept');
  } else {
    const t = pick(stream, tools);
    const f = sig(uniform(stream, ONE_SLOW_RANGE[0], ONE_SLOW_RANGE[1]), 3);
    scaleTool(t, f);
    out.meta.touched.slow = t.name;
    out.meta.notes.push(`one slow tool: ${t.name} ${f} times slower`);
  }
  out.meta.operators.push('latency');
  return out;
}

// ---- stress: concurrency limits and transient failures

/**
 * A concurrency limit on one tool used by at least two steps (tasks' and follow-ups' steps
 * together) whose current limit is absent or above 1: the new limit is 1 when two steps use it,
 * else 1 or 2 uniformly, and always below the current one. Draws: tool, limit.
 */
export function limitConcurrency(draft: Draft, stream: RandomStream): Draft | null {
  const out = cloneDraft(draft);
  const s = out.scenario;
  const uses = new Map<string, number>();
  for (const x of allSteps(s)) uses.set(x.step.tool, (uses.get(x.step.tool) ?? 0) + 1);
  const candidates = s.tools.filter(
    (t) => (uses.get(t.name) ?? 0) >= 2 && (t.concurrency === undefined || t.concurrency > 1),
  );
  if (candidates.length === 0) return null;
  const tool = pick(stream, candidates);
  let limit = (uses.get(tool.name) ?? 0) === 2 ? 1 : 1 + stream.int(2);
  if (tool.concurrency !== undefined && limit >= tool.concurrency) limit = tool.concurrency - 1;
  tool.concurrency = limit;
  out.meta.touched.concurrency = tool.name;
  out.meta.operators.push('concurrency');
  out.meta.notes.push(
    `${tool.name} (used by ${uses.get(tool.name)} steps) limited to ${limit} call${limit === 1 ? '' : 's'} at a time`,
  );
  return out;
}

/**
 * Transient failures on one domain tool used by a step whose failure rate is below 0.2: rate ~
 * U[0.2, 0.4) (2 decimals), so some calls need a retry. Draws: tool, rate.
 */
export function injectFailures(draft: Draft, stream: RandomStream): Draft | null {
  const out = cloneDraft(draft);
  const s = out.scenario;
  const candidates = domainToolsUsed(s).filter((t) => (t.failure?.rate ?? 0) < FAILURE_RANGE[0]);
  if (candidates.length === 0) return null;
  const tool = pick(stream, candidates);
  const rate = Math.min(
    FAILURE_RANGE[1],
    Math.max(
      FAILURE_RANGE[0],
      Math.round(uniform(stream, FAILURE_RANGE[0], FAILURE_RANGE[1]) * 100) / 100,
    ),
  );
  tool.failure = {
    rate,
    message: `transient error: ${tool.name} is temporarily unavailable, please retry`,
  };
  out.meta.touched.failures = tool.name;
  out.meta.operators.push('failures');
  out.meta.notes.push(`${tool.name} fails transiently ${Math.round(rate * 100)}% of the time`);
  return out;
}

/** `850ms`, `2.4s`, `1m 12s`. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${sig(ms, 3)}ms`;
  if (ms < 60_000) return `${sig(ms / 1000, 3)}s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m ${Math.round((ms - m * 60_000) / 1000)}s`;
}
