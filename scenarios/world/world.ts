/**
 * The world and the episode runner: one agent, one scenario, one seed, on the engine.
 *
 * Semantics (all times integer µs on the simulation clock)
 * - Tasks arrive at their `arrivalMs`, follow-ups at their `atMs` (in the plan's arrival order,
 *   message-order.ts: at one instant, tasks first, then follow-ups in file order); each is
 *   delivered to the agent.
 * - A decision starts when the agent is woken (something to deliver) or right after a decision
 *   that acted (see protocol.ts). Everything waiting is delivered at its start, in event order.
 *   It lasts the stated think time (clamped up to the think distribution's minimum) or a sampled
 *   one; its actions take effect at its end, in order.
 * - A call is validated (known tool, args fit the schema: otherwise it fails at once), matched to
 *   the expected step it performs (tool + canonical args; the first such step not yet done, in
 *   plan order; a stateful call that names its task with `task_id` is checked and matched without
 *   it, among that task's steps: environments.ts), then waits for a free slot of its tool (FIFO), then is in service for its sampled
 *   latency (or until the tool's timeout), then completes with a result or an error.
 * - Stateful tools (an `environment` impl; environments.ts says which instance a call acts on):
 *   a call's effect applies atomically at its completion, in the engine's total order (time, then
 *   priority, then scheduling order), so two calls completing at the same instant apply one after
 *   the other, in that order; its result reflects the state at that instant (the state just
 *   before its own effect, plus that effect). Nothing applies while a call waits for a slot or is
 *   in service: a read that completes before a write sees the old state, whenever it was issued.
 *   A failed attempt (transient failure, timeout, invalid args, an operation's own error) changes
 *   nothing. A *lost* attempt (the failure model's `lostRate`, drawn from the call's own stream
 *   after its failure draw) applies its effect and then reports a timeout: the agent cannot tell
 *   it from a timeout without effect, and a blind retry applies the effect a second time. Each
 *   applied effect that may change state is recorded as `state_changed` (with a digest of the new
 *   state) just before the call's `call_completed`.
 * - Latency and failure of an attempt come from a stream keyed by the step and attempt number (or
 *   by tool and count for calls that perform no step): never by issue order, so every agent on the
 *   same seed meets the same latencies, and the oracle can compute them in advance.
 * - `async` mode: results are delivered one by one as they complete (`push`), or only when the
 *   agent polls (`poll`). `sync` mode: a decision's calls block the agent until all have returned.
 * - The episode ends `completed` when every task and follow-up has arrived and every task was
 *   answered by a decision that had seen its last request; `limit` at maxTimeMs / maxDecisions / maxCalls
 *   or at a limit of the agent's own (Decision.stop: a model's turn caps, its context); `stalled` when
 *   the agent waits with nothing left that could wake it; `errored` when the agent itself fails.
 */
import { assertInvariant } from '../../engine/assert.js';
import {
  Resource,
  Simulation,
  compileDistribution,
  msToUs,
  type Distribution,
  type DistributionSpec,
  type Signal,
} from '../../engine/index.js';
import { AGENT_LIMIT_NAMES, type EndReason, type EpisodeEvent, type LimitName } from './events.js';
import { compiledScenario } from './compiled.js';
import { StepMatcher, type Plan, type PlanStep } from './plan.js';
import { OpenTaskList } from './open-tasks.js';
import {
  pendingIndex,
  type Action,
  type Agent,
  type Decision,
  type Delivered,
  type Delivery,
  type Mode,
  type Observation,
  type OpenTask,
  type PendingCall,
  type ToolInfo,
} from '../protocol.js';
import type { JsonValue, Scenario } from '../spec/schema.js';
import type { ToolRuntime, CallKeys, Outcome } from '../spec/tools.js';
import { drawAttempt, type Attempt } from './call-latency.js';
import { thinkTimeUs } from './think-time.js';
import {
  InstanceStates,
  RouteOpen,
  type EnvironmentLayout,
  type InstanceRef,
} from './environments.js';

/**
 * How an episode runs: the seed (every random draw derives from it), the mode (default `async`),
 * the delivery (default `push`), an optional think time replacing the scenario's, and an event
 * listener called synchronously with each event as it happens.
 */
