/**
 * Verifying many replay files on worker threads (`verifyReplayFiles`, `tooltime replay verify
 * --workers N`): the same verdicts as on one thread, in input order, and a bad file among good
 * ones reported on its own while the others are still verified. A worker thread runs plain
 * JavaScript, so the pool is tested as built: `verifyReplayFiles` from dist/ (built here if
 * missing), whose workers are the compiled modules beside it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  encodeReplay,
  goldenDir,
  readReplay,
  type FileVerdict,
  type verifyReplayFiles as VerifyReplayFiles,
} from '../../../replays/index.js';
import type { EpisodeEvent } from '../../../scenarios/world/events.js';
import { packageRoot } from '../../../scenarios/package.js';

const root = packageRoot();
const main = join(root, 'dist', 'cli', 'main.js');
const tmp = mkdtempSync(join(tmpdir(), 'tooltime-replay-parallel-'));
const goldens = readdirSync(goldenDir())
  .filter((f) => f.endsWith('.ttr'))
  .sort()
  .map((f) => join(goldenDir(), f));

/** A verdict without its timings (which differ run to run). */
function comparable(v: FileVerdict): unknown {
  if ('timing' in v) {
    const { timing: _timing, ...rest } = v;
    return rest;
  }
  return v;
}

/** A replay that reads fine but does not verify: every record from `k` on is 1 µs late. */
function altered(source: string, k: number, out: string): string {
  const read = readReplay(readFileSync(source));
  const bumped = read.events.map((e, i) =>
    i >= k ? ({ ...e, timeUs: e.timeUs + 1 } as EpisodeEvent) : e,
  );
  writeFileSync(out, encodeReplay(read.header, bumped, read.scenario));
  return out;
}

let verifyReplayFiles: typeof VerifyReplayFiles;

beforeAll(async () => {
  if (!existsSync(join(root, 'dist', 'replays', 'commands', 'verify-worker.js')))
    spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: root, encoding: 'utf8' });
  const built = pathToFileURL(join(root, 'dist', 'replays', 'commands', 'verify-files.js'));
  ({ verifyReplayFiles } = (await import(built.href)) as {
    verifyReplayFiles: typeof VerifyReplayFiles;
  });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('verifyReplayFiles', () => {
  it('gives the same verdicts on 2 workers as on this thread, in input order', async () => {
    const files = [...goldens, ...goldens.slice(0, 5)];
    const reported: number[] = [];
    const parallel = await verifyReplayFiles(files, {
      workers: 2,
      onResult: (_v, i) => reported.push(i),
    });
    const here = await verifyReplayFiles(files, { workers: 0 });
    expect(parallel.map((v) => v.file)).toEqual(files);
    expect(reported).toEqual(files.map((_f, i) => i));
    expect(parallel.every((v) => v.ok)).toBe(true);
    expect(parallel.map(comparable)).toEqual(here.map(comparable));
  });

  it('reports a corrupt, a missing and a divergent file among good ones, and verifies the others', async () => {
    const corrupt = join(tmp, 'corrupt.ttr');
    const bytes = new Uint8Array(readFileSync(goldens[0]!));
    bytes[bytes.length - 40]! ^= 0xff;
    writeFileSync(corrupt, bytes);
    const missing = join(tmp, 'missing.ttr');
    const divergent = altered(goldens[1]!, 10, join(tmp, 'divergent.ttr'));
    const files = [goldens[2]!, corrupt, goldens[3]!, missing, goldens[4]!, divergent, goldens[5]!];
    const parallel = await verifyReplayFiles(files, { workers: 2 });
    const here = await verifyReplayFiles(files, { workers: 0 });
    expect(parallel.map(comparable)).toEqual(here.map(comparable));
    expect(parallel.map((v) => v.ok)).toEqual([true, false, true, false, true, false, true]);
    expect(parallel[1]).toEqual({
      ok: false,
      file: corrupt,
      error: expect.stringMatching(
        /^.*corrupt\.ttr: record \d+ at byte \d+: checksum mismatch/,
      ) as unknown,
    });
    expect(parallel[3]).toEqual({
      ok: false,
      file: missing,
      error: `${missing}: cannot read: no such file or directory`,
    });
    const d = parallel[5]!;
    expect(!d.ok && 'reason' in d ? d.reason : null).toBe('record 10 differs');
  });

  it('handles fewer files than workers, and none', async () => {
    expect((await verifyReplayFiles(goldens.slice(0, 1), { workers: 2 })).map((v) => v.ok)).toEqual(
      [true],
    );
    expect(await verifyReplayFiles([], { workers: 2 })).toEqual([]);
  });
});

describe('tooltime replay verify --workers', () => {
  it('prints verdicts in input order; a bad file is one line on stderr, the others verified, exit 1', () => {
    const junk = join(tmp, 'junk.ttr');
    writeFileSync(junk, 'hello, not a replay');
    const files = [goldens[0]!, junk, ...goldens.slice(1, 6)];
    const r = spawnSync(process.execPath, [main, 'replay', 'verify', '--workers', '2', ...files], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`tooltime: ${junk}: not a tooltime replay (bad magic bytes)\n`);
    const ok = r.stdout.trim().split('\n');
    expect(ok.map((l) => l.split(': ok (')[0])).toEqual(files.filter((f) => f !== junk));
    const good = spawnSync(
      process.execPath,
      [main, 'replay', 'verify', '--workers', '2', ...goldens],
      { cwd: root, encoding: 'utf8' },
    );
    expect(good.status).toBe(0);
    expect(good.stdout.trim().split('\n')).toHaveLength(goldens.length);
    expect(
      spawnSync(process.execPath, [main, 'replay', 'verify', '--workers', 'two', goldens[0]!], {
        cwd: root,
        encoding: 'utf8',
      }).status,
    ).not.toBe(0);
  });
});
