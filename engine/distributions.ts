/**
 * Duration distributions: JSON specs, validation, and samplers.
 *
 * A spec is plain JSON (scenario files carry them); every duration parameter is a real number of
 * milliseconds. `compileDistribution` validates a spec and returns a sampler; `sample` draws a real
 * number of milliseconds `x` and returns `roundUs(min(x, MAX_SAMPLE_MS) * 1000)`: an integer number of
 * microseconds, rounded once, by the project's rule.
 *
 * Exact semantics per kind (u is one `stream.double()`, uniform in [0, 1)):
 *   constant     x = ms                                                              0 draws
 *   uniform      x = minMs + u * (maxMs - minMs)                                     1 draw
 *   normal       N(meanMs, sdMs) conditioned on x >= 0, by inverse CDF:              1 draw
 *                x = meanMs + sdMs * Phi^-1(Phi(-meanMs/sdMs) + u * (1 - Phi(-meanMs/sdMs))).
 *                meanMs >= 0 keeps at least half the mass, so the mapping stays accurate.
 *   lognormal    x = exp(mu + sigma * Phi^-1(u)); the median form sets mu = ln(medianMs),   1 draw
 *                sigma = ln(p95Ms / medianMs) / Phi^-1(0.95).
 *   exponential  x = -meanMs * ln(1 - u)                                             1 draw
 *   gamma        Marsaglia-Tsang (2000): 2 draws per attempt (a normal by inverse CDF, then a
 *                uniform); an attempt is accepted with probability >= 0.95, at most 32 attempts
 *                (if all are rejected, p < 1e-40, x is the mode-like value d*scale). shape < 1
 *                samples shape + 1 and multiplies by u^(1/shape): one more draw.
 *   pareto       x = scaleMs * (1 - u * F(capMs))^(-1/alpha): the Pareto law truncated (not
 *                clamped) to [scaleMs, capMs]; F(cap) = 1 without a cap.              1 draw
 *   empirical    samplesMs: one of the samples, each with probability 1/n.            1 draw
 *                quantiles: the piecewise-linear inverse CDF through the (p, ms) points. 1 draw
 *   mixture      one draw picks component i with probability weight_i / sum(weights),
 *                then that component samples.                         1 + the component's draws
 *   shift        x = minMs + (a sample of dist)                              the inner draws
 *
 * Phi^-1 is Acklam's rational approximation (relative error < 1.15e-9); p is clamped into
 * [2^-53, 1 - 2^-53] so the tails stay finite (|z| < 8.3). Samples above MAX_SAMPLE_MS (about 11.6
 * days) are clamped to it, so a pathological heavy tail cannot overflow simulated time; `meanUs`
 * ignores that ceiling. `minUs` is an exact lower bound: every step above is monotone in floating
 * point, so no sample is below the sampler evaluated at its smallest input.
 */
import { z } from 'zod';
import type { RandomStream } from './random.js';
import { clampP, normalCdf, normalQuantile } from './normal.js';
import { roundUs, US_PER_MS } from './time.js';

/** Ceiling on every sampled duration and on every millisecond parameter. */
export const MAX_SAMPLE_MS = 1e9;
export const MAX_SAMPLE_US = MAX_SAMPLE_MS * US_PER_MS;
/** Most mixture/shift combinators allowed on any path from the root of a spec. */
export const MAX_NESTING = 8;
const GAMMA_MAX_ATTEMPTS = 32;
const Z95 = 1.6448536269514722;

/**
 * A latency distribution as a scenario writes it (milliseconds): constant, uniform, normal,
 * lognormal, exponential, gamma, pareto, empirical, or a mixture or shift of others. Samples are
 * integer µs, never negative, capped at 1e9 ms.
 */
export type DistributionSpec =
  | { readonly kind: 'constant'; readonly ms: number }
  | { readonly kind: 'uniform'; readonly minMs: number; readonly maxMs: number }
  | { readonly kind: 'normal'; readonly meanMs: number; readonly sdMs: number }
  | { readonly kind: 'lognormal'; readonly mu: number; readonly sigma: number }
  | { readonly kind: 'lognormal'; readonly medianMs: number; readonly p95Ms: number }
  | { readonly kind: 'exponential'; readonly meanMs: number }
  | { readonly kind: 'gamma'; readonly shape: number; readonly scaleMs: number }
  | {
      readonly kind: 'pareto';
      readonly scaleMs: number;
      readonly alpha: number;
      readonly capMs?: number;
    }
  | { readonly kind: 'empirical'; readonly samplesMs: readonly number[] }
  | {
      readonly kind: 'empirical';
      readonly quantiles: ReadonlyArray<{ readonly p: number; readonly ms: number }>;
    }
  | {
      readonly kind: 'mixture';
      readonly components: ReadonlyArray<{
        readonly weight: number;
        readonly dist: DistributionSpec;
      }>;
    }
  | { readonly kind: 'shift'; readonly minMs: number; readonly dist: DistributionSpec };

