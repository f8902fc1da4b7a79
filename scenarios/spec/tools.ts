/**
 * Simulated tools: what a call returns, whether its args fit, and how long it takes.
 *
 * - `ToolRuntime.check(args)` validates args against the tool's JSON Schema (ajv).
 * - `ToolRuntime.evaluate(args)` computes the result: a table row matched on canonical args, the
 *   table's default, or a built-in function. Pure: the same args always give the same outcome.
 * - `latency`, `timeoutUs` and the failure model are compiled here; a call's attempt is drawn
 *   from them in ../world/call-latency.ts (`drawAttempt`).
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';
import type { RegExpEngine } from 'ajv/dist/types/index.js';
import { RE2JS } from 're2js';
import { compileDistribution, msToUs, roundUs, type Distribution } from '../../engine/index.js';
import { MAX_SAMPLE_US } from '../../engine/distributions.js';
import { US_PER_MS } from '../../engine/time.js';
import { BuiltinError, getBuiltin } from './builtins.js';
import { canonicalJson } from './canonical.js';
import type { JsonValue, Tool } from './schema.js';

export type Outcome =
  | { readonly ok: true; readonly result: JsonValue }
  | { readonly ok: false; readonly error: string };

/**
 * The engine behind `pattern` and `patternProperties` in parameter schemas: RE2 (re2js, in pure
 * JavaScript), whose matching takes time linear in the input. A scenario is data from anyone, and
 * JavaScript's backtracking RegExp takes exponential time on patterns such as `^(a+)+$` (40 `a`s
 * and a `!` hung every command that validates the scenario). The pattern is read as JavaScript
 * writes it (`translateRegExp`); what RE2 cannot match in linear time (lookaround,
 * backreferences) is refused when the schema is compiled, so validation names it.
 */
function linearRegExp(): RegExpEngine {
  // ajv keeps one compiled pattern per `toString()`: it must name the pattern.
  const engine = (pattern: string): { test: (s: string) => boolean; toString: () => string } => {
    let re: RE2JS;
    try {
      re = RE2JS.compile(RE2JS.translateRegExp(pattern));
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new Error(
        `pattern ${JSON.stringify(pattern)} is not supported (${why}): patterns are matched by RE2, in linear time, which has no lookaround or backreferences`,
      );
    }
    return { test: (s: string) => re.test(s), toString: () => `re2:${pattern}` };
  };
  return Object.assign(engine, { code: 'linearRegExp' }) as RegExpEngine;
}

/**
 * Tool parameter schemas are JSON Schema draft 2020-12. Each is compiled anonymously
 * (`addUsedSchema: false`), so two tools whose schemas carry the same `$id` never clash, and
 * unknown formats are ignored without console noise (`logger: false`). Validators are generated
 * without ajv's code optimization pass (`optimize: false`): it halved the time to compile one of
 * the suite's schemas (0.5-0.9 ms against 1.2-1.5 ms, cold), while a baseline's calls, which pass a
 * step's own args, are checked once per args object (see `ToolRuntime.check`): how fast the
 * generated code runs hardly shows.
 */
const ajv = new Ajv2020({
  strict: false,
  allErrors: false,
  logger: false,
  addUsedSchema: false,
  code: { optimize: false, regExp: linearRegExp() },
});

/**
 * Compiled validators by canonical schema text: compiling is by far the costliest part of setting
 * up an episode, and suites reuse the same tools across thousands of episodes. Bounded: cleared
 * when full, so a stream of distinct schemas cannot grow it without limit.
 */
const compiled = new Map<string, ValidateFunction>();
const MAX_COMPILED = 4096;

/** Compiles a tool's parameter schema; throws (ajv's error) when it is not a usable schema. */
export function compileParameters(parameters: Record<string, unknown>): ValidateFunction {
  const key = canonicalJson(parameters);
  const hit = compiled.get(key);
  if (hit !== undefined) return hit;
  let validator: ValidateFunction;
  try {
    validator = ajv.compile(parameters);
  } catch (error) {
    // ajv caches a schema object even when compiling it fails; drop it so the next try fails too.
    ajv.removeSchema(parameters);
    throw error;
  }
  if (compiled.size >= MAX_COMPILED) compiled.clear();
  compiled.set(key, validator);
  return validator;
}

/** The stream key of a call: by step identity when it performs an expected step, else by tool and count. */
export function callKey(
  identity: { task: string; step: string; attempt: number } | { tool: string; count: number },
): string {
  return 'task' in identity
    ? `call/step/${identity.task}/${identity.step}/${identity.attempt}`
    : `call/tool/${identity.tool}/${identity.count}`;
}

/** Keys kept per step or tool: the first attempts and counts, which are nearly all there are. */
const KEPT_KEYS = 8;

/**
 * A scenario's call keys, made once and kept (a step's first KEPT_KEYS attempts, a scenario tool's
 * first KEPT_KEYS calls that perform no step): `RandomStreams.derive` finds a seed made before by
 * its key string, and a kept string has its hash cached, where a string built per call is hashed
 * anew (which costs about what the seed memo saves). Bounded by the scenario: a call to a tool it
 * does not have gets a key made afresh.
 */
export class CallKeys {
  /** By the step's plan index, then attempt - 1. */
  private readonly bySteps: string[][] = [];
  /** By the scenario's tool names, then count - 1. */
  private readonly byTools: ReadonlyMap<string, string[]>;

  constructor(tools: readonly string[]) {
    this.byTools = new Map(tools.map((t) => [t, []]));
  }

