/**
 * The scenario format: one JSON document describing an AsyncTool world.
 *
 * Defined once here with zod; the TypeScript types are inferred from it and
 * `scenarios/scenario.schema.json` is generated from it (`tooltime schema`), so the three never
 * disagree. Structural rules live in the schema; rules that need the whole document (unknown
 * tools, cycles, data flow, args against the tool's parameter schema) live in `validate.ts`.
 *
 * Times in a scenario file are real-valued milliseconds (`arrivalMs`, `latency`); the world turns
 * them into integer microseconds with the engine's single rounding rule.
 */
import { z } from 'zod';
import { distributionSpecSchema } from '../../engine/distributions.js';
import { getEnvironment } from '../envs/index.js';

export const SCENARIO_FORMAT = 'tooltime.scenario/1';

/** Identifiers: tasks, steps, tools. Short, printable, no path separators. */
const idSchema = z
  .string()
  .regex(
    /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/,
    'must start with a letter and use only letters, digits, _ . - (at most 64)',
  );
const toolNameSchema = z
  .string()
  .regex(
    /^[a-zA-Z][a-zA-Z0-9_-]{0,63}$/,
    'must be a function name: a letter, then letters, digits, _ or - (at most 64)',
  );

/** Any JSON value (what a JSON document can hold). */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };

/** Nesting a JSON value may have here: far beyond any scenario, well within the stack. */
const MAX_JSON_DEPTH = 64;

/** Where a value stops being JSON: the path to the offending part (empty: the value itself), and why. */
export interface NotJson {
  readonly path: Array<string | number>;
  readonly problem: string;
}

/**
 * Null when `value` is a JSON value (null, a string, a boolean, a finite number, an array or a
 * plain object of JSON values, nested at most MAX_JSON_DEPTH deep); else where and why it is not.
 * A plain function rather than `z.json()`: rows, args and parameter schemas are most of a
 * scenario, and zod's union-per-value check of them was most of validating one (a replay's header
 * is validated each time it is read).
 */
export function notJson(value: unknown, depth = 0): NotJson | null {
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return null;
    case 'number':
      return Number.isFinite(value)
        ? null
        : { path: [], problem: `expected a JSON value, got ${value}` };
    case 'object': {
      if (depth >= MAX_JSON_DEPTH) return { path: [], problem: 'JSON nested too deep' };
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const at = notJson(value[i], depth + 1);
          if (at !== null) return { path: [i, ...at.path], problem: at.problem };
        }
        return null;
      }
      const proto = Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null;
      if (proto !== Object.prototype && proto !== null)
        return {
          path: [],
          problem: `expected a JSON value, got ${proto.constructor?.name ?? 'object'}`,
        };
      for (const key in value) {
        if (!Object.hasOwn(value, key)) continue;
        const at = notJson((value as Record<string, unknown>)[key], depth + 1);
        if (at !== null) return { path: [key, ...at.path], problem: at.problem };
      }
      return null;
    }
    default:
      return { path: [], problem: `expected a JSON value, got ${typeof value}` };
  }
}

/** The message of a `jsonValueSchema` issue (validate.ts points at the offending part). */
export const NOT_JSON_MESSAGE = 'not a JSON value';

export const jsonValueSchema = z.custom<JsonValue>((v) => notJson(v) === null, {
  message: NOT_JSON_MESSAGE,
});
/** How `jsonValueSchema` reads in JSON Schema (see `scenarioJsonSchema`). */
const JSON_VALUE_DEF = {
  description: 'Any JSON value.',
  anyOf: [
    { type: 'string' },
    { type: 'number' },
    { type: 'boolean' },
    { type: 'null' },
    { type: 'array', items: { $ref: '#/$defs/json' } },
    { type: 'object', additionalProperties: { $ref: '#/$defs/json' } },
  ],
};
const msSchema = z.number().nonnegative().finite();

