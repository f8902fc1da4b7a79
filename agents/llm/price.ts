/**
 * Prices, USD per million tokens, for the cost columns of the results.
 *
 * `--price in=0.15,out=0.60` applies to every model; `--price prices.json` reads a file holding
 * either one price (`{"in": 0.15, "out": 0.6}`) or one per model
 * (`{"gpt-4o-mini": {"in": 0.15, "out": 0.6}, "qwen2.5:7b": {"in": 0, "out": 0}}`; a model without
 * an entry has no cost). Cost = (prompt tokens × in + completion tokens × out) / 1e6.
 */
import { existsSync } from 'node:fs';
import { decodeUtf8, InputFileError, readInputFile } from '../../scenarios/spec/input-file.js';
import { AgentSpecError } from '../spec.js';

export interface Price {
  readonly in: number;
  readonly out: number;
}

export type PriceTable =
  | { readonly kind: 'flat'; readonly price: Price }
  | { readonly kind: 'per-model'; readonly prices: ReadonlyMap<string, Price> };

function checkPrice(value: unknown, where: string): Price {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new AgentSpecError(`${where}: a price is {"in": number, "out": number}`);
  const v = value as Record<string, unknown>;
  for (const k of Object.keys(v))
    if (k !== 'in' && k !== 'out')
      throw new AgentSpecError(
        `${where}: unknown key "${k}" (a price is {"in": number, "out": number})`,
      );
  const get = (k: 'in' | 'out'): number => {
    const x = v[k];
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0)
      throw new AgentSpecError(
        `${where}: "${k}" must be a non-negative number of USD per million tokens`,
      );
    return x;
  };
  return { in: get('in'), out: get('out') };
}

/** Cap on a price file: a table of models is a few KiB; a FIFO or /dev/zero is refused, not read. */
export const MAX_PRICE_FILE_BYTES = 1024 * 1024;

/** Parses `in=0.15,out=0.60` or the path of a JSON price file. */
export function parsePrice(text: string): PriceTable {
  const trimmed = text.trim();
  if (/^(in|out)\s*=/.test(trimmed)) {
    const v: Record<string, number> = {};
    for (const part of trimmed.split(',')) {
      const [k, raw, extra] = part.split('=').map((s) => s.trim());
      if ((k !== 'in' && k !== 'out') || raw === undefined || extra !== undefined)
        throw new AgentSpecError(`--price: "${part}" is not in=N or out=N`);
      const x = Number(raw);
      if (raw === '' || !Number.isFinite(x) || x < 0)
        throw new AgentSpecError(`--price: ${k} must be a non-negative number, got "${raw}"`);
      v[k] = x;
    }
    if (v.in === undefined || v.out === undefined)
      throw new AgentSpecError('--price: give both in=N and out=N (USD per million tokens)');
    return { kind: 'flat', price: { in: v.in, out: v.out } };
  }
  if (!existsSync(trimmed))
    throw new AgentSpecError(`--price: "${text}" is neither in=N,out=N nor an existing JSON file`);
  let json: unknown;
  let source: string | null;
  try {
    source = decodeUtf8(readInputFile(trimmed, MAX_PRICE_FILE_BYTES));
  } catch (error) {
    if (error instanceof InputFileError)
      throw new AgentSpecError(`--price ${trimmed}: cannot read: ${error.message}`);
    throw error;
  }
  if (source === null) throw new AgentSpecError(`--price ${trimmed}: not UTF-8 text`);
  try {
    json = JSON.parse(source);
  } catch (error) {
    throw new AgentSpecError(
      `--price ${trimmed}: not JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  return priceOfJson(json, `--price ${trimmed}`);
}

/** A price table from a price file's JSON (`where` names it in errors). */
export function priceOfJson(json: unknown, where: string): PriceTable {
  if (json !== null && typeof json === 'object' && !Array.isArray(json) && 'in' in json)
    return { kind: 'flat', price: checkPrice(json, where) };
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new AgentSpecError(
      `${where}: expected {"in":..,"out":..} or {"MODEL": {"in":..,"out":..}}`,
    );
  const prices = new Map<string, Price>();
  for (const [model, p] of Object.entries(json))
    prices.set(model, checkPrice(p, `${where}: ${model}`));
  return { kind: 'per-model', prices };
}

/** A price table as a price file holds it (priceOfJson reads it back): how a job carries it. */
export function priceJson(table: PriceTable): Record<string, unknown> {
  if (table.kind === 'flat') return { in: table.price.in, out: table.price.out };
  return Object.fromEntries([...table.prices].map(([m, p]) => [m, { in: p.in, out: p.out }]));
}

export function priceFor(table: PriceTable | null, model: string): Price | null {
  if (table === null) return null;
  return table.kind === 'flat' ? table.price : (table.prices.get(model) ?? null);
}

export function costUsd(
  price: Price | null,
  promptTokens: number,
  completionTokens: number,
): number | null {
  return price === null ? null : (promptTokens * price.in + completionTokens * price.out) / 1e6;
}
