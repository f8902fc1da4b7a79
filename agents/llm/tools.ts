/**
 * The function tools offered to the model: the scenario's tools (name, description, parameter
 * schema, as the observation lists them) and the control tools:
 * - `wait`: idle until the next result or message arrives;
 * - `answer(task_id, answer)`: the final answer to a task;
 * - `check_results` (async mode with poll delivery only): fetch the results that have arrived.
 *
 * Control tool names take precedence over a scenario tool of the same name. Arguments of scenario
 * tools are checked with the same JSON Schema validator the world uses, so the model hears at once
 * about a call the world will fail as invalid.
 */
import type { ValidateFunction } from 'ajv';
import type { Delivery, Mode, ToolInfo } from '../../scenarios/protocol.js';
import type { JsonValue } from '../../scenarios/spec/schema.js';
import { compileParameters } from '../../scenarios/spec/tools.js';

export const WAIT = 'wait';
export const ANSWER = 'answer';
export const CHECK_RESULTS = 'check_results';

export type JsonObject = { [key: string]: JsonValue };

export function controlToolNames(mode: Mode, delivery: Delivery): readonly string[] {
  return mode === 'async' && delivery === 'poll' ? [WAIT, ANSWER, CHECK_RESULTS] : [WAIT, ANSWER];
}

function fn(name: string, description: string, parameters: JsonObject): JsonObject {
  return { type: 'function', function: { name, description, parameters } };
}

/** The `tools` array of the request, in a fixed order: scenario tools, then control tools. */
export function requestTools(
  tools: readonly ToolInfo[],
  mode: Mode,
  delivery: Delivery,
): JsonValue[] {
  const control = controlToolNames(mode, delivery);
  const out: JsonValue[] = [];
  for (const t of tools)
    if (!control.includes(t.name)) out.push(fn(t.name, t.description, { ...t.parameters }));
  out.push(
    fn(
      WAIT,
      mode === 'async'
        ? 'Do nothing until the next tool result or user message arrives.'
        : 'Do nothing until the next user message arrives.',
      {
        type: 'object',
        properties: {},
        additionalProperties: false,
      },
    ),
  );
  out.push(
    fn(ANSWER, "Give the final answer to a user's task.", {
      type: 'object',
      properties: {
        task_id: { type: 'string', description: 'the id of the task (for example t1)' },
        answer: { type: 'string', description: 'the final answer for the user' },
      },
      required: ['task_id', 'answer'],
      additionalProperties: false,
    }),
  );
  if (control.includes(CHECK_RESULTS)) {
    out.push(
      fn(
        CHECK_RESULTS,
        'Fetch the results of your pending calls that have arrived since the last check.',
        { type: 'object', properties: {}, additionalProperties: false },
      ),
    );
  }
  return out;
}

/** Checks args against each scenario tool's schema, with the world's validator and wording. */
export class ArgsChecker {
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(private readonly tools: readonly ToolInfo[]) {}

  has(name: string): boolean {
    return this.tools.some((t) => t.name === name);
  }

  names(): string[] {
    return this.tools.map((t) => t.name);
  }

  /** Null when `args` fit the tool's schema, else the first problem in one line (as the world says it). */
  check(name: string, args: unknown): string | null {
    let v = this.validators.get(name);
    if (v === undefined) {
      const tool = this.tools.find((t) => t.name === name);
      if (tool === undefined) return `unknown tool "${name}"`;
      v = compileParameters(tool.parameters as Record<string, unknown>);
      this.validators.set(name, v);
    }
    if (v(args)) return null;
    const e = v.errors?.[0];
    if (e === undefined) return 'args do not match the parameter schema';
    const where = e.instancePath === '' ? 'args' : `args${e.instancePath.replaceAll('/', '.')}`;
    return `${where} ${e.message ?? 'is invalid'}`;
  }
}
