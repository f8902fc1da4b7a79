/**
 * Measured request latencies, kept out of what a run promises to reproduce.
 *
 * A replay, `episodes.jsonl` and `summary.json` must depend on the model's responses alone, so that
 * two runs of one command against a deterministic server are byte-identical. The wall time a
 * request took is not such a thing: under `--think tokens` (the default) it decides nothing in the
 * simulation, so it is not recorded in the note (`latencyMs: null`); the command line reports the
 * total in run.json instead. Under `--think wall` it is the turn's think time, so the note must
 * hold it for a replay to re-run the turn exactly: such runs are not reproducible by nature.
 */
import type { Exchange, Transport } from './transport.js';

/** Live requests whose latency was measured, and their total wall time. */
export interface LatencyStats {
  requests: number;
  totalMs: number;
}

/** Counts the latency of every exchange `inner` measured into `stats`; the exchange is unchanged. */
export function tallyingLatency(inner: Transport, stats: LatencyStats): Transport {
  return {
    async send(body) {
      const exchange = await inner.send(body);
      if (exchange.latencyMs !== null) {
        stats.requests++;
        stats.totalMs += exchange.latencyMs;
      }
      return exchange;
    },
  };
}

/** `inner`'s exchanges with no latency: what the notes record when think time is from tokens. */
export function withoutLatency(inner: Transport): Transport {
  return {
    async send(body): Promise<Exchange> {
      const exchange = await inner.send(body);
      return exchange.latencyMs === null ? exchange : { ...exchange, latencyMs: null };
    },
  };
}
