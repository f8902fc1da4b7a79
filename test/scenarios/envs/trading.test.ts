import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { trading, type TradingState } from '../../../scenarios/envs/trading.js';
import {
  applyAll,
  applyError,
  applyOk,
  argsOf,
  call,
  contractProperties,
  type Call,
} from './harness.js';

const SYMBOLS = ['AAPL', 'NVDA', 'TSLA', 'F', 'ZZZ'];

/** The default market with some cash, some holdings, the market open or not. */
const stateArb: fc.Arbitrary<TradingState> = fc
  .record({
    cashCents: fc.integer({ min: 0, max: 2_000_000 }),
    nvda: fc.nat(20),
    f: fc.nat(50),
    marketOpen: fc.boolean(),
    watch: fc.subarray(['AAPL', 'NVDA', 'TSLA']),
  })
  .map(({ cashCents, nvda, f, marketOpen, watch }) => {
    const holdings: Record<string, number> = {};
    if (nvda > 0) holdings.NVDA = nvda;
    if (f > 0) holdings.F = f;
    return { ...trading.emptyState, cashCents, holdings, marketOpen, watchlist: watch };
  });

const symbol = fc.constantFrom(...SYMBOLS);
const price = fc.constantFrom(5, 10.85, 10.851, 100, 220.34, 250, 700);
const order = fc.oneof(
  argsOf({
    symbol,
    side: fc.constantFrom('buy', 'sell'),
    quantity: fc.integer({ min: 1, max: 60 }),
  }),
  argsOf({
    symbol,
    side: fc.constantFrom('buy', 'sell'),
    quantity: fc.integer({ min: 1, max: 60 }),
    orderType: fc.constant('limit'),
    limitPrice: price,
  }),
  argsOf(
    {
      symbol,
      side: fc.constantFrom('buy', 'sell'),
      quantity: fc.integer({ min: 1, max: 5 }),
      orderType: fc.constantFrom('market', 'limit'),
      limitPrice: price,
    },
    ['symbol', 'side', 'quantity'],
  ),
);
const orderId = fc.integer({ min: 1, max: 8 });
const amount = fc.constantFrom(0.5, 100, 2500.25, 20000, 0.001);
const callArb: fc.Arbitrary<Call> = fc.oneof(
  call('get_stock_quote', argsOf({ symbol })),
  call('get_symbol_by_name', argsOf({ name: fc.constantFrom('nvidia', 'Ford', 'Acme') })),
  call('list_stocks', argsOf({ sector: fc.constantFrom('Technology', 'Food') }, [])),
  call('get_account_balance'),
  call('get_positions'),
  { arbitrary: call('place_order', order), weight: 4 },
  call('get_order_status', argsOf({ orderId })),
  call('list_orders', argsOf({ status: fc.constantFrom('open', 'filled', 'cancelled') }, [])),
  { arbitrary: call('cancel_order', argsOf({ orderId })), weight: 2 },
  call('add_to_watchlist', argsOf({ symbol })),
  call('remove_from_watchlist', argsOf({ symbol })),
  call('get_watchlist'),
  call('fund_account', argsOf({ amount })),
  call('withdraw_funds', argsOf({ amount })),
);

/** Calls that move money and shares, dense in orders and cancels so they meet often. */
const tradeArb: fc.Arbitrary<Call> = fc.oneof(
  { arbitrary: call('place_order', order), weight: 5 },
  {
    arbitrary: call('cancel_order', argsOf({ orderId: fc.integer({ min: 1, max: 4 }) })),
    weight: 3,
  },
  call('fund_account', argsOf({ amount })),
  call('withdraw_funds', argsOf({ amount })),
);
const openMarket = stateArb.map((s) => ({ ...s, marketOpen: true }));

/** Cash and holdings never negative; order ids unique (conservation is its own property below). */
function invariant(s: TradingState): string | null {
  if (s.cashCents < 0) return `cash ${s.cashCents}`;
  for (const [sym, n] of Object.entries(s.holdings)) if (n <= 0) return `holding ${sym} ${n}`;
  const ids = s.orders.map((o) => o.id);
  if (new Set(ids).size !== ids.length) return 'duplicate order id';
  return null;
}

