"""The unified contract every exchange honours, and the defaults shared by all of them.

Exchanges subclass ``MultiPerpDexMixin, MultiPerpDex`` (mixin first, as in mpdex).
Numbers at the boundary are ``float``; inside, prices and sizes are ``Decimal`` and the
exact strings that were signed. Order sides are ``"buy"|"sell"``, position sides
``"long"|"short"``. Every method accepts a bare coin (``"BTC"``) or a native symbol.
Failures raise typed errors from ``mpdex.errors``; nothing returns an error string or a
silent ``None`` in place of a result.

Beyond the contract, a venue may offer optional capabilities (``CAPABILITIES``): ``orders``
(``new_client_id``, ``get_order`` by id or client order id, ``wait_for_order``), ``funding``
(``get_funding_rate`` per hour, ``get_funding_history``), ``fees`` (``get_trading_fees``),
``positions`` (``get_positions``: every open position in one read), ``klines``,
``markets`` (``get_markets``: each market's size step, price grid, minimums, status) and
``prepare`` (``prepare_order``: the order as it would be signed, every rounding listed,
nothing sent). The
mixin's defaults for a capability a venue lacks raise ``NotSupported``. A third-party wrapper
written for mpdex (``from mpdex.base import MultiPerpDex, MultiPerpDexMixin``) that defines
no ``init`` or ``get_orderbook`` still instantiates: the mixin supplies both.
"""
from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any

from mpdex.errors import NotSupported
from mpdex.types import (
    WS_SUPPORT_KEYS,
    AvailableSymbols,
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

__all__ = ["MultiPerpDex", "MultiPerpDexMixin", "CAPABILITY_NAMES"]

#: the optional capabilities a venue may declare in ``CAPABILITIES``
CAPABILITY_NAMES = frozenset({"orders", "funding", "fees", "positions", "klines", "markets", "prepare"})

log = logging.getLogger("mpdex")


class MultiPerpDex(ABC):
    """The contract. Result shapes are the TypedDicts of ``mpdex.types``."""

    #: exchange name used by the factory and in log lines
    name: str = ""
    #: optional capabilities this venue implements (see ``CAPABILITY_NAMES``)
    CAPABILITIES: frozenset[str] = frozenset()

    def __init__(self) -> None:
        self.has_spot: bool = False
        self.has_margin_mode: bool = False
        #: {"perp": [native symbols]} once ``init()`` has loaded the markets
        self.available_symbols: dict[str, list[str]] = {"perp": []}
        #: the pooled socket client, ``None`` while the exchange runs on REST alone
        self.ws_client: Any = None
        #: which methods are served from a live WebSocket state (exactly mpdex's keys)
        self.ws_supported: dict[str, bool] = {k: False for k in WS_SUPPORT_KEYS}
        #: seconds an order, once signed, can still be accepted by the venue (the signature's
        #: validity + the venue's clock tolerance); ``None`` when the venue sets no such bound.
        #: A ``create_order`` call signs before it ends, so a lookup by client order id that
        #: finds nothing this long after the call ended proves the order was never placed;
        #: before that, "not found" proves nothing.
        self.order_validity: float | None = None

    @abstractmethod
    async def init(self) -> MultiPerpDex:
        """Load markets and precision, acquire pooled sockets; return ``self``."""

    @abstractmethod
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
    ) -> OrderResult:
        """Place an order. ``price`` given ⇒ limit order, otherwise market; an explicit
        ``order_type`` must agree (a price with ``"market"`` is ``InvalidOrder``).

        Returns ``{id, order_id, client_order_id, symbol, side, size, price,
        order_type, status, raw}``. Bad input raises before anything is signed or sent.
        """

    @abstractmethod
    async def get_position(self, symbol: str) -> Position | None:
        """``None`` when flat, else ``{symbol, side, size, entry_price,
        unrealized_pnl, liquidation_price, raw_data}`` (``size`` positive)."""

    @abstractmethod
    async def close_position(
        self, symbol: str, position: Position | None = None, *, is_reduce_only: bool = True
    ) -> OrderResult | None:
        """Close the whole position with a market order; ``None`` when flat."""

    @abstractmethod
    async def get_collateral(self) -> Collateral:
        """``{available_collateral, total_collateral, ...}`` in the quote currency."""

    @abstractmethod
    async def get_open_orders(self, symbol: str | None = None) -> list[OpenOrder]:
        """Open orders (all markets when ``symbol`` is None); ``[]`` when none.

        Each: ``{id, order_id, client_order_id, symbol, side, size, filled_size,
        price, order_type, status, reduce_only, created_at}``.
        """

    @abstractmethod
    async def cancel_orders(
        self, symbol: str, open_orders: list[OpenOrder] | None = None
    ) -> list[CancelResult]:
        """Cancel the given orders (default: every open order of ``symbol``).

        One ``{id, order_id, symbol, status: "ok"|"error", error}`` per order.
        """

    @abstractmethod
    async def get_mark_price(self, symbol: str) -> float:
        """The current mark price."""

    @abstractmethod
    async def get_orderbook(self, symbol: str, timeout: float = 5.0) -> OrderBook:
        """``{bids: [[px, sz], …] best first, asks: [...], time: ms}``."""

    @abstractmethod
    async def unsubscribe_orderbook(self, symbol: str) -> None:
        """Release this caller's interest in the book of ``symbol``."""

    @abstractmethod
    async def update_leverage(
        self, symbol: str, leverage: int | None = None, margin_mode: str | None = None
    ) -> LeverageUpdate:
        """``{status: "ok"|"error"|"not_implemented", leverage, margin_mode, message?}``."""

    @abstractmethod
    async def get_leverage_info(self, symbol: str) -> LeverageInfo:
        """``{symbol, leverage, margin_mode, max_leverage, available_margin_modes, status}``."""

    @abstractmethod
    async def get_available_symbols(self) -> AvailableSymbols:
        """``{"perp": [native symbols usable by every other method]}``."""

    @abstractmethod
    def get_perp_quote(self, symbol: str, *, is_basic_coll: bool = False) -> str:
        """The quote / collateral currency of the perp market (e.g. ``"USDC"``). A plain
        method, not a coroutine: mpdex code calls it without ``await``."""

    @abstractmethod
    async def close(self, force_close: bool = True) -> None:
        """Release sessions and pooled sockets. Idempotent."""


