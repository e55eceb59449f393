"""``VestExchange``: the unified contract over Vest Markets' v2 API — its writes and life cycle.

Layers: ``vest_rest`` (wire) → ``vest_parsers`` / ``vest_markets`` (pure shapes) →
``vest_reads`` (every read: socket first, REST otherwise) → this class (orders, cancels,
leverage, the pooled socket's life cycle, registration).

Order safety: the shared path (``mpdex.orders``) with Vest's rules and wire
(``vest_orders``): every input checked and rounded before anything is signed; the nonce is
the client order id, one strictly increasing source per signing key; a body is signed when
its rate-limit token is in hand and never re-signed (the same bytes are resent inside
``recvWindow``); an unknown outcome is reconciled with ``GET /orders?nonce=`` and only an
order whose every signed field matches is adopted, else ``DuplicateOrder`` /
``OrderStateUnknown``; an accepted order is confirmed from its socket event or
``GET /orders?id=``, so an asynchronous rejection raises its typed error.
"""
from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from mpdex.clock import now_ms
from mpdex.config import check_seconds, positive_int
from mpdex.errors import (
    BadRequest,
    ConfigError,
    ExchangeError,
    InvalidOrder,
    MarketClosed,
    MpdexError,
    OrderStateUnknown,
)
from mpdex.nonce import NonceSource, shared_nonce_source
from mpdex.orders import OrderPlan, check_slippage, normalize_order, place_order
from mpdex.ratelimit import Sleep
from mpdex.redact import short_address
from mpdex.transport import RetryPolicy
from mpdex.types import (
    CancelResult,
    LeverageUpdate,
    OrderResult,
)
from multi_perp_dex import MultiPerpDex, MultiPerpDexMixin

from . import vest_parsers as P
from . import vest_ws_client
from .base_ws_pool import let_go
from .vest_auth import VestSigner
from .vest_keys import VestKey, make_vest_key
from .vest_markets import SymbolResolver, VestMarket, parse_markets, with_status
from .vest_orders import (
    CLOCK_AHEAD_MS,
    VestOrderWire,
    build_cancel_body,
    build_order_body,
    check_client_id,
    market_rules,
)
from .vest_reads import KLINE_INTERVALS, VestReads
from .vest_register import register as register_signer
from .vest_rest import DEFAULT_RECV_WINDOW, VestRestClient

__all__ = ["VestExchange", "VestMarket", "build_order_body", "DEFAULT_SLIPPAGE", "KLINE_INTERVALS"]


log = logging.getLogger("mpdex.vest")

#: Default market-order slippage cap: 0.5 %. Wide enough that a normal market order on
#: Vest's liquid perps fills (their books are a few bp wide and the mark moves little in
#: the ~100 ms between reading it and matching), tight enough that a thin book or a
#: fast move cannot fill the order far from the mark. Override per call or per exchange.
DEFAULT_SLIPPAGE = Decimal("0.005")


#: contract reads the pooled socket serves (``ws_supported``); orders and leverage are REST
_WS_READS = frozenset({"get_mark_price", "get_orderbook", "get_open_orders", "get_position", "get_collateral"})
#: a market order's slippage cap is built from a socket mark at most this old (else REST)
_CAP_MAX_AGE = 1.0




