/**
 * `travel`: flight booking paid by credit card under an optional budget, with insurance, invoices
 * and customer support. Modelled on BFCL v3's travel booking API; written anew. Fares come from a
 * route table in the state (economy fare x 1, business x 2, first x 5), booking ids from a counter:
 * a blind retry of book_flight books and charges twice, unless the budget or the card stops it.
 *
 * The budget, when set, caps what the active bookings cost in all (fares and insurance): a charge
 * that would exceed it is a tool error, so the budget is never exceeded.
 */
import { z } from 'zod';
import type { EnvArgs, Environment, Operation } from './environment.js';
import {
  counterSchema,
  dollarsParam,
  enumParam,
  fail,
  integerParam,
  money,
  noIdLeft,
  notCents,
  num,
  ok,
  params,
  replaceAt,
  str,
  stringParam,
  toCents,
  toDollars,
} from './ops.js';

const CLASSES = ['economy', 'business', 'first'] as const;
const CLASS_FACTOR: Readonly<Record<(typeof CLASSES)[number], number>> = {
  economy: 1,
  business: 2,
  first: 5,
};
const INSURANCE = ['basic', 'comprehensive'] as const;
/** Insurance price as a share of the fare, in percent. */
const INSURANCE_PERCENT: Readonly<Record<(typeof INSURANCE)[number], number>> = {
  basic: 5,
  comprehensive: 12,
};

const bookingSchema = z.strictObject({
  id: z.int().min(1),
  cardId: z.string(),
  from: z.string(),
  to: z.string(),
  date: z.string(),
  travelClass: z.enum(CLASSES),
  fareCents: z.int().min(0),
  // The card the insurance was charged to, which need not be the fare's: a refund goes back to each.
  insurance: z
    .strictObject({ type: z.enum(INSURANCE), costCents: z.int().min(0), cardId: z.string() })
    .nullable(),
  status: z.enum(['booked', 'cancelled']),
});

export const travelStateSchema = z
  .strictObject({
    airports: z.array(z.strictObject({ code: z.string().regex(/^[A-Z]{3}$/), city: z.string() })),
    /** One-way economy fares; other classes are multiples. */
    routes: z.array(
      z.strictObject({ from: z.string(), to: z.string(), economyCents: z.int().min(1) }),
    ),
    /** Credit cards with the credit still available on each. */
    cards: z.array(
      z.strictObject({
        id: z.string().min(1),
        holder: z.string(),
        last4: z.string().regex(/^[0-9]{4}$/),
        balanceCents: z.int().min(0),
      }),
    ),
    bookings: z.array(bookingSchema),
    /** What active bookings may cost in all, or null for no budget. */
    budgetCents: z.int().min(0).nullable(),
    supportRequests: z.array(
      z.strictObject({ bookingId: z.int(), message: z.string(), atUs: z.int().min(0) }),
    ),
    nextBookingId: counterSchema,
  })
  .superRefine((s, ctx) => {
    const problem = (message: string): void => ctx.addIssue({ code: 'custom', message });
    const codes = new Set(s.airports.map((a) => a.code));
    const cards = new Set(s.cards.map((c) => c.id));
    if (codes.size !== s.airports.length) problem('airport codes must be unique');
    if (cards.size !== s.cards.length) problem('card ids must be unique');
    for (const r of s.routes)
      if (!codes.has(r.from) || !codes.has(r.to)) problem(`route ${r.from}-${r.to}: no airport`);
    if (new Set(s.routes.map((r) => `${r.from}-${r.to}`)).size !== s.routes.length)
      problem('routes must be unique');
    if (new Set(s.bookings.map((b) => b.id)).size !== s.bookings.length)
      problem('booking ids must be unique');
    for (const b of s.bookings) {
      if (b.id >= s.nextBookingId) problem(`booking ${b.id} is not below nextBookingId`);
      if (!cards.has(b.cardId)) problem(`booking ${b.id} is paid by an unknown card`);
    }
    if (s.budgetCents !== null && spentCents(s) > s.budgetCents)
      problem('the active bookings cost more than the budget');
  });

export type TravelState = z.infer<typeof travelStateSchema>;
type Booking = TravelState['bookings'][number];
type Card = TravelState['cards'][number];
type Op = Operation<TravelState>;