/** The `kind` of a DistributionSpec. */
export type DistributionKind = DistributionSpec['kind'];
export const DISTRIBUTION_KINDS: readonly DistributionKind[] = [
  'constant',
  'uniform',
  'normal',
  'lognormal',
  'exponential',
  'gamma',
  'pareto',
  'empirical',
  'mixture',
  'shift',
];

// ---- Schema. Single-field ranges live here (so the published JSON Schema carries them); rules that
// relate fields (minMs <= maxMs, quantile order, nesting depth) live in checkDistribution.

const msField = z.number().min(0).max(MAX_SAMPLE_MS);
const positiveMsField = z.number().positive().max(MAX_SAMPLE_MS);
const positiveField = z.number().positive();

const constantSchema = z.strictObject({
  kind: z.literal('constant').describe('Always the same value.'),
  ms: msField.describe('The value (ms).'),
});
const uniformSchema = z.strictObject({
  kind: z.literal('uniform').describe('Uniform between two values.'),
  minMs: msField.describe('Lower end (ms).'),
  maxMs: msField.describe('Upper end (ms), at least minMs.'),
});
const normalSchema = z.strictObject({
  kind: z.literal('normal').describe('Normal, conditioned on x >= 0.'),
  meanMs: msField.describe('Mean (ms).'),
  sdMs: positiveMsField.describe('Standard deviation (ms).'),
});
const lognormalMuSchema = z.strictObject({
  kind: z
    .literal('lognormal')
    .describe('Lognormal by the parameters of the underlying normal (of ln ms).'),
  mu: z.number().describe('Mean of ln(ms).'),
  sigma: positiveField.describe('Standard deviation of ln(ms).'),
});
const lognormalMedianSchema = z.strictObject({
  kind: z.literal('lognormal').describe('Lognormal by its median and 95th percentile.'),
  medianMs: positiveMsField.describe('Median (ms).'),
  p95Ms: positiveMsField.describe('95th percentile (ms), above the median.'),
});
const exponentialSchema = z.strictObject({
  kind: z.literal('exponential').describe('Exponential.'),
  meanMs: positiveMsField.describe('Mean (ms).'),
});
const gammaSchema = z.strictObject({
  kind: z.literal('gamma').describe('Gamma.'),
  shape: positiveField.describe('Shape k.'),
  scaleMs: positiveMsField.describe('Scale theta (ms); the mean is shape x scale.'),
});
const paretoSchema = z.strictObject({
  kind: z.literal('pareto').describe('Pareto (heavy tail).'),
  scaleMs: positiveMsField.describe('Scale: the smallest value (ms).'),
  alpha: positiveField.describe('Tail index: smaller is heavier.'),
  capMs: positiveMsField
    .exactOptional()
    .describe(
      'Upper end (ms): the law is truncated (not clamped) to [scaleMs, capMs]. Absent: no cap.',
    ),
});
const empiricalSamplesSchema = z.strictObject({
  kind: z.literal('empirical').describe('Drawn from observed values.'),
  samplesMs: z
    .array(msField)
    .min(1)
    .describe('Observed values (ms); each is drawn with equal probability.'),
});
const empiricalQuantilesSchema = z.strictObject({
  kind: z.literal('empirical').describe('Interpolated between quantiles.'),
  quantiles: z
    .array(
      z.strictObject({
        p: z.number().min(0).max(1).describe('Cumulative probability.'),
        ms: msField.describe('The value at that probability (ms).'),
      }),
    )
    .min(2)
    .describe(
      'Points of the distribution function, from p = 0 to p = 1, increasing; linear between them.',
    ),
});
// Shallow forms check one level; checkDistribution recurses into `dist` itself to track depth.
const mixtureShallowSchema = z.strictObject({
  kind: z.literal('mixture'),
  components: z
    .array(z.strictObject({ weight: positiveField, dist: z.unknown().optional() }))
    .min(1),
});
const shiftShallowSchema = z.strictObject({
  kind: z.literal('shift'),
  minMs: msField,
  dist: z.unknown().optional(),
});

