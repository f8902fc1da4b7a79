/**
 * Scenario validation: every problem with a scenario document, each with a path and one line.
 *
 * `validateScenario(doc)` never throws, whatever `doc` is. It runs, in this order:
 *   0. the document's shape (document.ts: JSON values only, depth and size within the limits); a
 *      document that fails it gets that one problem and nothing else is run on it;
 *   1. the zod schema (`scenarioSchema`), each issue turned into a readable line; latency and think
 *      time specs are reported by the engine's `checkDistribution` instead of zod's union noise;
 *   2. whole-document rules, run leniently even when the schema fails (each rule reads only the
 *      parts it needs and skips what is malformed): duplicate ids, unknown tools, builtins, tasks and
 *      steps, follow-ups that come too early or depend on steps added later, dependency cycles, args
 *      against the tool's parameter schema, tool errors for the expected args, and the data flow
 *      (`inputs`: the value at `path` in the from-step's result equals the value at `arg`);
 * and returns the problems sorted in document order (stable, so one place keeps check order).
 *
 * Paths are JS-style, relative to the document: `tasks[1].steps[2].after`, `tools[0].latency.p95Ms`.
 * The document itself is the empty path.
 */
import { z } from 'zod';
import { checkDistribution, compileDistribution, msToUs } from '../../engine/index.js';
import { boundWords } from '../../engine/distributions.js';
import { builtinNames, getBuiltin } from './builtins.js';
import { canonicalJson, getPath, jsonEqual } from './canonical.js';
import { arrivalOrder } from './message-order.js';
import {
  jsonValueSchema,
  notJson,
  NOT_JSON_MESSAGE,
  scenarioSchema,
  toolImplSchema,
  type JsonValue,
  type Scenario,
} from './schema.js';
import { ToolRuntime, compileParameters, type Outcome } from './tools.js';
import { checkDocument } from './document.js';
import { checkStateful } from './validate-stateful.js';
import { getEnvironment } from '../envs/index.js';

/**
 * One thing wrong with a scenario document: where (`tasks[0].steps[1].args`, '' for the whole
 * document) and what, in one line.
 */
export interface Problem {
  readonly path: string;
  readonly message: string;
}

/** A scenario that failed validation (or could not be read): every problem, one per line. */
export class ScenarioError extends Error {
  override name = 'ScenarioError';
  readonly problems: Problem[];
  readonly file: string;
  constructor(file: string, problems: Problem[]) {
    super(problems.map((p) => formatProblem(file, p)).join('\n'));
    this.file = file;
    this.problems = problems;
  }
}

/** `FILE: PATH: MESSAGE`, or `FILE: MESSAGE` for a problem with the whole document. */
export function formatProblem(file: string, problem: Problem): string {
  return problem.path === ''
    ? `${file}: ${problem.message}`
    : `${file}: ${problem.path}: ${problem.message}`;
}

/** Validates `doc` and returns the parsed scenario (defaults filled in), or throws ScenarioError. */
export function parseScenario(doc: unknown, file = '<scenario>'): Scenario {
  const { problems, parsed } = validate(doc);
  if (problems.length > 0) throw new ScenarioError(file, problems);
  if (parsed === null)
    throw new ScenarioError(file, [{ path: '', message: 'does not match the scenario schema' }]);
  return parsed;
}

/** Every problem with `doc`, in document order; empty when it is a valid scenario. Never throws. */
export function validateScenario(doc: unknown): Problem[] {
  return validate(doc).problems;
}

/** The problems with `doc`, and its parse by the schema (null when the schema rejects it). */
function validate(doc: unknown): { problems: Problem[]; parsed: Scenario | null } {
  // The document's shape first (depth, size, JSON values): every check below may recurse into it.
  const shape = checkDocument(doc);
  if (shape !== null)
    return { problems: [{ path: formatPath(shape.segs), message: shape.message }], parsed: null };
  const out: Found[] = [];
  let parsed: Scenario | null = null;
  try {
    parsed = checkSchema(doc, out);
    // Environments and reference trajectories are checked on the parse (they need its defaults).
    const stateful = parsed === null ? null : checkStateful(parsed);
    if (stateful !== null) out.push(...stateful.found);
    if (isRecord(doc)) new Checker(doc, out, stateful?.outcomes ?? new Map()).run();
  } catch (error) {
    // A bug here must not become a crash of whoever validates: report it as a problem instead.
    out.push({
      segs: [],
      message: `internal validator error: ${error instanceof Error ? error.message : String(error)}`,
    });
  }
  return {
    problems: sortByDocument(doc, out).map((f) => ({
      path: formatPath(f.segs),
      message: f.message,
    })),
    parsed,
  };
}

