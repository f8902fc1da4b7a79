/**
 * The CI fuzz run (issue 21): `node dist/test/fuzz/main.js [--seed S] [--inputs N] [--cli K]
 * [--workers W] [--timeout-ms T]`. N corpus inputs (corpus.ts) go through validate/run or
 * verify/inspect/score/diff in process, on a pool of long-lived worker threads with a watchdog and
 * resource limits (a hang or a memory blow-up is caught and pinned on its input; the worker is
 * replaced); then K of them through the real command line (`node dist/cli/main.js`, spawned with a
 * timeout, two at a time). The promise checked for every command: exit 0 or 1, no internal error,
 * no stack trace, a rejection names the file, no module loaded, Object.prototype untouched.
 * Prints one closing line (`fuzz: ...`) and exits 1 when anything broke it.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { input, prepareCorpus, writeEvilModule, type FuzzInput } from './corpus.js';
import type { Job, Outcome } from './worker.js';

// Compiled, next to this module; from the TypeScript sources (under vitest) the compiled ones in dist/.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER = fileURLToPath(
  new URL(FROM_SOURCE ? '../../dist/test/fuzz/worker.js' : './worker.js', import.meta.url),
);
const MAIN = fileURLToPath(
  new URL(FROM_SOURCE ? '../../dist/cli/main.js' : '../../cli/main.js', import.meta.url),
);

export interface FuzzOptions {
  readonly seed: number;
  readonly inputs: number;
  readonly cli: number;
  readonly workers: number;
  readonly timeoutMs: number;
  /** Test hook: extra command lines run in process first (`__hang`, `__oom`, `__load {evil}`), as input -1. */
  readonly selfTest?: ReadonlyArray<readonly string[]>;
}

export interface Finding {
  readonly input: number;
  readonly label: string;
  readonly args: readonly string[];
  readonly problem: string;
}

export interface FuzzReport {
  readonly msByCommand: Readonly<Record<string, number>>;
  readonly commands: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly cliCommands: number;
  readonly workersReplaced: number;
  readonly findings: Finding[];
  /** The inputs that took longest in process (all their commands), slowest first, at most 5. */
  readonly slowest: ReadonlyArray<{
    readonly input: number;
    readonly label: string;
    readonly ms: number;
  }>;
  readonly seconds: number;
}

/** Stack frames in what a user would see. */
const STACK = /^\s+at .+:\d+:\d+\)?$/m;

/** What is wrong with `outcome` of `args`, or null when it keeps the promise. */
export function judge(
  args: readonly string[],
  exit: number | null,
  stdout: string,
  stderr: string,
): string | null {
  if (exit === null) return 'no exit code (killed by the watchdog)';
  if (exit === 2 || stderr.includes('internal error'))
    return `internal error: ${stderr.trim().split('\n')[0]}`;
  if (exit !== 0 && exit !== 1) return `exit ${exit}: ${stderr.trim().split('\n')[0]}`;
  if (STACK.test(stdout) || STACK.test(stderr)) return 'a stack trace in the output';
  if (exit === 1 && stderr.trim() === '') return 'exit 1 without a word on stderr';
  const files = args.filter((a) => a.includes('/'));
  // A bad flag value (`--state-at x`) is named by its flag: that is its where.
  const flags = args.filter((a) => a.startsWith('--'));
  // Every line that is not indented context (verify shows the records around a divergence) names
  // the file, or the flag it is about.
  for (const line of stderr.split('\n')) {
    if (line === '' || /^\s/.test(line)) continue;
    if (!files.some((f) => line.includes(f)) && !flags.some((f) => line.includes(`${f} `)))
      return `a line that does not name the file: ${line.slice(0, 200)}`;
  }
  return null;
}

class Pool {
  private readonly idle: Worker[] = [];
  private readonly waiting: Array<(w: Worker) => void> = [];
  replaced = 0;

  constructor(size: number) {
    for (let i = 0; i < size; i++) this.idle.push(this.spawn());
  }