class MultiPerpDexMixin:
    """Defaults that hold for any exchange built on the contract's primitives."""

    #: default quote; exchanges with several collaterals override ``get_perp_quote``
    PERP_QUOTE = "USDC"

    async def init(self) -> Any:
        """Nothing to load: a wrapper without markets to fetch is ready as built."""
        return self

    async def get_orderbook(self, symbol: str, timeout: float = 5.0) -> OrderBook:
        raise NotSupported(f"{type(self).__name__} does not provide order books")

    async def close_position(
        self, symbol: str, position: Position | None = None, *, is_reduce_only: bool = True
    ) -> OrderResult | None:
        """Close ``position`` (fetched when not given) with one market order for its
        whole size on the opposite side, reduce-only unless told otherwise.

        Returns the close order's result, or ``None`` when there is nothing to close.
        """
        if position is None:
            position = await self.get_position(symbol)  # type: ignore[attr-defined]
        if not position or not position.get("size"):
            return None
        side = str(position.get("side", "")).lower()
        if side in ("long", "buy"):
            close_side = "sell"
        elif side in ("short", "sell"):
            close_side = "buy"
        else:
            raise ValueError(f"position has no usable side: {side!r}")
        size = position["size"]
        log.info("close_position %s: %s %s (reduce_only=%s)", symbol, close_side, size, is_reduce_only)
        result: OrderResult = await self.create_order(  # type: ignore[attr-defined]
            symbol, close_side, size, None, "market", is_reduce_only=is_reduce_only
        )
        return result

    async def get_available_symbols(self) -> AvailableSymbols:
        symbols: dict[str, list[str]] = getattr(self, "available_symbols", {}) or {}
        return {"perp": list(symbols.get("perp", []))}

    def get_perp_quote(self, symbol: str, *, is_basic_coll: bool = False) -> str:
        return self.PERP_QUOTE

    async def get_leverage_info(self, symbol: str) -> LeverageInfo:
        return {
            "symbol": symbol,
            "leverage": None,
            "margin_mode": None,
            "max_leverage": None,
            "available_margin_modes": [],
            "status": "not_implemented",
            "message": "leverage info is not implemented for this exchange",
        }

    async def update_leverage(
        self, symbol: str, leverage: int | None = None, margin_mode: str | None = None
    ) -> LeverageUpdate:
        return {
            "status": "not_implemented",
            "leverage": leverage,
            "margin_mode": margin_mode,
            "message": "leverage update is not implemented for this exchange",
        }

    async def unsubscribe_orderbook(self, symbol: str) -> None:
        """Nothing to release on an exchange that polls its books over REST."""
        return None

    # -- optional capabilities: a venue that lacks one says so ---------------------------

    def _lacks(self, capability: str, what: str) -> NotSupported:
        return NotSupported(f"{getattr(self, 'name', '') or type(self).__name__} does not support {what} "
                            f"(capability '{capability}')")

    def new_client_id(self) -> str:
        """A fresh client order id this venue accepts as ``create_order(client_id=...)``,
        so a caller can log it before sending and reconcile by it after an unknown outcome."""
        raise self._lacks("orders", "client order ids")

    async def get_order(self, *, order_id: str | None = None, client_order_id: Any | None = None) -> OrderRecord:
        """One order by exchange id or client order id; ``OrderNotFound`` when absent."""
        raise self._lacks("orders", "order lookup")

    async def wait_for_order(self, client_order_id: Any, status: Any = "FILLED", timeout: float = 10.0) -> OrderRecord:
        """Wait until the order reaches ``status`` or a final state; ``RequestTimeout`` otherwise."""
        raise self._lacks("orders", "waiting for an order")

    async def get_positions(self) -> list[Position]:
        """Every open position, from one account read."""
        raise self._lacks("positions", "reading all positions at once")

    async def get_funding_rate(self, symbol: str) -> FundingRate:
        """The current funding rate with the venue's own interval and its per-hour value."""
        raise self._lacks("funding", "funding rates")

    async def get_funding_history(self, symbol: str, *, start_time: int | None = None, end_time: int | None = None,
                                  limit: int | None = None) -> list[FundingEntry]:
        raise self._lacks("funding", "funding history")

    async def get_trading_fees(self, symbol: str) -> TradingFees:
        """Maker and taker fee rates of this account on ``symbol`` (fractions of notional)."""
        raise self._lacks("fees", "fee rates")

    async def get_klines(self, symbol: str, interval: str = "1m", *, limit: int | None = None) -> list[dict[str, Any]]:
        raise self._lacks("klines", "candles")

    async def get_markets(self) -> list[MarketInfo]:
        """Every market's rules (size step, price grid, minimums, status, leverage, fees)."""
        raise self._lacks("markets", "market rules")

    async def prepare_order(self, symbol: str, side: str, amount: Any, price: Any = None,
                            order_type: str | None = None, *, is_reduce_only: bool = False,
                            time_in_force: str | None = None, slippage: Any | None = None,
                            strict: bool = False) -> Any:
        """The ``mpdex.orders.OrderPlan`` ``create_order`` would sign for these arguments
        (sizes and prices as sent, every rounding in ``adjustments``); nothing is sent."""
        raise self._lacks("prepare", "previewing orders")

    async def __aenter__(self) -> Any:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()  # type: ignore[attr-defined]
