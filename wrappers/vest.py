"""``VestExchange``: the unified contract over Vest Markets' v2 REST API.

Layers: ``vest_rest`` (wire) → ``vest_parsers`` / ``vest_markets`` (pure shapes) →
this class (validation, rounding, signing, order life cycle). The socket layer later
serves reads from caches and falls back to the ``_rest_*`` methods defined here.

Order safety, in one place:

* every input is validated, rounded and formatted **before** anything is signed or sent;
* the nonce is the client order id; one strictly increasing source per signing key;
* a signed body is never re-signed: the transport resends the same bytes inside
  ``recvWindow`` when an attempt's outcome is unknown, then this class reconciles with
  ``GET /orders?nonce=``; if the order still cannot be found, ``OrderStateUnknown``
  carries the client order id;
* an accepted order is confirmed with ``GET /orders?id=`` (a short poll for market orders),
  so an asynchronous rejection raises its typed error instead of passing as a result.
"""
from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from mpdex.config import check_seconds
from mpdex.errors import (
    BadRequest,
    ConfigError,
    ExchangeError,
    InvalidOrder,
    MarketClosed,
    MpdexError,
    OrderNotFound,
    OrderStateUnknown,
    RequestTimeout,
)
from mpdex.nonce import NonceSource, shared_nonce_source
from mpdex.orders import OrderPlan, check_slippage, normalize_order, place_order
from mpdex.ratelimit import Sleep
from mpdex.redact import short_address
from mpdex.transport import RetryPolicy
from mpdex.types import (
    CancelResult,
    Collateral,
    FundingEntry,
    FundingRate,
    LeverageInfo,
    LeverageUpdate,
    MarketInfo,
    OpenOrder,
    OrderBook,
    OrderRecord,
    OrderResult,
    Position,
    TradingFees,
)
from multi_perp_dex import MultiPerpDex, MultiPerpDexMixin

from . import vest_parsers as P
from . import vest_ws_client
from .vest_auth import VestSigner
from .vest_keys import VestKey, make_vest_key
from .vest_markets import SymbolResolver, VestMarket, parse_markets, with_status
from .vest_orders import VestOrderWire, build_cancel_body, build_order_body, check_client_id, market_rules, pick
from .vest_register import register as register_signer
from .vest_rest import DEFAULT_RECV_WINDOW, VestRestClient

__all__ = ["VestExchange", "VestMarket", "build_order_body", "DEFAULT_SLIPPAGE", "KLINE_INTERVALS"]


log = logging.getLogger("mpdex.vest")

#: Default market-order slippage cap: 0.5 %. Wide enough that a normal market order on
#: Vest's liquid perps fills (their books are a few bp wide and the mark moves little in
#: the ~100 ms between reading it and matching), tight enough that a thin book or a
#: fast move cannot fill the order far from the mark. Override per call or per exchange.
DEFAULT_SLIPPAGE = Decimal("0.005")

KLINE_INTERVALS = ("1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w", "1M")

#: contract reads the pooled socket serves (``ws_supported``); orders and leverage are REST
_WS_READS = frozenset({"get_mark_price", "get_orderbook", "get_open_orders", "get_position", "get_collateral"})
#: a market order's slippage cap is built from a socket mark at most this old (else REST)
_CAP_MAX_AGE = 1.0




