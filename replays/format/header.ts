/**
 * The replay header: everything needed to re-run the episode, in one canonical map.
 *
 * - `tooltime`: the version of tooltime that wrote the file (package.json);
 * - `scenario`: the whole scenario, canonical (`canonicalize` of the parsed scenario: defaults
 *   filled in, keys sorted);
 * - `agent`: the canonical spec and its full configuration (every parameter, defaults included;
 *   null for an agent outside the registry);
 * - `seed`, `world` (mode, delivery, think time override or null);
 * - `forkedFrom`: null, or where a fork came from (see fork.ts).
 *
 * A replay records the episode of its header's scenario: run episodes you record on
 * `replayScenario(scenario)` (the recorder exposes it as `recorder.scenario`). Because every JSON
 * value in a replay is canonical, an episode run on the scenario as loaded from a file (keys in
 * file order) records the very same bytes.
 */
import { agentEntries, canonicalSpec } from '../../agents/index.js';
import { parseParams, splitSpec } from '../../agents/spec.js';
import { checkDistribution, type DistributionSpec } from '../../engine/index.js';
import { canonicalize } from '../../scenarios/spec/canonical.js';
import { packageVersion } from '../../scenarios/package.js';
import type { Delivery, Mode } from '../../scenarios/protocol.js';
import type { JsonValue, Scenario } from '../../scenarios/spec/schema.js';
import { ScenarioError } from '../../scenarios/spec/validate.js';
import {
  canonicalScenario,
  parseCanonicalDocument,
} from '../../scenarios/spec/canonical-scenario.js';
import { Encoded, encodeJson } from './codec.js';
import { DELIVERIES, MODES } from './format.js';
import { canonicalDoc, encoded } from './scenario-memo.js';

/**
 * Where a forked replay came from: the original's digest and agent, and the record it was taken
 * over at (`tooltime replay fork`).
 */
export interface ForkOrigin {
  /** SHA-256 (hex) of the whole replay file the fork was made from. */
  readonly sha256: string;
  /** The fork reproduces at least this many records of that file. */
  readonly records: number;
  /**
   * The agent the source episode names (its `episode_started`; its header's agent unless it is
   * itself a fork). The fork's `episode_started` names it too: it is one of the reproduced records.
   */
  readonly originalAgent: string;
  /** Seed of the new agent's own random streams, when it differs from the episode's seed; else null. */
  readonly agentSeed: number | null;
}

/**
 * A replay's header: everything needed to re-run its episode: the tooltime version, the canonical
 * scenario, the agent's spec and configuration, the seed, the world, and the fork origin if any.
 */
export interface ReplayHeader {
  readonly tooltime: string;
  /** The canonical scenario document. */
  readonly scenario: JsonValue;
  readonly agent: { readonly spec: string; readonly config: JsonValue };
  readonly seed: number;
  readonly world: {
    readonly mode: Mode;
    readonly delivery: Delivery;
    readonly thinkTime: DistributionSpec | null;
  };
  readonly forkedFrom: ForkOrigin | null;
}

/** The agent an episode recorded under `header` names in its `episode_started`. */
export function episodeAgent(header: ReplayHeader): string {
  return header.forkedFrom === null ? header.agent.spec : header.forkedFrom.originalAgent;
}

/** The version in tooltime's package.json (a replay header records it). */
export function tooltimeVersion(): string {
  return packageVersion();
}

/** The scenario a replay records: its canonical form (scenarios/spec/canonical-scenario.ts), the same for equal scenarios. */
export const replayScenario: (scenario: Scenario) => Scenario = canonicalScenario;

/** Every parameter of a registry agent spec (defaults included; infinities as the string "Infinity"); null outside the registry. */
export function agentConfig(spec: string): JsonValue {
  try {
    const { name, pairs } = splitSpec(spec);
    const entry = agentEntries().find((e) => e.name === name);
    if (entry === undefined) return null;
    const { params } = parseParams(name, pairs, entry.params);
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(params))
      out[k] = typeof v === 'number' && !Number.isFinite(v) ? String(v) : v;
    return canonicalize(out);
  } catch {
    return null;
  }
}

/** The canonical form of a registry spec (other specs, say a scripted agent, as given) and its configuration. */
function agentOf(spec: string): { readonly spec: string; readonly config: JsonValue } {
  let canonical: string;
  try {
    canonical = canonicalSpec(spec);
  } catch {
    canonical = spec;
  }
  return { spec: canonical, config: agentConfig(canonical) };
}

export interface HeaderOptions {
  readonly scenario: Scenario;
  readonly agent: string;
  readonly seed: number;
  readonly mode?: Mode;
  readonly delivery?: Delivery;
  readonly thinkTime?: DistributionSpec | null;
  readonly forkedFrom?: ForkOrigin | null;
}

export function makeHeader(options: HeaderOptions): ReplayHeader {
  if (!Number.isSafeInteger(options.seed))
    throw new TypeError(`replay seed must be a safe integer, got ${options.seed}`);
  return {
    tooltime: tooltimeVersion(),
    scenario: canonicalDoc(options.scenario),
    agent: agentOf(options.agent),
    seed: options.seed,
    world: {
      mode: options.mode ?? 'async',
      delivery: options.delivery ?? 'push',
      thinkTime:
        options.thinkTime === undefined || options.thinkTime === null
          ? null
          : (canonicalize(options.thinkTime) as unknown as DistributionSpec),
    },
    forkedFrom: options.forkedFrom ?? null,
  };
}

