import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadScenarioFile, loadScenarios } from '../../../scenarios/spec/load.js';
import { packageRoot } from '../../../scenarios/package.js';
import { Plan } from '../../../scenarios/world/plan.js';
import { ToolRuntime } from '../../../scenarios/spec/tools.js';
import {
  parseScenario,
  ScenarioError,
  validateScenario,
  type Problem,
} from '../../../scenarios/spec/validate.js';

// biome-ignore lint/suspicious/noExplicitAny: tests edit scenario documents freely, at any depth
type Doc = Record<string, any>;

/** A small valid scenario: two tasks, a follow-up, table and builtin tools, a data flow. */
function base(): Doc {
  const params = (props: Record<string, unknown>) => ({
    type: 'object',
    properties: props,
    required: Object.keys(props),
    additionalProperties: false,
  });
  return {
    format: 'tooltime.scenario/1',
    id: 'base',
    description: 'validator test base',
    tools: [
      {
        name: 'lookup',
        description: 'Finds an item.',
        parameters: params({ id: { type: 'string' } }),
        latency: { kind: 'lognormal', medianMs: 100, p95Ms: 300 },
        impl: {
          kind: 'table',
          rows: [{ args: { id: 'a' }, result: { item: { id: 'X-1', price: 5 } } }],
          default: { error: 'not found' },
        },
      },
      {
        name: 'buy',
        description: 'Buys an item.',
        parameters: params({ itemId: { type: 'string' }, qty: { type: 'integer', minimum: 1 } }),
        latency: { kind: 'constant', ms: 50 },
        impl: {
          kind: 'table',
          rows: [{ args: { itemId: 'X-1', qty: 2 }, result: { order: 'O-9' } }],
          default: { error: 'no such item' },
        },
      },
      {
        name: 'add',
        description: 'a + b',
        parameters: params({ a: { type: 'number' }, b: { type: 'number' } }),
        latency: { kind: 'constant', ms: 1 },
        impl: { kind: 'builtin', name: 'add' },
      },
    ],
    tasks: [
      {
        id: 't1',
        message: 'Buy two of item a.',
        steps: [
          { id: 's1', tool: 'lookup', args: { id: 'a' } },
          {
            id: 's2',
            tool: 'buy',
            args: { itemId: 'X-1', qty: 2 },
            after: ['s1'],
            inputs: [{ arg: 'itemId', from: 's1', path: 'item.id' }],
          },
        ],
        answer: { mustContain: ['O-9'] },
      },
      {
        id: 't2',
        arrivalMs: 500,
        message: 'What is 1 + 2?',
        steps: [{ id: 's1', tool: 'add', args: { a: 1, b: 2 } }],
        answer: { mustContain: ['3'] },
      },
    ],
    messages: [
      {
        atMs: 1000,
        task: 't1',
        text: 'And add 2 to its price.',
        steps: [
          {
            id: 's3',
            tool: 'add',
            args: { a: 5, b: 2 },
            after: ['s1'],
            inputs: [{ arg: 'a', from: 's1', path: 'item.price' }],
          },
        ],
        answer: { mustContain: ['O-9', '7'] },
      },
    ],
    thinkTime: { kind: 'constant', ms: 200 },
  };
}

interface Case {
  readonly name: string;
  readonly mutate: (d: Doc) => unknown;
  readonly path: string;
  readonly message: RegExp;
}

