/**
 * Record payloads back to episode events: the exact inverse of encode.ts. Every field is checked
 * (types, ranges, table indices, calls that must be in flight); a record of the wrong shape is a
 * `CodecError`, which the reader reports with the record's index and byte offset.
 *
 * Events are rebuilt with their keys in the order events.ts declares, and every JSON value in
 * canonical form. Derived values (a step's args, a tool's result) are shared between events that
 * refer to the same thing: treat decoded events as read-only.
 */
import type { EpisodeEvent } from '../../scenarios/world/events.js';
import type { Action, Delivery, Mode } from '../../scenarios/protocol.js';
import type { JsonValue } from '../../scenarios/spec/schema.js';
import { CodecError } from './codec.js';
import { EpisodeState, type Dictionary } from './dictionary.js';
import {
  ActionCode,
  Code,
  DELIVERIES,
  END_REASONS,
  ErrorKind,
  LIMIT_NAMES,
  MODES,
} from './format.js';
import { episodeAgent, type ReplayHeader } from './header.js';

const CODE_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(Code).map(([k, v]) => [v, k]),
);

/** Expected array length of each record code (actions and refs are single elements). */
const LENGTH: Readonly<Record<number, number>> = {
  [Code.TRAILER]: 3,
  [Code.STARTED]: 2,
  [Code.STARTED_FULL]: 7,
  [Code.TASK]: 3,
  [Code.MESSAGE]: 3,
  [Code.MESSAGE_FULL]: 4,
  [Code.DECISION_STARTED]: 2,
  [Code.DECISION_STARTED_FULL]: 3,
  [Code.DELIVERED]: 3,
  [Code.DECISION_ENDED]: 3,
  [Code.DECISION_ENDED_NOTE]: 4,
  [Code.DECISION_ENDED_FULL]: 6,
  [Code.REJECTED]: 5,
  [Code.ISSUED]: 3,
  [Code.ISSUED_REF]: 4,
  [Code.ISSUED_FULL]: 10,
  [Code.CALL_STARTED]: 2,
  [Code.CALL_STARTED_AT]: 3,
  [Code.DONE_OK]: 3,
  [Code.DONE_ERROR]: 4,
  [Code.DONE_FULL]: 6,
  [Code.ANSWER]: 4,
  [Code.LIMIT]: 3,
  [Code.ENDED]: 4,
  [Code.STATE]: 6,
};

function fail(message: string): never {
  throw new CodecError(message);
}

function int(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(`${what} must be an integer`);
  return v;
}

function uint(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    fail(`${what} must be a non-negative integer`);
  return v;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') fail(`${what} must be a string`);
  return v;
}

function strOrNull(v: unknown, what: string): string | null {
  if (v !== null && typeof v !== 'string') fail(`${what} must be a string or null`);
  return v;
}

function fromTable(v: unknown, table: readonly string[], what: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < table.length) return table[v]!;
  return fail(`${what} must be a string or an index below ${table.length}`);
}

function oneOf<T extends string>(v: unknown, values: readonly T[], what: string): T {
  if (typeof v === 'string' && (values as readonly string[]).includes(v)) return v as T;
  return fail(`${what} must be one of ${values.join(', ')}`);
}

/** Name of a record code, for messages (`ISSUED`). */
export function codeName(code: number): string {
  return CODE_NAMES[code] ?? `code ${code}`;
}

export class RecordDecoder {
  readonly state: EpisodeState;

  constructor(
    private readonly dict: Dictionary,
    private readonly header: ReplayHeader,
  ) {
    this.state = new EpisodeState(dict);
  }

  /** The event of one record (a decoded payload array whose code is not the trailer's). */
  decode(value: unknown): EpisodeEvent {
    if (!Array.isArray(value) || value.length < 2)
      fail('a record must be an array [code, dtUs, ...]');
    const code = value[0];
    if (
      typeof code !== 'number' ||
      !Number.isInteger(code) ||
      code < 1 ||
      LENGTH[code] === undefined
    )
      fail(`unknown record code ${JSON.stringify(code)}`);
    if (value.length !== LENGTH[code])
      fail(`${codeName(code)} record has ${LENGTH[code]} elements, not ${value.length}`);
    const timeUs = this.state.lastTimeUs + int(value[1], 'dtUs');
    if (!Number.isSafeInteger(timeUs) || timeUs < 0)
      fail(`time ${timeUs} is not a non-negative integer of µs`);
    const event = this.event(code, value, timeUs);
    this.state.apply(event);
    return event;
  }

  private callId(v: unknown): number {
    const id = this.state.lastCallId - int(v, 'call reference');
    if (id < 0) fail(`call reference ${String(v)} gives a negative call id`);
    return id;
  }

  private step(v: unknown): number {
    const k = uint(v, 'step');
    if (k >= this.dict.steps.length)
      fail(`step ${k} is not in the plan (${this.dict.steps.length} steps)`);
    return k;
  }

