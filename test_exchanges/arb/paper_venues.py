"""Paper venues for the arbitrage tests: a started paper exchange, one funded account and an
initialised client on it, behind one small test interface (``PaperVenue``), so every test
runs over any pair of paper venues: ``PAIRS`` holds two ``PaperVest`` and the pair traders run,
Vest + Hyperliquid, both ways round (each venue on the long and on the short side).

The interface reads the truth from the paper side (its ledger, the core ledger every dialect
shares), never from the client:

* ``position(coin)``: the signed position in the ledger;
* ``orders(coin)``: every order the ledger booked for the account (its client order id:
  Vest's nonce, Hyperliquid's cloid); ``refused_orders(coin)``: the refused orders the
  ledger keeps (Hyperliquid records a refusal it made as a ``REJECTED`` order, Vest none);
* ``set_price``, ``halt``/``resume``, ``starve_margin`` (a real venue refusal on the next
  opening order), ``clear_faults``; ``taker_fee``, ``size_step``, ``book`` (the book as the
  paper holds it), ``is_depth_stream`` (its socket subscription key for a coin's book);
* ``inject(fault)``: arm one named fault so that it hits the next order this client sends
  (see ``FAULTS``; ``NOT_INJECTABLE`` says which a dialect cannot express and why).

Fault timing — the part today's paper ``faults`` cannot express by itself, written here as
small hooks on the *test's own* objects, never by editing ``mpdex/paper`` or the adapters.
Each dialect reaches its own two points: where the client's signed order leaves
(``VestRestClient.post_order``; ``HyperliquidRestClient.post_action`` with ``kind="order"``)
and where the paper venue books it (``VestTrading.place_order``; ``HlTrading.order``):

* ``before_order``: runs a callback right before the client's next order POST leaves (so a
  counted REST fault hits exactly that request, not a ticker read before it);
* ``watch_orders``: runs a callback before every order POST (which venue sent when);
* ``after_accept``: runs a callback right after the paper venue committed the next order
  (so a lost response can be followed by an outage, which the paper cannot arm in one go);
* ``on_first_lookup``: runs a callback at the arb layer's first ``get_order`` (the venue
  recovers once the client gave up: the outage lasted exactly as long as the order attempt).

Why an order not found within ``RECONCILE`` can never appear: a Vest order is signed valid for
``recv_window`` (0.4 s); a Hyperliquid order carries no validity window (no ``expiresAfter``),
but the client stops resending its bytes after ``resend_window`` (0.4 s) and the paper server
never reads a held request whose connection is gone — so on the paper, no copy lands later.
"""
from __future__ import annotations

import abc
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

import pytest

from exchange_factory import create_exchange
from mpdex.paper import PaperHyperliquid, PaperVest
from mpdex.paper.harness import PaperVenue as PaperExchange
from mpdex.transport import RetryPolicy
from wrappers.vest_paper.wire import depth_json

#: retries as the library makes them, with short delays (0.05 s doubling, jittered)
FAST_RETRY = RetryPolicy(backoff_base=0.05)
#: Vest client settings that make the venue-side give-up fast and deterministic: a signed
#: order is valid 0.4 s (recv_window), one POST attempt waits 0.15 s (a loaded loop of two
#: venues and two clients can take 0.1 s to answer: a shorter wait turns refusals into
#: unknowns), a read 0.2 s.
VEST_CLIENT: dict[str, Any] = {"recv_window": 400, "order_timeout": 0.15, "timeout": 0.2, "retry": FAST_RETRY,
                               "server_clock_skew": 0.05}  # one machine: the paper's clock is ours
#: the same bounds for the Hyperliquid client: one POST attempt waits 0.15 s, the same signed
#: bytes are resent for at most 0.4 s while their fate is unknown, a read waits 0.2 s (its
#: rate limits stay the real ones: after a 429 the weight budget refills from one token)
HYPERLIQUID_CLIENT: dict[str, Any] = {"resend_window": 0.4, "order_timeout": 0.15, "timeout": 0.2,
                                      "retry": FAST_RETRY, "order_expiry": 0.5, "order_queue_wait": 0.4,
                                      "server_clock_skew": 0.05}