// ---- Paths.

type Seg = string | number;
interface Found {
  segs: Seg[];
  message: string;
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function formatPath(segs: readonly Seg[]): string {
  let s = '';
  for (const k of segs) {
    if (typeof k === 'number') s += `[${k}]`;
    else if (IDENT.test(k)) s += s === '' ? k : `.${k}`;
    else s += `[${JSON.stringify(k)}]`;
  }
  return s;
}

/** Segments of a dotted/bracketed path as `checkDistribution` writes them (`components[0].dist`). */
function parsePath(path: string): Seg[] {
  const segs: Seg[] = [];
  for (const m of path.matchAll(/\[(\d+)\]|([^.[\]]+)/g))
    segs.push(m[1] !== undefined ? Number(m[1]) : m[2]!);
  return segs;
}

function own(value: unknown, key: Seg): unknown {
  if (typeof key === 'number') return Array.isArray(value) ? value[key] : undefined;
  if (!isRecord(value) || !Object.hasOwn(value, key)) return undefined;
  return value[key];
}

function valueAt(doc: unknown, segs: readonly Seg[]): unknown {
  let v = doc;
  for (const k of segs) v = own(v, k);
  return v;
}

/** Stable sort by position in the document: array index, or the key's place among its object's keys. */
function sortByDocument(doc: unknown, found: Found[]): Found[] {
  const rank = (segs: readonly Seg[]): number[] => {
    const r: number[] = [];
    let v: unknown = doc;
    for (const k of segs) {
      if (typeof k === 'number') r.push(k);
      else if (isRecord(v)) {
        const keys = Object.keys(v);
        const i = keys.indexOf(k);
        r.push(i < 0 ? keys.length : i);
      } else r.push(0);
      v = own(v, k);
    }
    return r;
  };
  const ranked = found.map((f, i) => ({ f, i, r: rank(f.segs) }));
  ranked.sort((a, b) => {
    const n = Math.min(a.r.length, b.r.length);
    for (let j = 0; j < n; j++) if (a.r[j] !== b.r[j]) return a.r[j]! - b.r[j]!;
    return a.r.length - b.r.length || a.i - b.i;
  });
  return ranked.map((x) => x.f);
}

// ---- Small helpers.

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return typeof v;
}

/** A value for a message: JSON, shortened. */
function show(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = typeName(v);
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2 || a.length > 64 || b.length > 64) return 99;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur.push(
        Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)),
      );
    }
    prev = cur;
  }
  return prev[b.length]!;
}

function suggestion(name: string, known: Iterable<string>): string {
  let best: string | undefined;
  // Short ids (s1, t2) are close to everything: only suggest when the typo is small for the name.
  let bestD = Math.min(2, Math.floor(name.length / 3)) + 1;
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best === undefined ? '' : ` (did you mean "${best}"?)`;
}

// ---- 1. The schema.

const JSON_TYPES = ['string', 'number', 'boolean', 'null', 'array', 'object'];

/** Adds what the schema finds wrong with `doc` to `out`; returns its parse, or null when it has none. */
function checkSchema(doc: unknown, out: Found[]): Scenario | null {
  const parsed = scenarioSchema.safeParse(doc);
  const isDistributionPath = (p: readonly PropertyKey[]): boolean =>
    (p[0] === 'tools' && typeof p[1] === 'number' && p[2] === 'latency') || p[0] === 'thinkTime';
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (isDistributionPath(issue.path)) continue;
      for (const found of convertIssue(issue, [], doc)) out.push(found);
    }
  }
  // Distributions: the engine's checker speaks their language (p95Ms must be greater than medianMs).
  if (isRecord(doc)) {
    arr(own(doc, 'tools')).forEach((tool, i) => {
      if (isRecord(tool)) checkSpec(own(tool, 'latency'), ['tools', i, 'latency'], true, out);
    });
    checkSpec(own(doc, 'thinkTime'), ['thinkTime'], false, out);
  }
  return parsed.success ? parsed.data : null;
}

function checkSpec(spec: unknown, base: Seg[], required: boolean, out: Found[]): void {
  if (spec === undefined) {
    if (required) out.push({ segs: base, message: 'required' });
    return;
  }
  for (const p of checkDistribution(spec))
    out.push({ segs: [...base, ...parsePath(p.path)], message: p.message });
}

