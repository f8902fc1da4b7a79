import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  checkDistribution,
  compileDistribution,
  describeDistribution,
  DistributionError,
  distributionSpecSchema,
  MAX_NESTING,
  MAX_SAMPLE_US,
  type Distribution,
  type DistributionSpec,
} from '../../engine/distributions.js';
import { normalCdf, normalQuantile } from '../../engine/normal.js';
import { RandomStreams, type RandomStream } from '../../engine/random.js';

const N = 200_000;

/** N samples in µs from a fresh seeded stream, checking the per-sample contract as it goes. */
function draw(dist: Distribution, n = N, seed: number | string = 42): Float64Array {
  const stream = new RandomStreams(seed).get('x');
  const out = new Float64Array(n);
  let bad = 0;
  for (let i = 0; i < n; i++) {
    const x = dist.sample(stream);
    if (!Number.isSafeInteger(x) || x < 0 || x < dist.minUs || x > MAX_SAMPLE_US) bad++;
    out[i] = x;
  }
  expect(bad).toBe(0);
  return out;
}

function mean(xs: Float64Array): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Empirical quantile of already-sorted data (nearest rank). */
function quantile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function maxOf(xs: Float64Array): number {
  return xs.reduce((a, b) => Math.max(b, a), -Infinity);
}

function minOf(xs: Float64Array): number {
  return xs.reduce((a, b) => Math.min(b, a), Infinity);
}

function relErr(actual: number, expected: number): number {
  return Math.abs(actual - expected) / Math.abs(expected);
}

type Case = {
  name: string;
  spec: DistributionSpec;
  /** Analytic values in ms, computed independently of the implementation. */
  mean?: number;
  median?: number;
  p95?: number;
  minUs: number;
  tol: number;
};

