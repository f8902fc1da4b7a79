/**
 * Episode events: the ordered record of one episode that scoring, reports and replays consume.
 *
 * Every event has `type` and `timeUs` first, then its own fields in the fixed order written here,
 * with `null` (never `undefined`) for an absent value, so an encoded event is canonical.
 */
import type { Action, Delivery, Mode } from '../protocol.js';
import type { JsonValue } from '../spec/schema.js';

/**
 * How an episode ended: `completed` (every task answered after its last request), `limit` (a
 * scenario limit was reached), `stalled` (the agent waits with nothing left to wake it), `errored`
 * (the agent failed).
 */
export type EndReason = 'completed' | 'limit' | 'stalled' | 'errored';
/**
 * The limits an agent may end its own episode at (Decision.stop): a model agent's cap on its
 * requests (`maxTurns`), on consecutive turns without a usable tool call (`maxIdleTurns`), and a
 * conversation grown past the model's context (`contextOverflow`). A result of the agent, scored as
 * a failure like any limit, not an infrastructure error.
 */
export type AgentLimitName = 'maxTurns' | 'maxIdleTurns' | 'contextOverflow';
/** Every agent limit, in the order their replay codes follow (FORMAT.md). */
export const AGENT_LIMIT_NAMES: readonly AgentLimitName[] = [
  'maxTurns',
  'maxIdleTurns',
  'contextOverflow',
];
/** The limit that ended an episode (`limit_hit`): one of the scenario's, or one of the agent's own. */
export type LimitName = 'maxTimeMs' | 'maxDecisions' | 'maxCalls' | AgentLimitName;

/**
 * One event of an episode, in the order it happened (time, then the world's own order). The
 * record scoring reads and a replay stores; METRICS.md and replays/FORMAT.md rely on every field.
 */
export type EpisodeEvent =
  | {
      readonly type: 'episode_started';
      readonly timeUs: number;
      readonly scenario: string;
      readonly seed: number;
      readonly mode: Mode;
      readonly delivery: Delivery;
      readonly agent: string;
    }
  | { readonly type: 'task_arrived'; readonly timeUs: number; readonly task: string }
  /** `index`: the follow-up's position in arrival order (`plan.messages`; message-order.ts), not in the file. */
  | {
      readonly type: 'message_arrived';
      readonly timeUs: number;
      readonly task: string;
      readonly index: number;
    }
  | { readonly type: 'decision_started'; readonly timeUs: number; readonly decision: number }
  /** A result or error handed to the agent at the start of a decision. */
  | { readonly type: 'result_delivered'; readonly timeUs: number; readonly callId: number }
  | {
      readonly type: 'decision_ended';
      readonly timeUs: number;
      readonly decision: number;
      readonly thinkUs: number;
      readonly actions: readonly Action[];
      readonly note: JsonValue;
    }
  | {
      readonly type: 'action_rejected';
      readonly timeUs: number;
      readonly decision: number;
      readonly action: number;
      readonly reason: string;
    }
  /**
   * A call entered the world. `task`/`step`/`attempt` name the expected step it performs (null when
   * none matches); `invalid` says why it failed at once (unknown tool, args off the schema).
   */
  | {
      readonly type: 'call_issued';
      readonly timeUs: number;
      readonly callId: number;
      readonly tool: string;
      readonly args: JsonValue;
      readonly ref: string | null;
      readonly task: string | null;
      readonly step: string | null;
      readonly attempt: number;
      readonly invalid: string | null;
    }
  | { readonly type: 'call_started'; readonly timeUs: number; readonly callId: number }
  | {
      readonly type: 'call_completed';
      readonly timeUs: number;
      readonly callId: number;
      readonly ok: boolean;
      readonly result: JsonValue;
      readonly error: string | null;
    }
  /**
   * A stateful call's effect applied (world.ts: at its completion, just before its
   * `call_completed`) to an instance: the environment's id and the task whose copy it is (null:
   * the shared instance); `digest`: the instance's state after it (envs/state.ts).
   */
  | {
      readonly type: 'state_changed';
      readonly timeUs: number;
      readonly callId: number;
      readonly environment: string;
      readonly task: string | null;
      readonly digest: string;
    }
  | {
      readonly type: 'answer_given';
      readonly timeUs: number;
      readonly task: string;
      readonly content: string;
    }
  | { readonly type: 'limit_hit'; readonly timeUs: number; readonly limit: LimitName }
  | {
      readonly type: 'episode_ended';
      readonly timeUs: number;
      readonly reason: EndReason;
      readonly detail: string | null;
    };

/** The `type` of an EpisodeEvent. */
export type EpisodeEventType = EpisodeEvent['type'];

/** The events of one type, narrowed. */
export function eventsOfType<T extends EpisodeEventType>(
  events: readonly EpisodeEvent[],
  type: T,
): Array<Extract<EpisodeEvent, { type: T }>> {
  return events.filter((e): e is Extract<EpisodeEvent, { type: T }> => e.type === type);
}