export interface EpisodeOptions {
  readonly seed: number;
  readonly mode?: Mode;
  readonly delivery?: Delivery;
  /** Replaces the scenario's think time distribution. */
  readonly thinkTime?: DistributionSpec;
  /** Sees each episode event as it happens (a recorder). */
  readonly onEvent?: (event: EpisodeEvent) => void;
}

/**
 * A finished episode: what ran (scenario id, agent spec, seed, mode, delivery), every event in
 * order (what scoring and replays consume), how it ended, and its makespan.
 */
export interface Episode {
  readonly scenario: string;
  readonly agent: string;
  readonly seed: number;
  readonly mode: Mode;
  readonly delivery: Delivery;
  readonly events: readonly EpisodeEvent[];
  readonly endReason: EndReason;
  /** Time the episode ended (the last answer, or the limit). */
  readonly makespanUs: number;
}

/**
 * The agent broke the protocol (a malformed decision, `decide` threw or rejected): the episode
 * ends `errored` with this message as its detail.
 */
export class AgentError extends Error {
  override name = 'AgentError';
}

interface CallState {
  readonly id: number;
  readonly tool: string;
  readonly args: JsonValue;
  /** The args the tool sees: `args` without the task it names (environments.ts, TASK_PARAM). */
  readonly opArgs: JsonValue;
  readonly ref: string | null;
  readonly step: PlanStep | null;
  /** The environment instance a stateful call acts on (environments.ts), else null. */
  readonly instance: InstanceRef | null;
  done: Signal<undefined> | null;
}

interface TaskState {
  /** Position in plan order (of the first task with this id). */
  readonly index: number;
  arrived: boolean;
  needsAnswer: boolean;
  /** Requests (the task and its follow-ups) that have arrived, and that were delivered to the agent. */
  requestsArrived: number;
  requestsDelivered: number;
  readonly texts: string[];
  /** What observations list while the task is open; rebuilt when a request arrives. */
  open: OpenTask | null;
}

interface InboxItem {
  readonly delivered: Delivered;
  readonly callId: number | null;
}

/**
 * Runs `agent` on `scenario` (a parsed scenario: parseScenario, loadScenarioFile) until the episode
 * ends (see EndReason) and resolves to the Episode. Deterministic: the same scenario, options and
 * agent behaviour give the same events, byte for byte once encoded. An agent that throws or breaks
 * the protocol does not reject the promise: the episode ends `errored`.
 */
export async function runEpisode(
  scenario: Scenario,
  agent: Agent,
  options: EpisodeOptions,
): Promise<Episode> {
  const world = new World(scenario, agent, options);
  return world.run();
}

class World {
  private readonly sim: Simulation;
  private readonly plan: Plan;
  private readonly mode: Mode;
  private readonly delivery: Delivery;
  private readonly think: Distribution;
  private readonly runtimes: ReadonlyMap<string, ToolRuntime>;
  private readonly callKeys: CallKeys;
  private readonly layout: EnvironmentLayout;
  private readonly states: InstanceStates;
  private readonly routeOpen = new RouteOpen();
  /** Each tool's slots, made at its first call (most episodes call a few of a scenario's tools). */
  private readonly slots = new Map<string, Resource>();
  private readonly toolInfo: readonly ToolInfo[];
  private readonly events: EpisodeEvent[] = [];
  /**
   * Calls issued and not delivered yet; what observations list of them, in issue (id) order; and
   * that list as last handed to the agent (frozen, shared by observations until the list changes),
   * or null after a change.
   */
  private readonly calls = new Map<number, CallState>();
  private readonly pendingCalls: PendingCall[] = [];
  private pendingView: readonly PendingCall[] | null = null;
  /** By step index: attempts issued. */
  private readonly stepAttempts: number[];
  /** Which step each call performs (tracks the steps done and in flight). */
  private readonly matcher: StepMatcher;
  private readonly toolCallCounts = new Map<string, number>();
  private readonly tasks = new Map<string, TaskState>();
  /** Tasks arrived and awaiting an answer, by plan index; and what `observe` lists of them (in plan order, frozen and shared as `pendingView` is), or null after a change. */
  private readonly openTasks = new OpenTaskList();
  private readonly tasksByIndex: TaskState[] = [];
  /** Calls issued and not completed (what can still wake an agent waiting for a result). */
  private callsInService = 0;
  /** Tasks whose `needsAnswer` is set. */
  private tasksNeedingAnswer = 0;
  private inbox: InboxItem[] = [];
  private polledBacklog: InboxItem[] = [];
  private wake: Signal<undefined> | null = null;
  private arrivalsLeft: number;
  private callCount = 0;
  private decisionCount = 0;
  private ended: { reason: EndReason; detail: string | null } | null = null;

