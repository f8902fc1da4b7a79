/**
 * The built-in stateful tool environments by the name scenarios use (issue 25). Each is a
 * deterministic state machine over JSON state (see ./environment.ts); docs/ENVIRONMENTS.md lists
 * their operations, state and errors.
 */
import type { JsonValue } from '../spec/schema.js';
import type { Environment } from './environment.js';
import { filesystem } from './filesystem.js';
import { inbox } from './inbox.js';
import { social } from './social.js';
import { tickets } from './tickets.js';
import { trading } from './trading.js';
import { travel } from './travel.js';
import { vehicle } from './vehicle.js';

/** Environment name -> environment. */
export const ENVIRONMENTS: { readonly [name: string]: Environment<JsonValue> } = {
  filesystem: filesystem as unknown as Environment<JsonValue>,
  inbox,
  social,
  tickets,
  trading,
  travel,
  vehicle,
};

export type { EnvArgs, EnvContext, EnvOutcome, Environment, Operation } from './environment.js';

/** The environment a scenario names, or undefined when there is none by that name. */
export function getEnvironment(name: string): Environment<JsonValue> | undefined {
  return Object.hasOwn(ENVIRONMENTS, name) ? ENVIRONMENTS[name] : undefined;
}
