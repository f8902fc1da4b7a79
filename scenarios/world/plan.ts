/**
 * The plan of a scenario: every expected step with its release time, dependencies and data flow,
 * in one canonical order (tasks in file order; each task's own steps, then the steps its follow-up
 * messages add, in arrival order). The world, the oracle, the baseline agents and scoring all read
 * the plan from here, so they agree on what "step S of task T" is, and on the order follow-ups
 * arrive in (message-order.ts: by time, ties in file order), whatever order the file lists them in.
 */
import { assertInvariant } from '../../engine/assert.js';
import { msToUs } from '../../engine/index.js';
import { canonicalJson } from '../spec/canonical.js';
import { arrivalOrder } from '../spec/message-order.js';
import type { AnswerSpec, JsonValue, Scenario, StepInput } from '../spec/schema.js';

export interface PlanStep {
  /** `task/step`: unique across the scenario. */
  readonly key: string;
  /** Position in plan order (`plan.steps[index]` is this step). */
  readonly index: number;
  readonly task: string;
  readonly id: string;
  readonly tool: string;
  readonly args: Readonly<Record<string, JsonValue>>;
  /** Canonical JSON of args, for matching calls. */
  readonly argsKey: string;
  readonly after: readonly string[];
  readonly inputs: readonly StepInput[];
  /** When the step becomes known: the task's arrival, or the follow-up that adds it. */
  readonly releaseUs: number;
  /** Index (in `plan.messages`, arrival order) of the follow-up that adds it, or null for the task's own steps. */
  readonly message: number | null;
}

export interface PlanMessage {
  /** Position in arrival order (`plan.messages[index]` is this message): what events and replays name. */
  readonly index: number;
  /** Position in the scenario's `messages` as the file lists them. */
  readonly fileIndex: number;
  readonly task: string;
  readonly atUs: number;
  readonly text: string;
  /** The expected answer from this follow-up on, when it changes it. */
  readonly answer: AnswerSpec | null;
}

export interface PlanTask {
  readonly id: string;
  readonly arrivalUs: number;
  readonly text: string;
  readonly steps: readonly PlanStep[];
  /** Its follow-ups, in arrival order: the n-th to arrive is `messages[n - 1]`. */
  readonly messages: readonly PlanMessage[];
  /** The expected answer to the first request alone. */
  readonly firstAnswer: AnswerSpec;
  /** The expected final answer: the latest answer a request sets (the task's, or a follow-up's). */
  readonly answer: AnswerSpec;
  /** When the last request about this task arrives (arrival or last follow-up). */
  readonly lastRequestUs: number;
  /** Position in plan order (`plan.tasks[index]` is this task). */
  readonly index: number;
  /**
   * The expected answer text (its `mustContain` joined by `; `) once `k` of the task's follow-ups
   * have been seen, for k = 0 .. messages.length: the latest request that sets an answer wins.
   */
  readonly answerTexts: readonly string[];
}

export class Plan {
  readonly tasks: readonly PlanTask[];
  readonly steps: readonly PlanStep[];
  /** Every follow-up, in arrival order (message-order.ts). */
  readonly messages: readonly PlanMessage[];
  private readonly byKey: ReadonlyMap<string, PlanStep>;
  private readonly byTask: ReadonlyMap<string, PlanTask>;
  /** Steps by tool, then by canonical args: what a call performs. */
  private readonly byCall: ReadonlyMap<string, ReadonlyMap<string, readonly PlanStep[]>>;
  /** Each step's args object to its canonical JSON: agents pass a step's own args object along. */
  private readonly argsKeys: ReadonlyMap<unknown, string>;
  /** By step index: its dependencies, and the steps that list it in `after` (each once per listing). */
  private readonly dependenciesOf: ReadonlyArray<readonly PlanStep[]>;
  private readonly dependentsOf: ReadonlyArray<readonly PlanStep[]>;

