import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tickets, type TicketsState } from '../../../scenarios/envs/tickets.js';
import {
  applyAll,
  applyError,
  applyOk,
  argsOf,
  call,
  contractProperties,
  type Call,
} from './harness.js';

/** Up to 5 tickets in any status, by the agent or someone else, with a gap before the counter. */
const stateArb: fc.Arbitrary<TicketsState> = fc
  .tuple(
    fc.array(
      fc.record({
        status: fc.constantFrom('open', 'resolved', 'closed'),
        priority: fc.integer({ min: 1, max: 5 }),
        mine: fc.boolean(),
        assignee: fc.constantFrom(null, 'sam'),
      }),
      { maxLength: 5 },
    ),
    fc.nat(2),
  )
  .map(([raw, gap]) => {
    const list = raw.map((t, i) => ({
      id: i + 1,
      title: `T${i + 1}`,
      description: '',
      status: t.status,
      priority: t.priority,
      createdBy: t.mine ? 'me' : 'kim',
      assignee: t.assignee,
      resolution: t.status === 'open' ? null : 'done',
      comments: [],
      createdAtUs: 0,
    }));
    return { currentUser: 'me', tickets: list, nextTicketId: list.length + 1 + gap };
  });

const ticketId = fc.integer({ min: 1, max: 8 });
const callArb: fc.Arbitrary<Call> = fc.oneof(
  call(
    'create_ticket',
    argsOf(
      {
        title: fc.constantFrom('VPN down', 'Printer'),
        description: fc.constant('help'),
        priority: fc.integer({ min: 1, max: 5 }),
      },
      ['title'],
    ),
  ),
  call('get_ticket', argsOf({ ticketId })),
  call(
    'list_tickets',
    argsOf({ status: fc.constantFrom('open', 'resolved', 'closed'), mine: fc.boolean() }, []),
  ),
  call(
    'edit_ticket',
    argsOf(
      {
        ticketId,
        title: fc.constant('New'),
        description: fc.constant('d'),
        priority: fc.constant(3),
      },
      ['ticketId'],
    ),
  ),
  call('add_ticket_comment', argsOf({ ticketId, text: fc.constant('on it') })),
  call('assign_ticket', argsOf({ ticketId, assignee: fc.constantFrom('sam', 'lee') })),
  call('escalate_ticket', argsOf({ ticketId })),
  call('resolve_ticket', argsOf({ ticketId, resolution: fc.constant('rebooted') })),
  call('close_ticket', argsOf({ ticketId })),
  call('reopen_ticket', argsOf({ ticketId })),
);

/** Ids unique and below the counter; the resolution goes with the status. */
function invariant(s: TicketsState): string | null {
  const ids = s.tickets.map((t) => t.id);
  if (new Set(ids).size !== ids.length) return `duplicate ticket id in ${ids}`;
  if (ids.some((id) => id >= s.nextTicketId)) return 'a ticket id is not below nextTicketId';
  for (const t of s.tickets) {
    if (t.priority < 1 || t.priority > 5) return `ticket ${t.id} priority ${t.priority}`;
    if ((t.status === 'open') !== (t.resolution === null) && t.status !== 'closed')
      return `ticket ${t.id} is ${t.status} with resolution ${t.resolution}`;
  }
  return null;
}

describe('tickets environment: properties', () => {
  contractProperties({ env: tickets, initial: stateArb, call: callArb, invariant, numRuns: 2000 });
});

const base: TicketsState = {
  currentUser: 'me',
  tickets: [
    {
      id: 1,
      title: 'VPN down',
      description: 'since 9am',
      status: 'open',
      priority: 2,
      createdBy: 'me',
      assignee: null,
      resolution: null,
      comments: [],
      createdAtUs: 0,
    },
    {
      id: 2,
      title: 'Printer',
      description: '',
      status: 'closed',
      priority: 5,
      createdBy: 'kim',
      assignee: 'sam',
      resolution: 'toner',
      comments: [],
      createdAtUs: 0,
    },
  ],
  nextTicketId: 3,
};

const open1 = base.tickets[0]!;

