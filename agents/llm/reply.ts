/**
 * Turning a model reply into actions. Real model output is input, never a crash: every defect is
 * answered to the model (a tool error at once, or a nudge next turn), noted as an issue, and the
 * episode goes on within its limits.
 *
 * | defect | what the world gets | what the model is told | scoring sees |
 * |---|---|---|---|
 * | scenario tool with args that are not JSON | a call, args = the raw text (a string) | tool error: not valid JSON | an invalid call |
 * | unknown tool | a call to that name | tool error: no such tool, list of tools | an invalid call |
 * | args off the tool's schema (wrong types, missing, extra) | the call as given | tool error: the schema problem | an invalid call |
 * | answer for a task that does not exist (or has not arrived) | the answer | next turn: the world's rejection | a rejected action |
 * | control tool with unusable args (answer without task_id or answer, not JSON) | nothing | tool error | (issue only) |
 * | more tool calls than `maxCallsPerTurn` | the first N only | tool error on the rest: not run | (issue only) |
 * | no tool call (plain text) / empty reply / no choice | `wait` with maxUs 0 | next turn: a nudge | a decision without call or answer |
 * | cut off by the token limit (finish_reason "length") | whatever calls it holds | next turn: a nudge | as above |
 * | a turn whose every call was refused before the world | `wait` with maxUs 0 | the tool errors | a decision without call or answer |
 * | output the server could not parse (a 5xx saying so) | `wait` with maxUs 0 | next turn: a nudge | a decision without call or answer |
 * | tool_call ids missing, repeated or random | (tooltime's own ids are used) | - | - |
 *
 * Invalid scenario-tool calls still go to the world so scoring counts them; their failure is told
 * at once, and the world's own error for that call is then not shown again. `wait` with maxUs 0 is
 * the world's way to hand the turn straight back, so the nudge is read without waiting for an event.
 * In the history sent back, unparseable arguments are replaced by "{}" (some servers refuse to
 * re-read invalid JSON), and every tool call has tooltime's own id, `call_<decision>_<index>`, also
 * its call ref: a server's ids may be random (llama.cpp), and any id that matches within the request
 * is accepted, so the request a deterministic model gets is the same on every run.
 *
 * A turn makes progress when it holds a usable tool call (a scenario-tool call that passed the
 * checks, an answer, `wait`, `check_results`); consecutive turns without one are counted against the
 * agent's `maxIdleTurns` (agent.ts).
 */
import type { Action, Delivery, Mode } from '../../scenarios/protocol.js';
import type { JsonValue } from '../../scenarios/spec/schema.js';
import type { Issue } from './note.js';
import { pendingText } from './render.js';
import {
  ANSWER,
  CHECK_RESULTS,
  WAIT,
  controlToolNames,
  type ArgsChecker,
  type JsonObject,
} from './tools.js';

/** A tool message owed for a tool call of this turn: text now, or (sync calls) the call's outcome when it is delivered. */
export interface OwedReply {
  readonly toolCallId: string;
  /** The call's ref when the outcome is awaited (sync mode). */
  readonly ref: string | null;
  readonly text: string | null;
}

/** What each action of the decision was, to word a rejection. */
export interface IssuedAction {
  readonly label: string;
}

export interface ParsedReply {
  /** The assistant message to keep in the history, or null for an empty reply. */
  readonly assistant: JsonObject | null;
  readonly actions: Action[];
  readonly issued: IssuedAction[];
  readonly owed: OwedReply[];
  /** Refs of calls whose failure the model was already told. */
  readonly silenced: string[];
  readonly issues: Issue[];
  /** Text for the next turn's user message. */
  readonly nudges: string[];
  /** The turn held a usable tool call. */
  readonly progress: boolean;
}