  constructor(scenario: Scenario) {
    const messages: PlanMessage[] = arrivalOrder(scenario.messages).map((fileIndex, index) => {
      const m = scenario.messages[fileIndex]!;
      return { index, fileIndex, task: m.task, atUs: msToUs(m.atMs), text: m.text, answer: m.answer ?? null };
    });
    messages.forEach((m, i) => assert(i === 0 || messages[i - 1]!.atUs <= m.atUs, `follow-ups out of arrival order at ${i}`));
    const tasks: PlanTask[] = [];
    let stepCount = 0;
    for (const task of scenario.tasks) {
      const arrivalUs = msToUs(task.arrivalMs);
      const steps: PlanStep[] = task.steps.map((s) => makeStep(task.id, s, stepCount++, arrivalUs, null));
      const own = messages.filter((m) => m.task === task.id);
      let answer = task.answer;
      const answerTexts = [task.answer.mustContain.join('; ')];
      for (const m of own) {
        const follow = scenario.messages[m.fileIndex]!;
        for (const s of follow.steps) steps.push(makeStep(task.id, s, stepCount++, m.atUs, m.index));
        if (follow.answer !== undefined) answer = follow.answer;
        answerTexts.push(m.answer === null ? answerTexts.at(-1)! : m.answer.mustContain.join('; '));
      }
      const lastRequestUs = own.reduce((most, m) => Math.max(most, m.atUs), arrivalUs);
      tasks.push({ id: task.id, arrivalUs, text: task.message, steps, messages: own, firstAnswer: task.answer, answer, lastRequestUs, index: tasks.length, answerTexts });
    }
    this.tasks = tasks;
    this.messages = messages;
    this.steps = tasks.flatMap((t) => t.steps);
    this.steps.forEach((s, i) => assert(s.index === i, `step ${s.key} is at ${i}, not ${s.index}`));
    this.byKey = new Map(this.steps.map((s) => [s.key, s]));
    this.byTask = new Map([...tasks].reverse().map((t) => [t.id, t])); // the first task of an id wins, as find() did
    const byCall = new Map<string, Map<string, PlanStep[]>>();
    for (const s of this.steps) {
      let forTool = byCall.get(s.tool);
      if (forTool === undefined) byCall.set(s.tool, (forTool = new Map()));
      forTool.set(s.argsKey, [...(forTool.get(s.argsKey) ?? []), s]);
    }
    this.byCall = byCall;
    this.argsKeys = new Map(this.steps.map((s) => [s.args, s.argsKey]));
    // Dependencies resolve within the step's task. Validation guarantees each exists; an unvalidated
    // scenario may leave a hole here, which fails where a plan-aware agent reads it, as before.
    this.dependenciesOf = this.steps.map((s) => s.after.map((d) => this.step(s.task, d)!));
    const dependents: PlanStep[][] = this.steps.map(() => []);
    for (const s of this.steps) for (const d of this.dependenciesOf[s.index]!) if (d !== undefined) dependents[d.index]!.push(s);
    this.dependentsOf = dependents;
  }

  step(task: string, id: string): PlanStep | undefined {
    return this.byKey.get(`${task}/${id}`);
  }

  /** The step whose key (`task/step`) is `key`. */
  stepByKey(key: string): PlanStep | undefined {
    return this.byKey.get(key);
  }

  task(id: string): PlanTask | undefined {
    return this.byTask.get(id);
  }

  /** Dependencies of a step, as plan steps, in `after` order (shared: do not modify). */
  dependencies(step: PlanStep): readonly PlanStep[] {
    return this.dependenciesOf[step.index]!;
  }

  /** Steps that list `step` in `after`, in plan order (shared: do not modify). */
  dependents(step: PlanStep): readonly PlanStep[] {
    return this.dependentsOf[step.index]!;
  }

  /**
   * Canonical JSON of call args, or null when they are not JSON. A step's own args object is looked
   * up rather than serialized again (scenarios are immutable, so its canonical JSON cannot change).
   */
  argsKey(args: unknown): string | null {
    const known = this.argsKeys.get(args);
    if (known !== undefined) return known;
    try {
      return canonicalJson(args);
    } catch {
      return null;
    }
  }

  /** `args` is some step's own args object (part of the scenario, so it never changes). */
  isStepArgs(args: unknown): boolean {
    return this.argsKeys.has(args);
  }