#: socket-backed clients reconnect after a drop within 0.05..0.4 s (instead of ~1 s)
WS_OPTIONS: dict[str, Any] = {"reconnect_min": 0.05, "reconnect_max": 0.4}
#: what the arb layer needs to match: reconciling for longer than the client may still send
#: an order's bytes (and, on Vest, than the signature is valid) proves an order not found by
#: then can never be placed
RECONCILE = 0.5
#: a hold longer than one POST attempt, shorter than the resend window; one longer than a read
HOLD_ONE_ATTEMPT, HOLD_EVERY_READ = 0.25, 0.3
OUTAGE = 10**6  # a server error count no test exhausts: cleared by a hook
COIN = "BTC"  # the coin the fault tests trade


@dataclass
class PaperVenue(abc.ABC):
    """One paper venue as the arb tests see it (a dialect subclass says where its hooks go)."""

    name: str
    paper: PaperExchange
    exchange: Any
    key: Any
    _before_order: list[Callable[[], object]] = field(default_factory=list)
    _watchers: list[Callable[[], object]] = field(default_factory=list)
    _after_accept: list[Callable[[], object]] = field(default_factory=list)
    _on_lookup: list[Callable[[], object]] = field(default_factory=list)
    lookups: int = 0

    #: the registry name of the dialect
    DIALECT: ClassVar[str] = ""
    #: what the transport logs for an order request ("<method> <path>")
    ORDER_REQUEST: ClassVar[str] = ""
    #: the venue's client sees a halted market before sending (and refuses it unsent)
    HALT_SEEN_BEFORE_SENDING: ClassVar[bool] = False
    #: the ledger keeps the orders the venue refused (status REJECTED)
    RECORDS_REFUSALS: ClassVar[bool] = False
    #: faults this dialect's paper cannot express, and why
    NOT_INJECTABLE: ClassVar[dict[str, str]] = {}

    # -- the paper side's truth --------------------------------------------------------
    def symbol(self, coin: str) -> str:
        return str(self.exchange.resolve_symbol(coin))

    @property
    @abc.abstractmethod
    def address(self) -> str:
        """The account's address in the paper ledger (and in the client's log lines)."""

    @property
    def _account_id(self) -> int:
        account = self.paper.ledger.account_by_address(self.address)
        assert account is not None, f"no paper account for {self.address}"
        return account.id

    def position(self, coin: str) -> Decimal:
        pos = self.paper.ledger.position(self._account_id, self.symbol(coin))
        return pos.size if pos else Decimal(0)

    def ledger_orders(self, coin: str) -> list[dict[str, Any]]:
        """Every order row the ledger holds for the account on ``coin`` (refused ones
        included, where the dialect keeps them), oldest first."""
        rows = self.paper.ledger.find_orders(self._account_id, symbol=self.symbol(coin))
        return [{"client_order_id": o.client_id, "side": "buy" if o.is_buy else "sell", "size": Decimal(o.size),
                 "filled": o.filled, "reduce_only": o.reduce_only, "status": o.status, "post_time": o.post_time,
                 "limit_price": Decimal(o.limit_price)}
                for o in reversed(rows)]

    def orders(self, coin: str) -> list[dict[str, Any]]:
        """Ledger orders the venue booked (not refused) on ``coin``, oldest first."""
        return [o for o in self.ledger_orders(coin) if o["status"] != "REJECTED"]

    def refused_orders(self, coin: str) -> list[dict[str, Any]]:
        """The refused orders the ledger keeps (always empty where the dialect keeps none)."""
        return [o for o in self.ledger_orders(coin) if o["status"] == "REJECTED"]

    def taker_fee(self, coin: str) -> Decimal:
        return self.paper.markets[self.symbol(coin)].taker_fee

    def size_step(self, coin: str) -> Decimal:
        return self.paper.markets[self.symbol(coin)].size_step

    @abc.abstractmethod
    def book(self, coin: str) -> dict[str, list[list[str]]]:
        """The book as the paper venue itself serves it (strings), not as a client parsed it."""

    @abc.abstractmethod
    def is_depth_stream(self, key: str, coin: str) -> bool:
        """Is ``key`` (from ``paper.ws_subscriptions()``) the book stream of ``coin``?"""

    # -- market and account control ------------------------------------------------------
    def set_price(self, coin: str, price: str) -> None:
        self.paper.set_price(self.symbol(coin), price)

    def set_funding_rate(self, coin: str, rate: str) -> None:
        self.paper.set_funding_rate(self.symbol(coin), rate)

    def halt(self, coin: str) -> None:
        self.paper.set_market_status(self.symbol(coin), "HALT")

    def resume(self, coin: str) -> None:
        self.paper.set_market_status(self.symbol(coin), "TRADING")

    def starve_margin(self) -> None:
        """Leave 1 USDC: the venue refuses any opening order for margin (reduce-only ones pass)."""
        account = self.paper.ledger.account(self._account_id)
        assert account is not None
        self.paper.deposit(self.key, -(account.balance - 1))  # type: ignore[attr-defined]

    def clear_faults(self) -> None:
        self.paper.faults.clear()

    # -- fault timing hooks ------------------------------------------------------------
    def before_order(self, fn: Callable[[], object], *, nth: int = 1) -> None:
        """Run ``fn`` right before the ``nth`` next order of this client leaves."""
        self._before_order.extend([lambda: None] * (nth - 1 - len(self._before_order)))
        self._before_order.append(fn)

    def watch_orders(self, fn: Callable[[], object]) -> None:
        """Run ``fn`` before every order this client sends from now on."""
        self._watchers.append(fn)

    def after_accept(self, fn: Callable[[], object]) -> None:
        self._after_accept.append(fn)

    def on_first_lookup(self, fn: Callable[[], object]) -> None:
        self._on_lookup.append(fn)

    def inject(self, fault: str, *, nth: int = 1) -> None:
        assert fault not in self.NOT_INJECTABLE, f"{fault} cannot be injected on the {self.DIALECT} paper"
        FAULTS[fault](self, nth)

    def _order_leaving(self) -> None:
        for fn in self._watchers:
            fn()
        if self._before_order:
            self._before_order.pop(0)()

    def _order_booked(self) -> None:
        if self._after_accept:
            self._after_accept.pop(0)()

    def _install(self) -> None:
        self._install_dialect()
        real_get_order = self.exchange.get_order

        async def get_order(**kw: Any) -> Any:
            self.lookups += 1
            while self._on_lookup:
                self._on_lookup.pop(0)()
            return await real_get_order(**kw)

        self.exchange.get_order = get_order

    @abc.abstractmethod
    def _install_dialect(self) -> None:
        """Hook the dialect's order POST point (``_order_leaving``) and booking point
        (``_order_booked``)."""


