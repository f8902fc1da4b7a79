/**
 * The contract checks every built-in environment's tests share (scenarios/envs/environment.ts):
 * random operation sequences from random initial states, each step checked for purity (the input
 * is deep-frozen and compared after), plain-JSON states that parse with the state schema, failures
 * that leave the state unchanged, reads that change nothing, determinism and the environment's own
 * invariants.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import type { EnvArgs, EnvOutcome, Environment } from '../../../scenarios/envs/environment.js';
import { canonicalJson } from '../../../scenarios/spec/canonical.js';
import { notJson, type JsonValue } from '../../../scenarios/spec/schema.js';
import { compileParameters } from '../../../scenarios/spec/tools.js';

export interface Call {
  readonly op: string;
  readonly args: EnvArgs;
}

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** A call as fast-check builds it: one operation name and an args record for it. */
export function call(
  op: string,
  args: fc.Arbitrary<EnvArgs> = fc.constant({}),
): fc.Arbitrary<Call> {
  return args.map((a) => ({ op, args: a }));
}

/** Args with some optional keys left out (fast-check's `requiredKeys`). */
export function argsOf(
  shape: { [key: string]: fc.Arbitrary<JsonValue> },
  requiredKeys: string[] = Object.keys(shape),
): fc.Arbitrary<EnvArgs> {
  return fc.record(shape, { requiredKeys }) as fc.Arbitrary<EnvArgs>;
}

/** Validators by operation: compileParameters keys its cache by canonical schema text, per call. */
const validators = new WeakMap<object, ReturnType<typeof compileParameters>>();
function validatorOf(op: { readonly parameters: { readonly [key: string]: JsonValue } }) {
  let v = validators.get(op);
  if (v === undefined) validators.set(op, (v = compileParameters(op.parameters)));
  return v;
}

function check(condition: boolean, message: () => string): void {
  if (!condition) throw new Error(message());
}

export interface Tally {
  readonly succeeded: Map<string, number>;
  readonly failed: Map<string, number>;
}

/**
 * Runs `calls` from `initial` (at 1000 us apart) checking the contract at every step; returns the
 * trace (each outcome, canonical) so two runs can be compared.
 */
export function runChecked<S extends JsonValue>(
  env: Environment<S>,
  initial: S,
  calls: readonly Call[],
  invariant: (state: S) => string | null,
  tally?: Tally,
): { trace: string[]; final: S } {
  let state = initial;
  const trace: string[] = [];
  for (const [i, c] of calls.entries()) {
    const op = env.operations[c.op];
    if (op === undefined) throw new Error(`no operation ${c.op}`);
    const validate = validatorOf(op);
    check(
      validate(c.args) === true,
      () => `generated args do not fit ${c.op}: ${canonicalJson(c.args)}`,
    );
    // JSON.stringify, not canonicalJson: same content in the same key order, at a tenth of the cost.
    const before = JSON.stringify(state);
    deepFreeze(state);
    const context = { nowUs: (i + 1) * 1000 };
    const outcome: EnvOutcome<S> = op.apply(state, c.args, context);
    check(JSON.stringify(state) === before, () => `${c.op} changed its input state`);
    const again = op.apply(state, c.args, context);
    const text0 = JSON.stringify(outcome);
    check(JSON.stringify(again) === text0, () => `${c.op} is not deterministic`);
    trace.push(text0);
    const counts = outcome.ok ? tally?.succeeded : tally?.failed;
    counts?.set(c.op, (counts.get(c.op) ?? 0) + 1);
    if (!outcome.ok) {
      check(typeof outcome.error === 'string' && outcome.error.length > 0, () => 'empty error');
      check(!('state' in outcome), () => `${c.op} failed but gave a state`);
      continue;
    }
    const next = outcome.state;
    check(notJson(next) === null, () => `${c.op} reached a state that is not JSON`);
    check(notJson(outcome.result) === null, () => `${c.op} gave a result that is not JSON`);
    const text = JSON.stringify(next);
    check(
      JSON.stringify(JSON.parse(text)) === text,
      () => `${c.op}: state does not round-trip JSON`,
    );
    const parsed = env.stateSchema.safeParse(next);
    check(parsed.success, () => `${c.op} reached a state the schema rejects: ${parsed.error}`);
    // zod rebuilds objects in its shape's key order: compare canonically when the text differs.
    check(
      JSON.stringify(parsed.data) === text || canonicalJson(parsed.data) === canonicalJson(next),
      () => `${c.op}: the schema changed the state`,
    );
    const broken = invariant(next);
    check(broken === null, () => `${c.op} broke an invariant: ${broken}`);
    if (op.readOnly) check(text === before, () => `read-only ${c.op} changed the state`);
    state = next;
  }
  return { trace, final: state };
}