describe('tickets environment: operations', () => {
  it('creates a ticket with defaults and the next id; a second create is a second ticket', () => {
    const { state, result } = applyOk(tickets, base, 'create_ticket', { title: 'Disk' }, 9000);
    expect(result).toEqual({
      ticketId: 3,
      title: 'Disk',
      description: '',
      status: 'open',
      priority: 1,
      createdBy: 'me',
      assignee: null,
      resolution: null,
      comments: [],
    });
    expect(state.tickets[2]!.createdAtUs).toBe(9000);
    const again = applyOk(tickets, state, 'create_ticket', { title: 'Disk' });
    expect((again.result as { ticketId: number }).ticketId).toBe(4);
  });

  it('gets a ticket or says there is none', () => {
    expect(applyOk(tickets, base, 'get_ticket', { ticketId: 1 }).result).toMatchObject({
      ticketId: 1,
      status: 'open',
    });
    expect(applyError(tickets, base, 'get_ticket', { ticketId: 7 })).toBe('no ticket 7');
  });

  it('lists tickets, filtered by status and by creator', () => {
    const ids = (args: { status?: string; mine?: boolean }) =>
      (
        applyOk(tickets, base, 'list_tickets', args).result as {
          tickets: Array<{ ticketId: number }>;
        }
      ).tickets.map((t) => t.ticketId);
    expect(ids({})).toEqual([1, 2]);
    expect(ids({ status: 'closed' })).toEqual([2]);
    expect(ids({ mine: true })).toEqual([1]);
    expect(ids({ mine: false })).toEqual([1, 2]);
  });

  it('edits the fields given, and refuses an empty edit or a closed ticket', () => {
    const { state } = applyOk(tickets, base, 'edit_ticket', { ticketId: 1, priority: 4 });
    expect(state.tickets[0]).toEqual({ ...open1, priority: 4 });
    expect(applyError(tickets, base, 'edit_ticket', { ticketId: 1 })).toBe(
      'nothing to change: give a title, description or priority',
    );
    expect(applyError(tickets, base, 'edit_ticket', { ticketId: 2, title: 'x' })).toBe(
      'ticket 2 is closed',
    );
    expect(applyError(tickets, base, 'edit_ticket', { ticketId: 9, title: 'x' })).toBe(
      'no ticket 9',
    );
  });

  it('comments on a ticket that is not closed', () => {
    const { state } = applyOk(tickets, base, 'add_ticket_comment', { ticketId: 1, text: 'hi' }, 5);
    expect(state.tickets[0]!.comments).toEqual([{ author: 'me', text: 'hi', atUs: 5 }]);
    expect(applyError(tickets, base, 'add_ticket_comment', { ticketId: 2, text: 'x' })).toBe(
      'ticket 2 is closed',
    );
  });

  it('assigns a ticket, not twice to the same person', () => {
    const s = applyOk(tickets, base, 'assign_ticket', { ticketId: 1, assignee: 'sam' }).state;
    expect(s.tickets[0]!.assignee).toBe('sam');
    expect(applyError(tickets, s, 'assign_ticket', { ticketId: 1, assignee: 'sam' })).toBe(
      'ticket 1 is already assigned to sam',
    );
    expect(applyError(tickets, base, 'assign_ticket', { ticketId: 2, assignee: 'lee' })).toBe(
      'ticket 2 is closed',
    );
  });

  it('escalates an open ticket one level up to 5', () => {
    const s = applyAll(tickets, base, [
      ['escalate_ticket', { ticketId: 1 }],
      ['escalate_ticket', { ticketId: 1 }],
      ['escalate_ticket', { ticketId: 1 }],
    ]);
    expect(s.tickets[0]!.priority).toBe(5);
    expect(applyError(tickets, s, 'escalate_ticket', { ticketId: 1 })).toBe(
      'ticket 1 is already at the highest priority',
    );
    const resolved = applyOk(tickets, base, 'resolve_ticket', { ticketId: 1, resolution: 'r' });
    expect(applyError(tickets, resolved.state, 'escalate_ticket', { ticketId: 1 })).toBe(
      'ticket 1 is resolved: only open tickets escalate',
    );
  });

  it('resolves, closes and reopens, refusing each where the ticket already is', () => {
    const r = applyOk(tickets, base, 'resolve_ticket', { ticketId: 1, resolution: 'rebooted' });
    expect(r.state.tickets[0]).toMatchObject({ status: 'resolved', resolution: 'rebooted' });
    expect(applyError(tickets, r.state, 'resolve_ticket', { ticketId: 1, resolution: 'x' })).toBe(
      'ticket 1 is already resolved',
    );
    expect(applyError(tickets, base, 'resolve_ticket', { ticketId: 2, resolution: 'x' })).toBe(
      'ticket 2 is closed',
    );
    const c = applyOk(tickets, r.state, 'close_ticket', { ticketId: 1 });
    expect(c.state.tickets[0]).toMatchObject({ status: 'closed', resolution: 'rebooted' });
    expect(applyError(tickets, c.state, 'close_ticket', { ticketId: 1 })).toBe(
      'ticket 1 is already closed',
    );
    const o = applyOk(tickets, c.state, 'reopen_ticket', { ticketId: 1 });
    expect(o.state.tickets[0]).toEqual(open1);
    expect(applyError(tickets, o.state, 'reopen_ticket', { ticketId: 1 })).toBe(
      'ticket 1 is already open',
    );
    expect(applyError(tickets, base, 'close_ticket', { ticketId: 5 })).toBe('no ticket 5');
    expect(applyError(tickets, base, 'reopen_ticket', { ticketId: 5 })).toBe('no ticket 5');
  });

  it('rejects states that break its invariants', () => {
    const bad = (patch: Partial<TicketsState>) =>
      tickets.stateSchema.safeParse({ ...base, ...patch });
    expect(bad({}).success).toBe(true);
    expect(bad({ nextTicketId: 2 }).success).toBe(false);
    expect(bad({ tickets: [open1, open1] }).success).toBe(false);
    expect(bad({ tickets: [{ ...open1, resolution: 'x' }] }).success).toBe(false);
    expect(bad({ tickets: [{ ...open1, status: 'resolved' }] }).success).toBe(false);
    expect(bad({ tickets: [{ ...open1, priority: 6 }] }).success).toBe(false);
  });
});
