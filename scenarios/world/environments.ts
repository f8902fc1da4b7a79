/**
 * The live instances of a scenario's stateful environments during one episode, and which instance
 * a call acts on. The world (world.ts) applies effects through `EpisodeEnvironments.apply`;
 * scoring and `replay inspect` rebuild the same states from the events (`StateReplay`), each
 * `state_changed` event naming the call whose effect applied and the instance it applied to.
 *
 * Which instance a call acts on (decided when it is issued, `route`):
 * - a shared environment: its one instance;
 * - otherwise the copy of a task: the task of the step the call performs; for a call that performs
 *   no step, the task its `ref` names (the ref is the task's id, or starts with `<task id>/`), else
 *   the first task (plan order) that uses the environment and is open (its task or a follow-up
 *   arrived, and no answer was given since: `RouteOpen`), else the first task that uses it, else
 *   the first task. The same rule names the task a call on a shared instance is counted for.
 *
 * Naming the task (`TASK_PARAM`): a tool whose environment is per-task and used by two or more of
 * the scenario's tasks takes an optional `task_id` parameter (one of those tasks' ids, the ids the
 * agent is given with each task), so an agent that knows no plan (a model) can say which copy a
 * call acts on: the ref is a plan-aware agent's handle, a model's is its tool-call id. The world
 * removes the parameter before the operation sees the args; a call naming a task performs only
 * that task's steps (matching ignores the parameter) and acts on that task's copy. A name that is
 * not one of those tasks makes the call invalid (a tool error the agent sees). Tools of a shared
 * environment, of an environment one task uses, or whose own schema has a `task_id` take none.
 */
import type { GoalCheck, JsonValue, Scenario } from '../spec/schema.js';
import {
  environmentsUsed,
  goalOf,
  referenceRun,
  toolOperations,
  type ToolOperation,
} from '../spec/stateful.js';
import { MAX_STATE_BYTES, textDigest } from '../envs/state.js';
import { canonicalize, canonicalJson } from '../spec/canonical.js';
import type { EpisodeEvent } from './events.js';
import type { ToolInfo } from '../protocol.js';

/** The parameter that names the task a call of a stateful tool is for (see the module comment). */
export const TASK_PARAM = 'task_id';

/** A call's args with the task parameter taken out (`EnvironmentLayout.splitTaskArg`). */
export interface TaskArg {
  /** The args the operation sees: the same object when there was no parameter to take out. */
  readonly args: JsonValue;
  /** The task the call names, or null. */
  readonly task: string | null;
  /** Why the call is invalid (the name is not one of the tasks), or null. */
  readonly error: string | null;
}