/**
 * The JSON form of a distribution (a latency or a think time). Registered under the id
 * `distribution`, so the published JSON Schema names it in `$defs` and refers to it recursively.
 */
export const distributionSpecSchema: z.ZodType<DistributionSpec> = z
  .union([
    constantSchema,
    uniformSchema,
    normalSchema,
    lognormalMuSchema,
    lognormalMedianSchema,
    exponentialSchema,
    gammaSchema,
    paretoSchema,
    empiricalSamplesSchema,
    empiricalQuantilesSchema,
    // Getters defer the self-reference until zod walks the schema (zod 4's recursion idiom).
    z
      .strictObject({
        kind: z.literal('mixture').describe('A weighted mixture of distributions.'),
        get components() {
          return z
            .array(
              z.strictObject({
                weight: positiveField.describe('Relative weight of this component.'),
                dist: distributionSpecSchema.describe('The component.'),
              }),
            )
            .min(1)
            .describe('The components; one is picked by weight, then sampled.');
        },
      })
      .meta({ id: 'mixtureDistribution', description: 'A weighted mixture of distributions.' }),
    z
      .strictObject({
        kind: z.literal('shift').describe('Another distribution moved right.'),
        minMs: msField.describe('Added to every sample (ms): the smallest value.'),
        get dist(): z.ZodType<DistributionSpec> {
          return distributionSpecSchema.describe('The distribution shifted.');
        },
      })
      .meta({ id: 'shiftDistribution', description: 'Another distribution moved right by minMs.' }),
  ])
  .meta({
    id: 'distribution',
    description:
      'A distribution of durations in ms, chosen by `kind`; every sample becomes whole µs in the world.',
  });

// ---- Validation.

/** One thing wrong with a distribution spec: where (a dotted path) and what. */
export type DistributionProblem = { path: string; message: string };

/** A distribution spec that does not compile: the first problem, with its path. */
export class DistributionError extends Error {
  override name = 'DistributionError';
  readonly path: string;
  constructor(path: string, message: string) {
    super(path === '' ? message : `${path}: ${message}`);
    this.path = path;
  }
}

/**
 * How a value must compare with a bound a zod `too_small` / `too_big` issue names: `at least`,
 * `greater than`, `at most`, `less than` (the one wording of the distribution and scenario checks).
 */
export function boundWords(tooSmall: boolean, inclusive: boolean | undefined): string {
  if (tooSmall) return inclusive ? 'at least' : 'greater than';
  return inclusive ? 'at most' : 'less than';
}

/** Every problem with `spec`, shape and semantics; an empty array means it compiles. */
export function checkDistribution(spec: unknown): DistributionProblem[] {
  const out: DistributionProblem[] = [];
  checkNode(spec, '', 0, out);
  return out;
}

function joinPath(base: string, rest: string): string {
  if (base === '') return rest;
  if (rest === '' || rest.startsWith('[')) return base + rest;
  return `${base}.${rest}`;
}

