/**
 * The agent protocol: what an agent sees (an `Observation`) and what it does (a `Decision`).
 *
 * The runner calls `decide(observation)` once per decision. A decision takes simulated time: the
 * agent may state it (`thinkUs`; a model's token-based estimate), otherwise the scenario's think
 * time distribution supplies it. A stated time below that distribution's minimum is raised to the
 * minimum: no agent decides faster than the scenario allows (the oracle's bound relies on it).
 * The actions take effect when the decision ends.
 *
 * After a decision with at least one call, answer or poll, the agent decides again at once (a model
 * turn that made a call gets the pending notice back and goes on). After a decision with no action,
 * or with a `wait`, the agent idles until something is delivered to it (or `maxUs` passes).
 *
 * `decide` may return a Promise (a real model): the runner awaits it with the clock stopped.
 */
import type { RandomStream } from '../engine/index.js';
import type { AgentLimitName } from './world/events.js';
import type { JsonValue, Scenario } from './spec/schema.js';

/** `async`: calls return at once, results arrive on their own. `sync`: a decision's calls block the agent until all return. */
export type Mode = 'async' | 'sync';
/** `push`: results wake the agent and are delivered at its next decision. `poll`: only a poll delivers them. */
export type Delivery = 'push' | 'poll';

/**
 * A tool as the agent sees it: name, description and JSON Schema of its parameters (no latency,
 * no implementation).
 */
export interface ToolInfo {
  readonly name: string;
  readonly description: string;
  readonly parameters: Readonly<Record<string, JsonValue>>;
}

/** Something delivered to the agent, in the order it happened. */
export type Delivered =
  | { readonly type: 'task'; readonly atUs: number; readonly task: string; readonly text: string }
  | {
      readonly type: 'message';
      readonly atUs: number;
      readonly task: string;
      readonly text: string;
    }
  | {
      readonly type: 'result';
      readonly atUs: number;
      readonly callId: number;
      readonly ref: string | null;
      readonly tool: string;
      readonly args: JsonValue;
      readonly result: JsonValue;
    }
  | {
      readonly type: 'error';
      readonly atUs: number;
      readonly callId: number;
      readonly ref: string | null;
      readonly tool: string;
      readonly args: JsonValue;
      readonly error: string;
    }
  /** An action of the previous decision the world refused (unknown task, malformed action...). */
  | {
      readonly type: 'rejected';
      readonly atUs: number;
      readonly action: number;
      readonly reason: string;
    };

/** A call the agent issued whose result or error has not been delivered to it yet. */
export interface PendingCall {
  readonly callId: number;
  readonly ref: string | null;
  readonly tool: string;
  readonly args: JsonValue;
  readonly issuedUs: number;
}

/** The position in a pending list (in id order, as observations give it) of the first call whose id is `callId` or more. */
export function pendingIndex(pending: readonly PendingCall[], callId: number): number {
  let lo = 0;
  let hi = pending.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pending[mid]!.callId < callId) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A task that has arrived and still needs an answer (a follow-up reopens an answered task). */
export interface OpenTask {
  readonly id: string;
  /** The request and every follow-up so far, in order. */
  readonly messages: readonly string[];
}

/**
 * What the agent sees at the start of a decision: the time, everything delivered since its last
 * decision (in the order it happened), the calls still pending, the open tasks, the tools, and the
 * world's mode and delivery.
 */
export interface Observation {
  readonly nowUs: number;
  /** 1 for the first decision. */
  readonly decision: number;
  readonly delivered: readonly Delivered[];
  /** Calls issued whose outcome has not been delivered yet, in issue order (call ids increase). */
  readonly pending: readonly PendingCall[];
  readonly openTasks: readonly OpenTask[];
  readonly tools: readonly ToolInfo[];
  readonly mode: Mode;
  readonly delivery: Delivery;
}

/**
 * One thing a decision does. `call` issues a tool call (async mode: it returns at once), `answer`
 * answers a task (the last answer counts), `poll` collects completed results (poll delivery),
 * `wait` idles until something is delivered or `maxUs` passes. An action the world cannot apply (an
 * answer to an unknown task) is reported in the next observation as `rejected`; a malformed one is
 * an AgentError that ends the episode `errored`.
 */
export type Action =
  /** `ref` is the agent's own handle for the call (a model's tool_call id); results echo it. */
  | {
      readonly type: 'call';
      readonly tool: string;
      readonly args: JsonValue;
      readonly ref?: string;
    }
  | { readonly type: 'answer'; readonly task: string; readonly content: string }
  | { readonly type: 'poll' }
  | { readonly type: 'wait'; readonly maxUs?: number };

/**
 * What `decide` returns: actions, applied in order when the decision ends, after `thinkUs` of
 * simulated time (or the scenario's think time when absent); `note` is recorded with the episode.
 */
export interface Decision {
  readonly actions: readonly Action[];
  /** Simulated duration of this decision (raised to the think time's minimum); absent: the scenario's think time. */
  readonly thinkUs?: number;
  /** Agent-specific record kept in the episode (for a model: its request and response). */
  readonly note?: JsonValue;
  /** Ends the episode at once at one of the agent's own limits (`limit`); the decision's actions are ignored. */
  readonly stop?: AgentLimitName;
}

/**
 * What an agent is told before its first decision: the scenario, the world's mode and delivery,
 * the seed, and its own seeded random streams (use them, never Math.random, to stay deterministic).
 */
export interface AgentContext {
  /** The whole scenario, plan included: baseline policies use it; a model agent must not. */
  readonly scenario: Scenario;
  readonly mode: Mode;
  readonly delivery: Delivery;
  readonly seed: number;
  /** The agent's own named random stream (independent of the world's). */
  readonly random: (name: string) => RandomStream;
}

/**
 * An agent under test: `decide` is called once per decision and returns (or resolves to) a
 * Decision. One agent object runs one episode; make a fresh one per episode (`createAgent`). For
 * the same observations an agent must make the same decisions, or replays will not verify.
 */
export interface Agent {
  /** The spec string that names it, for reports and replays (`greedy-async:maxInFlight=2`). */
  readonly spec: string;
  /** The agent's own cap on calls in flight, if it keeps one (`tooltime stress` checks it holds). */
  readonly maxInFlight?: number;
  /** Called once before the first decision. */
  start?(context: AgentContext): void | Promise<void>;
  decide(observation: Observation): Decision | Promise<Decision>;
}
