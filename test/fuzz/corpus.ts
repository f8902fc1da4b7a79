/**
 * The fuzz corpus (issue 21): hostile scenarios and replays, generated from a seed so that a run
 * can be repeated input for input (`input(seed, id)` is a pure function of its arguments, apart
 * from the files it writes). Each input is written under a directory and comes with the commands
 * to run on it: scenarios go through `validate` and `run`; replays through `verify`, `inspect`,
 * `score` and `diff`.
 *
 * Scenario mutations: deleted keys, wrong types, huge numbers (1e999, 2^53+1, -0), deep nesting,
 * `__proto__` / `constructor` keys, a BOM, invalid UTF-8, giant strings, super-linear regular
 * expressions in parameter schemas, long dependency chains, cut or bit-flipped JSON text. Replay
 * mutations: bit flips and cuts (the CRCs then fail), mutated payloads framed with a valid CRC,
 * random frames, splices of two replays, and headers naming a policy module that writes a marker
 * file if it is ever loaded. Both: non-regular files (a FIFO, a link to /dev/zero, a directory),
 * empty files and missing paths.
 *
 * Environment state (issue 25): the base holds stateful instances of the shipped stateful suite
 * (shared instances, lost writes) and replays of episodes on them. A stateful scenario mostly gets
 * a mutation aimed at its state (mutateState: huge, deep, schema-rejected or odd-number initial
 * states, unknown or inherited kinds, environments and operations, goals on missing paths,
 * duplicate or odd instance declarations); a stateful replay has its state records changed
 * (wrong digests, unknown environments or tasks, dropped, doubled or moved) or its header's
 * initial state mutated, encoded again with valid frames, and goes through `inspect --state-at`.
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import seedrandom from 'seedrandom';
import { MsgWriter } from '../../replays/format/codec.js';
import { frame, MAGIC, prefix } from '../../replays/format/format.js';
import {
  encodeReplay,
  goldenDir,
  makeHeader,
  readReplay,
  type ReplayRead,
} from '../../replays/index.js';
import { createAgent } from '../../agents/index.js';
import { recordEpisode } from '../../replays/io/recorder.js';
import { shippedStatefulSuiteDir } from '../../scenarios/suite/stateful.js';
import { examplesDir, loadScenarioFile } from '../../scenarios/spec/load.js';

export interface FuzzInput {
  readonly id: number;
  /** What was done to make it, for the report. */
  readonly label: string;
  /** Command lines (without `tooltime`), each run on its own. */
  readonly commands: readonly (readonly string[])[];
}

type Rng = () => number;

interface Base {
  readonly scenarios: ReadonlyArray<{
    readonly name: string;
    readonly doc: Record<string, unknown>;
  }>;
  readonly replays: ReadonlyArray<{
    readonly name: string;
    readonly bytes: Uint8Array;
    readonly read: ReplayRead;
  }>;
}

let base: Base | null = null;

/**
 * Stateful instances of the shipped stateful suite the corpus starts from (issue 25): per-task
 * states across environments (0001), one shared file system (0022, 0064), lost writes (tag
 * `failures=lost-writes`: 0066 inbox, 0067 trading, 0070 three environments).
 */
export const STATEFUL_BASE: readonly string[] = [
  'asynctool-stateful-0001',
  'asynctool-stateful-0022',
  'asynctool-stateful-0064',
  'asynctool-stateful-0066',
  'asynctool-stateful-0067',
  'asynctool-stateful-0070',
];
/** The agents whose episodes on them are recorded as base replays (state_changed records). */
const STATEFUL_AGENTS: readonly string[] = ['greedy-async', 'sequential', 'explorer'];

let statefulReplays: Base['replays'] | null = null;

/**
 * Records the stateful base replays (each STATEFUL_BASE instance x STATEFUL_AGENTS, seed 1) once
 * per process; `input` needs them, so the fuzz run awaits this first.
 */
export async function prepareCorpus(): Promise<void> {
  if (statefulReplays !== null) return;
  const out: Array<Base['replays'][number]> = [];
  for (const id of STATEFUL_BASE) {
    const scenario = loadScenarioFile(join(shippedStatefulSuiteDir(), `${id}.json`));
    for (const spec of STATEFUL_AGENTS) {
      const { bytes } = await recordEpisode({ scenario, agent: createAgent(spec), seed: 1 });
      const name = `${id}--${spec}--seed1.ttr`;
      out.push({ name, bytes: bytes!, read: readReplay(bytes!, { file: name }) });
    }
  }
  statefulReplays = out;
}