  constructor(
    private readonly scenario: Scenario,
    private readonly agent: Agent,
    private readonly options: EpisodeOptions,
  ) {
    this.sim = new Simulation({ seed: options.seed });
    const compiled = compiledScenario(scenario);
    this.plan = compiled.plan;
    this.stepAttempts = new Array<number>(this.plan.steps.length).fill(0);
    this.matcher = new StepMatcher(this.plan);
    this.mode = options.mode ?? 'async';
    this.delivery = options.delivery ?? 'push';
    this.think =
      options.thinkTime === undefined ? compiled.think : compileDistribution(options.thinkTime);
    this.runtimes = compiled.tools;
    this.callKeys = compiled.callKeys;
    this.layout = compiled.environments;
    this.states = new InstanceStates(this.layout);
    this.toolInfo = compiled.toolInfo;
    for (const task of this.plan.tasks) {
      const state: TaskState = {
        index: this.plan.task(task.id)!.index,
        arrived: false,
        needsAnswer: false,
        requestsArrived: 0,
        requestsDelivered: 0,
        texts: [],
        open: null,
      };
      this.tasks.set(task.id, state);
      this.tasksByIndex[state.index] = state;
    }
    this.arrivalsLeft = this.plan.tasks.length + this.plan.messages.length;
  }

  async run(): Promise<Episode> {
    const { sim, scenario } = this;
    this.emit({
      type: 'episode_started',
      timeUs: 0,
      scenario: scenario.id,
      seed: this.options.seed,
      mode: this.mode,
      delivery: this.delivery,
      agent: this.agent.spec,
    });
    sim.scheduleAt(msToUs(scenario.limits.maxTimeMs), () => this.hitLimit('maxTimeMs'), {
      label: 'limit',
    });
    for (const task of this.plan.tasks)
      sim.scheduleAt(task.arrivalUs, () => this.arrive(task.id, null), { label: 'arrival' });
    for (const m of this.plan.messages)
      sim.scheduleAt(m.atUs, () => this.arrive(m.task, m.index), { label: 'message' });
    if (this.agent.start !== undefined) {
      await this.agent.start({
        scenario,
        mode: this.mode,
        delivery: this.delivery,
        seed: this.options.seed,
        random: (name) => sim.streams.get(`agent/${name}`),
      });
    }
    sim.process(this.agentLoop(), 'agent');
    await sim.runAsync();
    if (this.ended === null) this.end('stalled', 'nothing left to happen');
    const ended = this.events.at(-1)!;
    return {
      scenario: scenario.id,
      agent: this.agent.spec,
      seed: this.options.seed,
      mode: this.mode,
      delivery: this.delivery,
      events: this.events,
      endReason: this.ended!.reason,
      makespanUs: ended.timeUs,
    };
  }

  private emit(event: EpisodeEvent): void {
    this.events.push(event);
    if (this.layout.stateful) this.routeOpen.note(event);
    this.options.onEvent?.(event);
  }

  private end(reason: EndReason, detail: string | null): void {
    if (this.ended !== null) return;
    this.ended = { reason, detail };
    this.emit({ type: 'episode_ended', timeUs: this.sim.nowUs, reason, detail });
    this.sim.stop();
  }

  private hitLimit(limit: LimitName): void {
    if (this.ended !== null) return;
    this.emit({ type: 'limit_hit', timeUs: this.sim.nowUs, limit });
    this.end('limit', limit);
  }

  private deliver(item: InboxItem): void {
    this.inbox.push(item);
    if (this.wake !== null && !this.wake.settled) this.wake.succeed(undefined);
  }