function convertIssue(issue: z.core.$ZodIssue, base: readonly Seg[], doc: unknown): Found[] {
  const segs: Seg[] = [...base, ...issue.path.map((k) => (typeof k === 'number' ? k : String(k)))];
  const input = valueAt(doc, segs);
  const at = (message: string): Found[] => [{ segs, message }];
  switch (issue.code) {
    case 'invalid_type': {
      if (input === undefined) return at('required');
      if (issue.expected === 'int' && typeof input === 'number')
        return at(`must be an integer, got ${show(input)}`);
      const expected =
        issue.expected === 'record'
          ? 'object'
          : issue.expected === 'int'
            ? 'integer'
            : issue.expected;
      return at(`expected ${expected}, got ${typeName(input)}`);
    }
    case 'invalid_value': {
      const allowed = issue.values.map((v) => show(v)).join(' or ');
      return at(
        input === undefined ? `required (${allowed})` : `expected ${allowed}, got ${show(input)}`,
      );
    }
    case 'invalid_format':
      return at(
        issue.format === 'regex'
          ? `${show(input)} ${issue.message}`
          : `${show(input)} is not a valid ${issue.format}`,
      );
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const bound = Number(small ? issue.minimum : issue.maximum);
      if (issue.origin === 'array' || issue.origin === 'string') {
        const unit = issue.origin === 'array' ? 'entr' : 'character';
        const plural =
          issue.origin === 'array' ? (bound === 1 ? 'y' : 'ies') : bound === 1 ? '' : 's';
        if (small && bound === 1) return at('must not be empty');
        return at(`must have ${small ? 'at least' : 'at most'} ${bound} ${unit}${plural}`);
      }
      return at(`must be ${boundWords(small, issue.inclusive)} ${bound}, got ${show(input)}`);
    }
    case 'not_multiple_of':
      return at(
        issue.divisor === 1
          ? `must be an integer, got ${show(input)}`
          : `must be a multiple of ${String(issue.divisor)}, got ${show(input)}`,
      );
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({
        segs: [...segs, key],
        message: `unknown key ${JSON.stringify(key)}`,
      }));
    case 'invalid_union':
      return convertUnion(issue, segs, input, doc);
    case 'invalid_key':
    case 'invalid_element':
      return issue.issues.flatMap((i) => convertIssue(i, segs, doc));
    case 'custom': {
      if (issue.message !== NOT_JSON_MESSAGE) return at(issue.message);
      if (input === undefined) return at('required');
      // Point at the part that is not JSON, as a type-by-type check would.
      const found = notJson(input) ?? { path: [], problem: issue.message };
      return [{ segs: [...segs, ...found.path], message: found.problem }];
    }
    default:
      return at((issue as { readonly message: string }).message);
  }
}

function convertUnion(
  issue: z.core.$ZodIssueInvalidUnion,
  segs: Seg[],
  input: unknown,
  doc: unknown,
): Found[] {
  if (issue.errors.length === 0) {
    const options =
      'options' in issue && Array.isArray(issue.options)
        ? issue.options.map((o) => show(o)).join(' or ')
        : '';
    if (options === '')
      return [{ segs, message: `${show(input)} does not match any allowed form` }];
    return [
      {
        segs,
        message:
          input === undefined ? `required (${options})` : `expected ${options}, got ${show(input)}`,
      },
    ];
  }
  const branches = issue.errors.map((list) => list.flatMap((i) => convertIssue(i, segs, doc)));
  const depth = segs.length;
  // Every branch wanted another type here: name them together.
  const typeOnly = issue.errors.every(
    (list) => list.length === 1 && list[0]!.code === 'invalid_type' && list[0]!.path.length === 0,
  );
  if (typeOnly) {
    if (input === undefined) return [{ segs, message: 'required' }];
    const expected = [
      ...new Set(
        issue.errors
          .map((list) => (list[0] as z.core.$ZodIssueInvalidType).expected)
          .map((e) => (e === 'record' ? 'object' : e)),
      ),
    ];
    const text = JSON_TYPES.every((t) => expected.includes(t as never))
      ? 'a JSON value'
      : expected.join(' or ');
    return [{ segs, message: `expected ${text}, got ${typeName(input)}` }];
  }
  // Every branch only misses keys: say which keys would do.
  const missingOnly = branches.every(
    (b) => b.length > 0 && b.every((f) => f.message === 'required' && f.segs.length === depth + 1),
  );
  if (missingOnly) {
    const forms = branches.map((b) => b.map((f) => JSON.stringify(f.segs[depth])).join(' and '));
    return [{ segs, message: `must have ${forms.join(' or ')}` }];
  }
  // Otherwise the branch that came closest: fewest problems, first on ties.
  let best = branches[0] ?? [];
  for (const b of branches) if (b.length < best.length) best = b;
  return best.length > 0 ? best : [{ segs, message: 'does not match any allowed form' }];
}