/** A tool's implementation: data only, never code. */
export const toolImplSchema = z
  .discriminatedUnion('kind', [
    z
      .object({
        kind: z.literal('table').describe('A lookup table of results.'),
        /** Rows matched on canonical args (deep-equal with keys sorted). */
        rows: z
          .array(
            z
              .object({
                args: z
                  .record(z.string(), jsonValueSchema)
                  .describe(
                    "The call's arguments this row answers, matched deep-equal (key order ignored).",
                  ),
                result: jsonValueSchema.describe('What a call with these args returns.'),
              })
              .strict(),
          )
          .describe("Rows matched on the call's canonical args (deep-equal, keys sorted)."),
        /** What an unmatched call gets: a result, or an error message. */
        default: z
          .union([
            z
              .object({ result: jsonValueSchema.describe('What a call no row matches returns.') })
              .strict(),
            z
              .object({ error: z.string().describe('The error a call no row matches fails with.') })
              .strict(),
          ])
          .describe('What a call that matches no row gets: a result, or an error.'),
      })
      .strict(),
    z
      .object({
        kind: z.literal('builtin').describe('A deterministic function built into tooltime.'),
        name: z.string().describe('The builtin\'s name (see docs/SCENARIOS.md, "Builtin tools").'),
      })
      .strict(),
    z
      .object({
        kind: z
          .literal('environment')
          .describe("An operation of one of the scenario's stateful environments."),
        environment: idSchema.describe("The `id` of an entry of the scenario's `environments`."),
        operation: toolNameSchema.describe(
          "The operation of that environment's kind (see docs/ENVIRONMENTS.md).",
        ),
      })
      .strict(),
  ])
  .meta({
    id: 'toolImpl',
    description:
      'What a tool returns, as data (never code): a table of rows, a builtin function, or an operation of a stateful environment.',
  });

export const failureSchema = z
  .object({
    /** Probability that an attempt fails after its latency (a transient error). */
    rate: z
      .number()
      .min(0)
      .max(1)
      .describe('Probability that an attempt fails after its latency (a transient error).'),
    message: z
      .string()
      .min(1)
      .default('transient error: please retry')
      .describe('The error message of a failed attempt.'),
    /** Probability that an attempt's effect applies but its response is lost (world.ts). */
    lostRate: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe(
        'Probability that an otherwise successful attempt of a stateful tool applies its effect but its response is lost: the agent gets a timeout error, and a blind retry applies the effect again. Absent: never.',
      ),
  })
  .strict()
  .meta({
    id: 'failure',
    description:
      'Transient failures: each attempt fails with probability `rate`, after its latency.',
  });

/** Bounds of a tool's `latencyScale`: a factor outside them is a mistake, not an experiment. */
export const LATENCY_SCALE_MIN = 0.001;
export const LATENCY_SCALE_MAX = 1000;

export const toolSchema = z
  .object({
    name: toolNameSchema.describe('The function name the agent calls.'),
    description: z.string().min(1).describe('What the tool does, as the agent is told.'),
    /** JSON Schema (draft 2020-12 subset understood by ajv) of the arguments object. */
    parameters: z
      .record(z.string(), jsonValueSchema)
      .describe(
        'JSON Schema (draft 2020-12, as ajv reads it; patterns by RE2) of the arguments object.',
      ),
    latency: distributionSpecSchema.describe(
      'Service time of one call, drawn per call from a stream named by the step it performs.',
    ),
    /** Calls in service at once; calls beyond it wait in FIFO order. Absent: unlimited. */
    concurrency: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('Calls in service at once; later calls wait in FIFO order. Absent: unlimited.'),
    /** A call still running after this long fails with a timeout error at that instant. */
    timeoutMs: z
      .number()
      .positive()
      .finite()
      .optional()
      .describe(
        'A call still in service after this many ms fails with a timeout error at that instant.',
      ),
    failure: failureSchema
      .optional()
      .describe('Transient failures of this tool. Absent: calls never fail at random.'),
    /** The latency ablation's factor (scenarios/ablation.ts): draws stay, durations scale. */
    latencyScale: z
      .number()
      .min(LATENCY_SCALE_MIN)
      .max(LATENCY_SCALE_MAX)
      .optional()
      .describe(
        'Multiplies every drawn latency and the timeout (each in whole µs, rounded once more by the same rule); whether an attempt fails or times out is decided before scaling, so it does not change. Set by `tooltime ablate latency`. Absent: 1.',
      ),
    impl: toolImplSchema.describe('What a call returns.'),
  })
  .strict();

