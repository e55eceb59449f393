"""The loopback server harness every paper venue runs on: ``PaperVenue`` opens the ledger
(with the dialect's extra tables), builds the price model and the simulator, serves the
dialect's aiohttp routes on 127.0.0.1, runs the tick loop and the housekeeping loop, applies
REST faults, and stops cleanly. Each instance owns its ledger, marks, seed, faults and
stats, so several venues (of one or several dialects) run in one process independently.

A dialect is a subclass. It declares, as class attributes:

* ``NAME`` (the venue's registry name), ``SIMULATOR`` (``Simulator`` or a subclass, e.g.
  with its own ``funding_rate`` model), ``RULES`` (``rules.Rules``), ``MARKETS`` (its
  default ``Market`` table), ``SCHEMA`` (its extra ledger tables, or ``None``),
  ``EXTRA_STATS`` (counter names of its own), ``SOCKET_PATHS`` (paths that are not REST:
  no REST faults, not counted as requests);

and implements:

* ``build_routes(app)`` — add its REST routes (and its socket path, usually routed to
  ``self.hub.handle``);
* ``make_hub()`` — its ``sockets.SocketHub`` subclass (or ``None`` without sockets);
* ``make_listener()`` — its ``simulator.Listener`` (what it publishes on committed
  changes; default: nothing);
* ``async create_account(usdc)`` / ``async default_account(usdc)`` — a funded account and
  the key object a client of that venue needs; ``account_fields(key)`` — that key as a
  JSON-able dict (what ``python -m mpdex.paper --create-account`` prints); ``urls()`` —
  what a client points at, by label;
* optionally ``on_started()`` (after the ledger and simulator exist, before serving),
  ``housekeeping()`` (every 0.2 s), ``fault_response(kind, value)``,
  ``not_found_response(status)``, ``internal_error_response()`` (its wire's bodies for
  those), and the CLI hooks ``add_arguments(parser)`` / ``options_from_args(args)``.

Restarts: the ledger remembers when the venue last ran (``last_ran_ms``, written at start,
every second while serving and at stop). A venue started on such a ledger first replays the
market for the time it was down (``replay.py``: seeded, at most 2 000 model steps
plus one funding event per missed hour; ``replay=False`` turns it off), so resting orders
that were crossed in the meantime are filled and the funding that came due is applied.

Refusals: a route raises ``WireError`` (a dialect's subclass renders its own body and
status); the middleware answers it and counts ``rest_errors``. The simulator's ``Refused``
is mapped by the dialect, never by the harness.
"""
from __future__ import annotations

import abc
import argparse
import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

import orjson
from aiohttp import web

from mpdex.precision import to_decimal

from .faults import Faults
from .ledger import Ledger, Schema
from .markets import Market, market_table
from .prices import PriceModel
from .replay import ReplayReport, replay
from .rules import Rules
from .simulator import Listener, Simulator
from .sockets import SocketHub

__all__ = ["PaperVenue", "WireError", "INTERNAL_HEADER", "CORE_STATS", "json_response"]

log = logging.getLogger("mpdex.paper")

INTERNAL_HEADER = "X-Paper-Internal"
#: ledger meta key: wall-clock ms until which the venue last ran (a restart replays from it)
LAST_RAN = "last_ran_ms"

