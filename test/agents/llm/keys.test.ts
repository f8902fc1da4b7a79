/**
 * API keys never leave the process in any form. A server echoes the key it was sent, literally,
 * percent-encoded, as hex and inside base64 / base64url strings at each of the 3 byte alignments
 * (`Basic base64(user:KEY)`, `base64(Bearer KEY)`...), through every path: the error text of a
 * retried 500 and of a final 401, a 200 body that is not JSON (with the key across the point where
 * an error message is cut short), a 200 reply's text and tool arguments, a 500 for unparsable output,
 * and response headers. The built command line runs it with --cache and --out; no written file, no
 * stdout or stderr (run, inspect, verify) holds the key in any form, as found by an oracle that
 * decodes what it reads (independent of the scrubber).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base64Fragments, scrubText } from '../../../agents/llm/index.js';
import { MAIN, ROOT, modelEnv } from '../../support/cli.js';
import {
  chainModel,
  llamaParseError,
  startChatServer,
  type ChatRequest,
  type ChatServer,
  type ServerReply,
} from '../../support/llm-server.js';

const KEY = 'sk-proj-Lk3J9xQ2mVb7Rt8ZpW4nYc6';
const chain = join(ROOT, 'scenarios', 'examples', 'chain.json');

const b64 = (s: string) => Buffer.from(s).toString('base64');
const b64url = (s: string) => Buffer.from(s).toString('base64url');
const percent = (s: string) =>
  [...Buffer.from(s)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');

/** Every encoded form a server might echo: key bytes at byte alignments 0 ('ab:'), 1 ('Bearer '), 2 ('user:'). */
function forms(key: string): string[] {
  return [
    `key=${key}`,
    `basic=Basic ${b64(`user:${key}`)}`,
    `bearer64=${b64(`Bearer ${key}`)}`,
    `aligned0=${b64(`ab:${key}`)}`,
    `url64=${b64url(`user:${key}~?`)}`,
    `pct=${percent(key)}`,
    `PCT=${percent(key).toUpperCase()}`,
    `uri=${encodeURIComponent(key)}`,
    `hex=${Buffer.from(key).toString('hex')}`,
  ];
}

const echoes = (key: string): string => forms(key).join(' ');

/** True when `text` holds 8 consecutive characters of the key, literally or once decoded. */
function leaks(text: string, key: string): boolean {
  const pieces = Array.from({ length: key.length - 7 }, (_, i) => key.slice(i, i + 8));
  const holds = (t: string) => pieces.some((p) => t.includes(p));
  if (
    holds(text) ||
    holds(text.replace(/%([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16))))
  )
    return true;
  for (const run of text.match(/[A-Za-z0-9+/_-]{12,}={0,2}/g) ?? []) {
    for (let shift = 0; shift < 4; shift++)
      if (
        holds(
          Buffer.from(
            run.slice(shift).replaceAll('-', '+').replaceAll('_', '/'),
            'base64',
          ).toString('latin1'),
        )
      )
        return true;
  }
  for (const run of text.match(/[0-9a-f]{16,}/gi) ?? []) {
    for (let shift = 0; shift < 2; shift++)
      if (holds(Buffer.from(run.slice(shift), 'hex').toString('latin1'))) return true;
  }
  return false;
}