  private spawn(): Worker {
    const w = new Worker(WORKER, {
      resourceLimits: { maxOldGenerationSizeMb: 768, maxYoungGenerationSizeMb: 64, stackSizeMb: 4 },
      stdout: true,
      stderr: true,
    });
    w.unref();
    // A worker given up on (a hang) may still fail later: that is no longer news.
    w.on('error', () => undefined);
    return w;
  }

  private release(w: Worker): void {
    const next = this.waiting.shift();
    if (next !== undefined) next(w);
    else this.idle.push(w);
  }

  /** Runs `job` on a worker; a hang past `timeoutMs` or a dead worker is an outcome of its own. */
  async run(job: Job, timeoutMs: number): Promise<Outcome | { id: number; dead: string }> {
    const w =
      this.idle.pop() ?? (await new Promise<Worker>((resolve) => this.waiting.push(resolve)));
    return new Promise((resolve) => {
      const done = (result: Outcome | { id: number; dead: string }, healthy: boolean): void => {
        clearTimeout(timer);
        w.removeListener('message', onMessage)
          .removeListener('error', onError)
          .removeListener('exit', onExit);
        if (healthy) this.release(w);
        else {
          void w.terminate();
          this.replaced++;
          this.release(this.spawn());
        }
        resolve(result);
      };
      const timer = setTimeout(
        () => done({ id: job.id, dead: `hang: no answer within ${timeoutMs} ms` }, false),
        timeoutMs,
      );
      const onMessage = (o: Outcome): void => done(o, true);
      const onError = (e: Error): void =>
        done(
          { id: job.id, dead: `worker died: ${(e as { code?: string }).code ?? ''} ${e.message}` },
          false,
        );
      const onExit = (code: number): void =>
        done({ id: job.id, dead: `worker exited (${code})` }, false);
      w.once('message', onMessage).once('error', onError).once('exit', onExit);
      w.postMessage(job);
    });
  }

  close(): void {
    for (const w of this.idle) void w.terminate();
  }
}

interface Tally {
  /** Time spent per command (validate, run, verify, inspect, score, diff), ms. */
  readonly msByCommand: Record<string, number>;
  commands: number;
  accepted: number;
  rejected: number;
  readonly findings: Finding[];
  readonly slowest: Array<{ input: number; label: string; ms: number }>;
}

/** Checks the marker a hostile module writes when loaded; removes it so the next input starts clean. */
function moduleLoaded(marker: string): boolean {
  if (!existsSync(marker)) return false;
  unlinkSync(marker);
  return true;
}

async function runInput(
  pool: Pool,
  x: FuzzInput,
  options: FuzzOptions,
  marker: string,
  tally: Tally,
): Promise<void> {
  const start = performance.now();
  for (const args of x.commands) {
    const t0 = performance.now();
    const o = await pool.run({ id: x.id, args }, options.timeoutMs);
    const kind = args[0] === 'replay' ? args[1]! : args[0]!;
    tally.msByCommand[kind] = (tally.msByCommand[kind] ?? 0) + performance.now() - t0;
    tally.commands++;
    const problem =
      'dead' in o
        ? o.dead
        : o.polluted
          ? 'Object.prototype changed'
          : judge(args, o.exit, o.stdout, o.stderr);
    if ('dead' in o === false && o.exit === 0) tally.accepted++;
    else tally.rejected++;
    if (problem !== null)
      tally.findings.push({
        input: x.id,
        label: x.label,
        args,
        problem: 'stack' in o && o.stack !== null ? `${problem}\n${o.stack}` : problem,
      });
    if (moduleLoaded(marker))
      tally.findings.push({
        input: x.id,
        label: x.label,
        args,
        problem: 'a module named by the input was loaded',
      });
  }
  tally.slowest.push({ input: x.id, label: x.label, ms: performance.now() - start });
  tally.slowest.sort((a, b) => b.ms - a.ms);
  tally.slowest.length = Math.min(tally.slowest.length, 5);
}

/** Spawns the real command line with a watchdog. */
function cli(
  args: readonly string[],
  timeoutMs: number,
): Promise<{ exit: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      if (stdout.length < 4096) stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ exit: code, stdout, stderr });
    });
  });
}