const readDoc = (dir: string, name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(dir, name), 'utf8')) as Record<string, unknown>;

/**
 * The valid inputs mutations start from: the example scenarios, the stateful suite's STATEFUL_BASE,
 * the golden replays and the recorded stateful ones (prepareCorpus).
 */
function baseInputs(): Base {
  if (base !== null) return base;
  if (statefulReplays === null) throw new Error('prepareCorpus() first');
  const scenarios = [
    ...readdirSync(examplesDir())
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((name) => ({ name, doc: readDoc(examplesDir(), name) })),
    ...STATEFUL_BASE.map((id) => ({
      name: `${id}.json`,
      doc: readDoc(shippedStatefulSuiteDir(), `${id}.json`),
    })),
  ];
  const replays = readdirSync(goldenDir())
    .filter((f) => f.endsWith('.ttr'))
    .sort()
    .map((name) => {
      const bytes = new Uint8Array(readFileSync(join(goldenDir(), name)));
      return { name, bytes, read: readReplay(bytes, { file: name }) };
    });
  base = { scenarios, replays: [...replays, ...statefulReplays] };
  return base;
}

const pick = <T>(rnd: Rng, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
const int = (rnd: Rng, n: number): number => Math.floor(rnd() * n);

/** Every path to a value inside `doc` (objects and arrays), breadth first, at most `max` of them. */
function paths(doc: unknown, max = 400): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = [];
  const queue: Array<{ v: unknown; p: Array<string | number> }> = [{ v: doc, p: [] }];
  while (queue.length > 0 && out.length < max) {
    const { v, p } = queue.shift()!;
    if (p.length > 0) out.push(p);
    if (Array.isArray(v))
      v.forEach((x, i) => {
        queue.push({ v: x, p: [...p, i] });
      });
    else if (v !== null && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) queue.push({ v: x, p: [...p, k] });
  }
  return out;
}

/** The container holding the value at `path`, and its key there. */
function at(
  doc: unknown,
  path: ReadonlyArray<string | number>,
): { parent: Record<string | number, unknown>; key: string | number } {
  let v = doc as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) v = v[k] as Record<string | number, unknown>;
  return { parent: v, key: path.at(-1)! };
}

const HUGE: readonly unknown[] = [
  1e308,
  -1e308,
  2 ** 53 + 1,
  -(2 ** 63),
  1e-320,
  0.1,
  -1,
  2 ** 31,
  4294967296,
];
const WRONG: readonly unknown[] = [
  null,
  true,
  'x',
  '',
  0,
  -0,
  [],
  {},
  [1, 'a'],
  { a: 1 },
  '1e3',
  'NaN',
  '__proto__',
];
const PATTERNS: readonly string[] = [
  '^(a+)+$',
  '(a|a)*b',
  '(a*)*$',
  '^(\\w+\\s?)*$',
  '(?=a)a',
  '(a)\\1',
  '[',
  '(?<n>a)\\k<n>',
  '.*.*.*.*.*=',
  'x{1000000}',
];

const DEEP = '\u0000deep:';

/** The JSON text of `doc`, nested values spliced in where `mutateDoc` marked them. */
function jsonText(doc: unknown): string {
  return JSON.stringify(doc).replace(
    /"\\u0000deep:(\d+):([[{])"/g,
    (_, n: string, open: string) => {
      const depth = Number(n);
      return open === '['
        ? `${'['.repeat(depth)}1${']'.repeat(depth)}`
        : `${'{"k":'.repeat(depth)}1${'}'.repeat(depth)}`;
    },
  );
}

/** The elements of `v` that are plain objects, when `v` is an array. */
function objects(v: unknown): Array<Record<string, unknown>> {
  return Array.isArray(v)
    ? v.filter(
        (x): x is Record<string, unknown> =>
          x !== null && typeof x === 'object' && !Array.isArray(x),
      )
    : [];
}

