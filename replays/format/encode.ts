/**
 * Episode events to record payloads: each record a MessagePack array `[code, dtUs, ...fields]`.
 *
 * `dtUs` is the time since the previous record. Each event type has a compact form used whenever
 * its fields can be derived from the header's scenario and the episode so far (a call of an
 * expected step is just the step's index; a result equal to what the tool returns for those args
 * is left out), and a full form that states every field. FORMAT.md lists every form; decode.ts
 * inverts this file exactly.
 */
import type { EpisodeEvent } from '../../scenarios/world/events.js';
import type { Action } from '../../scenarios/protocol.js';
import { CodecError, MsgWriter } from './codec.js';
import { EpisodeState, type Dictionary } from './dictionary.js';
import {
  ActionCode,
  Code,
  CRC_BYTES,
  crc32,
  END_REASONS,
  ErrorKind,
  FRAME_RESERVE,
  frameInPlace,
  LIMIT_NAMES,
  varintSize,
  writeCrc,
  writeFrameLength,
} from './format.js';
import { episodeAgent, type ReplayHeader } from './header.js';

function uint(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    throw new CodecError(`${what} must be a non-negative integer, got ${String(v)}`);
  return v;
}

function int(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v))
    throw new CodecError(`${what} must be an integer, got ${String(v)}`);
  return v;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new CodecError(`${what} must be a string, got ${typeof v}`);
  return v;
}

function strOrNull(v: unknown, what: string): string | null {
  if (v !== null && typeof v !== 'string')
    throw new CodecError(`${what} must be a string or null, got ${typeof v}`);
  return v;
}

/**
 * Where trailers are built: a sink takes the bytes before `write` returns, so one buffer serves all.
 * Timed as whole commands on the default suite (7,200 episodes, fresh processes, CPU user + system)
 * with a buffer of its own per trailer (and the encoder's writer field unset until its first
 * append): `tooltime run --out DIR` took 1.06x (0.89-1.29, ten pairs), `tooltime replay verify
 * DIR/replays` 1.03x (0.91-1.14, five). Kept on the run's figure, though one 128-byte buffer per
 * episode does not explain it alone (bench/RESULTS.md).
 */
const trailerScratch = new MsgWriter(128);

export class RecordEncoder {
  readonly state: EpisodeState;
  /** The writer of the frame being appended (valid during `append`). */
  private w = trailerScratch;
  /** The time of the event being appended (set by `begin`), taken into the state once it is written. */
  private timeUs = 0;
  /** The event being appended ends a decision. */
  private endsDecision = false;

  constructor(
    private readonly dict: Dictionary,
    private readonly header: ReplayHeader,
  ) {
    this.state = new EpisodeState(dict);
  }

  /**
   * Appends `event`'s record frame to `w` (length, payload, CRC) and takes the event into the
   * episode state; true when the event ends a decision. On a CodecError nothing is appended and
   * the state is unchanged.
   *
   * The event's fields are read only in the branch of its type (see `write`): a property read
   * shared by every event type is megamorphic (a dozen object shapes go through it), and those
   * were a good part of recording's cost.
   */
  append(w: MsgWriter, event: EpisodeEvent): boolean {
    const start = w.pos;
    // One byte for the length: a payload of 128 bytes or more (rare) is moved up to make room.
    w.ensure(1);
    w.pos = start + 1;
    this.w = w;
    this.endsDecision = false;
    try {
      this.write(event);
    } catch (error) {
      w.pos = start;
      throw error;
    }
    this.state.lastTimeUs = this.timeUs;
    const length = w.pos - start - 1;
    let payloadStart = start + 1;
    if (length >= 0x80) {
      const extra = varintSize(length) - 1;
      w.ensure(extra);
      w.buf.copyWithin(start + 1 + extra, start + 1, w.pos);
      w.pos += extra;
      payloadStart += extra;
    }
    writeFrameLength(w.buf, payloadStart, length);
    w.ensure(CRC_BYTES);
    writeCrc(w.buf, w.pos, crc32(w.buf, start, w.pos));
    w.pos += CRC_BYTES;
    return this.endsDecision;
  }

