/**
 * A provider's run marks: which limits (`--rate-limit`, `--max-requests-in-flight`) the
 * coordinators now running it on one Redis use, so that a coordinator naming other limits is
 * refused. One limiter per provider only holds if every run on it names the same values.
 *
 * Each mark is a sorted set of `VALUE|HOLDER` members scored by their lease's end (Redis's own
 * clock, in ms): a coordinator holds its member for as long as it renews it, and a killed one's
 * member lapses with its lease. Checking and marking is one script, so two coordinators starting
 * at once cannot both pass with different values, and a run that ends takes only its own member
 * away: the mark stays while any other run holding it goes on.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { assertInvariant } from '../engine/assert.js';

/** One mark: its key, and the value this run gives it. */
export interface ProviderMark {
  readonly key: string;
  readonly value: string;
}

/** The marks' values never hold the separator, so a member's value is what comes before it. */
const SEPARATOR = '|';

/**
 * KEYS: the marks; ARGV: holder, lease ms, then one value per key. Drops lapsed members; returns
 * the index (1-based) and value of the first mark another live holder gives another value, or
 * adds (renews) this holder's member on every mark and returns nothing.
 */
const CLAIM_SCRIPT = `
local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', nowMs)
  for _, member in ipairs(redis.call('ZRANGE', key, 0, -1)) do
    local value = string.match(member, '^([^|]*)|')
    if value ~= ARGV[2 + i] then return {i, value} end
  end
end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, nowMs + tonumber(ARGV[2]), ARGV[2 + i] .. '|' .. ARGV[1])
  redis.call('PEXPIRE', key, ARGV[2])
end
return false
`;

/** What another running coordinator holds against this run's marks. */
export interface MarkConflict {
  /** The index of the mark, in the order given. */
  readonly index: number;
  /** The value the other coordinator gives it. */
  readonly held: string;
}

/** This run's hold on its marks: renew it within the lease, release it when the run ends. */
export interface MarkHold {
  /** Renews the lease; a conflict (only if this run's lease lapsed meanwhile) is returned. */
  readonly renew: () => Promise<MarkConflict | null>;
  readonly release: () => Promise<void>;
}

/**
 * Marks `marks` as this run's for `leaseMs` (renew before it ends), or returns the first conflict
 * with another live coordinator's marks and marks nothing.
 */
export async function claimMarks(
  client: Redis,
  marks: readonly ProviderMark[],
  leaseMs: number,
): Promise<MarkHold | MarkConflict> {
  assertInvariant(Number.isSafeInteger(leaseMs) && leaseMs > 0, 'claimMarks', `lease ${leaseMs}`);
  for (const m of marks)
    assertInvariant(!m.value.includes(SEPARATOR), 'claimMarks', `value ${m.value}`);
  const holder = randomUUID();
  const keys = marks.map((m) => m.key);
  const claim = async (): Promise<MarkConflict | null> => {
    const args = [holder, String(leaseMs), ...marks.map((m) => m.value)];
    const answer = (await client.eval(CLAIM_SCRIPT, keys.length, ...keys, ...args)) as
      | [number, string]
      | null;
    return answer === null ? null : { index: answer[0] - 1, held: answer[1] };
  };
  const conflict = await claim();
  if (conflict !== null) return conflict;
  return {
    renew: claim,
    release: async () => {
      await Promise.all(marks.map((m) => client.zrem(m.key, `${m.value}${SEPARATOR}${holder}`)));
    },
  };
}

/** Whether claimMarks answered with a conflict. */
export const isConflict = (answer: MarkHold | MarkConflict): answer is MarkConflict =>
  'held' in answer;