/** One JSON-level mutation of a scenario document (in place); returns its label. */
function mutateDoc(rnd: Rng, doc: Record<string, unknown>): string {
  const ps = paths(doc);
  const p = pick(rnd, ps);
  const { parent, key } = at(doc, p);
  const where = p.join('.');
  switch (int(rnd, 9)) {
    case 0:
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete parent[key];
      return `deleted ${where}`;
    case 1:
      parent[key] = pick(rnd, WRONG);
      return `wrong type at ${where}`;
    case 2:
      parent[key] = pick(rnd, HUGE);
      return `huge number at ${where}`;
    case 3: {
      // As text, spliced in after JSON.stringify (which would overflow the stack on it).
      const depth = pick(rnd, [50, 101, 2000, 20000]);
      parent[key] = `${DEEP}${depth}:${rnd() < 0.5 ? '[' : '{'}`;
      return `nested ${depth} deep at ${where}`;
    }
    case 4: {
      const hostile = JSON.parse(
        pick(rnd, [
          '{"__proto__": {"polluted": 1}}',
          '{"constructor": {"prototype": {"polluted": 1}}}',
          '{"__proto__": null}',
          '{"toString": 1, "hasOwnProperty": 2}',
        ]),
      ) as Record<string, unknown>;
      if (parent[key] !== null && typeof parent[key] === 'object' && !Array.isArray(parent[key]))
        Object.assign(parent[key] as object, hostile);
      else parent[key] = hostile;
      return `prototype keys at ${where}`;
    }
    case 5:
      parent[key] = 'x'.repeat(pick(rnd, [1000, 100_000, 1_000_000]));
      return `long string at ${where}`;
    case 6: {
      const tools = doc.tools;
      if (!Array.isArray(tools) || tools.length === 0) return mutateDoc(rnd, doc);
      const tool = pick(rnd, tools) as Record<string, unknown> | null;
      if (tool === null || typeof tool !== 'object') return mutateDoc(rnd, doc);
      const pattern = pick(rnd, PATTERNS);
      tool.parameters = { type: 'object', properties: { q: { type: 'string', pattern } } };
      // Earlier mutations may have left anything anywhere: only well-formed steps get the argument.
      for (const task of objects(doc.tasks))
        for (const step of objects(task.steps))
          if (step.tool === tool.name) step.args = { q: `${'a'.repeat(40)}!` };
      return `pattern ${pattern} on tool ${String(tool.name)}`;
    }
    case 7:
      parent[key] = pick(rnd, ['\ufeff', '\ud800', 'é✓🚀', '\u0000', '\u2028']);
      return `odd string at ${where}`;
    default: {
      const tools = doc.tools as Array<Record<string, unknown>> | undefined;
      const tool = tools?.[0]?.name;
      if (typeof tool !== 'string') return mutateDoc(rnd, doc);
      // Long chains are the costly inputs: one in ten of them.
      const n = rnd() < 0.1 ? 2600 : 100;
      doc.tasks = [
        {
          id: 'long',
          message: 'go',
          steps: Array.from({ length: n }, (_, i) => ({
            id: `s${i}`,
            tool,
            args: { n: i },
            after: i === 0 ? [] : [`s${i - 1}`],
          })),
          answer: { mustContain: ['x'] },
        },
      ];
      doc.limits = { maxCalls: n + 10, maxDecisions: 2 * n + 20 };
      return `chain of ${n} steps`;
    }
  }
}

const KINDS: readonly string[] = [
  'filesystem',
  'inbox',
  'social',
  'tickets',
  'trading',
  'travel',
  'vehicle',
  'nope',
  '__proto__',
  'constructor',
  'toString',
  '',
];
/** Names looked up in tables: missing ones, and the ones every object inherits. */
const ODD_NAMES: readonly string[] = [
  'nope',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '',
];
const POINTERS: readonly string[] = [
  '/no/such/path',
  'no-slash',
  '/__proto__',
  '/constructor/prototype',
  '/a~2b',
  '/~',
  '/0/0/0',
  '/-',
  `/${'a/'.repeat(2000)}`,
  `/${'x'.repeat(100_000)}`,
];

/**
 * A big initial state of `n` entries of `chars` characters, shaped as a file system or as one flat
 * object (around the 256 KiB bound on initial states, and far past it).
 */
function bigState(kind: unknown, n: number, chars: number): Record<string, unknown> {
  const entries = Array.from({ length: n }, (_, i) => [`f${i}`, 'x'.repeat(chars)]);
  return kind === 'filesystem'
    ? { big: Object.fromEntries(entries) }
    : { ...Object.fromEntries(entries) };
}