class VestVenue(PaperVenue):
    DIALECT = "vest"
    ORDER_REQUEST = "POST /orders"
    HALT_SEEN_BEFORE_SENDING = True  # the ticker says HALT; prepare_order refuses unsent

    @property
    def address(self) -> str:
        return str(self.key.primary_address)

    def book(self, coin: str) -> dict[str, list[list[str]]]:
        return depth_json(self.paper.sim, self.symbol(coin), 20)

    def is_depth_stream(self, key: str, coin: str) -> bool:
        return key == f"{self.symbol(coin)}@depth"

    def _install_dialect(self) -> None:
        rest = self.exchange.rest
        real_post = rest.post_order

        async def post_order(body: Any, **kw: Any) -> Any:
            self._order_leaving()
            return await real_post(body, **kw)

        rest.post_order = post_order
        trading = self.paper.trading  # type: ignore[attr-defined]
        real_place = trading.place_order

        def place_order(*args: Any) -> Any:
            order = real_place(*args)
            self._order_booked()
            return order

        trading.place_order = place_order


class HyperliquidVenue(PaperVenue):
    DIALECT = "hyperliquid"
    ORDER_REQUEST = "POST /exchange"
    # Hyperliquid's meta has no halted flag: a halt is met when the order arrives
    # ("Trading is halted."), and the paper records that refusal as a REJECTED order
    HALT_SEEN_BEFORE_SENDING = False
    RECORDS_REFUSALS = True
    NOT_INJECTABLE = {
        "429_long": "the dialect answers HTTP 429 with body null and no Retry-After (as the real server), so "
                    "no 429 can say 'longer than the client waits'; the client backs off on its own and gives "
                    "up only when its resend window is spent, which is the fault '429_outage'",
    }

    @property
    def address(self) -> str:
        return str(self.key.account_address)  # the account the adapter acts for (lower case)

    def book(self, coin: str) -> dict[str, list[list[str]]]:
        answer = self.paper.info_api.handle({"type": "l2Book", "coin": self.symbol(coin)})  # type: ignore[attr-defined]
        bids, asks = answer["levels"]
        return {"bids": [[lv["px"], lv["sz"]] for lv in bids], "asks": [[lv["px"], lv["sz"]] for lv in asks]}

    def is_depth_stream(self, key: str, coin: str) -> bool:
        sub = json.loads(key)
        return isinstance(sub, dict) and sub.get("type") == "l2Book" and sub.get("coin") == self.symbol(coin)

    def set_price(self, coin: str, price: str) -> None:
        super().set_price(coin, price)
        self.forget_cached_marks()

    def set_funding_rate(self, coin: str, rate: str) -> None:
        super().set_funding_rate(coin, rate)
        self.forget_cached_marks()

    def forget_cached_marks(self) -> None:
        """The adapter reuses a ``metaAndAssetCtxs`` answer (marks, funding) for up to
        ``CTX_REUSE`` s, by design; a test that has just moved the paper's price wants the
        next read to see it, as it would after that short reuse."""
        self.exchange._ctx_at = None

    def _install_dialect(self) -> None:
        rest = self.exchange.rest
        real_post = rest.post_action

        async def post_action(build: Any, **kw: Any) -> Any:
            if kw.get("kind", "order") == "order":
                self._order_leaving()
            return await real_post(build, **kw)

        rest.post_action = post_action
        trading = self.paper.trading  # type: ignore[attr-defined]
        real_order = trading.order

        def order(*args: Any) -> Any:
            answer, booked = real_order(*args)
            if booked:
                self._order_booked()
            return answer, booked

        trading.order = order