  private event(code: number, r: unknown[], timeUs: number): EpisodeEvent {
    const { dict, header } = this;
    switch (code) {
      case Code.STARTED:
        return {
          type: 'episode_started',
          timeUs,
          scenario: dict.scenario.id,
          seed: header.seed,
          mode: header.world.mode,
          delivery: header.world.delivery,
          agent: episodeAgent(header),
        };
      case Code.STARTED_FULL:
        return {
          type: 'episode_started',
          timeUs,
          scenario: str(r[2], 'scenario'),
          seed: int(r[3], 'seed'),
          mode: oneOf<Mode>(r[4], MODES, 'mode'),
          delivery: oneOf<Delivery>(r[5], DELIVERIES, 'delivery'),
          agent: str(r[6], 'agent'),
        };
      case Code.TASK:
        return { type: 'task_arrived', timeUs, task: fromTable(r[2], dict.tasks, 'task') };
      case Code.MESSAGE: {
        const index = uint(r[2], 'index');
        const m = dict.plan.messages[index];
        if (m === undefined) fail(`message ${index} is not in the scenario`);
        return { type: 'message_arrived', timeUs, task: m.task, index };
      }
      case Code.MESSAGE_FULL:
        return {
          type: 'message_arrived',
          timeUs,
          task: fromTable(r[3], dict.tasks, 'task'),
          index: uint(r[2], 'index'),
        };
      case Code.ANSWER:
        return {
          type: 'answer_given',
          timeUs,
          task: fromTable(r[2], dict.tasks, 'task'),
          content: fromTable(r[3], dict.answers, 'content'),
        };
      case Code.LIMIT:
        return {
          type: 'limit_hit',
          timeUs,
          limit:
            LIMIT_NAMES[uint(r[2], 'limit')] ??
            fail(`limit must be 0 to ${LIMIT_NAMES.length - 1}`),
        };
      case Code.ENDED:
        return {
          type: 'episode_ended',
          timeUs,
          reason: END_REASONS[uint(r[2], 'reason')] ?? fail('reason must be 0 to 3'),
          detail: strOrNull(r[3], 'detail'),
        };
      default:
        return this.decisionEvent(code, r, timeUs);
    }
  }

  /** A decision's records: its start, a delivery, its end, a rejected action; else a call's. */
  private decisionEvent(code: number, r: unknown[], timeUs: number): EpisodeEvent {
    const { state } = this;
    switch (code) {
      case Code.DECISION_STARTED:
        return { type: 'decision_started', timeUs, decision: state.lastDecision + 1 };
      case Code.DECISION_STARTED_FULL:
        return { type: 'decision_started', timeUs, decision: uint(r[2], 'decision') };
      case Code.DELIVERED:
        return { type: 'result_delivered', timeUs, callId: this.callId(r[2]) };
      case Code.DECISION_ENDED:
        return {
          type: 'decision_ended',
          timeUs,
          decision: state.lastDecision,
          thinkUs: this.derivedThink(timeUs),
          actions: this.actions(r[2]),
          note: null,
        };
      case Code.DECISION_ENDED_NOTE: {
        if (r[3] === null) fail('DECISION_ENDED_NOTE record has a null note');
        return {
          type: 'decision_ended',
          timeUs,
          decision: state.lastDecision,
          thinkUs: this.derivedThink(timeUs),
          actions: this.actions(r[2]),
          note: r[3] as JsonValue,
        };
      }
      case Code.DECISION_ENDED_FULL:
        return {
          type: 'decision_ended',
          timeUs,
          decision: uint(r[2], 'decision'),
          thinkUs: uint(r[3], 'thinkUs'),
          actions: this.actions(r[4]),
          note: r[5] as JsonValue,
        };
      case Code.REJECTED:
        return {
          type: 'action_rejected',
          timeUs,
          decision: uint(r[2], 'decision'),
          action: uint(r[3], 'action'),
          reason: str(r[4], 'reason'),
        };
      default:
        return this.callEvent(code, r, timeUs);
    }
  }

