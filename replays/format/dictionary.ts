/**
 * What both sides of the record codec derive from the header's scenario, so records can refer to
 * it instead of repeating it: the tool, task and step tables (plan order), the answer strings a
 * plan-following agent gives, each tool's runtime (to recompute results), and the episode state
 * that makes fields derivable (last time, decision, call id, step attempts, calls in flight).
 *
 * Interned references: a tool, task or answer field is written as its index in the table when it
 * is in the table, else as the string itself. A step is its index in plan order.
 */
import { canonEqual, canonicalize } from '../../scenarios/spec/canonical.js';
import type { EpisodeEvent } from '../../scenarios/world/events.js';
import { compiledScenario } from '../../scenarios/world/compiled.js';
import type { Plan, PlanStep } from '../../scenarios/world/plan.js';
import type { JsonValue, Scenario } from '../../scenarios/spec/schema.js';
import type { Outcome, ToolRuntime } from '../../scenarios/spec/tools.js';

/**
 * Dictionaries by scenario object. Timed as whole commands on the default suite (7,200 episodes,
 * five pairs of fresh processes, CPU user + system) with a dictionary made anew for each encoder
 * and decoder instead (one per recorded episode, two per verified one): `tooltime run --out DIR`
 * took 1.05x (0.95-1.10) and `tooltime replay verify DIR/replays` 1.05x (0.91-1.12). Kept, at
 * the 5% bar (bench/RESULTS.md).
 */
const dictionaries = new WeakMap<Scenario, Dictionary>();

/** The dictionary of a scenario, made once per scenario object (it holds only derived, immutable data and caches). */
export function dictionaryFor(scenario: Scenario): Dictionary {
  let d = dictionaries.get(scenario);
  if (d === undefined) {
    d = new Dictionary(scenario);
    dictionaries.set(scenario, d);
  }
  return d;
}

export class Dictionary {
  readonly scenario: Scenario;
  readonly plan: Plan;
  readonly tools: readonly string[];
  readonly tasks: readonly string[];
  readonly steps: readonly PlanStep[];
  /** Canonical copies of each step's args (what a decoder hands out). */
  readonly stepArgs: readonly JsonValue[];
  readonly answers: readonly string[];
  private readonly toolIndex = new Map<string, number>();
  private readonly taskIndex = new Map<string, number>();
  private readonly answerIndex = new Map<string, number>();
  /** Step indices by task, then step id: looked up without building the `task/step` key. */
  private readonly stepsByTask = new Map<string, Map<string, number>>();
  private readonly runtimes: ReadonlyMap<string, ToolRuntime>;
  private readonly stepOutcomes: Array<Outcome | null | undefined>;
  /** By step: a result object found equal to the step's successful outcome (see `succeedsWith`). */
  private readonly stepResults: unknown[];

  constructor(scenario: Scenario) {
    this.scenario = scenario;
    const compiled = compiledScenario(scenario);
    this.plan = compiled.plan;
    this.runtimes = compiled.tools;
    this.tools = scenario.tools.map((t) => t.name);
    this.tasks = scenario.tasks.map((t) => t.id);
    this.steps = this.plan.steps;
    this.stepArgs = this.steps.map((s) => canonicalize(s.args));
    const answers: string[] = [];
    for (const task of this.plan.tasks) {
      answers.push(task.firstAnswer.mustContain.join('; '));
      for (const m of task.messages)
        if (m.answer !== null) answers.push(m.answer.mustContain.join('; '));
    }
    this.answers = answers;
    // The first index of a name wins.
    this.tools.forEach((t, i) => {
      if (!this.toolIndex.has(t)) this.toolIndex.set(t, i);
    });
    this.tasks.forEach((t, i) => {
      if (!this.taskIndex.has(t)) this.taskIndex.set(t, i);
    });
    this.answers.forEach((a, i) => {
      if (!this.answerIndex.has(a)) this.answerIndex.set(a, i);
    });
    this.steps.forEach((s, i) => {
      let ids = this.stepsByTask.get(s.task);
      if (ids === undefined) this.stepsByTask.set(s.task, (ids = new Map()));
      ids.set(s.id, i);
    });
    this.stepOutcomes = new Array<Outcome | null | undefined>(this.steps.length);
    this.stepResults = new Array<unknown>(this.steps.length);
  }

  private readonly equalTo = new WeakMap<object, unknown>();

  /**
   * `canonEqual(a, b)`, remembering a success for the object `a`: agents hand the same args
   * objects to many events, so each is compared once. Events are immutable: an
   * object compared here must not change afterwards.
   */
  same(a: unknown, b: unknown): boolean {
    if (a === b) return true;
    if (a === null || typeof a !== 'object') return canonEqual(a, b);
    if (this.equalTo.get(a) === b) return true;
    if (!canonEqual(a, b)) return false;
    this.equalTo.set(a, b);
    return true;
  }

  /**
   * Whether a successful attempt of `call` returns `result` (canonically equal to its outcome's).
   * For a call of a step with its own tool and args, the result object last found equal is kept
   * per step: a table tool hands out its row's own object, a builtin a primitive, the same in
   * every episode of the scenario, so most completions are one comparison of identity. Events are
   * immutable: a result object compared here must not change afterwards.
   */
  succeedsWith(call: CallInfo, result: unknown): boolean {
    const k = this.ownStep(call);
    if (k >= 0 && result === this.stepResults[k] && result !== undefined) return true;
    const o = this.outcomeOf(call, k);
    if (o === null || !o.ok || !canonEqual(result, o.result)) return false;
    if (k >= 0) this.stepResults[k] = result;
    return true;
  }