export interface ReplyContext {
  readonly mode: Mode;
  readonly delivery: Delivery;
  readonly decision: number;
  readonly tools: ArgsChecker;
  readonly maxCallsPerTurn: number;
  readonly maxTokens: number | null;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

function howToAct(mode: Mode, delivery: Delivery): string {
  const poll =
    mode === 'async' && delivery === 'poll'
      ? ', check_results to fetch results that have arrived'
      : '';
  return `Act only through tool calls: answer(task_id, answer) to reply to a task, wait to idle until something arrives${poll}, or a tool.`;
}

/** tooltime's id for call `index` of decision `decision`'s reply. */
export function ownCallId(decision: number, index: number): string {
  return `call_${decision}_${index}`;
}

/**
 * `response` with tooltime's own id on each tool call of its first choice (a copy; the rest as
 * sent): what the note records, so two runs of a deterministic model record the same bytes.
 */
export function withOwnIds(response: JsonValue, decision: number): JsonValue {
  if (!isObj(response) || !Array.isArray(response.choices)) return response;
  const [first, ...rest] = response.choices;
  if (!isObj(first) || !isObj(first.message) || !Array.isArray(first.message.tool_calls))
    return response;
  const calls = first.message.tool_calls.map((c, i) =>
    isObj(c) ? { ...c, id: ownCallId(decision, i) } : c,
  ) as JsonValue[];
  const message = { ...first.message, tool_calls: calls } as JsonObject;
  return {
    ...response,
    choices: [{ ...first, message } as JsonObject, ...(rest as JsonValue[])],
  } as JsonObject;
}

/** The turn after output the server could not parse: no action but a nudge. */
export function unparsedReply(ctx: ReplyContext, serverMessage: string): ParsedReply {
  return {
    assistant: null,
    actions: [{ type: 'wait', maxUs: 0 }],
    issued: [{ label: 'turn without a usable tool call' }],
    owed: [],
    silenced: [],
    issues: [{ kind: 'unparsed_output', toolCallId: null, detail: serverMessage.slice(0, 300) }],
    nudges: [
      `Your last reply could not be read: the server could not parse it as tool calls. ${howToAct(ctx.mode, ctx.delivery)}`,
    ],
    progress: false,
  };
}

function textOf(content: unknown): string | null {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    const parts = content
      .map((p) => (isObj(p) && typeof p.text === 'string' ? p.text : ''))
      .filter((s) => s !== '');
    return parts.length === 0 ? null : parts.join('');
  }
  return null;
}

type MutableReply = { -readonly [K in keyof ParsedReply]: ParsedReply[K] };

/** A tool call's arguments: a JSON string (usual), an object (some servers), or nothing (no arguments). */
function readArguments(rawArgs: unknown): {
  args: JsonValue;
  argsText: string;
  jsonError: string | null;
} {
  if (typeof rawArgs === 'string') {
    if (rawArgs.trim() === '') return { args: {}, argsText: '{}', jsonError: null };
    try {
      return { args: JSON.parse(rawArgs) as JsonValue, argsText: rawArgs, jsonError: null };
    } catch (error) {
      return {
        args: rawArgs,
        argsText: '{}',
        jsonError: error instanceof Error ? error.message : String(error),
      };
    }
  }
  if (rawArgs !== undefined && rawArgs !== null)
    return { args: rawArgs as JsonValue, argsText: JSON.stringify(rawArgs), jsonError: null };
  return { args: {}, argsText: '{}', jsonError: null };
}

/** A call of a control tool (wait, check_results, answer): an action, or an issue when its args are bad. */
function controlCall(
  out: MutableReply,
  name: string,
  id: string,
  args: JsonValue,
  jsonError: string | null,
  ctx: ReplyContext,
): void {
  if (name === WAIT) {
    out.actions.push({ type: 'wait' });
    out.issued.push({ label: `wait (${id})` });
    out.owed.push({
      toolCallId: id,
      ref: null,
      text:
        ctx.mode === 'async'
          ? 'Waiting: your next turn comes when a result or message arrives.'
          : 'Waiting: your next turn comes when a message arrives.',
    });
  } else if (name === CHECK_RESULTS) {
    out.actions.push({ type: 'poll' });
    out.issued.push({ label: `check_results (${id})` });
    out.owed.push({
      toolCallId: id,
      ref: null,
      text: 'Checked: the results that have arrived are shown next.',
    });
  } else if (name === ANSWER) {
    const a = jsonError === null && isObj(args) ? args : null;
    const task = a === null ? undefined : a.task_id;
    const answer = a === null ? undefined : a.answer;
    if (
      (typeof task !== 'string' && typeof task !== 'number') ||
      answer === undefined ||
      answer === null
    ) {
      const why =
        jsonError !== null
          ? `the arguments are not valid JSON (${jsonError})`
          : 'answer needs {"task_id": string, "answer": string}';
      out.issues.push({ kind: 'bad_control_args', toolCallId: id, detail: `answer: ${why}` });
      out.owed.push({ toolCallId: id, ref: null, text: `Error: ${why}; nothing was recorded.` });
      return;
    }
    const taskId = String(task);
    out.actions.push({
      type: 'answer',
      task: taskId,
      content: typeof answer === 'string' ? answer : JSON.stringify(answer),
    });
    out.issued.push({ label: `answer for task "${taskId}" (${id})` });
    out.owed.push({ toolCallId: id, ref: null, text: `Answer for task ${taskId} submitted.` });
  }
}