/** Cash and shares the account controls (free plus reserved by open orders), and net flows. */
function ledger(s: TradingState) {
  let cash = s.cashCents;
  const shares: Record<string, number> = { ...s.holdings };
  for (const o of s.orders) {
    if (o.status === 'open' && o.side === 'buy') cash += o.quantity * o.limitPriceCents!;
    if (o.status === 'open' && o.side === 'sell')
      shares[o.symbol] = (shares[o.symbol] ?? 0) + o.quantity;
  }
  let flows = 0;
  for (const t of s.transactions) flows += t.type === 'deposit' ? t.amountCents : -t.amountCents;
  for (const o of s.orders)
    if (o.status === 'filled') {
      const value = o.quantity * o.fillPriceCents!;
      flows += o.side === 'buy' ? -value : value;
      shares[`filled:${o.symbol}`] =
        (shares[`filled:${o.symbol}`] ?? 0) + (o.side === 'buy' ? o.quantity : -o.quantity);
    }
  return { cash, flows, shares };
}

describe('trading environment: properties', () => {
  contractProperties({
    env: trading,
    initial: stateArb,
    call: callArb,
    invariant,
    numRuns: 2000,
  });

  it('conserves money and shares: cash moves only by deposits, withdrawals and fills', () => {
    fc.assert(
      fc.property(openMarket, fc.array(tradeArb, { maxLength: 30 }), (start, calls) => {
        let s = start;
        for (const c of calls) {
          const o = trading.operations[c.op]!.apply(s, c.args, { nowUs: 0 });
          if (o.ok) s = o.state;
        }
        const a = ledger(start);
        const b = ledger(s);
        expect(b.cash - a.cash).toBe(b.flows - a.flows);
        for (const sym of ['NVDA', 'F', 'AAPL', 'TSLA']) {
          const owned = (l: typeof a) => (l.shares[sym] ?? 0) - (l.shares[`filled:${sym}`] ?? 0);
          expect(owned(b), sym).toBe(owned(a));
        }
      }),
      { numRuns: 1000 },
    );
  });
});

const base: TradingState = {
  ...trading.emptyState,
  cashCents: 100_000,
  holdings: { NVDA: 10 },
  watchlist: ['NVDA'],
};