  private arrive(taskId: string, messageIndex: number | null): void {
    const task = this.tasks.get(taskId)!;
    const nowUs = this.sim.nowUs;
    this.arrivalsLeft--;
    this.setNeedsAnswer(task, true);
    task.requestsArrived++;
    if (messageIndex === null) {
      task.arrived = true;
      const text = this.plan.task(taskId)!.text;
      this.addText(task, text);
      this.emit({ type: 'task_arrived', timeUs: nowUs, task: taskId });
      this.deliver({ delivered: { type: 'task', atUs: nowUs, task: taskId, text }, callId: null });
    } else {
      const text = this.plan.messages[messageIndex]!.text;
      this.addText(task, text);
      this.emit({ type: 'message_arrived', timeUs: nowUs, task: taskId, index: messageIndex });
      this.deliver({
        delivered: { type: 'message', atUs: nowUs, task: taskId, text },
        callId: null,
      });
    }
  }

  private addText(task: TaskState, text: string): void {
    task.texts.push(text);
    task.open = null;
    this.refreshOpen(task);
  }

  private setNeedsAnswer(task: TaskState, needsAnswer: boolean): void {
    if (task.needsAnswer !== needsAnswer) this.tasksNeedingAnswer += needsAnswer ? 1 : -1;
    task.needsAnswer = needsAnswer;
  }

  /** Keeps `openTasks` in step with the task's state (arrived and awaiting an answer, and its texts). */
  private refreshOpen(task: TaskState): void {
    if (!(task.arrived && task.needsAnswer)) this.openTasks.close(task.index);
    // Listed again only when what it lists changed (addText clears `open`).
    else if (task.open === null || !this.openTasks.has(task.index)) this.openTasks.open(task.index);
  }

  /** True when something could still wake an idle agent. */
  private canWake(timedWait: boolean): boolean {
    if (timedWait || this.arrivalsLeft > 0) return true;
    if (this.delivery === 'poll' && this.mode === 'async') return false;
    return this.callsInService > 0;
  }

  private *agentLoop(): Generator<unknown, void, unknown> {
    const { sim } = this;
    let idle = true;
    let waitMaxUs: number | null = null;
    for (;;) {
      if (idle && this.inbox.length === 0) {
        if (!this.canWake(waitMaxUs !== null)) {
          this.end('stalled', 'the agent waits and nothing can wake it');
          return;
        }
        this.wake = sim.signal('wake');
        yield waitMaxUs === null ? this.wake : sim.anyOf([this.wake, sim.timeout(waitMaxUs)]);
        this.wake = null;
      }
      if (this.ended !== null) return;
      if (this.decisionCount >= this.scenario.limits.maxDecisions) {
        this.hitLimit('maxDecisions');
        return;
      }
      const decisionNo = ++this.decisionCount;
      const observation = this.observe(decisionNo);
      let decision: Decision;
      try {
        const made = this.agent.decide(observation);
        decision = (isPromiseLike(made) ? yield made : made) as Decision;
        checkDecision(decision);
      } catch (error) {
        this.end('errored', error instanceof Error ? error.message : String(error));
        return;
      }
      if (decision.stop !== undefined) {
        this.hitLimit(decision.stop);
        return;
      }
      const thinkUs = thinkTimeUs(this.think, decision.thinkUs, sim.streams);
      if (thinkUs > 0) yield thinkUs;
      if (this.ended !== null) return;
      this.emit({
        type: 'decision_ended',
        timeUs: sim.nowUs,
        decision: decisionNo,
        thinkUs,
        actions: decision.actions.map(canonicalAction),
        note: decision.note ?? null,
      });
      const blocking: Array<Signal<undefined>> = [];
      let acted = false;
      waitMaxUs = null;
      let waited = false;
      for (let index = 0; index < decision.actions.length; index++) {
        const action = decision.actions[index]!;
        if (this.ended !== null) return;
        const reason = this.apply(action, blocking);
        if (reason !== null) {
          this.emit({
            type: 'action_rejected',
            timeUs: sim.nowUs,
            decision: decisionNo,
            action: index,
            reason,
          });
          this.deliver({
            delivered: { type: 'rejected', atUs: sim.nowUs, action: index, reason },
            callId: null,
          });
        } else if (action.type === 'wait') {
          waited = true;
          waitMaxUs = action.maxUs ?? null;
        } else {
          acted = true;
        }
      }
      if (this.ended !== null) return;
      if (this.isComplete()) {
        this.end('completed', null);
        return;
      }
      if (blocking.length > 0) yield sim.allOf(blocking);
      if (this.ended !== null) return;
      idle = waited || !acted;
    }
  }

