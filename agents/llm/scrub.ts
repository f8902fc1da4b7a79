/**
 * Keeping API keys out of everything written: notes, replays, results, caches, error messages.
 * The request body never holds the key (the SDK sends it as a header); what could still carry it is
 * text coming back (a server echoing headers in an error or a reply). `scrubText` replaces every
 * occurrence of a secret and any `Authorization: ...` / `Bearer ...` credential; `scrubJson` does
 * it in every string (and key) of a JSON value. The transport scrubs what it returns, before
 * anything is cut short, so the agent never holds a secret and what it records is what it saw.
 *
 * A secret is found in the forms a server may echo it in:
 * - literally;
 * - percent-encoded, wholly or in part, hex digits in either case (`sk%2Dab`, `%73%6B-ab`);
 * - base64 or base64url, alone or inside a larger encoded string (`Basic base64(user:KEY)`,
 *   `base64(Bearer KEY)`): the key's bytes may start at any of the 3 byte alignments of the
 *   encoding, so each alignment's characters that depend on the key alone are searched for, and the
 *   whole encoded run around a match is replaced (its other characters would give bits of the key);
 * - as hex, in either case.
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
/** The characters of a base64 or base64url run (padding aside: "=" only ends one, so "name=" before it stays). */
const BASE64_CHAR = /[A-Za-z0-9+/_-]/;

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const hexByte = (b: number): string => b.toString(16).padStart(2, '0');
const eitherCase = (s: string): string =>
  [...s].map((c) => (/[a-f]/i.test(c) ? `[${c.toLowerCase()}${c.toUpperCase()}]` : c)).join('');

/** A pattern matching the secret with any of its bytes percent-encoded (either hex case), or as hex. */
function textPattern(secret: string): string {
  const bytes = [...Buffer.from(secret, 'utf8')];
  const ascii = bytes.every((b) => b < 0x80);
  const percent = ascii
    ? bytes
        .map((b) => `(?:${escapeRegExp(String.fromCharCode(b))}|%${eitherCase(hexByte(b))})`)
        .join('')
    : escapeRegExp(secret);
  return `${percent}|${eitherCase(bytes.map(hexByte).join(''))}`;
}

/**
 * The base64 characters that depend on the secret's bytes alone, at each byte alignment `a` (the
 * number of bytes before it in its group of 3), in standard and url-safe alphabets.
 */
export function base64Fragments(secret: string): string[] {
  const key = Buffer.from(secret, 'utf8');
  const out = new Set<string>();
  for (let a = 0; a < 3; a++) {
    const padded = Buffer.concat([Buffer.alloc(a), key, Buffer.alloc(2)]);
    const b64 = padded.toString('base64');
    // Character i holds bits [6i, 6i + 6) of the padded bytes: keep those within the key's bits.
    const fragment = b64.slice(Math.ceil((8 * a) / 6), Math.floor((8 * (a + key.length)) / 6));
    out.add(fragment);
    out.add(fragment.replaceAll('+', '-').replaceAll('/', '_'));
  }
  return [...out];
}

interface Matcher {
  readonly text: RegExp;
  readonly base64: RegExp;
}

const matchers = new Map<string, Matcher>();

function matcherOf(secret: string): Matcher {
  let m = matchers.get(secret);
  if (m === undefined) {
    m = {
      text: new RegExp(textPattern(secret), 'g'),
      base64: new RegExp(base64Fragments(secret).map(escapeRegExp).join('|'), 'g'),
    };
    matchers.set(secret, m);
  }
  return m;
}

/** `text` with the encoded run around each match of `fragment` replaced. */
function replaceBase64Runs(text: string, fragment: RegExp): string {
  let out = text;
  for (let guard = 0; guard < 1_000; guard++) {
    fragment.lastIndex = 0;
    const hit = fragment.exec(out);
    if (hit === null) return out;
    let start = hit.index;
    let end = hit.index + hit[0].length;
    while (start > 0 && BASE64_CHAR.test(out[start - 1]!)) start--;
    while (end < out.length && BASE64_CHAR.test(out[end]!)) end++;
    for (let pad = 0; pad < 2 && out[end] === '='; pad++) end++;
    out = `${out.slice(0, start)}${REDACTED}${out.slice(end)}`;
  }
  // Each round removes a match and adds none ("[REDACTED]" holds no fragment), so this is unreachable.
  throw new Error('scrub: too many encoded secrets in one text');
}

/** Every form of the secrets (literal, percent-encoded, base64, hex) out of `text`. */
export function replaceSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) {
    if (s.length < MIN_SECRET_LENGTH) continue;
    const m = matcherOf(s);
    out = replaceBase64Runs(out.replace(m.text, REDACTED), m.base64);
  }
  return out;
}

export function scrubText(text: string, secrets: readonly string[]): string {
  return replaceSecrets(text, secrets)
    .replace(AUTH, `$1${REDACTED}`)
    .replace(BEARER, `Bearer ${REDACTED}`);
}

function mapStrings(value: JsonValue, f: (s: string) => string): JsonValue {
  if (typeof value === 'string') return f(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, f));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(value))
      Object.defineProperty(out, f(k), {
        value: mapStrings(v, f),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    return out;
  }
  return value;
}

/** Secrets and credential patterns out of every string of a JSON value. */
export function scrubJson(value: JsonValue, secrets: readonly string[]): JsonValue {
  return mapStrings(value, (s) => scrubText(s, secrets));
}

/** Only the secrets (in every form) out of a JSON value: a last line of defence on notes and cache files, where the credential patterns could alter legitimate text. */
export function redactSecrets(value: JsonValue, secrets: readonly string[]): JsonValue {
  const live = secrets.filter((s) => s.length >= MIN_SECRET_LENGTH);
  if (live.length === 0) return value;
  const text = JSON.stringify(value);
  return replaceSecrets(text, live) !== text
    ? mapStrings(value, (s) => replaceSecrets(s, live))
    : value;
}
