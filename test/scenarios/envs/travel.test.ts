import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { travel, type TravelState } from '../../../scenarios/envs/travel.js';
import {
  applyAll,
  applyError,
  applyOk,
  argsOf,
  call,
  contractProperties,
  type Call,
} from './harness.js';

/** The default network with 0-2 cards and maybe a budget. */
const stateArb: fc.Arbitrary<TravelState> = fc
  .record({
    balances: fc.array(fc.integer({ min: 0, max: 400_000 }), { maxLength: 2 }),
    budget: fc.option(fc.integer({ min: 0, max: 300_000 })),
  })
  .map(({ balances, budget }) => ({
    ...travel.emptyState,
    cards: balances.map((b, i) => ({
      id: `card_${i + 1}`,
      holder: 'Me',
      last4: `000${i + 1}`,
      balanceCents: b,
    })),
    budgetCents: budget,
  }));

const airport = fc.constantFrom('SFO', 'LAX', 'JFK', 'LHR', 'CDG', 'XXX');
const anyTrip = {
  from: airport,
  to: airport,
  date: fc.constantFrom('2025-03-14', '2024-02-29', '2025-02-29', '2025-13-01'),
  travelClass: fc.constantFrom('economy', 'business', 'first'),
};
/** Mostly trips on a route of the default network, so bookings succeed often. */
const tripArgs = fc.oneof(
  {
    arbitrary: fc.record({
      leg: fc.constantFrom(...travel.emptyState.routes),
      date: fc.constant('2025-03-14'),
      travelClass: fc.constantFrom('economy', 'economy', 'business', 'first'),
    }),
    weight: 3,
  },
  fc.record(anyTrip).map(({ from, to, ...rest }) => ({ leg: { from, to }, ...rest })),
);
const trip = (extra: { [key: string]: fc.Arbitrary<string> }) =>
  fc.tuple(tripArgs, fc.record(extra)).map(([{ leg, date, travelClass }, more]) => ({
    from: leg.from,
    to: leg.to,
    date,
    travelClass,
    ...more,
  }));
const cardId = fc.constantFrom('card_1', 'card_2', 'card_9');
const bookingId = fc.integer({ min: 1, max: 6 });
const callArb: fc.Arbitrary<Call> = fc.oneof(
  call('list_airports'),
  call('get_nearest_airport', argsOf({ city: fc.constantFrom('paris', 'London', 'Oslo') })),
  call('get_flight_cost', trip({})),
  { arbitrary: call('book_flight', trip({ cardId })), weight: 4 },
  { arbitrary: call('cancel_booking', argsOf({ bookingId })), weight: 2 },
  call('list_bookings'),
  call('retrieve_invoice', argsOf({ bookingId })),
  call('list_credit_cards'),
  call('get_credit_card_balance', argsOf({ cardId })),
  call('set_budget_limit', argsOf({ amount: fc.constantFrom(100, 1000, 2500.5, 0.001) })),
  call('get_budget'),
  {
    arbitrary: call(
      'purchase_insurance',
      argsOf({ bookingId, insuranceType: fc.constantFrom('basic', 'comprehensive'), cardId }),
    ),
    weight: 2,
  },
  call('contact_customer_support', argsOf({ bookingId, message: fc.constant('help') })),
);

function spent(s: TravelState): number {
  return s.bookings
    .filter((b) => b.status === 'booked')
    .reduce((sum, b) => sum + b.fareCents + (b.insurance?.costCents ?? 0), 0);
}

/** The budget is never exceeded; cards never go below zero; booking ids unique. */
function invariant(s: TravelState): string | null {
  if (s.budgetCents !== null && spent(s) > s.budgetCents)
    return `spent ${spent(s)} over budget ${s.budgetCents}`;
  for (const c of s.cards) if (c.balanceCents < 0) return `card ${c.id} at ${c.balanceCents}`;
  const ids = s.bookings.map((b) => b.id);
  if (new Set(ids).size !== ids.length) return 'duplicate booking id';
  return null;
}