/**
 * A tool as a scenario file writes it: an environment tool may leave out its description and
 * parameters, which then come from its operation (given, they must equal the operation's).
 */
const scenarioToolSchema = toolSchema
  .extend({
    description: z
      .string()
      .min(1)
      .optional()
      .describe(
        "What the tool does, as the agent is told. An environment tool's comes from its operation when left out.",
      ),
    parameters: z
      .record(z.string(), jsonValueSchema)
      .optional()
      .describe(
        "JSON Schema (draft 2020-12, as ajv reads it; patterns by RE2) of the arguments object. An environment tool's comes from its operation when left out.",
      ),
  })
  .meta({ id: 'tool', description: 'A tool the agent may call.' });

/** `args[arg]` of this step is `result[path]` of step `from`: the data flow the validator checks. */
export const inputSchema = z
  .object({
    /** Dotted path into this step's args, e.g. `bookingId` or `passenger.id`. */
    arg: z
      .string()
      .min(1)
      .describe("Dotted path into this step's args, e.g. `bookingId` or `passenger.id`."),
    /** A step this step depends on (must be listed in `after`). */
    from: idSchema.describe('A step of the same task this step depends on (listed in `after`).'),
    /** Dotted path into that step's result; `items.0.id` indexes arrays. Empty: the whole result. */
    path: z
      .string()
      .describe(
        "Dotted path into that step's result (`items.0.id` indexes arrays); empty: the whole result.",
      ),
  })
  .strict()
  .meta({
    id: 'input',
    description:
      '`args[arg]` of this step is `result[path]` of step `from`: the data flow the validator checks.',
  });

export const stepSchema = z
  .object({
    id: idSchema.describe("The step's id, unique within its task."),
    tool: toolNameSchema.describe('The tool this step calls.'),
    args: z
      .record(z.string(), jsonValueSchema)
      .describe(
        'The expected arguments; a call performs the step when tool and canonical args match.',
      ),
    /** Steps of the same task whose results this one needs. */
    after: z
      .array(idSchema)
      .default([])
      .describe(
        'Steps of the same task whose results must be delivered before this step is issued.',
      ),
    inputs: z
      .array(inputSchema)
      .default([])
      .describe("Which of the args come from earlier steps' results."),
  })
  .strict()
  .meta({ id: 'step', description: 'An expected tool call of a task.' });

/** One condition of a task's goal: the value at a JSON pointer into an environment's state. */
const goalCheckBase = {
  environment: idSchema.describe('The `id` of the environment whose final state is checked.'),
  path: z
    .string()
    .describe(
      'A JSON pointer (RFC 6901) into its state; "" is the whole state. In a filesystem, the file\'s path.',
    ),
};
export const goalCheckSchema = z
  .union([
    z
      .object({
        ...goalCheckBase,
        equals: jsonValueSchema.describe(
          'The value there must equal this (deep, key order ignored).',
        ),
      })
      .strict(),
    z
      .object({ ...goalCheckBase, exists: z.literal(true).describe('Something must be there.') })
      .strict(),
    z
      .object({ ...goalCheckBase, absent: z.literal(true).describe('Nothing may be there.') })
      .strict(),
  ])
  .meta({
    id: 'goalCheck',
    description:
      'A condition on the final state of an environment: the value at `path` equals a value, exists, or is absent.',
  });

/** A stateful environment the scenario's tools act on, and its initial state. */
export const environmentSchema = z
  .object({
    id: idSchema.describe('The name tools use for it (`impl.environment`).'),
    kind: z.string().describe('A built-in environment (docs/ENVIRONMENTS.md): `filesystem`, ...'),
    initial: jsonValueSchema.describe("Its initial state, valid for the kind's state schema."),
    shared: z
      .boolean()
      .optional()
      .describe(
        'One instance shared by every task (concurrent tasks can interfere). Absent or false: each task acts on its own copy.',
      ),
  })
  .strict()
  .meta({
    id: 'environment',
    description: 'A stateful environment (docs/SCENARIOS.md, "Stateful environments").',
  });

