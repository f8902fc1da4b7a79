/**
 * The system prompt: one versioned file (`prompts/<PROMPT_VERSION>.md`) read at run time, so the
 * exact text a model saw is named by its version in every decision note and replay.
 *
 * Lines tagged `[async]`, `[push]`, `[poll]` or `[sync]` apply only to that setting (`[push]` and
 * `[poll]` only in async mode); the tag is removed. Untagged lines always apply. The prompt explains
 * the asynchronous setting and nothing of any scenario's expected plan.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../scenarios/package.js';
import type { Delivery, Mode } from '../../scenarios/protocol.js';

/** Bump when the prompt file changes meaning; a new version is a new file. */
export const PROMPT_VERSION = 'system-v1';

const texts = new Map<string, string>();

/** The raw prompt file of `version` (read once per process). */
export function promptFile(version: string = PROMPT_VERSION): string {
  let text = texts.get(version);
  if (text === undefined) {
    text = readFileSync(join(packageRoot(), 'agents', 'llm', 'prompts', `${version}.md`), 'utf8');
    texts.set(version, text);
  }
  return text;
}

/** The system prompt for a mode and delivery. */
export function systemPrompt(
  mode: Mode,
  delivery: Delivery,
  version: string = PROMPT_VERSION,
): string {
  const keep = new Set<string>(mode === 'sync' ? ['sync'] : ['async', delivery]);
  const lines: string[] = [];
  for (const line of promptFile(version).split('\n')) {
    const m = /^\[(async|push|poll|sync)\]/.exec(line);
    if (m === null) lines.push(line);
    else if (keep.has(m[1]!)) lines.push(line.slice(m[0].length));
  }
  return lines.join('\n').trim();
}
