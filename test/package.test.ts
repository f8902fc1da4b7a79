/**
 * The package as users get it: `npm pack`, the tarball's contents, then an install of the tarball
 * into an empty project and a strict TypeScript program compiled and run against it, importing
 * only `tooltime` and `tooltime/engine` (never a dist/ path). Uses the dist/ that `npm test` built
 * (pack runs with --ignore-scripts, so it does not rebuild dist/ under the other test files); the
 * dependencies come from the npm cache or registry. About 25 s on a 2-core machine (pack 5 s,
 * install 8-13 s, tsc 5 s: measured once by hand, noisy).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './support/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'tooltime-pack-'));
const project = join(tmp, 'project');
let tarball = '';
let files: string[] = [];

function run(command: string, args: readonly string[], cwd: string): SpawnSyncReturns<string> {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0)
    throw new Error(`${command} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** The user's program: one shipped example, one episode with a baseline agent, scored. */
const PROGRAM = `import { join } from 'node:path';
import { computeOracle, createAgent, examplesDir, loadScenarioFile, runEpisode, scoreEpisode } from 'tooltime';
import type { Agent, EpisodeScore, Scenario } from 'tooltime';
import { Simulation } from 'tooltime/engine';

const scenario: Scenario = loadScenarioFile(join(examplesDir(), 'chain.json'));
const agent: Agent = createAgent('greedy-async');
const episode = await runEpisode(scenario, agent, { seed: 1 });
const oracle = await computeOracle(scenario, { seed: 1 });
const score: EpisodeScore = scoreEpisode(scenario, episode.events, { boundUs: oracle.boundUs });

const sim = new Simulation({ seed: 1 });
let woke = -1;
sim.process((function* () { yield 250; woke = sim.nowUs; })());
sim.run();

let deep = 'imported';
try {
  // @ts-expect-error the package's exports map hides its files: no import from dist/ paths
  await import('tooltime/dist/index.js');
} catch (error) {
  deep = (error as { code?: string }).code ?? String(error);
}
console.log(JSON.stringify({
  scenario: score.scenario,
  endReason: episode.endReason,
  success: score.success,
  makespanMs: score.efficiency.makespanUs / 1000,
  boundRatio: score.efficiency.boundRatio,
  woke,
  deep,
}));
`;

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    // A user's project has @types/node; borrow this repository's rather than install it again.
    typeRoots: [join(ROOT, 'node_modules', '@types')],
    types: ['node'],
    // The shipped .d.ts files are type-checked too, as a strict user project checks them.
    skipLibCheck: false,
    outDir: 'out',
  },
  files: ['main.ts'],
};

beforeAll(() => {
  const packed = run(
    'npm',
    ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp],
    ROOT,
  );
  const [info] = JSON.parse(packed.stdout) as Array<{ filename: string }>;
  tarball = join(tmp, info!.filename);
  files = run('tar', ['-tzf', tarball], tmp)
    .stdout.trim()
    .split('\n')
    .map((f) => f.replace(/^package\//, ''));
}, 60_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('npm pack', () => {
  it('ships the library, the CLI, the scenario data, the prompt and the docs', () => {
    const needed = [
      'package.json',
      'README.md',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/engine/index.js',
      'dist/engine/index.d.ts',
      'dist/cli/main.js',
      'dist/replays/commands/verify-worker.js',
      'scenarios/examples/chain.json',
      'scenarios/scenario.schema.json',
      'scenarios/suites/asynctool/index.json',
      'scenarios/scoring/METRICS.md',
      'agents/llm/prompts/system-v1.md',
      'replays/FORMAT.md',
      'docs/API.md',
      // tooltime report reads its page script from the package at run time.
      'cli/report/page.js',
      // LICENSE is added on main; npm packs it whenever the repository has one.
      ...(existsSync(join(ROOT, 'LICENSE')) ? ['LICENSE'] : []),
    ];
    expect(needed.filter((f) => !files.includes(f))).toEqual([]);
    expect(
      files.filter((f) => /^scenarios\/domains\/[^/]+\.json$/.test(f)).length,
    ).toBeGreaterThanOrEqual(12);
  });

  it('ships no tests, benchmarks, TypeScript sources or source maps', () => {
    const unwanted = files.filter(
      (f) =>
        /^(test|bench|dist\/test|dist\/bench)\//.test(f) ||
        /^dist\/test-results/.test(f) ||
        (/\.ts$/.test(f) && !/\.d\.ts$/.test(f)) ||
        /\.map$/.test(f),
    );
    expect(unwanted).toEqual([]);
  });
});

describe('the tarball installed in an empty project', () => {
  it('compiles a strict TypeScript program against it and runs it: one episode, scored', () => {
    mkdirSync(project);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'uses-tooltime', private: true, type: 'module' }),
    );
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], project);
    writeFileSync(join(project, 'main.ts'), PROGRAM);
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(TSCONFIG));
    expect(PROGRAM).not.toMatch(/from '[^']*dist/);

    run(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], project);
    const out = JSON.parse(run(process.execPath, ['out/main.js'], project).stdout) as Record<
      string,
      unknown
    >;
    expect(out).toMatchObject({
      scenario: 'example-chain',
      endReason: 'completed',
      success: true,
      woke: 250,
      deep: 'ERR_PACKAGE_PATH_NOT_EXPORTED',
    });
    expect(out.makespanMs).toBeGreaterThan(0);
    expect(out.boundRatio).toBeGreaterThan(0);
    expect(out.boundRatio).toBeLessThanOrEqual(1);
  }, 120_000);

  it('installs the tooltime command, which finds its shipped data', () => {
    const version = (
      JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
    ).version;
    const bin = join(project, 'node_modules', '.bin', 'tooltime');
    expect(run(bin, ['--version'], project).stdout.trim()).toBe(version);
    const validated = run(
      bin,
      ['validate', join(project, 'node_modules', 'tooltime', 'scenarios', 'examples')],
      project,
    );
    expect(validated.stdout).toMatch(/chain\.json: ok/);
  });

  it('writes a report from the installed package: its page script and the vega builds inlined', () => {
    const bin = join(project, 'node_modules', '.bin', 'tooltime');
    const chain = join(project, 'node_modules', 'tooltime', 'scenarios', 'examples', 'chain.json');
    run(bin, ['run', chain, '-a', 'sequential', '-q', '--out', join(project, 'run')], project);
    run(bin, ['report', join(project, 'run'), '--out', join(project, 'report.html')], project);
    const html = readFileSync(join(project, 'report.html'), 'utf8');
    expect(html).toContain("The report page's script");
    expect(html).toMatch(/vegaEmbed/);
    expect(html).not.toMatch(/<script[^>]+src=/);
  });
});
