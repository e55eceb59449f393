"""Paper venues for the arbitrage tests: a started paper exchange, one funded account and an
initialised client on it, behind one small adapter, so every test runs over any pair of
paper venues (today two ``PaperVest``; a Hyperliquid paper venue adds one ``open_*``
function to ``DIALECTS``).

The adapter reads the truth from the paper side (its ledger), never from the client:

* ``position(coin)``: the signed position in the ledger;
* ``orders(coin)``: every order the ledger stored for the account (nonce = client order id);
* ``set_price``, ``halt``/``resume``, ``starve_margin`` (a real venue refusal on the next
  opening order), ``clear_faults``;
* ``inject(fault)``: arm one named fault so that it hits the next order this client sends
  (see ``FAULTS``).

Fault timing — the part today's paper ``faults`` cannot express by itself, written here as
small hooks on the *test's own* objects, never by editing ``mpdex/paper``:

* ``before_order``: runs a callback right before the client's next ``POST /orders`` leaves
  (so a counted REST fault hits exactly that request, not a ticker read before it);
* ``after_accept``: runs a callback right after the paper venue committed the next order
  (so a lost response can be followed by an outage, which the paper cannot arm in one go);
* ``on_first_lookup``: runs a callback at the arb layer's first ``get_order`` (the venue
  recovers once the client gave up: the outage lasted exactly as long as the order attempt).
"""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from exchange_factory import create_exchange
from mpdex.paper import PaperVest

#: Vest client settings that make the venue-side give-up fast and deterministic: a signed
#: order is valid 0.6 s (recv_window), one POST attempt waits 0.15 s, a read 0.3 s.
VEST_CLIENT = {"recv_window": 600, "order_timeout": 0.15, "timeout": 0.3}
#: what the arb layer needs to match: reconciling for longer than the signature's validity
#: proves an order not found by then can never be placed
RECONCILE = 0.8
OUTAGE = 10**6  # a server error count no test exhausts: cleared by a hook
COIN = "BTC"  # the coin the fault tests trade


@dataclass
class PaperVenue:
    name: str
    paper: PaperVest
    exchange: Any
    key: Any
    _before_order: list[Callable[[], None]] = field(default_factory=list)
    _after_accept: list[Callable[[], None]] = field(default_factory=list)
    _on_lookup: list[Callable[[], None]] = field(default_factory=list)
    lookups: int = 0

    # -- the paper side's truth --------------------------------------------------------
    def symbol(self, coin: str) -> str:
        return self.exchange.resolve_symbol(coin)

    @property
    def _account_id(self) -> int:
        return self.paper.ledger.account_by_address(self.key.primary_address).id

    def position(self, coin: str) -> Decimal:
        pos = self.paper.ledger.position(self._account_id, self.symbol(coin))
        return pos.size if pos else Decimal(0)

    def orders(self, coin: str) -> list[dict[str, Any]]:
        """Ledger orders of the account on ``coin``, oldest first."""
        rows = self.paper.ledger.find_orders(self._account_id, symbol=self.symbol(coin))
        return [{"client_order_id": o.client_id, "side": "buy" if o.is_buy else "sell", "size": Decimal(o.size),
                 "filled": o.filled, "reduce_only": o.reduce_only, "status": o.status, "post_time": o.post_time,
                 "limit_price": o.limit_price}
                for o in reversed(rows)]

    # -- market and account control ------------------------------------------------------
    def set_price(self, coin: str, price: str) -> None:
        self.paper.set_price(self.symbol(coin), price)

    def halt(self, coin: str) -> None:
        self.paper.set_market_status(self.symbol(coin), "HALT")

    def resume(self, coin: str) -> None:
        self.paper.set_market_status(self.symbol(coin), "TRADING")

    def starve_margin(self) -> None:
        """Leave 1 USDC: the venue refuses any opening order for margin (reduce-only ones pass)."""
        account = self.paper.ledger.account(self._account_id)
        self.paper.deposit(self.key, -(account.balance - 1))

    def clear_faults(self) -> None:
        self.paper.faults.clear()

    # -- fault timing hooks ------------------------------------------------------------
    def before_order(self, fn: Callable[[], None], *, nth: int = 1) -> None:
        """Run ``fn`` right before the ``nth`` next order of this client leaves."""
        self._before_order.extend([lambda: None] * (nth - 1 - len(self._before_order)))
        self._before_order.append(fn)

    def after_accept(self, fn: Callable[[], None]) -> None:
        self._after_accept.append(fn)

    def on_first_lookup(self, fn: Callable[[], None]) -> None:
        self._on_lookup.append(fn)

    def inject(self, fault: str, *, nth: int = 1) -> None:
        FAULTS[fault](self, nth)

    def _install(self) -> None:
        rest = self.exchange.rest
        real_post = rest.post_order

        async def post_order(body: Any, **kw: Any) -> Any:
            if self._before_order:
                self._before_order.pop(0)()
            return await real_post(body, **kw)

        rest.post_order = post_order
        venue = self.paper.trading
        real_place = venue.place_order

        def place_order(*args: Any) -> Any:
            order = real_place(*args)
            if self._after_accept:
                self._after_accept.pop(0)()
            return order

        venue.place_order = place_order
        real_get_order = self.exchange.get_order

        async def get_order(**kw: Any) -> Any:
            self.lookups += 1
            while self._on_lookup:
                self._on_lookup.pop(0)()
            return await real_get_order(**kw)

        self.exchange.get_order = get_order


