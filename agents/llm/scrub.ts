/**
 * Keeping API keys out of everything written: notes, replays, results, caches, error messages.
 * The request body never holds the key (the SDK sends it as a header); what could still carry it is
 * text coming back (a server echoing headers in an error or a reply). `scrubText` replaces every
 * occurrence of a secret and any `Authorization: ...` / `Bearer ...` credential; `scrubJson` does
 * it in every string (and key) of a JSON value. The transport scrubs what it returns, so the agent
 * never holds a secret and what it records is what it saw.
 */
import type { JsonValue } from '../../scenarios/spec/schema.js';

export const REDACTED = '[REDACTED]';

/**
 * Secrets shorter than this are not searched for: a placeholder key for a local server that needs
 * none ("none", "EMPTY", "ollama") is no secret, and replacing it would garble ordinary text.
 */
export const MIN_SECRET_LENGTH = 8;

const AUTH = /(authorization["']?\s*[:=]\s*["']?)(?:bearer\s+)?[^\s"',;}]+/gi;
const BEARER = /\bbearer\s+[A-Za-z0-9._~+/=-]{8,}/gi;

function replaceSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= MIN_SECRET_LENGTH) out = out.split(s).join(REDACTED);
  return out;
}

export function scrubText(text: string, secrets: readonly string[]): string {
  return replaceSecrets(text, secrets).replace(AUTH, `$1${REDACTED}`).replace(BEARER, `Bearer ${REDACTED}`);
}

function mapStrings(value: JsonValue, f: (s: string) => string): JsonValue {
  if (typeof value === 'string') return f(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, f));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(value)) Object.defineProperty(out, f(k), { value: mapStrings(v, f), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return value;
}

/** Secrets and credential patterns out of every string of a JSON value. */
export function scrubJson(value: JsonValue, secrets: readonly string[]): JsonValue {
  return mapStrings(value, (s) => scrubText(s, secrets));
}

/** Only the literal secrets out of a JSON value (a last line of defence on notes; patterns could alter legitimate text there). */
export function redactSecrets(value: JsonValue, secrets: readonly string[]): JsonValue {
  const live = secrets.filter((s) => s.length >= MIN_SECRET_LENGTH);
  if (live.length === 0) return value;
  const text = JSON.stringify(value);
  return live.some((s) => text.includes(s)) ? mapStrings(value, (s) => replaceSecrets(s, live)) : value;
}
