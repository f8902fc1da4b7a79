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
import { examplesDir } from '../../scenarios/spec/load.js';

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

/** The valid inputs mutations start from: the example scenarios and the golden replays. */
function baseInputs(): Base {
  if (base !== null) return base;
  const scenarios = readdirSync(examplesDir())
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((name) => ({
      name,
      doc: JSON.parse(readFileSync(join(examplesDir(), name), 'utf8')) as Record<string, unknown>,
    }));
  const replays = readdirSync(goldenDir())
    .filter((f) => f.endsWith('.ttr'))
    .sort()
    .map((name) => {
      const bytes = new Uint8Array(readFileSync(join(goldenDir(), name)));
      return { name, bytes, read: readReplay(bytes, { file: name }) };
    });
  base = { scenarios, replays };
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
  for (let i = 0, n = 1 + int(rnd, 3); i < n; i++) labels.push(mutateDoc(rnd, doc));
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

function replayMutation(
  rnd: Rng,
  src: Base['replays'][number],
  marker: string,
  evil: string,
): { bytes: Uint8Array; label: string } {
  const { bytes, read } = src;
  const offsets = read.offsets;
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
    ['replay', 'inspect', file, '--format', pick(rnd, ['text', 'jsonl', 'chrome'])],
    ['score', file],
    ['replay', 'diff', ...(rnd() < 0.5 ? [file, good] : [good, file])],
  ];
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
  const good = join(goldenDir(), pick(rnd, baseInputs().replays).name);
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