const CASES: Case[] = [
  {
    name: 'bad format literal',
    mutate: (d) => void (d.format = 'tooltime.scenario/2'),
    path: 'format',
    message: /^expected "tooltime\.scenario\/1", got "tooltime\.scenario\/2"$/,
  },
  {
    name: 'missing tools',
    mutate: (d) => void delete d.tools,
    path: 'tools',
    message: /^required$/,
  },
  {
    name: 'tools not a list',
    mutate: (d) => void (d.tools = { lookup: {} }),
    path: 'tools',
    message: /^expected array, got object$/,
  },
  {
    name: 'empty tools',
    mutate: (d) => void (d.tools = []),
    path: 'tools',
    message: /^must not be empty$/,
  },
  {
    name: 'unknown top-level key',
    mutate: (d) => void (d.extra = 1),
    path: 'extra',
    message: /^unknown key "extra"$/,
  },
  {
    name: 'unknown step key',
    mutate: (d) => void (d.tasks[0].steps[1].afterr = ['s1']),
    path: 'tasks[0].steps[1].afterr',
    message: /^unknown key "afterr"$/,
  },
  {
    name: 'wrong type',
    mutate: (d) => void (d.tools[0].concurrency = '2'),
    path: 'tools[0].concurrency',
    message: /^expected number, got string$/,
  },
  {
    name: 'wrong type (args array)',
    mutate: (d) => void (d.tasks[1].steps[0].args = [1, 2]),
    path: 'tasks[1].steps[0].args',
    message: /^expected object, got array$/,
  },
  {
    name: 'bad id format',
    mutate: (d) => void (d.tasks[0].id = '1st'),
    path: 'tasks[0].id',
    message: /^"1st" must start with a letter/,
  },
  {
    name: 'unknown tool in a step',
    mutate: (d) => void (d.tasks[0].steps[1].tool = 'buyy'),
    path: 'tasks[0].steps[1].tool',
    message: /^unknown tool "buyy" \(did you mean "buy"\?\)$/,
  },
  {
    name: 'duplicate task id',
    mutate: (d) => void (d.tasks[1].id = 't1'),
    path: 'tasks[1].id',
    message: /^duplicate task id "t1" \(first at tasks\[0\]\)$/,
  },
  {
    name: 'duplicate step id',
    mutate: (d) => void (d.tasks[0].steps[1].id = 's1'),
    path: 'tasks[0].steps[1].id',
    message: /^duplicate step id "s1" in task t1/,
  },
  {
    name: 'duplicate step id in a follow-up',
    mutate: (d) => void (d.messages[0].steps[0].id = 's2'),
    path: 'messages[0].steps[0].id',
    message: /^duplicate step id "s2" in task t1 \(first at tasks\[0\]\.steps\[1\]\)$/,
  },
  {
    name: 'duplicate tool name',
    mutate: (d) => void (d.tools[1].name = 'lookup'),
    path: 'tools[1].name',
    message: /^duplicate tool name "lookup"/,
  },
  {
    name: 'after an unknown step',
    mutate: (d) => void d.tasks[0].steps[1].after.push('s9'),
    path: 'tasks[0].steps[1].after',
    message: /^unknown step "s9"$/,
  },
  {
    name: 'follow-up after an unknown step',
    mutate: (d) => void (d.messages[0].steps[0].after = ['s1', 'sx']),
    path: 'messages[0].steps[0].after',
    message: /^unknown step "sx"/,
  },
  {
    name: 'task step after a follow-up step',
    mutate: (d) => void (d.tasks[0].steps[0].after = ['s3']),
    path: 'tasks[0].steps[0].after',
    message: /^step "s3" is only added later, by messages\[0\]$/,
  },
  {
    name: 'dependency cycle',
    mutate: (d) => void (d.tasks[0].steps[0].after = ['s2']),
    path: 'tasks[0].steps',
    message: /^dependency cycle s1 -> s2 -> s1$/,
  },
  {
    name: 'self dependency',
    mutate: (d) => void (d.tasks[1].steps[0].after = ['s1']),
    path: 'tasks[1].steps',
    message: /^dependency cycle s1 -> s1$/,
  },
  {
    name: 'args fail the tool schema',
    mutate: (d) => void (d.tasks[0].steps[0].args = { id: 5 }),
    path: 'tasks[0].steps[0].args',
    message: /^args\.id must be string$/,
  },
  {
    name: 'args miss a required property',
    mutate: (d) => void delete d.tasks[0].steps[1].args.qty,
    path: 'tasks[0].steps[1].args',
    message: /must have required property 'qty'/,
  },
  {
    name: 'data flow: path absent',
    mutate: (d) => void (d.tasks[0].steps[1].inputs[0].path = 'item.idx'),
    path: 'tasks[0].steps[1].inputs[0].path',
    message: /^"item\.idx" is absent from the result of step s1$/,
  },
  {
    name: 'data flow: value mismatch',
    mutate: (d) => void (d.messages[0].steps[0].args.a = 6),
    path: 'messages[0].steps[0].inputs[0]',
    message: /^value at item\.price of s1 \(5\) differs from args\.a \(6\)$/,
  },
  {
    name: 'data flow: from not in after',
    mutate: (d) => void (d.tasks[0].steps[1].after = []),
    path: 'tasks[0].steps[1].inputs[0].from',
    message: /^step "s1" is not listed in after$/,
  },
  {
    name: 'data flow: arg absent',
    mutate: (d) => void (d.tasks[0].steps[1].inputs[0].arg = 'item'),
    path: 'tasks[0].steps[1].inputs[0].arg',
    message: /^"item" is absent from the args$/,
  },
  {
    name: 'impossible distribution',
    mutate: (d) => void (d.tools[0].latency = { kind: 'lognormal', medianMs: 800, p95Ms: 500 }),
    path: 'tools[0].latency.p95Ms',
    message: /^p95Ms \(500\) must be greater than medianMs \(800\)$/,
  },
  {
    name: 'unknown distribution kind',
    mutate: (d) => void (d.thinkTime = { kind: 'weibull', ms: 1 }),
    path: 'thinkTime.kind',
    message: /^kind \("weibull"\) is not one of/,
  },
  {
    name: 'missing latency',
    mutate: (d) => void delete d.tools[2].latency,
    path: 'tools[2].latency',
    message: /^required$/,
  },
  {
    name: 'negative concurrency',
    mutate: (d) => void (d.tools[0].concurrency = -1),
    path: 'tools[0].concurrency',
    message: /^must be at least 1, got -1$/,
  },
  {
    name: 'fractional concurrency',
    mutate: (d) => void (d.tools[0].concurrency = 1.5),
    path: 'tools[0].concurrency',
    message: /^must be an integer, got 1\.5$/,
  },
  {
    name: 'unknown builtin',
    mutate: (d) => void (d.tools[2].impl.name = 'addd'),
    path: 'tools[2].impl.name',
    message: /^unknown builtin "addd" \(did you mean "add"\?\)/,
  },
  {
    name: 'unknown impl kind',
    mutate: (d) => void (d.tools[2].impl.kind = 'python'),
    path: 'tools[2].impl.kind',
    message: /^expected "table" or "builtin" or "environment", got "python"$/,
  },
  {
    name: 'table default without result or error',
    mutate: (d) => void (d.tools[0].impl.default = {}),
    path: 'tools[0].impl.default',
    message: /^must have "result" or "error"$/,
  },
  {
    name: 'message for an unknown task',
    mutate: (d) => void (d.messages[0].task = 't9'),
    path: 'messages[0].task',
    message: /^unknown task "t9"/,
  },
  {
    name: 'follow-up before arrival',
    mutate: (d) => void (d.tasks[0].arrivalMs = 2000),
    path: 'messages[0].atMs',
    message: /^the follow-up \(at 1000ms\) comes before task t1 arrives \(2000ms\)$/,
  },
  {
    name: 'negative arrival',
    mutate: (d) => void (d.tasks[1].arrivalMs = -5),
    path: 'tasks[1].arrivalMs',
    message: /^must be at least 0, got -5$/,
  },
  {
    name: 'invalid ajv schema',
    mutate: (d) => void (d.tools[1].parameters.properties.qty.type = 'integr'),
    path: 'tools[1].parameters',
    message: /^invalid JSON Schema: schema is invalid/,
  },
  {
    name: 'unresolvable $ref',
    mutate: (d) => void (d.tools[0].parameters.properties.id = { $ref: '#/nowhere' }),
    path: 'tools[0].parameters',
    message: /^invalid JSON Schema: can't resolve reference/,
  },
  {
    name: 'table args with an error result',
    mutate: (d) => void (d.tasks[0].steps[0].args = { id: 'b' }),
    path: 'tasks[0].steps[0].args',
    message: /^tool returns an error for these args: not found$/,
  },
  {
    name: 'builtin error for the args',
    mutate: (d) => void (d.tasks[1].steps[0].args = { a: 1e308, b: 1e308 }),
    path: 'tasks[1].steps[0].args',
    message: /^tool returns an error for these args: result is not a finite number$/,
  },
  {
    name: 'table row no call can match',
    mutate: (d) => void d.tools[0].impl.rows.push({ args: { id: 3 }, result: 1 }),
    path: 'tools[0].impl.rows[1].args',
    message: /^no valid call can match this row: args\.id must be string$/,
  },
  {
    name: 'duplicate table row',
    mutate: (d) => void d.tools[0].impl.rows.push({ args: { id: 'a' }, result: 1 }),
    path: 'tools[0].impl.rows[1].args',
    message: /^duplicate of rows\[0\]/,
  },
  {
    name: 'timeout below every latency',
    mutate: (d) => void (d.tools[1].timeoutMs = 20),
    path: 'tools[1].timeoutMs',
    message:
      /^every call times out: timeoutMs \(20\) is below the smallest possible latency \(50ms\)$/,
  },
  {
    name: 'zero timeout',
    mutate: (d) => void (d.tools[1].timeoutMs = 0),
    path: 'tools[1].timeoutMs',
    message: /^must be greater than 0, got 0$/,
  },
  {
    name: 'a used tool that always fails',
    mutate: (d) => void (d.tools[1].failure = { rate: 1 }),
    path: 'tools[1].failure.rate',
    message: /^every call fails/,
  },
  {
    name: 'failure rate above 1',
    mutate: (d) => void (d.tools[1].failure = { rate: 1.5 }),
    path: 'tools[1].failure.rate',
    message: /^must be at most 1, got 1\.5$/,
  },
  {
    name: 'empty mustContain string',
    mutate: (d) => void (d.tasks[0].answer.mustContain = ['O-9', '']),
    path: 'tasks[0].answer.mustContain[1]',
    message: /^must not be empty$/,
  },
  {
    name: 'empty mustContain list',
    mutate: (d) => void (d.tasks[0].answer.mustContain = []),
    path: 'tasks[0].answer.mustContain',
    message: /^must not be empty$/,
  },
  {
    name: 'task without steps',
    mutate: (d) => void (d.tasks[1].steps = []),
    path: 'tasks[1].steps',
    message: /^must not be empty$/,
  },
  {
    name: 'maxCalls below the steps',
    mutate: (d) => void (d.limits = { maxCalls: 2 }),
    path: 'limits.maxCalls',
    message: /^2 is fewer than the 4 expected steps$/,
  },
  {
    name: 'arrival after maxTimeMs',
    mutate: (d) => void (d.limits = { maxTimeMs: 400 }),
    path: 'tasks[1].arrivalMs',
    message: /after limits\.maxTimeMs \(400ms\)$/,
  },
  {
    name: 'maxTimeMs beyond the clock',
    mutate: (d) => void (d.limits = { maxTimeMs: 1e300 }),
    path: 'limits.maxTimeMs',
    message: /^1e\+300 is too large/,
  },
  {
    name: 'after lists a step twice',
    mutate: (d) => void d.tasks[0].steps[1].after.push('s1'),
    path: 'tasks[0].steps[1].after',
    message: /^step "s1" is listed twice$/,
  },
  {
    name: 'non-object document (array)',
    mutate: () => [],
    path: '',
    message: /^expected object, got array$/,
  },
  {
    name: 'non-object document (null)',
    mutate: () => null,
    path: '',
    message: /^expected object, got null$/,
  },
  {
    name: 'non-JSON value in args',
    mutate: (d) => void (d.tasks[1].steps[0].args = { a: undefined, b: 2 }),
    path: 'tasks[1].steps[0].args.a',
    message: /^expected a JSON value, got undefined|^required$/,
  },
  {
    name: 'non-JSON number deep in args',
    mutate: (d) => void (d.tasks[1].steps[0].args = { a: { b: [1, Number.NaN] } }),
    path: 'tasks[1].steps[0].args.a.b[1]',
    message: /^expected a JSON value, got NaN$/,
  },
  {
    name: 'non-plain object in a table row',
    mutate: (d) => void (d.tools[0].impl.rows = [{ args: {}, result: { when: new Date(0) } }]),
    path: 'tools[0].impl.rows[0].result.when',
    message: /^expected a JSON value, got Date$/,
  },
  {
    name: 'JSON nested too deep in args',
    mutate: (d) =>
      void (d.tasks[1].steps[0].args = {
        a: JSON.parse(`${'['.repeat(70)}${']'.repeat(70)}`) as unknown,
      }),
    path: `tasks[1].steps[0].args.a${'[0]'.repeat(64)}`,
    message: /^JSON nested too deep$/,
  },
];

