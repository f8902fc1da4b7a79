/**
 * Agent spec strings: `name` or `name:key=value,key=value` (for example `greedy-async:maxInFlight=2`).
 *
 * Each agent declares its parameters (name, kind, default, one-line meaning); parsing checks names
 * and values and yields the canonical spec: the name, then the given parameters in declaration
 * order. That canonical string is what reports and replays record.
 */
/** A spec string naming no agent, or with an unknown parameter or a bad value (one line). */
export class AgentSpecError extends Error {
  override name = 'AgentSpecError';
}

/** How a spec parameter's text is read: an integer, a number or a string. */
export type ParamKind = 'int' | 'number' | 'string';

/** One parameter an agent accepts in its spec (`name:key=value`): kind, default and bounds. */
export interface ParamDef {
  readonly name: string;
  readonly kind: ParamKind;
  /** Default value; null means "not set" (for example: use the scenario's think time). */
  readonly default: number | string | null;
  readonly min?: number;
  readonly max?: number;
  readonly help: string;
}

/** Parsed spec parameters: every declared one, its default when not given (null: not set). */
export type ParamValues = Readonly<Record<string, number | string | null>>;

export interface ParsedSpec {
  readonly name: string;
  readonly params: ParamValues;
  /** Canonical form: name plus explicitly given parameters in declaration order. */
  readonly canonical: string;
}

/** The name part of a spec (before the first colon), unchecked. */
export function specName(spec: string): string {
  const trimmed = spec.trim();
  const colon = trimmed.indexOf(':');
  return colon < 0 ? trimmed : trimmed.slice(0, colon);
}

/** Splits `name:k=v,k=v` into the name and raw key/value pairs. */
export function splitSpec(spec: string): { name: string; pairs: Array<[string, string]> } {
  const trimmed = spec.trim();
  const name = specName(trimmed);
  if (name === '') throw new AgentSpecError(`agent spec "${spec}" has no name`);
  // After the colon, if any ('' without one).
  const rest = trimmed.slice(name.length + 1);
  const pairs: Array<[string, string]> = [];
  if (rest !== '') {
    for (const part of rest.split(',')) {
      const eq = part.indexOf('=');
      if (eq <= 0) throw new AgentSpecError(`agent spec "${spec}": "${part}" is not key=value`);
      pairs.push([part.slice(0, eq).trim(), part.slice(eq + 1).trim()]);
    }
  }
  return { name, pairs };
}

/** Checks raw pairs against `defs`; returns every parameter's value and the canonical spec. */
export function parseParams(
  name: string,
  pairs: ReadonlyArray<[string, string]>,
  defs: readonly ParamDef[],
): ParsedSpec {
  const given = new Map<string, number | string>();
  for (const [key, raw] of pairs) {
    const def = defs.find((d) => d.name === key);
    if (def === undefined) {
      const known =
        defs.length === 0 ? 'it takes none' : `known: ${defs.map((d) => d.name).join(', ')}`;
      throw new AgentSpecError(`agent ${name}: unknown parameter "${key}" (${known})`);
    }
    if (given.has(key)) throw new AgentSpecError(`agent ${name}: parameter "${key}" given twice`);
    given.set(key, parseValue(name, def, raw));
  }
  const params: Record<string, number | string | null> = {};
  const parts: string[] = [];
  for (const def of defs) {
    const v = given.get(def.name);
    params[def.name] = v ?? def.default;
    if (v !== undefined) parts.push(`${def.name}=${v}`);
  }
  return { name, params, canonical: parts.length === 0 ? name : `${name}:${parts.join(',')}` };
}

function parseValue(agent: string, def: ParamDef, raw: string): number | string {
  if (def.kind === 'string') {
    if (raw === '') throw new AgentSpecError(`agent ${agent}: ${def.name} must not be empty`);
    return raw;
  }
  const value = raw === 'inf' || raw === 'Infinity' ? Infinity : Number(raw);
  if (raw === '' || Number.isNaN(value))
    throw new AgentSpecError(`agent ${agent}: ${def.name} must be a number, got "${raw}"`);
  if (def.kind === 'int' && value !== Infinity && !Number.isSafeInteger(value))
    throw new AgentSpecError(`agent ${agent}: ${def.name} must be a whole number, got "${raw}"`);
  if (def.min !== undefined && value < def.min)
    throw new AgentSpecError(`agent ${agent}: ${def.name} must be at least ${def.min}, got ${raw}`);
  if (def.max !== undefined && value > def.max)
    throw new AgentSpecError(`agent ${agent}: ${def.name} must be at most ${def.max}, got ${raw}`);
  return value;
}
