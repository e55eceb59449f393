"""Hyperliquid-shaped answers (from Hyperliquid's info/exchange API as ccxt's parsers read them)."""
from __future__ import annotations

from typing import Any

from test_exchanges.ccxt.fake_venue import FakeVenue

WALLET = "0x1111111111111111111111111111111111111111"
KEY = "0x" + "2b" * 32

META = [
    {"universe": [
        {"name": "BTC", "szDecimals": 5, "maxLeverage": 40, "marginTableId": 56},
        {"name": "ETH", "szDecimals": 4, "maxLeverage": 25, "marginTableId": 55},
    ]},
    [
        {"funding": "0.0000125", "openInterest": "20000.1", "prevDayPx": "60000.0", "dayNtlVlm": "1.0e9",
         "premium": "0.0001", "oraclePx": "61230.0", "markPx": "61234.5", "midPx": "61234.5",
         "impactPxs": ["61234.0", "61235.0"], "dayBaseVlm": "1000.0"},
        {"funding": "-0.00002", "openInterest": "100000.0", "prevDayPx": "3000.0", "dayNtlVlm": "5.0e8",
         "premium": "-0.0001", "oraclePx": "3001.1", "markPx": "3001.25", "midPx": "3001.2",
         "impactPxs": ["3001.1", "3001.3"], "dayBaseVlm": "2000.0"},
    ],
]
SPOT_META: dict[str, Any] = {"universe": [], "tokens": []}


def resting(oid: int) -> dict[str, Any]:
    return {"status": "ok", "response": {"type": "order", "data": {"statuses": [{"resting": {"oid": oid}}]}}}


def filled(oid: int, size: str, px: str) -> dict[str, Any]:
    return {"status": "ok", "response": {"type": "order", "data": {"statuses": [
        {"filled": {"totalSz": size, "avgPx": px, "oid": oid}}]}}}


def fill(oid: int, *, px: str, sz: str, fee: str, closed_pnl: str = "0.0", side: str = "B", coin: str = "BTC",
         time: int = 1704346468838, fee_token: str = "USDC", tid: int = 1) -> dict[str, Any]:
    """One ``userFills`` / ``userFillsByTime`` row."""
    return {"coin": coin, "px": px, "sz": sz, "side": side, "time": time, "startPosition": "0.0",
            "dir": "Open Long" if side == "B" else "Close Long", "closedPnl": closed_pnl,
            "hash": "0x" + "ab" * 32, "oid": oid, "crossed": True, "fee": fee, "tid": tid,
            "feeToken": fee_token}


def order_status(oid: int, *, coin: str, side: str, px: str, size: str, remaining: str, status: str,
                 cloid: str | None, tif: str = "Gtc", reduce_only: bool = False) -> dict[str, Any]:
    return {"status": "order", "order": {"order": {
        "children": [], "cloid": cloid, "coin": coin, "isPositionTpsl": False, "isTrigger": False, "limitPx": px,
        "oid": oid, "orderType": "Limit", "origSz": size, "reduceOnly": reduce_only, "side": side, "sz": remaining,
        "tif": tif, "timestamp": 1704346468838, "triggerCondition": "N/A", "triggerPx": "0.0"},
        "status": status, "statusTimestamp": 1704346468839}}


CLEARINGHOUSE = {
    "assetPositions": [{"position": {
        "coin": "ETH", "cumFunding": {"allTime": "1.0", "sinceChange": "0.1", "sinceOpen": "0.1"},
        "entryPx": "2986.3", "leverage": {"rawUsd": "-95.059824", "type": "cross", "value": 20},
        "liquidationPx": "2866.26936529", "marginUsed": "4.967826", "maxLeverage": 25, "positionValue": "100.02765",
        "returnOnEquity": "-0.0026789", "szi": "-0.0335", "unrealizedPnl": "-0.0134"}, "type": "oneWay"}],
    "crossMaintenanceMarginUsed": "1.0", "crossMarginSummary": {
        "accountValue": "13104.514502", "totalMarginUsed": "4.967826", "totalNtlPos": "100.02765",
        "totalRawUsd": "13204.542152"},
    "marginSummary": {"accountValue": "13104.514502", "totalMarginUsed": "4.967826", "totalNtlPos": "100.02765",
                      "totalRawUsd": "13204.542152"},
    "time": 1708622398623, "withdrawable": "13099.546676",
}


def hl_venue() -> FakeVenue:
    """A Hyperliquid-shaped fake with the reads ccxt makes to load markets and the account."""
    v = FakeVenue()
    v.on_json("POST", "/info", "type", "userAbstraction", '"default"')
    v.on_json("POST", "/info", "type", "spotMeta", SPOT_META)
    v.on_json("POST", "/info", "type", "metaAndAssetCtxs", META)
    v.on_json("POST", "/info", "type", "clearinghouseState", CLEARINGHOUSE)
    return v