export const answerSpecSchema = z
  .object({
    /** Strings the final answer must contain (case-insensitive). */
    mustContain: z
      .array(z.string().min(1))
      .min(1)
      .describe('Strings the final answer must contain (case-insensitive).'),
  })
  .strict()
  .meta({ id: 'answer', description: 'What a correct answer to a task contains.' });

export const taskSchema = z
  .object({
    id: idSchema.describe("The task's id, unique in the scenario."),
    /** When the user's request arrives. */
    arrivalMs: msSchema.default(0).describe("When the user's request arrives (simulated ms)."),
    message: z.string().min(1).describe("The user's request, as the agent sees it."),
    steps: z.array(stepSchema).min(1).describe('The expected tool calls.'),
    answer: answerSpecSchema.describe('What the answer must contain.'),
    goal: z
      .array(goalCheckSchema)
      .min(1)
      .optional()
      .describe(
        "Conditions on the final state of the environments this task's steps use. Absent: each must end exactly as the task's steps leave it (required on a shared environment).",
      ),
  })
  .strict()
  .meta({
    id: 'task',
    description: 'A sub-task: a user request with its expected steps and answer.',
  });

/** A follow-up from the user about a task, arriving while work may be in flight. */
export const messageSchema = z
  .object({
    atMs: msSchema.describe('When the follow-up arrives (simulated ms).'),
    task: idSchema.describe('The task it is about.'),
    text: z.string().min(1).describe('The follow-up, as the agent sees it.'),
    /** Steps the follow-up adds to the task's plan (they may depend on its earlier steps). */
    steps: z
      .array(stepSchema)
      .default([])
      .describe('Steps the follow-up adds to the task (they may depend on its earlier steps).'),
    /** When given, replaces the task's expected answer. */
    answer: answerSpecSchema
      .optional()
      .describe("When given, replaces the task's expected answer."),
  })
  .strict()
  .meta({
    id: 'message',
    description: 'A follow-up from the user about a task, arriving while work may be in flight.',
  });

export const limitsSchema = z
  .object({
    maxTimeMs: z
      .number()
      .positive()
      .finite()
      .default(3_600_000)
      .describe('Simulated time after which the episode ends with `limit`.'),
    maxDecisions: z
      .number()
      .int()
      .positive()
      .default(500)
      .describe('Agent decisions after which the episode ends with `limit`.'),
    maxCalls: z
      .number()
      .int()
      .positive()
      .default(500)
      .describe('Tool calls after which the episode ends with `limit`.'),
  })
  .strict()
  .meta({ id: 'limits', description: "An episode's bounds; reaching one ends it with `limit`." });

const rawScenarioSchema = z
  .object({
    format: z.literal(SCENARIO_FORMAT).describe('The format and its version.'),
    id: idSchema.describe("The scenario's id (file names and reports use it)."),
    description: z.string().default('').describe('What the scenario is about, for people.'),
    /** Free-form labels (domain, pattern, variant) used by suites and reports. */
    tags: z
      .record(z.string(), z.string())
      .default({})
      .describe('Free-form labels (domain, pattern, variant) used by suites and reports.'),
    environments: z
      .array(environmentSchema)
      .optional()
      .describe('Stateful environments the tools act on (absent: every tool is stateless).'),
    tools: z.array(scenarioToolSchema).min(1).describe('The tools the agent may call.'),
    tasks: z.array(taskSchema).min(1).describe('The concurrent sub-tasks.'),
    /** In any order: they arrive by `atMs`, those at the same instant in file order (message-order.ts). */
    messages: z
      .array(messageSchema)
      .default([])
      .describe(
        'Follow-ups, in any order: they arrive by `atMs`, those at the same instant in file order.',
      ),
    /** Think time of a decision when the agent does not state its own. */
    thinkTime: distributionSpecSchema
      .default({ kind: 'constant', ms: 0 })
      .describe(
        'Think time of a decision when the agent states none; also the minimum any decision takes.',
      ),
    limits: limitsSchema
      .default({ maxTimeMs: 3_600_000, maxDecisions: 500, maxCalls: 500 })
      .describe("The episode's bounds."),
  })
  .strict()
  .describe(
    'An AsyncTool scenario: tools, concurrent tasks, follow-up messages and limits (tooltime).',
  );

