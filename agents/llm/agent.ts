/**
 * The model agent: one chat conversation per episode, one request per decision.
 *
 * Each decision: (1) the tool messages owed for the previous turn's tool calls (async: already
 * worded; sync: the calls' delivered outcomes); (2) one user message with everything else delivered
 * since (new tasks, follow-ups, async results and errors, rejected actions), the nudges earned by
 * the previous reply and a status line; (3) the request, through the transport; (4) the reply
 * turned into actions (reply.ts); (5) think time (think.ts); (6) the note (note.ts).
 * A transport failure (after its retries) is thrown, so the world ends the episode `errored` with
 * its message; the rest of a run goes on. A model that loops is a result, not a failure: the
 * episode ends at a limit of the agent's own (`Decision.stop`) when it has made `maxTurns` requests,
 * after `maxIdleTurns` consecutive turns without a usable tool call, or when the conversation no
 * longer fits the model's context (`contextOverflow`). Each is decided from the replies alone, so a
 * replay stops at the same turn.
 */
import type {
  Action,
  Agent,
  AgentContext,
  Decision,
  Delivered,
  Observation,
} from '../../scenarios/protocol.js';
import type { JsonValue } from '../../scenarios/spec/schema.js';
import { NOTE_FORMAT, noteJson, type LlmConfig, type LlmNote } from './note.js';
import { systemPrompt } from './prompt.js';
import { deliveredLine, outcomeText, statusLine, stamp } from './render.js';
import {
  parseReply,
  unparsedReply,
  withOwnIds,
  type IssuedAction,
  type OwedReply,
} from './reply.js';
import { redactSecrets } from './scrub.js';
import { estimateTokens, tokenThinkUs, wallThinkUs } from './think.js';
import { ArgsChecker, requestTools, type JsonObject } from './tools.js';
import { LlmContextOverflow, RecordingEnded, type Transport } from './transport.js';

/** Think time standing in for a turn a replay has no record of: longer than any episode limit. */
export const BEYOND_RECORDING_THINK_US = 2 ** 50;

export interface LlmAgentOptions {
  readonly transport: Transport;
  /** Strings that must never appear in a note (the API key). */
  readonly secrets?: readonly string[];
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

export class LlmAgent implements Agent {
  readonly spec: string;
  private readonly transport: Transport;
  private readonly secrets: readonly string[];
  private seed: number | null = null;
  private system: string | null = null;
  private tools: JsonValue[] = [];
  private checker: ArgsChecker | null = null;
  private readonly history: JsonObject[] = [];
  private owed: OwedReply[] = [];
  private nudges: string[] = [];
  private readonly silenced = new Set<string>();
  private issued: IssuedAction[] = [];
  private turns = 0;
  /** Consecutive turns without a usable tool call. */
  private idleTurns = 0;

  constructor(
    spec: string,
    readonly config: LlmConfig,
    options: LlmAgentOptions,
  ) {
    this.spec = spec;
    this.transport = options.transport;
    this.secrets = options.secrets ?? [];
  }

  start(context: AgentContext): void {
    this.seed = context.seed;
  }

  async decide(observation: Observation): Promise<Decision> {
    const { mode, delivery } = observation;
    if (this.system === null) {
      this.system = systemPrompt(mode, delivery, this.config.promptVersion);
      this.tools = requestTools(observation.tools, mode, delivery);
      this.checker = new ArgsChecker(observation.tools);
    }
    if (this.config.maxTurns !== null && this.turns >= this.config.maxTurns)
      return { actions: [], stop: 'maxTurns' };
    if (this.config.maxIdleTurns !== null && this.idleTurns >= this.config.maxIdleTurns)
      return { actions: [], stop: 'maxIdleTurns' };
    this.turns++;
    this.addMessages(observation);
    const body = this.requestBody();

    let exchange: Awaited<ReturnType<typeof this.transport.send>>;
    try {
      exchange = await this.transport.send(body);
    } catch (error) {
      if (error instanceof RecordingEnded)
        return { actions: [], thinkUs: BEYOND_RECORDING_THINK_US };
      if (error instanceof LlmContextOverflow) return { actions: [], stop: 'contextOverflow' };
      throw error;
    }

    const ctx = {
      mode,
      delivery,
      decision: observation.decision,
      tools: this.checker!,
      maxCallsPerTurn: this.config.maxCallsPerTurn,
      maxTokens: this.config.maxTokens,
    };
    const unparsed = exchange.unparsed ?? null;
    const response =
      unparsed === null ? withOwnIds(exchange.response, observation.decision) : exchange.response;
    const parsed = unparsed === null ? parseReply(response, ctx) : unparsedReply(ctx, unparsed);
    this.idleTurns = parsed.progress ? 0 : this.idleTurns + 1;
    if (parsed.assistant !== null) this.history.push(parsed.assistant);
    this.owed = parsed.owed;
    this.nudges = parsed.nudges;
    this.issued = parsed.issued;
    for (const ref of parsed.silenced) this.silenced.add(ref);

    const usage = this.usageOf(response, body, parsed.assistant);
    let thinkUs: number;
    if (this.config.think === 'wall') {
      if (exchange.latencyMs === null)
        throw new Error(
          'think time "wall" needs a measured latency, and the transport measured none',
        );
      thinkUs = wallThinkUs(exchange.latencyMs);
    } else {
      thinkUs = tokenThinkUs(this.config.profile, usage.promptTokens, usage.completionTokens);
    }
    const fingerprint =
      isObj(response) && typeof response.system_fingerprint === 'string'
        ? response.system_fingerprint
        : null;
    const note: LlmNote = {
      format: NOTE_FORMAT,
      prompt: this.config.promptVersion,
      config: this.turns === 1 ? this.config : null,
      openTasks: observation.openTasks.map((t) => t.id),
      request: body,
      response,
      unparsed,
      usage,
      systemFingerprint: fingerprint,
      latencyMs: exchange.latencyMs,
      attempts: exchange.attempts,
      issues: parsed.issues,
    };
    return {
      actions: parsed.actions as Action[],
      thinkUs,
      note: redactSecrets(noteJson(note), this.secrets),
    };
  }

