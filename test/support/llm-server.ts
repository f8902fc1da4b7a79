/**
 * A scripted Chat Completions server for the model-agent tests: a real HTTP server on 127.0.0.1
 * (port 0) that the `openai` SDK talks to. Each test chooses the replies (malformed ones, errors,
 * delays) through a `Model` function of the request.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChatRequest {
  readonly body: {
    model: string;
    // biome-ignore lint/suspicious/noExplicitAny: a request as the client sent it, any shape
    messages: Array<Record<string, any>>;
    // biome-ignore lint/suspicious/noExplicitAny: as above
    tools?: Array<Record<string, any>>;
    seed?: number;
    [k: string]: unknown;
  };
  readonly headers: IncomingHttpHeaders;
  /** 0-based index of this request among all the server received. */
  readonly hit: number;
}

export interface ServerReply {
  readonly status?: number;
  readonly headers?: Record<string, string>;
  /** The body as JSON... */
  readonly json?: unknown;
  /** ...or raw text. */
  readonly raw?: string;
  readonly delayMs?: number;
}

export type Model = (request: ChatRequest) => ServerReply | Promise<ServerReply>;

export interface ChatServer {
  readonly url: string;
  readonly requests: ChatRequest[];
  model: Model;
  close(): Promise<void>;
}

