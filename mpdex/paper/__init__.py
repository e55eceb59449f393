"""The paper exchange: a strict, local Vest v2 server (REST + WebSocket on loopback).

    from mpdex.paper import PaperVest
    async with PaperVest(db_path=None, seed=1) as paper:
        key = await paper.create_account(usdc=10_000)     # a wrappers.vest_keys.VestKey
        paper.set_price("BTC-PERP", "97000.5")
        paper.faults.rate_limit(2, retry_after=0.1)

It speaks the wire format of ``vest-api.md`` and is as strict as the real server; the
module layout is: ``server.py`` (routes, headers, error bodies), ``ws.py`` (sockets),
``exchange.py`` (orders, matching, listen keys, funding), ``engine.py`` (pure PnL and
margin arithmetic), ``ledger.py`` (SQLite), ``prices.py`` (seedable market model),
``markets.py`` (default markets), ``faults.py`` (failure injection).

Decisions where the Vest docs are silent (a client tested here meets these rules):

Authentication and headers
  * Private calls need ``X-API-KEY`` (unknown → 1002) and ``xrestservermm`` naming the
    key's own group (wrong or missing → 1146). Accounts get ``accGroup = sequence % 3``, so
    the first account is in group 1: clients that hard-code group 0 fail at once. Public
    calls accept no header, but a malformed one or a group ≥ 3 → 1146.
  * ``/register`` verifies the EIP-712 ``SignerProof`` against the ``network``'s contract
    (``dev`` by default), wants ``networkType`` 0 (else 1024) and an ``expiryTime`` in the
    future (else 1130). Registering the same primary address again adds a new API key and
    signer; earlier keys keep working until their own signer expires.
  * Orders and cancels must recover to the API key's signing address (else 1022). An
    **expired signer** gets 1022 as well ("register again"); reads with its API key keep
    working, so a client can still look at its account.
  * ``time`` more than 1 s ahead of the server, or a ``recvWindow`` outside 1..60000 → 1131;
    ``now > time + recvWindow`` (default 5000) → 1132. The window applies to signed POSTs and
    ``/account/leverage``; ``time`` on GETs is only checked to be an integer.

Error bodies (see ``wire.py``)
  * auth (1002, 1022, 1146): HTTP 401/403 ``{"detail": {"code", "msg"}}``;
  * validation and order rejections: HTTP 400 ``{"code", "msg"}``;
  * unknown symbol on public reads: HTTP **200** ``{"code": 1121, "msg": "unknown symbol"}``;
  * faults: 429 ``{"code":429,"msg":"Rate limited"}`` + ``Retry-After``; 5xx ``{"code", "msg"}``;
    unknown paths: 404 ``{"detail": "Not Found"}``.

Orders
  * ``POST /orders`` is synchronous: when the response leaves, the order is NEW (resting),
    PARTIALLY_FILLED, FILLED or CANCELLED (FOK miss). Synchronous rejections store nothing
    and consume no nonce: 1130 (shape), 1131/1132, 1022, 1121, 1116 (only MARKET/LIMIT),
    1133 (LIMIT: GTC|FOK; MARKET: none or GTC, as live clients send), 1111 (too many
    decimals; fewer are fine, the signed string is echoed as sent), 3011 (price ≤ 0),
    3015 (nonce already used by an order or cancel of this account), 1148 (market HALT),
    3018/3019 (reduce-only increases / exceeds the position), 3001 (a MARKET order's
    ``limitPrice`` cannot cover the whole size on the book), 3002 (margin).
    TP/SL attachments are refused with 1130 (their signing convention is unverified).
  * Nonces must be unique per account (orders and cancels share the space); they need
    not increase. ``/account/nonce`` reports the highest used.
  * MARKET orders take the book level by level. LIMIT orders take what crosses at once
    (taker, at book prices), rest the remainder, and later fill at their limit price when
    the book crosses them (up to the size shown there, so large orders go through
    PARTIALLY_FILLED). The synthetic book is not affected by paper orders resting in it,
    and paper accounts never trade with each other.
  * A resting order that would breach a rule when it fills becomes REJECTED with code
    3018/3019 (reduce-only and the position is gone or smaller) or 3002 (margin).
  * Events on ``account_private``: NEW first, then PARTIALLY_FILLED/FILLED per execution
    (``lastFilled*`` = that execution, ``avgFilledPrice`` over the order), CANCELLED,
    REJECTED — the documented field sets.

Money
  * One-way positions, average entry price, ``takerFee`` on every fill (also limit fills,
    as in the filled-order sample), money rounded to 6 dp half up. Default leverage is
    min(10, max); max = floor(1 / initMarginRatio); above it → 1130; lowering it with a
    position that can no longer be margined → 3021. Initial margin = notional at mark /
    leverage; resting non-reduce-only orders reserve remaining × limitPrice / leverage;
    ``locked`` = both; ``withdrawable`` = min(balance, account value) − both. An order is
    allowed if it does not raise the requirement or the account value still covers it.
  * Funding is hourly on the wall clock (once per hour even after downtime) and by
    ``apply_funding()``: each market's cumulative index moves by ``rate × mark``; positions
    accrue it in ``unrealizedPnl`` and settle it into the balance on their next fill
    (``settledFunding`` / ``cumFunding`` on the order). No liquidations are run;
    ``liqPrice`` is computed (cross margin, other positions held still).

Market data
  * Marks follow a seedable, mean-reverting random walk per market, ticking every
    ``tick_interval`` seconds (``None``: only on ``tick()`` / ``set_price``); a restart with
    the same db continues from the stored marks. Books (100 levels, 20 on the socket) are
    regenerated when the mark moves and deplete as paper orders take liquidity; public
    trades have a negative ``qty`` when the taker sold (REST ids are integers, WS ids
    ``0x…`` strings, as in the samples); 120 minutes of 1m history are synthesised at start.
  * Sockets: SUBSCRIBE/UNSUBSCRIBE acks, PING → ``{"data":"PONG"}``, ``tickers`` (all
    markets), ``{symbol}@depth`` (snapshot right after the ack and on every tick),
    ``{symbol}@trades``, ``{symbol}@kline_1m``, ``account_private``. Close codes in ``ws.py``.
    Listen keys live ``listen_key_ttl`` seconds (60 min); POST returns the same valid key
    and extends it, PUT extends or answers 1125, DELETE → ``{}``.

Persistence: everything in the ledger is written in SQLite transactions (see ``ledger.py``);
``db_path=None`` keeps it in memory. Trades and bars are in memory only.
Not modelled: LP, transfers/withdrawals, TP/SL, liquidations, maker fees.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import aiohttp
from aiohttp import web

from mpdex.precision import to_decimal
from wrappers.vest_auth import address_of, build_register_body
from wrappers.vest_keys import VestKey, make_vest_key

from .exchange import Venue
from .faults import Faults
from .ledger import Ledger
from .markets import DEFAULT_MARKETS, Market, market_table
from .prices import PriceModel
from .server import INTERNAL_HEADER, build_app
from .ws import Hub

__all__ = ["PaperVest", "Faults", "Market", "DEFAULT_MARKETS"]

log = logging.getLogger("mpdex.paper")

_STAT_KEYS = (
    "rest_requests", "rest_errors", "orders_accepted", "orders_rejected", "cancels", "order_responses_lost",
    "registrations", "funding_events", "ws_connects", "ws_open", "ws_rejected", "ws_frames_sent",
)
_DAY_MS = 86_400_000


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


class PaperVest:
    """A running paper exchange. Use ``async with`` (or ``await start()`` / ``stop()``)."""

    def __init__(
        self,
        db_path: str | None = None,
        seed: int = 1,
        host: str = "127.0.0.1",
        port: int = 0,
        network: str = "dev",
        *,
        tick_interval: float | None = 0.5,
        listen_key_ttl: float = 3600.0,
        auto_funding: bool = True,
        clock_ms: Callable[[], int] | None = None,
        markets: list[Market] | tuple[Market, ...] | None = None,
        history_minutes: int = 120,
    ) -> None:
        if network not in ("prod", "dev"):
            raise ValueError("network must be 'prod' or 'dev'")
        self.db_path = db_path
        self.seed = seed
        self.host = host
        self.port = port
        self.network = network
        self.tick_interval = tick_interval
        self.auto_funding = auto_funding
        self._listen_key_ttl_ms = int(listen_key_ttl * 1000)
        self._clock_ms = clock_ms or _wall_ms
        self._markets = market_table(markets)
        self._history_minutes = history_minutes
        self.stats: dict[str, int] = dict.fromkeys(_STAT_KEYS, 0)
        self.faults = Faults()
        self._internal_token = secrets.token_hex(16)
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._ledger: Ledger | None = None
        self._venue: Venue | None = None
        self._hub: Hub | None = None

    # --- life cycle ---------------------------------------------------------------

    async def start(self) -> PaperVest:
        if self._runner is not None:
            return self
        ledger = Ledger(self.db_path)
        try:
            prices = PriceModel(self._markets, self.seed, self._clock_ms(), ledger.load_marks(), self._history_minutes)
            hub = Hub(self.faults, self.stats, 3, self._listen_key_state, self._snapshot)
            self.faults.attach(hub)
            venue = Venue(ledger, self._markets, prices, hub, self._clock_ms, network=self.network,
                          listen_key_ttl_ms=self._listen_key_ttl_ms, stats=self.stats)
            self._ledger, self._venue, self._hub = ledger, venue, hub
            venue.maybe_fund()
            runner = web.AppRunner(build_app(venue, hub, self.faults, self.stats, self._internal_token),
                                   handle_signals=False, access_log=None, shutdown_timeout=1.0)
            await runner.setup()
            site = web.TCPSite(runner, self.host, self.port)
            await site.start()
        except BaseException:
            ledger.close()
            raise
        self._runner = runner
        self.port = runner.addresses[0][1]
        if self.tick_interval:
            self._tasks.append(asyncio.ensure_future(self._tick_loop(self.tick_interval)))
        self._tasks.append(asyncio.ensure_future(self._housekeeping()))
        log.info("paper exchange on %s (db=%s, seed=%d)", self.rest_url, self.db_path or ":memory:", self.seed)
        return self

    async def stop(self) -> None:
        """Stop serving; close sockets (1001), flush marks, close the ledger. Idempotent."""
        if self._runner is None:
            return
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        assert self._hub is not None and self._ledger is not None and self._venue is not None
        await self._hub.shutdown(1001)
        await self._runner.cleanup()
        self._runner = None
        with contextlib.suppress(Exception):
            self._venue._save_marks()
        self._ledger.close()
        log.info("paper exchange stopped")

    async def __aenter__(self) -> PaperVest:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _tick_loop(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                self.venue.tick()
            except Exception:
                log.exception("paper exchange: tick failed")

    async def _housekeeping(self) -> None:
        while True:
            await asyncio.sleep(0.2)
            try:
                self.hub.check_listen_keys()
                if self.auto_funding:
                    self.venue.maybe_fund()
            except Exception:
                log.exception("paper exchange: housekeeping failed")

    # --- URLs and internals -------------------------------------------------------

    @property
    def rest_url(self) -> str:
        return f"http://{self.host}:{self.port}/v2"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/ws-api?version=1.0"

    @property
    def venue(self) -> Venue:
        if self._venue is None:
            raise RuntimeError("PaperVest is not started")
        return self._venue

    @property
    def hub(self) -> Hub:
        if self._hub is None:
            raise RuntimeError("PaperVest is not started")
        return self._hub

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            raise RuntimeError("PaperVest is not started")
        return self._ledger

    @property
    def markets(self) -> dict[str, Market]:
        return self._markets

    def _listen_key_state(self, key: str) -> tuple[str, int | None, int | None]:
        return self.venue.listen_key_state(key)

    def _snapshot(self, channel: str) -> Any | None:
        venue = self.venue
        if channel == "tickers":
            return venue.tickers_ws()
        symbol, _, kind = channel.partition("@")
        if symbol in venue.markets and kind == "depth":
            return venue.depth_json(symbol, 20)
        return None

    # --- accounts -----------------------------------------------------------------

    async def _register(self, primary_pk: str, signing_pk: str, expiry_days: float) -> tuple[str, int]:
        expiry = self._clock_ms() + int(expiry_days * _DAY_MS)
        body = build_register_body(primary_pk, address_of(signing_pk), expiry, self.network)
        async with aiohttp.ClientSession() as session, session.post(
            f"{self.rest_url}/register", json=body, headers={INTERNAL_HEADER: self._internal_token}
        ) as resp:
            data = await resp.json(content_type=None)
        if resp.status != 200 or "apiKey" not in data:
            raise RuntimeError(f"paper /register refused the account (HTTP {resp.status}, code {data.get('code')})")
        return data["apiKey"], int(data["accGroup"])

    def _key(self, api_key: str, signing_pk: str, primary_pk: str, group: int) -> VestKey:
        return make_vest_key(
            api_key=api_key, signing_private_key=signing_pk, primary_address=address_of(primary_pk),
            account_group=group, network=self.network, rest_url=self.rest_url, ws_url=self.ws_url,
        )

    async def _new_account(self, usdc: Any, expiry_days: float) -> tuple[VestKey, str]:
        amount = to_decimal(usdc, "usdc")
        if amount < 0:
            raise ValueError("usdc must not be negative")
        primary_pk = "0x" + secrets.token_hex(32)
        signing_pk = "0x" + secrets.token_hex(32)
        api_key, group = await self._register(primary_pk, signing_pk, expiry_days)
        account = self.ledger.account_by_address(address_of(primary_pk))
        assert account is not None
        if amount:
            self.venue.deposit(account.id, amount)
        return self._key(api_key, signing_pk, primary_pk, group), primary_pk

    async def create_account(self, usdc: Any = 10_000, *, expiry_days: float = 30) -> VestKey:
        """A new account, registered through ``POST /register`` with a real SignerProof
        signature by a fresh primary key, funded with ``usdc``; its ``VestKey`` points at
        this server (``network`` as configured, ``dev`` by default)."""
        key, _ = await self._new_account(usdc, expiry_days)
        return key

    async def default_account(self, usdc: Any = 10_000) -> VestKey:
        """The ledger's persistent default account: created and funded with ``usdc`` on
        first use, the same key on later runs with the same db (re-registered with a new
        signer when the old one is within a day of expiry). Its keys are paper keys kept
        in the ledger's ``meta`` table."""
        stored = self.ledger.get_meta("default_account")
        if stored is not None:
            wallet = json.loads(stored)
            row = self.ledger.api_key(wallet["api_key"])
            if row is not None and row.expiry_ms > self._clock_ms() + _DAY_MS:
                group = self.ledger.account(row.account_id).group
                return self._key(wallet["api_key"], wallet["signing_private_key"], wallet["primary_private_key"], group)
            primary_pk = wallet["primary_private_key"]
            signing_pk = "0x" + secrets.token_hex(32)
            api_key, group = await self._register(primary_pk, signing_pk, 365)
            key = self._key(api_key, signing_pk, primary_pk, group)
        else:
            key, primary_pk = await self._new_account(usdc, 365)
        wallet = {"api_key": key.api_key, "signing_private_key": key.signing_private_key, "primary_private_key": primary_pk}
        with self.ledger.transaction():
            self.ledger.set_meta("default_account", json.dumps(wallet))
        return key

    def deposit(self, key: VestKey | str, usdc: Any) -> None:
        """Credit ``usdc`` (may be negative: a withdrawal) to an account, by key or address."""
        address = key.primary_address if isinstance(key, VestKey) else key
        account = self.ledger.account_by_address(address)
        if account is None:
            raise KeyError(f"no paper account {address}")
        self.venue.deposit(account.id, to_decimal(usdc, "usdc"))

    # --- market control -----------------------------------------------------------

    def set_price(self, symbol: str, price: Any) -> None:
        """Mark and index jump to ``price`` now; the book follows, resting orders the
        new book crosses fill, and subscribers get tickers/depth at once."""
        value = to_decimal(price, "price")
        if value <= 0:
            raise ValueError("price must be positive")
        self.venue.set_price(self._symbol(symbol), value)

    def price(self, symbol: str) -> Decimal:
        """The current mark."""
        return self.venue.prices.states[self._symbol(symbol)].mark

    def _symbol(self, symbol: str) -> str:
        if symbol not in self._markets:
            raise ValueError(f"unknown paper market {symbol!r}; known: {', '.join(self._markets)}")
        return symbol

    def set_funding_rate(self, symbol: str, rate: Any | None) -> None:
        """Pin ``symbol``'s hourly funding rate (``None``: back to the model's rate)."""
        self.venue.prices.states[self._symbol(symbol)].funding_override = None if rate is None else to_decimal(rate, "rate")

    def set_market_status(self, symbol: str, status: str) -> None:
        """``"TRADING"`` or ``"HALT"``; orders on a halted market are refused with 1148."""
        if status not in ("TRADING", "HALT"):
            raise ValueError("status must be TRADING or HALT")
        self.venue.prices.states[self._symbol(symbol)].status = status

    def apply_funding(self) -> dict[str, Decimal]:
        """Apply one funding event now; returns the rates used."""
        return self.venue.apply_funding()

    def tick(self) -> None:
        """Advance the price model one step (what the background ticker does)."""
        self.venue.tick()

    def expire_listen_keys(self) -> int:
        """Every current listen key expires now; sockets using one close with 4005.
        Returns how many sockets were closed."""
        return self.venue.expire_listen_keys()

    def ws_subscriptions(self) -> list[list[str]]:
        """Channels per open socket, in subscribe order, duplicates included."""
        return self.hub.subscriptions()

