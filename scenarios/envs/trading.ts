/**
 * `trading`: a brokerage account with its market data: cash, holdings, a watchlist and orders.
 * Modelled on BFCL v3's trading bot; written anew. The market is part of the state (prices do not
 * move unless a scenario's state says so), so every outcome is deterministic.
 *
 * Order semantics: a market order, and a limit order that is marketable (a buy limit at or above
 * the price, a sell limit at or below it), fills at once at the current price. Any other limit
 * order rests `open` and reserves what it needs: a buy's cash (quantity x limit) leaves `cashCents`,
 * a sell's shares leave `holdings`; cancelling gives them back. So cash and holdings are never
 * negative, and an order the account cannot cover is a tool error (insufficient funds or shares).
 * Order ids come from a counter: a blind retry of place_order places a second order.
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
  optNum,
  optStr,
  params,
  replaceAt,
  str,
  stringParam,
  toCents,
  toDollars,
} from './ops.js';

const SYMBOL_PATTERN = '^[A-Z][A-Z.]{0,5}$';
const symbolSchema = z.string().regex(new RegExp(SYMBOL_PATTERN));

const stockSchema = z.strictObject({
  name: z.string(),
  priceCents: z.int().min(1),
  percentChange: z.number(),
  /** Shares traded today, in millions. */
  volume: z.number().min(0),
  sector: z.string(),
});

const orderSchema = z.strictObject({
  id: z.int().min(1),
  symbol: z.string(),
  side: z.enum(['buy', 'sell']),
  orderType: z.enum(['market', 'limit']),
  quantity: z.int().min(1),
  limitPriceCents: z.int().min(1).nullable(),
  status: z.enum(['open', 'filled', 'cancelled']),
  fillPriceCents: z.int().min(1).nullable(),
  placedAtUs: z.int().min(0),
});

export const tradingStateSchema = z
  .strictObject({
    /** Cash free to spend: open buy orders' reservations are already taken out. */
    cashCents: z.int().min(0),
    /** Shares owned and free to sell, by symbol (open sell orders' shares taken out). */
    holdings: z.record(symbolSchema, z.int().min(1)),
    stocks: z.record(symbolSchema, stockSchema),
    marketOpen: z.boolean(),
    watchlist: z.array(z.string()),
    orders: z.array(orderSchema),
    nextOrderId: counterSchema,
    transactions: z.array(
      z.strictObject({
        type: z.enum(['deposit', 'withdrawal']),
        amountCents: z.int().min(1),
        atUs: z.int().min(0),
      }),
    ),
  })
  .superRefine((s, ctx) => {
    const problem = (message: string): void => ctx.addIssue({ code: 'custom', message });
    const known = (sym: string) => Object.hasOwn(s.stocks, sym);
    if (new Set(s.orders.map((o) => o.id)).size !== s.orders.length)
      problem('order ids must be unique');
    for (const o of s.orders) {
      if (o.id >= s.nextOrderId) problem(`order ${o.id} is not below nextOrderId`);
      if (!known(o.symbol)) problem(`order ${o.id} is for an unknown stock`);
      if ((o.orderType === 'limit') !== (o.limitPriceCents !== null))
        problem(`order ${o.id}: a limit price goes with a limit order only`);
      if ((o.status === 'filled') !== (o.fillPriceCents !== null))
        problem(`order ${o.id}: a fill price goes with a filled order only`);
      if (o.status === 'open' && o.orderType !== 'limit')
        problem(`order ${o.id}: open market order`);
    }
    for (const sym of Object.keys(s.holdings))
      if (!known(sym)) problem(`holding of unknown ${sym}`);
    if (new Set(s.watchlist).size !== s.watchlist.length || !s.watchlist.every(known))
      problem('the watchlist must name known stocks, once each');
  });

export type TradingState = z.infer<typeof tradingStateSchema>;
type Order = TradingState['orders'][number];
type Stock = TradingState['stocks'][string];
type Op = Operation<TradingState>;

function stockOf(s: TradingState, symbol: string): Stock | undefined {
  return Object.hasOwn(s.stocks, symbol) ? s.stocks[symbol] : undefined;
}

const noStock = (symbol: string) => `no stock with symbol '${symbol}'`;

function held(s: TradingState, symbol: string): number {
  return Object.hasOwn(s.holdings, symbol) ? s.holdings[symbol]! : 0;
}

/** Holdings with `delta` shares of `symbol` added; a position that reaches 0 is dropped. */
function withShares(s: TradingState, symbol: string, delta: number): TradingState['holdings'] {
  const next = { ...s.holdings };
  const n = held(s, symbol) + delta;
  if (n < 0) throw new Error(`holding of ${symbol} would be ${n}`);
  if (n === 0) delete next[symbol];
  else next[symbol] = n;
  return next;
}

