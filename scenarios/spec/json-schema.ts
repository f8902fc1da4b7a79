/**
 * The published JSON Schema of the scenario format (`scenarios/scenario.schema.json`), generated
 * from the zod schema so the two never disagree. `tooltime schema` prints the same text.
 */
import { writeFileSync } from 'node:fs';
import { scenarioJsonSchema } from './schema.js';

/** The schema as committed: pretty JSON with a trailing newline. */
export function scenarioJsonSchemaText(): string {
  return `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`;
}

export function writeScenarioJsonSchema(path: string): void {
  writeFileSync(path, scenarioJsonSchemaText());
}