// ---- 2-7. Whole-document rules.

const argsSchema = z.record(z.string(), jsonValueSchema);

interface ToolEntry {
  readonly index: number;
  readonly name: string;
  /** For check/evaluate; null when the tool is too malformed to build. */
  readonly runtime: ToolRuntime | null;
  readonly failureRate: number | undefined;
  /** Acts on an environment: its steps' outcomes come from the reference run. */
  readonly stateful: boolean;
}

interface StepEntry {
  readonly segs: Seg[];
  readonly raw: Record<string, unknown>;
  readonly id: string | undefined;
  /** 0 for the task's own steps, else 1 + the index of the follow-up among the task's follow-ups. */
  readonly group: number;
  /** Index in `messages` of the follow-up that adds it, or null. */
  readonly message: number | null;
}

class Checker {
  private readonly tools = new Map<string, ToolEntry>();
  private readonly taskIndex = new Map<string, number>();
  private readonly outcomes = new Map<StepEntry, Outcome | null>();
  private readonly maxTimeMs: number;
  private stepCount = 0;

  constructor(
    private readonly doc: Record<string, unknown>,
    private readonly out: Found[],
    /** Stateful steps' outcomes in their task's reference run, by `canonicalJson(segs)`. */
    private readonly referenceOutcomes: ReadonlyMap<string, Outcome>,
  ) {
    this.maxTimeMs = num(own(own(doc, 'limits'), 'maxTimeMs')) ?? 3_600_000;
  }

  private problem(segs: Seg[], message: string): void {
    this.out.push({ segs, message });
  }

  run(): void {
    this.checkTools();
    const messages = arr(own(this.doc, 'messages'));
    const tasks = arr(own(this.doc, 'tasks'));
    tasks.forEach((task, i) => {
      const id = str(own(task, 'id'));
      if (id === undefined) return;
      const first = this.taskIndex.get(id);
      if (first !== undefined)
        this.problem(
          ['tasks', i, 'id'],
          `duplicate task id ${JSON.stringify(id)} (first at tasks[${first}])`,
        );
      else this.taskIndex.set(id, i);
    });
    tasks.forEach((task, i) => {
      if (isRecord(task)) this.checkTask(task, i, messages);
    });
    messages.forEach((m, j) => {
      if (isRecord(m)) this.checkMessage(m, j, tasks);
    });
    this.checkUsage(tasks, messages);
    try {
      msToUs(this.maxTimeMs);
    } catch {
      this.problem(
        ['limits', 'maxTimeMs'],
        `${this.maxTimeMs} is too large (at most ${Math.floor(Number.MAX_SAFE_INTEGER / 1000)}ms)`,
      );
    }
    const maxCalls = num(own(own(this.doc, 'limits'), 'maxCalls'));
    if (maxCalls !== undefined && maxCalls < this.stepCount) {
      this.problem(
        ['limits', 'maxCalls'],
        `${maxCalls} is fewer than the ${this.stepCount} expected steps`,
      );
    }
  }

  // -- Tools: names, builtins, parameter schemas, timeouts, table rows.

  private checkTools(): void {
    arr(own(this.doc, 'tools')).forEach((tool, i) => {
      if (!isRecord(tool)) return;
      const at = (...rest: Seg[]): Seg[] => ['tools', i, ...rest];
      const name = str(own(tool, 'name'));
      if (name !== undefined && this.tools.has(name)) {
        this.problem(
          at('name'),
          `duplicate tool name ${JSON.stringify(name)} (first at tools[${this.tools.get(name)!.index}])`,
        );
      }
      const impl = own(tool, 'impl');
      if (own(impl, 'kind') === 'builtin') {
        const b = str(own(impl, 'name'));
        if (b !== undefined && getBuiltin(b) === undefined) {
          this.problem(
            at('impl', 'name'),
            `unknown builtin ${JSON.stringify(b)}${suggestion(b, builtinNames())} (known: ${builtinNames().join(', ')})`,
          );
        }
      }
      const opParameters = this.checkOperation(tool, at);
      const parameters = own(tool, 'parameters') ?? opParameters;
      const paramsOk = this.checkParameters(parameters, at('parameters'));
      this.checkTimeout(tool, at);
      let runtime: ToolRuntime | null = null;
      const parsedImpl = toolImplSchema.safeParse(impl);
      if (
        paramsOk &&
        name !== undefined &&
        parsedImpl.success &&
        (parsedImpl.data.kind !== 'builtin' || getBuiltin(parsedImpl.data.name) !== undefined)
      ) {
        try {
          // Only check/evaluate are used: latency and failure do not matter here.
          runtime = new ToolRuntime({
            name,
            description: 'validation',
            parameters: parameters as Record<string, JsonValue>,
            latency: { kind: 'constant', ms: 0 },
            impl: parsedImpl.data,
          });
        } catch (error) {
          this.problem(at(), `cannot be built: ${errorText(error)}`);
        }
      }
      if (runtime !== null && parsedImpl.success && parsedImpl.data.kind === 'table')
        this.checkRows(runtime, parsedImpl.data.rows, at);
      const rate = num(own(own(tool, 'failure'), 'rate'));
      if (name !== undefined && !this.tools.has(name))
        this.tools.set(name, {
          index: i,
          name,
          runtime,
          failureRate: rate,
          stateful: own(impl, 'kind') === 'environment',
        });
    });
  }

