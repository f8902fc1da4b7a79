/**
 * `tooltime validate FILE...`: checks scenario files (folders expand to their `*.json`).
 * Prints `FILE: ok` on stdout per valid file, and one line per problem on stderr
 * (`FILE: PATH: MESSAGE`); exits 1 when any file has a problem or cannot be read.
 */
import type { Command } from 'commander';
import { expandScenarioPaths, readJsonFile } from '../../scenarios/spec/load.js';
import { formatProblem, ScenarioError, validateScenario } from '../../scenarios/spec/validate.js';
import { EXIT_BAD_INPUT } from '../errors.js';

/** Validates each file; returns the report lines, and whether all were valid. */
export function validateFiles(paths: readonly string[]): {
  ok: boolean;
  lines: Array<{ stream: 'stdout' | 'stderr'; text: string }>;
} {
  const lines: Array<{ stream: 'stdout' | 'stderr'; text: string }> = [];
  let ok = true;
  const fail = (error: ScenarioError): void => {
    ok = false;
    for (const p of error.problems)
      lines.push({ stream: 'stderr', text: formatProblem(error.file, p) });
  };
  for (const path of paths) {
    let files: string[];
    try {
      files = expandScenarioPaths([path]);
    } catch (error) {
      if (error instanceof ScenarioError) {
        fail(error);
        continue;
      }
      throw error;
    }
    if (files.length === 0) {
      fail(
        new ScenarioError(path, [
          { path: '', message: 'no scenario files (*.json) in this folder' },
        ]),
      );
      continue;
    }
    for (const file of files) {
      let doc: unknown;
      try {
        doc = readJsonFile(file);
      } catch (error) {
        if (error instanceof ScenarioError) {
          fail(error);
          continue;
        }
        throw error;
      }
      const problems = validateScenario(doc);
      if (problems.length === 0) lines.push({ stream: 'stdout', text: `${file}: ok` });
      else fail(new ScenarioError(file, problems));
    }
  }
  return { ok, lines };
}

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description(
      'check scenario files (folders: every *.json in them); prints FILE: ok, or FILE: PATH: PROBLEM lines',
    )
    .argument('<file...>', 'scenario files or folders')
    .action((files: string[]) => {
      const { ok, lines } = validateFiles(files);
      for (const line of lines)
        (line.stream === 'stdout' ? process.stdout : process.stderr).write(`${line.text}\n`);
      if (!ok) process.exitCode = EXIT_BAD_INPUT;
    });
}
