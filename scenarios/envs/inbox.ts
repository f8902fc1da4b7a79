/**
 * `inbox`: a workspace's direct messages, seen from one account (the agent's, `currentUser`).
 * Modelled on BFCL v3's message API: users with ids, send/read/delete/search messages; written
 * anew. Message ids come from a counter in the state, so a replayed or retried send gets the id
 * the state dictates, and two sends are two messages (a blind retry duplicates a message).
 */
import { z } from 'zod';
import type { EnvArgs, Environment, Operation } from './environment.js';
import {
  counterSchema,
  fail,
  integerParam,
  noIdLeft,
  ok,
  optNum,
  params,
  str,
  stringParam,
} from './ops.js';

const userSchema = z.strictObject({ id: z.string().min(1), name: z.string().min(1) });

const messageSchema = z.strictObject({
  id: z.int().min(1),
  from: z.string(),
  to: z.string(),
  text: z.string(),
  read: z.boolean(),
  sentAtUs: z.int().min(0),
});

export const inboxStateSchema = z
  .strictObject({
    /** The account the agent acts as. */
    currentUser: z.string(),
    users: z.array(userSchema),
    messages: z.array(messageSchema),
    /** The id the next message gets; greater than every id so far. */
    nextMessageId: counterSchema,
  })
  .superRefine((s, ctx) => {
    const ids = new Set(s.users.map((u) => u.id));
    const problem = (message: string): void => ctx.addIssue({ code: 'custom', message });
    if (ids.size !== s.users.length) problem('user ids must be unique');
    if (new Set(s.users.map((u) => u.name)).size !== s.users.length)
      problem('user names must be unique');
    if (!ids.has(s.currentUser)) problem(`currentUser '${s.currentUser}' is not a user`);
    if (new Set(s.messages.map((m) => m.id)).size !== s.messages.length)
      problem('message ids must be unique');
    for (const m of s.messages) {
      if (m.id >= s.nextMessageId) problem(`message ${m.id} is not below nextMessageId`);
      if (!ids.has(m.from) || !ids.has(m.to)) problem(`message ${m.id} names an unknown user`);
    }
  });

export type InboxState = z.infer<typeof inboxStateSchema>;
type Message = InboxState['messages'][number];
type Op = Operation<InboxState>;

const ME = 'USR001';

/** What a message looks like to the agent. */
function shown(s: InboxState, m: Message) {
  const name = (id: string) => s.users.find((u) => u.id === id)?.name ?? id;
  return {
    messageId: m.id,
    from: m.from,
    fromName: name(m.from),
    to: m.to,
    toName: name(m.to),
    text: m.text,
    read: m.read,
    sentAtUs: m.sentAtUs,
  };
}

/** Messages the current account sent or received. */
function mailbox(s: InboxState): Message[] {
  return s.messages.filter((m) => m.from === s.currentUser || m.to === s.currentUser);
}

function findInMailbox(s: InboxState, args: EnvArgs): Message | string {
  const id = args.messageId;
  const m = mailbox(s).find((x) => x.id === id);
  return m ?? `no message ${id} in your mailbox`;
}

/** The first user id USRnnn not taken, counting from the number of users. */
function freshUserId(s: InboxState): string {
  const taken = new Set(s.users.map((u) => u.id));
  for (let n = s.users.length + 1; ; n++) {
    const id = `USR${String(n).padStart(3, '0')}`;
    if (!taken.has(id)) return id;
  }
}

const messageIdParam = params({ messageId: integerParam('Message id', { minimum: 1 }) }, [
  'messageId',
]);

const listUsers: Op = {
  description: 'List every user of the workspace with their user id.',
  parameters: params({}),
  readOnly: true,
  apply: (s) => ok(s, { users: s.users.map((u) => ({ userId: u.id, name: u.name })) }),
};

const lookupContact: Op = {
  description: "Find a user's id by their name (exact, or ignoring case).",
  parameters: params({ name: stringParam('Name of the user, e.g. Alice') }, ['name']),
  readOnly: true,
  apply(s, args) {
    const name = str(args, 'name');
    const u =
      s.users.find((x) => x.name === name) ??
      s.users.find((x) => x.name.toLowerCase() === name.toLowerCase());
    return u === undefined
      ? fail(`no user named '${name}'`)
      : ok(s, { userId: u.id, name: u.name });
  },
};

const addContact: Op = {
  description: 'Add a new user to the workspace by name; returns the user id it was given.',
  parameters: params({ name: stringParam('Name of the new user', { minLength: 1 }) }, ['name']),
  readOnly: false,
  apply(s, args) {
    const name = str(args, 'name');
    if (s.users.some((u) => u.name === name)) return fail(`a user named '${name}' already exists`);
    const id = freshUserId(s);
    return ok({ ...s, users: [...s.users, { id, name }] }, { userId: id, name });
  },
};

