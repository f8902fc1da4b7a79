/**
 * A stateful tool environment: a deterministic state machine over a JSON-serializable state whose
 * operations are tools an agent calls (issue 25; modelled on BFCL v3's multi-turn API classes).
 *
 * Contract every environment keeps:
 * - `apply` is pure: it never mutates the `state` it is given, reads no clock or randomness, and
 *   gives the same outcome for the same (state, args, nowUs). The world decides *when* an effect
 *   applies (at the call's completion, in the engine's total order); the environment decides *what*
 *   it does.
 * - A failed operation (no such file, insufficient funds, engine already running) is a tool error
 *   the agent sees, and leaves the state unchanged: `EnvOutcome` has no state on failure.
 * - States are plain JSON (no Map, Set, undefined, class instances), so they canonicalize, digest
 *   and compare byte for byte, and every state the environment can reach satisfies `stateSchema`.
 * - `parameters` of each operation is a JSON Schema (draft 2020-12) object, exposed to agents as the
 *   tool's parameter schema; `apply` may assume args passed it (the world checks them first).
 */
import type { z } from 'zod';
import type { JsonValue } from '../spec/schema.js';

/** Arguments of one call, as the agent sent them (already checked against `parameters`). */
export type EnvArgs = { readonly [key: string]: JsonValue };

/** What one operation did: the new state and the result, or a tool error and no change. */
export type EnvOutcome<S> =
  | { readonly ok: true; readonly state: S; readonly result: JsonValue }
  | { readonly ok: false; readonly error: string };

/** Facts about the moment an effect applies. */
export interface EnvContext {
  /** Simulated time of the call's completion, integer microseconds. */
  readonly nowUs: number;
}

/** One operation, exposed to agents as a tool. */
export interface Operation<S> {
  /** What the tool does, for the agent (shown like any tool's description). */
  readonly description: string;
  /** JSON Schema (2020-12) of the call's arguments. */
  readonly parameters: { readonly [key: string]: JsonValue };
  /** True when the operation never changes the state (listing, reading, checking). */
  readonly readOnly: boolean;
  /** Pure: see the module docstring. */
  apply(state: S, args: EnvArgs, context: EnvContext): EnvOutcome<S>;
}

/** An environment kind, built into the package; scenarios name it and give its initial state. */
export interface Environment<S extends JsonValue> {
  /** The name scenarios use (`filesystem`, `inbox`, ...). */
  readonly name: string;
  readonly description: string;
  /** Every reachable state parses; a scenario's initial state is validated with it. */
  readonly stateSchema: z.ZodType<S>;
  /** The state a scenario gets when it gives none. */
  readonly emptyState: S;
  /** Operation name -> operation. Names are tool-name shaped (letters, digits, _ -). */
  readonly operations: { readonly [name: string]: Operation<S> };
}