  /** The step `call` performs with that step's own tool and args, or -1 (an invalid call performs none). */
  private ownStep(call: CallInfo): number {
    const k = call.step;
    return call.invalid === null &&
      k >= 0 &&
      this.steps[k]!.tool === call.tool &&
      this.isStepArgs(k, call.args)
      ? k
      : -1;
  }

  /** `args` are step k's own args (the plan's object, the canonical copy, or equal to them). */
  isStepArgs(k: number, args: unknown): boolean {
    return args === this.steps[k]!.args || this.same(args, this.stepArgs[k]);
  }

  toolRef(name: string): number | string {
    return this.toolIndex.get(name) ?? name;
  }

  taskRef(id: string): number | string {
    return this.taskIndex.get(id) ?? id;
  }

  answerRef(content: string): number | string {
    return this.answerIndex.get(content) ?? content;
  }

  /** Index of the step `task/step`, or -1. */
  stepIndex(task: string | null, step: string | null): number {
    if (task === null || step === null) return -1;
    return this.stepsByTask.get(task)?.get(step) ?? -1;
  }

  stepByRef(ref: string): number {
    return this.plan.stepByKey(ref)?.index ?? -1;
  }

  /**
   * The first step (plan order) with these tool and args, or -1: an encoding shortcut (the action's
   * args are written as that step's index), not which step the call performs (that is the world's
   * `StepMatcher`, which also weighs what is done and in flight).
   */
  stepWithArgs(tool: string, args: unknown): number {
    return this.plan.stepsMatching(tool, args)[0]?.index ?? -1;
  }

  runtime(tool: string): ToolRuntime | null {
    return this.runtimes.get(tool) ?? null;
  }

  /**
   * What a successful attempt of this call returns (canonical), or null when it cannot be known
   * (invalid call, unknown tool, the tool throws).
   */
  outcome(call: CallInfo): Outcome | null {
    return this.outcomeOf(call, this.ownStep(call));
  }

  /** `outcome(call)`, given `ownStep(call)`: a step's own call is evaluated once per step. */
  private outcomeOf(call: CallInfo, ownStep: number): Outcome | null {
    if (call.invalid !== null) return null;
    if (ownStep < 0) return this.evaluate(call.tool, call.args);
    let o = this.stepOutcomes[ownStep];
    if (o === undefined) {
      o = this.evaluate(call.tool, this.stepArgs[ownStep]!);
      this.stepOutcomes[ownStep] = o;
    }
    return o;
  }

  private evaluate(tool: string, args: JsonValue): Outcome | null {
    const rt = this.runtime(tool);
    if (rt === null) return null;
    try {
      const o = rt.evaluate(args as Record<string, JsonValue>);
      if (!o.ok) return o;
      return { ok: true, result: canonicalize(o.result) };
    } catch {
      return null;
    }
  }
}

export interface CallInfo {
  readonly tool: string;
  readonly args: JsonValue;
  /** Step index, or -1. */
  readonly step: number;
  readonly invalid: string | null;
}

/** The episode so far, as both the encoder and the decoder track it. */
export class EpisodeState {
  lastTimeUs = 0;
  lastDecision = 0;
  decisionStartUs = 0;
  lastCallId = 0;
  readonly attempts: number[];
  readonly calls = new CallsInFlight();

  constructor(readonly dict: Dictionary) {
    this.attempts = new Array<number>(dict.steps.length).fill(0);
  }

  /** Updates after `event` has been written or read (the encoder calls the parts itself, per event type). */
  apply(e: EpisodeEvent): void {
    switch (e.type) {
      case 'decision_started':
        this.decisionStarted(e.decision, e.timeUs);
        break;
      case 'call_issued':
        this.callIssued(e, this.dict.stepIndex(e.task, e.step));
        break;
      case 'call_completed':
        this.callCompleted(e.callId);
        break;
      default:
        break;
    }
    this.lastTimeUs = e.timeUs;
  }

  decisionStarted(decision: number, atUs: number): void {
    this.lastDecision = decision;
    this.decisionStartUs = atUs;
  }

  /** `step`: the event's step index (`dict.stepIndex(e.task, e.step)`). */
  callIssued(e: Extract<EpisodeEvent, { type: 'call_issued' }>, step: number): void {
    this.lastCallId = e.callId;
    if (step >= 0) this.attempts[step] = e.attempt;
    this.calls.set(e.callId, { tool: e.tool, args: e.args, step, invalid: e.invalid });
  }

  callCompleted(callId: number): void {
    this.calls.delete(callId);
  }
}

/**
 * Calls issued and not yet completed, by call id. The world numbers calls 1, 2, 3... in each
 * episode, so an array indexed by id serves (a Map's hashing was a tenth of encoding's time); a
 * record naming a far larger id (a corrupt or hostile file) makes the array sparse, which V8 keeps
 * as a dictionary: slower, never larger than the ids named.
 */
export class CallsInFlight {
  private readonly byId: Array<CallInfo | undefined> = [];

  /** Undefined for anything not a call id in flight (a malformed event's id, say `'__proto__'`). */
  get(callId: number): CallInfo | undefined {
    return isId(callId) ? this.byId[callId] : undefined;
  }

  set(callId: number, call: CallInfo): void {
    if (!isId(callId))
      throw new Error(
        `replay state invariant: call id ${String(callId)} is not a non-negative integer`,
      );
    this.byId[callId] = call;
  }

  delete(callId: number): void {
    if (isId(callId)) this.byId[callId] = undefined;
  }
}

function isId(callId: unknown): callId is number {
  return typeof callId === 'number' && Number.isSafeInteger(callId) && callId >= 0;
}
