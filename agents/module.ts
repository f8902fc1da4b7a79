/**
 * Your own policy as a module: `--agent ./my-policy.js` (or `./my-policy.js:key=value,...`).
 *
 * The module's default export is a factory called once per episode with the parameters given
 * after the colon (as strings) and the canonical spec; it returns an object implementing the agent
 * protocol (scenarios/protocol.ts): `decide(observation)` returning `{ actions, thinkUs? }`,
 * optionally `start(context)` and `maxInFlight`. See the README for a complete small example.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Agent } from '../scenarios/protocol.js';
import { createAgent } from './registry.js';
import { AgentSpecError, specName, splitSpec } from './spec.js';

/**
 * The default export of a policy module (`--agent ./my-policy.mjs:k=v`): called once per episode
 * with the spec's parameters (as strings) and the spec; returns a fresh Agent.
 */
export type AgentFactory = (options: {
  readonly params: Readonly<Record<string, string>>;
  readonly spec: string;
}) => Agent;

/** True when a spec names a module file rather than a registered agent or a model (never throws: the parameters are not read). */
export function isModuleSpec(spec: string): boolean {
  const name = specName(spec);
  return name.startsWith('.') || name.startsWith('/') || /\.(c|m)?js$/.test(name);
}

/** Makers of modules loaded, by resolved path and spec; bounded (cleared when full). */
const loaded = new Map<string, () => Agent>();
const MAX_LOADED = 64;

function loadedKey(spec: string, cwd: string): string {
  return `${resolve(cwd, specName(spec))}\u0000${spec}`;
}

/** The maker `loadAgentModule(spec, cwd)` made, if it has been loaded in this process. */
export function loadedAgentModule(spec: string, cwd = process.cwd()): (() => Agent) | undefined {
  return loaded.get(loadedKey(spec, cwd));
}

/** Loads a policy module (once per path and spec) and returns a maker of fresh agents for that spec. */
export async function loadAgentModule(spec: string, cwd = process.cwd()): Promise<() => Agent> {
  const key = loadedKey(spec, cwd);
  const known = loaded.get(key);
  if (known !== undefined) return known;
  const maker = await importAgentModule(spec, cwd);
  if (loaded.size >= MAX_LOADED) loaded.clear();
  loaded.set(key, maker);
  return maker;
}

async function importAgentModule(spec: string, cwd: string): Promise<() => Agent> {
  const { name, pairs } = splitSpec(spec);
  const url = pathToFileURL(resolve(cwd, name)).href;
  let mod: { default?: unknown };
  try {
    mod = (await import(url)) as { default?: unknown };
  } catch (error) {
    throw new AgentSpecError(
      `agent module ${name}: cannot load: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
    );
  }
  const factory = mod.default;
  if (typeof factory !== 'function')
    throw new AgentSpecError(
      `agent module ${name}: its default export must be a function (options) => agent`,
    );
  const params = Object.fromEntries(pairs);
  return () => {
    const agent = (factory as AgentFactory)({ params, spec });
    if (agent === null || typeof agent !== 'object' || typeof agent.decide !== 'function')
      throw new AgentSpecError(
        `agent module ${name}: the factory must return an object with a decide(observation) method`,
      );
    return { ...bindAgent(agent), spec };
  };
}

/** Keeps methods bound to the module's own object (so class-based agents work), with our spec. */
function bindAgent(agent: Agent): Agent {
  const start = agent.start;
  return {
    spec: agent.spec,
    ...(agent.maxInFlight === undefined ? {} : { maxInFlight: agent.maxInFlight }),
    ...(start === undefined ? {} : { start: (context) => start.call(agent, context) }),
    decide: (observation) => agent.decide.call(agent, observation),
  };
}

/** One maker for every spec given: registered agents and modules alike (modules loaded now). */
export async function agentMaker(
  specs: readonly string[],
  cwd = process.cwd(),
): Promise<(spec: string) => Agent> {
  const modules = new Map<string, () => Agent>();
  for (const spec of specs)
    if (isModuleSpec(spec) && !modules.has(spec))
      modules.set(spec, await loadAgentModule(spec, cwd));
  return (spec) => modules.get(spec)?.() ?? createAgent(spec);
}