function pathOf(keys: ReadonlyArray<PropertyKey>): string {
  let s = '';
  for (const k of keys) s = typeof k === 'number' ? `${s}[${k}]` : joinPath(s, String(k));
  return s;
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'an array';
  if (v !== null && typeof v === 'object') return 'an object';
  return String(v);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const SINGLE_FORM: Partial<Record<DistributionKind, z.ZodType>> = {
  constant: constantSchema,
  uniform: uniformSchema,
  normal: normalSchema,
  exponential: exponentialSchema,
  gamma: gammaSchema,
  pareto: paretoSchema,
  mixture: mixtureShallowSchema,
  shift: shiftShallowSchema,
};

/** The one-level schema for `spec`, or why none applies. Two-form kinds are told apart by their keys. */
function shallowSchema(kind: DistributionKind, spec: Record<string, unknown>): z.ZodType | string {
  if (kind === 'lognormal') {
    if ('mu' in spec || 'sigma' in spec) return lognormalMuSchema;
    if ('medianMs' in spec || 'p95Ms' in spec) return lognormalMedianSchema;
    return 'lognormal needs either mu and sigma, or medianMs and p95Ms';
  }
  if (kind === 'empirical') {
    if ('samplesMs' in spec) return empiricalSamplesSchema;
    if ('quantiles' in spec) return empiricalQuantilesSchema;
    return 'empirical needs either samplesMs or quantiles';
  }
  return SINGLE_FORM[kind]!;
}

function checkNode(
  spec: unknown,
  path: string,
  combinators: number,
  out: DistributionProblem[],
): void {
  const name = path === '' ? 'distribution' : path;
  if (spec === undefined) return void out.push({ path, message: `${name} is required` });
  if (!isRecord(spec))
    return void out.push({
      path,
      message: `${name} must be an object with a kind, got ${show(spec)}`,
    });
  const kind = spec.kind;
  if (!DISTRIBUTION_KINDS.includes(kind as DistributionKind)) {
    const message =
      kind === undefined
        ? 'kind is required'
        : `kind (${show(kind)}) is not one of ${DISTRIBUTION_KINDS.join(', ')}`;
    return void out.push({ path: joinPath(path, 'kind'), message });
  }
  const k = kind as DistributionKind;
  const isCombinator = k === 'mixture' || k === 'shift';
  // Bounds recursion (and so stack depth and sampling cost) even for cyclic or adversarial input.
  if (isCombinator && combinators >= MAX_NESTING) {
    return void out.push({
      path,
      message: `${k} is nested deeper than ${MAX_NESTING} mixture/shift levels`,
    });
  }
  const schema = shallowSchema(k, spec);
  if (typeof schema === 'string') return void out.push({ path, message: schema });
  const parsed = schema.safeParse(spec, { reportInput: true });
  if (parsed.success) checkSemantics(spec as unknown as DistributionSpec, path, out);
  else for (const issue of parsed.error.issues) pushIssue(issue, k, path, out);
  if (k === 'mixture' && Array.isArray(spec.components)) {
    spec.components.forEach((c: unknown, i) => {
      if (isRecord(c))
        checkNode(c.dist, joinPath(path, `components[${i}].dist`), combinators + 1, out);
    });
  } else if (k === 'shift') {
    checkNode(spec.dist, joinPath(path, 'dist'), combinators + 1, out);
  }
}

function pushIssue(
  issue: z.core.$ZodIssue,
  kind: DistributionKind,
  path: string,
  out: DistributionProblem[],
): void {
  const local = pathOf(issue.path);
  const at = joinPath(path, local);
  const v = issue.input;
  switch (issue.code) {
    case 'unrecognized_keys':
      for (const key of issue.keys) {
        out.push({
          path: joinPath(at, key),
          message: `${joinPath(local, key)} is not a parameter of ${kind}`,
        });
      }
      return;
    case 'invalid_type': {
      const expected =
        issue.expected === 'number'
          ? 'a finite number'
          : `${issue.expected === 'array' ? 'an' : 'a'} ${issue.expected}`;
      const message =
        v === undefined ? `${local} is required` : `${local} must be ${expected}, got ${show(v)}`;
      return void out.push({ path: at, message });
    }
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const bound = Number(issue.code === 'too_small' ? issue.minimum : issue.maximum);
      if (issue.origin === 'array') {
        const n = Array.isArray(v) ? v.length : '?';
        const message = `${local} must have ${small ? 'at least' : 'at most'} ${bound} entr${bound === 1 ? 'y' : 'ies'}, got ${n}`;
        return void out.push({ path: at, message });
      }
      const rel = boundWords(small, issue.inclusive);
      return void out.push({ path: at, message: `${local} (${show(v)}) must be ${rel} ${bound}` });
    }
    default:
      out.push({ path: at, message: `${local === '' ? kind : local}: ${issue.message}` });
  }
}