function shownOrder(o: Order) {
  return {
    orderId: o.id,
    symbol: o.symbol,
    side: o.side,
    orderType: o.orderType,
    quantity: o.quantity,
    limitPrice: o.limitPriceCents === null ? null : toDollars(o.limitPriceCents),
    status: o.status,
    fillPrice: o.fillPriceCents === null ? null : toDollars(o.fillPriceCents),
  };
}

const symbolParam = (description: string) =>
  params({ symbol: stringParam(description, { pattern: SYMBOL_PATTERN }) }, ['symbol']);

const getStockQuote: Op = {
  description:
    'Get the current price of a stock by symbol (a buy fills at the ask, a sell at the bid, both ' +
    'the price here), its change, volume and sector.',
  parameters: symbolParam('Ticker symbol, e.g. NVDA'),
  readOnly: true,
  apply(s, args) {
    const symbol = str(args, 'symbol');
    const st = stockOf(s, symbol);
    if (st === undefined) return fail(noStock(symbol));
    return ok(s, {
      symbol,
      name: st.name,
      price: toDollars(st.priceCents),
      // One price, no spread: orders fill at it, so a limit at the ask or bid fills at once.
      bid: toDollars(st.priceCents),
      ask: toDollars(st.priceCents),
      percentChange: st.percentChange,
      volume: st.volume,
      sector: st.sector,
    });
  },
};

const getSymbolByName: Op = {
  description: "Find a stock's ticker symbol from the company name (ignoring case).",
  parameters: params({ name: stringParam('Company name, e.g. Nvidia') }, ['name']),
  readOnly: true,
  apply(s, args) {
    const name = str(args, 'name');
    const hit = Object.keys(s.stocks)
      .sort()
      .find((sym) => s.stocks[sym]!.name.toLowerCase() === name.toLowerCase());
    return hit === undefined ? fail(`no stock named '${name}'`) : ok(s, { symbol: hit });
  },
};

const listStocks: Op = {
  description: 'List the symbols of the stocks that can be traded, optionally of one sector.',
  parameters: params({ sector: stringParam('Sector, e.g. Technology') }),
  readOnly: true,
  apply(s, args) {
    const sector = optStr(args, 'sector');
    const symbols = Object.keys(s.stocks)
      .sort()
      .filter((sym) => sector === null || s.stocks[sym]!.sector === sector);
    return ok(s, { symbols });
  },
};

/** Cash open buy orders hold back (it comes back to `cashCents` when they are cancelled). */
function reservedCents(s: TradingState): number {
  return s.orders
    .filter((o) => o.status === 'open' && o.side === 'buy')
    .reduce((sum, o) => sum + o.quantity * o.limitPriceCents!, 0);
}

/**
 * Whether cash can grow by `cents` and stay exact: free cash plus every reserve, which cancels
 * return to it, must remain a safe integer.
 */
function cashFits(s: TradingState, cents: number): boolean {
  return Number.isSafeInteger(s.cashCents + reservedCents(s) + cents);
}

/** Free cash, reserves, the market value of holdings, and whether the market is open. */
function accountView(s: TradingState) {
  const holdingsCents = Object.keys(s.holdings).reduce(
    (sum, sym) => sum + s.holdings[sym]! * stockOf(s, sym)!.priceCents,
    0,
  );
  return {
    cash: toDollars(s.cashCents),
    reservedForOpenBuys: toDollars(reservedCents(s)),
    holdingsValue: toDollars(holdingsCents),
    marketOpen: s.marketOpen,
  };
}

const getAccountBalance: Op = {
  description:
    'Get free cash, cash reserved by open buy orders, the market value of holdings, and ' +
    'whether the market is open.',
  parameters: params({}),
  readOnly: true,
  apply: (s) => ok(s, accountView(s)),
};

const getPositions: Op = {
  description: 'List the shares you hold (free to sell) with their current price and value.',
  parameters: params({}),
  readOnly: true,
  apply(s) {
    const positions = Object.keys(s.holdings)
      .sort()
      .map((symbol) => {
        const price = stockOf(s, symbol)!.priceCents;
        const quantity = s.holdings[symbol]!;
        return { symbol, quantity, price: toDollars(price), value: toDollars(price * quantity) };
      });
    return ok(s, { positions });
  },
};

