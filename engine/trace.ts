/**
 * Trace helpers: a stable digest of a run's event sequence, for determinism checks.
 *
 * The digest covers, for every event in run order, its time, priority, seq and label, plus the
 * payload when it is a string or a number (object payloads are the caller's to encode).
 */
import { createHash, type Hash } from 'node:crypto';
import type { Simulation, TraceRecord } from './simulation.js';

/**
 * A SHA-256 digest of a run's event sequence (time, priority, seq, label and scalar payloads), for
 * checking that two runs were the same: attach it to a simulation, compare `hex()`.
 */
export class TraceDigest {
  private readonly hash: Hash = createHash('sha256');
  count = 0;

  /** Attaches to `sim`; returns the detach function. */
  attach(sim: Simulation): () => void {
    return sim.onEvent((record) => this.add(record));
  }

  add(record: TraceRecord): void {
    const payload =
      typeof record.payload === 'string' || typeof record.payload === 'number'
        ? String(record.payload)
        : '';
    this.hash.update(
      `${record.timeUs},${record.priority},${record.seq},${record.label},${payload}\n`,
    );
    this.count++;
  }

  /** Hex SHA-256 of everything added so far (the digest object can keep going). */
  hex(): string {
    return this.hash.copy().digest('hex');
  }
}
