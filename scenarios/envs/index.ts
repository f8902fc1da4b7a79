/**
 * The environments built into tooltime, by the name scenarios use (`environments[].kind`).
 * Scenario files carry no code: a stateful tool names one of these and one of its operations.
 */
import type { JsonValue } from '../spec/schema.js';
import type { Environment } from './environment.js';
import { filesystem } from './filesystem.js';

export type { EnvArgs, EnvContext, EnvOutcome, Environment, Operation } from './environment.js';

/** Every built-in environment, in name order. */
export const ENVIRONMENTS: readonly Environment<JsonValue>[] = [
  filesystem as unknown as Environment<JsonValue>,
];

const byName = new Map(ENVIRONMENTS.map((e) => [e.name, e]));

/** The environment called `name`, or undefined. */
export function getEnvironment(name: string): Environment<JsonValue> | undefined {
  return byName.get(name);
}
