/**
 * A real redis-server (Debian's, installed by .ci/run) on 127.0.0.1 at a free port with persistence
 * off, and `tooltime` processes started beside it: `stopAll()` ends every one of them (SIGKILL) and
 * the server, whatever a test did.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { MAIN, ROOT } from './cli.js';

export const REDIS_SERVER = '/usr/bin/redis-server';

/** A started process and what it printed so far. */
export interface Started {
  readonly child: ChildProcess;
  readonly out: { stdout: string; stderr: string };
  /** Resolves with the exit status (null: killed by a signal) once it ended. */
  readonly exited: Promise<number | null>;
  readonly hasExited: () => boolean;
}

const started: Started[] = [];

/** Starts a process; `stopAll` will end it. */
export function startProcess(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Started {
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out.stderr += d.toString()));
  let ended = false;
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (status) => {
      ended = true;
      resolve(status);
    }),
  );
  const s = { child, out, exited, hasExited: () => ended };
  started.push(s);
  return s;
}

/** `node dist/cli/main.js ARGS` as a child process. */
export const startTooltime = (args: readonly string[], env?: NodeJS.ProcessEnv): Started =>
  startProcess(process.execPath, [MAIN, ...args], env);

/** Waits until `ok()` or `ms` passed (then throws naming `what`). */
export async function waitFor(ok: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A redis-server ready for connections; its URL for database `db` by `url(db)`. */
export async function startRedis(): Promise<{ url: (db: number) => string; port: number }> {
  const port = await freePort();
  const server = startProcess(REDIS_SERVER, [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
  ]);
  await waitFor(
    () => server.out.stdout.includes('Ready to accept connections') || server.hasExited(),
    'redis-server to start',
  );
  if (server.hasExited()) throw new Error(`redis-server did not start: ${server.out.stdout}`);
  return { url: (db) => `redis://127.0.0.1:${port}/${db}`, port };
}

/** Ends every process started here (workers and coordinators first, the server last). */
export async function stopAll(): Promise<void> {
  const order = [...started].reverse();
  started.length = 0;
  for (const s of order) {
    if (!s.hasExited()) s.child.kill('SIGKILL');
    await s.exited;
  }
}