/**
 * One mutation aimed at environment state (issue 25), in place; returns its label, or null when
 * `doc` declares no environment to aim at. Hostile initial states (huge, deep, rejected by the
 * state schema, huge numbers), unknown kinds, environments and operations (inherited names too),
 * goals on missing or odd paths, duplicate and odd instance declarations, odd operation arguments.
 */
function mutateState(rnd: Rng, doc: Record<string, unknown>): string | null {
  const envs = objects(doc.environments);
  if (envs.length === 0) return null;
  const k = int(rnd, envs.length);
  const env = envs[k]!;
  // An earlier mutation may have left anything there: the writes below need an object.
  if (env.initial === null || typeof env.initial !== 'object') env.initial = {};
  const inside = paths(env.initial, 200);
  switch (int(rnd, 10)) {
    case 0: {
      const [n, chars] = pick(rnd, [
        [3_000, 64],
        [5_000, 64],
        [50_000, 64],
        [4, 60_000],
        [5, 60_000],
      ] as const);
      env.initial = bigState(env.kind, n, chars);
      return `initial state of environments.${k} with ${n} entries of ${chars} characters`;
    }
    case 1: {
      const depth = pick(rnd, [33, 60, 99, 101, 2000]);
      const p = inside.length > 0 && rnd() < 0.5 ? pick(rnd, inside) : null;
      const mark = `${DEEP}${depth}:${rnd() < 0.5 ? '[' : '{'}`;
      if (p === null) env.initial = mark;
      else at(env.initial, p).parent[at(env.initial, p).key] = mark;
      return `nested ${depth} deep in environments.${k}.initial${p ? `.${p.join('.')}` : ''}`;
    }
    case 2: {
      if (inside.length === 0 || rnd() < 0.2) {
        (env.initial as Record<string, unknown>)[pick(rnd, ODD_NAMES)] = pick(rnd, WRONG);
        return `odd key in environments.${k}.initial`;
      }
      const p = pick(rnd, inside);
      const { parent, key } = at(env.initial, p);
      parent[key] = rnd() < 0.5 ? pick(rnd, WRONG) : pick(rnd, HUGE);
      return `wrong value at environments.${k}.initial.${p.join('.')}`;
    }
    case 3:
      env.kind = pick(rnd, KINDS);
      return `environments.${k}.kind ${String(env.kind)}`;
    case 4: {
      const tool = objects(doc.tools).find((t) => objects([t.impl])[0]?.kind === 'environment');
      if (tool === undefined) return null;
      const impl = tool.impl as Record<string, unknown>;
      const field = rnd() < 0.5 ? 'environment' : 'operation';
      impl[field] = pick(rnd, ODD_NAMES);
      return `tool ${String(tool.name)} ${field} ${String(impl[field])}`;
    }
    case 5: {
      const task = objects(doc.tasks)[0];
      if (task === undefined) return null;
      const path = pick(rnd, POINTERS);
      const check = pick(rnd, [{ exists: true }, { absent: true }, { equals: pick(rnd, WRONG) }]);
      const environment = rnd() < 0.8 ? env.id : pick(rnd, ODD_NAMES);
      task.goal = [...objects(task.goal), { environment, path, ...check }];
      return `goal on ${path.slice(0, 30)} of ${String(environment)}`;
    }
    case 6: {
      const numeric = inside.filter(
        (p) => typeof at(env.initial, p).parent[at(env.initial, p).key] === 'number',
      );
      const p = numeric.length > 0 ? pick(rnd, numeric) : pick(rnd, [...inside, ['n']]);
      at(env.initial, p).parent[at(env.initial, p).key] = pick(rnd, HUGE);
      return `huge number at environments.${k}.initial.${p.join('.')}`;
    }
    case 7: {
      const copy = structuredClone(env);
      if (rnd() < 0.5) copy.kind = pick(rnd, KINDS);
      (doc.environments as unknown[]).push(copy);
      return `environment ${String(env.id)} declared twice`;
    }
    case 8:
      env.shared = pick(rnd, [true, false, 'yes', null, 1]);
      return `environments.${k}.shared ${JSON.stringify(env.shared)}`;
    default: {
      const steps = objects(doc.tasks).flatMap((t) => objects(t.steps));
      const step = steps.length > 0 ? pick(rnd, steps) : undefined;
      if (step === undefined) return null;
      const args = objects([step.args])[0] ?? {};
      const keys = Object.keys(args);
      const key = keys.length > 0 && rnd() < 0.8 ? pick(rnd, keys) : pick(rnd, ODD_NAMES);
      args[key] = rnd() < 0.5 ? pick(rnd, HUGE) : pick(rnd, WRONG);
      step.args = args;
      return `argument ${key} of step ${String(step.id)}`;
    }
  }
}