describe('trading environment: operations', () => {
  it('quotes a stock and finds symbols by name and sector', () => {
    expect(applyOk(trading, base, 'get_stock_quote', { symbol: 'NVDA' }).result).toEqual({
      symbol: 'NVDA',
      name: 'Nvidia',
      price: 220.34,
      bid: 220.34,
      ask: 220.34,
      percentChange: 0.34,
      volume: 1.234,
      sector: 'Technology',
    });
    expect(applyError(trading, base, 'get_stock_quote', { symbol: 'ZZZ' })).toBe(
      "no stock with symbol 'ZZZ'",
    );
    expect(applyOk(trading, base, 'get_symbol_by_name', { name: 'tesla' }).result).toEqual({
      symbol: 'TSLA',
    });
    expect(applyError(trading, base, 'get_symbol_by_name', { name: 'Acme' })).toBe(
      "no stock named 'Acme'",
    );
    expect(applyOk(trading, base, 'list_stocks', { sector: 'Automobile' }).result).toEqual({
      symbols: ['F', 'TSLA'],
    });
    expect(applyOk(trading, base, 'list_stocks').result).toEqual({
      symbols: ['AAPL', 'F', 'MSFT', 'NVDA', 'TSLA'],
    });
  });

  it('reports balance and positions', () => {
    expect(applyOk(trading, base, 'get_account_balance').result).toEqual({
      cash: 1000,
      reservedForOpenBuys: 0,
      holdingsValue: 2203.4,
      marketOpen: true,
    });
    expect(applyOk(trading, base, 'get_positions').result).toEqual({
      positions: [{ symbol: 'NVDA', quantity: 10, price: 220.34, value: 2203.4 }],
    });
  });

  it('fills a market buy at the price, and refuses one the cash cannot cover', () => {
    const { state, result } = applyOk(trading, base, 'place_order', {
      symbol: 'F',
      side: 'buy',
      quantity: 10,
    });
    expect(result).toEqual({
      orderId: 1,
      symbol: 'F',
      side: 'buy',
      orderType: 'market',
      quantity: 10,
      limitPrice: null,
      status: 'filled',
      fillPrice: 10.85,
    });
    expect(state.cashCents).toBe(100_000 - 10_850);
    expect(state.holdings).toEqual({ NVDA: 10, F: 10 });
    expect(
      applyError(trading, base, 'place_order', { symbol: 'TSLA', side: 'buy', quantity: 2 }),
    ).toBe('insufficient funds: the order needs $1335.84, cash is $1000.00');
  });

  it('fills a limit buy at the quoted ask at once', () => {
    const quote = applyOk(trading, base, 'get_stock_quote', { symbol: 'F' }).result as {
      ask: number;
    };
    const args = {
      symbol: 'F',
      side: 'buy',
      quantity: 2,
      orderType: 'limit',
      limitPrice: quote.ask,
    };
    expect(applyOk(trading, base, 'place_order', args).result).toMatchObject({ status: 'filled' });
  });

  it('a blind retry of a buy places a second order', () => {
    const args = { symbol: 'F', side: 'buy', quantity: 10 };
    const s = applyAll(trading, base, [
      ['place_order', args],
      ['place_order', args],
    ]);
    expect(s.orders.map((o) => o.id)).toEqual([1, 2]);
    expect(s.holdings.F).toBe(20);
  });

  it('sells held shares, dropping a position that reaches zero, and refuses more than held', () => {
    const { state } = applyOk(trading, base, 'place_order', {
      symbol: 'NVDA',
      side: 'sell',
      quantity: 10,
    });
    expect(state.holdings).toEqual({});
    expect(state.cashCents).toBe(100_000 + 220_340);
    expect(
      applyError(trading, base, 'place_order', { symbol: 'NVDA', side: 'sell', quantity: 11 }),
    ).toBe('insufficient shares: you hold 10 NVDA free to sell');
  });

  it('rests a limit order below the market, reserving cash, and cancelling releases it', () => {
    const args = { symbol: 'NVDA', side: 'buy', quantity: 4, orderType: 'limit', limitPrice: 200 };
    const { state, result } = applyOk(trading, base, 'place_order', args);
    expect(result).toMatchObject({ orderId: 1, status: 'open', limitPrice: 200, fillPrice: null });
    expect(state.cashCents).toBe(100_000 - 80_000);
    expect(applyOk(trading, state, 'get_account_balance').result).toMatchObject({
      cash: 200,
      reservedForOpenBuys: 800,
    });
    const c = applyOk(trading, state, 'cancel_order', { orderId: 1 });
    expect(c.result).toMatchObject({ status: 'cancelled' });
    expect(c.state.cashCents).toBe(100_000);
    expect(applyError(trading, c.state, 'cancel_order', { orderId: 1 })).toBe(
      'order 1 is already cancelled',
    );
  });

  it('rests a sell limit above the market, reserving shares; a marketable limit fills', () => {
    const sell = { symbol: 'NVDA', side: 'sell', quantity: 3, orderType: 'limit', limitPrice: 250 };
    const s = applyOk(trading, base, 'place_order', sell).state;
    expect(s.holdings).toEqual({ NVDA: 7 });
    expect(applyOk(trading, s, 'cancel_order', { orderId: 1 }).state.holdings).toEqual({
      NVDA: 10,
    });
    const buy = { symbol: 'F', side: 'buy', quantity: 1, orderType: 'limit', limitPrice: 11 };
    const f = applyOk(trading, base, 'place_order', buy);
    expect(f.result).toMatchObject({ status: 'filled', fillPrice: 10.85 });
    expect(f.state.cashCents).toBe(100_000 - 1085);
    expect(applyError(trading, f.state, 'cancel_order', { orderId: 1 })).toBe(
      'order 1 is already filled',
    );
    expect(applyError(trading, f.state, 'cancel_order', { orderId: 5 })).toBe('no order 5');
  });

  it('refuses orders when the market is closed, for unknown stocks, or with bad prices', () => {
    const buy = { symbol: 'F', side: 'buy', quantity: 1 };
    expect(applyError(trading, { ...base, marketOpen: false }, 'place_order', buy)).toBe(
      'the market is closed',
    );
    expect(applyError(trading, base, 'place_order', { ...buy, symbol: 'ZZZ' })).toBe(
      "no stock with symbol 'ZZZ'",
    );
    expect(applyError(trading, base, 'place_order', { ...buy, orderType: 'limit' })).toBe(
      'a limit order needs a limitPrice',
    );
    expect(applyError(trading, base, 'place_order', { ...buy, limitPrice: 5 })).toBe(
      'a market order takes no limitPrice: use orderType limit',
    );
    expect(
      applyError(trading, base, 'place_order', { ...buy, orderType: 'limit', limitPrice: 5.001 }),
    ).toBe('limitPrice 5.001 is not a whole number of cents');
  });

  it('reports and lists orders', () => {
    const s = applyAll(trading, base, [
      ['place_order', { symbol: 'F', side: 'buy', quantity: 1 }],
      ['place_order', { symbol: 'F', side: 'buy', quantity: 1, orderType: 'limit', limitPrice: 5 }],
    ]);
    expect(applyOk(trading, s, 'get_order_status', { orderId: 2 }).result).toMatchObject({
      orderId: 2,
      status: 'open',
    });
    expect(applyError(trading, s, 'get_order_status', { orderId: 3 })).toBe('no order 3');
    const open = applyOk(trading, s, 'list_orders', { status: 'open' }).result as {
      orders: Array<{ orderId: number }>;
    };
    expect(open.orders.map((o) => o.orderId)).toEqual([2]);
  });

  it('keeps a watchlist of known stocks, once each', () => {
    const s = applyOk(trading, base, 'add_to_watchlist', { symbol: 'AAPL' });
    expect(s.result).toEqual({ watchlist: ['NVDA', 'AAPL'] });
    expect(applyError(trading, s.state, 'add_to_watchlist', { symbol: 'AAPL' })).toBe(
      'AAPL is already on the watchlist',
    );
    expect(applyError(trading, base, 'add_to_watchlist', { symbol: 'ZZZ' })).toBe(
      "no stock with symbol 'ZZZ'",
    );
    const r = applyOk(trading, s.state, 'remove_from_watchlist', { symbol: 'NVDA' });
    expect(applyOk(trading, r.state, 'get_watchlist').result).toEqual({ watchlist: ['AAPL'] });
    expect(applyError(trading, r.state, 'remove_from_watchlist', { symbol: 'NVDA' })).toBe(
      'NVDA is not on the watchlist',
    );
  });

  it('funds and withdraws whole cents, never more than the free cash', () => {
    const f = applyOk(trading, base, 'fund_account', { amount: 0.1 }, 77);
    expect(f.result).toEqual({ cash: 1000.1 });
    expect(f.state.transactions).toEqual([{ type: 'deposit', amountCents: 10, atUs: 77 }]);
    const w = applyOk(trading, f.state, 'withdraw_funds', { amount: 1000.1 });
    expect(w.state.cashCents).toBe(0);
    expect(applyError(trading, base, 'withdraw_funds', { amount: 1000.01 })).toBe(
      'insufficient funds: cash is $1000.00',
    );
    expect(applyError(trading, base, 'fund_account', { amount: 0.001 })).toBe(
      'amount 0.001 is not a whole number of cents',
    );
  });

  it('refuses amounts past exact integer cents instead of rounding them', () => {
    const whale: TradingState = {
      ...base,
      stocks: { ...base.stocks, BIG: { ...base.stocks.F!, priceCents: 10_000_000_000_000 } },
      holdings: { BIG: 1_000_000 },
    };
    const order = { symbol: 'BIG', quantity: 1_000_000 };
    expect(applyError(trading, whale, 'place_order', { ...order, side: 'buy' })).toBe(
      'order value too large',
    );
    expect(applyError(trading, whale, 'place_order', { ...order, side: 'sell' })).toBe(
      'order value too large',
    );
    const rich = { ...base, cashCents: Number.MAX_SAFE_INTEGER - 5 };
    expect(applyError(trading, rich, 'fund_account', { amount: 1 })).toBe(
      'balance would be too large',
    );
    // Reserved cash counts: cancelling the open buy must give it back exactly.
    const resting = applyOk(trading, base, 'place_order', {
      symbol: 'F',
      side: 'buy',
      quantity: 10,
      orderType: 'limit',
      limitPrice: 5,
    }).state;
    const nearly = { ...resting, cashCents: Number.MAX_SAFE_INTEGER - 5_049 };
    expect(applyError(trading, nearly, 'fund_account', { amount: 0.5 })).toBe(
      'balance would be too large',
    );
    expect(applyOk(trading, nearly, 'fund_account', { amount: 0.01 }).state.cashCents).toBe(
      Number.MAX_SAFE_INTEGER - 5_048,
    );
  });

  it('rejects states that break its invariants', () => {
    const bad = (patch: Partial<TradingState>) =>
      trading.stateSchema.safeParse({ ...base, ...patch });
    expect(bad({}).success).toBe(true);
    expect(bad({ cashCents: -1 }).success).toBe(false);
    expect(bad({ holdings: { NVDA: 0 } }).success).toBe(false);
    expect(bad({ holdings: { ZZZ: 1 } }).success).toBe(false);
    expect(bad({ watchlist: ['NVDA', 'NVDA'] }).success).toBe(false);
    const o = {
      id: 1,
      symbol: 'F',
      side: 'buy' as const,
      orderType: 'market' as const,
      quantity: 1,
      limitPriceCents: null,
      status: 'open' as const,
      fillPriceCents: null,
      placedAtUs: 0,
    };
    expect(bad({ orders: [o], nextOrderId: 2 }).success).toBe(false);
    expect(
      bad({ orders: [{ ...o, status: 'filled', fillPriceCents: 5 }], nextOrderId: 1 }).success,
    ).toBe(false);
    expect(
      bad({ orders: [{ ...o, status: 'filled', fillPriceCents: 5 }], nextOrderId: 2 }).success,
    ).toBe(true);
  });
});