/** A call of a scenario tool (or an unknown one): always a call, so the world judges and scoring counts it. */
function scenarioCall(
  out: MutableReply,
  name: string,
  id: string,
  args: JsonValue,
  jsonError: string | null,
  ctx: ReplyContext,
  control: readonly string[],
): void {
  out.actions.push({ type: 'call', tool: name, args, ref: id });
  out.issued.push({ label: `call ${id} to ${name === '' ? '(no name)' : name}` });
  let problem: string | null = null;
  if (jsonError !== null) {
    problem = `the arguments are not valid JSON (${jsonError})`;
    out.issues.push({ kind: 'invalid_json', toolCallId: id, detail: jsonError });
  } else if (!ctx.tools.has(name)) {
    const known = [...ctx.tools.names(), ...control];
    problem = `there is no tool "${name}" (tools: ${known.join(', ')})`;
    out.issues.push({ kind: 'unknown_tool', toolCallId: id, detail: name });
  } else {
    problem = ctx.tools.check(name, args);
    if (problem !== null)
      out.issues.push({ kind: 'invalid_args', toolCallId: id, detail: problem });
  }
  if (problem !== null) {
    out.silenced.push(id);
    out.owed.push({ toolCallId: id, ref: null, text: `Error: ${problem}; the call failed.` });
  } else {
    out.owed.push({
      toolCallId: id,
      ref: ctx.mode === 'sync' ? id : null,
      text: ctx.mode === 'sync' ? null : pendingText(id, name, ctx.delivery),
    });
  }
}

/** Issues and nudges about the reply as a whole: cut off by the token limit, or no tool call. */
function nudge(
  out: MutableReply,
  finish: string | null,
  callCount: number,
  hasMessage: boolean,
  content: string | null,
  ctx: ReplyContext,
): void {
  if (finish === 'length') {
    out.issues.push({ kind: 'truncated', toolCallId: null, detail: 'finish_reason "length"' });
    out.nudges.push(
      `Your last reply was cut off by the token limit${ctx.maxTokens === null ? '' : ` (${ctx.maxTokens} tokens)`}. Keep replies short and act through tool calls.`,
    );
  }
  if (callCount === 0) {
    const empty = content === null || content.trim() === '';
    out.issues.push(
      empty
        ? {
            kind: 'empty_reply',
            toolCallId: null,
            detail: !hasMessage ? 'no message in the response' : 'no content and no tool call',
          }
        : { kind: 'no_tool_call', toolCallId: null, detail: content.slice(0, 200) },
    );
    out.nudges.push(
      `${empty ? 'Your last reply was empty' : 'Your last reply had no tool call, so nothing happened'}. ${howToAct(ctx.mode, ctx.delivery)}`,
    );
  }
}

export function parseReply(response: JsonValue, ctx: ReplyContext): ParsedReply {
  const out: MutableReply = {
    assistant: null,
    actions: [],
    issued: [],
    owed: [],
    silenced: [],
    issues: [],
    nudges: [],
    progress: false,
  };
  const control = controlToolNames(ctx.mode, ctx.delivery);
  const choices = isObj(response) && Array.isArray(response.choices) ? response.choices : [];
  const choice = choices[0];
  const message = isObj(choice) && isObj(choice.message) ? choice.message : null;
  const finish =
    isObj(choice) && typeof choice.finish_reason === 'string' ? choice.finish_reason : null;
  const content = message === null ? null : textOf(message.content);
  const rawCalls = message !== null && Array.isArray(message.tool_calls) ? message.tool_calls : [];

  const historyCalls: JsonObject[] = [];
  for (const [i, raw] of rawCalls.entries()) {
    const tc = isObj(raw) ? raw : {};
    const f = isObj(tc.function) ? tc.function : {};
    const name = typeof f.name === 'string' ? f.name : '';
    const id = ownCallId(ctx.decision, i);
    const { args, argsText, jsonError } = readArguments(f.arguments);
    historyCalls.push({ id, type: 'function', function: { name, arguments: argsText } });

    if (i >= ctx.maxCallsPerTurn) {
      out.issues.push({
        kind: 'too_many_calls',
        toolCallId: id,
        detail: `call ${i + 1} of ${rawCalls.length}; at most ${ctx.maxCallsPerTurn} per turn`,
      });
      out.owed.push({
        toolCallId: id,
        ref: null,
        text: `Error: not run: at most ${ctx.maxCallsPerTurn} tool calls per turn. Repeat this call in a later turn if you still need it.`,
      });
      continue;
    }

    if (control.includes(name)) {
      controlCall(out, name, id, args, jsonError, ctx);
      continue;
    }

    scenarioCall(out, name, id, args, jsonError, ctx, control);
  }

  if (historyCalls.length > 0 || (content !== null && content !== '')) {
    out.assistant =
      historyCalls.length > 0
        ? { role: 'assistant', content, tool_calls: historyCalls }
        : { role: 'assistant', content };
  }
  nudge(out, finish, rawCalls.length, message !== null, content, ctx);
  out.progress = out.actions.some((a) => a.type !== 'call' || !out.silenced.includes(a.ref ?? ''));
  const acted = out.actions.some((a) => a.type !== 'wait');
  if (!acted && !out.actions.some((a) => a.type === 'wait'))
    out.actions.push({ type: 'wait', maxUs: 0 });
  if (out.actions.length > out.issued.length)
    out.issued.push({ label: 'turn without a usable tool call' });
  return out;
}