/** Byte-level damage to a text or replay: flips, cuts, inserts. */
function damage(rnd: Rng, bytes: Uint8Array): { bytes: Uint8Array; label: string } {
  const b = bytes.slice();
  switch (int(rnd, 4)) {
    case 0: {
      const n = 1 + int(rnd, 6);
      for (let i = 0; i < n; i++) b[int(rnd, b.length)]! ^= 1 << int(rnd, 8);
      return { bytes: b, label: `${n} bits flipped` };
    }
    case 1: {
      const cut = int(rnd, b.length);
      return { bytes: b.subarray(0, cut), label: `cut at byte ${cut}` };
    }
    case 2: {
      const atByte = int(rnd, b.length);
      const junk = Uint8Array.from({ length: 1 + int(rnd, 32) }, () => int(rnd, 256));
      return {
        bytes: Buffer.concat([b.subarray(0, atByte), junk, b.subarray(atByte)]),
        label: `${junk.length} random bytes inserted at ${atByte}`,
      };
    }
    default: {
      const atByte = int(rnd, b.length);
      b.fill(
        pick(rnd, [0, 0xff, 0x80, 0xc3]),
        atByte,
        Math.min(b.length, atByte + 1 + int(rnd, 16)),
      );
      return { bytes: b, label: `bytes overwritten at ${atByte}` };
    }
  }
}

