/**
 * Latency spec transforms used by the latency-variant operators: exact scaling of a distribution
 * and its heavy-tailed (Pareto) counterpart with the same mean.
 */
import type { DistributionSpec } from '../../engine/index.js';
import { meanMs, sig } from './model.js';

/**
 * The spec of `f * X` for X ~ `spec` (f > 0): every millisecond parameter times f (lognormal `mu`
 * plus ln f; `alpha`, `shape`, `sigma`, weights and quantile levels unchanged). Parameters are kept
 * to 6 significant digits.
 */
export function scaleSpec(spec: DistributionSpec, f: number): DistributionSpec {
  if (!(f > 0) || !Number.isFinite(f))
    throw new RangeError(`scale factor must be positive, got ${f}`);
  const m = (x: number): number => sig(x * f, 6);
  switch (spec.kind) {
    case 'constant':
      return { kind: 'constant', ms: m(spec.ms) };
    case 'uniform':
      return { kind: 'uniform', minMs: m(spec.minMs), maxMs: m(spec.maxMs) };
    case 'normal':
      return { kind: 'normal', meanMs: m(spec.meanMs), sdMs: m(spec.sdMs) };
    case 'lognormal':
      return 'mu' in spec
        ? { kind: 'lognormal', mu: sig(spec.mu + Math.log(f), 6), sigma: spec.sigma }
        : { kind: 'lognormal', medianMs: m(spec.medianMs), p95Ms: m(spec.p95Ms) };
    case 'exponential':
      return { kind: 'exponential', meanMs: m(spec.meanMs) };
    case 'gamma':
      return { kind: 'gamma', shape: spec.shape, scaleMs: m(spec.scaleMs) };
    case 'pareto':
      return spec.capMs === undefined
        ? { kind: 'pareto', scaleMs: m(spec.scaleMs), alpha: spec.alpha }
        : { kind: 'pareto', scaleMs: m(spec.scaleMs), alpha: spec.alpha, capMs: m(spec.capMs) };
    case 'empirical':
      return 'samplesMs' in spec
        ? { kind: 'empirical', samplesMs: spec.samplesMs.map(m) }
        : { kind: 'empirical', quantiles: spec.quantiles.map((q) => ({ p: q.p, ms: m(q.ms) })) };
    case 'mixture':
      return {
        kind: 'mixture',
        components: spec.components.map((c) => ({ weight: c.weight, dist: scaleSpec(c.dist, f) })),
      };
    case 'shift':
      return { kind: 'shift', minMs: m(spec.minMs), dist: scaleSpec(spec.dist, f) };
  }
}

/** Cap of the heavy-tailed variant, in multiples of the mean it keeps. */
export const HEAVY_TAIL_CAP_MEANS = 50;

/**
 * The heavy-tailed counterpart of `spec`: a Pareto law with tail index `alpha` whose untruncated
 * mean equals the mean of `spec` (scaleMs = mean * (alpha - 1) / alpha), truncated at 50 means. A
 * `shift` keeps its floor (`minMs`) and only its inner distribution becomes Pareto, so a physical
 * minimum stays a minimum. Parameters are kept to 4 significant digits.
 */
export function heavyTailSpec(spec: DistributionSpec, alpha: number): DistributionSpec {
  if (!(alpha > 1)) throw new RangeError(`alpha must be greater than 1, got ${alpha}`);
  if (spec.kind === 'shift')
    return { kind: 'shift', minMs: spec.minMs, dist: heavyTailSpec(spec.dist, alpha) };
  const mean = meanMs(spec);
  const scaleMs = sig((mean * (alpha - 1)) / alpha);
  return {
    kind: 'pareto',
    scaleMs,
    alpha,
    capMs: sig(Math.max(mean * HEAVY_TAIL_CAP_MEANS, scaleMs * 2)),
  };
}