  /** A call's records: issued, started, done. */
  private callEvent(code: number, r: unknown[], timeUs: number): EpisodeEvent {
    const { dict, state } = this;
    switch (code) {
      case Code.ISSUED:
      case Code.ISSUED_REF: {
        const k = this.step(r[2]);
        const s = dict.steps[k]!;
        const ref = code === Code.ISSUED ? s.key : strOrNull(r[3], 'ref');
        const callId = state.lastCallId + 1;
        if (!Number.isSafeInteger(callId))
          fail(`call id ${callId} (after ${state.lastCallId}) is past the largest safe integer`);
        return {
          type: 'call_issued',
          timeUs,
          callId,
          tool: s.tool,
          args: dict.stepArgs[k]!,
          ref,
          task: s.task,
          step: s.id,
          attempt: state.attempts[k]! + 1,
          invalid: null,
        };
      }
      case Code.ISSUED_FULL: {
        const task = r[6] === null ? null : fromTable(r[6], dict.tasks, 'task');
        return {
          type: 'call_issued',
          timeUs,
          callId: uint(r[2], 'callId'),
          tool: fromTable(r[3], dict.tools, 'tool'),
          args: r[4] as JsonValue,
          ref: strOrNull(r[5], 'ref'),
          task,
          step: strOrNull(r[7], 'step'),
          attempt: uint(r[8], 'attempt'),
          invalid: strOrNull(r[9], 'invalid'),
        };
      }
      case Code.CALL_STARTED:
        return { type: 'call_started', timeUs, callId: state.lastCallId };
      case Code.CALL_STARTED_AT:
        return { type: 'call_started', timeUs, callId: this.callId(r[2]) };
      case Code.DONE_OK: {
        const callId = this.callId(r[2]);
        const call = state.calls.get(callId);
        const o = call === undefined ? null : dict.outcome(call);
        if (o === null || !o.ok) fail(`call ${callId} has no known result to refer to`);
        return { type: 'call_completed', timeUs, callId, ok: true, result: o.result, error: null };
      }
      case Code.DONE_ERROR: {
        const callId = this.callId(r[2]);
        return {
          type: 'call_completed',
          timeUs,
          callId,
          ok: false,
          result: null,
          error: this.errorText(callId, uint(r[3], 'error kind')),
        };
      }
      case Code.DONE_FULL: {
        if (typeof r[3] !== 'boolean') fail('ok must be a boolean');
        return {
          type: 'call_completed',
          timeUs,
          callId: this.callId(r[2]),
          ok: r[3],
          result: r[4] as JsonValue,
          error: strOrNull(r[5], 'error'),
        };
      }
      case Code.STATE: {
        const callId = this.callId(r[2]);
        if (state.calls.get(callId) === undefined) fail(`call ${callId} is not in flight`);
        return {
          type: 'state_changed',
          timeUs,
          callId,
          environment: str(r[3], 'environment'),
          task: r[4] === null ? null : fromTable(r[4], dict.tasks, 'task'),
          digest: str(r[5], 'digest'),
        };
      }
      default:
        return fail(`unknown record code ${code}`);
    }
  }

  private derivedThink(timeUs: number): number {
    const think = timeUs - this.state.decisionStartUs;
    if (think < 0) fail('the decision ends before it started');
    return think;
  }

  private errorText(callId: number, kind: number): string {
    const call = this.state.calls.get(callId);
    if (call === undefined) fail(`call ${callId} is not in flight`);
    if (kind === ErrorKind.INVALID) {
      if (call.invalid === null) fail(`call ${callId} was not invalid`);
      return `invalid call: ${call.invalid}`;
    }
    const rt = this.dict.runtime(call.tool);
    if (rt === null) fail(`call ${callId} is of an unknown tool`);
    switch (kind) {
      case ErrorKind.TOOL: {
        const o = this.dict.outcome(call);
        if (o === null || o.ok) fail(`call ${callId} has no tool error to refer to`);
        return o.error;
      }
      case ErrorKind.FAILURE:
        return rt.attemptError('failure');
      case ErrorKind.TIMEOUT:
        return rt.attemptError('timeout');
      default:
        return fail(`unknown error kind ${kind}`);
    }
  }

  private actions(v: unknown): Action[] {
    if (!Array.isArray(v)) fail('actions must be an array');
    const { dict } = this;
    return v.map((a: unknown, i): Action => {
      if (a === ActionCode.POLL) return { type: 'poll' };
      if (a === ActionCode.WAIT) return { type: 'wait' };
      if (typeof a === 'number') {
        const k = this.step(a);
        const s = dict.steps[k]!;
        return { type: 'call', tool: s.tool, args: dict.stepArgs[k]!, ref: s.key };
      }
      if (!Array.isArray(a) || a.length === 0) fail(`actions[${i}] is not an action`);
      switch (a[0]) {
        case ActionCode.CALL_STEP: {
          if (a.length !== 2 && a.length !== 3)
            fail(`actions[${i}]: a step call has 2 or 3 elements`);
          const k = this.step(a[1]);
          const s = dict.steps[k]!;
          return a.length === 2
            ? { type: 'call', tool: s.tool, args: dict.stepArgs[k]! }
            : {
                type: 'call',
                tool: s.tool,
                args: dict.stepArgs[k]!,
                ref: str(a[2], `actions[${i}] ref`),
              };
        }
        case ActionCode.CALL: {
          if (a.length !== 3 && a.length !== 4) fail(`actions[${i}]: a call has 3 or 4 elements`);
          const tool = fromTable(a[1], dict.tools, `actions[${i}] tool`);
          return a.length === 3
            ? { type: 'call', tool, args: a[2] as JsonValue }
            : { type: 'call', tool, args: a[2] as JsonValue, ref: str(a[3], `actions[${i}] ref`) };
        }
        case ActionCode.ANSWER:
          if (a.length !== 3) fail(`actions[${i}]: an answer has 3 elements`);
          return {
            type: 'answer',
            task: fromTable(a[1], dict.tasks, `actions[${i}] task`),
            content: fromTable(a[2], dict.answers, `actions[${i}] content`),
          };
        case ActionCode.WAIT_MAX:
          if (a.length !== 2) fail(`actions[${i}]: a wait has 2 elements`);
          return { type: 'wait', maxUs: uint(a[1], `actions[${i}] maxUs`) };
        default:
          return fail(`actions[${i}] has unknown code ${JSON.stringify(a[0])}`);
      }
    });
  }
}