export async function fuzz(options: FuzzOptions): Promise<FuzzReport> {
  const started = performance.now();
  await prepareCorpus();
  const dir = mkdtempSync(join(tmpdir(), 'tooltime-fuzz-'));
  const marker = join(dir, 'MODULE-LOADED');
  const evil = join(dir, 'evil.mjs');
  writeEvilModule(evil, marker);
  const pool = new Pool(options.workers);
  const tally: Tally = {
    msByCommand: {},
    commands: 0,
    accepted: 0,
    rejected: 0,
    findings: [],
    slowest: [],
  };
  let cliCommands = 0;
  try {
    // `{evil}` stands for the hostile module of this run (it writes this run's marker when loaded).
    const selfTest = options.selfTest?.map((args) => args.map((a) => (a === '{evil}' ? evil : a)));
    if (selfTest !== undefined)
      await runInput(
        pool,
        { id: -1, label: 'self-test', commands: selfTest },
        options,
        marker,
        tally,
      );
    // Inputs are made as workers free up, a few ahead: the corpus is never all on disk at once.
    let next = 0;
    const lanes = Array.from({ length: options.workers }, async () => {
      while (next < options.inputs) {
        const id = next++;
        const x = input(options.seed, id, dir, marker, evil);
        await runInput(pool, x, options, marker, tally);
        for (const ext of ['.json', '.ttr']) rmSync(join(dir, `${id}${ext}`), { force: true });
      }
    });
    await Promise.all(lanes);
    // The real command line, on an even sample of the same inputs (made again: the corpus is seeded).
    const step = options.cli === 0 ? 0 : Math.max(1, Math.floor(options.inputs / options.cli));
    let k = 0;
    const cliLanes = Array.from({ length: Math.min(2, options.workers) }, async () => {
      while (step > 0 && k < options.cli) {
        const id = (k++ * step) % options.inputs;
        const x = input(options.seed, id, dir, marker, evil);
        const args = x.commands[id % x.commands.length]!;
        const r = await cli(args, Math.max(options.timeoutMs, 30_000));
        cliCommands++;
        const problem = judge(args, r.exit, r.stdout, r.stderr);
        if (problem !== null)
          tally.findings.push({ input: id, label: `${x.label} (command line)`, args, problem });
        if (moduleLoaded(marker))
          tally.findings.push({
            input: id,
            label: `${x.label} (command line)`,
            args,
            problem: 'a module named by the input was loaded',
          });
        for (const ext of ['.json', '.ttr']) rmSync(join(dir, `${id}${ext}`), { force: true });
      }
    });
    await Promise.all(cliLanes);
  } finally {
    pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    ...tally,
    cliCommands,
    workersReplaced: pool.replaced,
    seconds: (performance.now() - started) / 1000,
  };
}

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(v) || v < 0)
    throw new Error(`--${name} must be a non-negative integer`);
  return v;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const options: FuzzOptions = {
    seed: flag('seed', 21),
    inputs: flag('inputs', 10_000),
    cli: flag('cli', 300),
    workers: flag('workers', 2),
    timeoutMs: flag('timeout-ms', 20_000),
  };
  const report = await fuzz(options);
  for (const f of report.findings.slice(0, 50))
    process.stderr.write(
      `finding: input ${f.input} (${f.label}): tooltime ${f.args.join(' ')}\n  ${f.problem.split('\n').join('\n  ')}\n`,
    );
  const spent = Object.entries(report.msByCommand)
    .map(([k, ms]) => `${k} ${(ms / 1000).toFixed(1)} s`)
    .join(', ');
  for (const x of report.slowest)
    process.stdout.write(
      `fuzz: slow: input ${x.input} ${(x.ms / 1000).toFixed(1)} s (${x.label})\n`,
    );
  process.stdout.write(`fuzz: time per command (in process, summed over workers): ${spent}\n`);
  process.stdout.write(
    `fuzz: seed ${options.seed}, ${options.inputs} inputs, ${report.commands} commands in process (${report.accepted} accepted, ${report.rejected} rejected), ${report.cliCommands} through the command line; ${report.workersReplaced} workers replaced; ${report.findings.length} findings; ${report.seconds.toFixed(1)} s\n`,
  );
  process.exit(report.findings.length === 0 ? 0 : 1);
}