  /** `callKey({ task: step.task, step: step.id, attempt })`. */
  step(
    step: { readonly index: number; readonly task: string; readonly id: string },
    attempt: number,
  ): string {
    if (attempt > KEPT_KEYS) return callKey({ task: step.task, step: step.id, attempt });
    const keys = (this.bySteps[step.index] ??= []);
    return (keys[attempt - 1] ??= callKey({ task: step.task, step: step.id, attempt }));
  }

  /** `callKey({ tool, count })`. */
  tool(tool: string, count: number): string {
    const keys = count > KEPT_KEYS ? undefined : this.byTools.get(tool);
    if (keys === undefined) return callKey({ tool, count });
    return (keys[count - 1] ??= callKey({ tool, count }));
  }
}

/** `evaluate` was asked for a stateful tool's outcome, which no args alone determine. */
export class StatefulToolError extends Error {
  override name = 'StatefulToolError';
  constructor(tool: string) {
    super(`${tool} acts on an environment: its outcome depends on the state`);
  }
}

export class ToolRuntime {
  readonly tool: Tool;
  /** The file's distribution, unscaled: `drawAttempt` scales what it draws (`scaleUs`). */
  readonly latency: Distribution;
  /** The file's timeout, unscaled: an attempt's fate is decided against it. */
  readonly timeoutUs: number | null;
  /** `tool.latencyScale` (1 when absent): the latency ablation's factor. */
  readonly latencyScale: number;
  /** The shortest service time a call can have, scaled. */
  readonly minLatencyUs: number;
  readonly capacity: number;
  private readonly validator: ValidateFunction;
  private readonly rows: ReadonlyMap<string, JsonValue>;
  /** `check` answers for args objects that never change (see `check`). */
  private readonly checked = new WeakMap<object, string | null>();

  constructor(tool: Tool) {
    this.tool = tool;
    this.latency = compileDistribution(tool.latency);
    this.timeoutUs =
      tool.timeoutMs === undefined ? null : msToUs(tool.timeoutMs, `${tool.name}.timeoutMs`);
    this.latencyScale = tool.latencyScale ?? 1;
    this.minLatencyUs = this.scaleUs(this.latency.minUs);
    this.capacity = tool.concurrency ?? Infinity;
    this.validator = compileParameters(tool.parameters);
    const rows = new Map<string, JsonValue>();
    if (tool.impl.kind === 'table') {
      for (const row of tool.impl.rows) {
        const key = canonicalJson(row.args);
        if (!rows.has(key)) rows.set(key, row.result);
      }
    }
    this.rows = rows;
  }

  /**
   * A drawn duration (integer µs) times the latency scale, rounded by the engine's rule and kept
   * under the engine's ceiling; the identity without a scale (no rounding happens then).
   */
  scaleUs(us: number): number {
    if (this.latencyScale === 1) return us;
    const scaled = roundUs(us * this.latencyScale, `${this.tool.name} scaled latency`);
    return Math.min(scaled, MAX_SAMPLE_US);
  }

  /**
   * Null when `args` fit the parameter schema, else the first problem in one line. `fixed`: the
   * args object never changes (a scenario step's own args, which agents pass along as they are),
   * so the answer is remembered for it (validation is pure: the validator changes nothing).
   */
  check(args: unknown, fixed = false): string | null {
    if (!fixed || args === null || typeof args !== 'object') return this.validate(args);
    let problem = this.checked.get(args);
    if (problem === undefined) {
      problem = this.validate(args);
      this.checked.set(args, problem);
    }
    return problem;
  }

  private validate(args: unknown): string | null {
    if (this.validator(args)) return null;
    const e = this.validator.errors?.[0];
    if (e === undefined) return 'args do not match the parameter schema';
    const where = e.instancePath === '' ? 'args' : `args${e.instancePath.replaceAll('/', '.')}`;
    return `${where} ${e.message ?? 'is invalid'}`;
  }

  /** True when calls act on a stateful environment (the world applies them, not `evaluate`). */
  get stateful(): boolean {
    return this.tool.impl.kind === 'environment';
  }

  /**
   * The outcome of a successful attempt with these args (`argsKey`: their canonical JSON, when the
   * caller has it). Throws StatefulToolError for a stateful tool.
   */
  evaluate(args: Record<string, JsonValue>, argsKey?: string): Outcome {
    const impl = this.tool.impl;
    if (impl.kind === 'table') {
      const hit = this.rows.get(argsKey ?? canonicalJson(args));
      if (hit !== undefined) return { ok: true, result: hit };
      return 'error' in impl.default
        ? { ok: false, error: impl.default.error }
        : { ok: true, result: impl.default.result };
    }
    // A stateful tool's outcome depends on its environment's state: the world applies it.
    if (impl.kind === 'environment') throw new StatefulToolError(this.tool.name);
    const builtin = getBuiltin(impl.name);
    if (builtin === undefined) return { ok: false, error: `unknown builtin ${impl.name}` };
    try {
      return { ok: true, result: builtin.run(args) };
    } catch (error) {
      if (error instanceof BuiltinError) return { ok: false, error: error.message };
      throw error;
    }
  }

  /** The timeout in ms as the agent is told it: the file's figure, or the scaled one. */
  private timeoutText(): string {
    if (this.latencyScale === 1 || this.timeoutUs === null) return String(this.tool.timeoutMs);
    return String(this.scaleUs(this.timeoutUs) / US_PER_MS);
  }

  /** The error text an agent sees for a failed or timed-out attempt. */
  attemptError(fate: 'failure' | 'timeout' | 'lost'): string {
    if (fate === 'lost' && this.tool.timeoutMs === undefined)
      return `timeout: ${this.tool.name} did not answer`;
    if (fate === 'timeout' || fate === 'lost')
      return `timeout: ${this.tool.name} did not answer within ${this.timeoutText()}ms`;
    return this.tool.failure?.message ?? 'transient error: please retry';
  }
}