/** Card credit plus what active bookings cost is constant: every charge is a booking's cost. */
function total(s: TravelState): number {
  return s.cards.reduce((sum, c) => sum + c.balanceCents, 0) + spent(s);
}

describe('travel environment: properties', () => {
  contractProperties({ env: travel, initial: stateArb, call: callArb, invariant, numRuns: 2000 });

  it('conserves money: card credit plus active bookings stays constant', () => {
    const money = fc.oneof(
      { arbitrary: call('book_flight', trip({ cardId })), weight: 3 },
      {
        arbitrary: call('cancel_booking', argsOf({ bookingId: fc.integer({ min: 1, max: 3 }) })),
        weight: 2,
      },
      call(
        'purchase_insurance',
        argsOf({
          bookingId: fc.integer({ min: 1, max: 3 }),
          insuranceType: fc.constantFrom('basic', 'comprehensive'),
          cardId,
        }),
      ),
    );
    fc.assert(
      fc.property(stateArb, fc.array(money, { maxLength: 30 }), (start, calls) => {
        let s = start;
        for (const c of calls) {
          const o = travel.operations[c.op]!.apply(s, c.args, { nowUs: 0 });
          if (o.ok) s = o.state;
        }
        expect(total(s)).toBe(total(start));
      }),
      { numRuns: 1000 },
    );
  });
});

const base: TravelState = {
  ...travel.emptyState,
  cards: [
    { id: 'card_1', holder: 'Me', last4: '4242', balanceCents: 150_000 },
    { id: 'card_2', holder: 'Me', last4: '1111', balanceCents: 10_000 },
  ],
};
const sfoJfk = { from: 'SFO', to: 'JFK', date: '2025-03-14', travelClass: 'economy' };