  /** Appends the owed tool messages and this turn's user message to the history. */
  private addMessages(observation: Observation): void {
    const delivered: Delivered[] = [...observation.delivered];
    // (1) Tool messages owed for the previous turn (they must follow its assistant message at once).
    for (const owed of this.owed) {
      let text = owed.text;
      if (text === null && owed.ref !== null) {
        const i = delivered.findIndex(
          (d) => (d.type === 'result' || d.type === 'error') && d.ref === owed.ref,
        );
        const d = delivered[i];
        if (d !== undefined && (d.type === 'result' || d.type === 'error')) {
          text = outcomeText(d);
          delivered.splice(i, 1);
        }
      }
      this.history.push({
        role: 'tool',
        tool_call_id: owed.toolCallId,
        content: text ?? 'No result was delivered for this call.',
      });
    }
    this.owed = [];
    // (2) One user message for the rest.
    const lines: string[] = [];
    for (const d of delivered) {
      if (d.type === 'rejected') {
        const what = this.issued[d.action]?.label ?? `action ${d.action + 1} of your last turn`;
        lines.push(`[${stamp(d.atUs)}] Your ${what} was rejected: ${d.reason}.`);
      } else if (
        (d.type === 'result' || d.type === 'error') &&
        d.ref !== null &&
        this.silenced.has(d.ref)
      ) {
        this.silenced.delete(d.ref);
      } else {
        lines.push(deliveredLine(d));
      }
    }
    lines.push(...this.nudges);
    this.nudges = [];
    const last = this.history.at(-1);
    if (lines.length > 0 || last === undefined || last.role === 'assistant') {
      lines.push(
        statusLine(observation.nowUs, observation.mode, observation.pending, observation.openTasks),
      );
      this.history.push({ role: 'user', content: lines.join('\n') });
    }
  }

  private requestBody(): JsonObject {
    const body: JsonObject = {
      model: this.config.model,
      messages: [{ role: 'system', content: this.system! }, ...this.history],
      tools: this.tools,
    };
    if (this.config.temperature !== null) body.temperature = this.config.temperature;
    if (this.config.maxTokens !== null) body.max_tokens = this.config.maxTokens;
    if (this.seed !== null) body.seed = this.seed;
    // A snapshot: the history goes on growing after this request.
    return JSON.parse(JSON.stringify(body)) as JsonObject;
  }

  private usageOf(
    response: JsonValue,
    body: JsonObject,
    assistant: JsonObject | null,
  ): LlmNote['usage'] {
    const u = isObj(response) && isObj(response.usage) ? response.usage : null;
    const p = u?.prompt_tokens;
    const c = u?.completion_tokens;
    if (
      typeof p === 'number' &&
      Number.isFinite(p) &&
      p >= 0 &&
      typeof c === 'number' &&
      Number.isFinite(c) &&
      c >= 0
    )
      return { promptTokens: p, completionTokens: c, estimated: false };
    return {
      promptTokens: estimateTokens(JSON.stringify(body.messages) + JSON.stringify(body.tools)),
      completionTokens: assistant === null ? 0 : estimateTokens(JSON.stringify(assistant)),
      estimated: true,
    };
  }
}