  private observe(decisionNo: number): Observation {
    const nowUs = this.sim.nowUs;
    this.emit({ type: 'decision_started', timeUs: nowUs, decision: decisionNo });
    const items = this.inbox;
    this.inbox = [];
    const delivered: number[] = [];
    for (const item of items) {
      const d = item.delivered;
      if (d.type === 'task' || d.type === 'message') this.tasks.get(d.task)!.requestsDelivered++;
      if (item.callId !== null) {
        this.emit({ type: 'result_delivered', timeUs: nowUs, callId: item.callId });
        this.calls.delete(item.callId);
        delivered.push(item.callId);
      }
    }
    if (delivered.length > 0) this.removePending(delivered);
    assert(this.pendingCalls.length === this.calls.size, 'the pending list and the calls disagree');
    // Frozen, so that an agent cannot change what the next observation lists.
    const pending = (this.pendingView ??= Object.freeze(this.pendingCalls.slice()));
    const openTasks = this.openTasks.list((i) => {
      const task = this.tasksByIndex[i]!;
      task.open ??= { id: this.plan.tasks[i]!.id, messages: [...task.texts] };
      return task.open;
    });
    return {
      nowUs,
      decision: decisionNo,
      delivered: items.map((i) => i.delivered),
      pending,
      openTasks,
      tools: this.toolInfo,
      mode: this.mode,
      delivery: this.delivery,
    };
  }

  /**
   * Takes the calls `callIds` (each pending) out of the pending list, in one pass over it: a splice
   * per result cost the whole list per result, with thousands of calls in flight.
   */
  private removePending(callIds: number[]): void {
    const list = this.pendingCalls;
    callIds.sort((a, b) => a - b);
    // Both in id order: a merge. The list before the first of them stays as it is.
    let write = pendingIndex(list, callIds[0]!);
    let next = 0;
    for (let read = write; read < list.length; read++) {
      const call = list[read]!;
      if (next < callIds.length && call.callId === callIds[next]) next++;
      else list[write++] = call;
    }
    assert(next === callIds.length, `call ${callIds[next]} is not pending`);
    list.length = write;
    this.pendingView = null;
  }

  /** Applies one action at the end of a decision; returns why it was rejected, or null. */
  private apply(action: Action, blocking: Array<Signal<undefined>>): string | null {
    switch (action.type) {
      case 'call':
        this.issue(action, blocking);
        return null;
      case 'answer': {
        const task = this.tasks.get(action.task);
        if (task === undefined) return `no task "${action.task}"`;
        if (!task.arrived) return `task "${action.task}" has not arrived`;
        // An answer settles the task only if its decision had seen every request that has arrived.
        this.setNeedsAnswer(task, task.requestsArrived > task.requestsDelivered);
        this.refreshOpen(task);
        this.emit({
          type: 'answer_given',
          timeUs: this.sim.nowUs,
          task: action.task,
          content: action.content,
        });
        return null;
      }
      case 'poll': {
        for (const item of this.polledBacklog) this.inbox.push(item);
        this.polledBacklog = [];
        return null;
      }
      case 'wait':
        return null;
    }
  }