/** What an order does to cash and holdings now: filled at the price, or resting with a reserve. */
function execute(s: TradingState, o: Order, st: Stock): TradingState | string {
  const price = st.priceCents;
  const fills =
    o.orderType === 'market' ||
    (o.side === 'buy' ? o.limitPriceCents! >= price : o.limitPriceCents! <= price);
  const placed: Order = fills ? { ...o, status: 'filled', fillPriceCents: price } : o;
  const base = { ...s, orders: [...s.orders, placed], nextOrderId: o.id + 1 };
  if (o.side === 'buy') {
    const cost = o.quantity * (fills ? price : o.limitPriceCents!);
    if (!Number.isSafeInteger(cost)) return 'order value too large';
    if (cost > s.cashCents)
      return `insufficient funds: the order needs ${money(cost)}, cash is ${money(s.cashCents)}`;
    const holdings = fills ? withShares(s, o.symbol, o.quantity) : s.holdings;
    return { ...base, cashCents: s.cashCents - cost, holdings };
  }
  if (o.quantity > held(s, o.symbol))
    return `insufficient shares: you hold ${held(s, o.symbol)} ${o.symbol} free to sell`;
  const proceeds = fills ? o.quantity * price : 0;
  if (!cashFits(s, proceeds)) return 'order value too large';
  return {
    ...base,
    cashCents: s.cashCents + proceeds,
    holdings: withShares(s, o.symbol, -o.quantity),
  };
}

const placeOrder: Op = {
  description:
    'Buy or sell shares. A market order fills at once at the current price; a limit order ' +
    'fills at once when the price is at or better than limitPrice, else stays open and reserves ' +
    'the cash (buy) or shares (sell) it needs until it is cancelled.',
  parameters: params(
    {
      symbol: stringParam('Ticker symbol, e.g. NVDA', { pattern: SYMBOL_PATTERN }),
      side: enumParam('Order side', ['buy', 'sell']),
      quantity: integerParam('Number of shares', { minimum: 1, maximum: 1_000_000 }),
      orderType: enumParam('market (default) or limit', ['market', 'limit']),
      limitPrice: dollarsParam('Limit price per share, for limit orders'),
    },
    ['symbol', 'side', 'quantity'],
  ),
  readOnly: false,
  apply(s, args, { nowUs }) {
    const symbol = str(args, 'symbol');
    const orderType = (optStr(args, 'orderType') ?? 'market') as Order['orderType'];
    const limit = optNum(args, 'limitPrice');
    if (!s.marketOpen) return fail('the market is closed');
    const full = noIdLeft('order', s.nextOrderId);
    if (full !== null) return fail(full);
    const st = stockOf(s, symbol);
    if (st === undefined) return fail(noStock(symbol));
    if (orderType === 'limit' && limit === null) return fail('a limit order needs a limitPrice');
    if (orderType === 'market' && limit !== null)
      return fail('a market order takes no limitPrice: use orderType limit');
    const limitCents = limit === null ? null : toCents(limit);
    if (limit !== null && limitCents === null) return fail(notCents('limitPrice', limit));
    const order: Order = {
      id: s.nextOrderId,
      symbol,
      side: str(args, 'side') as Order['side'],
      orderType,
      quantity: num(args, 'quantity'),
      limitPriceCents: limitCents,
      status: 'open',
      fillPriceCents: null,
      placedAtUs: nowUs,
    };
    const next = execute(s, order, st);
    if (typeof next === 'string') return fail(next);
    return ok(next, shownOrder(next.orders.at(-1)!));
  },
};

function findOrder(s: TradingState, args: EnvArgs): number | string {
  const i = s.orders.findIndex((o) => o.id === args.orderId);
  return i < 0 ? `no order ${args.orderId}` : i;
}

const orderIdParam = params({ orderId: integerParam('Order id', { minimum: 1 }) }, ['orderId']);

const getOrderStatus: Op = {
  description: 'Get an order: side, quantity, prices and status (open, filled or cancelled).',
  parameters: orderIdParam,
  readOnly: true,
  apply(s, args) {
    const i = findOrder(s, args);
    return typeof i === 'string' ? fail(i) : ok(s, shownOrder(s.orders[i]!));
  },
};

const listOrders: Op = {
  description: 'List your orders by id, optionally only those with a status.',
  parameters: params({ status: enumParam('Only this status', ['open', 'filled', 'cancelled']) }),
  readOnly: true,
  apply(s, args) {
    const status = optStr(args, 'status');
    const orders = s.orders.filter((o) => status === null || o.status === status);
    return ok(s, { orders: orders.map(shownOrder) });
  },
};