// Relative tolerance 2% unless stated; with n = 200k the sampling error is well under 1% here.
const cases: Case[] = [
  {
    name: 'constant',
    spec: { kind: 'constant', ms: 5 },
    mean: 5,
    median: 5,
    p95: 5,
    minUs: 5000,
    tol: 0,
  },
  {
    name: 'uniform',
    spec: { kind: 'uniform', minMs: 1, maxMs: 9 },
    mean: 5,
    median: 5,
    p95: 8.6,
    minUs: 1000,
    tol: 0.02,
  },
  // Truncation at 0 is negligible (5 sd away): the plain normal's moments.
  {
    name: 'normal',
    spec: { kind: 'normal', meanMs: 100, sdMs: 20 },
    mean: 100,
    median: 100,
    p95: 100 + 20 * 1.6448536269514722,
    minUs: 0,
    tol: 0.02,
  },
  // meanMs 0 truncated at 0 is the half-normal: mean sd*sqrt(2/pi), median sd*0.67449, p95 sd*1.95996.
  {
    name: 'half-normal',
    spec: { kind: 'normal', meanMs: 0, sdMs: 10 },
    mean: 10 * Math.sqrt(2 / Math.PI),
    median: 6.744897501960817,
    p95: 19.599639845400542,
    minUs: 0,
    tol: 0.02,
  },
  {
    name: 'lognormal mu/sigma',
    spec: { kind: 'lognormal', mu: 6.5, sigma: 0.4 },
    mean: Math.exp(6.5 + 0.08),
    median: Math.exp(6.5),
    p95: Math.exp(6.5 + 0.4 * 1.6448536269514722),
    minUs: 0,
    tol: 0.02,
  },
  {
    name: 'lognormal median/p95',
    spec: { kind: 'lognormal', medianMs: 800, p95Ms: 4000 },
    mean: 800 * Math.exp((Math.log(5) / 1.6448536269514722) ** 2 / 2),
    median: 800,
    p95: 4000,
    minUs: 0,
    tol: 0.03,
  },
  {
    name: 'exponential',
    spec: { kind: 'exponential', meanMs: 1000 },
    mean: 1000,
    median: 1000 * Math.LN2,
    p95: 1000 * Math.log(20),
    minUs: 0,
    tol: 0.02,
  },
  // Gamma(2, 1): median 1.678347, p95 4.743865. Gamma(0.5, 200) = 100 * chi-square(1): median 0.454936, p95 3.841459.
  {
    name: 'gamma shape 2',
    spec: { kind: 'gamma', shape: 2, scaleMs: 50 },
    mean: 100,
    median: 50 * 1.678346990016661,
    p95: 50 * 4.743864518,
    minUs: 0,
    tol: 0.02,
  },
  {
    name: 'gamma shape 0.5',
    spec: { kind: 'gamma', shape: 0.5, scaleMs: 200 },
    mean: 100,
    median: 100 * 0.454936423119572,
    p95: 100 * 3.841458820694124,
    minUs: 0,
    tol: 0.03,
  },
  {
    name: 'gamma shape 9',
    spec: { kind: 'gamma', shape: 9, scaleMs: 10 },
    mean: 90,
    minUs: 0,
    tol: 0.02,
  },
  // Pareto quantile: scale * (1 - p)^(-1/alpha).
  {
    name: 'pareto alpha 2.5',
    spec: { kind: 'pareto', scaleMs: 100, alpha: 2.5 },
    mean: (2.5 * 100) / 1.5,
    median: 100 * 2 ** 0.4,
    p95: 100 * 20 ** 0.4,
    minUs: 100_000,
    tol: 0.02,
  },
  {
    name: 'pareto alpha 1.5 (infinite variance)',
    spec: { kind: 'pareto', scaleMs: 100, alpha: 1.5 },
    median: 100 * 2 ** (2 / 3),
    p95: 100 * 20 ** (2 / 3),
    minUs: 100_000,
    tol: 0.02,
  },
  // Truncated to [100, 1000]: mean = alpha*s*(r^(1-alpha) - 1)/(1-alpha) / (1 - r^-alpha), r = 10 -> 211.83.
  {
    name: 'pareto capped',
    spec: { kind: 'pareto', scaleMs: 100, alpha: 1.5, capMs: 1000 },
    mean: (1.5 * 100 * ((10 ** -0.5 - 1) / -0.5)) / (1 - 10 ** -1.5),
    minUs: 100_000,
    tol: 0.02,
  },
  {
    name: 'empirical samples',
    spec: { kind: 'empirical', samplesMs: [1, 2, 3, 10] },
    mean: 4,
    minUs: 1000,
    tol: 0.02,
  },
  {
    name: 'empirical quantiles',
    spec: {
      kind: 'empirical',
      quantiles: [
        { p: 0, ms: 10 },
        { p: 0.5, ms: 40 },
        { p: 1, ms: 300 },
      ],
    },
    mean: 0.5 * 25 + 0.5 * 170,
    median: 40,
    p95: 40 + 0.9 * 260,
    minUs: 10_000,
    tol: 0.02,
  },
  {
    name: 'mixture',
    spec: {
      kind: 'mixture',
      components: [
        { weight: 0.95, dist: { kind: 'constant', ms: 10 } },
        { weight: 0.05, dist: { kind: 'exponential', meanMs: 1000 } },
      ],
    },
    mean: 0.95 * 10 + 0.05 * 1000,
    minUs: 0,
    tol: 0.03,
  },
  {
    name: 'shift',
    spec: { kind: 'shift', minMs: 50, dist: { kind: 'exponential', meanMs: 100 } },
    mean: 150,
    median: 50 + 100 * Math.LN2,
    p95: 50 + 100 * Math.log(20),
    minUs: 50_000,
    tol: 0.02,
  },
];

