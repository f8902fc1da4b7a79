/**
 * The note of a model decision (`decision_ended.note`): everything the turn exchanged with the
 * model, so verify, inspect, diff, score and fork never call the network.
 *
 *   format        "tooltime.llm/1"
 *   prompt        the system prompt's version (prompt.ts PROMPT_VERSION)
 *   config        the agent's configuration (decision 1 only; null after): what a replay rebuilds
 *   openTasks     ids of the tasks open when the turn started (per-task token attribution)
 *   request       the raw request body (no key: the key travels in a header and is never recorded)
 *   response      the response JSON, with tooltime's own tool-call ids (reply.ts): what the
 *                 model said, in the form the history sends back
 *   unparsed      the server's message when it could not parse the model's output (response is
 *                 then its error body), else null
 *   usage         { promptTokens, completionTokens, estimated } (estimated: the server gave none)
 *   systemFingerprint  the response's system_fingerprint, or null
 *   latencyMs     measured latency of the request under think time `wall` (its think time), else
 *                 null (measured.ts: wall time is kept out of what a run reproduces; notes
 *                 recorded before that rule carry it under `tokens` too)
 *   attempts      failed attempts before it: [{ status, error, waitedMs }]
 *   issues        what was malformed in the reply: [{ kind, toolCallId, detail }] (reply.ts)
 */
import type { EpisodeEvent } from '../../scenarios/world/events.js';
import type { JsonValue } from '../../scenarios/spec/schema.js';
import type { ThinkProfile } from './profiles.js';
import type { ThinkMode } from './think.js';
import type { FailedAttempt } from './transport.js';

export const NOTE_FORMAT = 'tooltime.llm/1';

/** The settings a replay needs to rebuild the agent exactly. */
export interface LlmConfig {
  readonly model: string;
  readonly temperature: number | null;
  readonly maxTokens: number | null;
  readonly think: ThinkMode;
  readonly profile: ThinkProfile;
  readonly maxCallsPerTurn: number;
  readonly promptVersion: string;
  /** Requests an episode may make (`--max-turns`); null: only the scenario's maxDecisions. */
  readonly maxTurns: number | null;
  /** Consecutive turns without a usable tool call that end the episode (`--max-idle-turns`); null: no cap. */
  readonly maxIdleTurns: number | null;
}

export interface Issue {
  readonly kind: IssueKind;
  readonly toolCallId: string | null;
  readonly detail: string;
}

export type IssueKind =
  | 'invalid_json'
  | 'unknown_tool'
  | 'invalid_args'
  | 'bad_control_args'
  | 'too_many_calls'
  | 'no_tool_call'
  | 'empty_reply'
  | 'truncated'
  | 'unparsed_output'
  /** Recorded before tooltime gave every call its own id; no longer raised. */
  | 'bad_tool_call_id';

export interface LlmNote {
  readonly format: string;
  readonly prompt: string;
  readonly config: LlmConfig | null;
  readonly openTasks: readonly string[];
  readonly request: JsonValue;
  readonly response: JsonValue;
  readonly unparsed: string | null;
  readonly usage: {
    readonly promptTokens: number;
    readonly completionTokens: number;
    readonly estimated: boolean;
  };
  readonly systemFingerprint: string | null;
  readonly latencyMs: number | null;
  readonly attempts: readonly FailedAttempt[];
  readonly issues: readonly Issue[];
}

export function configJson(c: LlmConfig): JsonValue {
  return {
    model: c.model,
    temperature: c.temperature,
    maxTokens: c.maxTokens,
    think: c.think,
    profile: {
      ttftMs: c.profile.ttftMs,
      prefillUsPerToken: c.profile.prefillUsPerToken,
      decodeTokensPerS: c.profile.decodeTokensPerS,
    },
    maxCallsPerTurn: c.maxCallsPerTurn,
    promptVersion: c.promptVersion,
    maxTurns: c.maxTurns,
    maxIdleTurns: c.maxIdleTurns,
  };
}

