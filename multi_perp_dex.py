"""The unified contract every exchange honours, and the defaults shared by all of them.

Exchanges subclass ``MultiPerpDexMixin, MultiPerpDex`` (mixin first, as in mpdex).
Numbers at the boundary are ``float``; inside, prices and sizes are ``Decimal`` and the
exact strings that were signed. Order sides are ``"buy"|"sell"``, position sides
``"long"|"short"``. Every method accepts a bare coin (``"BTC"``) or a native symbol.
Failures raise typed errors from ``mpdex.errors``; nothing returns an error string or a
silent ``None`` in place of a result.
"""
from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any

from mpdex.types import (
    WS_SUPPORT_KEYS,
    AvailableSymbols,
    CancelResult,
    Collateral,
    LeverageInfo,
    LeverageUpdate,
    OpenOrder,
    OrderBook,
    OrderResult,
    Position,
)

__all__ = ["MultiPerpDex", "MultiPerpDexMixin"]

log = logging.getLogger("mpdex")


class MultiPerpDex(ABC):
    """The contract. Result shapes are the TypedDicts of ``mpdex.types``."""

    #: exchange name used by the factory and in log lines
    name: str = ""

    def __init__(self) -> None:
        self.has_spot: bool = False
        self.has_margin_mode: bool = False
        #: {"perp": [native symbols]} once ``init()`` has loaded the markets
        self.available_symbols: dict[str, list[str]] = {"perp": []}
        #: the pooled socket client, ``None`` while the exchange runs on REST alone
        self.ws_client: Any = None
        #: which methods are served from a live WebSocket state (exactly mpdex's keys)
        self.ws_supported: dict[str, bool] = {k: False for k in WS_SUPPORT_KEYS}

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
        order_type: str = "market",
        *,
        is_reduce_only: bool = False,
        time_in_force: str | None = None,
        client_id: Any | None = None,
        slippage: Any | None = None,
    ) -> OrderResult:
        """Place an order. ``price`` given ⇒ limit order, otherwise market.

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
    async def get_perp_quote(self, symbol: str, *, is_basic_coll: bool = False) -> str:
        """The quote / collateral currency of the perp market (e.g. ``"USDC"``)."""

    @abstractmethod
    async def close(self, force_close: bool = True) -> None:
        """Release sessions and pooled sockets. Idempotent."""


class MultiPerpDexMixin:
    """Defaults that hold for any exchange built on the contract's primitives."""

    #: default quote; exchanges with several collaterals override ``get_perp_quote``
    PERP_QUOTE = "USDC"

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

    async def get_perp_quote(self, symbol: str, *, is_basic_coll: bool = False) -> str:
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

    async def __aenter__(self) -> Any:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()  # type: ignore[attr-defined]