/** The header as the JSON value written to the file (the codec sorts its keys). */
export function headerJson(header: ReplayHeader): JsonValue {
  const f = header.forkedFrom;
  return {
    agent: { config: header.agent.config, spec: header.agent.spec },
    forkedFrom:
      f === null
        ? null
        : {
            agentSeed: f.agentSeed,
            originalAgent: f.originalAgent,
            records: f.records,
            sha256: f.sha256,
          },
    scenario: header.scenario,
    seed: header.seed,
    tooltime: header.tooltime,
    world: {
      delivery: header.world.delivery,
      mode: header.world.mode,
      thinkTime: (header.world.thinkTime as unknown as JsonValue) ?? null,
    },
  };
}

/**
 * The header frame's payload: `headerJson(header)` encoded, with its scenario's encoding made
 * once per document (scenario-memo.ts).
 */
export function headerPayload(header: ReplayHeader): Uint8Array {
  const json = headerJson(header) as Record<string, JsonValue>;
  return encodeJson({ ...json, scenario: new Encoded(encoded(header.scenario)) });
}

/** Thrown by `parseHeader`; the reader adds the file and place. */
export class HeaderError extends Error {
  override name = 'HeaderError';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** `v` is a map with exactly `keys` (distinct), no more: checked without building key lists, as every header read does it. */
function keysExactly(v: unknown, where: string, keys: readonly string[]): Record<string, unknown> {
  if (!isRecord(v)) throw new HeaderError(`${where} must be a map`);
  let count = 0;
  for (const k in v) if (Object.hasOwn(v, k)) count++;
  let present = 0;
  for (const k of keys) if (Object.hasOwn(v, k)) present++;
  if (count !== keys.length || present !== keys.length) {
    const got = Object.keys(v);
    const extra = got.filter((k) => !keys.includes(k));
    const missing = keys.filter((k) => !got.includes(k));
    throw new HeaderError(
      `${where} ${missing.length > 0 ? `lacks ${missing.join(', ')}` : `has unknown ${extra.join(', ')}`}`,
    );
  }
  return v;
}

function safeInt(v: unknown, where: string, min = -Infinity): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min)
    throw new HeaderError(`${where} must be ${min === 0 ? 'a non-negative' : 'an'} integer`);
  return v;
}

function text(v: unknown, where: string): string {
  if (typeof v !== 'string') throw new HeaderError(`${where} must be a string`);
  return v;
}

/**
 * Checks a decoded header map; returns it typed, with its scenario parsed (`parsed`: the parse of
 * its scenario document, made before).
 */
export function parseHeader(
  value: unknown,
  file: string,
  parsed?: Scenario,
): { header: ReplayHeader; scenario: Scenario } {
  const h = keysExactly(value, 'header', [
    'agent',
    'forkedFrom',
    'scenario',
    'seed',
    'tooltime',
    'world',
  ]);
  const agent = keysExactly(h.agent, 'header.agent', ['config', 'spec']);
  const world = keysExactly(h.world, 'header.world', ['delivery', 'mode', 'thinkTime']);
  const mode = world.mode;
  const delivery = world.delivery;
  if (!(MODES as readonly unknown[]).includes(mode))
    throw new HeaderError(`header.world.mode must be async or sync`);
  if (!(DELIVERIES as readonly unknown[]).includes(delivery))
    throw new HeaderError(`header.world.delivery must be push or poll`);
  const thinkTime = world.thinkTime;
  if (thinkTime !== null) {
    const problems = checkDistribution(thinkTime);
    if (problems.length > 0)
      throw new HeaderError(
        `header.world.thinkTime${problems[0]!.path === '' ? '' : `.${problems[0]!.path}`}: ${problems[0]!.message}`,
      );
  }
  let forkedFrom: ForkOrigin | null = null;
  if (h.forkedFrom !== null) {
    const f = keysExactly(h.forkedFrom, 'header.forkedFrom', [
      'agentSeed',
      'originalAgent',
      'records',
      'sha256',
    ]);
    const sha = text(f.sha256, 'header.forkedFrom.sha256');
    if (!/^[0-9a-f]{64}$/.test(sha))
      throw new HeaderError('header.forkedFrom.sha256 must be 64 hex digits');
    forkedFrom = {
      sha256: sha,
      records: safeInt(f.records, 'header.forkedFrom.records', 0),
      originalAgent: text(f.originalAgent, 'header.forkedFrom.originalAgent'),
      agentSeed: f.agentSeed === null ? null : safeInt(f.agentSeed, 'header.forkedFrom.agentSeed'),
    };
  }
  const header: ReplayHeader = {
    tooltime: text(h.tooltime, 'header.tooltime'),
    scenario: h.scenario as JsonValue,
    agent: { spec: text(agent.spec, 'header.agent.spec'), config: agent.config as JsonValue },
    seed: safeInt(h.seed, 'header.seed'),
    world: {
      mode: mode as Mode,
      delivery: delivery as Delivery,
      thinkTime: thinkTime as DistributionSpec | null,
    },
    forkedFrom,
  };
  return { header, scenario: parsed ?? parseHeaderScenario(header.scenario, file) };
}

/** A header's scenario, parsed: canonical JSON as decoded parses into its own canonical form. */
function parseHeaderScenario(doc: JsonValue, file: string): Scenario {
  try {
    return parseCanonicalDocument(doc, `${file}: header.scenario`);
  } catch (error) {
    if (!(error instanceof ScenarioError)) throw error;
    const first = error.problems[0];
    const more =
      error.problems.length > 1 ? ` (and ${error.problems.length - 1} more problems)` : '';
    throw new HeaderError(
      `invalid scenario in the header: ${first === undefined ? error.message : `${first.path === '' ? '' : `${first.path}: `}${first.message}`}${more}`,
    );
  }
}
