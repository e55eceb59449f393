"""How the arbitrage layer reaches a venue's optional capabilities.

The contract's ABC (``MultiPerpDex``) declares only the core methods; ``new_client_id``,
``get_order``, ``get_funding_rate`` and ``get_trading_fees`` live on ``MultiPerpDexMixin``
and raise ``NotSupported`` where a venue lacks them. A wrapper written for mpdex against the
bare ABC may not have them at all: here a missing method is ``NotSupported`` too, so the
caller has one case to handle. No venue is named, no venue module is imported.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

from mpdex.errors import NotSupported
from mpdex.types import FundingRate, OrderRecord, TradingFees
from multi_perp_dex import MultiPerpDex

__all__ = ["new_client_id", "get_order", "get_funding_rate", "get_trading_fees", "prepare_market_order"]


def _method(exchange: MultiPerpDex, name: str, capability: str) -> Callable[..., Any]:
    method = getattr(exchange, name, None)
    if not callable(method):
        raise NotSupported(f"{getattr(exchange, 'name', '') or type(exchange).__name__} has no {name} "
                           f"(capability '{capability}')")
    return cast(Callable[..., Any], method)


def new_client_id(exchange: MultiPerpDex) -> str:
    return str(_method(exchange, "new_client_id", "orders")())


def get_order(exchange: MultiPerpDex, client_order_id: str) -> Awaitable[OrderRecord]:
    return cast(Awaitable[OrderRecord], _method(exchange, "get_order", "orders")(client_order_id=client_order_id))


def get_funding_rate(exchange: MultiPerpDex, symbol: str) -> Awaitable[FundingRate]:
    return cast(Awaitable[FundingRate], _method(exchange, "get_funding_rate", "funding")(symbol))


def get_trading_fees(exchange: MultiPerpDex, symbol: str) -> Awaitable[TradingFees]:
    return cast(Awaitable[TradingFees], _method(exchange, "get_trading_fees", "fees")(symbol))


def prepare_market_order(exchange: MultiPerpDex, symbol: str, side: str, size: Any, *, reduce_only: bool,
                         slippage: float | None) -> Awaitable[Any]:
    """The venue's ``OrderPlan`` for a market order (``plan.size`` is what it would sign)."""
    return cast(Awaitable[Any], _method(exchange, "prepare_order", "prepare")(
        symbol, side, size, None, "market", is_reduce_only=reduce_only, slippage=slippage))
