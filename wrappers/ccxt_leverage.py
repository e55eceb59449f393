"""Leverage and margin mode through ccxt: mpdex's status-dict answers for one market.

* ``update_leverage`` checks its input against the market (a positive integer up to ccxt's
  ``limits.leverage.max``, ``cross``/``isolated``) before anything is sent; what ccxt cannot
  set for the venue comes back as ``status: "not_implemented"`` and nothing is sent. A write:
  never retried.
* ``leverage_info`` reads the account's setting from the first source that has it: ccxt's
  ``fetchLeverage`` / ``fetchLeverages`` (an answer counts only for the market it names), then
  the venue's own read declared in its entry (``leverage_read``; Hyperliquid's
  ``activeAssetData``, since ccxt 4.5.90 has no ``fetchLeverage`` there). When none has it,
  ``leverage`` is None and ``message`` says which sources had nothing. A position's
  ``leverage`` is not used: where the venue reports none, ccxt derives one (1 / initial
  margin fraction), which is not the account's setting.
"""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from mpdex.errors import BadRequest
from mpdex.types import LeverageInfo, LeverageUpdate

from . import ccxt_parsers as P
from .ccxt_reads import CcxtReads

__all__ = ["update_leverage", "leverage_info"]

log = logging.getLogger("mpdex.ccxt")

_Read = Callable[[CcxtReads, str, str], Awaitable[tuple[int | None, str | None]]]


async def update_leverage(ex: CcxtReads, symbol: str, leverage: int | None,
                          margin_mode: str | None) -> LeverageUpdate:
    native, market = ex._market(symbol)
    if leverage is None and margin_mode is None:
        raise BadRequest("give leverage and/or margin_mode")
    mode = str(margin_mode).lower() if margin_mode is not None else None
    if mode is not None and mode not in ("cross", "isolated"):
        raise BadRequest(f"margin_mode must be 'cross' or 'isolated', got {margin_mode!r}")
    lev: int | None = None
    if leverage is not None:
        value: Any = leverage
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        maximum = ((market.get("limits") or {}).get("leverage") or {}).get("max")
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0 or \
                (maximum is not None and value > maximum):
            raise BadRequest(f"leverage must be a positive integer{f' up to {maximum}' if maximum else ''}, "
                             f"got {leverage!r}")
        lev = value
    missing = [w for w, need, feature in (("leverage", lev is not None, "setLeverage"),
                                          ("margin mode", mode is not None, "setMarginMode"))
               if need and not ex._has(feature)]
    if missing:
        return {"status": "not_implemented", "leverage": lev, "margin_mode": mode, "symbol": native,
                "message": f"ccxt's {ex.entry.ccxt_id} cannot set the {' and '.join(missing)}"}
    unified = market["symbol"]
    if mode is not None:
        await ex._call("set_margin_mode", mode, unified, {"leverage": lev} if lev is not None else {})
    if lev is not None:
        await ex._call("set_leverage", lev, unified, {"marginMode": mode} if mode is not None else {})
    log.info("%s %s leverage %s -> %s %s", ex.name, ex._who, native, lev, mode)
    return {"status": "ok", "leverage": lev, "margin_mode": mode, "symbol": native}


async def leverage_info(ex: CcxtReads, symbol: str) -> LeverageInfo:
    native, market = ex._market(symbol)
    maximum = ((market.get("limits") or {}).get("leverage") or {}).get("max")
    info: LeverageInfo = {
        "symbol": native, "leverage": None, "margin_mode": None,
        "max_leverage": int(maximum) if maximum is not None else None,
        "available_margin_modes": ["cross", "isolated"] if ex._has("setMarginMode") else [], "status": "ok",
    }
    reads: list[tuple[str, _Read]] = []
    if ex._has("fetchLeverage") or ex._has("fetchLeverages"):
        reads.append(("ccxt's leverage read", _ccxt_leverage))
    if ex.entry.leverage_read:
        reads.append(("the venue's leverage read", _venue_leverage))
    for _, read in reads:
        lev, mode = await read(ex, native, market["symbol"])
        if lev is not None:
            info["leverage"], info["margin_mode"] = lev, mode
            return info
    why = f"no leverage from {' or '.join(name for name, _ in reads)}" if reads else "ccxt has no leverage read"
    info["message"] = f"the account's leverage on {native} is unknown: {why} ({ex.entry.ccxt_id}); " \
                      "max_leverage is the market's"
    return info


async def _ccxt_leverage(ex: CcxtReads, native: str, unified: str) -> tuple[int | None, str | None]:
    """ccxt's leverage structure of ``unified``: only one that names this market (ccxt
    4.5.90's GRVT ``fetchLeverages`` keys every entry by None, so its keys are not trusted)."""
    if ex._has("fetchLeverage"):
        answer = await ex._read("fetch_leverage", unified)
        answers = [answer] if isinstance(answer, Mapping) and answer.get("symbol") in (None, unified) else []
    else:
        found = await ex._read("fetch_leverages")
        answers = [a for a in (found.values() if isinstance(found, Mapping) else ())
                   if isinstance(a, Mapping) and a.get("symbol") == unified]
    for answer in answers:
        lev = P.leverage_value(answer.get("longLeverage")) or P.leverage_value(answer.get("shortLeverage"))
        if lev is not None:
            return lev, P.margin_mode(answer.get("marginMode"))
    return None, None


async def _venue_leverage(ex: CcxtReads, native: str, unified: str) -> tuple[int | None, str | None]:
    """The entry's ``leverage_read``: ccxt's implicit API method with the request filled in."""
    spec = ex.entry.leverage_read
    names = {"native": native, "walletAddress": getattr(ex.exchange, "walletAddress", "") or ""}
    request = {k: v.format_map(names) if isinstance(v, str) else v for k, v in spec["request"].items()}
    answer = await ex._read(spec["method"], request)
    return P.leverage_value(P.dig(answer, spec["leverage"])), P.margin_mode(P.dig(answer, spec["margin_mode"]))