function mutated(c: Case): unknown {
  const d = base();
  const r = c.mutate(d);
  return r === undefined ? d : r;
}

function show(problems: Problem[]): string {
  return problems.map((p) => `${p.path}: ${p.message}`).join('\n');
}

describe('validateScenario', () => {
  it('accepts the base scenario', () => {
    expect(validateScenario(base())).toEqual([]);
  });

  it('has at least 20 distinct malformed cases', () => {
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
    expect(CASES.length).toBeGreaterThanOrEqual(20);
  });

  for (const c of CASES) {
    it(`reports: ${c.name}`, () => {
      const problems = validateScenario(mutated(c));
      const hit = problems.find((p) => p.path === c.path && c.message.test(p.message));
      expect(hit, `expected ${c.path}: ${c.message} among:\n${show(problems)}`).toBeDefined();
      for (const p of problems) expect(p.message).not.toMatch(/internal validator error/);
    });
  }

  it('reports every problem, in document order', () => {
    const d = base();
    d.messages[0].task = 't9';
    d.tasks[1].steps[0].tool = 'nope';
    d.tools[0].latency = { kind: 'lognormal', medianMs: 800, p95Ms: 500 };
    d.format = 'x';
    const paths = validateScenario(d).map((p) => p.path);
    expect(paths).toEqual([
      'format',
      'tools[0].latency.p95Ms',
      'tasks[1].steps[0].tool',
      'messages[0].task',
    ]);
  });

  it('does not flood the report with consequences of a missing tools list', () => {
    const d = base();
    delete d.tools;
    expect(validateScenario(d)).toEqual([{ path: 'tools', message: 'required' }]);
  });

  it('reports one line per unknown key and keeps checking the rest when the schema fails', () => {
    const d = base();
    d.tools[0].colour = 'red';
    d.tools[0].size = 2;
    d.tasks[0].steps[1].tool = 'buyy';
    const problems = validateScenario(d);
    expect(problems.map((p) => p.path)).toEqual([
      'tools[0].colour',
      'tools[0].size',
      'tasks[0].steps[1].tool',
    ]);
  });

  it('names the cycle once per strongly connected group', () => {
    const d = base();
    d.tasks[0].steps.push(
      { id: 's4', tool: 'add', args: { a: 1, b: 1 }, after: ['s5'] },
      { id: 's5', tool: 'add', args: { a: 1, b: 1 }, after: ['s6'] },
      { id: 's6', tool: 'add', args: { a: 1, b: 1 }, after: ['s4'] },
    );
    const cycles = validateScenario(d).filter((p) => p.message.startsWith('dependency cycle'));
    expect(cycles).toEqual([
      { path: 'tasks[0].steps', message: 'dependency cycle s4 -> s5 -> s6 -> s4' },
    ]);
  });

  it('lets follow-up steps depend on earlier follow-ups of the same task, not on later ones', () => {
    const d = base();
    d.messages.push({
      atMs: 2000,
      task: 't1',
      text: 'Then double it.',
      steps: [
        {
          id: 's4',
          tool: 'add',
          args: { a: 7, b: 7 },
          after: ['s3'],
          inputs: [
            { arg: 'a', from: 's3', path: '' },
            { arg: 'b', from: 's3', path: '' },
          ],
        },
      ],
    });
    expect(validateScenario(d)).toEqual([]);
    d.messages[1].atMs = 900; // now it arrives before the follow-up that adds s3
    expect(validateScenario(d)).toContainEqual({
      path: 'messages[1].steps[0].after',
      message: 'step "s3" is added by messages[0], which does not come before this follow-up',
    });
  });

  it('never throws and never reports an internal error on arbitrary values', () => {
    fc.assert(
      fc.property(
        fc.anything({ withNullPrototype: true, withBoxedValues: true, withSparseArray: true }),
        (v) => {
          const problems = validateScenario(v);
          expect(Array.isArray(problems)).toBe(true);
          for (const p of problems) {
            expect(typeof p.path).toBe('string');
            expect(p.message).not.toMatch(/internal validator error/);
          }
        },
      ),
      { numRuns: 600 },
    );
  });

  it('never throws on random mutations of a valid scenario', () => {
    // Every path into the base document (objects and arrays), to drop a random JSON value at.
    const paths: Array<Array<string | number>> = [];
    const walk = (v: unknown, at: Array<string | number>): void => {
      paths.push(at);
      if (Array.isArray(v))
        v.forEach((x, i) => {
          walk(x, [...at, i]);
        });
      else if (v !== null && typeof v === 'object')
        for (const [k, x] of Object.entries(v)) walk(x, [...at, k]);
    };
    walk(base(), []);
    const keys = fc.constantFrom(
      'id',
      'after',
      'inputs',
      'args',
      'tool',
      'kind',
      'steps',
      'task',
      'path',
      'from',
      'latency',
      'p95Ms',
      'x',
    );
    const mutation = fc.record({
      path: fc.constantFrom(...paths),
      key: fc.option(keys, { nil: undefined }),
      value: fc.jsonValue(),
      remove: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (ms) => {
        let doc: unknown = base();
        for (const m of ms) {
          const parent = m.path
            .slice(0, -1)
            // biome-ignore lint/suspicious/noExplicitAny: walks a document of any shape
            .reduce<any>((v, k) => (v !== null && typeof v === 'object' ? v[k] : undefined), doc);
          const last = m.path[m.path.length - 1];
          if (last === undefined) doc = m.value;
          else if (parent !== null && typeof parent === 'object') {
            const target =
              m.key !== undefined && typeof parent[last] === 'object' && parent[last] !== null
                ? parent[last]
                : parent;
            const k = m.key !== undefined && target !== parent ? m.key : last;
            if (m.remove) delete target[k];
            else target[k] = m.value;
          }
        }
        const problems = validateScenario(doc);
        for (const p of problems) expect(p.message).not.toMatch(/internal validator error/);
        // Valid means parseable: parseScenario agrees with validateScenario.
        if (problems.length === 0) {
          // ... and usable: the plan and every tool runtime build.
          const scenario = parseScenario(doc);
          expect(() => new Plan(scenario)).not.toThrow();
          for (const tool of scenario.tools) expect(() => new ToolRuntime(tool)).not.toThrow();
        } else expect(() => parseScenario(doc)).toThrow(ScenarioError);
      }),
      { numRuns: 600 },
    );
  });
});