def _outage_until_lookup(v: PaperVenue) -> None:
    v.paper.faults.server_error(OUTAGE)
    v.on_first_lookup(v.clear_faults)


def _rate_limited_until_lookup(v: PaperVenue) -> None:
    v.paper.faults.rate_limit(OUTAGE, retry_after=0.05)
    v.on_first_lookup(v.clear_faults)


def _held_until_lookup(v: PaperVenue) -> None:
    v.paper.faults.delay(HOLD_EVERY_READ, n=OUTAGE)
    v.on_first_lookup(v.clear_faults)


def _lost_then_outage(v: PaperVenue) -> None:
    v.paper.faults.lose_next_order_response()
    v.after_accept(lambda: _outage_until_lookup(v))


#: name -> how to arm it on the venue's ``nth`` next order. The first group the venue
#: client absorbs by itself (same signed bytes resent, or a duplicate reconciled); the
#: second reaches the arb layer as NetworkError / OrderStateUnknown.
FAULTS: dict[str, Callable[[PaperVenue, int], None]] = {
    # (counted faults hit the paper's next REST requests, whichever they are: armed right
    # before the order leaves a REST-only client, the next one is the order itself)
    "5xx": lambda v, n: v.before_order(lambda: v.paper.faults.server_error(1, 503), nth=n),
    # (Hyperliquid's paper answers without Retry-After: the client backs off on its own)
    "429": lambda v, n: v.before_order(lambda: v.paper.faults.rate_limit(1, retry_after=0.05), nth=n),
    "lost_response": lambda v, n: v.before_order(v.paper.faults.lose_next_order_response, nth=n),
    # held longer than one attempt: resent (the held first copy is never read: its
    # connection is gone)
    "timeout": lambda v, n: v.before_order(lambda: v.paper.faults.delay(HOLD_ONE_ATTEMPT, n=1), nth=n),
    "ws_drop": lambda v, n: v.before_order(v.paper.faults.drop_websockets, nth=n),
    # --- the client gives up; the order was never placed
    "5xx_outage": lambda v, n: v.before_order(lambda: _outage_until_lookup(v), nth=n),
    # a Retry-After longer than any client waits: the order attempt gives up at once
    "429_long": lambda v, n: v.before_order(lambda: v.paper.faults.rate_limit(1, retry_after=60), nth=n),
    # 429 on every request until the client's resend window is spent: it gives up
    "429_outage": lambda v, n: v.before_order(lambda: _rate_limited_until_lookup(v), nth=n),
    # every request held longer than the client waits: the client gives up on each copy
    # (and the paper venue, finding the connection gone, never reads the held bodies)
    "timeout_outage": lambda v, n: v.before_order(lambda: _held_until_lookup(v), nth=n),
    # --- the client gives up; the order WAS placed (committed, response lost, then 5xx)
    "lost_then_outage": lambda v, n: v.before_order(lambda: _lost_then_outage(v), nth=n),
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
        exchange = await create_exchange("vest", key, use_ws=use_ws, ws_options=WS_OPTIONS, **VEST_CLIENT)
        venue = VestVenue(name, paper, exchange, key)
        venue._install()
        try:
            yield venue
        finally:
            paper.faults.clear()
            await exchange.close()


@contextlib.asynccontextmanager
async def open_hyperliquid(name: str, seed: int, *, use_ws: bool = False, usdc: int = 10_000,
                           tick_interval: float | None = None, markets: Any = None) -> AsyncIterator[PaperVenue]:
    """A Hyperliquid paper venue (its agent approved by a signed ``approveAgent``) and the
    native adapter on it, REST-only by default, like ``open_vest``."""
    async with PaperHyperliquid(seed=seed, tick_interval=tick_interval, auto_funding=False,
                                markets=markets) as paper:
        key = await paper.create_account(usdc=usdc)
        exchange = await create_exchange("hyperliquid", key, use_ws=use_ws, ws_options=WS_OPTIONS,
                                         **HYPERLIQUID_CLIENT)
        venue = HyperliquidVenue(name, paper, exchange, key)
        venue._install()
        venue.forget_cached_marks()  # the first read of a test sees the price it set
        try:
            yield venue
        finally:
            paper.faults.clear()
            await exchange.close()


PAPER_CLASSES: dict[str, type[PaperExchange]] = {"vest": PaperVest, "hyperliquid": PaperHyperliquid}
DIALECTS: dict[str, Callable[..., contextlib.AbstractAsyncContextManager[PaperVenue]]] = {
    "vest": open_vest,
    "hyperliquid": open_hyperliquid,
}
#: venue pairs every arb test runs over: (long venue "a", short venue "b")
PAIRS = [("vest", "vest"), ("vest", "hyperliquid"), ("hyperliquid", "vest")]
#: dialect name -> its test class (what it can inject)
VENUE_CLASSES: dict[str, type[PaperVenue]] = {"vest": VestVenue, "hyperliquid": HyperliquidVenue}


def fault_cases(faults: list[str], legs: tuple[str, ...]) -> list[Any]:
    """``(pair, leg, fault)`` for every pair and faulted leg whose dialect can express the
    fault (``NOT_INJECTABLE`` says why one cannot): such a case is not generated at all,
    rather than generated and skipped."""

    cases = []
    for pair in PAIRS:
        for leg in legs:
            dialect = pair[0] if leg == "long" else pair[1]
            for fault in faults:
                if fault not in VENUE_CLASSES[dialect].NOT_INJECTABLE:
                    cases.append(pytest.param(pair, leg, fault, id=f"{'-'.join(pair)}-{leg}-{fault}"))
    return cases