  /**
   * An environment tool's environment and operation exist, and a description or parameters it
   * gives equal the operation's; returns the operation's parameters (undefined when unknown). Any
   * other tool must give both.
   */
  private checkOperation(
    tool: Record<string, unknown>,
    at: (...rest: Seg[]) => Seg[],
  ): Record<string, unknown> | undefined {
    const impl = own(tool, 'impl');
    if (own(impl, 'kind') !== 'environment') {
      for (const key of ['description', 'parameters'])
        if (own(tool, key) === undefined) this.problem(at(key), 'required');
      return undefined;
    }
    const envId = str(own(impl, 'environment'));
    const opName = str(own(impl, 'operation'));
    if (envId === undefined || opName === undefined) return undefined;
    const decls = arr(own(this.doc, 'environments'));
    const decl = decls.find((d) => own(d, 'id') === envId);
    if (decl === undefined) {
      const ids = decls.map((d) => str(own(d, 'id'))).filter((d) => d !== undefined);
      this.problem(
        at('impl', 'environment'),
        `unknown environment ${JSON.stringify(envId)}${suggestion(envId, ids)} (declared: ${ids.join(', ') || 'none'})`,
      );
      return undefined;
    }
    const env = getEnvironment(str(own(decl, 'kind')) ?? '');
    if (env === undefined) return undefined; // the environment's own problem says why
    const op = env.operations[opName];
    if (op === undefined) {
      const known = Object.keys(env.operations);
      this.problem(
        at('impl', 'operation'),
        `${env.name} has no operation ${JSON.stringify(opName)}${suggestion(opName, known)} (it has: ${known.join(', ')})`,
      );
      return undefined;
    }
    const given: Array<[string, unknown]> = [
      ['description', op.description],
      ['parameters', op.parameters],
    ];
    for (const [key, expected] of given) {
      const value = own(tool, key);
      if (value !== undefined && !jsonEqual(value, expected))
        this.problem(
          at(key),
          `differs from the ${key} of ${env.name}.${opName} (leave it out to use the operation's)`,
        );
    }
    return op.parameters;
  }

  /** True when the parameter schema compiles (and so can be used). */
  private checkParameters(parameters: unknown, segs: Seg[]): boolean {
    if (!isRecord(parameters)) return false; // the schema check reports it
    try {
      compileParameters(parameters);
      return true;
    } catch (error) {
      this.problem(segs, `invalid JSON Schema: ${errorText(error)}`);
      return false;
    }
  }

  private checkTimeout(tool: Record<string, unknown>, at: (...rest: Seg[]) => Seg[]): void {
    const timeoutMs = num(own(tool, 'timeoutMs'));
    if (timeoutMs === undefined || timeoutMs <= 0) return;
    let timeoutUs: number;
    try {
      timeoutUs = msToUs(timeoutMs);
    } catch {
      this.problem(at('timeoutMs'), `${timeoutMs} is too large`);
      return;
    }
    const latency = own(tool, 'latency');
    if (checkDistribution(latency).length > 0) return;
    const minUs = compileDistribution(latency).minUs;
    if (minUs > timeoutUs) {
      this.problem(
        at('timeoutMs'),
        `every call times out: timeoutMs (${timeoutMs}) is below the smallest possible latency (${minUs / 1000}ms)`,
      );
    }
  }

  private checkRows(
    runtime: ToolRuntime,
    rows: ReadonlyArray<{ args: Record<string, JsonValue> }>,
    at: (...rest: Seg[]) => Seg[],
  ): void {
    const seen = new Map<string, number>();
    rows.forEach((row, k) => {
      const segs = at('impl', 'rows', k, 'args');
      const key = canonicalJson(row.args);
      const first = seen.get(key);
      if (first !== undefined)
        this.problem(segs, `duplicate of rows[${first}] (the first row wins)`);
      else seen.set(key, k);
      const bad = runtime.check(row.args);
      if (bad !== null) this.problem(segs, `no valid call can match this row: ${bad}`);
    });
  }