function scenarioInput(rnd: Rng, file: string): string {
  const { scenarios } = baseInputs();
  const src = pick(rnd, scenarios);
  const doc = structuredClone(src.doc);
  const labels: string[] = [];
  // Stateful scenarios get a mutation aimed at their environments' state most of the time.
  for (let i = 0, n = 1 + int(rnd, 3); i < n; i++)
    labels.push((rnd() < 0.7 ? mutateState(rnd, doc) : null) ?? mutateDoc(rnd, doc));
  let bytes: Uint8Array = Buffer.from(jsonText(doc), 'utf8');
  const r = rnd();
  if (r < 0.1) {
    bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]);
    labels.push('UTF-8 BOM');
  } else if (r < 0.2) {
    bytes = Buffer.from(jsonText(doc).replace(/"message":"/, '"message":"\u00e9'), 'latin1');
    labels.push('Latin-1 text');
  } else if (r < 0.3) {
    const d = damage(rnd, bytes);
    bytes = d.bytes;
    labels.push(d.label);
  } else if (r < 0.33) {
    bytes = Buffer.from(jsonText(doc).replace(/"id":"[^"]*"/, '"id":1e999'), 'utf8');
    labels.push('1e999');
  }
  writeFileSync(file, bytes);
  return `${src.name}: ${labels.join(', ')}`;
}

/** A payload framed with a correct length and CRC: the decoder, not the checksum, must catch it. */
function framed(payload: Uint8Array): Uint8Array {
  return frame(payload, payload.length);
}

type Ev = ReplayRead['events'][number];
type StateEv = Extract<Ev, { type: 'state_changed' }>;

/**
 * A replay of a stateful episode with its state records (or its header's initial state) changed,
 * encoded again with valid frames and trailer (issue 25): a wrong digest, an unknown environment
 * or task, a shared instance named per task or the reverse, a state record dropped, duplicated or
 * moved, an initial state mutated in the header. Null when the replay has no state record or the
 * encoder refuses the result (the other mutations then apply).
 */
function stateReplayMutation(
  rnd: Rng,
  src: Base['replays'][number],
): { bytes: Uint8Array; label: string } | null {
  const { read } = src;
  const events: Ev[] = [...read.events];
  const states = events.flatMap((e, i) => (e.type === 'state_changed' ? [i] : []));
  if (states.length === 0) return null;
  const i = pick(rnd, states);
  const e = events[i] as StateEv;
  const tasks = read.scenario.tasks.map((t) => t.id);
  let header = read.header;
  let label: string;
  switch (int(rnd, 7)) {
    case 0: {
      const digest = pick(rnd, [
        `${e.digest.slice(0, -1)}${e.digest.endsWith('0') ? '1' : '0'}`,
        '',
        'f'.repeat(64),
        'x'.repeat(100_000),
        e.digest.toUpperCase(),
      ]);
      events[i] = { ...e, digest };
      label = `state record ${i}: digest ${digest.slice(0, 12)}`;
      break;
    }
    case 1:
      // An unknown or inherited name, or another declared environment (the call acts on its own).
      events[i] = {
        ...e,
        environment: pick(rnd, [
          ...ODD_NAMES,
          ...(read.scenario.environments ?? []).map((d) => d.id),
        ]),
      };
      label = `state record ${i}: environment ${(events[i] as StateEv).environment}`;
      break;
    case 2: {
      const task = e.task === null ? pick(rnd, tasks) : rnd() < 0.5 ? null : pick(rnd, tasks);
      events[i] = { ...e, task };
      label = `state record ${i}: task ${String(task)} (was ${String(e.task)})`;
      break;
    }
    case 3:
      events.splice(i, 1);
      label = `state record ${i} dropped`;
      break;
    case 4:
      events.splice(i + 1, 0, e);
      label = `state record ${i} twice`;
      break;
    case 5: {
      const j = int(rnd, events.length);
      events.splice(i, 1);
      events.splice(j, 0, { ...e, timeUs: events[Math.min(j, events.length - 1)]!.timeUs });
      label = `state record ${i} moved to ${j}`;
      break;
    }
    default: {
      const doc = structuredClone(header.scenario) as unknown as Record<string, unknown>;
      label = `header scenario: ${mutateState(rnd, doc) ?? mutateDoc(rnd, doc)}`;
      header = { ...header, scenario: JSON.parse(jsonText(doc)) as typeof header.scenario };
    }
  }
  try {
    return { bytes: encodeReplay(header, events), label };
  } catch {
    return null;
  }
}

function replayMutation(
  rnd: Rng,
  src: Base['replays'][number],
  marker: string,
  evil: string,
): { bytes: Uint8Array; label: string } {
  const { bytes, read } = src;
  const offsets = read.offsets;
  // Replays of stateful episodes: their state records are the target half of the time.
  const state = rnd() < 0.5 ? stateReplayMutation(rnd, src) : null;
  if (state !== null) return state;
  switch (int(rnd, 6)) {
    case 0:
    case 1:
      return damage(rnd, bytes);
    case 2: {
      // A record's payload changed, framed again with a valid CRC; the rest kept or not.
      const k = int(rnd, offsets.length - 1);
      const start = offsets[k]!;
      const end = offsets[k + 1]!;
      let p = start;
      while (bytes[p]! & 0x80) p++;
      const payload = bytes.slice(p + 1, end - 4);
      for (let i = 0, n = 1 + int(rnd, 3); i < n; i++)
        payload[int(rnd, payload.length)]! ^= 1 << int(rnd, 8);
      const keep = rnd() < 0.7;
      return {
        bytes: Buffer.concat([
          bytes.subarray(0, start),
          framed(payload),
          keep ? bytes.subarray(end) : new Uint8Array(0),
        ]),
        label: `record ${k} mutated, valid CRC${keep ? '' : ', rest cut'}`,
      };
    }
    case 3: {
      const w = new MsgWriter();
      w.json(
        pick(rnd, [
          [13, 0, 999],
          [0, 5, 'f'.repeat(64)],
          [15, 0, 2 ** 53, 0, {}, null, null, null, 1, null],
          [2, -1],
          [1, 1e308, 'x'],
          { a: 1 },
          'x'.repeat(100),
        ]),
      );
      const k = int(rnd, offsets.length);
      return {
        bytes: Buffer.concat([bytes.subarray(0, offsets[k]!), framed(w.bytes().slice())]),
        label: `odd record framed with a valid CRC at record ${k}`,
      };
    }
    case 4: {
      // A header naming a module that writes the marker if loaded, with the records of the original.
      const spec = pick(rnd, [
        evil,
        `${evil}:x=1`,
        './evil.mjs',
        'file:///tmp/evil.mjs',
        `data:text/javascript,import('node:fs').then(f=>f.writeFileSync(${JSON.stringify(marker)},'x'))`,
      ]);
      const header = makeHeader({ scenario: read.scenario, agent: spec, seed: read.header.seed });
      return {
        bytes: encodeReplay(header, read.events, read.scenario),
        label: `header agent ${spec.slice(0, 40)}`,
      };
    }
    default: {
      const other = pick(rnd, baseInputs().replays);
      const x = int(rnd, bytes.length);
      const y = int(rnd, other.bytes.length);
      return {
        bytes: Buffer.concat([bytes.subarray(0, x), other.bytes.subarray(y)]),
        label: `spliced with ${other.name} at ${x}/${y}`,
      };
    }
  }
}

function replayInput(rnd: Rng, file: string, marker: string, evil: string): string {
  const src = pick(rnd, baseInputs().replays);
  const r = rnd();
  if (r < 0.05) {
    writeFileSync(
      file,
      Buffer.concat([prefix(), Uint8Array.from({ length: int(rnd, 256) }, () => int(rnd, 256))]),
    );
    return 'magic, version, random bytes';
  }
  if (r < 0.08) {
    writeFileSync(
      file,
      Buffer.concat([MAGIC, Uint8Array.from({ length: int(rnd, 64) }, () => int(rnd, 256))]),
    );
    return 'magic, random bytes';
  }
  const m = replayMutation(rnd, src, marker, evil);
  writeFileSync(file, m.bytes);
  return `${src.name}: ${m.label}`;
}

/** A path that is not a regular file: made once per kind under `dir`. */
function special(dir: string, kind: number): { path: string; label: string } {
  const kinds = ['fifo', 'zero', 'dir', 'empty', 'missing'] as const;
  const k = kinds[kind % kinds.length]!;
  const path = join(dir, `special-${k}`);
  if (existsSync(path) || k === 'missing')
    return { path, label: `special: ${k === 'zero' ? 'link to /dev/zero' : k}` };
  try {
    if (k === 'fifo') execFileSync('mkfifo', [path], { stdio: 'ignore' });
    else if (k === 'zero') symlinkSync('/dev/zero', path);
    else if (k === 'dir') mkdirSync(path);
    else if (k === 'empty') writeFileSync(path, '');
  } catch {
    // Made by an earlier input.
  }
  return { path, label: `special: ${k === 'zero' ? 'link to /dev/zero' : k}` };
}

/** The commands a scenario file goes through. */
function scenarioCommands(file: string): string[][] {
  return [
    ['validate', file],
    ['run', file, '--agent', 'greedy-async', '--seed', '1', '--quiet'],
  ];
}

/** The commands a replay file goes through; `good` is a valid replay to diff it with. */
function replayCommands(rnd: Rng, file: string, good: string): string[][] {
  return [
    ['replay', 'verify', file],
    rnd() < 0.25
      ? ['replay', 'inspect', file, '--state-at', pick(rnd, ['0', '5', '40', '999999', '-1', 'x'])]
      : ['replay', 'inspect', file, '--format', pick(rnd, ['text', 'jsonl', 'chrome'])],
    ['score', file],
    ['replay', 'diff', ...(rnd() < 0.5 ? [file, good] : [good, file])],
  ];
}

/** A valid replay's file: a golden one where it is, a recorded one written under `dir` once. */
function goodFile(src: Base['replays'][number], dir: string): string {
  const golden = join(goldenDir(), src.name);
  if (existsSync(golden)) return golden;
  const path = join(dir, `good-${src.name}`);
  if (!existsSync(path)) writeFileSync(path, src.bytes);
  return path;
}

/**
 * Input `id` of the corpus of `seed`, written under `dir` (made by the caller); `marker` is the
 * file a hostile module writes if it is ever loaded, `evil` that module's path.
 */
export function input(
  seed: number,
  id: number,
  dir: string,
  marker: string,
  evil: string,
): FuzzInput {
  const rnd = seedrandom.alea(`tooltime-fuzz/${seed}/${id}`);
  const good = goodFile(pick(rnd, baseInputs().replays), dir);
  const r = rnd();
  if (r < 0.02) {
    const s = special(dir, id);
    return {
      id,
      label: s.label,
      commands: [...scenarioCommands(s.path), ...replayCommands(rnd, s.path, good)],
    };
  }
  if (r < 0.5) {
    const file = join(dir, `${id}.json`);
    return { id, label: scenarioInput(rnd, file), commands: scenarioCommands(file) };
  }
  const file = join(dir, `${id}.ttr`);
  return {
    id,
    label: replayInput(rnd, file, marker, evil),
    commands: replayCommands(rnd, file, good),
  };
}

/** The module a hostile replay names: loading it writes `marker`. */
export function writeEvilModule(path: string, marker: string): void {
  writeFileSync(
    path,
    `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'loaded');\nexport default { decide() { return { actions: [] }; } };\n`,
  );
}