def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _positive_int(value: Any, name: str, *, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0 or (maximum and value > maximum):
        bound = f" and at most {maximum}" if maximum else ""
        raise BadRequest(f"{name} must be a positive integer{bound}, got {value!r}")
    return value


class VestExchange(MultiPerpDexMixin, MultiPerpDex):
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
        timeout: float = 10.0,
        order_timeout: float = 2.0,
        rate_limits: Mapping[str, tuple[float, float]] | None = None,
        retry: RetryPolicy | None = None,
        nonce_source: NonceSource | None = None,
        clock_ms: Callable[[], int] = _now_ms,
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

    def resolve_symbol(self, coin_or_symbol: str) -> str:
        """``BTC``/``btc``/``BTC-PERP`` → ``BTC-PERP``; ``AAPL``/``AAPL-PERP`` → ``AAPL-USD-PERP``.
        Unknown → ``BadSymbol`` listing close matches."""
        if self._resolver is None:
            raise ConfigError("VestExchange.init() has not loaded the markets yet")
        return self._resolver.resolve(coin_or_symbol)

    def _market(self, symbol: str) -> VestMarket:
        return self.markets[self.resolve_symbol(symbol)]

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
            queue_wait=self.order_queue_wait,
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

    async def get_order(self, *, order_id: str | None = None, client_order_id: Any | None = None) -> OrderRecord:
        """One order by exchange id or by client order id (the nonce): ``OpenOrder`` plus
        ``avg_price``, ``fees``, ``code``, ``raw``. ``OrderNotFound`` when it does not exist."""
        if (order_id is None) == (client_order_id is None):
            raise BadRequest("give exactly one of order_id and client_order_id")
        if order_id is not None:
            if not isinstance(order_id, str) or not order_id.strip():
                raise BadRequest(f"order_id must be a non-empty string, got {order_id!r}")
            rows = await self.rest.get_orders(id=order_id.strip())
            found = pick(rows, "id", order_id.strip())
        else:
            nonce = check_client_id(client_order_id)
            rows = await self.rest.get_orders(nonce=nonce)
            found = pick(rows, "nonce", nonce)
        if found is None:
            raise OrderNotFound(f"Vest has no order {order_id or client_order_id}")
        return P.parse_order(found)

    async def get_open_orders(self, symbol: str | None = None) -> list[OpenOrder]:
        """NEW and PARTIALLY_FILLED orders (all markets when ``symbol`` is None), oldest first."""
        native = self.resolve_symbol(symbol) if symbol is not None else None
        return await self._open_orders(native)

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

    async def get_position(self, symbol: str) -> Position | None:
        """The position in ``symbol``; ``None`` when flat."""
        native = self.resolve_symbol(symbol)
        return P.position_for(await self._account(), native)

    async def get_positions(self) -> list[Position]:
        """Every open position (sorted by symbol) from one ``/account`` snapshot — the socket's
        when fresh, else REST — instead of one ``get_position`` per market."""
        return P.positions_of(await self._account())

    async def get_collateral(self) -> Collateral:
        """From ``GET /account``: ``available_collateral`` = ``withdrawable``,
        ``total_collateral`` = ``totalAccountValue``, ``unrealized_pnl`` = Σ
        ``positions[].unrealizedPnl``, ``margin_used`` = Σ ``positions[].initMargin`` +
        ``openOrderMargin``; ``raw`` is the account body."""
        return P.parse_collateral(await self._account())

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
        lev = _positive_int(value_in, "leverage")
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

    async def get_leverage_info(self, symbol: str) -> LeverageInfo:
        """``leverage`` is the account's setting for the market (``None`` if never set);
        ``max_leverage`` = ⌊1 / initMarginRatio⌋."""
        market = self._market(symbol)
        lev = P.leverage_for(await self._rest_account(), market.symbol)
        info: LeverageInfo = {
            "symbol": market.symbol, "leverage": lev, "margin_mode": "cross", "max_leverage": market.max_leverage,
            "available_margin_modes": ["cross"], "status": "ok",
        }
        if lev is None:
            info["message"] = "no leverage set on the account for this market; Vest applies its default"
        return info

    def get_perp_quote(self, symbol: str, *, is_basic_coll: bool = False) -> str:
        return self._market(symbol).quote

    # -- market data -------------------------------------------------------------------

    async def get_mark_price(self, symbol: str) -> float:
        """From the socket's ``tickers`` cache when fresh (``ws_max_age``), else REST."""
        native = self.resolve_symbol(symbol)
        if self.ws_client is not None:
            return await self.ws_client.get_mark_price(native, self.ws_max_age)
        return await self._rest_mark_price(native)

    async def get_orderbook(self, symbol: str, timeout: float = 5.0) -> OrderBook:
        """With the socket: the first call subscribes ``{symbol}@depth`` (held until
        ``unsubscribe_orderbook``) and waits up to half of ``timeout`` for its first
        snapshot; a book older than ``ws_max_age`` is never served — REST answers instead.
        The whole call is bounded by ``timeout`` (``RequestTimeout``); a timeout that is not
        a positive finite number is a ``ConfigError`` (a ``ValueError``)."""
        timeout = check_seconds(timeout, "timeout")
        native = self.resolve_symbol(symbol)
        if self.ws_client is not None:
            read = self.ws_client.get_orderbook(native, self, timeout=timeout / 2, max_age=self.ws_max_age)
        else:
            read = self._rest_orderbook(native)
        try:
            return await asyncio.wait_for(read, timeout)
        except asyncio.TimeoutError:
            raise RequestTimeout(f"no order book for {native} within {timeout:g}s") from None

    async def unsubscribe_orderbook(self, symbol: str) -> None:
        """Release this instance's hold on the ``{symbol}@depth`` stream (the pooled socket
        unsubscribes when no instance holds it any more)."""
        if self.ws_client is not None:
            await self.ws_client.unsubscribe_orderbook(self.resolve_symbol(symbol), self)

    async def wait_for_order(self, client_order_id: Any, status: str | Sequence[str] = "FILLED",
                             timeout: float = 10.0) -> OrderRecord:
        """Wait until the order with this client order id (the nonce) reaches ``status``
        (one status or several) or a final state (FILLED, CANCELLED, REJECTED) — check the
        returned ``status``. Returns the parsed order (``OpenOrder`` + ``avg_price``,
        ``fees``, ``code``, ``raw``). With the socket, the ``account_private`` stream
        reports it (REST is asked once at the deadline); without it, REST is polled.
        ``RequestTimeout`` if it has not got there within ``timeout`` seconds."""
        nonce = check_client_id(client_order_id)
        if nonce is None:
            raise BadRequest("client_order_id is required")
        if self.ws_client is not None:
            return await self.ws_client.wait_for_order(nonce, status, timeout)
        wanted = {status.upper()} if isinstance(status, str) else {str(s).upper() for s in status}
        deadline = self._monotonic() + timeout
        delay, found = 0.05, None
        while True:
            found = pick(await self.rest.get_orders(nonce=nonce), "nonce", nonce)
            state = str(found.get("status")).upper() if found else None
            if found is not None and (state in wanted or state in P.TERMINAL_STATUSES):
                return P.parse_order(found)
            remaining = deadline - self._monotonic()
            if remaining <= 0:
                raise RequestTimeout(f"order {nonce} did not reach {'/'.join(sorted(wanted))} within {timeout}s "
                                     f"(last known status: {state or 'unknown'})")
            await self._sleep(min(delay, remaining))
            delay = min(delay * 2, 0.5)

    async def get_funding_rate(self, symbol: str) -> FundingRate:
        """``{symbol, funding_rate, interval_hours, funding_rate_per_hour, mark_price,
        index_price}``; Vest reports a one-hour rate (``oneHrFundingRate``). From the socket's
        ticker when fresh, else REST."""
        native = self.resolve_symbol(symbol)
        return P.parse_funding_rate(await self._ticker(native, self.ws_max_age))

    async def get_markets(self) -> list[MarketInfo]:
        """Every market's rules from ``/exchangeInfo`` (status as last seen in a ticker)."""
        return [{
            "symbol": m.symbol, "base": m.base, "quote": m.quote, "status": m.status,
            "size_step": float(m.size_step), "min_size": float(m.min_size), "tick": float(m.tick),
            "price_rule": f"tick {m.tick}", "min_notional": None, "max_leverage": m.max_leverage,
            "taker_fee": float(m.taker_fee), "maker_fee": float(m.taker_fee),
        } for m in sorted(self.markets.values(), key=lambda m: m.symbol)]

    async def get_trading_fees(self, symbol: str) -> TradingFees:
        """Vest publishes one ``takerFee`` per market; resting (maker) fills are charged the
        same rate here, as the paper exchange and the filled-order sample do."""
        market = self._market(symbol)
        return {"symbol": market.symbol, "maker": float(market.taker_fee), "taker": float(market.taker_fee)}

    async def get_funding_history(
        self, symbol: str, *, start_time: int | None = None, end_time: int | None = None,
        limit: int | None = None,
    ) -> list[FundingEntry]:
        """Hourly funding rates ``[{symbol, time, funding_rate}]`` oldest first (``limit`` ≤ 1000)."""
        native = self.resolve_symbol(symbol)
        for name, value in (("start_time", start_time), ("end_time", end_time)):
            if value is not None:
                _positive_int(value, name)
        if limit is not None:
            _positive_int(limit, "limit", maximum=1000)
        rows = await self.rest.get_funding_history(native, start_time=start_time, end_time=end_time, limit=limit,
                                                   interval="1h")
        return P.parse_funding_history(rows)

    async def get_klines(self, symbol: str, interval: str = "1m", *, limit: int | None = None) -> list[dict[str, Any]]:
        """Candles ``[{open_time, open, high, low, close, close_time, volume, quote_volume,
        trades}]`` oldest first. (v2 returns the latest bars; it ignores time ranges.)"""
        native = self.resolve_symbol(symbol)
        if interval not in KLINE_INTERVALS:
            raise BadRequest(f"interval must be one of {', '.join(KLINE_INTERVALS)}, got {interval!r}")
        if limit is not None:
            _positive_int(limit, "limit", maximum=1000)
        return P.parse_klines(await self.rest.get_klines(native, interval=interval, limit=limit))

    async def get_ticker_24h(self, symbol: str) -> dict[str, Any]:
        """24-hour statistics: open/high/low/close, volume, quote_volume, price_change(_percent), times."""
        native = self.resolve_symbol(symbol)
        return P.parse_ticker_24h(P.find_ticker(await self.rest.get_ticker_24h([native]), native))

    # -- listen keys (for the private socket) -------------------------------------------

    async def create_listen_key(self) -> str:
        return await self.rest.create_listen_key()

    async def keepalive_listen_key(self) -> str:
        return await self.rest.keepalive_listen_key()

    async def delete_listen_key(self) -> None:
        await self.rest.delete_listen_key()

    # -- socket-first reads, and what our own requests tell the socket state ---------------

    async def _ticker(self, symbol: str, max_age: float) -> Mapping[str, Any]:
        if self.ws_client is not None:
            return await self.ws_client.get_ticker(symbol, max_age)
        return await self._rest_ticker(symbol)

    async def _account(self) -> Mapping[str, Any]:
        if self.ws_client is not None:
            account = await self.ws_client.get_account(self.ws_max_age)
            if not isinstance(account, dict):
                raise ExchangeError("GET /account did not return an object", raw=account)
            return account
        return await self._rest_account()

    async def _open_orders(self, symbol: str | None) -> list[OpenOrder]:
        if self.ws_client is not None:
            return list(await self.ws_client.get_open_orders(symbol, self.ws_max_age))
        return await self._rest_open_orders(symbol)

    def _ws_changed(self, order: Mapping[str, Any] | None = None) -> None:
        """Our request changed orders or margin: tell the socket state before the stream
        does, so a read right after this call cannot serve the state from before it."""
        client = self.ws_client
        if client is None:
            return
        if order is not None:
            client.apply_order(order)
            client.invalidate_private(orders=False)
        else:
            client.invalidate_private()

    # -- REST reads the socket layer falls back to ---------------------------------------

    async def _rest_ticker(self, symbol: str) -> dict[str, Any]:
        return P.find_ticker(await self.rest.get_ticker_latest([symbol]), symbol)

    async def _rest_mark_price(self, symbol: str) -> float:
        ticker = await self._rest_ticker(symbol)
        return float(P.dec(ticker.get("markPrice"), "markPrice"))

    async def _rest_orderbook(self, symbol: str) -> OrderBook:
        return P.parse_orderbook(await self.rest.get_depth(symbol), self._clock_ms())

    async def _rest_account(self) -> dict[str, Any]:
        account = await self.rest.get_account()
        if not isinstance(account, dict):
            raise ExchangeError("GET /account did not return an object", raw=account)
        return account

    async def _rest_open_orders(self, symbol: str | None = None) -> list[OpenOrder]:
        batches = await asyncio.gather(*(self.rest.get_orders(symbol=symbol, status=s) for s in ("NEW", "PARTIALLY_FILLED")))
        seen: dict[str, dict[str, Any]] = {}
        for rows in batches:
            if not isinstance(rows, list):
                raise ExchangeError("GET /orders did not return a list", raw=rows)
            for raw in rows:
                if (isinstance(raw, dict) and str(raw.get("status")).upper() in P.OPEN_STATUSES
                        and (symbol is None or raw.get("symbol") == symbol)):
                    seen[str(raw.get("id"))] = raw
        orders = [P.parse_order(r) for r in seen.values()]
        orders.sort(key=lambda o: (o["created_at"] or 0, o["id"]))
        return orders  # type: ignore[return-value]

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
                try:
                    await client.release_holder(self)
                finally:  # even if cancelled or failing, the pool must count this instance out
                    await vest_ws_client.release(client)
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