/**
 * A tool the agent may call: name, description, parameter schema, latency distribution,
 * concurrency limit, timeout, failure rate, and what it returns (`impl`).
 */
export type Tool = z.output<typeof toolSchema>;
type RawScenario = z.output<typeof rawScenarioSchema>;
/** A parsed scenario: every default filled in, every tool's description and parameters too. */
export type Scenario = Omit<RawScenario, 'tools'> & { tools: Tool[] };

/**
 * An environment tool that leaves out its description or parameters gets its operation's. One
 * whose environment or operation is unknown gets placeholders: validation reports it (as it does a
 * table or builtin tool without them), so no such scenario is ever handed out.
 */
function withOperationTools(raw: RawScenario): Scenario {
  const kinds = new Map((raw.environments ?? []).map((e) => [e.id, e.kind]));
  const tools = raw.tools.map((tool): Tool => {
    let description = tool.description;
    let parameters = tool.parameters;
    if (tool.impl.kind === 'environment') {
      const kind = kinds.get(tool.impl.environment);
      const op =
        kind === undefined ? undefined : getEnvironment(kind)?.operations[tool.impl.operation];
      description ??= op?.description;
      parameters ??= op?.parameters as Record<string, JsonValue> | undefined;
    }
    return { ...tool, description: description ?? '', parameters: parameters ?? {} };
  });
  return { ...raw, tools };
}

/** The scenario format (see the module comment); tools filled in by `withOperationTools`. */
export const scenarioSchema = rawScenarioSchema.transform(withOperationTools);

/** A scenario as written in a file (defaults may be omitted). */
export type ScenarioInput = z.input<typeof scenarioSchema>;
/**
 * What a tool returns, as data: a table of rows matched on the call's canonical args (with a
 * default result or error for a call no row matches), or a builtin function (spec/builtins.ts).
 */
export type ToolImpl = Tool['impl'];
/**
 * One sub-task: when it arrives, the user's message, the expected steps (with their dependencies
 * and data flow) and the answer that counts as correct.
 */
export type Task = Scenario['tasks'][number];
/**
 * An expected tool call of a task: tool and args, the steps it comes `after`, and `inputs` naming
 * the results its args are taken from. A call performs a step when tool and canonical args match.
 */
export type Step = Task['steps'][number];
/** Where one of a step's args comes from: a field of an earlier step's result (the data flow). */
export type StepInput = Step['inputs'][number];
/**
 * A user's follow-up about a task, arriving at `atMs` while work may be in flight: it may add steps
 * and replace the expected answer, and the task then needs an answer that has seen it.
 */
export type FollowUp = Scenario['messages'][number];
/** What a correct answer contains: every `mustContain` string, case-insensitively. */
export type AnswerSpec = Task['answer'];
/** An episode's bounds: simulated time, decisions and calls; reaching one ends it with `limit`. */
export type Limits = Scenario['limits'];
/** A stateful environment a scenario declares: its id, kind, initial state, and whether tasks share it. */
export type EnvironmentDecl = NonNullable<Scenario['environments']>[number];
/** One condition of a task's goal over an environment's final state. */
export type GoalCheck = z.output<typeof goalCheckSchema>;

/** The JSON Schema published for editors (`scenarios/scenario.schema.json`). */
export function scenarioJsonSchema(): unknown {
  // A described copy of jsonValueSchema shares its definition; any other custom schema is a mistake.
  const isJson = (schema: z.core.$ZodType) => schema._zod.def === jsonValueSchema._zod.def;
  const out = z.toJSONSchema(rawScenarioSchema, {
    io: 'input',
    unrepresentable: (ctx) => (isJson(ctx.zodSchema) ? { $ref: '#/$defs/json' } : 'throw'),
  });
  return { ...out, $defs: { ...out.$defs, json: JSON_VALUE_DEF } };
}