  private issue(
    action: Extract<Action, { type: 'call' }>,
    blocking: Array<Signal<undefined>>,
  ): void {
    const { sim } = this;
    if (this.callCount >= this.scenario.limits.maxCalls) {
      this.hitLimit('maxCalls');
      return;
    }
    const callId = ++this.callCount;
    const tool = this.runtimes.get(action.tool);
    const { args, named, invalid, argsKey, step, key, attempt } = this.identify(action, tool);
    const ref = action.ref ?? null;
    const instance =
      invalid === null && tool?.stateful === true
        ? this.route(action.tool, step?.task ?? named.task, ref)
        : null;
    const call: CallState = {
      id: callId,
      tool: action.tool,
      args: action.args,
      opArgs: args,
      ref,
      step,
      instance,
      done: null,
    };
    this.calls.set(callId, call);
    // What observations list while the call is pending; ids increase, so the list stays in id order.
    this.pendingCalls.push({
      callId,
      ref,
      tool: action.tool,
      args: action.args,
      issuedUs: sim.nowUs,
    });
    this.pendingView = null;
    this.callsInService++;
    this.emit({
      type: 'call_issued',
      timeUs: sim.nowUs,
      callId,
      tool: action.tool,
      args: action.args,
      ref: call.ref,
      task: step?.task ?? null,
      step: step?.id ?? null,
      attempt,
      invalid,
    });
    if (this.mode === 'sync') {
      call.done = sim.signal('call-done');
      blocking.push(call.done);
    }
    if (tool === undefined || invalid !== null) {
      this.complete(call, { ok: false, error: `invalid call: ${invalid}` });
      return;
    }
    const slots = this.slotsOf(tool);
    slots.acquire(() => {
      this.emit({ type: 'call_started', timeUs: sim.nowUs, callId });
      const drawn: Attempt = drawAttempt(tool, sim.streams, key);
      sim.schedule(
        drawn.serviceUs,
        () => {
          const outcome = this.outcomeOf(call, tool, drawn, argsKey);
          // Complete before releasing, so the next queued call starts after this one ended.
          this.complete(call, outcome);
          slots.release();
        },
        { label: 'call' },
      );
    });
  }

  /**
   * What a call is: the args its tool sees, why it is invalid, the step it performs, and the key
   * of its attempt's random stream (by step and attempt, else by tool and count).
   */
  private identify(action: Extract<Action, { type: 'call' }>, tool: ToolRuntime | undefined) {
    // The task the call names is taken out of its args (environments.ts, TASK_PARAM): the
    // operation, the schema check and matching see the rest.
    const named =
      tool?.stateful === true
        ? this.layout.splitTaskArg(action.tool, action.args)
        : { args: action.args, task: null, error: null };
    const args = named.args;
    // A step's own args object (what plan-aware agents pass) is known, with its canonical JSON:
    // one lookup tells both.
    const stepArgsKey = this.plan.stepArgsKey(args);
    const invalid =
      tool === undefined
        ? `unknown tool "${action.tool}"`
        : (named.error ?? tool.check(args, stepArgsKey !== undefined));
    // Canonical JSON of the args, worked out once for matching and for the tool's result.
    const argsKey = invalid === null ? (stepArgsKey ?? this.plan.argsKey(args)) : null;
    const step = argsKey === null ? null : this.matcher.match(action.tool, argsKey, named.task);
    let key: string;
    let attempt = 0;
    if (step !== null) {
      attempt = this.stepAttempts[step.index]! + 1;
      this.stepAttempts[step.index] = attempt;
      key = this.callKeys.step(step, attempt);
    } else {
      const count = (this.toolCallCounts.get(action.tool) ?? 0) + 1;
      this.toolCallCounts.set(action.tool, count);
      key = this.callKeys.tool(action.tool, count);
    }
    return { args, named, invalid, argsKey, step, key, attempt };
  }

  /**
   * The environment instance a valid call of a stateful tool acts on (environments.ts): `task` is
   * its step's task, else the task it names.
   */
  private route(tool: string, task: string | null, ref: string | null): InstanceRef | null {
    return this.layout.route(tool, {
      stepTask: task,
      ref,
      isOpen: this.routeOpen.isOpen,
    });
  }

  /**
   * What an attempt that ends now gives: a stateful call that did not fail applies its effect now
   * (its `state_changed` comes just before its completion), and a lost one then reports a timeout.
   */
  private outcomeOf(
    call: CallState,
    tool: ToolRuntime,
    drawn: Attempt,
    argsKey: string | null,
  ): Outcome {
    const lost = drawn.fate === 'lost';
    if (drawn.fate !== 'ok' && !lost) return { ok: false, error: tool.attemptError(drawn.fate) };
    if (call.instance === null) {
      if (lost) return { ok: false, error: tool.attemptError('lost') };
      return tool.evaluate(call.opArgs as Record<string, JsonValue>, argsKey ?? undefined);
    }
    if (this.ended !== null) return { ok: false, error: 'the episode has ended' };
    const nowUs = this.sim.nowUs;
    const { outcome, digest } = this.states.apply(call.tool, call.opArgs, call.instance, nowUs);
    if (digest !== null) {
      this.emit({
        type: 'state_changed',
        timeUs: nowUs,
        callId: call.id,
        environment: call.instance.environment,
        task: call.instance.task,
        digest,
      });
    }
    return lost ? { ok: false, error: tool.attemptError('lost') } : outcome;
  }

