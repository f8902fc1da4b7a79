import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inbox, type InboxState } from '../../../scenarios/envs/inbox.js';
import {
  applyAll,
  applyError,
  applyOk,
  argsOf,
  call,
  contractProperties,
  type Call,
} from './harness.js';

const NAMES = ['Me', 'Alice', 'Bob', 'Catherine', 'Daniel', 'alice', 'Zed'];
const USER_IDS = ['USR001', 'USR002', 'USR003', 'USR004', 'USR005', 'USR009'];

/** A workspace of 1-4 users (the first is the agent) with some messages between them. */
const stateArb: fc.Arbitrary<InboxState> = fc
  .tuple(
    fc.integer({ min: 1, max: 4 }),
    fc.array(
      fc.record({
        from: fc.nat(3),
        to: fc.nat(3),
        text: fc.constantFrom('hello', 'Upload the FILE please', 'lunch?', 'file ready'),
        read: fc.boolean(),
      }),
      { maxLength: 6 },
    ),
    fc.nat(3),
  )
  .map(([n, raw, gap]) => {
    const users = ['Me', 'Alice', 'Bob', 'Catherine']
      .slice(0, n)
      .map((name, i) => ({ id: `USR00${i + 1}`, name }));
    const messages = raw
      .filter((m) => m.from < n && m.to < n && m.from !== m.to)
      .map((m, i) => ({
        id: i + 1,
        from: users[m.from]!.id,
        to: users[m.to]!.id,
        text: m.text,
        read: m.read,
        sentAtUs: 0,
      }));
    return { currentUser: 'USR001', users, messages, nextMessageId: messages.length + 1 + gap };
  });

const messageId = fc.integer({ min: 1, max: 10 });
const callArb: fc.Arbitrary<Call> = fc.oneof(
  call('list_users'),
  call('lookup_contact', argsOf({ name: fc.constantFrom(...NAMES) })),
  call('add_contact', argsOf({ name: fc.constantFrom(...NAMES) })),
  call(
    'send_message',
    argsOf({ receiverId: fc.constantFrom(...USER_IDS), text: fc.constantFrom('hi', 'the file') }),
  ),
  call('send_message', argsOf({ receiverId: fc.constant('USR002'), text: fc.constant('again') })),
  call('fetch_unread_messages', argsOf({ limit: fc.integer({ min: 1, max: 3 }) }, [])),
  call('read_message', argsOf({ messageId })),
  call('list_sent_messages'),
  call('delete_message', argsOf({ messageId })),
  call('search_messages', argsOf({ keyword: fc.constantFrom('file', 'HELLO', 'x') })),
  call('get_message_stats'),
);

/** Message ids unique and below the counter; mailbox references resolve. */
function invariant(s: InboxState): string | null {
  const ids = s.messages.map((m) => m.id);
  if (new Set(ids).size !== ids.length) return `duplicate message id in ${ids}`;
  if (ids.some((id) => id >= s.nextMessageId)) return 'a message id is not below nextMessageId';
  const users = new Set(s.users.map((u) => u.id));
  if (users.size !== s.users.length) return 'duplicate user id';
  if (s.messages.some((m) => !users.has(m.from) || !users.has(m.to))) return 'unknown user';
  return null;
}

describe('inbox environment: properties', () => {
  contractProperties({ env: inbox, initial: stateArb, call: callArb, invariant, numRuns: 2000 });
});

const base: InboxState = {
  currentUser: 'USR001',
  users: [
    { id: 'USR001', name: 'Me' },
    { id: 'USR002', name: 'Alice' },
    { id: 'USR003', name: 'Bob' },
  ],
  messages: [
    { id: 1, from: 'USR002', to: 'USR001', text: 'Upload the file?', read: false, sentAtUs: 5 },
    { id: 2, from: 'USR003', to: 'USR001', text: 'Lunch', read: true, sentAtUs: 6 },
    { id: 3, from: 'USR002', to: 'USR003', text: 'private file', read: false, sentAtUs: 7 },
  ],
  nextMessageId: 4,
};