def _outage_until_lookup(v: PaperVenue) -> None:
    v.paper.faults.server_error(OUTAGE)
    v.on_first_lookup(v.clear_faults)


#: name -> how to arm it on the venue's ``nth`` next order. The first group the venue
#: client absorbs by itself (same signed bytes resent, or a duplicate reconciled); the
#: second reaches the arb layer as NetworkError / OrderStateUnknown.
FAULTS: dict[str, Callable[[PaperVenue, int], None]] = {
    # (counted faults hit the paper's next REST requests, whichever they are: armed right
    # before the order leaves a REST-only client, the next one is the order itself)
    "5xx": lambda v, n: v.before_order(lambda: v.paper.faults.server_error(1, 503), nth=n),
    "429": lambda v, n: v.before_order(lambda: v.paper.faults.rate_limit(1, retry_after=0.05), nth=n),
    "lost_response": lambda v, n: v.before_order(v.paper.faults.lose_next_order_response, nth=n),
    # held longer than one attempt: resent, the held first copy lands later as a duplicate
    "timeout": lambda v, n: v.before_order(lambda: v.paper.faults.delay(0.25, n=1), nth=n),
    "ws_drop": lambda v, n: v.before_order(v.paper.faults.drop_websockets, nth=n),
    # --- the client gives up; the order was never placed
    "5xx_outage": lambda v, n: v.before_order(lambda: _outage_until_lookup(v), nth=n),
    # a Retry-After longer than any client waits: the order attempt gives up at once
    "429_long": lambda v, n: v.before_order(lambda: v.paper.faults.rate_limit(1, retry_after=60), nth=n),
    # every request held longer than the client waits: the client gives up on each copy
    # (and the paper venue, finding the connection gone, never reads the held bodies)
    "timeout_outage": lambda v, n: v.before_order(
        lambda: (v.paper.faults.delay(0.4, n=OUTAGE), v.on_first_lookup(v.clear_faults)), nth=n),
    # --- the client gives up; the order WAS placed (committed, response lost, then 5xx)
    "lost_then_outage": lambda v, n: v.before_order(
        lambda: (v.paper.faults.lose_next_order_response(),
                 v.after_accept(lambda: _outage_until_lookup(v))), nth=n),
    # --- a venue refusal: the market halts as the order leaves
    "refusal": lambda v, n: v.before_order(lambda: v.halt(COIN), nth=n),
}


@contextlib.asynccontextmanager
async def open_vest(name: str, seed: int, *, use_ws: bool = False, usdc: int = 10_000,
                    tick_interval: float | None = None, markets: Any = None) -> AsyncIterator[PaperVenue]:
    """A Vest paper venue and a client on it: REST-only by default, so a counted REST fault
    armed right before an order meets that order and no background read; ``use_ws=True``
    for the socket-backed client (the default a user runs)."""
    async with PaperVest(seed=seed, tick_interval=tick_interval, auto_funding=False, markets=markets) as paper:
        key = await paper.create_account(usdc=usdc)
        exchange = await create_exchange("vest", key, use_ws=use_ws, **VEST_CLIENT)
        venue = PaperVenue(name, paper, exchange, key)
        venue._install()
        try:
            yield venue
        finally:
            paper.faults.clear()
            await exchange.close()


DIALECTS: dict[str, Callable[..., contextlib.AbstractAsyncContextManager[PaperVenue]]] = {
    "vest": open_vest,
}
#: venue pairs every arb test runs over (add ("vest", "hyperliquid") with its paper dialect)
PAIRS = [("vest", "vest")]
