/**
 * The plan of a scenario: every expected step with its release time, dependencies and data flow,
 * in one canonical order (tasks in file order; each task's own steps, then the steps its follow-up
 * messages add, in message order). The world, the oracle, the baseline agents and scoring all read
 * the plan from here, so they agree on what "step S of task T" is.
 */
import { msToUs } from '../engine/index.js';
import { canonicalJson } from './canonical.js';
import type { AnswerSpec, JsonValue, Scenario, StepInput } from './schema.js';

export interface PlanStep {
  /** `task/step`: unique across the scenario. */
  readonly key: string;
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
  /** Index of the follow-up message that adds it, or null for the task's own steps. */
  readonly message: number | null;
}

export interface PlanMessage {
  readonly index: number;
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
  readonly messages: readonly PlanMessage[];
  /** The expected answer to the first request alone. */
  readonly firstAnswer: AnswerSpec;
  /** The expected final answer: the last follow-up's answer if it sets one, else the task's. */
  readonly answer: AnswerSpec;
  /** When the last request about this task arrives (arrival or last follow-up). */
  readonly lastRequestUs: number;
}

export class Plan {
  readonly tasks: readonly PlanTask[];
  readonly steps: readonly PlanStep[];
  readonly messages: readonly PlanMessage[];
  private readonly byKey: ReadonlyMap<string, PlanStep>;
  private readonly byCall: ReadonlyMap<string, readonly PlanStep[]>;

  constructor(scenario: Scenario) {
    const messages: PlanMessage[] = scenario.messages.map((m, index) => ({ index, task: m.task, atUs: msToUs(m.atMs), text: m.text, answer: m.answer ?? null }));
    const tasks: PlanTask[] = [];
    for (const task of scenario.tasks) {
      const arrivalUs = msToUs(task.arrivalMs);
      const steps: PlanStep[] = task.steps.map((s) => makeStep(task.id, s, arrivalUs, null));
      const own = messages.filter((m) => m.task === task.id);
      let answer = task.answer;
      for (const m of own) {
        const follow = scenario.messages[m.index]!;
        for (const s of follow.steps) steps.push(makeStep(task.id, s, m.atUs, m.index));
        if (follow.answer !== undefined) answer = follow.answer;
      }
      const lastRequestUs = Math.max(arrivalUs, ...own.map((m) => m.atUs));
      tasks.push({ id: task.id, arrivalUs, text: task.message, steps, messages: own, firstAnswer: task.answer, answer, lastRequestUs });
    }
    this.tasks = tasks;
    this.messages = messages;
    this.steps = tasks.flatMap((t) => t.steps);
    this.byKey = new Map(this.steps.map((s) => [s.key, s]));
    const byCall = new Map<string, PlanStep[]>();
    for (const s of this.steps) {
      const k = `${s.tool}\u0000${s.argsKey}`;
      byCall.set(k, [...(byCall.get(k) ?? []), s]);
    }
    this.byCall = byCall;
  }

  step(task: string, id: string): PlanStep | undefined {
    return this.byKey.get(`${task}/${id}`);
  }

  task(id: string): PlanTask | undefined {
    return this.tasks.find((t) => t.id === id);
  }

  /** Dependencies of a step, as plan steps. */
  dependencies(step: PlanStep): PlanStep[] {
    return step.after.map((d) => this.step(step.task, d)!);
  }

  /** Every expected step a call with this tool and args would perform, in plan order. */
  stepsMatching(tool: string, args: unknown): readonly PlanStep[] {
    let key: string;
    try {
      key = `${tool}\u0000${canonicalJson(args)}`;
    } catch {
      return [];
    }
    return this.byCall.get(key) ?? [];
  }

  /**
   * Length of the longest chain of steps from `step` to the end of its task, with each step
   * weighing `weightUs(step)`: the remaining-path priority of list scheduling.
   */
  remainingPathUs(step: PlanStep, weightUs: (s: PlanStep) => number): number {
    const memo = new Map<string, number>();
    const dependents = (s: PlanStep) => this.tasks.find((t) => t.id === s.task)!.steps.filter((x) => x.after.includes(s.id));
    const walk = (s: PlanStep, depth: number): number => {
      if (depth > this.steps.length) throw new Error(`dependency cycle through ${s.key}`);
      const hit = memo.get(s.key);
      if (hit !== undefined) return hit;
      const rest = Math.max(0, ...dependents(s).map((d) => walk(d, depth + 1)));
      const total = weightUs(s) + rest;
      memo.set(s.key, total);
      return total;
    };
    return walk(step, 0);
  }
}

function makeStep(task: string, s: { id: string; tool: string; args: Record<string, JsonValue>; after: string[]; inputs: StepInput[] }, releaseUs: number, message: number | null): PlanStep {
  return { key: `${task}/${s.id}`, task, id: s.id, tool: s.tool, args: s.args, argsKey: canonicalJson(s.args), after: s.after, inputs: s.inputs, releaseUs, message };
}
