/**
 * The stateful suite (`scenarios/suites/asynctool-stateful`, issue 25): hand-written seed tasks on
 * the built-in environments (`scenarios/stateful/<kind>.seeds.json`, data only) composed into dual
 * and tri instances, some of them on one SHARED environment instance.
 *
 * A seed file holds one environment kind, its initial state (checked with the kind's state
 * schema), the service time of its read-only and of its state-changing operations, and seed tasks
 * with their dependency pattern and, optionally, `goalPaths`: JSON pointers the task's goal keeps
 * (the values its reference trajectory leaves there, computed with `goalAt`). A seed without
 * `goalPaths` gets the default goal (the whole final state), and cannot go on a shared instance.
 *
 * A seed file's optional `lostResponses` names write operations and a failure model with a
 * `lostRate`: the lossy instances appended after the others (lossy.ts) give their tools it.
 *
 * The plan is fixed (which kinds each slot combines, see `planStatefulSlots`); draws (task order within a
 * slot, seed rotation offsets, arrival staggers, think time) come from `RandomStreams(seed)`
 * streams named per slot, so the same seed gives byte-identical files.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { RandomStreams, type RandomStream } from '../../engine/index.js';
import { getEnvironment } from '../envs/index.js';
import { scenariosPath } from '../package.js';
import { goalAt } from '../spec/authoring.js';
import { goalOf, referenceRun } from '../spec/stateful.js';
import { doubleVisible, planLossySlots } from './lossy.js';
import {
  failureSchema,
  SCENARIO_FORMAT,
  taskSchema,
  type GoalCheck,
  type JsonValue,
  type Scenario,
} from '../spec/schema.js';
import { parseScenario } from '../spec/validate.js';
import { formatJson } from './format.js';

export const STATEFUL_SUITE_NAME = 'asynctool-stateful';
export const STATEFUL_SEEDS_FORMAT = 'tooltime.stateful-seeds/1';
/** The seed the shipped stateful suite was generated with. */
export const STATEFUL_SUITE_SEED = 2025;
/** Rounds of seven tri instances (each kind three times per round). */
const TRI_ROUNDS = 4;
/** Similar-domain duals per kind (on filesystem: on a shared instance). */
const SIMILAR_DUALS = 2;
/** Filesystem tri instances on a shared instance. */
const SHARED_TRIS = 2;
/** The kind whose seeds own disjoint paths, so they can share an instance. */
const SHARED_KIND = 'filesystem';

type Json = JsonValue;
type Obj = { [key: string]: Json };

const latencySchema = z.object({ kind: z.string() }).passthrough();
const seedFileSchema = z
  .object({
    format: z.literal(STATEFUL_SEEDS_FORMAT),
    environment: z.string(),
    title: z.string().min(1),
    description: z.string().min(1),
    latency: z.object({ read: latencySchema, write: latencySchema }).strict(),
    lostResponses: z
      .object({ operations: z.array(z.string()).min(1), failure: failureSchema })
      .strict()
      .optional(),
    initial: z.unknown(),
    seeds: z
      .array(
        z
          .object({
            pattern: z.enum(['chain', 'fan-out', 'fan-in', 'read-write']),
            task: z.unknown(),
            goalPaths: z.array(z.string()).min(1).optional(),
          })
          .strict(),
      )
      .min(6),
  })
  .strict();

export interface StatefulSeed {
  readonly kind: string;
  readonly pattern: string;
  /** The task as written in the file (its key order is kept in generated files). */
  readonly task: Obj;
  readonly goalPaths?: readonly string[];
}

export interface StatefulSeedFile {
  readonly kind: string;
  readonly title: string;
  readonly latency: { readonly read: Obj; readonly write: Obj };
  /**
   * State-changing operations whose responses can be lost in the lossy instances (lossy.ts), and
   * the failure model their tools get there (as written in the file).
   */
  readonly lostResponses?: { readonly operations: readonly string[]; readonly failure: Obj };
  readonly initial: Json;
  readonly seeds: readonly StatefulSeed[];
}