export function noteJson(n: LlmNote): JsonValue {
  return {
    format: n.format,
    prompt: n.prompt,
    config: n.config === null ? null : configJson(n.config),
    openTasks: [...n.openTasks],
    request: n.request,
    response: n.response,
    unparsed: n.unparsed,
    usage: {
      promptTokens: n.usage.promptTokens,
      completionTokens: n.usage.completionTokens,
      estimated: n.usage.estimated,
    },
    systemFingerprint: n.systemFingerprint,
    latencyMs: n.latencyMs,
    attempts: n.attempts.map((a) => ({ status: a.status, error: a.error, waitedMs: a.waitedMs })),
    issues: n.issues.map((i) => ({ kind: i.kind, toolCallId: i.toolCallId, detail: i.detail })),
  };
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function readConfig(v: unknown): LlmConfig | null {
  if (!isObj(v) || typeof v.model !== 'string' || !isObj(v.profile)) return null;
  const p = v.profile;
  if (!isNum(p.ttftMs) || !isNum(p.prefillUsPerToken) || !isNum(p.decodeTokensPerS)) return null;
  const think = v.think === 'wall' ? 'wall' : 'tokens';
  return {
    model: v.model,
    temperature: isNum(v.temperature) ? v.temperature : null,
    maxTokens: isNum(v.maxTokens) ? v.maxTokens : null,
    think,
    profile: {
      ttftMs: p.ttftMs,
      prefillUsPerToken: p.prefillUsPerToken,
      decodeTokensPerS: p.decodeTokensPerS,
    },
    maxCallsPerTurn: isNum(v.maxCallsPerTurn) ? v.maxCallsPerTurn : 8,
    promptVersion: typeof v.promptVersion === 'string' ? v.promptVersion : 'system-v1',
    // Absent in notes recorded before these limits existed: those episodes ran without them.
    maxTurns: isNum(v.maxTurns) ? v.maxTurns : null,
    maxIdleTurns: isNum(v.maxIdleTurns) ? v.maxIdleTurns : null,
  };
}

/** The note as an LlmNote, or null when it is not one (another agent's note). */
export function readNote(note: JsonValue): LlmNote | null {
  if (!isObj(note) || note.format !== NOTE_FORMAT) return null;
  const u = note.usage;
  if (!isObj(u) || !isNum(u.promptTokens) || !isNum(u.completionTokens)) return null;
  const attempts = Array.isArray(note.attempts) ? (note.attempts as unknown[]).filter(isObj) : [];
  const issues = Array.isArray(note.issues) ? (note.issues as unknown[]).filter(isObj) : [];
  return {
    format: NOTE_FORMAT,
    prompt: typeof note.prompt === 'string' ? note.prompt : '',
    config: readConfig(note.config),
    openTasks: Array.isArray(note.openTasks)
      ? note.openTasks.filter((t): t is string => typeof t === 'string')
      : [],
    request: note.request ?? null,
    response: note.response ?? null,
    unparsed: typeof note.unparsed === 'string' ? note.unparsed : null,
    usage: {
      promptTokens: u.promptTokens,
      completionTokens: u.completionTokens,
      estimated: u.estimated === true,
    },
    systemFingerprint: typeof note.systemFingerprint === 'string' ? note.systemFingerprint : null,
    latencyMs: isNum(note.latencyMs) ? note.latencyMs : null,
    attempts: attempts.map((a) => ({
      status: isNum(a.status) ? a.status : null,
      error: typeof a.error === 'string' ? a.error : '',
      waitedMs: isNum(a.waitedMs) ? a.waitedMs : 0,
    })),
    issues: issues.map((i) => ({
      kind: String(i.kind) as IssueKind,
      toolCallId: typeof i.toolCallId === 'string' ? i.toolCallId : null,
      detail: typeof i.detail === 'string' ? i.detail : '',
    })),
  };
}

/** The model notes of an episode, in decision order. */
export function notesOf(events: readonly EpisodeEvent[]): LlmNote[] {
  const out: LlmNote[] = [];
  for (const e of events) {
    if (e.type !== 'decision_ended') continue;
    const n = readNote(e.note);
    if (n !== null) out.push(n);
  }
  return out;
}