const sendMessage: Op = {
  description: 'Send a direct message to another user by their user id; returns the message id.',
  parameters: params(
    {
      receiverId: stringParam('User id of the receiver, e.g. USR002'),
      text: stringParam('Message text', { minLength: 1, maxLength: 2000 }),
    },
    ['receiverId', 'text'],
  ),
  readOnly: false,
  apply(s, args, { nowUs }) {
    const to = str(args, 'receiverId');
    if (!s.users.some((u) => u.id === to)) return fail(`no user with id '${to}'`);
    if (to === s.currentUser) return fail('cannot send a message to yourself');
    const full = noIdLeft('message', s.nextMessageId);
    if (full !== null) return fail(full);
    const m: Message = {
      id: s.nextMessageId,
      from: s.currentUser,
      to,
      text: str(args, 'text'),
      read: false,
      sentAtUs: nowUs,
    };
    const next = { ...s, messages: [...s.messages, m], nextMessageId: m.id + 1 };
    return ok(next, { messageId: m.id, to });
  },
};

const fetchUnread: Op = {
  description: 'List unread messages received by your account, newest first (does not mark read).',
  parameters: params({ limit: integerParam('Maximum number of messages', { minimum: 1 }) }),
  readOnly: true,
  apply(s, args) {
    const limit = optNum(args, 'limit') ?? Number.MAX_SAFE_INTEGER;
    const unread = s.messages.filter((m) => m.to === s.currentUser && !m.read).reverse();
    return ok(s, { messages: unread.slice(0, limit).map((m) => shown(s, m)) });
  },
};

const readMessage: Op = {
  description: 'Read one message of your mailbox by id; a message you received is marked read.',
  parameters: messageIdParam,
  readOnly: false,
  apply(s, args) {
    const m = findInMailbox(s, args);
    if (typeof m === 'string') return fail(m);
    if (m.to !== s.currentUser || m.read) return ok(s, shown(s, m));
    const read = { ...m, read: true };
    const next = { ...s, messages: s.messages.map((x) => (x.id === m.id ? read : x)) };
    return ok(next, shown(next, read));
  },
};

const listSent: Op = {
  description: 'List the messages your account sent, oldest first.',
  parameters: params({}),
  readOnly: true,
  apply: (s) =>
    ok(s, { messages: s.messages.filter((m) => m.from === s.currentUser).map((m) => shown(s, m)) }),
};

const deleteMessage: Op = {
  description: 'Delete a message you sent or received, by id.',
  parameters: messageIdParam,
  readOnly: false,
  apply(s, args) {
    const m = findInMailbox(s, args);
    if (typeof m === 'string') return fail(m);
    return ok({ ...s, messages: s.messages.filter((x) => x.id !== m.id) }, { deleted: m.id });
  },
};

const searchMessages: Op = {
  description: 'Find messages of your mailbox whose text contains a keyword (ignoring case).',
  parameters: params({ keyword: stringParam('Word or phrase to look for', { minLength: 1 }) }, [
    'keyword',
  ]),
  readOnly: true,
  apply(s, args) {
    const k = str(args, 'keyword').toLowerCase();
    const hits = mailbox(s).filter((m) => m.text.toLowerCase().includes(k));
    return ok(s, { messages: hits.map((m) => shown(s, m)) });
  },
};

const messageStats: Op = {
  description: 'Count the messages you sent, received and have unread, and the people involved.',
  parameters: params({}),
  readOnly: true,
  apply(s) {
    const mine = mailbox(s);
    const received = mine.filter((m) => m.to === s.currentUser);
    const others = new Set(mine.map((m) => (m.from === s.currentUser ? m.to : m.from)));
    return ok(s, {
      sent: mine.length - received.length,
      received: received.length,
      unread: received.filter((m) => !m.read).length,
      contacts: others.size,
    });
  },
};

export const inbox: Environment<InboxState> = {
  name: 'inbox',
  description:
    "A workspace's direct messages seen from your account: users, sending, reading, deleting " +
    'and searching messages.',
  stateSchema: inboxStateSchema,
  emptyState: { currentUser: ME, users: [{ id: ME, name: 'Me' }], messages: [], nextMessageId: 1 },
  operations: {
    list_users: listUsers,
    lookup_contact: lookupContact,
    add_contact: addContact,
    send_message: sendMessage,
    fetch_unread_messages: fetchUnread,
    read_message: readMessage,
    list_sent_messages: listSent,
    delete_message: deleteMessage,
    search_messages: searchMessages,
    get_message_stats: messageStats,
  },
};