  // -- Tasks and their steps (own and follow-up).

  private checkTask(task: Record<string, unknown>, i: number, messages: unknown[]): void {
    const id = str(own(task, 'id'));
    const arrivalMs = num(own(task, 'arrivalMs')) ?? 0;
    if (arrivalMs > this.maxTimeMs) {
      this.problem(
        ['tasks', i, 'arrivalMs'],
        `the task arrives at ${arrivalMs}ms, after limits.maxTimeMs (${this.maxTimeMs}ms)`,
      );
    }
    // Only the first task with an id owns its follow-ups (a duplicate id is reported already).
    const ownsMessages = id !== undefined && this.taskIndex.get(id) === i;
    const groups: StepEntry[][] = [
      this.entries(own(task, 'steps'), ['tasks', i, 'steps'], 0, null),
    ];
    const followUps: Array<{ index: number; atMs: number }> = [];
    if (ownsMessages) {
      messages.forEach((m, j) => {
        if (own(m, 'task') !== id) return;
        followUps.push({ index: j, atMs: num(own(m, 'atMs')) ?? 0 });
        groups.push(this.entries(own(m, 'steps'), ['messages', j, 'steps'], groups.length, j));
      });
    }
    // Each follow-up's position in arrival order, the order the plan adds their steps in.
    const rank: number[] = [];
    arrivalOrder(followUps).forEach((k, position) => {
      rank[k] = position;
    });
    const all = groups.flat();
    this.stepCount += all.length;

    // Step ids: unique across the task, follow-up steps included.
    const byId = new Map<string, StepEntry>();
    for (const s of all) {
      if (s.id === undefined) continue;
      const first = byId.get(s.id);
      if (first !== undefined) {
        this.problem(
          [...s.segs, 'id'],
          `duplicate step id ${JSON.stringify(s.id)} in task ${id ?? `tasks[${i}]`} (first at ${formatPath(first.segs)})`,
        );
      } else byId.set(s.id, s);
    }

    // Which groups a group may depend on: the task's own steps, itself, and follow-ups that arrive
    // earlier (message-order.ts: by time, then file order), wherever the file lists them.
    const visible = (from: number, to: number): boolean => {
      if (to === 0 || to === from) return true;
      if (from === 0) return false;
      return rank[to - 1]! < rank[from - 1]!;
    };

    const edges = new Map<StepEntry, StepEntry[]>();
    for (const s of all) {
      this.checkStep(s);
      const deps: StepEntry[] = [];
      const listed = new Set<string>();
      for (const d of arr(own(s.raw, 'after'))) {
        if (typeof d !== 'string') continue;
        if (listed.has(d)) {
          this.problem([...s.segs, 'after'], `step ${JSON.stringify(d)} is listed twice`);
          continue;
        }
        listed.add(d);
        const target = byId.get(d);
        if (target === undefined) {
          this.problem(
            [...s.segs, 'after'],
            `unknown step ${JSON.stringify(d)}${suggestion(d, byId.keys())}`,
          );
        } else if (!visible(s.group, target.group)) {
          const where = target.message === null ? 'the task' : `messages[${target.message}]`;
          const why =
            s.group === 0
              ? `is only added later, by ${where}`
              : `is added by ${where}, which does not come before this follow-up`;
          this.problem([...s.segs, 'after'], `step ${JSON.stringify(d)} ${why}`);
        } else {
          deps.push(target);
        }
      }
      edges.set(s, deps);
      this.checkInputs(s, listed, byId, visible);
    }
    groups.forEach((g, k) => {
      const base: Seg[] =
        k === 0 ? ['tasks', i, 'steps'] : ['messages', followUps[k - 1]!.index, 'steps'];
      this.checkCycles(g, edges, base);
    });
  }

  private entries(steps: unknown, base: Seg[], group: number, message: number | null): StepEntry[] {
    const out: StepEntry[] = [];
    arr(steps).forEach((raw, k) => {
      if (isRecord(raw))
        out.push({ segs: [...base, k], raw, id: str(own(raw, 'id')), group, message });
    });
    return out;
  }

  /** Tool exists, args fit its schema, and the tool answers them without an error. */
  private checkStep(s: StepEntry): void {
    this.outcome(s, true);
  }