describe('travel environment: operations', () => {
  it('lists airports and finds the one of a city', () => {
    const r = applyOk(travel, base, 'list_airports').result as { airports: unknown[] };
    expect(r.airports).toHaveLength(6);
    expect(applyOk(travel, base, 'get_nearest_airport', { city: 'paris' }).result).toEqual({
      code: 'CDG',
    });
    expect(applyError(travel, base, 'get_nearest_airport', { city: 'Oslo' })).toBe(
      "no airport near 'Oslo'",
    );
  });

  it('prices a trip by route and class, with the errors of each', () => {
    const cost = (args: object) => applyOk(travel, base, 'get_flight_cost', { ...sfoJfk, ...args });
    expect(cost({}).result).toEqual({ cost: 500 });
    expect(cost({ travelClass: 'business' }).result).toEqual({ cost: 1000 });
    expect(cost({ travelClass: 'first' }).result).toEqual({ cost: 2500 });
    const err = (args: object) =>
      applyError(travel, base, 'get_flight_cost', { ...sfoJfk, ...args });
    expect(err({ to: 'XXX' })).toBe('no airport XXX');
    expect(err({ to: 'CDG' })).toBe('no route from SFO to CDG');
    expect(err({ date: '2025-02-29' })).toBe('invalid date 2025-02-29');
    expect(err({ date: '2025-13-01' })).toBe('invalid date 2025-13-01');
    expect(cost({ date: '2024-02-29' }).result).toEqual({ cost: 500 });
  });

  it('books a flight, charging the card; a blind retry books and charges twice', () => {
    const args = { ...sfoJfk, cardId: 'card_1' };
    const { state, result } = applyOk(travel, base, 'book_flight', args);
    expect(result).toEqual({
      bookingId: 1,
      status: 'booked',
      from: 'SFO',
      to: 'JFK',
      date: '2025-03-14',
      travelClass: 'economy',
      cardId: 'card_1',
      fare: 500,
      insurance: null,
      total: 500,
    });
    expect(state.cards[0]!.balanceCents).toBe(100_000);
    const twice = applyOk(travel, state, 'book_flight', args).state;
    expect(twice.bookings.map((b) => b.id)).toEqual([1, 2]);
    expect(twice.cards[0]!.balanceCents).toBe(50_000);
  });

  it('refuses a booking the card or the budget cannot cover', () => {
    expect(applyError(travel, base, 'book_flight', { ...sfoJfk, cardId: 'card_2' })).toBe(
      'insufficient funds on card card_2: it costs $500.00, the balance is $100.00',
    );
    expect(applyError(travel, base, 'book_flight', { ...sfoJfk, cardId: 'card_9' })).toBe(
      'no credit card card_9',
    );
    const budget = applyOk(travel, base, 'set_budget_limit', { amount: 700 }).state;
    const one = applyOk(travel, budget, 'book_flight', { ...sfoJfk, cardId: 'card_1' }).state;
    expect(applyError(travel, one, 'book_flight', { ...sfoJfk, cardId: 'card_1' })).toBe(
      'over budget: it costs $500.00, $200.00 of the $700.00 budget is left',
    );
  });

  it("cancels a booking, refunding the fare to its card and the insurance to the card it was charged to (regression: both went to the fare's card)", () => {
    const s = applyAll(travel, base, [
      ['book_flight', { ...sfoJfk, cardId: 'card_1' }],
      ['purchase_insurance', { bookingId: 1, insuranceType: 'comprehensive', cardId: 'card_2' }],
    ]);
    expect(s.cards.map((c) => c.balanceCents)).toEqual([100_000, 4_000]);
    const { state, result } = applyOk(travel, s, 'cancel_booking', { bookingId: 1 });
    expect(result).toEqual({ bookingId: 1, refunded: 560 });
    // The refund goes to the card that paid the booking, insurance included.
    expect(state.cards.map((c) => c.balanceCents)).toEqual([150_000, 10_000]);
    expect(state.bookings[0]!.status).toBe('cancelled');
    expect(applyError(travel, state, 'cancel_booking', { bookingId: 1 })).toBe(
      'booking 1 is already cancelled',
    );
    expect(applyError(travel, state, 'cancel_booking', { bookingId: 2 })).toBe('no booking 2');
  });

  it('insures an active booking once, at its share of the fare', () => {
    const s = applyOk(travel, base, 'book_flight', { ...sfoJfk, cardId: 'card_1' }).state;
    const ins = { bookingId: 1, insuranceType: 'basic', cardId: 'card_1' };
    const { state, result } = applyOk(travel, s, 'purchase_insurance', ins);
    expect(result).toMatchObject({ insurance: { type: 'basic', cost: 25 }, total: 525 });
    expect(applyError(travel, state, 'purchase_insurance', ins)).toBe(
      'booking 1 is already insured',
    );
    expect(applyError(travel, s, 'purchase_insurance', { ...ins, bookingId: 4 })).toBe(
      'no booking 4',
    );
    expect(applyError(travel, s, 'purchase_insurance', { ...ins, cardId: 'card_9' })).toBe(
      'no credit card card_9',
    );
    const cancelled = applyOk(travel, s, 'cancel_booking', { bookingId: 1 }).state;
    expect(applyError(travel, cancelled, 'purchase_insurance', ins)).toBe('booking 1 is cancelled');
    const tight = applyOk(travel, s, 'set_budget_limit', { amount: 510 }).state;
    expect(applyError(travel, tight, 'purchase_insurance', ins)).toBe(
      'over budget: it costs $25.00, $10.00 of the $510.00 budget is left',
    );
  });

  it('lists bookings and retrieves an invoice', () => {
    const s = applyOk(travel, base, 'book_flight', { ...sfoJfk, cardId: 'card_1' }).state;
    expect(applyOk(travel, s, 'list_bookings').result).toEqual({
      bookings: [applyOk(travel, s, 'retrieve_invoice', { bookingId: 1 }).result],
    });
    expect(applyError(travel, s, 'retrieve_invoice', { bookingId: 3 })).toBe('no booking 3');
  });

  it('lists cards and gives one balance', () => {
    expect(applyOk(travel, base, 'list_credit_cards').result).toEqual({
      cards: [
        { cardId: 'card_1', holder: 'Me', last4: '4242', balance: 1500 },
        { cardId: 'card_2', holder: 'Me', last4: '1111', balance: 100 },
      ],
    });
    expect(applyOk(travel, base, 'get_credit_card_balance', { cardId: 'card_2' }).result).toEqual({
      cardId: 'card_2',
      balance: 100,
    });
    expect(applyError(travel, base, 'get_credit_card_balance', { cardId: 'x' })).toBe(
      'no credit card x',
    );
  });

  it('sets a budget no lower than what is booked, and reports it', () => {
    expect(applyOk(travel, base, 'get_budget').result).toEqual({
      budget: null,
      spent: 0,
      left: null,
    });
    const s = applyOk(travel, base, 'book_flight', { ...sfoJfk, cardId: 'card_1' }).state;
    expect(applyError(travel, s, 'set_budget_limit', { amount: 499.99 })).toBe(
      'cannot set the budget below the $500.00 already booked',
    );
    expect(applyError(travel, s, 'set_budget_limit', { amount: 600.001 })).toBe(
      'amount 600.001 is not a whole number of cents',
    );
    const b = applyOk(travel, s, 'set_budget_limit', { amount: 600 });
    expect(b.result).toEqual({ budget: 600 });
    expect(applyOk(travel, b.state, 'get_budget').result).toEqual({
      budget: 600,
      spent: 500,
      left: 100,
    });
  });

  it('records a support request about a booking', () => {
    const s = applyOk(travel, base, 'book_flight', { ...sfoJfk, cardId: 'card_1' }).state;
    const r = applyOk(travel, s, 'contact_customer_support', { bookingId: 1, message: 'seat?' }, 9);
    expect(r.state.supportRequests).toEqual([{ bookingId: 1, message: 'seat?', atUs: 9 }]);
    expect(applyError(travel, s, 'contact_customer_support', { bookingId: 2, message: 'x' })).toBe(
      'no booking 2',
    );
  });

  it('refuses a fare past exact integer cents', () => {
    const pricey = { ...base, routes: [{ from: 'SFO', to: 'JFK', economyCents: 2 ** 51 }] };
    expect(applyError(travel, pricey, 'get_flight_cost', { ...sfoJfk, travelClass: 'first' })).toBe(
      'fare too large',
    );
  });

  it('rejects states that break its invariants', () => {
    const s = applyOk(travel, base, 'book_flight', { ...sfoJfk, cardId: 'card_1' }).state;
    const bad = (patch: Partial<TravelState>) => travel.stateSchema.safeParse({ ...s, ...patch });
    expect(bad({}).success).toBe(true);
    expect(bad({ budgetCents: 49_999 }).success).toBe(false);
    expect(bad({ nextBookingId: 1 }).success).toBe(false);
    expect(bad({ cards: [base.cards[1]!] }).success).toBe(false);
    expect(bad({ routes: [{ from: 'SFO', to: 'ZZZ', economyCents: 1 }] }).success).toBe(false);
  });
});

describe('isDate: calendar dates by arithmetic (no Date in an environment)', () => {
  it('knows month lengths and the Gregorian leap rule, years 0000-0099 included', async () => {
    const { isDate } = await import('../../../scenarios/envs/travel.js');
    for (const ok of ['2024-02-29', '2000-02-29', '0000-02-29', '2026-12-31', '2026-04-30'])
      expect(isDate(ok), ok).toBe(true);
    for (const bad of [
      '2026-02-29',
      '1900-02-29',
      '2026-04-31',
      '2026-13-01',
      '2026-00-10',
      '2026-1-01',
    ])
      expect(isDate(bad), bad).toBe(false);
  });
});