describe('inbox environment: operations', () => {
  it('lists users and looks one up by name, exactly or ignoring case', () => {
    expect(applyOk(inbox, base, 'list_users').result).toEqual({
      users: [
        { userId: 'USR001', name: 'Me' },
        { userId: 'USR002', name: 'Alice' },
        { userId: 'USR003', name: 'Bob' },
      ],
    });
    expect(applyOk(inbox, base, 'lookup_contact', { name: 'alice' }).result).toEqual({
      userId: 'USR002',
      name: 'Alice',
    });
    expect(applyError(inbox, base, 'lookup_contact', { name: 'Carol' })).toBe(
      "no user named 'Carol'",
    );
  });

  it('adds a contact with the next free id, and refuses a name taken', () => {
    const { state, result } = applyOk(inbox, base, 'add_contact', { name: 'Carol' });
    expect(result).toEqual({ userId: 'USR004', name: 'Carol' });
    expect(state.users.at(-1)).toEqual({ id: 'USR004', name: 'Carol' });
    expect(applyError(inbox, base, 'add_contact', { name: 'Bob' })).toBe(
      "a user named 'Bob' already exists",
    );
  });

  it('sends a message stamped with the completion time; a second send is a second message', () => {
    const args = { receiverId: 'USR003', text: 'See you' };
    const first = applyOk(inbox, base, 'send_message', args, 42_000);
    expect(first.result).toEqual({ messageId: 4, to: 'USR003' });
    expect(first.state.messages.at(-1)).toEqual({
      id: 4,
      from: 'USR001',
      to: 'USR003',
      text: 'See you',
      read: false,
      sentAtUs: 42_000,
    });
    const second = applyOk(inbox, first.state, 'send_message', args);
    expect(second.result).toEqual({ messageId: 5, to: 'USR003' });
    expect(second.state.nextMessageId).toBe(6);
  });

  it('refuses to send to an unknown user or to yourself', () => {
    expect(applyError(inbox, base, 'send_message', { receiverId: 'USR009', text: 'x' })).toBe(
      "no user with id 'USR009'",
    );
    expect(applyError(inbox, base, 'send_message', { receiverId: 'USR001', text: 'x' })).toBe(
      'cannot send a message to yourself',
    );
  });

  it('fetches unread received messages newest first, limited, without marking them read', () => {
    const s = applyOk(inbox, base, 'send_message', { receiverId: 'USR002', text: 'ok' }).state;
    const withTwo = { ...s, messages: [...s.messages, { ...s.messages[0]!, id: 9 }] };
    const r = applyOk(inbox, { ...withTwo, nextMessageId: 10 }, 'fetch_unread_messages').result;
    expect(
      (r as { messages: Array<{ messageId: number }> }).messages.map((m) => m.messageId),
    ).toEqual([9, 1]);
    const one = applyOk(inbox, base, 'fetch_unread_messages', { limit: 1 });
    expect(one.state).toBe(base);
  });

  it('reads a message, marking a received one read; others are not in your mailbox', () => {
    const { state, result } = applyOk(inbox, base, 'read_message', { messageId: 1 });
    expect(result).toMatchObject({ messageId: 1, fromName: 'Alice', read: true });
    expect(state.messages[0]!.read).toBe(true);
    expect(applyError(inbox, base, 'read_message', { messageId: 3 })).toBe(
      'no message 3 in your mailbox',
    );
    expect(applyError(inbox, base, 'read_message', { messageId: 99 })).toBe(
      'no message 99 in your mailbox',
    );
  });

  it('lists sent messages oldest first', () => {
    const s = applyAll(inbox, base, [
      ['send_message', { receiverId: 'USR002', text: 'a' }],
      ['send_message', { receiverId: 'USR003', text: 'b' }],
    ]);
    const r = applyOk(inbox, s, 'list_sent_messages').result as {
      messages: Array<{ text: string }>;
    };
    expect(r.messages.map((m) => m.text)).toEqual(['a', 'b']);
  });

  it('deletes a message of your mailbox and refuses one that is not', () => {
    const { state, result } = applyOk(inbox, base, 'delete_message', { messageId: 2 });
    expect(result).toEqual({ deleted: 2 });
    expect(state.messages.map((m) => m.id)).toEqual([1, 3]);
    expect(applyError(inbox, state, 'delete_message', { messageId: 2 })).toBe(
      'no message 2 in your mailbox',
    );
  });

  it('searches your mailbox ignoring case, never others', () => {
    const r = applyOk(inbox, base, 'search_messages', { keyword: 'FILE' }).result as {
      messages: Array<{ messageId: number }>;
    };
    expect(r.messages.map((m) => m.messageId)).toEqual([1]);
  });

  it('counts sent, received, unread and contacts', () => {
    const s = applyOk(inbox, base, 'send_message', { receiverId: 'USR002', text: 'x' }).state;
    expect(applyOk(inbox, s, 'get_message_stats').result).toEqual({
      sent: 1,
      received: 2,
      unread: 1,
      contacts: 2,
    });
  });

  it('rejects states that break its invariants', () => {
    const bad = (patch: Partial<InboxState>) => inbox.stateSchema.safeParse({ ...base, ...patch });
    expect(bad({ nextMessageId: 3 }).success).toBe(false);
    expect(bad({ currentUser: 'USR777' }).success).toBe(false);
    expect(bad({ messages: [base.messages[0]!, base.messages[0]!] }).success).toBe(false);
    expect(bad({ users: [...base.users, { id: 'USR002', name: 'Dup' }] }).success).toBe(false);
    expect(bad({}).success).toBe(true);
  });
});