/** Parses one seed file's text; `file` names it in errors (one line each). */
export function parseStatefulSeeds(file: string, text: string): StatefulSeedFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file}: not valid JSON: ${(error as Error).message}`);
  }
  const parsed = seedFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const doc = parsed.data;
  const env = getEnvironment(doc.environment);
  if (env === undefined)
    throw new Error(`${file}: environment: no environment kind ${doc.environment}`);
  if (!env.stateSchema.safeParse(doc.initial).success)
    throw new Error(`${file}: initial: not a valid ${doc.environment} state`);
  const seeds = doc.seeds.map((seed, i) => {
    const task = taskSchema.safeParse(seed.task);
    if (!task.success)
      throw new Error(`${file}: seeds[${i}].task: ${task.error.issues[0]!.message}`);
    for (const step of task.data.steps)
      if (env.operations[step.tool] === undefined)
        throw new Error(`${file}: seeds[${i}].task: no operation ${step.tool} in ${env.name}`);
    const out: StatefulSeed = {
      kind: doc.environment,
      pattern: seed.pattern,
      task: seed.task as Obj,
    };
    return seed.goalPaths === undefined ? out : { ...out, goalPaths: seed.goalPaths };
  });
  const out: StatefulSeedFile = {
    kind: doc.environment,
    title: doc.title,
    latency: { read: doc.latency.read as Obj, write: doc.latency.write as Obj },
    initial: doc.initial as Json,
    seeds,
  };
  const lost = doc.lostResponses;
  if (lost === undefined) return out;
  for (const [i, name] of lost.operations.entries())
    if (env.operations[name]?.readOnly !== false)
      throw new Error(
        `${file}: lostResponses.operations[${i}]: ${name} is not a state-changing operation of ${env.name}`,
      );
  // The failure model as the file writes it (its text, not zod's defaults, goes into instances).
  const failure = (raw as { lostResponses: { failure: Obj } }).lostResponses.failure;
  return { ...out, lostResponses: { operations: lost.operations, failure } };
}

let cache: readonly StatefulSeedFile[] | undefined;

/** Every seed file under `scenarios/stateful/`, by file name (parsed once). */
export function loadStatefulSeeds(): StatefulSeedFile[] {
  if (cache === undefined) {
    const dir = scenariosPath('stateful');
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.seeds.json'))
      .sort();
    const ids = new Set<string>();
    cache = files.map((f) => {
      const doc = parseStatefulSeeds(f, readFileSync(join(dir, f), 'utf8'));
      if (`${doc.kind}.seeds.json` !== f)
        throw new Error(`${f}: environment: "${doc.kind}" does not match the file name`);
      for (const seed of doc.seeds) {
        const id = seed.task.id as string;
        if (ids.has(id)) throw new Error(`${f}: task id ${id} is used twice`);
        ids.add(id);
      }
      return doc;
    });
  }
  return [...cache];
}

/** One planned instance: the kinds of its tasks (in plan order) and whether they share. */
export interface StatefulSlot {
  readonly kinds: readonly string[];
  readonly shared: boolean;
  /** Writes can lose their responses (lossy.ts). */
  readonly lossy?: boolean;
}

function shuffle<T>(items: readonly T[], stream: RandomStream): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = stream.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * The plan: every cross pair once as a dual, SIMILAR_DUALS similar duals per kind (shared on the
 * shared kind), TRI_ROUNDS rounds of seven cross tris (consecutive triples of a shuffled cycle of
 * the kinds, so each kind appears three times a round), and SHARED_TRIS shared tris.
 */
export function planStatefulSlots(
  kinds: readonly string[],
  streams: RandomStreams,
): StatefulSlot[] {
  const slots: StatefulSlot[] = [];
  for (let i = 0; i < kinds.length; i++)
    for (let j = i + 1; j < kinds.length; j++)
      slots.push({ kinds: [kinds[i]!, kinds[j]!], shared: false });
  for (const kind of kinds)
    for (let k = 0; k < SIMILAR_DUALS; k++)
      slots.push({ kinds: [kind, kind], shared: kind === SHARED_KIND });
  for (let round = 0; round < TRI_ROUNDS; round++) {
    const cycle = shuffle(kinds, streams.derive(`plan/tri/${round}`));
    for (let i = 0; i < cycle.length; i++) {
      const triple = [0, 1, 2].map((d) => cycle[(i + d) % cycle.length]!);
      slots.push({ kinds: triple, shared: false });
    }
  }
  for (let k = 0; k < SHARED_TRIS; k++)
    slots.push({ kinds: [SHARED_KIND, SHARED_KIND, SHARED_KIND], shared: true });
  return slots;
}

/**
 * Hands out each kind's seeds in a rotation, so every seed is used about equally; its start is
 * drawn from the stream `<name>/<kind>`.
 */
class Rotation {
  private readonly next = new Map<string, number>();
  constructor(
    private readonly seeds: ReadonlyMap<string, readonly StatefulSeed[]>,
    streams: RandomStreams,
    name = 'rotation',
  ) {
    for (const [kind, list] of seeds)
      if (list.length > 0) this.next.set(kind, streams.derive(`${name}/${kind}`).int(list.length));
  }
  take(kind: string): StatefulSeed {
    const list = this.seeds.get(kind)!;
    const at = this.next.get(kind)!;
    this.next.set(kind, (at + 1) % list.length);
    return list[at]!;
  }
}

/** The seeds of a file with `lostResponses` that can go into a lossy instance (lossy.ts). */
export function lossySeeds(file: StatefulSeedFile): StatefulSeed[] {
  const lost = file.lostResponses;
  if (lost === undefined) return [];
  return file.seeds.filter((seed) => {
    const scenario = statefulSeedScenario(file, seed);
    const goal = (seedGoal(file, seed) as GoalCheck[] | undefined) ?? referenceGoal(scenario);
    return doubleVisible(scenario, goal, lost.operations);
  });
}

/** A one-task scenario's default goal: the whole final state its reference leaves. */
function referenceGoal(scenario: Scenario): GoalCheck[] {
  const task = scenario.tasks[0]!;
  return goalOf(scenario, task, () => referenceRun(scenario, task).states);
}

function roundMs(ms: number): number {
  return Math.round(ms);
}

/** The tools of `files`' environments; `lossy`: with their `lostResponses` failure models. */
function toolsFor(files: readonly StatefulSeedFile[], lossy = false): Obj[] {
  const tools: Obj[] = [];
  for (const file of files) {
    const env = getEnvironment(file.kind)!;
    const lost = lossy ? file.lostResponses : undefined;
    for (const [name, op] of Object.entries(env.operations)) {
      const tool: Obj = {
        name,
        latency: op.readOnly ? file.latency.read : file.latency.write,
        impl: { kind: 'environment', environment: file.kind, operation: name },
      };
      if (lost?.operations.includes(name) === true) tool.failure = lost.failure;
      tools.push(tool);
    }
  }
  return tools;
}

/** A one-task scenario of `seed` alone (the reference its goal is computed from). */
export function statefulSeedScenario(file: StatefulSeedFile, seed: StatefulSeed): Scenario {
  return parseScenario(
    {
      format: SCENARIO_FORMAT,
      id: `seed-${String(seed.task.id)}`,
      environments: [{ id: file.kind, kind: file.kind, initial: file.initial }],
      tools: toolsFor([file]),
      tasks: [seed.task],
    },
    `${file.kind}.seeds.json`,
  );
}

/** The goal a seed's task carries in an instance (undefined: the default, the whole state). */
export function seedGoal(file: StatefulSeedFile, seed: StatefulSeed): Json | undefined {
  if (seed.goalPaths === undefined) return undefined;
  const scenario = statefulSeedScenario(file, seed);
  const goal = goalAt(scenario, String(seed.task.id), file.kind, seed.goalPaths);
  return goal.map((check) => ({ ...check }) as Obj);
}

function instanceTask(file: StatefulSeedFile, seed: StatefulSeed, arrivalMs: number): Obj {
  const { id, message, steps, answer } = seed.task;
  const task: Obj = { id: id!, arrivalMs, message: message!, steps: steps!, answer: answer! };
  const goal = seedGoal(file, seed);
  if (goal !== undefined) task.goal = goal;
  return task;
}

/** Builds slot `index`'s instance document (key order fixed). */
function composeSlot(
  slot: StatefulSlot,
  index: number,
  files: ReadonlyMap<string, StatefulSeedFile>,
  rotation: Rotation,
  streams: RandomStreams,
): Obj {
  const lossy = slot.lossy === true;
  const stream = streams.derive(`slot/${index}`);
  const seeds = shuffle(
    slot.kinds.map((kind) => rotation.take(kind)),
    stream,
  );
  const used = [...new Set(seeds.map((s) => s.kind))].sort().map((k) => files.get(k)!);
  let arrival = 0;
  const tasks = seeds.map((seed, i) => {
    if (i > 0) arrival += roundMs(stream.double() * 1500);
    return instanceTask(files.get(seed.kind)!, seed, arrival);
  });
  const kinds = used.map((f) => f.kind);
  const id = `${STATEFUL_SUITE_NAME}-${String(index + 1).padStart(4, '0')}`;
  const mix = kinds.length === 1 ? 'similar' : 'cross';
  const titles = seeds.map((s) => String(s.task.id)).join(', ');
  const where = slot.shared ? 'on one shared instance' : 'each on its own copy';
  const lost = used.flatMap((f) => f.lostResponses?.operations ?? []);
  const hazard = lossy
    ? `; ${lost.join(', ')} can lose responses (a blind retry applies twice)`
    : '';
  const tags: Obj = {
    domains: kinds.join('+'),
    mix,
    tasks: String(seeds.length),
    patterns: seeds.map((s) => s.pattern).join('+'),
    seeds: seeds.map((s) => String(s.task.id)).join(','),
    state: slot.shared ? 'shared' : 'per-task',
  };
  if (lossy) tags.failures = 'lost-writes';
  return {
    format: SCENARIO_FORMAT,
    id,
    description: `${seeds.length} concurrent stateful tasks (${titles}) on ${kinds.join(' + ')}, ${where}${hazard}.`,
    tags,
    environments: used.map((f) => {
      const env: Obj = { id: f.kind, kind: f.kind, initial: f.initial };
      if (slot.shared) env.shared = true;
      return env;
    }),
    tools: toolsFor(used, lossy),
    tasks,
    thinkTime: { kind: 'lognormal', medianMs: 800, p95Ms: 3000 },
  };
}

export interface StatefulInstance {
  readonly id: string;
  readonly scenario: Scenario;
  readonly text: string;
}

/** The stateful suite for `seed`: every planned slot, each validated (throws naming the slot). */
export function generateStateful(seed: number = STATEFUL_SUITE_SEED): StatefulInstance[] {
  const streams = new RandomStreams(seed);
  const list = loadStatefulSeeds();
  const files = new Map(list.map((f) => [f.kind, f]));
  const rotation = new Rotation(new Map(list.map((f) => [f.kind, f.seeds])), streams);
  // The lossy slots come last and draw from streams of their own: the others stay as they were.
  const lossyRotation = new Rotation(
    new Map(list.map((f) => [f.kind, lossySeeds(f)])),
    streams,
    'lossy/rotation',
  );
  const plain = planStatefulSlots(
    list.map((f) => f.kind),
    streams,
  );
  const slots = [...plain, ...planLossySlots(list)];
  return slots.map((slot, i) => {
    const from = slot.lossy === true ? lossyRotation : rotation;
    const doc = composeSlot(slot, i, files, from, streams);
    const id = doc.id as string;
    return { id, scenario: parseScenario(doc, `${id}.json`), text: formatJson(doc) };
  });
}

/** index.json of the stateful suite. */
export function statefulIndex(seed: number, instances: readonly StatefulInstance[]): Obj {
  return {
    format: 'tooltime.suite/1',
    suite: STATEFUL_SUITE_NAME,
    generator: { seed, command: `tooltime suite generate-stateful --seed ${seed}` },
    instances: instances.length,
    index: instances.map((i) => ({ id: i.id, tags: i.scenario.tags as Obj })),
  };
}

/** The shipped stateful suite's folder: `scenarios/suites/asynctool-stateful/`. */
export function shippedStatefulSuiteDir(): string {
  return scenariosPath('suites', STATEFUL_SUITE_NAME);
}

/**
 * Writes the stateful suite for `seed` into `dir` (created if needed): one file per instance and
 * index.json, replacing earlier generated files there. Returns the paths written.
 */
export function writeStatefulSuite(dir: string, seed: number = STATEFUL_SUITE_SEED): string[] {
  const instances = generateStateful(seed);
  mkdirSync(dir, { recursive: true });
  const owned = new RegExp(`^${STATEFUL_SUITE_NAME}-\\d+\\.json$`);
  for (const name of readdirSync(dir))
    if (owned.test(name) || name === 'index.json') rmSync(join(dir, name));
  const written = instances.map((inst) => {
    const file = join(dir, `${inst.id}.json`);
    writeFileSync(file, inst.text);
    return file;
  });
  const index = join(dir, 'index.json');
  writeFileSync(index, formatJson(statefulIndex(seed, instances)));
  return [...written, index];
}