  /** The trailer frame: a view into a shared buffer, valid until the next trailer is made. */
  trailer(records: number, sha256: string): Uint8Array {
    const w = trailerScratch;
    w.reset();
    w.ensure(FRAME_RESERVE);
    w.pos = FRAME_RESERVE;
    w.arrayHeader(3);
    w.number(Code.TRAILER);
    w.number(records);
    w.string(sha256);
    w.ensure(CRC_BYTES);
    return frameInPlace(w.buf, w.pos);
  }

  /** The record's array header, code and time delta; `timeUs` is the event's time. */
  private begin(code: number, n: number, timeUs: number): void {
    const t = uint(timeUs, 'timeUs');
    this.timeUs = t;
    this.w.arrayHeader(n);
    this.w.number(code);
    this.w.number(t - this.state.lastTimeUs);
  }

  private ref(v: number | string): void {
    if (typeof v === 'number') this.w.number(v);
    else this.w.string(v);
  }

  private optStr(v: string | null): void {
    if (v === null) this.w.nil();
    else this.w.string(v);
  }

  private callRef(callId: unknown): void {
    this.w.number(this.state.lastCallId - uint(callId, 'callId'));
  }

  /** Writes `e`'s record: one named step per event type that has a choice of codes. */
  private write(e: EpisodeEvent): void {
    const { w, dict } = this;
    switch (e.type) {
      case 'episode_started':
        this.writeStarted(e);
        return;
      case 'task_arrived':
        this.begin(Code.TASK, 3, e.timeUs);
        this.ref(dict.taskRef(str(e.task, 'task')));
        return;
      case 'message_arrived':
        this.writeMessage(e);
        return;
      case 'decision_started':
        this.writeDecisionStarted(e);
        return;
      case 'result_delivered':
        this.begin(Code.DELIVERED, 3, e.timeUs);
        this.callRef(e.callId);
        return;
      case 'decision_ended':
        this.writeDecisionEnded(e);
        return;
      case 'action_rejected':
        this.begin(Code.REJECTED, 5, e.timeUs);
        w.number(uint(e.decision, 'decision'));
        w.number(uint(e.action, 'action'));
        w.string(str(e.reason, 'reason'));
        return;
      case 'call_issued':
        this.writeCallIssued(e);
        return;
      case 'call_started':
        if (e.callId === this.state.lastCallId) this.begin(Code.CALL_STARTED, 2, e.timeUs);
        else {
          this.begin(Code.CALL_STARTED_AT, 3, e.timeUs);
          this.callRef(e.callId);
        }
        return;
      case 'call_completed':
        this.writeCallCompleted(e);
        return;
      case 'state_changed': {
        this.begin(Code.STATE, 6, e.timeUs);
        this.callRef(e.callId);
        w.string(str(e.environment, 'environment'));
        const task = strOrNull(e.task, 'task');
        if (task === null) w.nil();
        else this.ref(dict.taskRef(task));
        w.string(str(e.digest, 'digest'));
        return;
      }
      case 'answer_given':
        this.begin(Code.ANSWER, 4, e.timeUs);
        this.ref(dict.taskRef(str(e.task, 'task')));
        this.ref(dict.answerRef(str(e.content, 'content')));
        return;
      case 'limit_hit':
        this.writeLimit(e);
        return;
      case 'episode_ended':
        this.writeEnded(e);
        return;
      default:
        throw new CodecError(`unknown event type ${String((e as { type?: unknown }).type)}`);
    }
  }

  /** Short when the header already says what the event does (scenario, seed, world, agent). */
  private writeStarted(e: Extract<EpisodeEvent, { type: 'episode_started' }>): void {
    const { w, dict, header } = this;
    if (
      e.scenario === dict.scenario.id &&
      e.seed === header.seed &&
      e.mode === header.world.mode &&
      e.delivery === header.world.delivery &&
      e.agent === episodeAgent(header)
    ) {
      this.begin(Code.STARTED, 2, e.timeUs);
      return;
    }
    this.begin(Code.STARTED_FULL, 7, e.timeUs);
    w.string(str(e.scenario, 'scenario'));
    w.number(int(e.seed, 'seed'));
    w.string(str(e.mode, 'mode'));
    w.string(str(e.delivery, 'delivery'));
    w.string(str(e.agent, 'agent'));
  }