function checkSemantics(spec: DistributionSpec, path: string, out: DistributionProblem[]): void {
  const bad = (at: string, message: string): void =>
    void out.push({ path: joinPath(path, at), message });
  switch (spec.kind) {
    case 'uniform':
      if (spec.minMs > spec.maxMs)
        bad('minMs', `minMs (${spec.minMs}) must be at most maxMs (${spec.maxMs})`);
      return;
    case 'lognormal':
      if ('medianMs' in spec && !(spec.p95Ms > spec.medianMs)) {
        bad('p95Ms', `p95Ms (${spec.p95Ms}) must be greater than medianMs (${spec.medianMs})`);
      }
      return;
    case 'pareto':
      if (spec.capMs !== undefined && !(spec.capMs > spec.scaleMs)) {
        bad('capMs', `capMs (${spec.capMs}) must be greater than scaleMs (${spec.scaleMs})`);
      }
      return;
    case 'empirical': {
      if (!('quantiles' in spec)) return;
      const q = spec.quantiles;
      const last = q.length - 1;
      if (q[0]!.p !== 0) bad('quantiles[0].p', `quantiles[0].p (${q[0]!.p}) must be 0`);
      if (q[last]!.p !== 1)
        bad(`quantiles[${last}].p`, `quantiles[${last}].p (${q[last]!.p}) must be 1`);
      for (let i = 1; i <= last; i++) {
        const a = q[i - 1]!;
        const b = q[i]!;
        if (!(b.p > a.p))
          bad(
            `quantiles[${i}].p`,
            `quantiles[${i}].p (${b.p}) must be greater than quantiles[${i - 1}].p (${a.p})`,
          );
        if (!(b.ms >= a.ms))
          bad(
            `quantiles[${i}].ms`,
            `quantiles[${i}].ms (${b.ms}) must be at least quantiles[${i - 1}].ms (${a.ms})`,
          );
      }
      return;
    }
    case 'mixture': {
      const total = spec.components.reduce((s, c) => s + c.weight, 0);
      if (!Number.isFinite(total))
        bad('components', `the sum of the weights (${total}) must be finite`);
      return;
    }
    default:
      return;
  }
}

// ---- Samplers. Each node samples real milliseconds; rounding happens once, at the top.

interface Node {
  readonly sampleMs: (stream: RandomStream) => number;
  /** Exact lower bound on sampleMs. */
  readonly minMs: number;
  /** Analytic mean; Infinity when it does not exist. */
  readonly meanMs: number;
}

function compileNode(spec: DistributionSpec): Node {
  switch (spec.kind) {
    case 'constant': {
      const ms = spec.ms;
      return { minMs: ms, meanMs: ms, sampleMs: () => ms };
    }
    case 'uniform': {
      const { minMs: lo } = spec;
      const width = spec.maxMs - lo;
      return { minMs: lo, meanMs: lo + width / 2, sampleMs: (s) => lo + s.double() * width };
    }
    case 'normal': {
      const { meanMs: m, sdMs: sd } = spec;
      const cut = normalCdf(-m / sd);
      const kept = 1 - cut;
      const pdf = Math.exp(-0.5 * (m / sd) ** 2) / Math.sqrt(2 * Math.PI);
      const sampleMs = (s: RandomStream): number => {
        const x = m + sd * normalQuantile(clampP(cut + s.double() * kept));
        return Math.max(x, 0); // only approximation error near the cut can dip below zero
      };
      return { minMs: 0, meanMs: m + (sd * pdf) / kept, sampleMs };
    }
    case 'lognormal': {
      const mu = 'mu' in spec ? spec.mu : Math.log(spec.medianMs);
      const sigma = 'mu' in spec ? spec.sigma : Math.log(spec.p95Ms / spec.medianMs) / Z95;
      return {
        minMs: 0,
        meanMs: Math.exp(mu + (sigma * sigma) / 2),
        sampleMs: (s) => Math.exp(mu + sigma * normalQuantile(clampP(s.double()))),
      };
    }
    case 'exponential': {
      const mean = spec.meanMs;
      return { minMs: 0, meanMs: mean, sampleMs: (s) => -mean * Math.log1p(-s.double()) };
    }
    case 'gamma':
      return gammaNode(spec.shape, spec.scaleMs);
    case 'pareto':
      return paretoNode(spec);
    case 'empirical':
      return empiricalNode(spec);
    case 'mixture':
      return mixtureNode(spec);
    case 'shift': {
      const inner = compileNode(spec.dist);
      const shift = spec.minMs;
      return {
        minMs: shift + inner.minMs,
        meanMs: shift + inner.meanMs,
        sampleMs: (s) => shift + inner.sampleMs(s),
      };
    }
  }
}

