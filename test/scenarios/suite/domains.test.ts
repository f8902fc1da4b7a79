import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { checkDistribution } from '../../../engine/index.js';
import { getBuiltin } from '../../../scenarios/spec/builtins.js';
import {
  loadDomains,
  parseDomain,
  seedScenario,
  type Domain,
  type SeedTask,
} from '../../../scenarios/suite/domains.js';
import {
  scenarioSchema,
  type JsonValue,
  type Task,
  type Tool,
} from '../../../scenarios/spec/schema.js';

const SLUGS = [
  'data-format-conversion',
  'data-generation',
  'data-management',
  'filesystem',
  'machine-operation',
  'messaging',
  'number-operations',
  'social-network',
  'string-manipulation',
  'ticket-purchase',
  'trading-bot',
  'travel-planning',
];
const PATTERNS = ['chain', 'fan-out', 'fan-in', 'diamond'] as const;
type Pattern = (typeof PATTERNS)[number];

// ---- Small independent helpers (deliberately not the project's own canonical.ts).

function canon(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canon(o[k])}`)
      .join(',')}}`;
  }
  if (v === undefined) throw new Error('undefined is not JSON');
  return JSON.stringify(v);
}
const same = (a: unknown, b: unknown): boolean => canon(a) === canon(b);

function at(value: unknown, path: string): unknown {
  if (path === '') return value;
  let cur = value;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if (Array.isArray(cur)) {
      if (!/^(0|[1-9][0-9]*)$/.test(part)) return undefined;
      cur = cur[Number(part)];
    } else {
      if (!Object.hasOwn(cur, part)) return undefined;
      cur = (cur as Record<string, unknown>)[part];
    }
  }
  return cur;
}

/** What a step's call returns: its single matching table row, or the builtin's output. */
function resultOf(tool: Tool, args: Record<string, JsonValue>): JsonValue {
  if (tool.impl.kind === 'table') {
    const rows = tool.impl.rows.filter((row) => same(row.args, args));
    if (rows.length !== 1)
      throw new Error(`${tool.name}: ${rows.length} rows match ${canon(args)}`);
    return rows[0]!.result;
  }
  if (tool.impl.kind === 'environment') throw new Error(`${tool.name}: a stateful tool`);
  const builtin = getBuiltin(tool.impl.name);
  if (builtin === undefined) throw new Error(`${tool.name}: unknown builtin ${tool.impl.name}`);
  return builtin.run(args);
}

/** The pattern a task's dependency graph shows (most specific first). */
function classify(task: Task): Pattern {
  const deps = new Map(task.steps.map((s) => [s.id, s.after]));
  const children = new Map<string, string[]>(task.steps.map((s) => [s.id, []]));
  for (const s of task.steps) for (const d of s.after) children.get(d)!.push(s.id);
  const descendants = (id: string): Set<string> => {
    const out = new Set<string>();
    const stack = [...children.get(id)!];
    while (stack.length > 0) {
      const next = stack.pop()!;
      if (out.has(next)) continue;
      out.add(next);
      stack.push(...children.get(next)!);
    }
    return out;
  };
  // Diamond: two branches leaving one step meet again further down.
  for (const s of task.steps) {
    const kids = children.get(s.id)!;
    for (let i = 0; i < kids.length; i++) {
      for (let j = i + 1; j < kids.length; j++) {
        const a = new Set([kids[i]!, ...descendants(kids[i]!)]);
        const b = new Set([kids[j]!, ...descendants(kids[j]!)]);
        if ([...a].some((x) => b.has(x))) return 'diamond';
      }
    }
  }
  if ([...deps.values()].some((d) => d.length >= 2)) return 'fan-in';
  if ([...children.values()].some((c) => c.length >= 2)) return 'fan-out';
  return 'chain';
}

function weaklyConnected(task: Task): boolean {
  const adj = new Map<string, string[]>(task.steps.map((s) => [s.id, []]));
  for (const s of task.steps)
    for (const d of s.after) {
      adj.get(s.id)!.push(d);
      adj.get(d)!.push(s.id);
    }
  const seen = new Set<string>();
  const stack = [task.steps[0]!.id];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...adj.get(id)!);
  }
  return seen.size === task.steps.length;
}

