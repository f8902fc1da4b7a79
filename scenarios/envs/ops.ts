/**
 * Small helpers the built-in environments share: outcomes, parameter schemas, argument access and
 * money. Money is held in integer cents in every state (`...Cents`), so sums and comparisons are
 * exact and a goal written by hand matches byte for byte; agents pass and read US dollars, which
 * are converted at the boundary and must be whole cents.
 */
import { z } from 'zod';
import type { JsonValue } from '../spec/schema.js';
import type { EnvArgs, EnvOutcome } from './environment.js';

/** A successful operation: its new state (the input itself for reads) and its result. */
export function ok<S>(state: S, result: JsonValue): EnvOutcome<S> {
  return { ok: true, state, result };
}

/** A tool error the agent sees; the state stays as it was. */
export function fail<S>(error: string): EnvOutcome<S> {
  return { ok: false, error };
}

type Schema = { [key: string]: JsonValue };

/** A JSON Schema (2020-12) object of named parameters; no others are accepted. */
export function params(properties: { [name: string]: Schema }, required: string[] = []): Schema {
  return { type: 'object', properties, required, additionalProperties: false };
}

export const stringParam = (description: string, extra: Schema = {}): Schema => ({
  type: 'string',
  description,
  ...extra,
});

export const integerParam = (description: string, extra: Schema = {}): Schema => ({
  type: 'integer',
  description,
  ...extra,
});

export const numberParam = (description: string, extra: Schema = {}): Schema => ({
  type: 'number',
  description,
  ...extra,
});

export const booleanParam = (description: string): Schema => ({ type: 'boolean', description });

export const enumParam = (description: string, values: readonly string[]): Schema => ({
  type: 'string',
  enum: [...values],
  description,
});

/** A dollar amount as agents pass it: positive, whole cents (checked by `toCents`). */
export const dollarsParam = (description: string): Schema => ({
  type: 'number',
  exclusiveMinimum: 0,
  maximum: MAX_DOLLARS,
  description: `${description} (US dollars, at most two decimals)`,
});

/**
 * The largest amount an operation accepts, so cents stay exact integers whatever is summed:
 * 10^12 cents is far below 2^53.
 */
export const MAX_DOLLARS = 1e10;

/**
 * The bound of every id counter (`next...Id`): ids stay below it, so a counter given by a
 * scenario can never step past exact integers. A create at the bound is a tool error.
 */
export const MAX_ID = 2 ** 31 - 1;

export const counterSchema = z.int().min(1).max(MAX_ID);

/** The error of a create whose counter is at the bound, or null. */
export function noIdLeft(what: string, counter: number): string | null {
  return counter >= MAX_ID ? `no ${what} ids left` : null;
}

/** A required string argument (the world has checked args against the schema; this asserts it). */
export function str(args: EnvArgs, key: string): string {
  const v = args[key];
  if (typeof v !== 'string') throw new Error(`argument ${key} is not a string`);
  return v;
}

export function optStr(args: EnvArgs, key: string): string | null {
  return args[key] === undefined ? null : str(args, key);
}

export function num(args: EnvArgs, key: string): number {
  const v = args[key];
  if (typeof v !== 'number') throw new Error(`argument ${key} is not a number`);
  return v;
}

export function optNum(args: EnvArgs, key: string): number | null {
  return args[key] === undefined ? null : num(args, key);
}

export function bool(args: EnvArgs, key: string): boolean {
  const v = args[key];
  if (typeof v !== 'boolean') throw new Error(`argument ${key} is not a boolean`);
  return v;
}

export function strList(args: EnvArgs, key: string): string[] {
  const v = args[key];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
    throw new Error(`argument ${key} is not a list of strings`);
  return v as string[];
}

/** Cents for a dollar amount, or null when it is not whole cents (1e-6 absorbs binary rounding). */
export function toCents(dollars: number): number | null {
  const cents = Math.round(dollars * 100);
  return Math.abs(dollars * 100 - cents) < 1e-6 && Number.isSafeInteger(cents) ? cents : null;
}

/** Dollars for the agent to read. */
export function toDollars(cents: number): number {
  return cents / 100;
}

/** `$12.50`, for error messages. */
export function money(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}$${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** The error for an amount that is not whole cents. */
export function notCents(what: string, dollars: number): string {
  return `${what} ${dollars} is not a whole number of cents`;
}

/** A copy of a list with the item at `index` replaced. */
export function replaceAt<T>(list: readonly T[], index: number, item: T): T[] {
  const copy = list.slice();
  copy[index] = item;
  return copy;
}