  private slotsOf(tool: ToolRuntime): Resource {
    const name = tool.tool.name;
    let slots = this.slots.get(name);
    if (slots === undefined) {
      slots = new Resource(name, tool.capacity);
      this.slots.set(name, slots);
    }
    return slots;
  }

  private complete(call: CallState, outcome: Outcome): void {
    if (this.ended !== null) return;
    const nowUs = this.sim.nowUs;
    this.callsInService--;
    if (call.step !== null) this.matcher.completed(call.step, outcome.ok);
    this.emit({
      type: 'call_completed',
      timeUs: nowUs,
      callId: call.id,
      ok: outcome.ok,
      result: outcome.ok ? outcome.result : null,
      error: outcome.ok ? null : outcome.error,
    });
    const delivered: Delivered = outcome.ok
      ? {
          type: 'result',
          atUs: nowUs,
          callId: call.id,
          ref: call.ref,
          tool: call.tool,
          args: call.args,
          result: outcome.result,
        }
      : {
          type: 'error',
          atUs: nowUs,
          callId: call.id,
          ref: call.ref,
          tool: call.tool,
          args: call.args,
          error: outcome.error,
        };
    const item = { delivered, callId: call.id };
    if (call.done !== null) call.done.succeed(undefined);
    if (this.mode === 'async' && this.delivery === 'poll') this.polledBacklog.push(item);
    else this.deliver(item);
  }

  private isComplete(): boolean {
    if (this.arrivalsLeft > 0) return false;
    return this.tasksNeedingAnswer === 0;
  }
}

function assert(condition: boolean, message: string): asserts condition {
  assertInvariant(condition, 'world', message);
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** A decision must be well-formed: the LLM adapter turns model output into one; a policy bug is an error. */
function checkDecision(decision: Decision): void {
  if (decision === null || typeof decision !== 'object' || !Array.isArray(decision.actions))
    throw new AgentError('decide() must return { actions: Action[] }');
  if (decision.stop !== undefined && !AGENT_LIMIT_NAMES.includes(decision.stop))
    throw new AgentError(
      `stop must be one of ${AGENT_LIMIT_NAMES.join(', ')}, got ${JSON.stringify(decision.stop)}`,
    );
  if (
    decision.thinkUs !== undefined &&
    !(Number.isSafeInteger(decision.thinkUs) && decision.thinkUs >= 0)
  ) {
    throw new AgentError(
      `thinkUs must be a non-negative integer of µs, got ${String(decision.thinkUs)}`,
    );
  }
  for (let i = 0; i < decision.actions.length; i++) {
    const a = decision.actions[i]!;
    const ok =
      (a.type === 'call' &&
        typeof a.tool === 'string' &&
        (a.ref === undefined || typeof a.ref === 'string')) ||
      (a.type === 'answer' && typeof a.task === 'string' && typeof a.content === 'string') ||
      a.type === 'poll' ||
      (a.type === 'wait' &&
        (a.maxUs === undefined || (Number.isSafeInteger(a.maxUs) && a.maxUs >= 0)));
    if (!ok) throw new AgentError(`actions[${i}] is not a valid action: ${JSON.stringify(a)}`);
  }
}

/** The action as recorded: fixed key order, no undefined. */
function canonicalAction(action: Action): Action {
  switch (action.type) {
    case 'call':
      return action.ref === undefined
        ? { type: 'call', tool: action.tool, args: action.args }
        : { type: 'call', tool: action.tool, args: action.args, ref: action.ref };
    case 'answer':
      return { type: 'answer', task: action.task, content: action.content };
    case 'poll':
      return { type: 'poll' };
    case 'wait':
      return action.maxUs === undefined ? { type: 'wait' } : { type: 'wait', maxUs: action.maxUs };
  }
}
