"""Leverage and margin mode on Hyperliquid: mpdex's status-dict answers and the signed
``updateLeverage`` action (hyperliquid-api.md §3.5).

* ``leverage`` is an integer in 1 … ``maxLeverage``; ``margin_mode`` is ``cross`` or
  ``isolated``. Only ``updateLeverage`` sets either, so a missing one is read from
  ``activeAssetData``: ``(sym, None, "cross")`` keeps the current leverage and switches the
  mode, ``ok`` with nothing sent when the market is already cross.
* What cannot be done comes back as ``status: "error"`` with a message and nothing sent
  (cross on an isolated-only market, above the maximum, neither argument); a refusal by
  Hyperliquid (``Cannot switch leverage type with open position.``) raises its typed error.
* Setting a leverage twice is harmless, so a lost answer is settled by reading it back.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from mpdex.errors import BadRequest, ExchangeUnavailable
from mpdex.types import LeverageInfo, LeverageUpdate

from . import hyperliquid_parsers as P
from .hyperliquid_markets import HyperliquidMarket
from .hyperliquid_orders import ActionSigning
from .hyperliquid_wire import update_leverage_action

if TYPE_CHECKING:
    from .hyperliquid_rest import HyperliquidRestClient

__all__ = ["update_leverage", "leverage_info"]

log = logging.getLogger("mpdex.hyperliquid")


def _leverage(value: Any) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise BadRequest(f"leverage must be a positive integer, got {value!r}")
    return value


async def leverage_info(rest: HyperliquidRestClient, market: HyperliquidMarket) -> LeverageInfo:
    lev, mode = P.parse_leverage(await rest.active_asset_data(market.symbol))
    return {"symbol": market.symbol, "leverage": lev, "margin_mode": mode, "max_leverage": market.max_leverage,
            "available_margin_modes": market.margin_modes, "status": "ok"}


async def update_leverage(
    rest: HyperliquidRestClient,
    signing: ActionSigning,
    market: HyperliquidMarket,
    leverage: Any,
    margin_mode: Any,
    *,
    queue_wait: float | None,
    account: str,
) -> LeverageUpdate:
    mode = None if margin_mode is None else str(margin_mode).strip().lower()
    base: LeverageUpdate = {"status": "error", "leverage": None, "margin_mode": mode, "symbol": market.symbol}
    if mode not in (None, "cross", "isolated"):
        return {**base, "message": f"margin_mode must be 'cross' or 'isolated', not {margin_mode!r}"}
    if mode == "cross" and market.isolated_only:
        return {**base, "message": f"{market.symbol} is isolated-only on Hyperliquid"}
    if leverage is None and mode is None:
        return {**base, "message": f"give a leverage (1..{market.max_leverage}) or a margin_mode"}
    lev = None if leverage is None else _leverage(leverage)
    if lev is not None and lev > market.max_leverage:
        return {**base, "leverage": lev,
                "message": f"{lev}x is above {market.symbol}'s maximum of {market.max_leverage}x"}
    if lev is None or mode is None:
        current, current_mode = P.parse_leverage(await rest.active_asset_data(market.symbol))
        mode = mode or current_mode or market.margin_modes[0]
        if lev is None:
            if current_mode == mode:
                return {"status": "ok", "leverage": current, "margin_mode": mode, "symbol": market.symbol,
                        "message": f"already {mode}: nothing to change"}
            if current is None:
                return {**base, "message": "the current leverage is unknown: give one"}
            lev = min(current, market.max_leverage)
    action = update_leverage_action(market.asset, lev, is_cross=mode == "cross")
    sent = await rest.post_action(lambda: signing.body(action), kind="other", max_queue_wait=queue_wait)
    if sent.outcome != "accepted":
        if P.parse_leverage(await rest.active_asset_data(market.symbol)) != (lev, mode):
            raise sent.error if sent.error is not None else ExchangeUnavailable(
                f"leverage update of {market.symbol}: outcome unknown ({sent.outcome})")
    log.info("hyperliquid %s leverage %s -> %dx %s", account, market.symbol, lev, mode)
    return {"status": "ok", "leverage": lev, "margin_mode": mode, "symbol": market.symbol}
