"""``HyperliquidExchange``: the unified contract over Hyperliquid's perps (main dex).

Layers: ``hyperliquid_rest`` (wire, rate limits) → ``hyperliquid_parsers`` /
``hyperliquid_markets`` (pure shapes) → ``hyperliquid_orders`` (order rules and wire for the
shared ``mpdex.orders`` path) → this class. Signing is ``hyperliquid_auth``.

* Every input is checked and rounded before anything is signed; the action is signed (and
  its nonce drawn from the signer's process-wide source) when the rate-limit slot is in hand.
* Every order carries a cloid (its ``client_order_id``); a lost answer is resolved by
  ``orderStatus`` by cloid: exactly one matching order is adopted, or ``OrderStateUnknown``.
  Nothing is ever signed twice for one intent.
* Account state is read for the master account (or the vault), never for the agent.
* With ``use_ws`` one pooled socket per account (``hyperliquid_ws_client``) serves marks,
  funding, books, open orders, positions and collateral while fresh (``ws_max_age``); REST
  answers otherwise, and everything works with the socket unreachable. Our own orders,
  cancels and leverage changes mark the socket's private state outdated at once.
* REST marks (``metaAndAssetCtxs``, weight 20) are shared by concurrent callers and reused
  for at most ``CTX_REUSE`` seconds, so a burst of market orders reads them once.
* No builder fee, referral or approval is sent unless the key asks (``builder_code`` +
  ``builder_fee_pair``).
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
    OrderNotFound,
    RequestTimeout,
)
from mpdex.nonce import NonceSource, shared_nonce_source
from mpdex.orders import OrderPlan, check_slippage, normalize_order, place_order
from mpdex.precision import to_decimal
from mpdex.ratelimit import Sleep
from mpdex.redact import short_address
from mpdex.transport import RetryPolicy
from mpdex.types import (
    CancelResult,
    Collateral,
    LeverageInfo,
    LeverageUpdate,
    OpenOrder,
    OrderRecord,
    OrderResult,
    Position,
)
from multi_perp_dex import MultiPerpDex, MultiPerpDexMixin

from . import hyperliquid_leverage as L
from . import hyperliquid_orders as O
from . import hyperliquid_parsers as P
from . import hyperliquid_ws_client as W
from .base_ws_pool import let_go
from .hyperliquid_auth import HyperliquidSigner
from .hyperliquid_keys import HyperliquidKey, builder_fee_for, make_hyperliquid_key
from .hyperliquid_market_data import KLINE_INTERVALS, HyperliquidMarketData
from .hyperliquid_markets import HyperliquidMarket, SymbolResolver, parse_meta_and_ctxs
from .hyperliquid_rest import HyperliquidRestClient
from .hyperliquid_wire import new_cloid

__all__ = ["HyperliquidExchange", "DEFAULT_SLIPPAGE", "KLINE_INTERVALS", "CTX_REUSE"]

log = logging.getLogger("mpdex.hyperliquid")

DEFAULT_SLIPPAGE = O.DEFAULT_SLIPPAGE
#: seconds a ``metaAndAssetCtxs`` answer (marks, funding) may be reused by later reads
CTX_REUSE = 0.5
#: a market order's cap is built on a socket mark at most this old (else REST)
_CAP_MAX_AGE = 1.0
#: contract reads the pooled socket serves (``ws_supported``); orders and leverage are REST
_WS_READS = frozenset({"get_mark_price", "get_orderbook", "get_open_orders", "get_position", "get_collateral"})


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class HyperliquidExchange(HyperliquidMarketData, MultiPerpDexMixin, MultiPerpDex):
    """Hyperliquid perps. ``await create_exchange("hyperliquid", keys)`` or
    ``await HyperliquidExchange(**key_fields).init()`` (key fields: ``hyperliquid_keys``).

    Options (keyword-only): ``use_ws`` (None: the key's ``fetch_by_ws``; False pins REST),
    ``ws_max_age`` (s, default 5: older socket data is never served), ``ws_options``
    (``HyperliquidWSClient`` settings for the account's first instance), ``slippage`` (market-order cap, default 0.005), ``timeout`` / ``order_timeout`` (s per
    read / per signed attempt), ``resend_window`` (s a signed body may be resent when its
    fate is unknown), ``order_expiry`` (s, default 10: every order carries ``expiresAfter`` =
    its nonce + this, so a delayed copy can never land later), ``server_clock_skew`` (s the
    server's clock may differ from ours, default 2; with the expiry it makes
    ``order_validity``), ``order_queue_wait`` (s an action may wait for its rate-limit slot;
    past that it is refused locally, unsent), ``rate_limits`` (``{"ip"|"address": (rate,
    burst)}``), ``retry``, ``lookup_attempts`` (``orderStatus`` tries before an order is
    declared unknown), and the injectable ``nonce_source``, ``clock_ms``, ``monotonic``,
    ``sleep``, ``rng``.
    """

    name = "hyperliquid"
    CAPABILITIES = frozenset({"orders", "funding", "fees", "positions", "klines", "markets", "prepare"})

    def __init__(
        self,
        wallet_address: str,
        wallet_private_key: str | None = None,
        agent_api_address: str | None = None,
        agent_api_private_key: str | None = None,
        by_agent: bool = True,
        vault_address: str | None = None,
        builder_code: str | None = None,
        builder_fee_pair: Any = None,
        fetch_by_ws: bool = True,
        FrontendMarket: bool = False,
        proxy: str | None = None,
        network: str = "mainnet",
        rest_url: str | None = None,
        ws_url: str | None = None,
        *,
        use_ws: bool | None = None,
        ws_max_age: float = W.HyperliquidWSClient.MAX_AGE,
        ws_options: Mapping[str, Any] | None = None,
        slippage: Any = DEFAULT_SLIPPAGE,
        timeout: float = 10.0,
        order_timeout: float = 2.0,
        resend_window: float = 4.0,
        order_expiry: float = 10.0,
        server_clock_skew: float = 2.0,
        order_queue_wait: float = 5.0,
        rate_limits: Mapping[str, tuple[float, float]] | None = None,
        retry: RetryPolicy | None = None,
        lookup_attempts: int = 3,
        nonce_source: NonceSource | None = None,
        clock_ms: Callable[[], int] = _now_ms,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        super().__init__()
        self.key: HyperliquidKey = make_hyperliquid_key(
            wallet_address=wallet_address, wallet_private_key=wallet_private_key, agent_api_address=agent_api_address,
            agent_api_private_key=agent_api_private_key, by_agent=by_agent, vault_address=vault_address,
            builder_code=builder_code, builder_fee_pair=builder_fee_pair, fetch_by_ws=fetch_by_ws,
            FrontendMarket=FrontendMarket, proxy=proxy, network=network, rest_url=rest_url, ws_url=ws_url,
        )
        try:
            self._slippage = check_slippage(slippage)
        except InvalidOrder as exc:
            raise ConfigError(f"slippage option: {exc.message}") from None
        self.order_queue_wait = check_seconds(order_queue_wait, "order_queue_wait", allow_zero=True)
        if isinstance(lookup_attempts, bool) or not isinstance(lookup_attempts, int) or not 1 <= lookup_attempts <= 10:
            raise ConfigError("lookup_attempts must be an integer in 1..10")
        self.lookup_attempts = lookup_attempts
        self.use_ws = self.key.fetch_by_ws if use_ws is None else bool(use_ws)
        self.ws_max_age = check_seconds(ws_max_age, "ws_max_age")
        if ws_options is not None and not isinstance(ws_options, Mapping):
            raise ConfigError("ws_options must be a mapping of HyperliquidWSClient settings")
        self._ws_options = dict(ws_options or {})
        self.ws_client: W.HyperliquidWSClient | None = None
        self._signer = HyperliquidSigner(self.key.signing_key)
        self._nonces = nonce_source or shared_nonce_source(("hyperliquid", self._signer.address))
        expiry = check_seconds(order_expiry, "order_expiry")
        if expiry < resend_window:
            raise ConfigError("order_expiry must be at least resend_window (a resent copy would be refused as expired)")
        self._signing = O.ActionSigning(self._signer, self._nonces, self.key.vault_address, self.key.is_mainnet,
                                        order_expiry_ms=int(expiry * 1000), clock_ms=clock_ms)
        # refused by the server once its clock passes expiresAfter (the nonce, our clock at
        # signing, + the expiry); its clock is assumed within server_clock_skew of ours
        self.order_validity = expiry + check_seconds(server_clock_skew, "server_clock_skew", allow_zero=True)
        self._clock_ms, self._monotonic, self._sleep = clock_ms, monotonic, sleep
        self.rest = HyperliquidRestClient(self.key, timeout=timeout, order_timeout=order_timeout,
                                          resend_window=resend_window, rate_limits=rate_limits, retry=retry,
                                          monotonic=monotonic, sleep=sleep, rng=rng)
        self.has_margin_mode = True
        self.markets: dict[str, HyperliquidMarket] = {}
        self._resolver: SymbolResolver | None = None
        self._ctxs: dict[str, dict[str, Any]] = {}
        self._ctx_at: float | None = None
        self._ctx_lock = asyncio.Lock()
        self._meta_raw: Any = None
        self._closed = False
        self._who = short_address(self.key.account_address)

    def __repr__(self) -> str:
        return (f"HyperliquidExchange(account={self.key.account_address}, signer={self._signer.address}, "
                f"network={self.key.network}, by_agent={self.key.by_agent})")

    # -- setup and markets ------------------------------------------------------------

    async def init(self) -> HyperliquidExchange:
        """Load the markets (asset ids, size decimals, leverage, margin modes) and marks."""
        await self._asset_ctxs(0.0)
        log.info("hyperliquid %s: %d markets loaded (network=%s, signer=%s)", self._who, len(self.markets),
                 self.key.network, short_address(self._signer.address))
        if self.use_ws and self.ws_client is None and not self._closed:
            self.ws_client = await W.acquire(self.key, **self._ws_options)
            self.ws_supported = {k: k in _WS_READS for k in self.ws_supported}
        return self

    async def _asset_ctxs(self, max_age: float) -> dict[str, dict[str, Any]]:
        """``{coin: ctx}`` no older than ``max_age`` s; concurrent callers share one read."""
        async with self._ctx_lock:
            if self._ctx_at is not None and self._monotonic() - self._ctx_at <= max_age:
                return self._ctxs
            started = self._monotonic()
            payload = await self.rest.meta_and_asset_ctxs()
            markets, ctxs = parse_meta_and_ctxs(payload)
            if payload[0] != self._meta_raw:
                self.markets, self._meta_raw = markets, payload[0]
                self._resolver = SymbolResolver(markets.values())
                self.available_symbols = {"perp": sorted(s for s, m in markets.items() if not m.delisted)}
            self._ctxs, self._ctx_at = ctxs, started
            return ctxs

    def resolve_symbol(self, coin_or_symbol: str) -> str:
        """``BTC``/``btc``/``BTC-PERP`` → ``BTC``; unknown → ``BadSymbol`` with close matches."""
        if self._resolver is None:
            raise ConfigError("HyperliquidExchange.init() has not loaded the markets yet")
        return self._resolver.resolve(coin_or_symbol)

    def _market(self, symbol: str) -> HyperliquidMarket:
        return self.markets[self.resolve_symbol(symbol)]

    async def _ctx(self, symbol: str, ws_max_age: float) -> Mapping[str, Any]:
        """The asset context: the socket's when fresh (``ws_max_age``), else REST."""
        if self.ws_client is not None:
            return await self.ws_client.get_asset_ctx(symbol, ws_max_age)
        ctx = (await self._asset_ctxs(CTX_REUSE)).get(symbol)
        if ctx is None:
            raise ExchangeError(f"metaAndAssetCtxs has no context for {symbol}")
        return ctx

    def get_perp_quote(self, symbol: str, *, is_basic_coll: bool = False) -> str:
        return "USDC" if is_basic_coll else self._market(symbol).quote

    # -- orders -------------------------------------------------------------------------

    async def prepare_order(
        self, symbol: str, side: str, amount: Any, price: Any = None, order_type: str | None = None, *,
        is_reduce_only: bool = False, time_in_force: str | None = None, slippage: Any | None = None,
        strict: bool = False,
    ) -> OrderPlan:
        """Check and round an order exactly as ``create_order`` would, without sending it."""
        market = self._market(symbol)
        if market.delisted:
            raise MarketClosed(f"{market.symbol} is delisted on Hyperliquid")
        slip = self._slippage if slippage is None else check_slippage(slippage)

        async def mark() -> Decimal:
            ctx = await self._ctx(market.symbol, min(self.ws_max_age, _CAP_MAX_AGE))
            return P.dec(ctx.get("markPx"), "markPx")

        return await normalize_order(
            O.market_rules(market), side, amount, price, order_type, is_reduce_only=is_reduce_only,
            time_in_force=time_in_force, slippage=slip, mark=mark, strict=strict, venue="Hyperliquid",
        )

    async def create_order(
        self, symbol: str, side: str, amount: Any, price: Any = None, order_type: str | None = None, *,
        is_reduce_only: bool = False, time_in_force: str | None = None, client_id: Any | None = None,
        slippage: Any | None = None, strict: bool = False,
    ) -> OrderResult:
        """Place an order: a price makes it a limit order (``time_in_force`` GTC, IOC or ALO
        = post-only), none a market order (IOC limit at ``mark × (1 ± slippage)``, rounded
        toward the mark); FOK → ``NotSupported``. Sizes round down to ``szDecimals``, limit
        prices to 5 significant figures in your favour; every rounding is in
        ``adjustments``. ``client_id`` becomes the cloid (else a random one), returned as
        ``client_order_id``. A refusal raises its typed error; an order whose fate cannot be
        established raises ``OrderStateUnknown`` (look it up by ``client_order_id``)."""
        cloid = O.check_client_id(client_id) or new_cloid()
        plan = await self.prepare_order(symbol, side, amount, price, order_type, is_reduce_only=is_reduce_only,
                                        time_in_force=time_in_force, slippage=slippage, strict=strict)
        market = self.markets[plan.symbol]
        wire = O.HyperliquidOrderWire(
            self.rest, self._signing, plan, market, cloid, builder=self._builder(market, plan),
            queue_wait=self.order_queue_wait, sleep=self._sleep, clock_ms=self._clock_ms,
            lookup_attempts=self.lookup_attempts,
        )
        try:
            return await place_order(plan, cloid, wire, venue="hyperliquid", account=self._who, matches=wire.matches,
                                     monotonic=self._monotonic)
        except asyncio.CancelledError:
            if wire.body is not None:
                log.warning("hyperliquid %s order %s %s %s cid=%s was cancelled by the caller after it may have been "
                            "sent; look it up by client_order_id", self._who, plan.symbol, plan.side, plan.size, cloid)
            raise
        finally:
            if wire.body is not None:
                self._ws_changed()

    def _builder(self, market: HyperliquidMarket, plan: OrderPlan) -> dict[str, Any] | None:
        """The builder fee the key asks for on this order, or ``None`` (the default: none)."""
        if self.key.builder_code is None or not self.key.builder_fee_pair:
            return None
        fee = builder_fee_for(self.key.builder_fee_pair, market.dex, plan.order_type == "market")
        return None if fee is None else {"b": self.key.builder_code, "f": fee}

    def new_client_id(self) -> str:
        """A fresh random cloid (``0x`` + 32 hex digits) for ``create_order(client_id=…)``."""
        return new_cloid()

    async def _order_status(self, oid: int | str) -> OrderRecord:
        record = P.parse_order_status(await self.rest.order_status(oid))
        if record is None:
            raise OrderNotFound(f"Hyperliquid has no order {oid} for {self._who} (records keep ~2000 orders)")
        return record

    async def get_order(self, *, order_id: Any | None = None, client_order_id: Any | None = None) -> OrderRecord:
        """One order by exchange id (oid) or client order id (cloid, or the ``client_id`` it
        came from), with its fills' size, average price, fee and realised PnL."""
        if (order_id is None) == (client_order_id is None):
            raise BadRequest("give exactly one of order_id and client_order_id")
        if order_id is not None:
            text = str(order_id).strip()
            if isinstance(order_id, bool) or not text.isdigit() or not text.isascii():
                raise BadRequest(f"order_id must be a positive integer, got {order_id!r}")
            record = await self._order_status(int(text))
        else:
            cloid = O.check_client_id(client_order_id)
            assert cloid is not None
            record = await self._order_status(cloid)
        if record["status"] in ("FILLED", "CANCELLED", "PARTIALLY_FILLED") and record["created_at"]:
            record = P.with_fills(record, await self.rest.user_fills_by_time(record["created_at"]))
        return record

    async def wait_for_order(self, client_order_id: Any, status: str | Sequence[str] = "FILLED",
                             timeout: float = 10.0) -> OrderRecord:
        """Poll ``orderStatus`` until the order reaches ``status`` (or a final state);
        ``RequestTimeout`` when it has not within ``timeout`` seconds."""
        cloid = O.check_client_id(client_order_id)
        if cloid is None:
            raise BadRequest("client_order_id is required")
        if self.ws_client is not None:
            return await self.ws_client.wait_for_order(cloid, status, check_seconds(timeout, "timeout"))
        wanted = {status.upper()} if isinstance(status, str) else {str(s).upper() for s in status}
        deadline, delay, state = self._monotonic() + check_seconds(timeout, "timeout"), 0.1, None
        while True:
            found = P.parse_order_status(await self.rest.order_status(cloid))
            state = found["status"] if found else None
            if found is not None and (state in wanted or state in P.TERMINAL_STATUSES):
                return found
            remaining = deadline - self._monotonic()
            if remaining <= 0:
                raise RequestTimeout(f"order {cloid} did not reach {'/'.join(sorted(wanted))} within {timeout}s "
                                     f"(last known status: {state or 'unknown'})")
            await self._sleep(min(delay, remaining))
            delay = min(delay * 2, 1.0)

    async def get_open_orders(self, symbol: str | None = None) -> list[OpenOrder]:
        """Open orders (``frontendOpenOrders``) of ``symbol`` or of every market, oldest first."""
        native = self.resolve_symbol(symbol) if symbol is not None else None
        if self.ws_client is not None:
            return list(await self.ws_client.get_open_orders(native, self.ws_max_age))
        return P.parse_open_orders(await self.rest.frontend_open_orders(), native)

    async def cancel_orders(self, symbol: str, open_orders: Any = None) -> list[CancelResult]:
        """Cancel ``open_orders`` — an oid, a cloid, an order dict or a list of them (default:
        every open order of ``symbol``) — in batches of up to 200 (by oid, or by cloid when
        only that is known); one ``{id, order_id, symbol, status, error}`` each."""
        default = self._market(symbol)
        if open_orders is None:
            rows = await self.get_open_orders(default.symbol)
            targets = [O.CancelTarget(default, oid=int(o["id"])) for o in rows]
        else:
            targets = [O.cancel_target(o, self._market, default) for o in O.as_order_list(open_orders)]
        wire = O.HyperliquidCancelWire(self.rest, self._signing, queue_wait=self.order_queue_wait,
                                       status_of=self._order_status, account=self._who, monotonic=self._monotonic)
        try:
            return await wire.cancel(targets)
        finally:
            self._ws_changed()

    async def close_position(self, symbol: str, position: Position | None = None, *,
                             is_reduce_only: bool = True) -> OrderResult | None:
        """Close the whole position with a reduce-only IOC market order (its exact ``szi``;
        the $10 minimum does not apply to it); ``None`` when flat."""
        native = self.resolve_symbol(symbol)
        if position is None:
            position = await self.get_position(native)
        if not position or not position.get("size"):
            return None
        side = str(position.get("side", "")).lower()
        if side not in ("long", "short", "buy", "sell"):
            raise InvalidOrder(f"position has no usable side: {side!r}")
        raw = position.get("raw_data")
        szi = raw.get("szi") if isinstance(raw, Mapping) and raw.get("coin") == native else None
        size = abs(to_decimal(szi, "szi")) if isinstance(szi, str) else position["size"]
        close_side = "sell" if side in ("long", "buy") else "buy"
        log.info("hyperliquid %s close_position %s: %s %s", self._who, native, close_side, size)
        return await self.create_order(native, close_side, size, None, "market", is_reduce_only=is_reduce_only)

    # -- account ------------------------------------------------------------------------

    async def get_position(self, symbol: str) -> Position | None:
        return P.position_for(await self._account(), self.resolve_symbol(symbol))

    async def get_positions(self) -> list[Position]:
        """Every open position, from one ``clearinghouseState`` read."""
        return P.positions_of(await self._account())

    async def get_collateral(self) -> Collateral:
        """``available_collateral`` = ``withdrawable``, ``total_collateral`` = ``accountValue``."""
        return P.parse_collateral(await self._account())

    async def _account(self) -> Mapping[str, Any]:
        """``clearinghouseState``: the socket's snapshot when fresh, else REST."""
        if self.ws_client is not None:
            return await self.ws_client.get_account(self.ws_max_age)
        return await self.rest.clearinghouse_state()  # type: ignore[no-any-return]

    def _ws_changed(self) -> None:
        """Our request changed orders or margin: the socket state's snapshots are outdated."""
        if self.ws_client is not None:
            self.ws_client.invalidate_private()

    async def update_leverage(self, symbol: str, leverage: int | None = None,
                              margin_mode: str | None = None) -> LeverageUpdate:
        """Set the leverage and margin mode of ``symbol``; see ``hyperliquid_leverage``."""
        try:
            return await L.update_leverage(self.rest, self._signing, self._market(symbol), leverage, margin_mode,
                                           queue_wait=self.order_queue_wait, account=self._who)
        finally:
            self._ws_changed()

    async def get_leverage_info(self, symbol: str) -> LeverageInfo:
        """The account's leverage and margin mode (``activeAssetData``); ``max_leverage`` from meta."""
        return await L.leverage_info(self.rest, self._market(symbol))

    # -- life cycle -----------------------------------------------------------------------

    async def close(self, force_close: bool = True) -> None:
        """Release this instance's book holds and its reference to the pooled socket (the
        account's last instance closes it), then the HTTP session. Idempotent."""
        if self._closed:
            return
        self._closed = True
        client, self.ws_client = self.ws_client, None
        self.ws_supported = dict.fromkeys(self.ws_supported, False)
        try:
            if client is not None:
                await let_go(client, self, W.release)
        finally:
            await self.rest.close()