/** The seed of the coverage sample: fixed, so coverage is the same on every run. */
const COVERAGE_SEED = 20251206;

export interface ContractModel<S extends JsonValue> {
  readonly env: Environment<S>;
  /** Initial states to start sequences from (the empty state is always one of them). */
  readonly initial: fc.Arbitrary<S>;
  readonly call: fc.Arbitrary<Call>;
  /** Null when the state keeps the environment's invariants; else what is broken. */
  readonly invariant: (state: S) => string | null;
  readonly numRuns?: number;
  readonly maxCalls?: number;
}

/** The property tests every environment gets (vitest `it`s; call inside a `describe`). */
export function contractProperties<S extends JsonValue>(model: ContractModel<S>): void {
  const { env, invariant } = model;
  const numRuns = model.numRuns ?? 1500;
  const initial = fc.oneof(fc.constant(env.emptyState), model.initial, model.initial);
  const program = fc.tuple(initial, fc.array(model.call, { maxLength: model.maxCalls ?? 40 }));

  it('keeps the contract over random operation sequences', () => {
    for (const s of fc.sample(model.initial, 50)) {
      const broken = invariant(s);
      expect(broken, 'the test model generates broken initial states').toBeNull();
      expect(env.stateSchema.safeParse(s).success).toBe(true);
    }
    fc.assert(
      fc.property(program, ([start, calls]) => {
        runChecked(env, start, calls, invariant);
      }),
      { numRuns },
    );
  });

  // A sequence model that never reaches an operation's success path would test nothing there. The
  // tally is over a fixed sample, so whether it is reached does not depend on the run's random
  // seed: with the property's own runs it failed now and then (travel's contact_customer_support
  // needs a booking made before it, with the same id drawn).
  it("reaches every operation's success path, and some failure, on a fixed sample", () => {
    const tally: Tally = { succeeded: new Map(), failed: new Map() };
    for (const [start, calls] of fc.sample(program, { numRuns, seed: COVERAGE_SEED }))
      runChecked(env, start, calls, invariant, tally);
    for (const name of Object.keys(env.operations))
      expect(tally.succeeded.get(name) ?? 0, `${name} never succeeded`).toBeGreaterThan(0);
    const failures = [...tally.failed.values()].reduce((a, b) => a + b, 0);
    expect(failures).toBeGreaterThan(0);
  });

  it('gives the same trace when a sequence is run twice', () => {
    fc.assert(
      fc.property(program, ([start, calls]) => {
        const a = runChecked(env, structuredClone(start), calls, invariant);
        const b = runChecked(env, structuredClone(start), calls, invariant);
        expect(b.trace).toEqual(a.trace);
        expect(canonicalJson(b.final)).toBe(canonicalJson(a.final));
      }),
      { numRuns: Math.ceil(numRuns / 10) },
    );
  });

  it('has tool-shaped operations with usable schemas and an empty state that parses', () => {
    expect(env.stateSchema.safeParse(env.emptyState).success).toBe(true);
    const names = Object.keys(env.operations);
    expect(names.length).toBeGreaterThanOrEqual(8);
    expect(names.length).toBeLessThanOrEqual(15);
    for (const [name, op] of Object.entries(env.operations)) {
      expect(name).toMatch(/^[a-z][a-z0-9_]{0,63}$/);
      expect(op.description.length, name).toBeGreaterThan(20);
      expect(op.parameters.type, name).toBe('object');
      expect(op.parameters.additionalProperties, name).toBe(false);
      expect(() => compileParameters(op.parameters), name).not.toThrow();
    }
  });
}

/** Applies one call, throwing with the tool error when it fails (for example-based tests). */
export function applyOk<S extends JsonValue>(
  env: Environment<S>,
  state: S,
  op: string,
  args: EnvArgs = {},
  nowUs = 1000,
): { state: S; result: JsonValue } {
  const o = env.operations[op]!.apply(deepFreeze(state), args, { nowUs });
  if (!o.ok) throw new Error(`${op} failed: ${o.error}`);
  return { state: o.state, result: o.result };
}

/** The tool error of a call that must fail. */
export function applyError<S extends JsonValue>(
  env: Environment<S>,
  state: S,
  op: string,
  args: EnvArgs = {},
): string {
  const o = env.operations[op]!.apply(deepFreeze(state), args, { nowUs: 1000 });
  if (o.ok) throw new Error(`${op} succeeded: ${canonicalJson(o.result)}`);
  return o.error;
}

/** Applies calls in order, each of which must succeed; returns the final state. */
export function applyAll<S extends JsonValue>(
  env: Environment<S>,
  state: S,
  calls: ReadonlyArray<readonly [string, EnvArgs?]>,
): S {
  let s = state;
  for (const [op, args] of calls) s = applyOk(env, s, op, args ?? {}).state;
  return s;
}