function isObject(value: unknown): value is { [key: string]: JsonValue } {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** An instance: the environment's id, and the task whose copy it is (null: shared). */
export interface InstanceRef {
  readonly environment: string;
  readonly task: string | null;
}

/** An instance, and the task the call is counted for (its copy's task; on a shared one, by the same rule). */
export interface Route extends InstanceRef {
  readonly owner: string;
}

/**
 * Tasks open for routing: arrived (or a follow-up arrived) and no answer given since. Kept from
 * events alone, so the world and scoring route a call alike.
 */
export class RouteOpen {
  private readonly open = new Set<string>();

  note(ev: EpisodeEvent): void {
    if (ev.type === 'task_arrived' || ev.type === 'message_arrived') this.open.add(ev.task);
    else if (ev.type === 'answer_given') this.open.delete(ev.task);
  }

  readonly isOpen = (task: string): boolean => this.open.has(task);
}

/** What `route` needs to know about the episode so far. */
export interface RouteFacts {
  readonly stepTask: string | null;
  readonly ref: string | null;
  /** Arrived and not answered since (`RouteOpen`). */
  isOpen(task: string): boolean;
}

/** How a scenario's tools map to instances; built once per scenario (see `compiledScenario`). */
export class EnvironmentLayout {
  readonly ops: ReadonlyMap<string, ToolOperation>;
  /** Environment id -> the tasks that use it (plan order). */
  private readonly users = new Map<string, string[]>();
  private readonly taskIds: readonly string[];
  /** Tool name -> the tasks a call may name (`TASK_PARAM`), for the tools that take it. */
  private readonly choices = new Map<string, readonly string[]>();

  constructor(readonly scenario: Scenario) {
    this.ops = toolOperations(scenario);
    this.taskIds = scenario.tasks.map((t) => t.id);
    for (const d of scenario.environments ?? []) this.users.set(d.id, []);
    if (this.ops.size === 0) return; // stateless: no task uses an environment
    for (const task of scenario.tasks)
      for (const id of environmentsUsed(scenario, task, this.ops))
        this.users.get(id)!.push(task.id);
    for (const tool of scenario.tools) {
      const to = this.ops.get(tool.name);
      const users = to === undefined ? [] : this.usersOf(to.decl.id);
      const own = isObject(tool.parameters.properties) && TASK_PARAM in tool.parameters.properties;
      if (to !== undefined && to.decl.shared !== true && users.length > 1 && !own)
        this.choices.set(tool.name, users);
    }
  }

  /** The tasks a call of `tool` may name with `TASK_PARAM`, or undefined when it takes none. */
  taskChoices(tool: string): readonly string[] | undefined {
    return this.choices.get(tool);
  }

  /**
   * The task `args` name and the args without the parameter. Only the parameter's presence is
   * looked at: the rest of the args are the operation's to check.
   */
  splitTaskArg(tool: string, args: JsonValue): TaskArg {
    const choices = this.choices.get(tool);
    if (choices === undefined || !isObject(args) || !Object.hasOwn(args, TASK_PARAM))
      return { args, task: null, error: null };
    const { [TASK_PARAM]: named, ...rest } = args;
    // The value is not echoed: it is the agent's, of any size.
    if (typeof named !== 'string' || !choices.includes(named))
      return {
        args: rest,
        task: null,
        error: `args.${TASK_PARAM} must be one of ${choices.join(', ')} (the tasks that use this tool's environment)`,
      };
    return { args: rest, task: named, error: null };
  }

  /** `tool` as observations list it: with the `TASK_PARAM` parameter when it takes one. */
  toolInfo(tool: ToolInfo): ToolInfo {
    const choices = this.choices.get(tool.name);
    if (choices === undefined) return tool;
    const params = tool.parameters;
    const properties = isObject(params.properties) ? params.properties : {};
    const param: JsonValue = {
      type: 'string',
      enum: [...choices],
      description:
        "The id of the task this call is for. Each of these tasks has its own copy of this tool's environment and the call reads or changes that task's copy; give it whenever more than one of them is open.",
    };
    return {
      ...tool,
      parameters: { ...params, properties: { ...properties, [TASK_PARAM]: param } },
    };
  }

  /** The tasks that use environment `id` (plan order): those with a copy of it. */
  usersOf(id: string): readonly string[] {
    return this.users.get(id) ?? [];
  }

  get stateful(): boolean {
    return this.ops.size > 0;
  }

  private readonly goals = new Map<string, GoalCheck[]>();

  /** A task's goal (spec/stateful.ts `goalOf`), its default worked out once per scenario. */
  goal(taskId: string): GoalCheck[] {
    let hit = this.goals.get(taskId);
    if (hit === undefined) {
      const task = this.scenario.tasks.find((t) => t.id === taskId)!;
      hit = goalOf(this.scenario, task, () => referenceRun(this.scenario, task, this.ops).states);
      this.goals.set(taskId, hit);
    }
    return hit;
  }

  /** The instance a call of `tool` acts on (see the module comment), or null for a stateless tool. */
  route(tool: string, facts: RouteFacts): Route | null {
    const to = this.ops.get(tool);
    if (to === undefined) return null;
    const environment = to.decl.id;
    const owner = this.owner(environment, facts);
    return { environment, task: to.decl.shared === true ? null : owner, owner };
  }

  private owner(environment: string, facts: RouteFacts): string {
    if (facts.stepTask !== null) return facts.stepTask;
    const ref = facts.ref;
    if (ref !== null) {
      const named = this.taskIds.find((t) => ref === t || ref.startsWith(`${t}/`));
      if (named !== undefined) return named;
    }
    const users = this.users.get(environment) ?? [];
    return users.find((t) => facts.isOpen(t)) ?? users[0] ?? this.taskIds[0]!;
  }
}

function keyOf(ref: InstanceRef): string {
  return ref.task === null ? ref.environment : `${ref.environment}\u0000${ref.task}`;
}

/** The states of an episode's instances; an instance starts as its environment's initial state. */
export class InstanceStates {
  private readonly states = new Map<string, JsonValue>();

  constructor(private readonly layout: EnvironmentLayout) {}

  get(ref: InstanceRef): JsonValue {
    const hit = this.states.get(keyOf(ref));
    if (hit !== undefined) return hit;
    const decl = (this.layout.scenario.environments ?? []).find((d) => d.id === ref.environment);
    if (decl === undefined) throw new Error(`no environment ${ref.environment}`);
    return decl.initial;
  }

  set(ref: InstanceRef, state: JsonValue): void {
    this.states.set(keyOf(ref), state);
  }

  /**
   * Applies a call of `tool` with `args` to `ref`'s state at `nowUs`: the new state is kept when
   * the operation succeeds and may change state. Returns the outcome and, when the state was
   * written, its digest.
   */
  apply(
    tool: string,
    args: JsonValue,
    ref: InstanceRef,
    nowUs: number,
  ): {
    outcome: { ok: true; result: JsonValue } | { ok: false; error: string };
    digest: string | null;
  } {
    const to = this.layout.ops.get(tool)!;
    // A copy: an operation may keep parts of its args in the state (a post's tags), and the args
    // object is the agent's, which may change it after the call.
    const own = canonicalize(args) as { [key: string]: JsonValue };
    const out = to.op.apply(this.get(ref), own, { nowUs });
    if (!out.ok) return { outcome: out, digest: null };
    // Canonical, as every JSON value in an episode's events is (a replay decodes it so).
    const result = canonicalize(out.result);
    if (to.op.readOnly) return { outcome: { ok: true, result }, digest: null };
    const text = canonicalJson(out.state);
    const bytes = Buffer.byteLength(text);
    if (bytes > MAX_STATE_BYTES) {
      const error = `${ref.environment}'s state would reach ${bytes} bytes, over the limit of ${MAX_STATE_BYTES}: the ${tool} is refused`;
      return { outcome: { ok: false, error }, digest: null };
    }
    this.set(ref, out.state);
    return { outcome: { ok: true, result }, digest: textDigest(text) };
  }

  /** The state of `environment` as `task` sees it at the end (its copy, or the shared instance). */
  stateFor(environment: string, task: string): JsonValue {
    const decl = (this.layout.scenario.environments ?? []).find((d) => d.id === environment);
    return this.get({ environment, task: decl?.shared === true ? null : task });
  }
}

/**
 * Rebuilds instance states from an episode's events, as they were after each event: each
 * `state_changed` re-applies its call (tool and args from its `call_issued`) at its time, and
 * checks the digest the world recorded. `diverged` names the first event whose digest differs.
 */
export class StateReplay {
  readonly states: InstanceStates;
  private readonly issued = new Map<number, { tool: string; args: JsonValue }>();
  diverged: {
    readonly index: number;
    readonly expected: string;
    readonly got: string | null;
  } | null = null;
  private index = -1;

  constructor(private readonly layout: EnvironmentLayout) {
    this.states = new InstanceStates(layout);
  }

  private layoutHas(tool: string): boolean {
    return this.layout.ops.has(tool);
  }

  /**
   * Whether `ref` is an instance `tool` can act on: its environment, shared or one task's copy. A
   * replay's record may name anything; re-applying the call elsewhere would run an operation on
   * another environment's state, or on none.
   */
  private actsOn(tool: string, ref: InstanceRef): boolean {
    const decl = this.layout.ops.get(tool)!.decl;
    if (decl.id !== ref.environment) return false;
    if (decl.shared === true) return ref.task === null;
    return ref.task !== null && this.layout.scenario.tasks.some((t) => t.id === ref.task);
  }

  apply(ev: EpisodeEvent): void {
    this.index++;
    // The operation saw the args without the task parameter (the world took it out).
    if (ev.type === 'call_issued')
      this.issued.set(ev.callId, {
        tool: ev.tool,
        args: this.layout.splitTaskArg(ev.tool, ev.args).args,
      });
    if (ev.type !== 'state_changed') return;
    const known = this.issued.get(ev.callId);
    const ref = { environment: ev.environment, task: ev.task };
    const call =
      known !== undefined && this.layoutHas(known.tool) && this.actsOn(known.tool, ref)
        ? known
        : undefined;
    const got =
      call === undefined ? null : this.states.apply(call.tool, call.args, ref, ev.timeUs).digest;
    if (got !== ev.digest && this.diverged === null)
      this.diverged = { index: this.index, expected: ev.digest, got };
  }
}
