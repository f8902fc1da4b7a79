/**
 * A scenario's canonical form: the parse of its canonical JSON (every object's keys sorted, tool
 * tables and args included). It is what a replay header holds and what every run runs, so that a
 * recorded episode re-runs from its header exactly: an agent that shows a tool's result as text
 * (a model's prompt) or reads an object's keys sees them in the same order in the run and in the
 * re-run. Scenario files are parsed into it directly (load.ts).
 */
import { canonicalize } from './canonical.js';
import type { JsonValue, Scenario } from './schema.js';
import { checkDocument } from './document.js';
import { parseScenario, validateScenario, ScenarioError } from './validate.js';

/** Scenarios seen, to their canonical forms (a canonical form maps to itself). */
const canonicalForms = new WeakMap<Scenario, Scenario>();

/** The canonical form of `scenario`: itself when it is one, else parsed once and kept. */
export function canonicalScenario(scenario: Scenario): Scenario {
  let out = canonicalForms.get(scenario);
  if (out === undefined) {
    out = parseCanonicalScenario(scenario, `scenario ${scenario.id}`);
    canonicalForms.set(scenario, out);
  }
  return out;
}

/**
 * Takes `scenario` as a canonical form without validating it again: for an exact copy of one (a
 * structured clone into a worker thread, which keeps key order) whose canonical JSON the caller has
 * checked against the digest of the original's.
 */
export function adoptCanonicalScenario(scenario: Scenario): Scenario {
  canonicalForms.set(scenario, scenario);
  return scenario;
}

/**
 * Validates `doc` from its canonical JSON: the scenario is its own canonical form. A document whose
 * shape cannot be made canonical (too deep, not JSON: see document.ts) is refused first, with the
 * problems `validateScenario` gives it.
 */
export function parseCanonicalScenario(doc: unknown, file = '<scenario>'): Scenario {
  if (checkDocument(doc) !== null) throw new ScenarioError(file, validateScenario(doc));
  return parseCanonicalDocument(canonicalize(doc), file);
}

/**
 * As `parseCanonicalScenario`, for a document that is canonical JSON already (a replay header's:
 * its decoder refuses unsorted keys, -0 and non-finite numbers), which is not copied again.
 */
export function parseCanonicalDocument(doc: JsonValue, file = '<scenario>'): Scenario {
  const scenario = parseScenario(doc, file);
  canonicalForms.set(scenario, scenario);
  return scenario;
}