const cancelOrder: Op = {
  description: 'Cancel an open order, releasing the cash or shares it reserved.',
  parameters: orderIdParam,
  readOnly: false,
  apply(s, args) {
    const i = findOrder(s, args);
    if (typeof i === 'string') return fail(i);
    const o = s.orders[i]!;
    if (o.status !== 'open') return fail(`order ${o.id} is already ${o.status}`);
    const cancelled: Order = { ...o, status: 'cancelled' };
    const orders = replaceAt(s.orders, i, cancelled);
    const next: TradingState =
      o.side === 'buy'
        ? { ...s, orders, cashCents: s.cashCents + o.quantity * o.limitPriceCents! }
        : { ...s, orders, holdings: withShares(s, o.symbol, o.quantity) };
    return ok(next, shownOrder(cancelled));
  },
};

const addToWatchlist: Op = {
  description: 'Add a stock to your watchlist.',
  parameters: symbolParam('Ticker symbol to watch'),
  readOnly: false,
  apply(s, args) {
    const symbol = str(args, 'symbol');
    if (stockOf(s, symbol) === undefined) return fail(noStock(symbol));
    if (s.watchlist.includes(symbol)) return fail(`${symbol} is already on the watchlist`);
    const watchlist = [...s.watchlist, symbol];
    return ok({ ...s, watchlist }, { watchlist });
  },
};

const removeFromWatchlist: Op = {
  description: 'Remove a stock from your watchlist.',
  parameters: symbolParam('Ticker symbol to stop watching'),
  readOnly: false,
  apply(s, args) {
    const symbol = str(args, 'symbol');
    if (!s.watchlist.includes(symbol)) return fail(`${symbol} is not on the watchlist`);
    const watchlist = s.watchlist.filter((x) => x !== symbol);
    return ok({ ...s, watchlist }, { watchlist });
  },
};

const getWatchlist: Op = {
  description: 'List the symbols on your watchlist.',
  parameters: params({}),
  readOnly: true,
  apply: (s) => ok(s, { watchlist: s.watchlist }),
};

const amountParam = params({ amount: dollarsParam('Amount') }, ['amount']);

/** A deposit (+1) or withdrawal (-1) of the args' amount. */
function transfer(sign: 1 | -1): Op['apply'] {
  return (s, args, { nowUs }) => {
    const amount = num(args, 'amount');
    const cents = toCents(amount);
    if (cents === null || cents === 0) return fail(notCents('amount', amount));
    if (sign < 0 && cents > s.cashCents)
      return fail(`insufficient funds: cash is ${money(s.cashCents)}`);
    if (sign > 0 && !cashFits(s, cents)) return fail('balance would be too large');
    const cashCents = s.cashCents + sign * cents;
    const t = {
      type: sign > 0 ? 'deposit' : 'withdrawal',
      amountCents: cents,
      atUs: nowUs,
    } as const;
    return ok(
      { ...s, cashCents, transactions: [...s.transactions, t] },
      { cash: toDollars(cashCents) },
    );
  };
}

const fundAccount: Op = {
  description: 'Deposit money into the account from the linked bank card.',
  parameters: amountParam,
  readOnly: false,
  apply: transfer(1),
};

const withdrawFunds: Op = {
  description: 'Withdraw free cash from the account to the linked bank card.',
  parameters: amountParam,
  readOnly: false,
  apply: transfer(-1),
};

const stock = (name: string, priceCents: number, pct: number, volume: number, sector: string) => ({
  name,
  priceCents,
  percentChange: pct,
  volume,
  sector,
});

export const trading: Environment<TradingState> = {
  name: 'trading',
  description:
    'A brokerage account with market data: quotes, positions, a watchlist, orders, deposits ' +
    'and withdrawals.',
  stateSchema: tradingStateSchema,
  // A small default market, so a scenario that gives no state can still trade.
  emptyState: {
    cashCents: 1_000_000,
    holdings: {},
    stocks: {
      AAPL: stock('Apple', 22716, 0.17, 2.552, 'Technology'),
      MSFT: stock('Microsoft', 31023, 0.09, 3.234, 'Technology'),
      NVDA: stock('Nvidia', 22034, 0.34, 1.234, 'Technology'),
      TSLA: stock('Tesla', 66792, -0.12, 1.654, 'Automobile'),
      F: stock('Ford', 1085, -0.4, 4.1, 'Automobile'),
    },
    marketOpen: true,
    watchlist: [],
    orders: [],
    nextOrderId: 1,
    transactions: [],
  },
  operations: {
    get_stock_quote: getStockQuote,
    get_symbol_by_name: getSymbolByName,
    list_stocks: listStocks,
    get_account_balance: getAccountBalance,
    get_positions: getPositions,
    place_order: placeOrder,
    get_order_status: getOrderStatus,
    list_orders: listOrders,
    cancel_order: cancelOrder,
    add_to_watchlist: addToWatchlist,
    remove_from_watchlist: removeFromWatchlist,
    get_watchlist: getWatchlist,
    fund_account: fundAccount,
    withdraw_funds: withdrawFunds,
  },
};