  /** Every expected step a call with this tool and args would perform, in plan order. */
  stepsMatching(tool: string, args: unknown): readonly PlanStep[] {
    const key = this.argsKey(args);
    return key === null ? [] : this.stepsMatchingKey(tool, key);
  }

  /** As `stepsMatching`, given the args' canonical JSON (`argsKey`). */
  stepsMatchingKey(tool: string, argsKey: string): readonly PlanStep[] {
    return this.byCall.get(tool)?.get(argsKey) ?? [];
  }

  /**
   * Length of the longest chain of steps from `step` to the end of its task, with each step
   * weighing `weightUs(step)`: the remaining-path priority of list scheduling. For every step at
   * once, use `remainingPathsUs` (this walks the plan).
   */
  remainingPathUs(step: PlanStep, weightUs: (s: PlanStep) => number): number {
    return this.remainingPathsUs(weightUs).get(step.key)!;
  }

  /**
   * `remainingPathUs` of every step, by key, in one walk: depth first along dependents with a stack
   * of its own (a chain of any length cannot overflow the call stack), each step's value once its
   * dependents have theirs. Linear in steps and dependencies; throws on a dependency cycle.
   */
  remainingPathsUs(weightUs: (s: PlanStep) => number): Map<string, number> {
    const value = new Array<number | undefined>(this.steps.length);
    const onPath = new Uint8Array(this.steps.length);
    for (const root of this.steps) {
      if (value[root.index] !== undefined) continue;
      const work: Array<{ step: PlanStep; next: number }> = [{ step: root, next: 0 }];
      onPath[root.index] = 1;
      while (work.length > 0) {
        const frame = work[work.length - 1]!;
        const deps = this.dependentsOf[frame.step.index]!;
        if (frame.next < deps.length) {
          const d = deps[frame.next++]!;
          if (onPath[d.index] === 1) throw new Error(`dependency cycle through ${d.key}`);
          if (value[d.index] === undefined) {
            onPath[d.index] = 1;
            work.push({ step: d, next: 0 });
          }
          continue;
        }
        let rest = 0;
        for (const d of deps) rest = Math.max(rest, value[d.index]!);
        value[frame.step.index] = weightUs(frame.step) + rest;
        onPath[frame.step.index] = 0;
        work.pop();
      }
    }
    return new Map(this.steps.map((s) => [s.key, value[s.index]!]));
  }
}

function makeStep(task: string, s: { id: string; tool: string; args: Record<string, JsonValue>; after: string[]; inputs: StepInput[] }, index: number, releaseUs: number, message: number | null): PlanStep {
  return { key: `${task}/${s.id}`, index, task, id: s.id, tool: s.tool, args: s.args, argsKey: canonicalJson(s.args), after: s.after, inputs: s.inputs, releaseUs, message };
}

function assert(condition: boolean, message: string): asserts condition {
  assertInvariant(condition, 'plan', message);
}

/**
 * A set of plan positions (step or task indices), kept sorted so that it reads in plan order.
 * Adding and deleting cost a binary search and a shift of the members above: such sets hold what is in progress (ready
 * steps, open tasks), which stays small however long the plan is.
 */
export class IndexSet {
  private readonly items: number[] = [];

  get size(): number {
    return this.items.length;
  }

  has(index: number): boolean {
    return this.items[this.lowerBound(index)] === index;
  }

  // Shifting by hand rather than by `splice`: measured 2-3 times faster on the few members these
  // sets hold (splice's fixed cost dominates).
  add(index: number): void {
    const items = this.items;
    const k = this.lowerBound(index);
    if (items[k] === index) return;
    items.push(index);
    for (let i = items.length - 1; i > k; i--) items[i] = items[i - 1]!;
    items[k] = index;
  }

  delete(index: number): void {
    const items = this.items;
    const k = this.lowerBound(index);
    if (items[k] !== index) return;
    for (let i = k; i < items.length - 1; i++) items[i] = items[i + 1]!;
    items.pop();
  }

  /** The members in increasing order: a live view, not to be kept across changes to the set. */
  values(): readonly number[] {
    return this.items;
  }

  /** The first position whose member is not below `index`. */
  private lowerBound(index: number): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.items[mid]! < index) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
