/**
 * `tickets`: a support ticket system used from one account (`currentUser`): create, read, edit,
 * comment, assign, escalate, resolve, close and reopen tickets. Modelled on BFCL v3's ticket API;
 * written anew. Ticket ids come from a counter in the state (a blind retry of create_ticket opens
 * a second ticket); a ticket moves open -> resolved -> closed, and reopening brings it back.
 */
import { z } from 'zod';
import type { EnvArgs, Environment, Operation } from './environment.js';
import {
  booleanParam,
  counterSchema,
  enumParam,
  fail,
  integerParam,
  noIdLeft,
  ok,
  optNum,
  optStr,
  params,
  replaceAt,
  str,
  stringParam,
} from './ops.js';

const STATUSES = ['open', 'resolved', 'closed'] as const;

const ticketSchema = z.strictObject({
  id: z.int().min(1),
  title: z.string(),
  description: z.string(),
  status: z.enum(STATUSES),
  /** 1 (lowest) to 5 (highest). */
  priority: z.int().min(1).max(5),
  createdBy: z.string(),
  assignee: z.string().nullable(),
  /** How it was resolved; null while the ticket is open. */
  resolution: z.string().nullable(),
  comments: z.array(z.strictObject({ author: z.string(), text: z.string(), atUs: z.int().min(0) })),
  createdAtUs: z.int().min(0),
});

export const ticketsStateSchema = z
  .strictObject({
    /** The account the agent acts as. */
    currentUser: z.string().min(1),
    tickets: z.array(ticketSchema),
    /** The id the next ticket gets; greater than every id so far. */
    nextTicketId: counterSchema,
  })
  .superRefine((s, ctx) => {
    const problem = (message: string): void => ctx.addIssue({ code: 'custom', message });
    if (new Set(s.tickets.map((t) => t.id)).size !== s.tickets.length)
      problem('ticket ids must be unique');
    for (const t of s.tickets) {
      if (t.id >= s.nextTicketId) problem(`ticket ${t.id} is not below nextTicketId`);
      if (t.status === 'open' && t.resolution !== null)
        problem(`open ticket ${t.id} has a resolution`);
      if (t.status === 'resolved' && t.resolution === null)
        problem(`resolved ticket ${t.id} has no resolution`);
    }
  });

export type TicketsState = z.infer<typeof ticketsStateSchema>;
type Ticket = TicketsState['tickets'][number];
type Op = Operation<TicketsState>;

function shown(t: Ticket) {
  return {
    ticketId: t.id,
    title: t.title,
    description: t.description,
    status: t.status,
    priority: t.priority,
    createdBy: t.createdBy,
    assignee: t.assignee,
    resolution: t.resolution,
    comments: t.comments.map((c) => ({ author: c.author, text: c.text })),
  };
}

/** The ticket the args name and its index, or the error. */
function find(s: TicketsState, args: EnvArgs): { t: Ticket; i: number } | string {
  const i = s.tickets.findIndex((t) => t.id === args.ticketId);
  return i < 0 ? `no ticket ${args.ticketId}` : { t: s.tickets[i]!, i };
}

/** Replaces the ticket at `i` and shows the result. */
function updated(s: TicketsState, i: number, t: Ticket) {
  return ok({ ...s, tickets: replaceAt(s.tickets, i, t) }, shown(t));
}

/** A change that needs an open or resolved ticket (not a closed one). */
function whileNotClosed(
  change: (t: Ticket, args: EnvArgs, nowUs: number, s: TicketsState) => Ticket | string,
): Op['apply'] {
  return (s, args, { nowUs }) => {
    const found = find(s, args);
    if (typeof found === 'string') return fail(found);
    if (found.t.status === 'closed') return fail(`ticket ${found.t.id} is closed`);
    const next = change(found.t, args, nowUs, s);
    return typeof next === 'string' ? fail(next) : updated(s, found.i, next);
  };
}

const ticketId = integerParam('Ticket id', { minimum: 1 });
const priority = integerParam('Priority from 1 (lowest) to 5 (highest)', {
  minimum: 1,
  maximum: 5,
});

const createTicket: Op = {
  description: 'Open a support ticket; returns it with its id. Priority defaults to 1.',
  parameters: params(
    {
      title: stringParam('Short title', { minLength: 1, maxLength: 200 }),
      description: stringParam('What the problem is', { maxLength: 5000 }),
      priority,
    },
    ['title'],
  ),
  readOnly: false,
  apply(s, args, { nowUs }) {
    const full = noIdLeft('ticket', s.nextTicketId);
    if (full !== null) return fail(full);
    const t: Ticket = {
      id: s.nextTicketId,
      title: str(args, 'title'),
      description: optStr(args, 'description') ?? '',
      status: 'open',
      priority: optNum(args, 'priority') ?? 1,
      createdBy: s.currentUser,
      assignee: null,
      resolution: null,
      comments: [],
      createdAtUs: nowUs,
    };
    return ok({ ...s, tickets: [...s.tickets, t], nextTicketId: t.id + 1 }, shown(t));
  },
};

const getTicket: Op = {
  description: 'Get one ticket by id with its status, priority, assignee and comments.',
  parameters: params({ ticketId }, ['ticketId']),
  readOnly: true,
  apply(s, args) {
    const found = find(s, args);
    return typeof found === 'string' ? fail(found) : ok(s, shown(found.t));
  },
};