/** A Pareto from its scale, optionally capped (its mass and mean below the cap). */
function paretoNode(spec: Extract<DistributionSpec, { kind: 'pareto' }>): Node {
  const { scaleMs: scale, alpha } = spec;
  const cap = spec.capMs ?? Infinity;
  const lnR = Math.log(cap / scale);
  const mass = spec.capMs === undefined ? 1 : -Math.expm1(-alpha * lnR); // F(cap)
  const invAlpha = 1 / alpha;
  let mean: number;
  if (spec.capMs === undefined) {
    mean = alpha > 1 ? (alpha * scale) / (alpha - 1) : Infinity;
  } else {
    // E = alpha*s/F(cap) * integral of (x/s)^-alpha d(x/s) over [1, cap/s]; the alpha = 1 limit is ln(cap/s).
    const g = Math.abs(1 - alpha) < 1e-9 ? lnR : Math.expm1((1 - alpha) * lnR) / (1 - alpha);
    mean = (alpha * scale * g) / mass;
  }
  // (1 - u*F)^(-1/alpha) in log space: exact where u*F is tiny (alpha -> 0 tends to log-uniform).
  const sampleMs = (s: RandomStream): number => {
    const x = scale * Math.exp(-Math.log1p(-s.double() * mass) * invAlpha);
    return Math.min(x, cap);
  };
  return { minMs: scale, meanMs: mean, sampleMs };
}

/** Samples drawn as given, or a quantile table interpolated linearly. */
function empiricalNode(spec: Extract<DistributionSpec, { kind: 'empirical' }>): Node {
  if ('samplesMs' in spec) {
    const xs = Float64Array.from(spec.samplesMs);
    const n = xs.length;
    return {
      minMs: xs.reduce((a, b) => Math.min(b, a), Infinity),
      meanMs: xs.reduce((a, b) => a + b, 0) / n,
      sampleMs: (s) => xs[Math.min(Math.floor(s.double() * n), n - 1)]!,
    };
  }
  const ps = Float64Array.from(spec.quantiles, (q) => q.p);
  const ms = Float64Array.from(spec.quantiles, (q) => q.ms);
  const k = ps.length;
  let mean = 0;
  for (let i = 1; i < k; i++) mean += ((ps[i]! - ps[i - 1]!) * (ms[i]! + ms[i - 1]!)) / 2;
  const sampleMs = (s: RandomStream): number => {
    const u = s.double();
    // Linear scan: quantile tables are short, and this is branch-predictable.
    for (let i = 1; i < k; i++) {
      const p1 = ps[i]!;
      if (u < p1) {
        const p0 = ps[i - 1]!;
        const m0 = ms[i - 1]!;
        return m0 + (ms[i]! - m0) * ((u - p0) / (p1 - p0));
      }
    }
    return ms[k - 1]!; // unreachable: the last p is 1 and u < 1
  };
  return { minMs: ms[0]!, meanMs: mean, sampleMs };
}

/** Components drawn by weight. */
function mixtureNode(spec: Extract<DistributionSpec, { kind: 'mixture' }>): Node {
  const kids = spec.components.map((c) => compileNode(c.dist));
  const total = spec.components.reduce((a, c) => a + c.weight, 0);
  const cum = new Float64Array(kids.length);
  let acc = 0;
  let mean = 0;
  spec.components.forEach((c, i) => {
    acc += c.weight / total;
    cum[i] = acc;
    mean += (c.weight / total) * kids[i]!.meanMs;
  });
  const last = kids.length - 1;
  const sampleMs = (s: RandomStream): number => {
    const u = s.double();
    // The last component takes whatever rounding left of the cumulative sum.
    for (let i = 0; i < last; i++) if (u < cum[i]!) return kids[i]!.sampleMs(s);
    return kids[last]!.sampleMs(s);
  };
  return {
    minMs: kids.reduce((a, k) => Math.min(k.minMs, a), Infinity),
    meanMs: mean,
    sampleMs,
  };
}

// Marsaglia & Tsang, "A simple method for generating gamma variables", ACM TOMS 26(3), 2000.
function gammaNode(shape: number, scale: number): Node {
  const boost = shape < 1;
  const d = (boost ? shape + 1 : shape) - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  const invShape = 1 / shape;
  return {
    minMs: 0,
    meanMs: shape * scale,
    sampleMs: (s) => {
      let g = d; // fallback when every attempt is rejected (probability < 1e-40)
      for (let attempt = 0; attempt < GAMMA_MAX_ATTEMPTS; attempt++) {
        const x = normalQuantile(clampP(s.double()));
        const u = s.double();
        const t = 1 + c * x;
        if (t <= 0) continue;
        const v = t * t * t;
        const x2 = x * x;
        // Cheap squeeze first; the log test is exact.
        if (u < 1 - 0.0331 * x2 * x2 || Math.log(u) < 0.5 * x2 + d * (1 - v + Math.log(v))) {
          g = d * v;
          break;
        }
      }
      if (boost) g *= s.double() ** invShape;
      return g * scale;
    },
  };
}