  /** Short when the message is the plan's (its task follows from its index). */
  private writeMessage(e: Extract<EpisodeEvent, { type: 'message_arrived' }>): void {
    const index = uint(e.index, 'index');
    if (this.dict.plan.messages[index]?.task === e.task) {
      this.begin(Code.MESSAGE, 3, e.timeUs);
      this.w.number(index);
      return;
    }
    this.begin(Code.MESSAGE_FULL, 4, e.timeUs);
    this.w.number(index);
    this.ref(this.dict.taskRef(str(e.task, 'task')));
  }

  /** Short when decisions are numbered in order. */
  private writeDecisionStarted(e: Extract<EpisodeEvent, { type: 'decision_started' }>): void {
    const state = this.state;
    if (uint(e.decision, 'decision') === state.lastDecision + 1)
      this.begin(Code.DECISION_STARTED, 2, e.timeUs);
    else {
      this.begin(Code.DECISION_STARTED_FULL, 3, e.timeUs);
      this.w.number(e.decision);
    }
    state.decisionStarted(e.decision, e.timeUs);
  }

  /** Short when the decision number and think time follow from its start; with a note or not. */
  private writeDecisionEnded(e: Extract<EpisodeEvent, { type: 'decision_ended' }>): void {
    const { w, state } = this;
    const derivable =
      e.decision === state.lastDecision && e.thinkUs === e.timeUs - state.decisionStartUs;
    if (!Array.isArray(e.actions)) throw new CodecError('actions must be an array');
    if (derivable && e.note === null) {
      this.begin(Code.DECISION_ENDED, 3, e.timeUs);
      this.actions(e.actions);
    } else if (derivable) {
      this.begin(Code.DECISION_ENDED_NOTE, 4, e.timeUs);
      this.actions(e.actions);
      w.json(e.note);
    } else {
      this.begin(Code.DECISION_ENDED_FULL, 6, e.timeUs);
      w.number(uint(e.decision, 'decision'));
      w.number(uint(e.thinkUs, 'thinkUs'));
      this.actions(e.actions);
      w.json(e.note);
    }
    this.endsDecision = true;
  }

  /**
   * Short when the call is the next one, valid, for a step of the plan with that step's own args
   * and the next attempt number: then only the step index (and the ref, unless it is the step key).
   */
  private writeCallIssued(e: Extract<EpisodeEvent, { type: 'call_issued' }>): void {
    const { w, dict, state } = this;
    const k = dict.stepIndex(e.task, e.step);
    if (
      k >= 0 &&
      e.callId === state.lastCallId + 1 &&
      e.invalid === null &&
      e.tool === dict.steps[k]!.tool &&
      e.attempt === state.attempts[k]! + 1 &&
      dict.isStepArgs(k, e.args)
    ) {
      if (e.ref === dict.steps[k]!.key) {
        this.begin(Code.ISSUED, 3, e.timeUs);
        w.number(k);
      } else {
        this.begin(Code.ISSUED_REF, 4, e.timeUs);
        w.number(k);
        this.optStr(strOrNull(e.ref, 'ref'));
      }
      state.callIssued(e, k);
      return;
    }
    this.begin(Code.ISSUED_FULL, 10, e.timeUs);
    w.number(uint(e.callId, 'callId'));
    this.ref(dict.toolRef(str(e.tool, 'tool')));
    w.json(e.args);
    this.optStr(strOrNull(e.ref, 'ref'));
    const task = strOrNull(e.task, 'task');
    if (task === null) w.nil();
    else this.ref(dict.taskRef(task));
    this.optStr(strOrNull(e.step, 'step'));
    w.number(uint(e.attempt, 'attempt'));
    this.optStr(strOrNull(e.invalid, 'invalid'));
    state.callIssued(e, k);
  }