/** What the active bookings cost in all, fares and insurance. */
function spentCents(s: TravelState): number {
  return s.bookings
    .filter((b) => b.status === 'booked')
    .reduce((sum, b) => sum + b.fareCents + (b.insurance?.costCents ?? 0), 0);
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/**
 * A real calendar date written YYYY-MM-DD (proleptic Gregorian), by arithmetic: no `Date` in an
 * environment (and `Date.UTC` reads years 0-99 as 1900-1999).
 */
export function isDate(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (m === null) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = mo === 2 && leap ? 29 : MONTH_DAYS[mo - 1]!;
  return d >= 1 && d <= days;
}

/** The fare for a trip, or the error: unknown airport, bad date, no route. */
function fare(s: TravelState, args: EnvArgs): number | string {
  const from = str(args, 'from');
  const to = str(args, 'to');
  for (const code of [from, to])
    if (!s.airports.some((a) => a.code === code)) return `no airport ${code}`;
  const date = str(args, 'date');
  if (!isDate(date)) return `invalid date ${date}`;
  const route = s.routes.find((r) => r.from === from && r.to === to);
  if (route === undefined) return `no route from ${from} to ${to}`;
  const cents =
    route.economyCents * CLASS_FACTOR[str(args, 'travelClass') as (typeof CLASSES)[number]];
  return Number.isSafeInteger(cents) ? cents : 'fare too large';
}

/**
 * `cardId` charged `cents`, or why not: no such card, too little credit on it, or over budget.
 */
function charge(s: TravelState, cardId: string, cents: number): TravelState['cards'] | string {
  const i = s.cards.findIndex((c) => c.id === cardId);
  if (i < 0) return `no credit card ${cardId}`;
  const card = s.cards[i]!;
  if (cents > card.balanceCents)
    return `insufficient funds on card ${cardId}: it costs ${money(cents)}, the balance is ${money(card.balanceCents)}`;
  if (s.budgetCents !== null && spentCents(s) + cents > s.budgetCents) {
    const left = s.budgetCents - spentCents(s);
    return `over budget: it costs ${money(cents)}, ${money(left)} of the ${money(s.budgetCents)} budget is left`;
  }
  return replaceAt(s.cards, i, { ...card, balanceCents: card.balanceCents - cents });
}

function findBooking(s: TravelState, args: EnvArgs): number | string {
  const i = s.bookings.findIndex((b) => b.id === args.bookingId);
  return i < 0 ? `no booking ${args.bookingId}` : i;
}

function invoice(b: Booking) {
  const insurance = b.insurance?.costCents ?? 0;
  return {
    bookingId: b.id,
    status: b.status,
    from: b.from,
    to: b.to,
    date: b.date,
    travelClass: b.travelClass,
    cardId: b.cardId,
    fare: toDollars(b.fareCents),
    insurance: b.insurance === null ? null : { type: b.insurance.type, cost: toDollars(insurance) },
    total: toDollars(b.fareCents + insurance),
  };
}

const airport = (what: string) =>
  stringParam(`${what} airport code (IATA)`, { pattern: '^[A-Z]{3}$' });
const tripParams = {
  from: airport('Departure'),
  to: airport('Arrival'),
  date: stringParam('Travel date, YYYY-MM-DD', { pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' }),
  travelClass: enumParam('Cabin class', CLASSES),
};
const bookingIdParam = integerParam('Booking id', { minimum: 1 });
const cardIdParam = stringParam('Credit card id, from list_credit_cards');

const listAirports: Op = {
  description: 'List the airports served, with their city.',
  parameters: params({}),
  readOnly: true,
  apply: (s) => ok(s, { airports: s.airports }),
};

const nearestAirport: Op = {
  description: "Find the airport of a city by the city's name (ignoring case).",
  parameters: params({ city: stringParam('City name, e.g. Lisbon') }, ['city']),
  readOnly: true,
  apply(s, args) {
    const city = str(args, 'city');
    const a = s.airports.find((x) => x.city.toLowerCase() === city.toLowerCase());
    return a === undefined ? fail(`no airport near '${city}'`) : ok(s, { code: a.code });
  },
};

const getFlightCost: Op = {
  description: 'Get the one-way fare between two airports on a date in a cabin class.',
  parameters: params(tripParams, ['from', 'to', 'date', 'travelClass']),
  readOnly: true,
  apply(s, args) {
    const cents = fare(s, args);
    return typeof cents === 'string' ? fail(cents) : ok(s, { cost: toDollars(cents) });
  },
};

const bookFlight: Op = {
  description:
    'Book a one-way flight and charge its fare to a credit card; returns the booking id.',
  parameters: params({ ...tripParams, cardId: cardIdParam }, [
    'from',
    'to',
    'date',
    'travelClass',
    'cardId',
  ]),
  readOnly: false,
  apply(s, args) {
    const cents = fare(s, args);
    if (typeof cents === 'string') return fail(cents);
    const full = noIdLeft('booking', s.nextBookingId);
    if (full !== null) return fail(full);
    const cardId = str(args, 'cardId');
    const cards = charge(s, cardId, cents);
    if (typeof cards === 'string') return fail(cards);
    const b: Booking = {
      id: s.nextBookingId,
      cardId,
      from: str(args, 'from'),
      to: str(args, 'to'),
      date: str(args, 'date'),
      travelClass: str(args, 'travelClass') as Booking['travelClass'],
      fareCents: cents,
      insurance: null,
      status: 'booked',
    };
    const next = { ...s, cards, bookings: [...s.bookings, b], nextBookingId: b.id + 1 };
    return ok(next, invoice(b));
  },
};

const cancelBooking: Op = {
  description: 'Cancel a booking; its fare and insurance are refunded to the card that paid.',
  parameters: params({ bookingId: bookingIdParam }, ['bookingId']),
  readOnly: false,
  apply(s, args) {
    const i = findBooking(s, args);
    if (typeof i === 'string') return fail(i);
    const b = s.bookings[i]!;
    if (b.status === 'cancelled') return fail(`booking ${b.id} is already cancelled`);
    const refund = b.fareCents + (b.insurance?.costCents ?? 0);
    const back = (c: Card): number =>
      (c.id === b.cardId ? b.fareCents : 0) +
      (b.insurance !== null && c.id === b.insurance.cardId ? b.insurance.costCents : 0);
    const cards = s.cards.map((c) =>
      back(c) === 0 ? c : { ...c, balanceCents: c.balanceCents + back(c) },
    );
    const cancelled: Booking = { ...b, status: 'cancelled' };
    return ok(
      { ...s, cards, bookings: replaceAt(s.bookings, i, cancelled) },
      { bookingId: b.id, refunded: toDollars(refund) },
    );
  },
};

const listBookings: Op = {
  description: 'List your bookings, active and cancelled, with their costs.',
  parameters: params({}),
  readOnly: true,
  apply: (s) => ok(s, { bookings: s.bookings.map(invoice) }),
};

const retrieveInvoice: Op = {
  description: "Get a booking's invoice: trip, fare, insurance and total.",
  parameters: params({ bookingId: bookingIdParam }, ['bookingId']),
  readOnly: true,
  apply(s, args) {
    const i = findBooking(s, args);
    return typeof i === 'string' ? fail(i) : ok(s, invoice(s.bookings[i]!));
  },
};

const listCards: Op = {
  description: 'List your credit cards with the credit still available on each.',
  parameters: params({}),
  readOnly: true,
  apply: (s) =>
    ok(s, {
      cards: s.cards.map((c) => ({
        cardId: c.id,
        holder: c.holder,
        last4: c.last4,
        balance: toDollars(c.balanceCents),
      })),
    }),
};

const cardBalance: Op = {
  description: 'Get the credit still available on one card.',
  parameters: params({ cardId: cardIdParam }, ['cardId']),
  readOnly: true,
  apply(s, args) {
    const id = str(args, 'cardId');
    const c = s.cards.find((x) => x.id === id);
    return c === undefined
      ? fail(`no credit card ${id}`)
      : ok(s, { cardId: id, balance: toDollars(c.balanceCents) });
  },
};

const setBudget: Op = {
  description: 'Set the budget: the most your active bookings (fares and insurance) may cost.',
  parameters: params({ amount: dollarsParam('Budget') }, ['amount']),
  readOnly: false,
  apply(s, args) {
    const amount = num(args, 'amount');
    const cents = toCents(amount);
    if (cents === null) return fail(notCents('amount', amount));
    const spent = spentCents(s);
    if (spent > cents)
      return fail(`cannot set the budget below the ${money(spent)} already booked`);
    return ok({ ...s, budgetCents: cents }, { budget: toDollars(cents) });
  },
};

const getBudget: Op = {
  description: 'Get the budget, what active bookings cost, and what is left.',
  parameters: params({}),
  readOnly: true,
  apply(s) {
    const spent = spentCents(s);
    const limit = s.budgetCents;
    return ok(s, {
      budget: limit === null ? null : toDollars(limit),
      spent: toDollars(spent),
      left: limit === null ? null : toDollars(limit - spent),
    });
  },
};

const purchaseInsurance: Op = {
  description:
    'Insure an active booking, charged to a card: basic costs 5% of the fare, comprehensive 12%.',
  parameters: params(
    {
      bookingId: bookingIdParam,
      insuranceType: enumParam('Cover', INSURANCE),
      cardId: cardIdParam,
    },
    ['bookingId', 'insuranceType', 'cardId'],
  ),
  readOnly: false,
  apply(s, args) {
    const i = findBooking(s, args);
    if (typeof i === 'string') return fail(i);
    const b = s.bookings[i]!;
    if (b.status === 'cancelled') return fail(`booking ${b.id} is cancelled`);
    if (b.insurance !== null) return fail(`booking ${b.id} is already insured`);
    const type = str(args, 'insuranceType') as (typeof INSURANCE)[number];
    const cost = Math.round((b.fareCents * INSURANCE_PERCENT[type]) / 100);
    const cardId = str(args, 'cardId');
    const cards = charge(s, cardId, cost);
    if (typeof cards === 'string') return fail(cards);
    const insured: Booking = { ...b, insurance: { type, costCents: cost, cardId } };
    return ok({ ...s, cards, bookings: replaceAt(s.bookings, i, insured) }, invoice(insured));
  },
};

const contactSupport: Op = {
  description: 'Send a message about a booking to customer support.',
  parameters: params(
    {
      bookingId: bookingIdParam,
      message: stringParam('What you need', { minLength: 1, maxLength: 2000 }),
    },
    ['bookingId', 'message'],
  ),
  readOnly: false,
  apply(s, args, { nowUs }) {
    const i = findBooking(s, args);
    if (typeof i === 'string') return fail(i);
    const request = { bookingId: s.bookings[i]!.id, message: str(args, 'message'), atUs: nowUs };
    return ok(
      { ...s, supportRequests: [...s.supportRequests, request] },
      { received: true, reply: 'Thank you: support will answer about this booking shortly.' },
    );
  },
};

const route = (from: string, to: string, economyCents: number) => ({ from, to, economyCents });

export const travel: Environment<TravelState> = {
  name: 'travel',
  description:
    'Flight booking: fares, bookings paid by credit card under a budget, insurance, invoices ' +
    'and customer support.',
  stateSchema: travelStateSchema,
  // A small network so a scenario that gives no state has flights; cards come with the scenario.
  emptyState: {
    airports: [
      { code: 'SFO', city: 'San Francisco' },
      { code: 'LAX', city: 'Los Angeles' },
      { code: 'JFK', city: 'New York' },
      { code: 'ORD', city: 'Chicago' },
      { code: 'LHR', city: 'London' },
      { code: 'CDG', city: 'Paris' },
    ],
    routes: [
      route('SFO', 'LAX', 20_000),
      route('LAX', 'SFO', 20_000),
      route('SFO', 'JFK', 50_000),
      route('JFK', 'SFO', 50_000),
      route('JFK', 'ORD', 30_000),
      route('ORD', 'JFK', 30_000),
      route('JFK', 'LHR', 90_000),
      route('LHR', 'JFK', 90_000),
      route('LHR', 'CDG', 10_000),
      route('CDG', 'LHR', 10_000),
    ],
    cards: [],
    bookings: [],
    budgetCents: null,
    supportRequests: [],
    nextBookingId: 1,
  },
  operations: {
    list_airports: listAirports,
    get_nearest_airport: nearestAirport,
    get_flight_cost: getFlightCost,
    book_flight: bookFlight,
    cancel_booking: cancelBooking,
    list_bookings: listBookings,
    retrieve_invoice: retrieveInvoice,
    list_credit_cards: listCards,
    get_credit_card_balance: cardBalance,
    set_budget_limit: setBudget,
    get_budget: getBudget,
    purchase_insurance: purchaseInsurance,
    contact_customer_support: contactSupport,
  },
};