// ---- Public sampler.

/**
 * A compiled distribution (`compileDistribution`): samples integer microseconds from a stream,
 * with its minimum and analytic mean.
 */
export interface Distribution {
  readonly spec: DistributionSpec;
  /** An integer number of microseconds, >= minUs and <= MAX_SAMPLE_US. */
  sample(stream: RandomStream): number;
  /** No sample is smaller. */
  readonly minUs: number;
  /** Analytic mean in (real) microseconds, before rounding and the ceiling; null when infinite. */
  readonly meanUs: number | null;
}

class CompiledDistribution implements Distribution {
  readonly spec: DistributionSpec;
  readonly minUs: number;
  readonly meanUs: number | null;
  private readonly root: Node;

  constructor(spec: DistributionSpec, root: Node) {
    this.spec = spec;
    this.root = root;
    this.minUs = roundUs(Math.min(root.minMs, MAX_SAMPLE_MS) * US_PER_MS, 'distribution minimum');
    this.meanUs = Number.isFinite(root.meanMs) ? root.meanMs * US_PER_MS : null;
  }

  sample(stream: RandomStream): number {
    const ms = this.root.sampleMs(stream);
    // Written so NaN passes through to roundUs, which rejects it: a NaN is a sampler bug.
    return roundUs(Math.min(ms, MAX_SAMPLE_MS) * US_PER_MS, 'sampled duration');
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Validates `spec` (throwing DistributionError on the first problem) and returns its sampler. */
export function compileDistribution(spec: unknown): Distribution {
  const problems = checkDistribution(spec);
  const first = problems[0];
  if (first !== undefined) throw new DistributionError(first.path, first.message);
  // A private frozen copy: later edits to the caller's object cannot desync spec and sampler.
  const own = deepFreeze(structuredClone(spec) as DistributionSpec);
  return new CompiledDistribution(own, compileNode(own));
}

function num(x: number): string {
  return String(Number(x.toPrecision(6)));
}

/** Short human text, e.g. `lognormal(median 800ms, p95 4000ms)`. */
export function describeDistribution(spec: DistributionSpec): string {
  switch (spec.kind) {
    case 'constant':
      return `constant(${num(spec.ms)}ms)`;
    case 'uniform':
      return `uniform(${num(spec.minMs)}ms..${num(spec.maxMs)}ms)`;
    case 'normal':
      return `normal(mean ${num(spec.meanMs)}ms, sd ${num(spec.sdMs)}ms, truncated at 0)`;
    case 'lognormal':
      return 'mu' in spec
        ? `lognormal(mu ${num(spec.mu)}, sigma ${num(spec.sigma)})`
        : `lognormal(median ${num(spec.medianMs)}ms, p95 ${num(spec.p95Ms)}ms)`;
    case 'exponential':
      return `exponential(mean ${num(spec.meanMs)}ms)`;
    case 'gamma':
      return `gamma(shape ${num(spec.shape)}, scale ${num(spec.scaleMs)}ms)`;
    case 'pareto':
      return `pareto(scale ${num(spec.scaleMs)}ms, alpha ${num(spec.alpha)}${spec.capMs === undefined ? '' : `, cap ${num(spec.capMs)}ms`})`;
    case 'empirical':
      if ('samplesMs' in spec) return `empirical(${spec.samplesMs.length} samples)`;
      return `empirical(${spec.quantiles.length} quantiles, ${num(spec.quantiles[0]?.ms ?? 0)}ms..${num(spec.quantiles.at(-1)?.ms ?? 0)}ms)`;
    case 'mixture': {
      const total = spec.components.reduce((a, c) => a + c.weight, 0);
      return `mixture(${spec.components.map((c) => `${num((100 * c.weight) / total)}% ${describeDistribution(c.dist)}`).join(', ')})`;
    }
    case 'shift':
      return `${num(spec.minMs)}ms + ${describeDistribution(spec.dist)}`;
  }
}