  /** The outcome of a step's expected args (null when it cannot be known); reports problems once. */
  private outcome(s: StepEntry, report: boolean): Outcome | null {
    if (this.outcomes.has(s)) return this.outcomes.get(s)!;
    const result = this.computeOutcome(s, report);
    this.outcomes.set(s, result);
    return result;
  }

  private computeOutcome(s: StepEntry, report: boolean): Outcome | null {
    const bad = (rest: Seg, message: string): null => {
      if (report) this.problem([...s.segs, rest], message);
      return null;
    };
    const toolName = str(own(s.raw, 'tool'));
    if (toolName === undefined) return null;
    const tool = this.tools.get(toolName);
    // Without a usable tools list, every step would be "unknown": the schema problem says it all.
    if (tool === undefined && this.tools.size === 0) return null;
    if (tool === undefined)
      return bad(
        'tool',
        `unknown tool ${JSON.stringify(toolName)}${suggestion(toolName, this.tools.keys())}`,
      );
    const args = argsSchema.safeParse(own(s.raw, 'args'));
    if (!args.success || tool.runtime === null) return null;
    const mismatch = tool.runtime.check(args.data);
    if (mismatch !== null) return bad('args', mismatch);
    if (tool.stateful) {
      // The reference run's outcome (its failure is reported by the stateful pass).
      const reference = this.referenceOutcomes.get(canonicalJson(s.segs));
      return reference === undefined || !reference.ok ? null : reference;
    }
    let outcome: Outcome;
    try {
      outcome = tool.runtime.evaluate(args.data);
    } catch (error) {
      return bad('args', `tool fails on these args: ${errorText(error)}`);
    }
    if (!outcome.ok) return bad('args', `tool returns an error for these args: ${outcome.error}`);
    return outcome;
  }

  private checkInputs(
    s: StepEntry,
    listed: ReadonlySet<string>,
    byId: ReadonlyMap<string, StepEntry>,
    visible: (from: number, to: number) => boolean,
  ): void {
    arr(own(s.raw, 'inputs')).forEach((input, k) => {
      if (!isRecord(input)) return;
      const at = (...rest: Seg[]): Seg[] => [...s.segs, 'inputs', k, ...rest];
      const from = str(own(input, 'from'));
      const arg = str(own(input, 'arg'));
      const path = str(own(input, 'path'));
      let argValue: unknown;
      const args = own(s.raw, 'args');
      if (arg !== undefined && arg !== '' && isRecord(args)) {
        argValue = getPath(args, arg);
        if (argValue === undefined)
          this.problem(at('arg'), `${JSON.stringify(arg)} is absent from the args`);
      }
      if (from === undefined) return;
      const source = byId.get(from);
      if (source === undefined) {
        this.problem(at('from'), `unknown step ${JSON.stringify(from)}`);
        return;
      }
      if (!listed.has(from)) {
        this.problem(at('from'), `step ${JSON.stringify(from)} is not listed in after`);
        return;
      }
      if (!visible(s.group, source.group) || path === undefined) return; // reported with after / by the schema
      const outcome = this.outcome(source, true);
      if (outcome === null || !outcome.ok) return; // the source step's own problem says why
      const value = getPath(outcome.result, path);
      if (value === undefined) {
        this.problem(
          at('path'),
          `${JSON.stringify(path)} is absent from the result of step ${from}`,
        );
        return;
      }
      if (argValue === undefined || arg === undefined) return;
      let equal: boolean;
      try {
        equal = jsonEqual(value, argValue);
      } catch {
        return; // args that are not JSON: the schema check reports them
      }
      if (!equal) {
        const where = path === '' ? `the result of ${from}` : `${path} of ${from}`;
        this.problem(
          at(),
          `value at ${where} (${show(value)}) differs from args.${arg} (${show(argValue)})`,
        );
      }
    });
  }

