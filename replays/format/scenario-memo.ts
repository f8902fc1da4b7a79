/**
 * What replays remember of the scenarios they meet, bounded (with dictionary.ts's dictionaries).
 *
 * Every replay carries its whole scenario (~10 KB in a suite replay), the same in every episode of
 * it. Timed as whole commands on the default suite (6,480 episodes), with this memo taken out:
 * `tooltime run --out DIR` took 1.14x the CPU (each header encoding its scenario again) and
 * `tooltime replay verify DIR` 1.09x (the re-run's headers), 1.21x more (decoding each header's
 * scenario again) and then 2.0x more (validating it again). bench/RESULTS.md has the figures.
 *
 * - `encoded(doc)`: a canonical scenario document's encoding, by document object;
 * - `canonicalDoc(scenario)`: a scenario's canonical document, by scenario object, so that the
 *   headers of one scenario share one document (and so its encoding);
 * - `seen(bytes, start, limit)` / `remember(...)`: a header's scenario read before, found by its
 *   bytes (a CRC-32 probe of the first PROBE_BYTES, confirmed byte for byte): its document and its
 *   parse are not made again.
 *
 * Each holds at most MEMO_ENTRIES entries and drops the least recently used. Values are shared:
 * callers treat them as immutable, as they treat every scenario.
 */
import { canonicalize } from '../../scenarios/spec/canonical.js';
import type { JsonValue, Scenario } from '../../scenarios/spec/schema.js';
import { encodeJson } from './codec.js';
import { crc32, holdsAt } from './format.js';

/** Scenarios remembered per kind: a run meets one scenario at a time (its agents and seeds). */
const MEMO_ENTRIES = 64;
const PROBE_BYTES = 1024;

/** A map of at most `limit` entries that drops the least recently used. */
class Lru<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(private readonly limit: number) {}

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    if (this.entries.size >= this.limit) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, value);
  }

  /** `get(key)`, made by `make` on a miss. */
  getOr(key: K, make: () => V): V {
    let value = this.get(key);
    if (value === undefined) this.set(key, (value = make()));
    return value;
  }
}

/** A header's scenario read before: its bytes (a copy), its document and its parse. */
export interface SeenScenario {
  readonly bytes: Uint8Array;
  readonly doc: JsonValue;
  readonly scenario: Scenario;
}

const docs = new Lru<Scenario, JsonValue>(MEMO_ENTRIES);
const encodings = new Lru<object, Uint8Array>(MEMO_ENTRIES);
const read = new Lru<number, SeenScenario>(MEMO_ENTRIES);

/** `canonicalize(scenario)`, one document per scenario object. */
export function canonicalDoc(scenario: Scenario): JsonValue {
  return docs.getOr(scenario, () => canonicalize(scenario));
}

/** `encodeJson(doc)`, once per document object. */
export function encoded(doc: JsonValue): Uint8Array {
  if (doc === null || typeof doc !== 'object') return encodeJson(doc);
  return encodings.getOr(doc, () => encodeJson(doc));
}

function probe(bytes: Uint8Array, start: number, limit: number): number {
  return crc32(bytes, start, Math.min(limit, start + PROBE_BYTES));
}

/** The scenario read before whose bytes stand at `bytes[start, ...)`, within `limit`, if any. */
export function seen(bytes: Uint8Array, start: number, limit: number): SeenScenario | undefined {
  const hit = read.get(probe(bytes, start, limit));
  return hit !== undefined && start + hit.bytes.length <= limit && holdsAt(bytes, start, hit.bytes)
    ? hit
    : undefined;
}

/** Remembers the scenario whose bytes are `bytes[start, end)` (in a header ending at `limit`). */
export function remember(
  bytes: Uint8Array,
  start: number,
  end: number,
  limit: number,
  doc: JsonValue,
  scenario: Scenario,
): void {
  const copy = bytes.slice(start, end);
  read.set(probe(bytes, start, limit), { bytes: copy, doc, scenario });
  // A canonical encoding is the only one of its value: a re-run writes these very bytes.
  if (doc !== null && typeof doc === 'object') encodings.set(doc, copy);
}
