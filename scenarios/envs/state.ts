/**
 * What the world, scoring and replays share about environment states: their digest (what a
 * replay records at each stateful completion, so `replay verify` sees a state that diverged) and
 * JSON pointers into them (RFC 6901: what goals name).
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../spec/canonical.js';
import type { JsonValue } from '../spec/schema.js';

/** Hex digits of a state digest: 64 bits, plenty to tell two states of one episode apart. */
export const DIGEST_HEX = 16;

/**
 * Bytes of canonical JSON an instance's state may reach during an episode; a write that would pass
 * it is refused (InstanceStates.apply). Every write hashes the whole state, so without a bound a
 * run of large writes costs the square of their number: the file system alone allows 4,096 entries
 * of 65,536 characters. Four times the initial-state limit (256 KiB, validate-stateful.ts).
 */
export const MAX_STATE_BYTES = 1024 * 1024;

/** SHA-256 of the state's canonical JSON, its first DIGEST_HEX hex digits. */
export function stateDigest(state: JsonValue): string {
  return textDigest(canonicalJson(state));
}

/** stateDigest of a state whose canonical JSON is `text`. */
export function textDigest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, DIGEST_HEX);
}

/** The tokens of a JSON pointer (`/a/b~1c` -> [a, b/c]), or null when it is not one. */
export function pointerTokens(pointer: string): string[] | null {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) return null;
  const tokens = pointer.slice(1).split('/');
  if (tokens.some((t) => /~[^01]|~$/.test(t))) return null;
  return tokens.map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/** The value `pointer` points at in `value`, or undefined when there is none. */
export function valueAtPointer(value: JsonValue, pointer: string): JsonValue | undefined {
  const tokens = pointerTokens(pointer);
  if (tokens === null) return undefined;
  let v: JsonValue | undefined = value;
  for (const t of tokens) {
    if (v === null || typeof v !== 'object') return undefined;
    if (Array.isArray(v)) {
      if (!/^(0|[1-9][0-9]*)$/.test(t)) return undefined;
      v = v[Number(t)];
    } else v = Object.hasOwn(v, t) ? v[t] : undefined;
  }
  return v;
}