function run(
  args: readonly string[],
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = modelEnv(KEY);
    const child = spawn(process.execPath, [MAIN, ...args], { cwd: ROOT, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** A reply of chainModel with the key echoed in its text, its answer and its headers. */
function echoing(r: ChatRequest, echo: string): ServerReply {
  const reply = chainModel(r);
  const msg = (
    reply.json as {
      choices: Array<{
        message: {
          content: string | null;
          tool_calls?: Array<{ function: { name: string; arguments: string } }>;
        };
      }>;
    }
  ).choices[0]!.message;
  msg.content = `echo: ${echo}`;
  for (const c of msg.tool_calls ?? [])
    if (c.function.name === 'answer')
      c.function.arguments = JSON.stringify({
        task_id: 't1',
        answer: `Booked UA-512, booking BK-7731; ${echo}`,
      });
  return { ...reply, headers: { 'x-echo': echo } };
}

let server: ChatServer;
beforeAll(async () => {
  const hits = new Map<number, number>();
  server = await startChatServer((r) => {
    const key = String(r.headers.authorization).replace(/^Bearer /, '');
    const echo = echoes(key);
    const seed = Number(r.body.seed);
    const n = hits.get(seed) ?? 0;
    hits.set(seed, n + 1);
    const headers = { 'x-echo': echo, 'retry-after-ms': '1' };
    if (seed === 2)
      return {
        status: 401,
        headers,
        json: {
          error: { message: `Incorrect API key provided: ${echo}`, type: 'invalid_request_error' },
        },
      };
    if (seed === 1 && n === 0)
      return { status: 500, headers, json: { error: { message: `upstream failed for ${echo}` } } };
    // The key straddles character 200 of the body, where the error message used to be cut.
    if (seed === 1 && n === 1)
      return { status: 200, headers, raw: `${'<'.repeat(190)}${key}>${echo}` };
    if (seed === 3 && n === 0)
      return {
        ...llamaParseError(
          `The model produced output that does not match the expected format: ${echo}`,
        ),
        headers,
      };
    return echoing(r, echo);
  });
});
afterAll(async () => {
  await server.close();
});

describe('API keys in every encoded form, through every path', () => {
  it('the oracle finds each form in what the server sends, and the scrubber removes each', () => {
    const echo = echoes(KEY);
    for (const form of forms(KEY)) expect(leaks(form, KEY), form).toBe(true);
    expect(leaks(`${'<'.repeat(190)}${KEY}`.slice(0, 220), KEY)).toBe(true);
    const scrubbed = scrubText(echo, [KEY]);
    expect(leaks(scrubbed, KEY), scrubbed).toBe(false);
    expect(scrubbed).toContain('aligned0=[REDACTED]');
    // Each alignment's fragment depends on the key alone, and is found inside a larger base64 string.
    for (const f of base64Fragments(KEY))
      expect(f.length).toBeGreaterThanOrEqual(Math.floor((KEY.length * 4) / 3) - 3);
  });

  it('no output file, stdout or stderr holds the key (run with --cache and --out, inspect, verify)', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tooltime-llm-keyforms-'));
    const r = await run([
      'run',
      chain,
      '-a',
      'openai:test-model',
      '--seeds',
      '1..3',
      '--base-url',
      server.url,
      '--max-retries',
      '2',
      '--cache',
      join(out, 'cache'),
      '--out',
      join(out, 'results'),
    ]);
    expect(r.stdout).toMatch(
      /errored: example-chain seed 2 \(openai:test-model\): model request failed: 401 Incorrect API key provided: key=\[REDACTED\]/,
    );
    const episodes = readFileSync(join(out, 'results', 'episodes.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(episodes.map((e) => e.endReason)).toEqual(['completed', 'errored', 'completed']);
    expect(episodes[0].usage.retries).toBe(2);
    expect(episodes[2].usage.issues).toEqual({ unparsed_output: 1 });
    const replays = join(out, 'results', 'replays');
    const inspect = await run([
      'replay',
      'inspect',
      join(replays, 'example-chain--openai_test-model--seed1.ttr'),
      '--format',
      'jsonl',
    ]);
    const verify = await run(['replay', 'verify', replays]);
    expect(verify.stdout.trim().split('\n')).toHaveLength(3);
    const texts: Array<[string, string]> = [
      ['run stdout', r.stdout],
      ['run stderr', r.stderr],
      ['inspect', inspect.stdout + inspect.stderr],
      ['verify', verify.stdout + verify.stderr],
    ];
    for (const f of readdirSync(out, { recursive: true, withFileTypes: true }))
      if (f.isFile()) texts.push([f.name, readFileSync(join(f.parentPath, f.name), 'latin1')]);
    expect(texts.length).toBeGreaterThan(10);
    for (const [name, text] of texts) expect(leaks(text, KEY), name).toBe(false);
    // What was echoed is there, scrubbed: the cache holds the answer with its forms redacted.
    const cached = readdirSync(join(out, 'cache'))
      .map((f) => readFileSync(join(out, 'cache', f), 'utf8'))
      .join('\n');
    expect(cached).toContain('aligned0=[REDACTED]');
  });
});
