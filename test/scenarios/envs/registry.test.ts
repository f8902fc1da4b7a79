import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EnvArgs } from '../../../scenarios/envs/environment.js';
import { ENVIRONMENTS, getEnvironment } from '../../../scenarios/envs/index.js';
import { MAX_ID } from '../../../scenarios/envs/ops.js';
import type { JsonValue } from '../../../scenarios/spec/schema.js';
import { applyError } from './harness.js';

const NAMES = ['filesystem', 'inbox', 'social', 'tickets', 'trading', 'travel', 'vehicle'];

describe('environment registry', () => {
  it('files each environment under its own name', () => {
    for (const [name, env] of Object.entries(ENVIRONMENTS)) expect(env.name).toBe(name);
    expect(Object.keys(ENVIRONMENTS)).toEqual(expect.arrayContaining(NAMES));
  });

  it('finds an environment by name and nothing for other names', () => {
    expect(getEnvironment('inbox')?.name).toBe('inbox');
    expect(getEnvironment('nope')).toBeUndefined();
    expect(getEnvironment('toString')).toBeUndefined();
    expect(getEnvironment('__proto__')).toBeUndefined();
  });
});

describe('id counters', () => {
  const at = (name: string, patch: { [key: string]: JsonValue }) => ({
    ...(ENVIRONMENTS[name]!.emptyState as { [key: string]: JsonValue }),
    ...patch,
  });
  const card = { id: 'c', holder: 'Me', last4: '0000', balanceCents: 100_000 };
  const post = { id: 1, author: 'me', content: 'x', tags: [], mentions: [], createdAtUs: 0 };
  const cases: Array<[string, { [key: string]: JsonValue }, string, EnvArgs, string]> = [
    [
      'inbox',
      {
        users: [
          { id: 'USR001', name: 'Me' },
          { id: 'USR002', name: 'Al' },
        ],
        nextMessageId: MAX_ID,
      },
      'send_message',
      { receiverId: 'USR002', text: 'x' },
      'no message ids left',
    ],
    ['social', { nextPostId: MAX_ID }, 'create_post', { content: 'x' }, 'no post ids left'],
    [
      'social',
      { posts: [post], nextPostId: 2, nextCommentId: MAX_ID },
      'comment_on_post',
      { postId: 1, text: 'x' },
      'no comment ids left',
    ],
    ['tickets', { nextTicketId: MAX_ID }, 'create_ticket', { title: 'x' }, 'no ticket ids left'],
    [
      'trading',
      { nextOrderId: MAX_ID },
      'place_order',
      { symbol: 'F', side: 'buy', quantity: 1 },
      'no order ids left',
    ],
    [
      'travel',
      { cards: [card], nextBookingId: MAX_ID },
      'book_flight',
      { from: 'SFO', to: 'LAX', date: '2025-01-01', travelClass: 'economy', cardId: 'c' },
      'no booking ids left',
    ],
  ];

  it('stop at their bound with a tool error, so ids stay exact integers', () => {
    for (const [name, patch, op, args, error] of cases) {
      const env = ENVIRONMENTS[name]!;
      const state = at(name, patch);
      expect(env.stateSchema.safeParse(state).success, name).toBe(true);
      expect(applyError(env, state, op, args), name).toBe(error);
      expect(env.stateSchema.safeParse(at(name, { ...patch, ...bump(patch) })).success).toBe(false);
    }
  });

  /** The patch's counters one past the bound, which no state may hold. */
  function bump(patch: { [key: string]: JsonValue }): { [key: string]: JsonValue } {
    return Object.fromEntries(
      Object.entries(patch)
        .filter(([k, v]) => k.startsWith('next') && v === MAX_ID)
        .map(([k]) => [k, MAX_ID + 1]),
    );
  }
});

describe('docs/ENVIRONMENTS.md', () => {
  const text = readFileSync(join(import.meta.dirname, '../../../docs/ENVIRONMENTS.md'), 'utf8');

  /** The operation names in the first column of the table under `## name`. */
  function documented(name: string): string[] {
    const start = text.indexOf(`\n## ${name}\n`);
    expect(start, `no section for ${name}`).toBeGreaterThanOrEqual(0);
    const end = text.indexOf('\n## ', start + 1);
    const section = text.slice(start, end < 0 ? undefined : end);
    return [...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]!);
  }

  it('lists exactly the operations of each environment, in their order', () => {
    for (const name of NAMES)
      expect(documented(name), name).toEqual(Object.keys(ENVIRONMENTS[name]!.operations));
  });
});