  /** One problem per dependency cycle (strongly connected component) within a group. */
  private checkCycles(
    group: StepEntry[],
    edges: ReadonlyMap<StepEntry, StepEntry[]>,
    base: Seg[],
  ): void {
    const inGroup = new Set(group);
    const next = (s: StepEntry): StepEntry[] => (edges.get(s) ?? []).filter((d) => inGroup.has(d));
    // Tarjan's algorithm, iterative so a long chain cannot overflow the stack.
    let counter = 0;
    const index = new Map<StepEntry, number>();
    const low = new Map<StepEntry, number>();
    const onStack = new Set<StepEntry>();
    const stack: StepEntry[] = [];
    const components: StepEntry[][] = [];
    for (const root of group) {
      if (index.has(root)) continue;
      const work: Array<{ node: StepEntry; i: number }> = [{ node: root, i: 0 }];
      index.set(root, counter);
      low.set(root, counter++);
      stack.push(root);
      onStack.add(root);
      while (work.length > 0) {
        const frame = work[work.length - 1]!;
        const deps = next(frame.node);
        if (frame.i < deps.length) {
          const d = deps[frame.i++]!;
          if (!index.has(d)) {
            index.set(d, counter);
            low.set(d, counter++);
            stack.push(d);
            onStack.add(d);
            work.push({ node: d, i: 0 });
          } else if (onStack.has(d)) {
            low.set(frame.node, Math.min(low.get(frame.node)!, index.get(d)!));
          }
          continue;
        }
        work.pop();
        const parent = work[work.length - 1];
        if (parent !== undefined)
          low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
        if (low.get(frame.node) === index.get(frame.node)) {
          const comp: StepEntry[] = [];
          let x: StepEntry;
          do {
            x = stack.pop()!;
            onStack.delete(x);
            comp.push(x);
          } while (x !== frame.node);
          if (comp.length > 1 || next(frame.node).includes(frame.node)) components.push(comp);
        }
      }
    }
    const order = new Map(group.map((s, k) => [s, k]));
    const cycles = components
      .map((comp) => {
        const start = comp.reduce((a, b) => (order.get(a)! <= order.get(b)! ? a : b));
        // Read along `after`, as written in the file: a -> b when a is after b.
        const members = new Set(comp);
        return this.cycleFrom(start, (s) => next(s).filter((d) => members.has(d)));
      })
      .sort((a, b) => order.get(a[0]!)! - order.get(b[0]!)!);
    for (const cycle of cycles) {
      this.problem(
        base,
        `dependency cycle ${[...cycle, cycle[0]!].map((s) => s.id ?? '?').join(' -> ')}`,
      );
    }
  }

  /** A shortest cycle through `start` (breadth-first), as [start, ..., last]: last leads back to start. */
  private cycleFrom(start: StepEntry, next: (s: StepEntry) => StepEntry[]): StepEntry[] {
    const parent = new Map<StepEntry, StepEntry>();
    const queue: StepEntry[] = [start];
    for (let h = 0; h < queue.length; h++) {
      const s = queue[h]!;
      for (const d of next(s)) {
        if (d === start) {
          const path = [s];
          for (let p = s; p !== start; ) {
            p = parent.get(p)!;
            path.push(p);
          }
          return path.reverse();
        }
        if (!parent.has(d)) {
          parent.set(d, s);
          queue.push(d);
        }
      }
    }
    return [start];
  }

  // -- Follow-up messages.

  private checkMessage(m: Record<string, unknown>, j: number, tasks: unknown[]): void {
    const task = str(own(m, 'task'));
    const atMs = num(own(m, 'atMs'));
    if (atMs !== undefined && atMs > this.maxTimeMs) {
      this.problem(
        ['messages', j, 'atMs'],
        `the follow-up comes at ${atMs}ms, after limits.maxTimeMs (${this.maxTimeMs}ms)`,
      );
    }
    if (task === undefined) return;
    const ti = this.taskIndex.get(task);
    if (ti === undefined) {
      this.problem(
        ['messages', j, 'task'],
        `unknown task ${JSON.stringify(task)}${suggestion(task, this.taskIndex.keys())}`,
      );
      // Its steps belong to no task: still check their tools and args.
      for (const s of this.entries(own(m, 'steps'), ['messages', j, 'steps'], 1, j))
        this.checkStep(s);
      return;
    }
    const arrivalMs = num(own(tasks[ti], 'arrivalMs')) ?? 0;
    if (atMs !== undefined && atMs < arrivalMs) {
      this.problem(
        ['messages', j, 'atMs'],
        `the follow-up (at ${atMs}ms) comes before task ${task} arrives (${arrivalMs}ms)`,
      );
    }
  }

  /** A tool that always fails cannot perform the steps that use it. */
  private checkUsage(tasks: unknown[], messages: unknown[]): void {
    const used = new Set<string>();
    const steps = [
      ...tasks.flatMap((t) => arr(own(t, 'steps'))),
      ...messages.flatMap((m) => arr(own(m, 'steps'))),
    ];
    for (const s of steps) {
      const t = str(own(s, 'tool'));
      if (t !== undefined) used.add(t);
    }
    for (const tool of this.tools.values()) {
      if (tool.failureRate === 1 && used.has(tool.name)) {
        this.problem(
          ['tools', tool.index, 'failure', 'rate'],
          'every call fails (rate 1), but expected steps use this tool',
        );
      }
    }
  }
}
