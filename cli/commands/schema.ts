/** `tooltime schema [--out FILE]`: prints (or writes) the scenario format's JSON Schema. */
import type { Command } from 'commander';
import {
  scenarioJsonSchemaText,
  writeScenarioJsonSchema,
} from '../../scenarios/spec/json-schema.js';
import { UsageError } from '../errors.js';

export function registerSchema(program: Command): void {
  program
    .command('schema')
    .description('print the JSON Schema of the scenario format (or write it with --out)')
    .option('--out <file>', 'write the schema to this file instead of printing it')
    .action((options: { out?: string }) => {
      if (options.out === undefined) {
        process.stdout.write(scenarioJsonSchemaText());
        return;
      }
      try {
        writeScenarioJsonSchema(options.out);
      } catch (error) {
        throw new UsageError(
          `cannot write ${options.out}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    });
}