  /** Short when the outcome follows from the scenario (see `completionKind`). */
  private writeCallCompleted(e: Extract<EpisodeEvent, { type: 'call_completed' }>): void {
    const w = this.w;
    const kind = this.completionKind(e);
    if (kind === 'ok') {
      this.begin(Code.DONE_OK, 3, e.timeUs);
      this.callRef(e.callId);
    } else if (kind !== null) {
      this.begin(Code.DONE_ERROR, 4, e.timeUs);
      this.callRef(e.callId);
      w.number(kind);
    } else {
      this.begin(Code.DONE_FULL, 6, e.timeUs);
      this.callRef(e.callId);
      if (typeof e.ok !== 'boolean') throw new CodecError('ok must be a boolean');
      w.bool(e.ok);
      w.json(e.result);
      this.optStr(strOrNull(e.error, 'error'));
    }
    this.state.callCompleted(e.callId);
  }

  private writeLimit(e: Extract<EpisodeEvent, { type: 'limit_hit' }>): void {
    const i = LIMIT_NAMES.indexOf(e.limit);
    if (i < 0) throw new CodecError(`unknown limit ${String(e.limit)}`);
    this.begin(Code.LIMIT, 3, e.timeUs);
    this.w.number(i);
  }

  private writeEnded(e: Extract<EpisodeEvent, { type: 'episode_ended' }>): void {
    const i = END_REASONS.indexOf(e.reason);
    if (i < 0) throw new CodecError(`unknown end reason ${String(e.reason)}`);
    this.begin(Code.ENDED, 4, e.timeUs);
    this.w.number(i);
    this.optStr(strOrNull(e.detail, 'detail'));
  }

  /** 'ok', an ErrorKind, or null when the completion must be written in full. */
  private completionKind(
    e: Extract<EpisodeEvent, { type: 'call_completed' }>,
  ): 'ok' | number | null {
    const call = this.state.calls.get(e.callId);
    if (call === undefined) return null;
    if (e.ok === true && e.error === null)
      return this.dict.succeedsWith(call, e.result) ? 'ok' : null;
    if (e.ok !== false || e.result !== null || typeof e.error !== 'string') return null;
    if (call.invalid !== null)
      return e.error === `invalid call: ${call.invalid}` ? ErrorKind.INVALID : null;
    const rt = this.dict.runtime(call.tool);
    if (rt === null) return null;
    const o = this.dict.outcome(call);
    if (o !== null && !o.ok && o.error === e.error) return ErrorKind.TOOL;
    if (e.error === rt.attemptError('failure')) return ErrorKind.FAILURE;
    if (e.error === rt.attemptError('timeout')) return ErrorKind.TIMEOUT;
    return null;
  }

  private actions(actions: readonly Action[]): void {
    const { w, dict } = this;
    w.arrayHeader(actions.length);
    for (const a of actions) {
      switch (a.type) {
        case 'call': {
          const tool = str(a.tool, 'action tool');
          const ref = a.ref === undefined ? undefined : str(a.ref, 'action ref');
          if (ref !== undefined) {
            const k = dict.stepByRef(ref);
            if (k >= 0 && dict.steps[k]!.tool === tool && dict.isStepArgs(k, a.args)) {
              w.number(k);
              break;
            }
          }
          const k = dict.stepWithArgs(tool, a.args);
          if (k >= 0) {
            w.arrayHeader(ref === undefined ? 2 : 3);
            w.number(ActionCode.CALL_STEP);
            w.number(k);
          } else {
            w.arrayHeader(ref === undefined ? 3 : 4);
            w.number(ActionCode.CALL);
            this.ref(dict.toolRef(tool));
            w.json(a.args);
          }
          if (ref !== undefined) w.string(ref);
          break;
        }
        case 'answer':
          w.arrayHeader(3);
          w.number(ActionCode.ANSWER);
          this.ref(dict.taskRef(str(a.task, 'action task')));
          this.ref(dict.answerRef(str(a.content, 'action content')));
          break;
        case 'poll':
          w.number(ActionCode.POLL);
          break;
        case 'wait':
          if (a.maxUs === undefined) w.number(ActionCode.WAIT);
          else {
            w.arrayHeader(2);
            w.number(ActionCode.WAIT_MAX);
            w.number(uint(a.maxUs, 'action maxUs'));
          }
          break;
        default:
          throw new CodecError(`unknown action type ${String((a as { type?: unknown }).type)}`);
      }
    }
  }
}