describe('sampling matches the analytic law', () => {
  for (const c of cases) {
    it(c.name, () => {
      const dist = compileDistribution(c.spec);
      expect(dist.minUs).toBe(c.minUs);
      const xs = draw(dist);
      const sorted = xs.slice().sort();
      const checks: Array<[string, number, number]> = [];
      if (c.mean !== undefined) {
        checks.push(['mean', mean(xs) / 1000, c.mean]);
        checks.push(['meanUs', dist.meanUs! / 1000, c.mean]);
      }
      if (c.median !== undefined) checks.push(['median', quantile(sorted, 0.5) / 1000, c.median]);
      if (c.p95 !== undefined) checks.push(['p95', quantile(sorted, 0.95) / 1000, c.p95]);
      for (const [what, actual, expected] of checks) {
        const tol = what === 'meanUs' ? 1e-6 : Math.max(c.tol, 1e-12);
        expect(relErr(actual, expected), `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(
          tol,
        );
      }
    });
  }

  it('constant is exact', () => {
    expect(
      [...draw(compileDistribution({ kind: 'constant', ms: 5 }), 100)].every((x) => x === 5000),
    ).toBe(true);
  });

  it('empirical quantile form reproduces each of its quantiles', () => {
    const q = [
      { p: 0, ms: 10 },
      { p: 0.2, ms: 20 },
      { p: 0.5, ms: 40 },
      { p: 0.9, ms: 100 },
      { p: 1, ms: 300 },
    ];
    const sorted = draw(compileDistribution({ kind: 'empirical', quantiles: q })).sort();
    expect(sorted[0]).toBeGreaterThanOrEqual(10_000);
    expect(sorted.at(-1)).toBeLessThanOrEqual(300_000);
    for (const { p, ms } of q.slice(1, -1))
      expect(relErr(quantile(sorted, p), ms * 1000)).toBeLessThan(0.01);
  });

  it('empirical samples are drawn uniformly and only from the list', () => {
    const xs = draw(compileDistribution({ kind: 'empirical', samplesMs: [1, 2, 3, 10] }));
    const counts = new Map<number, number>();
    for (const x of xs) counts.set(x, (counts.get(x) ?? 0) + 1);
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([1000, 2000, 3000, 10_000]);
    for (const n of counts.values()) expect(Math.abs(n / N - 0.25)).toBeLessThan(0.005);
  });

  it('mixture picks components by normalised weight', () => {
    const spec = (w: [number, number]): DistributionSpec => ({
      kind: 'mixture',
      components: [
        { weight: w[0], dist: { kind: 'constant', ms: 10 } },
        { weight: w[1], dist: { kind: 'uniform', minMs: 20, maxMs: 30 } },
      ],
    });
    for (const w of [
      [0.95, 0.05],
      [19, 1],
    ] as Array<[number, number]>) {
      const dist = compileDistribution(spec(w));
      const xs = draw(dist);
      const share = xs.filter((x) => x === 10_000).length / N;
      expect(Math.abs(share - 0.95)).toBeLessThan(0.003);
      expect(dist.meanUs! / 1000).toBeCloseTo(0.95 * 10 + 0.05 * 25, 9);
    }
  });

  it('shift adds minMs to every sample', () => {
    const inner: DistributionSpec = { kind: 'gamma', shape: 2, scaleMs: 50 };
    const a = draw(compileDistribution(inner), 10_000, 7);
    const b = draw(compileDistribution({ kind: 'shift', minMs: 50, dist: inner }), 10_000, 7);
    for (let i = 0; i < a.length; i++)
      expect(Math.abs(b[i]! - a[i]! - 50_000)).toBeLessThanOrEqual(1);
    expect(compileDistribution({ kind: 'shift', minMs: 50, dist: inner }).minUs).toBe(50_000);
  });

  it('pareto with capMs never exceeds the cap, and reaches near it', () => {
    const xs = draw(compileDistribution({ kind: 'pareto', scaleMs: 100, alpha: 0.5, capMs: 5000 }));
    expect(maxOf(xs)).toBeLessThanOrEqual(5_000_000);
    expect(maxOf(xs)).toBeGreaterThan(4_900_000);
    expect(minOf(xs)).toBeGreaterThanOrEqual(100_000);
  });

  it('meanUs is null when the mean is infinite, and the ceiling holds', () => {
    const dist = compileDistribution({ kind: 'pareto', scaleMs: 100, alpha: 0.05 });
    expect(dist.meanUs).toBeNull();
    const xs = draw(dist, 10_000);
    expect(maxOf(xs)).toBe(MAX_SAMPLE_US);
  });
});

describe('standard normal helpers', () => {
  it('normalQuantile matches reference values to 1e-8', () => {
    const ref: Array<[number, number]> = [
      [0.5, 0],
      [0.95, 1.6448536269514722],
      [0.975, 1.959963984540054],
      [0.01, -2.3263478740408408],
      [1e-10, -6.361340902404056],
      [1 - 1e-10, 6.361340889697422],
    ];
    for (const [p, z] of ref)
      expect(Math.abs(normalQuantile(p) - z)).toBeLessThan(1e-8 * Math.max(1, Math.abs(z)) + 2e-9);
    expect(() => normalQuantile(0)).toThrow(RangeError);
    expect(() => normalQuantile(1)).toThrow(RangeError);
  });

  it('normalCdf has small relative error in the tails', () => {
    expect(relErr(normalCdf(-5), 2.866515718791939e-7)).toBeLessThan(2e-7);
    expect(relErr(normalCdf(-1.6448536269514722), 0.05)).toBeLessThan(2e-7);
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
  });
});

describe('draws and determinism', () => {
  function counting(stream: RandomStream): { stream: RandomStream; count: () => number } {
    let n = 0;
    const wrapped: RandomStream = {
      name: stream.name,
      double: () => {
        n++;
        return stream.double();
      },
      int: (k) => stream.int(k),
      state: () => stream.state(),
    };
    return { stream: wrapped, count: () => n };
  }

  it('uses a fixed number of draws per sample where documented', () => {
    const expected: Array<[DistributionSpec, number]> = [
      [{ kind: 'constant', ms: 5 }, 0],
      [{ kind: 'uniform', minMs: 1, maxMs: 2 }, 1],
      [{ kind: 'normal', meanMs: 1, sdMs: 2 }, 1],
      [{ kind: 'lognormal', medianMs: 1, p95Ms: 2 }, 1],
      [{ kind: 'exponential', meanMs: 1 }, 1],
      [{ kind: 'pareto', scaleMs: 1, alpha: 2 }, 1],
      [{ kind: 'empirical', samplesMs: [1, 2] }, 1],
      [
        {
          kind: 'empirical',
          quantiles: [
            { p: 0, ms: 1 },
            { p: 1, ms: 2 },
          ],
        },
        1,
      ],
      [{ kind: 'shift', minMs: 1, dist: { kind: 'uniform', minMs: 1, maxMs: 2 } }, 1],
      [
        {
          kind: 'mixture',
          components: [
            { weight: 1, dist: { kind: 'exponential', meanMs: 1 } },
            { weight: 1, dist: { kind: 'uniform', minMs: 1, maxMs: 2 } },
          ],
        },
        2,
      ],
    ];
    for (const [spec, draws] of expected) {
      const dist = compileDistribution(spec);
      const c = counting(new RandomStreams(1).get('d'));
      for (let i = 0; i < 1000; i++) dist.sample(c.stream);
      expect(c.count(), describeDistribution(spec)).toBe(1000 * draws);
    }
  });

  it('gamma takes 2 draws per attempt and rarely retries', () => {
    for (const [shape, extra] of [
      [2, 0],
      [1, 0],
      [0.3, 1],
    ] as const) {
      const dist = compileDistribution({ kind: 'gamma', shape, scaleMs: 1 });
      const c = counting(new RandomStreams(1).get('g'));
      for (let i = 0; i < 10_000; i++) dist.sample(c.stream);
      const perSample = c.count() / 10_000 - extra;
      expect(perSample).toBeGreaterThanOrEqual(2);
      expect(perSample).toBeLessThan(2 * 1.06);
    }
  });

  it('same seed gives the same samples; another seed does not', () => {
    const spec: DistributionSpec = {
      kind: 'mixture',
      components: [
        { weight: 1, dist: { kind: 'gamma', shape: 0.7, scaleMs: 30 } },
        { weight: 2, dist: { kind: 'lognormal', medianMs: 800, p95Ms: 4000 } },
      ],
    };
    const a = draw(compileDistribution(spec), 5000, 42);
    const b = draw(compileDistribution(spec), 5000, 42);
    const c = draw(compileDistribution(spec), 5000, 43);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('compile keeps a frozen private copy of the spec', () => {
    const spec = { kind: 'constant', ms: 5 };
    const dist = compileDistribution(spec);
    spec.ms = 6;
    expect(dist.spec).toEqual({ kind: 'constant', ms: 5 });
    expect(Object.isFrozen(dist.spec)).toBe(true);
  });
});

describe('validation', () => {
  const nest = (depth: number): unknown => {
    let spec: unknown = { kind: 'constant', ms: 1 };
    for (let i = 0; i < depth; i++) spec = { kind: 'shift', minMs: 1, dist: spec };
    return spec;
  };
  const deepPath = Array.from({ length: MAX_NESTING }, () => 'dist').join('.');

  // [spec, path of the problem, words its message must contain]
  const bad: Array<[unknown, string, string[]]> = [
    [{ kind: 'constant', ms: -1 }, 'ms', ['ms', '-1']],
    [{ kind: 'constant', ms: Infinity }, 'ms', ['ms', 'Infinity']],
    [{ kind: 'constant', ms: '5' }, 'ms', ['ms', '"5"']],
    [{ kind: 'constant' }, 'ms', ['ms', 'required']],
    [{ kind: 'constant', ms: 5, msx: 1 }, 'msx', ['msx']],
    [{ kind: 'uniform', minMs: 9, maxMs: 1 }, 'minMs', ['minMs (9)', 'maxMs (1)']],
    [{ kind: 'normal', meanMs: 100, sdMs: 0 }, 'sdMs', ['sdMs', '0']],
    [{ kind: 'normal', meanMs: -5, sdMs: 1 }, 'meanMs', ['meanMs', '-5']],
    [{ kind: 'lognormal', mu: 1, sigma: -0.1 }, 'sigma', ['sigma', '-0.1']],
    [{ kind: 'lognormal', mu: 1 }, 'sigma', ['sigma', 'required']],
    [
      { kind: 'lognormal', medianMs: 800, p95Ms: 500 },
      'p95Ms',
      ['p95Ms (500) must be greater than medianMs (800)'],
    ],
    [{ kind: 'lognormal', medianMs: 0, p95Ms: 500 }, 'medianMs', ['medianMs', '0']],
    [{ kind: 'lognormal', mu: 1, sigma: 1, medianMs: 3 }, 'medianMs', ['medianMs']],
    [{ kind: 'exponential', meanMs: NaN }, 'meanMs', ['meanMs', 'NaN']],
    [{ kind: 'gamma', shape: 0, scaleMs: 1 }, 'shape', ['shape', '0']],
    [{ kind: 'gamma', shape: 1, scaleMs: -3 }, 'scaleMs', ['scaleMs', '-3']],
    [{ kind: 'pareto', scaleMs: 100, alpha: 0 }, 'alpha', ['alpha', '0']],
    [
      { kind: 'pareto', scaleMs: 100, alpha: 1, capMs: 50 },
      'capMs',
      ['capMs (50)', 'scaleMs (100)'],
    ],
    [{ kind: 'empirical', samplesMs: [] }, 'samplesMs', ['samplesMs', '0']],
    [{ kind: 'empirical', samplesMs: [1, -2] }, 'samplesMs[1]', ['samplesMs[1]', '-2']],
    [{ kind: 'empirical' }, '', ['samplesMs', 'quantiles']],
    [
      {
        kind: 'empirical',
        quantiles: [
          { p: 0.1, ms: 1 },
          { p: 1, ms: 2 },
        ],
      },
      'quantiles[0].p',
      ['quantiles[0].p', '0.1'],
    ],
    [
      {
        kind: 'empirical',
        quantiles: [
          { p: 0, ms: 1 },
          { p: 0.9, ms: 2 },
        ],
      },
      'quantiles[1].p',
      ['quantiles[1].p', '0.9'],
    ],
    [
      {
        kind: 'empirical',
        quantiles: [
          { p: 0, ms: 1 },
          { p: 0.5, ms: 2 },
          { p: 0.5, ms: 3 },
          { p: 1, ms: 4 },
        ],
      },
      'quantiles[2].p',
      ['quantiles[2].p (0.5)', 'quantiles[1].p (0.5)'],
    ],
    [
      {
        kind: 'empirical',
        quantiles: [
          { p: 0, ms: 5 },
          { p: 0.5, ms: 4 },
          { p: 1, ms: 6 },
        ],
      },
      'quantiles[1].ms',
      ['quantiles[1].ms (4)', 'quantiles[0].ms (5)'],
    ],
    [{ kind: 'mixture', components: [] }, 'components', ['components', '0']],
    [
      {
        kind: 'mixture',
        components: [
          { weight: 1, dist: { kind: 'constant', ms: 1 } },
          { weight: 0, dist: { kind: 'constant', ms: 1 } },
        ],
      },
      'components[1].weight',
      ['weight', '0'],
    ],
    [
      {
        kind: 'mixture',
        components: [
          { weight: 1, dist: { kind: 'constant', ms: 1 } },
          { weight: 1, dist: { kind: 'normal', meanMs: 1, sdMs: -1 } },
        ],
      },
      'components[1].dist.sdMs',
      ['sdMs', '-1'],
    ],
    [
      {
        kind: 'mixture',
        components: [
          { weight: 1e308, dist: { kind: 'constant', ms: 1 } },
          { weight: 1e308, dist: { kind: 'constant', ms: 1 } },
        ],
      },
      'components',
      ['weights', 'Infinity'],
    ],
    [{ kind: 'shift', minMs: 5 }, 'dist', ['dist', 'required']],
    [{ kind: 'shift', minMs: -5, dist: { kind: 'constant', ms: 1 } }, 'minMs', ['minMs', '-5']],
    [{ kind: 'weibull', k: 2 }, 'kind', ['kind', '"weibull"']],
    [{ ms: 5 }, 'kind', ['kind', 'required']],
    [5, '', ['5']],
    [null, '', ['null']],
    [nest(MAX_NESTING + 1), deepPath, ['nested', String(MAX_NESTING)]],
  ];

  it.each(bad.map(([spec, path, words], i) => ({ i, spec, path, words })))(
    'bad spec #$i: $path',
    ({ spec, path, words }) => {
      const problems = checkDistribution(spec);
      const hit = problems.find((p) => p.path === path);
      expect(hit, JSON.stringify(problems)).toBeDefined();
      for (const w of words) expect(hit!.message).toContain(w);
      let thrown: unknown;
      try {
        compileDistribution(spec);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(DistributionError);
      expect((thrown as DistributionError).path).toBe(problems[0]!.path);
      expect((thrown as DistributionError).message).toContain(problems[0]!.message);
    },
  );

  it('reports every problem, not just the first', () => {
    const problems = checkDistribution({ kind: 'uniform', minMs: -1, maxMs: 'x', extra: true });
    expect(problems.map((p) => p.path).sort()).toEqual(['extra', 'maxMs', 'minMs']);
  });

  it('accepts nesting up to the limit', () => {
    expect(checkDistribution(nest(MAX_NESTING))).toEqual([]);
    expect(compileDistribution(nest(MAX_NESTING)).minUs).toBe((MAX_NESTING + 1) * 1000);
  });

  it('publishes a JSON Schema, as the named definition `distribution`', () => {
    const schema = z.toJSONSchema(distributionSpecSchema) as {
      $ref?: string;
      $defs?: Record<string, { anyOf?: unknown[] }>;
    };
    expect(schema.$ref).toBe('#/$defs/distribution');
    expect(schema.$defs?.distribution?.anyOf?.length).toBe(12);
    expect(JSON.stringify(schema)).toContain('"additionalProperties":false');
  });

  it('describes specs briefly', () => {
    expect(describeDistribution({ kind: 'lognormal', medianMs: 800, p95Ms: 4000 })).toBe(
      'lognormal(median 800ms, p95 4000ms)',
    );
    expect(
      describeDistribution({
        kind: 'shift',
        minMs: 50,
        dist: { kind: 'pareto', scaleMs: 100, alpha: 1.5, capMs: 5000 },
      }),
    ).toBe('50ms + pareto(scale 100ms, alpha 1.5, cap 5000ms)');
    expect(
      describeDistribution({
        kind: 'mixture',
        components: [
          { weight: 19, dist: { kind: 'constant', ms: 5 } },
          { weight: 1, dist: { kind: 'exponential', meanMs: 1000 } },
        ],
      }),
    ).toBe('mixture(95% constant(5ms), 5% exponential(mean 1000ms))');
  });
});

describe('property: any valid spec samples safe integers >= minUs', () => {
  const dbl = (min: number, max: number) =>
    fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
  const msArb = dbl(0, 1e5);
  const posArb = dbl(1e-3, 1e5);
  const leaf: fc.Arbitrary<DistributionSpec> = fc.oneof(
    msArb.map((ms) => ({ kind: 'constant' as const, ms })),
    fc.tuple(msArb, msArb).map(([a, b]) => ({
      kind: 'uniform' as const,
      minMs: Math.min(a, b),
      maxMs: Math.max(a, b),
    })),
    fc.tuple(msArb, posArb).map(([meanMs, sdMs]) => ({ kind: 'normal' as const, meanMs, sdMs })),
    fc
      .tuple(dbl(-5, 20), dbl(1e-3, 5))
      .map(([mu, sigma]) => ({ kind: 'lognormal' as const, mu, sigma })),
    fc
      .tuple(posArb, dbl(1.01, 100))
      .map(([medianMs, r]) => ({ kind: 'lognormal' as const, medianMs, p95Ms: medianMs * r })),
    posArb.map((meanMs) => ({ kind: 'exponential' as const, meanMs })),
    fc
      .tuple(dbl(0.01, 100), posArb)
      .map(([shape, scaleMs]) => ({ kind: 'gamma' as const, shape, scaleMs })),
    fc
      .tuple(posArb, dbl(0.05, 5), fc.option(dbl(1.001, 1000), { nil: undefined }))
      .map(([scaleMs, alpha, r]) =>
        r === undefined
          ? { kind: 'pareto' as const, scaleMs, alpha }
          : { kind: 'pareto' as const, scaleMs, alpha, capMs: scaleMs * r },
      ),
    fc
      .array(msArb, { minLength: 1, maxLength: 20 })
      .map((samplesMs) => ({ kind: 'empirical' as const, samplesMs })),
    fc.array(fc.tuple(dbl(0.001, 1), msArb), { minLength: 0, maxLength: 8 }).map((pts) => {
      const ps = [...new Set(pts.map(([p]) => p).filter((p) => p < 1))].sort((a, b) => a - b);
      const ms = pts.map(([, m]) => m).sort((a, b) => a - b);
      const all = [0, ...ps, 1];
      const vals = all.map((_, i) => ms[Math.min(i, ms.length - 1)] ?? i);
      vals.sort((a, b) => a - b);
      return { kind: 'empirical' as const, quantiles: all.map((p, i) => ({ p, ms: vals[i]! })) };
    }),
  );
  const { tree } = fc.letrec<{
    tree: DistributionSpec;
    mixture: DistributionSpec;
    shift: DistributionSpec;
  }>((tie) => ({
    tree: fc.oneof(
      { maxDepth: MAX_NESTING, depthIdentifier: 'dist' },
      leaf,
      tie('mixture'),
      tie('shift'),
    ),
    mixture: fc
      .array(fc.record({ weight: dbl(1e-3, 100), dist: tie('tree') }), {
        minLength: 1,
        maxLength: 3,
      })
      .map((components) => ({ kind: 'mixture' as const, components })),
    shift: fc
      .tuple(msArb, tie('tree'))
      .map(([minMs, dist]) => ({ kind: 'shift' as const, minMs, dist })),
  }));

  it('holds for 300 random specs', () => {
    const stream = new RandomStreams('prop').get('x');
    fc.assert(
      fc.property(tree, (spec) => {
        expect(checkDistribution(spec)).toEqual([]);
        expect(distributionSpecSchema.safeParse(spec).success).toBe(true);
        const dist = compileDistribution(spec);
        expect(describeDistribution(spec).length).toBeGreaterThan(0);
        if (dist.meanUs !== null)
          expect(dist.meanUs).toBeGreaterThanOrEqual(dist.minUs * (1 - 1e-9) - 1);
        for (let i = 0; i < 200; i++) {
          const x = dist.sample(stream);
          if (!Number.isSafeInteger(x) || x < dist.minUs || x > MAX_SAMPLE_US) {
            throw new Error(`sample ${x} outside [${dist.minUs}, ${MAX_SAMPLE_US}]`);
          }
        }
      }),
      { numRuns: 300, seed: 20240601 },
    );
  });
});