export async function startChatServer(model: Model): Promise<ChatServer> {
  const requests: ChatRequest[] = [];
  const state: { model: Model } = { model };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        let reply: ServerReply;
        try {
          if (req.method !== 'POST' || !(req.url ?? '').endsWith('/chat/completions')) {
            reply = {
              status: 404,
              json: { error: { message: `no route ${req.method} ${req.url}` } },
            };
          } else {
            const request: ChatRequest = {
              body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
              headers: req.headers,
              hit: requests.length,
            };
            requests.push(request);
            reply = await state.model(request);
          }
        } catch (error) {
          reply = { status: 599, json: { error: { message: `test server: ${String(error)}` } } };
        }
        if (reply.delayMs !== undefined) await new Promise((r) => setTimeout(r, reply.delayMs));
        if (res.destroyed) return;
        const text = reply.raw ?? JSON.stringify(reply.json ?? {});
        res.writeHead(reply.status ?? 200, {
          'content-type': 'application/json',
          ...reply.headers,
        });
        res.end(text);
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    get model() {
      return state.model;
    },
    set model(m: Model) {
      state.model = m;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface ToolCallSpec {
  readonly name: string;
  /** An object (sent as JSON text) or raw argument text. */
  readonly args: unknown;
  readonly id?: string | null;
}

/** A Chat Completions response body. */
export function completion(
  message: { content?: string | null; toolCalls?: readonly ToolCallSpec[] },
  options: {
    finish?: string;
    usage?: { prompt_tokens: number; completion_tokens: number } | null;
    idPrefix?: string;
  } = {},
): unknown {
  const calls = (message.toolCalls ?? []).map((c, i) => {
    const call: Record<string, unknown> = {
      type: 'function',
      function: {
        name: c.name,
        arguments: typeof c.args === 'string' ? c.args : JSON.stringify(c.args),
      },
    };
    if (c.id !== null) call.id = c.id ?? `${options.idPrefix ?? 'call'}_${i}`;
    return call;
  });
  const msg: Record<string, unknown> = { role: 'assistant', content: message.content ?? null };
  if (calls.length > 0) msg.tool_calls = calls;
  const body: Record<string, unknown> = {
    id: 'chatcmpl-test',
    object: 'chat.completion',
    created: 1700000000,
    model: 'test-model',
    system_fingerprint: 'fp_test',
    choices: [
      {
        index: 0,
        message: msg,
        finish_reason: options.finish ?? (calls.length > 0 ? 'tool_calls' : 'stop'),
      },
    ],
  };
  if (options.usage !== null)
    body.usage = options.usage ?? {
      prompt_tokens: 100,
      completion_tokens: 10,
      total_tokens: 110,
    };
  return body;
}

/** The API key the model tests give their agents (the test server takes any key). */
export const TEST_KEY = 'sk-tooltime-test-key-0000';
/** A model agent's clock in the model tests: this process's own. */
export const wallClock = { monotonicMs: () => performance.now(), epochMs: () => Date.now() };

export const ok = (
  message: Parameters<typeof completion>[0],
  options: Parameters<typeof completion>[1] = {},
): ServerReply => ({ json: completion(message, options) });

/** Ids unique in the conversation: derived from its length, so the same request always gets the same reply. */
export function idsFor(request: ChatRequest): string {
  return `call_m${request.body.messages.length}`;
}

/** Text of every message after the system prompt, with each tool message's tool name. */
export function transcript(request: ChatRequest): Array<{
  role: string;
  content: string;
  tool: string | null;
  calls: Array<{ id: string; name: string; args: string }>;
}> {
  const names = new Map<string, string>();
  return request.body.messages.slice(1).map((m) => {
    const calls = Array.isArray(m.tool_calls)
      ? // biome-ignore lint/suspicious/noExplicitAny: tool calls as the client sent them
        (m.tool_calls as any[]).map((c) => ({
          id: String(c.id),
          name: String(c.function?.name),
          args: String(c.function?.arguments),
        }))
      : [];
    for (const c of calls) names.set(c.id, c.name);
    return {
      role: String(m.role),
      content: typeof m.content === 'string' ? m.content : '',
      tool: m.role === 'tool' ? (names.get(String(m.tool_call_id)) ?? null) : null,
      calls,
    };
  });
}

/**
 * A model that solves scenarios/examples/chain.json from the conversation alone: it issues each
 * step once the previous one's result is visible, answers once the confirmation is visible, and
 * otherwise waits (or checks results when it can). Robust to earlier bad turns: a step counts as
 * issued only when its tool message is not an error.
 */
export function chainModel(request: ChatRequest): ServerReply {
  const msgs = transcript(request);
  const seen = msgs
    .filter((m) => m.role === 'user' || m.role === 'tool')
    .map((m) => m.content)
    .join('\n');
  const replies = new Map<string, string>();
  for (const m of request.body.messages)
    if (m.role === 'tool') replies.set(String(m.tool_call_id), String(m.content));
  const issued = (name: string, argsHave = '') =>
    msgs.some((m) =>
      m.calls.some(
        (c) =>
          c.name === name &&
          c.args.includes(argsHave) &&
          !(replies.get(c.id) ?? '').startsWith('Error'),
      ),
    );
  const id = idsFor(request);
  const usage = {
    prompt_tokens: Math.ceil(JSON.stringify(request.body.messages).length / 4),
    completion_tokens: 20,
  };
  const call = (name: string, args: unknown): ServerReply =>
    ok({ toolCalls: [{ name, args, id }] }, { usage });
  if (seen.includes('"messageId"'))
    return issued('answer', '"t1"')
      ? call('wait', {})
      : call('answer', {
          task_id: 't1',
          answer: 'Booked UA-512, booking BK-7731; confirmation sent.',
        });
  if (seen.includes('"booking"') && !issued('send_confirmation'))
    return call('send_confirmation', { bookingId: 'BK-7731', email: 'ana@example.com' });
  if (seen.includes('"flights"') && !issued('book_flight'))
    return call('book_flight', { flightId: 'UA-512', passenger: 'Ana Souza' });
  if (seen.includes('New task t1') && !issued('search_flights'))
    return call('search_flights', { origin: 'SFO', destination: 'JFK', date: '2025-03-14' });
  const canCheck = (request.body.tools ?? []).some((t) => t.function?.name === 'check_results');
  return call(canCheck ? 'check_results' : 'wait', {});
}

/** A model that plays `script` in order (one reply per request), then hands over to `then`. */
export function scripted(
  script: ReadonlyArray<(request: ChatRequest) => ServerReply>,
  then: Model = chainModel,
): Model {
  let i = 0;
  return (request) => {
    const step = script[i];
    if (step !== undefined) {
      i++;
      return step(request);
    }
    return then(request);
  };
}

/**
 * Answers as llama.cpp's `llama-server --jinja` does: tool-call ids, the reply's `id`, `created`
 * and `timings` differ on every reply (`randomIds`), output it cannot parse is a 500 (`llamaParseError`), and a conversation past the
 * context window is a 400 (`llamaContextError`). Bodies as llama-server sends them.
 */
export function randomIds(model: Model): Model {
  return async (request) => {
    const reply = await model(request);
    const choices =
      (
        reply.json as
          | { choices?: Array<{ message?: { tool_calls?: Array<{ id?: string }> } }> }
          | undefined
      )?.choices ?? [];
    for (const c of choices)
      for (const call of c.message?.tool_calls ?? [])
        call.id = Math.random().toString(36).slice(2, 12) + Math.random().toString(36).slice(2, 12);
    // Stamps llama-server puts on every reply: a fresh id, the wall-clock second, and timings.
    const body = reply.json as Record<string, unknown> | undefined;
    if (body !== undefined && Array.isArray(body.choices)) {
      body.id = `chatcmpl-${Math.random().toString(36).slice(2, 14)}`;
      body.created = Math.floor(Date.now() / 1000);
      body.timings = { prompt_ms: Math.random() * 50, predicted_per_second: Math.random() * 90 };
    }
    return reply;
  };
}

export const llamaParseError = (
  detail = 'The model produced output that does not match the expected peg-native format',
): ServerReply => ({
  status: 500,
  json: { error: { code: 500, message: detail, type: 'server_error' } },
});

export const llamaContextError = (promptTokens = 4200, contextTokens = 4096): ServerReply => ({
  status: 400,
  json: {
    error: {
      code: 400,
      message: 'the request exceeds the available context size, try increasing it',
      type: 'exceed_context_size_error',
      n_prompt_tokens: promptTokens,
      n_ctx: contextTokens,
    },
  },
});

/** A model that never calls a tool: a plain-text reply every turn. */
export function talker(request: ChatRequest): ServerReply {
  return ok({ content: `Let me think about this (turn ${request.body.messages.length}).` });
}