const listTickets: Op = {
  description: 'List tickets by id, optionally only those with a status or those you created.',
  parameters: params({
    status: enumParam('Only tickets with this status', STATUSES),
    mine: booleanParam('Only tickets you created'),
  }),
  readOnly: true,
  apply(s, args) {
    const status = optStr(args, 'status');
    const tickets = s.tickets.filter(
      (t) =>
        (status === null || t.status === status) &&
        (args.mine !== true || t.createdBy === s.currentUser),
    );
    return ok(s, {
      tickets: tickets.map((t) => ({
        ticketId: t.id,
        title: t.title,
        status: t.status,
        priority: t.priority,
      })),
    });
  },
};

const editTicket: Op = {
  description: "Change a ticket's title, description or priority (give at least one).",
  parameters: params(
    {
      ticketId,
      title: stringParam('New title', { minLength: 1, maxLength: 200 }),
      description: stringParam('New description', { maxLength: 5000 }),
      priority,
    },
    ['ticketId'],
  ),
  readOnly: false,
  apply: whileNotClosed((t, args) => {
    const title = optStr(args, 'title');
    const description = optStr(args, 'description');
    const p = optNum(args, 'priority');
    if (title === null && description === null && p === null)
      return 'nothing to change: give a title, description or priority';
    return {
      ...t,
      title: title ?? t.title,
      description: description ?? t.description,
      priority: p ?? t.priority,
    };
  }),
};

const addComment: Op = {
  description: 'Add a comment to a ticket that is not closed.',
  parameters: params(
    { ticketId, text: stringParam('Comment text', { minLength: 1, maxLength: 5000 }) },
    ['ticketId', 'text'],
  ),
  readOnly: false,
  apply: whileNotClosed((t, args, nowUs, s) => ({
    ...t,
    comments: [...t.comments, { author: s.currentUser, text: str(args, 'text'), atUs: nowUs }],
  })),
};

const assignTicket: Op = {
  description: 'Assign a ticket that is not closed to a person (a support agent username).',
  parameters: params({ ticketId, assignee: stringParam('Username to assign', { minLength: 1 }) }, [
    'ticketId',
    'assignee',
  ]),
  readOnly: false,
  apply: whileNotClosed((t, args) => {
    const who = str(args, 'assignee');
    if (t.assignee === who) return `ticket ${t.id} is already assigned to ${who}`;
    return { ...t, assignee: who };
  }),
};

const escalateTicket: Op = {
  description: "Raise an open ticket's priority by one level, up to 5.",
  parameters: params({ ticketId }, ['ticketId']),
  readOnly: false,
  apply: whileNotClosed((t) => {
    if (t.status !== 'open') return `ticket ${t.id} is ${t.status}: only open tickets escalate`;
    if (t.priority >= 5) return `ticket ${t.id} is already at the highest priority`;
    return { ...t, priority: t.priority + 1 };
  }),
};

const resolveTicket: Op = {
  description: 'Mark an open ticket resolved, saying how it was resolved.',
  parameters: params(
    { ticketId, resolution: stringParam('How it was resolved', { minLength: 1 }) },
    ['ticketId', 'resolution'],
  ),
  readOnly: false,
  apply: whileNotClosed((t, args) => {
    if (t.status === 'resolved') return `ticket ${t.id} is already resolved`;
    return { ...t, status: 'resolved', resolution: str(args, 'resolution') };
  }),
};

const closeTicket: Op = {
  description: 'Close a ticket (open or resolved); a closed ticket can only be reopened.',
  parameters: params({ ticketId }, ['ticketId']),
  readOnly: false,
  apply(s, args) {
    const found = find(s, args);
    if (typeof found === 'string') return fail(found);
    if (found.t.status === 'closed') return fail(`ticket ${found.t.id} is already closed`);
    return updated(s, found.i, { ...found.t, status: 'closed' });
  },
};

const reopenTicket: Op = {
  description: 'Reopen a resolved or closed ticket; its resolution is cleared.',
  parameters: params({ ticketId }, ['ticketId']),
  readOnly: false,
  apply(s, args) {
    const found = find(s, args);
    if (typeof found === 'string') return fail(found);
    if (found.t.status === 'open') return fail(`ticket ${found.t.id} is already open`);
    return updated(s, found.i, { ...found.t, status: 'open', resolution: null });
  },
};

export const tickets: Environment<TicketsState> = {
  name: 'tickets',
  description:
    'A support ticket system: open, read, edit, comment on, assign, escalate, resolve, close and ' +
    'reopen tickets.',
  stateSchema: ticketsStateSchema,
  emptyState: { currentUser: 'me', tickets: [], nextTicketId: 1 },
  operations: {
    create_ticket: createTicket,
    get_ticket: getTicket,
    list_tickets: listTickets,
    edit_ticket: editTicket,
    add_ticket_comment: addComment,
    assign_ticket: assignTicket,
    escalate_ticket: escalateTicket,
    resolve_ticket: resolveTicket,
    close_ticket: closeTicket,
    reopen_ticket: reopenTicket,
  },
};