CORE_STATS = (
    "rest_requests", "rest_errors", "orders_accepted", "orders_rejected", "cancels", "order_responses_lost",
    "funding_events", "ws_connects", "ws_open", "ws_rejected", "ws_frames_sent",
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
V = TypeVar("V", bound="PaperVenue")


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json", headers=headers)


def retry_after_value(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


class WireError(Exception):
    """A refusal answered with ``status`` and ``body`` (JSON, or plain text when ``body``
    is a ``str`` and ``text`` is set). Dialects subclass it for their error styles."""

    def __init__(self, status: int, body: Any, *, text: bool = False, message: str = "") -> None:
        super().__init__(message or f"HTTP {status}")
        self.status = status
        self.body = body
        self.text = text

    def response(self) -> web.Response:
        if self.text:
            return web.Response(text=str(self.body), status=self.status)
        return json_response(self.body, self.status)


class PaperVenue(abc.ABC):
    """A running paper venue. Use ``async with`` (or ``await start()`` / ``stop()``)."""

    NAME: ClassVar[str] = ""
    SIMULATOR: ClassVar[type[Simulator]] = Simulator
    RULES: ClassVar[Rules] = Rules()
    MARKETS: ClassVar[tuple[Market, ...]] = ()
    SCHEMA: ClassVar[Schema | None] = None
    EXTRA_STATS: ClassVar[tuple[str, ...]] = ()
    SOCKET_PATHS: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        db_path: str | None = None,
        seed: int = 1,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        tick_interval: float | None = 0.5,
        auto_funding: bool = True,
        clock_ms: Callable[[], int] | None = None,
        markets: list[Market] | tuple[Market, ...] | None = None,
        history_minutes: int = 120,
        drop_sockets_every: float | None = None,
        replay: bool = True,
    ) -> None:
        self.db_path = db_path
        self.seed = seed
        self.host = host
        self.port = port
        self.tick_interval = tick_interval
        self.auto_funding = auto_funding
        self.drop_sockets_every = drop_sockets_every
        self.replay = replay
        self.last_replay: ReplayReport | None = None
        self._ran_written = 0
        self._clock_ms = clock_ms or _wall_ms
        self._markets = market_table(markets if markets is not None else self.MARKETS)
        self._history_minutes = history_minutes
        self.stats: dict[str, int] = dict.fromkeys((*CORE_STATS, *self.EXTRA_STATS), 0)
        self.faults = Faults()
        self._internal_token = secrets.token_hex(16)
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._ledger: Ledger | None = None
        self._sim: Simulator | None = None
        self._hub: SocketHub | None = None

    # --- dialect hooks ----------------------------------------------------------------

    @abc.abstractmethod
    def build_routes(self, app: web.Application) -> None:
        """Add the dialect's routes to ``app``."""

    @abc.abstractmethod
    async def create_account(self, usdc: Any = 10_000) -> Any:
        """A new funded account; returns the key object the venue's client needs."""

    @abc.abstractmethod
    async def default_account(self, usdc: Any = 10_000) -> Any:
        """The ledger's persistent default account (same key on later runs)."""

    @abc.abstractmethod
    def account_fields(self, key: Any) -> dict[str, Any]:
        """``key`` as a JSON-able dict of the venue's key fields."""

    def urls(self) -> dict[str, str]:
        """What a client points at, by label (the CLI prints them)."""
        return {"REST": self.base_url}

    def make_hub(self) -> SocketHub | None:
        return None

    def make_listener(self) -> Listener:
        return Listener()

    def on_started(self) -> None:  # noqa: B027 (an optional hook: doing nothing is its default)
        """Called once the ledger, simulator and hub exist, before the server listens."""

    def housekeeping(self) -> None:  # noqa: B027 (an optional hook)
        """Called every 0.2 s while serving."""

    def fault_response(self, kind: str, value: float) -> web.StreamResponse:
        """The answer to an injected REST fault: ``("rate", retry_after)`` or ``("error", status)``
        (plain text here; a dialect answers with its wire's bodies)."""
        if kind == "rate":
            return web.Response(text="Too Many Requests", status=429, headers={"Retry-After": retry_after_value(value)})
        return web.Response(text="Service Unavailable", status=int(value))

    def not_found_response(self, status: int) -> web.StreamResponse:
        return web.Response(text="Not Found" if status == 404 else "Method Not Allowed", status=status)

    def internal_error_response(self) -> web.StreamResponse:
        return web.Response(text="Internal Server Error", status=500)

    @classmethod  # noqa: B027 (an optional hook: doing nothing is its default)
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """Add the dialect's own ``python -m mpdex.paper`` options."""

    @classmethod
    def options_from_args(cls, args: argparse.Namespace) -> dict[str, Any]:
        """Constructor keyword arguments from the options ``add_arguments`` added."""
        return {}

    # --- life cycle -------------------------------------------------------------------

    async def start(self: V) -> V:
        if self._runner is not None:
            return self
        ledger = Ledger(self.db_path, self.SCHEMA)
        try:
            now = self._clock_ms()
            ran = ledger.get_meta(LAST_RAN)
            since = int(ran) if self.replay and ran is not None and int(ran) < now else None
            history_end = now if since is None else since
            prices = PriceModel(self._markets, self.seed, history_end, ledger.load_marks(), self._history_minutes)
            self._ledger = ledger
            self._hub = self.make_hub()
            if self._hub is not None:
                self.faults.attach(self._hub)
            self._sim = self.SIMULATOR(ledger, self._markets, prices, self._clock_ms, rules=self.RULES,
                                  listener=self.make_listener(), stats=self.stats)
            self.on_started()
            if since is not None:
                self.last_replay = replay(self._sim, since, now, funding=self.auto_funding)
            if self.auto_funding:
                self._sim.maybe_fund()
            self._mark_ran()
            app = web.Application(middlewares=[self._middleware], client_max_size=1 << 20)
            self.build_routes(app)
            runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
            await runner.setup()
            try:
                site = web.TCPSite(runner, self.host, self.port)
                await site.start()
            except BaseException:
                await runner.cleanup()
                raise
        except BaseException:
            ledger.close()
            self._ledger = self._sim = self._hub = None
            raise
        self._runner = runner
        self.port = runner.addresses[0][1]
        if self.tick_interval:
            self._tasks.append(asyncio.ensure_future(self._tick_loop(self.tick_interval)))
        if self.drop_sockets_every:
            self._tasks.append(asyncio.ensure_future(self._drop_loop(self.drop_sockets_every)))
        self._tasks.append(asyncio.ensure_future(self._housekeeping()))
        log.info("paper %s venue on %s (db=%s, seed=%d)", self.NAME, self.base_url, self.db_path or ":memory:", self.seed)
        return self

    async def stop(self) -> None:
        """Stop serving; close sockets (1001), flush marks, close the ledger. Idempotent."""
        if self._runner is None:
            return
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self._hub is not None:
            await self._hub.shutdown(1001)
        await self._runner.cleanup()
        self._runner = None
        with contextlib.suppress(Exception):
            self.sim.save_marks()
            self._mark_ran()
        self.ledger.close()
        log.info("paper %s venue stopped", self.NAME)

    async def __aenter__(self: V) -> V:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _tick_loop(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                self.sim.tick()
            except Exception:
                log.exception("paper venue: tick failed")

    async def _drop_loop(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            self.faults.drop_websockets(1012)

    def _mark_ran(self) -> None:
        """Remember in the ledger that the venue ran until now (what a restart replays from)."""
        now = self._clock_ms()
        with self.ledger.transaction():
            self.ledger.set_meta(LAST_RAN, str(now))
        self._ran_written = now

    async def _housekeeping(self) -> None:
        while True:
            await asyncio.sleep(0.2)
            try:
                self.housekeeping()
                if self.auto_funding:
                    self.sim.maybe_fund()
                if self._clock_ms() - self._ran_written >= 1000:
                    self._mark_ran()
            except Exception:
                log.exception("paper venue: housekeeping failed")

    # --- the REST plumbing ----------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path in self.SOCKET_PATHS:
            return await handler(request)
        self.stats["rest_requests"] += 1
        if not self.is_internal(request):
            pause, fault = self.faults.next_request()
            if pause:
                await asyncio.sleep(pause)
            if fault is not None:
                return self.fault_response(*fault)
        try:
            return await handler(request)
        except WireError as exc:
            self.stats["rest_errors"] += 1
            return exc.response()
        except web.HTTPException as exc:
            if exc.status in (404, 405):
                return self.not_found_response(exc.status)
            raise
        except Exception:
            log.exception("paper venue: unhandled error on %s %s", request.method, request.path)
            return self.internal_error_response()

    def is_internal(self, request: web.Request) -> bool:
        """A request the venue made to itself (``internal_headers()``): no faults."""
        return request.headers.get(INTERNAL_HEADER) == self._internal_token

    def internal_headers(self) -> dict[str, str]:
        return {INTERNAL_HEADER: self._internal_token}

    def lose_response(self, request: web.Request, what: str) -> None:
        """If a lost-response fault is armed (and ``request`` is not internal): drop the
        connection without an answer (the work is already committed) by raising
        ``CancelledError``; otherwise return."""
        if self.is_internal(request) or not self.faults.take_lost_order():
            return
        log.info("paper fault: %s committed, dropping its response", what)
        self.stats["order_responses_lost"] += 1
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError

    # --- state ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._runner is not None

    @property
    def sim(self) -> Simulator:
        if self._sim is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return self._sim

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return self._ledger

    @property
    def hub(self) -> SocketHub:
        if self._hub is None:
            raise RuntimeError(f"{type(self).__name__} is not started or has no sockets")
        return self._hub

    @property
    def markets(self) -> dict[str, Market]:
        return self._markets

    def now_ms(self) -> int:
        return self._clock_ms()

    # --- market control (the same for every venue) ---------------------------------------

    def _symbol(self, symbol: str) -> str:
        if symbol not in self._markets:
            raise ValueError(f"unknown paper market {symbol!r}; known: {', '.join(self._markets)}")
        return symbol

    def set_price(self, symbol: str, price: Any) -> None:
        """Mark and index jump to ``price`` now; the book follows, resting orders the new
        book crosses fill, and subscribers hear about it at once."""
        value = to_decimal(price, "price")
        if value <= 0:
            raise ValueError("price must be positive")
        self.sim.set_price(self._symbol(symbol), value)

    def price(self, symbol: str) -> Decimal:
        """The current mark."""
        return self.sim.prices.states[self._symbol(symbol)].mark

    def set_funding_rate(self, symbol: str, rate: Any | None) -> None:
        """Pin ``symbol``'s funding rate per interval (``None``: back to the model's)."""
        self.sim.prices.states[self._symbol(symbol)].funding_override = None if rate is None else to_decimal(rate, "rate")

    def set_market_status(self, symbol: str, status: str) -> None:
        """``"TRADING"`` or ``"HALT"``; orders on a halted market are refused."""
        if status not in ("TRADING", "HALT"):
            raise ValueError("status must be TRADING or HALT")
        self.sim.prices.states[self._symbol(symbol)].status = status

    def apply_funding(self) -> dict[str, Decimal]:
        """Apply one funding event now; returns the rates used."""
        return self.sim.apply_funding()

    def tick(self) -> None:
        """Advance the price model one step (what the background ticker does)."""
        self.sim.tick()

    def ws_subscriptions(self) -> list[list[str]]:
        """Subscription keys per open socket, in subscribe order, duplicates included."""
        return self.hub.subscriptions() if self._hub is not None else []

    def deposit_account(self, account_id: int, usdc: Any) -> None:
        """Credit ``usdc`` (negative: a withdrawal) to a ledger account."""
        self.sim.deposit(account_id, to_decimal(usdc, "usdc"))