const domains = loadDomains();
const allSeeds: Array<{ domain: Domain; seed: SeedTask }> = domains.flatMap((domain) =>
  domain.seeds.map((seed) => ({ domain, seed })),
);
const ajv = new Ajv({ strict: false });

describe('domain catalogue', () => {
  it('has the twelve domains, in file-name order', () => {
    expect(domains.map((d) => d.slug)).toEqual(SLUGS);
  });

  it('caches the parsed domains', () => {
    expect(loadDomains()[0]).toBe(domains[0]);
  });

  it('gives every domain 4-8 tools with globally unique names', () => {
    const names = domains.flatMap((d) => d.tools.map((t) => t.name));
    expect(new Set(names).size).toBe(names.length);
    for (const d of domains) {
      expect(d.tools.length, d.slug).toBeGreaterThanOrEqual(4);
      expect(d.tools.length, d.slug).toBeLessThanOrEqual(8);
    }
  });

  it('has at least 6 seeds per domain, 72 in all, with globally unique task ids', () => {
    for (const d of domains) expect(d.seeds.length, d.slug).toBeGreaterThanOrEqual(6);
    expect(allSeeds.length).toBeGreaterThanOrEqual(72);
    const ids = allSeeds.map((x) => x.seed.task.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('covers every pattern in every domain', () => {
    for (const d of domains) {
      const present = new Set(d.seeds.map((s) => s.pattern));
      for (const p of PATTERNS) expect(present.has(p), `${d.slug} lacks ${p}`).toBe(true);
    }
  });

  it('notes the latency of exactly the tools of each domain', () => {
    for (const d of domains) {
      expect(Object.keys(d.latencyNotes).sort(), d.slug).toEqual(d.tools.map((t) => t.name).sort());
      for (const note of Object.values(d.latencyNotes)) expect(note.length).toBeGreaterThan(10);
    }
  });
});

describe('tools', () => {
  for (const d of domains) {
    for (const tool of d.tools) {
      it(`${d.slug}/${tool.name} is well formed`, () => {
        expect(tool.name).toMatch(/^[a-z][a-z0-9_]*$/);
        expect(checkDistribution(tool.latency)).toEqual([]);
        const p = tool.parameters as Record<string, unknown>;
        expect(p.type).toBe('object');
        expect(p.additionalProperties).toBe(false);
        const props = p.properties as Record<string, Record<string, unknown>>;
        for (const [key, schema] of Object.entries(props))
          expect(typeof schema.description, `${tool.name}.${key}`).toBe('string');
        for (const key of p.required as string[])
          expect(Object.hasOwn(props, key), `${tool.name} requires ${key}`).toBe(true);
        expect(() => ajv.compile(tool.parameters)).not.toThrow();
        if (tool.impl.kind === 'builtin') {
          const builtin = getBuiltin(tool.impl.name);
          expect(builtin, tool.impl.name).toBeDefined();
          const bp = builtin!.parameters as Record<string, unknown>;
          expect(Object.keys(props).sort()).toEqual(Object.keys(bp.properties as object).sort());
          expect([...(p.required as string[])].sort()).toEqual(
            [...(bp.required as string[])].sort(),
          );
        } else if (tool.impl.kind === 'table') {
          const keys = tool.impl.rows.map((row) => canon(row.args));
          expect(new Set(keys).size, `${tool.name} has duplicate rows`).toBe(keys.length);
          const validate = ajv.compile(tool.parameters);
          for (const row of tool.impl.rows)
            expect(validate(row.args), `${tool.name} row ${canon(row.args)}`).toBe(true);
        }
      });
    }
  }
});

describe('seed tasks', () => {
  for (const { domain, seed } of allSeeds) {
    const task = seed.task;
    it(`${task.id} (${domain.slug}, ${seed.pattern}) is consistent`, () => {
      expect(seed.domain).toBe(domain.slug);
      expect(task.arrivalMs).toBe(0);
      expect(task.steps.length).toBeGreaterThanOrEqual(2);
      expect(task.steps.length).toBeLessThanOrEqual(7);
      const tools = new Map(domain.tools.map((t) => [t.name, t]));
      const results = new Map<string, JsonValue>();
      for (const step of task.steps) {
        const where = `${task.id}/${step.id}`;
        expect(results.has(step.id), `${where} id is unique`).toBe(false);
        for (const dep of step.after)
          expect(results.has(dep), `${where} after ${dep} (declared earlier)`).toBe(true);
        expect(new Set(step.after).size, `${where} after has duplicates`).toBe(step.after.length);
        const tool = tools.get(step.tool);
        expect(tool, `${where} tool ${step.tool}`).toBeDefined();
        const validate = ajv.compile(tool!.parameters);
        expect(validate(step.args), `${where} args: ${ajv.errorsText(validate.errors)}`).toBe(true);
        for (const input of step.inputs) {
          expect(step.after, `${where} input from ${input.from}`).toContain(input.from);
          const want = at(results.get(input.from), input.path);
          expect(want, `${where} ${input.from}.${input.path} exists`).toBeDefined();
          expect(
            canon(at(step.args, input.arg)),
            `${where} args.${input.arg} = ${input.from}.${input.path}`,
          ).toBe(canon(want));
        }
        results.set(step.id, resultOf(tool!, step.args));
      }
      const all = JSON.stringify([...results.values()]).toLowerCase();
      for (const s of task.answer.mustContain)
        expect(all, `${task.id} mustContain ${s}`).toContain(s.toLowerCase());
      expect(weaklyConnected(task), `${task.id} is one connected job`).toBe(true);
      expect(classify(task), `${task.id} pattern`).toBe(seed.pattern);
      expect(
        task.steps.some((s) => s.inputs.length > 0),
        `${task.id} has data flow`,
      ).toBe(true);
    });
  }

  it('passes data along almost every dependency', () => {
    const deps = allSeeds.flatMap(({ seed }) =>
      seed.task.steps.flatMap((s) => s.after.map((d) => [s, d] as const)),
    );
    const carrying = deps.filter(([s, d]) => s.inputs.some((i) => i.from === d));
    expect(carrying.length / deps.length).toBeGreaterThan(0.9);
  });

  it('makes a valid single-task scenario from every seed', () => {
    for (const { domain, seed } of allSeeds) {
      const scenario = scenarioSchema.parse(seedScenario(domain, seed));
      expect(scenario.id).toBe(`seed-${seed.task.id}`);
      expect(scenario.tags).toEqual({ domain: domain.slug, pattern: seed.pattern });
      expect(scenario.tasks).toHaveLength(1);
      expect(scenario.tools.map((t) => t.name).sort()).toEqual(
        [...new Set(seed.task.steps.map((s) => s.tool))].sort(),
      );
    }
  });
});

describe('parseDomain', () => {
  it('names the file and JSON path of a problem', () => {
    const doc = {
      domain: 'x',
      title: 'X',
      description: 'x',
      latencyNotes: {},
      tools: [{ name: 'bad name' }],
      seeds: [],
    };
    expect(() => parseDomain('x.json', JSON.stringify(doc))).toThrow(/x\.json: tools\[0\]\.name/);
  });

  it('rejects text that is not JSON', () => {
    expect(() => parseDomain('y.json', '{')).toThrow(/y\.json: not valid JSON/);
  });

  it('rejects a step naming a tool of another domain', () => {
    const d = domains[0]!;
    const other = domains[1]!.tools[0]!.name;
    const seed = d.seeds[0]!;
    const doc = {
      domain: d.slug,
      title: d.title,
      description: d.description,
      latencyNotes: d.latencyNotes,
      tools: d.tools,
      seeds: [
        {
          pattern: seed.pattern,
          task: { ...seed.task, steps: [{ ...seed.task.steps[0]!, tool: other }] },
        },
      ],
    };
    expect(() => parseDomain('z.json', JSON.stringify(doc))).toThrow(
      /z\.json: seeds\[0\]\.task\.steps\[0\]\.tool/,
    );
  });
});