class VestExchange(VestReads, MultiPerpDexMixin, MultiPerpDex):
    """Vest Markets (v2 REST). ``await VestExchange(**key_fields).init()`` or
    ``await create_exchange("vest", keys)``.

    Options (keyword-only):
      ``slippage``        default market-order slippage cap (Decimal-like, default 0.005)
      ``confirm_timeout`` seconds to poll ``GET /orders?id=`` for a market order's final
                          state (default 2.0; a limit order is read once)
      ``recv_window``     ms a signed request stays valid (default 5000)
      ``order_queue_wait`` seconds an order or cancel may wait for its rate-limit slot
                          (default: ``recv_window``); past that it is refused locally with
                          ``RateLimitExceeded`` — nothing is signed or sent
      ``server_clock_skew`` seconds Vest's clock may trail ours (default 1.0: it refuses a
                          ``time`` more than 1 s ahead of it); with ``recv_window`` it makes
                          ``order_validity``, after which a signed order can no longer land
      ``timeout``         seconds per REST read; ``order_timeout`` per signed-POST attempt
      ``rate_limits``     ``{"public"|"private"|"order": (rate, burst)}``
      ``retry``           ``mpdex.transport.RetryPolicy``
      ``use_ws``          True: one pooled, self-healing socket per account
                          (``wrappers.vest_ws_client``) serves marks, books, open orders,
                          positions and collateral while fresh; REST otherwise (default).
                          False: REST alone, no socket at all.
      ``ws_max_age``      seconds (default 5.0): socket data older than this is never
                          served — the read goes to REST and the fallback is logged
      ``ws_options``      ``VestWSClient`` settings (``ping_interval``, ``recv_timeout``,
                          ``reconnect_min``/``max``, ``connect_timeout``, ``keepalive_interval``
                          …); they apply when this instance is the first of its account
      ``nonce_source``, ``clock_ms``, ``monotonic``, ``sleep``, ``rng``: injectable for tests
    """

    name = "vest"
    CAPABILITIES = frozenset({"orders", "funding", "fees", "positions", "klines", "markets", "prepare"})

    def __init__(
        self,
        api_key: str,
        signing_private_key: str,
        primary_address: str,
        account_group: int = 0,
        network: str = "prod",
        rest_url: str | None = None,
        ws_url: str | None = None,
        proxy: str | None = None,
        *,
        use_ws: bool = True,
        ws_max_age: float = vest_ws_client.VestWSClient.MAX_AGE,
        ws_options: Mapping[str, Any] | None = None,
        slippage: Any = DEFAULT_SLIPPAGE,
        confirm_timeout: float = 2.0,
        recv_window: int = DEFAULT_RECV_WINDOW,
        order_queue_wait: float | None = None,
        server_clock_skew: float = CLOCK_AHEAD_MS / 1000,
        timeout: float = 10.0,
        order_timeout: float = 2.0,
        rate_limits: Mapping[str, tuple[float, float]] | None = None,
        retry: RetryPolicy | None = None,
        nonce_source: NonceSource | None = None,
        clock_ms: Callable[[], int] = now_ms,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        super().__init__()
        for field, value in (("api_key", api_key), ("signing_private_key", signing_private_key),
                             ("primary_address", primary_address)):
            if value is None or (isinstance(value, str) and not value.strip()):
                raise ConfigError(f"vest key_params is missing required field '{field}'")
        self.key: VestKey = make_vest_key(
            api_key=api_key, signing_private_key=signing_private_key, primary_address=primary_address,
            account_group=account_group, network=network, rest_url=rest_url, ws_url=ws_url, proxy=proxy,
        )
        try:
            self._slippage = check_slippage(slippage)
        except InvalidOrder as exc:
            raise ConfigError(f"slippage option: {exc.message}") from None
        if not confirm_timeout >= 0:
            raise ConfigError("confirm_timeout must be >= 0")
        if isinstance(recv_window, bool) or not isinstance(recv_window, int) or not 100 <= recv_window <= 60_000:
            raise ConfigError("recv_window must be an integer number of ms in [100, 60000]")
        self.confirm_timeout = float(confirm_timeout)
        self.recv_window = recv_window
        if order_queue_wait is not None and not (isinstance(order_queue_wait, (int, float))
                                                 and not isinstance(order_queue_wait, bool) and order_queue_wait >= 0):
            raise ConfigError("order_queue_wait must be a number of seconds >= 0")
        #: a signed request whose rate-limit slot is further away than this is refused locally
        self.order_queue_wait = float(order_queue_wait) if order_queue_wait is not None else recv_window / 1000
        self.server_clock_skew = check_seconds(server_clock_skew, "server_clock_skew", allow_zero=True)
        # Vest accepts a signed order while its clock is at most recvWindow past the signed
        # time, and refuses a time more than 1 s ahead of its clock, so its clock trails ours
        # by at most that much
        self.order_validity = recv_window / 1000 + self.server_clock_skew
        self.use_ws = bool(use_ws)
        if isinstance(ws_max_age, bool) or not isinstance(ws_max_age, (int, float)) or not ws_max_age > 0:
            raise ConfigError("ws_max_age must be a positive number of seconds")
        self.ws_max_age = float(ws_max_age)
        if ws_options is not None and not isinstance(ws_options, Mapping):
            raise ConfigError("ws_options must be a mapping of VestWSClient settings")
        self._ws_options = dict(ws_options or {})
        self._signer = VestSigner(self.key.signing_private_key)
        self._clock_ms = clock_ms
        self._monotonic = monotonic
        self._sleep = sleep
        self._nonces = nonce_source or shared_nonce_source(("vest", self._signer.address))
        self.rest = VestRestClient(
            self.key, timeout=timeout, order_timeout=order_timeout, rate_limits=rate_limits, retry=retry,
            clock_ms=clock_ms, monotonic=monotonic, sleep=sleep, rng=rng,
        )
        self.ws_client: vest_ws_client.VestWSClient | None = None
        self.markets: dict[str, VestMarket] = {}
        self._resolver: SymbolResolver | None = None
        self._closed = False
        self._who = short_address(self.key.primary_address)

    def __repr__(self) -> str:
        return (f"VestExchange(primary_address={self.key.primary_address}, signer={self._signer.address}, "
                f"network={self.key.network}, account_group={self.key.account_group})")

    # -- setup -----------------------------------------------------------------------

    async def init(self) -> VestExchange:
        """Load markets (steps, margins, fees, status), resolve symbols and move the nonce
        source past the account's ``lastNonce``."""
        info, tickers, nonce = await asyncio.gather(
            self.rest.get_exchange_info(), self.rest.get_ticker_latest(), self.rest.get_account_nonce()
        )
        self.markets = parse_markets(info, tickers)
        self._resolver = SymbolResolver(self.markets.values())
        self.available_symbols = {"perp": sorted(self.markets)}
        last = nonce.get("lastNonce") if isinstance(nonce, dict) else None
        if last is not None:
            if isinstance(last, bool) or not isinstance(last, int):
                raise ExchangeError("GET /account/nonce: lastNonce is not an integer", raw=nonce)
            self._nonces.advance_past(last)
        log.info("vest %s: %d markets loaded (network=%s, group=%d)", self._who, len(self.markets),
                 self.key.network, self.key.account_group)
        if self.use_ws and self.ws_client is None and not self._closed:
            self.ws_client = await vest_ws_client.acquire(self.key, **self._ws_options)
            self.ws_supported = {k: k in _WS_READS for k in self.ws_supported}
        return self

    # -- orders ----------------------------------------------------------------------

    async def prepare_order(
        self,
        symbol: str,
        side: str,
        amount: Any,
        price: Any = None,
        order_type: str | None = None,
        *,
        is_reduce_only: bool = False,
        time_in_force: str | None = None,
        slippage: Any | None = None,
        strict: bool = False,
    ) -> OrderPlan:
        """Check and round an order exactly as ``create_order`` would, without sending it:
        the plan shows the size and price that would be signed and every rounding applied
        (``adjustments``). A market order's cap is built on a fresh mark (at most 1 s old)."""
        market = self._market(symbol)
        slip = self._slippage if slippage is None else check_slippage(slippage)
        if market.halted:  # a HALT seen earlier may be over: look again before refusing
            await self._cap_mark(market.symbol)
            market = self.markets[market.symbol]
        return await normalize_order(
            market_rules(market), side, amount, price, order_type, is_reduce_only=is_reduce_only,
            time_in_force=time_in_force, slippage=slip, mark=lambda: self._cap_mark(market.symbol),
            strict=strict, venue="Vest",
        )

    async def create_order(
        self,
        symbol: str,
        side: str,
        amount: Any,
        price: Any = None,
        order_type: str | None = None,
        *,
        is_reduce_only: bool = False,
        time_in_force: str | None = None,
        client_id: Any | None = None,
        slippage: Any | None = None,
        strict: bool = False,
    ) -> OrderResult:
        """Place an order: a price makes it LIMIT, none makes it MARKET (an explicit
        ``order_type`` must agree with that).

        * size is rounded **down** to the market's step; below the minimum → ``InvalidOrder``;
        * LIMIT: ``time_in_force`` ``GTC`` (default) or ``FOK``; the price is rounded to the
          tick in the user's favour (buy down, sell up);
        * MARKET: ``limitPrice = mark × (1 ± slippage)`` (default ``DEFAULT_SLIPPAGE`` = 0.5 %),
          rounded so the cap never allows more than ``slippage``; no ``timeInForce`` is sent;
        * IOC / post-only → ``NotSupported`` (Vest has GTC and FOK only);
        * every rounding is in the result's ``adjustments`` (and logged); ``strict=True``
          refuses with ``InvalidOrder`` instead of rounding;
        * ``client_id`` (an integer in 1..10**15, see ``wrappers.vest_orders``) is used as the
          nonce; otherwise the next nonce. Either way it comes back as ``client_order_id``.

        The result reports what Vest recorded (size, limit price, status, fills, fee,
        realised PnL), plus ``requested_size`` / ``requested_price``. A rejected order raises
        the typed error of its code; an order whose fate cannot be established raises
        ``OrderStateUnknown`` (query it by ``client_order_id`` before sending anything similar).
        """
        given = check_client_id(client_id)
        plan = await self.prepare_order(symbol, side, amount, price, order_type, is_reduce_only=is_reduce_only,
                                        time_in_force=time_in_force, slippage=slippage, strict=strict)
        market = self.markets[plan.symbol]
        if market.halted:  # the cap's ticker may have carried a fresher status
            raise MarketClosed(f"{market.symbol} is halted")
        if given is not None:
            self._nonces.advance_past(given)
        nonce = given if given is not None else self._nonces.next()
        wire = VestOrderWire(
            self.rest, self._signer, plan, market, nonce, clock_ms=self._clock_ms, monotonic=self._monotonic,
            sleep=self._sleep, recv_window=self.recv_window, confirm_timeout=self.confirm_timeout,
            queue_wait=self.order_queue_wait, stream=self.ws_client,
        )
        try:
            result = await place_order(plan, wire.cid, wire, venue="vest", account=self._who, matches=wire.matches,
                                       monotonic=self._monotonic)
        except BaseException as exc:
            self._ws_changed()
            if isinstance(exc, asyncio.CancelledError) and wire.body is not None:
                log.warning("vest %s order %s %s %s cid=%s was cancelled by the caller after it may have been sent; "
                            "look it up by client_order_id", self._who, plan.symbol, plan.side, plan.size, wire.cid)
            raise
        self._ws_changed(result["raw"])
        return result

    async def _cap_mark(self, symbol: str) -> Decimal:
        """The mark a market order's cap is built on: the socket's ticker only when very
        fresh (at most ``_CAP_MAX_AGE``), else REST; refreshes the market's status."""
        ticker = await self._ticker(symbol, min(self.ws_max_age, _CAP_MAX_AGE))
        market = self.markets[symbol]
        fresh = with_status(market, ticker.get("status"))
        if fresh is not market:
            self.markets[symbol] = fresh
        if fresh.halted:
            raise MarketClosed(f"{symbol} is halted")
        mark = P.dec(ticker.get("markPrice"), "markPrice")
        if mark <= 0:
            raise ExchangeError(f"Vest mark price of {symbol} is not positive", raw=ticker)
        return mark

    def new_client_id(self) -> str:
        """The next nonce of this signer (Vest's client order id), as a string."""
        return str(self._nonces.next())

    async def cancel_orders(self, symbol: str, open_orders: Any = None) -> list[CancelResult]:
        """Cancel ``open_orders`` — an order id, one order dict, or a list of either
        (default: every open order of ``symbol``, read from state that is fresh) —
        concurrently; one ``{id, order_id, symbol, status, error}`` each."""
        native = self.resolve_symbol(symbol)
        if open_orders is None:
            targets: list[tuple[str, str]] = [(o["id"], o["symbol"]) for o in await self._open_orders(native)]
        else:
            targets = [self._cancel_target(o, native) for o in _as_order_list(open_orders)]
        try:
            return list(await asyncio.gather(*(self._cancel_one(oid, sym) for oid, sym in targets)))
        finally:
            self._ws_changed()

    def _cancel_target(self, order: Any, default_symbol: str) -> tuple[str, str]:
        oid: Any
        if isinstance(order, str):
            oid, sym = order, default_symbol
        elif isinstance(order, Mapping):
            oid = order.get("id") or order.get("order_id")
            sym = self.resolve_symbol(order["symbol"]) if order.get("symbol") else default_symbol
        else:
            oid, sym = None, default_symbol
        if not isinstance(oid, str) or not oid.strip():
            raise BadRequest(f"cannot cancel {order!r}: give an order id, an order dict with 'id', or a list of them")
        return oid.strip(), sym

    async def _cancel_one(self, order_id: str, symbol: str) -> CancelResult:
        started = self._monotonic()
        nonce = self._nonces.next()
        result: CancelResult = {"id": order_id, "order_id": order_id, "symbol": symbol, "status": "ok", "error": None}

        def signed() -> dict[str, Any]:  # signed when the rate-limit token is in hand
            return build_cancel_body(self._signer, time_ms=self._clock_ms(), nonce=nonce, order_id=order_id,
                                     recv_window=self.recv_window)

        try:
            sent = await self.rest.post_cancel(signed, max_queue_wait=self.order_queue_wait)
            if sent.outcome in ("unknown", "refused_after_unknown"):
                state = await self.get_order(order_id=order_id)
                if state["status"] != "CANCELLED":
                    raise OrderStateUnknown(f"cancel of {order_id} unconfirmed; order is {state['status']}",
                                            client_order_id=str(nonce), raw=state["raw"])
        except MpdexError as exc:
            result["status"] = "error"
            result["error"] = str(exc)
            result["exception"] = exc
        log.info("vest %s cancel %s id=%s cid=%s %s latency=%.1f ms", self._who, symbol, order_id, nonce,
                 result["status"], (self._monotonic() - started) * 1e3)
        return result

    # -- account ---------------------------------------------------------------------

    async def update_leverage(
        self, symbol: str, leverage: int | None = None, margin_mode: str | None = None
    ) -> LeverageUpdate:
        """Set the leverage of ``symbol`` (1 … ``max_leverage``); Vest margin is cross only.

        As mpdex wrappers do, what the venue cannot do comes back as a status dict, not an
        exception: ``(sym, None, "cross")`` is ``ok`` with nothing sent (already cross);
        isolated, a missing leverage or one above the maximum are ``error`` with a message.
        A leverage that is not a positive integer is bad input (``BadRequest``); a refusal by
        Vest raises its typed error."""
        market = self._market(symbol)
        base: LeverageUpdate = {"status": "error", "leverage": None, "margin_mode": "cross", "symbol": market.symbol}
        if margin_mode is not None and str(margin_mode).strip().lower() != "cross":
            return {**base, "message": f"Vest supports cross margin only, not {margin_mode!r}"}
        if leverage is None:
            if margin_mode is not None:
                return {**base, "status": "ok", "message": "Vest margin is always cross: nothing to change"}
            return {**base, "message": "leverage is required (an integer from 1 to "
                                       f"{market.max_leverage} on {market.symbol})"}
        value_in: Any = leverage
        if isinstance(value_in, float) and value_in.is_integer():
            value_in = int(value_in)
        lev = positive_int(value_in, "leverage")
        if lev > market.max_leverage:
            return {**base, "message": f"{lev}x is above {market.symbol}'s maximum of {market.max_leverage}x"}
        try:
            answer = await self.rest.set_leverage(market.symbol, lev)
        finally:
            self._ws_changed()
        value = answer.get("value") if isinstance(answer, dict) else None
        if value != lev:
            return {**base, "leverage": value if isinstance(value, int) else None,
                    "message": f"asked for {lev}x, Vest answered {answer!r}"}
        log.info("vest %s leverage %s -> %dx", self._who, market.symbol, lev)
        return {"status": "ok", "leverage": lev, "margin_mode": "cross", "symbol": market.symbol}

    # -- life cycle --------------------------------------------------------------------

    async def close(self, force_close: bool = True) -> None:
        """Release this instance's depth holds and its reference to the pooled socket (the
        last instance of the account closes it), then close the HTTP session. Idempotent."""
        if self._closed:
            return
        self._closed = True
        client, self.ws_client = self.ws_client, None
        self.ws_supported = dict.fromkeys(self.ws_supported, False)
        try:
            if client is not None:
                await let_go(client, self, vest_ws_client.release)
        finally:
            await self.rest.close()

    # -- registration ------------------------------------------------------------------

    @classmethod
    async def register(cls, primary_private_key: str, **options: Any) -> VestKey:
        """Register a signing key for the wallet of ``primary_private_key``; see
        ``wrappers.vest_register.register`` (options: ``network``, ``expiry_days``,
        ``signing_private_key``, ``rest_url``, ``proxy``, REST client settings)."""
        return await register_signer(primary_private_key, **options)


def _as_order_list(orders: Any) -> list[Any]:
    """mpdex passes one order dict, an id string, or a list of either."""
    if isinstance(orders, (str, Mapping)):
        return [orders]
    if isinstance(orders, (list, tuple)):
        return list(orders)
    raise BadRequest(f"open_orders must be an order id, an order dict or a list of them, got {type(orders).__name__}")
