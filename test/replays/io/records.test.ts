/**
 * `replay inspect`, `replay diff` and `score` read a replay file a window at a time (issue 21: a
 * valid replay of 2 million records took inspect past its stack and diff to 35 s and 544 MB).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBigReplay } from '../../../bench/big-replay.js';
import {
  diffReplays,
  diffSources,
  encodeReplay,
  fileSource,
  makeHeader,
  formatChrome,
  formatJsonl,
  formatText,
  readReplay,
  ReplayError,
  summarizeReplay,
  summarizeSource,
  writeInspect,
} from '../../../replays/index.js';
import { MAIN, ROOT } from '../../support/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'tooltime-stream-'));
const big = join(tmp, 'big.ttr');
const other = join(tmp, 'other.ttr');
const RECORDS = 300_000;
let records = 0;

beforeAll(async () => {
  records = await writeBigReplay(big, RECORDS, 1);
  await writeBigReplay(other, 30_000, 2);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function collect(path: string, format: 'text' | 'jsonl' | 'chrome'): string {
  const parts: string[] = [];
  writeInspect(fileSource(path), format, (t) => parts.push(t));
  return parts.join('');
}

describe('reading a replay file a window at a time', () => {
  it('inspect, diff and score from a file say what they say from memory, byte for byte', () => {
    const read = readReplay(new Uint8Array(readFileSync(other)), { file: other });
    expect(collect(other, 'text')).toBe(formatText(read));
    expect(collect(other, 'jsonl')).toBe(formatJsonl(read));
    expect(collect(other, 'chrome')).toBe(formatChrome(read));
    expect(summarizeSource(fileSource(other))).toEqual(summarizeReplay(read));
    const bigRead = readReplay(new Uint8Array(readFileSync(big)), { file: big });
    expect(diffSources(fileSource(big), fileSource(other))).toEqual(diffReplays(bigRead, read));
  });

  it('a header and records larger than the 1 MiB window read the same from a file as from memory', () => {
    const read = readReplay(new Uint8Array(readFileSync(other)), { file: other });
    const scenario = { ...read.scenario, description: 'd'.repeat(3 << 20) };
    const note = { text: 'n'.repeat(1_500_000) };
    const events = read.events.map((e, i) =>
      e.type === 'decision_ended' && i % 5000 === 3 ? { ...e, note } : e,
    );
    const header = makeHeader({ scenario, agent: read.header.agent.spec, seed: read.header.seed });
    const bytes = encodeReplay(header, events, scenario);
    const wide = join(tmp, 'wide.ttr');
    writeFileSync(wide, bytes);
    expect(bytes.length).toBeGreaterThan(3 * (1 << 20) + 1_500_000);
    expect(
      events.filter((e) => e.type === 'decision_ended' && e.note === note).length,
    ).toBeGreaterThan(0);
    expect(collect(wide, 'jsonl')).toBe(formatJsonl(readReplay(bytes, { file: wide })));
    // Cut inside a large record: truncated there, from the file as from memory.
    const cut = join(tmp, 'wide-cut.ttr');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 1_000_000));
    const fromMemory = readReplay(bytes.subarray(0, bytes.length - 1_000_000), { file: cut });
    expect(fromMemory.problem).toMatch(/^truncated: record \d+ at byte \d+ is cut/);
    expect(fileSource(cut).end().problem).toBe(fromMemory.problem);
  });

  it('a corrupt record far into the file is the same one-line error as reading it whole', () => {
    const bytes = new Uint8Array(readFileSync(big));
    bytes[bytes.length - 1000]! ^= 0x10;
    const bad = join(tmp, 'bad.ttr');
    writeFileSync(bad, bytes);
    let whole = '';
    try {
      readReplay(bytes, { file: bad });
    } catch (error) {
      whole = (error as Error).message;
    }
    expect(whole).toMatch(/^.*bad\.ttr: record \d+ at byte \d+: /);
    expect(() => collect(bad, 'text')).toThrow(ReplayError);
    expect(() => collect(bad, 'text')).toThrow(whole);
    expect(() => summarizeSource(fileSource(bad))).toThrow(whole);
  });

  it(`inspect (text, jsonl) of ${RECORDS} records runs in a 40 MB heap`, () => {
    for (const format of ['text', 'jsonl']) {
      const r = spawnSync(
        process.execPath,
        [
          '--max-old-space-size=40',
          MAIN,
          'replay',
          'inspect',
          big,
          '--format',
          format,
          '--out',
          join(tmp, `big.${format}`),
        ],
        { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
      );
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
    const lines = readFileSync(join(tmp, 'big.text'), 'utf8').trimEnd().split('\n');
    expect(records).toBeGreaterThan(RECORDS - 10);
    expect(lines).toHaveLength(records + 2);
    expect(lines[1]).toMatch(new RegExp(`^# ${records} records, complete, sha256 `));
  });
});
