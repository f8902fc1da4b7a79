/**
 * Built-in pure tool functions a scenario can name (`"impl": { "kind": "builtin", "name": "add" }`).
 *
 * Scenario files never carry code; these are the only computations a tool can perform beyond a
 * lookup table. Each is total over args that satisfy its parameter schema: it returns a JSON result
 * or throws `BuiltinError`, which the world turns into a tool error the agent sees.
 */
import type { JsonValue } from './schema.js';

export class BuiltinError extends Error {
  override name = 'BuiltinError';
}

type Args = Record<string, JsonValue>;

export interface Builtin {
  readonly description: string;
  /** JSON Schema of the args this function accepts. */
  readonly parameters: Record<string, JsonValue>;
  readonly run: (args: Args) => JsonValue;
}

const num = { type: 'number' } as const;
const str = { type: 'string' } as const;
const numList = { type: 'array', items: num, minItems: 1 } as const;

function params(properties: Record<string, JsonValue>): Record<string, JsonValue> {
  return {
    type: 'object',
    properties,
    required: Object.keys(properties),
    additionalProperties: false,
  };
}

function n(args: Args, key: string): number {
  const v = args[key];
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new BuiltinError(`argument ${key} must be a finite number`);
  return v;
}

function s(args: Args, key: string): string {
  const v = args[key];
  if (typeof v !== 'string') throw new BuiltinError(`argument ${key} must be a string`);
  return v;
}

function list(args: Args, key: string): number[] {
  const v = args[key];
  if (
    !Array.isArray(v) ||
    v.length === 0 ||
    !v.every((x) => typeof x === 'number' && Number.isFinite(x))
  ) {
    throw new BuiltinError(`argument ${key} must be a non-empty array of finite numbers`);
  }
  return v as number[];
}

/** Results are rounded to 10 significant digits so they print and compare the same everywhere. */
function finite(x: number): number {
  if (!Number.isFinite(x)) throw new BuiltinError('result is not a finite number');
  return Number(x.toPrecision(10));
}

const BUILTINS: Readonly<Record<string, Builtin>> = {
  add: {
    description: 'a + b',
    parameters: params({ a: num, b: num }),
    run: (a) => finite(n(a, 'a') + n(a, 'b')),
  },
  subtract: {
    description: 'a - b',
    parameters: params({ a: num, b: num }),
    run: (a) => finite(n(a, 'a') - n(a, 'b')),
  },
  multiply: {
    description: 'a * b',
    parameters: params({ a: num, b: num }),
    run: (a) => finite(n(a, 'a') * n(a, 'b')),
  },
  divide: {
    description: 'a / b',
    parameters: params({ a: num, b: num }),
    run: (a) => {
      if (n(a, 'b') === 0) throw new BuiltinError('division by zero');
      return finite(n(a, 'a') / n(a, 'b'));
    },
  },
  power: {
    description: 'base ** exponent',
    parameters: params({ base: num, exponent: num }),
    run: (a) => finite(n(a, 'base') ** n(a, 'exponent')),
  },
  sqrt: {
    description: 'square root of x',
    parameters: params({ x: num }),
    run: (a) => {
      if (n(a, 'x') < 0) throw new BuiltinError('square root of a negative number');
      return finite(Math.sqrt(n(a, 'x')));
    },
  },
  sum: {
    description: 'sum of values',
    parameters: params({ values: numList }),
    run: (a) => finite(list(a, 'values').reduce((x, y) => x + y, 0)),
  },
  mean: {
    description: 'arithmetic mean of values',
    parameters: params({ values: numList }),
    run: (a) => finite(list(a, 'values').reduce((x, y) => x + y, 0) / list(a, 'values').length),
  },
  max: {
    description: 'largest of values',
    parameters: params({ values: numList }),
    run: (a) => list(a, 'values').reduce((x, y) => Math.max(x, y)),
  },
  min: {
    description: 'smallest of values',
    parameters: params({ values: numList }),
    run: (a) => list(a, 'values').reduce((x, y) => Math.min(x, y)),
  },
  round: {
    description: 'x rounded to digits decimals',
    parameters: params({ x: num, digits: { type: 'integer', minimum: 0, maximum: 10 } }),
    run: (a) => finite(Number(n(a, 'x').toFixed(n(a, 'digits')))),
  },
  concat: {
    description: 'a followed by b',
    parameters: params({ a: str, b: str }),
    run: (a) => s(a, 'a') + s(a, 'b'),
  },
  upper: {
    description: 'text in upper case',
    parameters: params({ text: str }),
    run: (a) => s(a, 'text').toUpperCase(),
  },
  lower: {
    description: 'text in lower case',
    parameters: params({ text: str }),
    run: (a) => s(a, 'text').toLowerCase(),
  },
  reverse: {
    description: 'text reversed',
    parameters: params({ text: str }),
    run: (a) => [...s(a, 'text')].reverse().join(''),
  },
  length: {
    description: 'number of characters in text',
    parameters: params({ text: str }),
    run: (a) => [...s(a, 'text')].length,
  },
  count_words: {
    description: 'number of whitespace-separated words',
    parameters: params({ text: str }),
    run: (a) =>
      s(a, 'text')
        .split(/\s+/)
        .filter((w) => w.length > 0).length,
  },
  replace: {
    description: 'text with every `find` replaced by `with`',
    parameters: params({ text: str, find: str, with: str }),
    run: (a) =>
      s(a, 'find') === '' ? s(a, 'text') : s(a, 'text').split(s(a, 'find')).join(s(a, 'with')),
  },
  echo: {
    description: 'returns its args unchanged',
    parameters: { type: 'object' },
    run: (a) => a,
  },
};

/** The built-in called `name`, or undefined. */
export function getBuiltin(name: string): Builtin | undefined {
  return Object.hasOwn(BUILTINS, name) ? BUILTINS[name] : undefined;
}

/** Names of every built-in, sorted. */
export function builtinNames(): string[] {
  return Object.keys(BUILTINS).sort();
}