describe('parseScenario and loading', () => {
  it('returns the parsed scenario with defaults', () => {
    const s = parseScenario(base());
    expect(s.limits.maxCalls).toBe(500);
    expect(s.tasks[0]!.arrivalMs).toBe(0);
    expect(s.tasks[1]!.steps[0]!.after).toEqual([]);
  });

  it('throws a ScenarioError with one FILE: PATH: MESSAGE line per problem', () => {
    const d = base();
    d.tasks[0].steps[1].tool = 'buyy';
    d.messages[0].task = 't9';
    try {
      parseScenario(d, 'x.json');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ScenarioError);
      const e = error as ScenarioError;
      expect(e.name).toBe('ScenarioError');
      expect(e.file).toBe('x.json');
      expect(e.problems).toHaveLength(2);
      expect(e.message.split('\n')).toEqual([
        'x.json: tasks[0].steps[1].tool: unknown tool "buyy" (did you mean "buy"?)',
        'x.json: messages[0].task: unknown task "t9"',
      ]);
    }
  });

  it('reports unreadable files and invalid JSON as one line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tooltime-validate-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"format": ');
    expect(() => loadScenarioFile(bad)).toThrow(
      new RegExp(`^${escapeRegExp(bad)}: not valid JSON: `),
    );
    expect(() => loadScenarioFile(join(dir, 'missing.json'))).toThrow(
      /missing\.json: cannot read: no such file or directory$/,
    );
    writeFileSync(join(dir, 'ok.json'), JSON.stringify(base()));
    const good = loadScenarioFile(join(dir, 'ok.json'));
    expect(good.id).toBe('base');
  });

  it('loads folders recursively, sorted by name, skipping *.schema.json', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tooltime-load-'));
    const write = (name: string, id: string) =>
      writeFileSync(join(dir, name), JSON.stringify({ ...base(), id }));
    write('b.json', 'b');
    write('a.json', 'a');
    writeFileSync(join(dir, 'x.schema.json'), '{}');
    writeFileSync(join(dir, 'notes.txt'), 'not a scenario');
    const sub = join(dir, 'c');
    spawnSync('mkdir', [sub]);
    writeFileSync(join(sub, 'd.json'), JSON.stringify({ ...base(), id: 'd' }));
    expect(loadScenarios([dir]).map((x) => x.scenario.id)).toEqual(['a', 'b', 'd']);
  });
});

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('tooltime validate (compiled CLI)', () => {
  const root = packageRoot();
  const main = join(root, 'dist', 'cli', 'main.js');
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [main, ...args], { cwd: root, encoding: 'utf8' });

  beforeAll(() => {
    // `npm test` builds first; build here only when dist/ is missing the validate command.
    if (!existsSync(join(root, 'dist', 'cli', 'commands', 'validate.js')))
      spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, encoding: 'utf8' });
  });

  it('exits 0 and prints FILE: ok for every example', () => {
    const r = run('validate', 'scenarios/examples');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(8);
    for (const line of lines) expect(line).toMatch(/^scenarios\/examples\/[a-z-]+\.json: ok$/);
  });

  it('exits 1 with FILE: PATH: MESSAGE lines for a malformed file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tooltime-cli-'));
    const file = join(dir, 'broken.json');
    const d = base();
    d.tasks[0].steps[1].tool = 'buyy';
    d.tasks[0].steps[0].after = ['s9'];
    writeFileSync(file, JSON.stringify(d));
    const r = run('validate', file, 'scenarios/examples/chain.json');
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      `${file}: tasks[0].steps[0].after: unknown step "s9"`,
      `${file}: tasks[0].steps[1].tool: unknown tool "buyy" (did you mean "buy"?)`,
    ]);
    expect(r.stdout).toBe('scenarios/examples/chain.json: ok\n');
  });

  it('exits 1 with one line for invalid JSON and for a missing file, without a stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tooltime-cli-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{ not json');
    for (const [arg, pattern] of [
      [file, /: not valid JSON: /],
      [join(dir, 'missing.json'), /: cannot read: no such file or directory$/],
    ] as const) {
      const r = run('validate', arg);
      expect(r.status).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]!.startsWith(`${arg}: `)).toBe(true);
      expect(lines[0]).toMatch(pattern);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    }
  });

  it('prints the JSON Schema, identical to the committed file', () => {
    const r = run('schema');
    expect(r.status).toBe(0);
    const committed = spawnSync('cat', [join(root, 'scenarios', 'scenario.schema.json')], {
      encoding: 'utf8',
    }).stdout;
    expect(r.stdout).toBe(committed);
  });
});

describe('tool parameter schemas', () => {
  it('compile anonymously: two tools whose schemas share a $id are both usable, repeatedly', () => {
    const doc = base();
    doc.tools[0].parameters.$id = 'same';
    doc.tools[1].parameters.$id = 'same';
    expect(validateScenario(doc)).toEqual([]);
    expect(validateScenario(doc)).toEqual([]);
    const scenario = parseScenario(doc);
    for (const tool of scenario.tools) expect(() => new ToolRuntime(tool)).not.toThrow();
  });

  it('an invalid schema is reported every time, not only the first', () => {
    const doc = base();
    doc.tools[1].parameters.properties.qty.type = [];
    expect(validateScenario(doc).some((p) => p.path === 'tools[1].parameters')).toBe(true);
    expect(validateScenario(doc).some((p) => p.path === 'tools[1].parameters')).toBe(true);
  });
});
