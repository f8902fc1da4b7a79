/**
 * The agent registry: every agent a spec string can name, with its parameters, for `--agent` and
 * `tooltime agents`. Model agents (`openai:MODEL`, agents/llm/) are resolved here too but are not
 * entries: their settings come from options (the command line's flags), not spec parameters.
 */
import type { Agent } from '../scenarios/protocol.js';
import { CriticalPath, GreedyAsync, ParallelSync, RoundRobin, Sequential } from './baselines.js';
import { Explorer } from './explorer.js';
import { Confused, Forgetful, Hasty, Impatient } from './faulty.js';
import {
  canonicalModelSpec,
  isModelSpec,
  llmAgentFactory,
  type ModelAgentFactory,
} from './llm/index.js';
import { COMMON_PARAMS } from './policy.js';
import { AgentSpecError, parseParams, splitSpec, type ParamDef, type ParamValues } from './spec.js';

/**
 * An agent a spec string can name: its name, kind (baseline policy or failure mode), what it does,
 * its parameters, and how it is made.
 */
export interface AgentEntry {
  readonly name: string;
  readonly kind: 'baseline' | 'failure-mode';
  readonly description: string;
  readonly params: readonly ParamDef[];
  readonly create: (canonical: string, params: ParamValues) => Agent;
}

const entries: readonly AgentEntry[] = [
  {
    name: 'sequential',
    kind: 'baseline',
    description: 'one call at a time, waits for its result (the blocking agent)',
    params: COMMON_PARAMS,
    create: (s, p) => new Sequential(s, p),
  },
  {
    name: 'parallel-sync',
    kind: 'baseline',
    description: 'each turn issues every ready step of every open task, then waits for all of them',
    params: COMMON_PARAMS,
    create: (s, p) => new ParallelSync(s, p),
  },
  {
    name: 'greedy-async',
    kind: 'baseline',
    description:
      'issues each step as soon as its inputs are delivered; serves steps in arrival order',
    params: COMMON_PARAMS,
    create: (s, p) => new GreedyAsync(s, p),
  },
  {
    name: 'explorer',
    kind: 'baseline',
    description:
      'looks around first (one read-only call per environment a task uses: a listing, a balance), then acts as greedy-async',
    params: COMMON_PARAMS,
    create: (s, p) => new Explorer(s, p),
  },
  {
    name: 'round-robin',
    kind: 'baseline',
    description: 'rotates between open tasks, one step per decision',
    params: COMMON_PARAMS,
    create: (s, p) => new RoundRobin(s, p),
  },
  {
    name: 'critical-path',
    kind: 'baseline',
    description: 'among ready steps, issues the one with the longest remaining chain first',
    params: COMMON_PARAMS,
    create: (s, p) => new CriticalPath(s, p),
  },
  {
    name: 'impatient',
    kind: 'failure-mode',
    description: 'issues a dependent step before its input has arrived, guessing the argument',
    params: [
      ...COMMON_PARAMS,
      {
        name: 'luck',
        kind: 'number',
        default: 0.5,
        min: 0,
        max: 1,
        help: 'chance a guessed argument is right',
      },
    ],
    create: (s, p) => new Impatient(s, p),
  },
  {
    name: 'forgetful',
    kind: 'failure-mode',
    description: 'abandons a task once one of its calls has been in flight too long',
    params: [
      ...COMMON_PARAMS,
      {
        name: 'patienceMs',
        kind: 'number',
        default: 1000,
        min: 0,
        help: 'how long it waits on a call before giving up the task',
      },
    ],
    create: (s, p) => new Forgetful(s, p),
  },
  {
    name: 'confused',
    kind: 'failure-mode',
    description: 'mixes data-flow arguments across concurrent tasks',
    params: COMMON_PARAMS,
    create: (s, p) => new Confused(s, p),
  },
  {
    name: 'hasty',
    kind: 'failure-mode',
    description: 'answers a task as soon as one of its steps is done',
    params: COMMON_PARAMS,
    create: (s, p) => new Hasty(s, p),
  },
];

/**
 * Every registered agent (baselines and failure modes), in the order `tooltime agents` lists them.
 * Model agents (`openai:MODEL`) and policy modules are resolved by spec, not listed.
 */
export function agentEntries(): readonly AgentEntry[] {
  return entries;
}

/**
 * The canonical form of a spec string, as reports and replays name it; AgentSpecError when invalid.
 */
export function canonicalSpec(spec: string): string {
  if (isModelSpec(spec)) return canonicalModelSpec(spec);
  const { name, pairs } = splitSpec(spec);
  return parseParams(name, pairs, entryFor(name).params).canonical;
}

/** How `createAgent` makes model agents; baseline and failure-mode agents need no options. */
export interface CreateAgentOptions {
  /** Makes `openai:MODEL` agents (`llmAgentFactory(options)`); default: one from the environment (OPENAI_API_KEY). */
  readonly models?: ModelAgentFactory;
}

/**
 * A fresh agent for one episode from a spec string such as `greedy-async:maxInFlight=2` or
 * `openai:gpt-4o-mini` (a model agent: without `options.models` its key comes from OPENAI_API_KEY,
 * and a missing key is an `AgentSpecError`). An unknown name or a bad parameter is an
 * AgentSpecError too. Policy modules (`./my-policy.mjs`) must be loaded first: use `agentMaker`.
 */
export function createAgent(spec: string, options: CreateAgentOptions = {}): Agent {
  if (isModelSpec(spec)) return (options.models ?? llmAgentFactory())(spec);
  const { name, pairs } = splitSpec(spec);
  const entry = entryFor(name);
  const parsed = parseParams(name, pairs, entry.params);
  return entry.create(parsed.canonical, parsed.params);
}

function entryFor(name: string): AgentEntry {
  const entry = entries.find((e) => e.name === name);
  if (entry === undefined)
    throw new AgentSpecError(
      `unknown agent "${name}" (known: ${entries.map((e) => e.name).join(', ')}; see tooltime agents)`,
    );
  return entry;
}
