"""Offline fakes for VestExchange unit tests: a fake clock, a fake Vest order book of
record for aioresponses, and an exchange factory pinned to the REST path."""
from __future__ import annotations

import asyncio
import copy
import re
from typing import Any

import orjson
from aioresponses import CallbackResult, aioresponses

from mpdex.nonce import NonceSource
from test_exchanges.conftest import FakeClock, load_sample
from wrappers.vest import VestExchange

BASE = "https://server-prod.hz.vestmarkets.com/v2"
KEYS = load_sample("signing_vectors.json")["keys"]  # type: ignore[index]
API_KEY = "k-secret-api-key-123"
T0 = 1_767_225_600_000


def rx(path: str, base: str = BASE) -> re.Pattern:
    return re.compile("^" + re.escape(base + path) + r"(\?.*)?$")


def Clock(ms: int = T0) -> FakeClock:
    """The suite's fake clock with its wall clock at ``ms`` and its monotonic clock at the
    same instant in seconds (so a deadline and a signed ``time`` move together)."""
    return FakeClock(monotonic=ms / 1000, wall_ms=ms)


class FakeVest:
    """Just enough of Vest's order endpoints for aioresponses: stores orders by nonce,
    answers DUPLICATE for a repeated nonce, and can lose or fail answers on demand."""

    def __init__(self, http: aioresponses, *, market_statuses: list[str] | None = None) -> None:
        self.orders: dict[str, dict] = {}
        self.posts: list[bytes] = []
        self.cancels: list[dict] = []
        self.post_faults: list[str] = []  # "lose" (store, no answer), "timeout", "503"
        self.market_statuses = list(market_statuses or ["FILLED"])
        self.limit_status = "NEW"
        self.reject_code: int | None = None
        self.gets: list[dict] = []
        http.post(rx("/orders"), callback=self.on_post, repeat=True)
        http.post(rx("/orders/cancel"), callback=self.on_cancel, repeat=True)
        http.get(rx("/orders"), callback=self.on_get, repeat=True)

    def on_post(self, url: Any, **kw: Any) -> CallbackResult:
        self.posts.append(kw["data"])
        fault = self.post_faults.pop(0) if self.post_faults else None
        if fault == "timeout":
            raise asyncio.TimeoutError()
        if fault == "503":
            return CallbackResult(status=503, body="upstream unavailable")
        o = orjson.loads(kw["data"])["order"]
        if any(x["nonce"] == o["nonce"] for x in self.orders.values()):
            return CallbackResult(status=400, payload={"code": 3015, "msg": "DUPLICATE"})
        oid = f"0x{o['nonce']:064x}"
        status = "REJECTED" if self.reject_code else ("NEW" if o["orderType"] == "LIMIT" else "PENDING")
        self.orders[oid] = {
            "id": oid, "nonce": o["nonce"], "symbol": o["symbol"], "isBuy": o["isBuy"], "orderType": o["orderType"],
            "limitPrice": o["limitPrice"], "markPrice": o["limitPrice"], "size": o["size"], "status": status,
            "reduceOnly": o["reduceOnly"], "initMarginRatio": "0.1", "code": self.reject_code,
            "lastFilledSize": None, "lastFilledPrice": None, "lastFilledTime": None, "avgFilledPrice": None,
            "settledFunding": None, "fees": "0", "realizedPnl": None, "postTime": o["time"] + 5,
            "tpPrice": None, "slPrice": None,
        }
        if fault == "lose":
            raise asyncio.TimeoutError()
        return CallbackResult(payload={"id": oid})

    def _advance(self, order: dict) -> None:
        if order["status"] == "PENDING" or (order["orderType"] == "MARKET" and order["status"] == "NEW"):
            status = self.market_statuses.pop(0) if len(self.market_statuses) > 1 else self.market_statuses[0]
            order["status"] = status
            if status == "FILLED":
                order.update(lastFilledSize=order["size"], lastFilledPrice="100.0", avgFilledPrice="100.0",
                             lastFilledTime=order["postTime"] + 1, fees="0.01")
        elif order["orderType"] == "LIMIT" and order["status"] == "NEW":
            order["status"] = self.limit_status

    def on_get(self, url: Any, **kw: Any) -> CallbackResult:
        q = dict(url.query)
        self.gets.append(q)
        rows = []
        for order in self.orders.values():
            if "id" in q and order["id"] not in q["id"].split(","):
                continue
            if "nonce" in q and str(order["nonce"]) != q["nonce"]:
                continue
            self._advance(order)
            if "status" in q and order["status"] != q["status"]:
                continue
            if "symbol" in q and order["symbol"] != q["symbol"]:
                continue
            rows.append(copy.deepcopy(order))
        return CallbackResult(payload=rows)

    def on_cancel(self, url: Any, **kw: Any) -> CallbackResult:
        body = orjson.loads(kw["data"])
        self.cancels.append(body)
        oid = body["order"]["id"]
        if oid not in self.orders or self.orders[oid]["status"] not in ("NEW", "PARTIALLY_FILLED"):
            return CallbackResult(status=400, payload={"code": 3017, "msg": "ORDER_NOT_FOUND"})
        self.orders[oid]["status"] = "CANCELLED"
        return CallbackResult(payload={"id": oid})

    def sent_bodies(self) -> list[dict]:
        return [orjson.loads(b) for b in self.posts]


def exchange_info_with(*extra: dict) -> dict:
    info = copy.deepcopy(load_sample("rest_exchangeInfo.json"))
    info["symbols"].extend(extra)  # type: ignore[index]
    return info  # type: ignore[return-value]


KBONK = {"symbol": "kBONK-PERP", "displayName": "kBONK-PERP", "base": "kBONK", "quote": "USDC", "sizeDecimals": 0,
         "priceDecimals": 6, "initMarginRatio": "0.2", "maintMarginRatio": "0.1", "takerFee": "0.0005",
         "isolated": False}


def tickers(**marks: str) -> dict:
    base = load_sample("rest_ticker_latest.json")["tickers"]  # type: ignore[index]
    rows = [dict(t) for t in base]
    for sym, mark in marks.items():
        symbol = sym.replace("_", "-")
        rows = [r for r in rows if r["symbol"] != symbol]
        rows.append({"symbol": symbol, "markPrice": mark, "indexPrice": mark, "imbalance": "0",
                     "oneHrFundingRate": "0.00001", "cumFunding": "0", "status": "TRADING"})
    return {"tickers": rows}


async def make_exchange(http: aioresponses, clock: FakeClock, *, info: Any = None, ticker: Any = None,
                        last_nonce: int | None = T0 - 10, **options: Any) -> VestExchange:
    http.get(rx("/exchangeInfo"), payload=info or exchange_info_with(KBONK))
    http.get(rx("/ticker/latest"), payload=ticker or load_sample("rest_ticker_latest.json"))
    http.get(rx("/account/nonce"), payload={"lastNonce": last_nonce})
    options.setdefault("nonce_source", NonceSource(clock_ms=clock.now_ms))
    options.setdefault("use_ws", False)  # these tests pin the REST path; the socket is tested on paper
    ex = VestExchange(API_KEY, KEYS["signing_private_key"], KEYS["primary_address"], clock_ms=clock.now_ms,
                      monotonic=clock.monotonic, sleep=clock.sleep, rng=lambda: 0.0, **options)
    return await ex.init()


def requests(http: aioresponses, method: str, path: str) -> list[tuple[Any, dict]]:
    return [(url, call.kwargs) for (meth, url), calls in http.requests.items()
            if meth == method and url.path == "/v2" + path for call in calls]


def posts(http: aioresponses) -> list[tuple[Any, dict]]:
    return [(u, k) for (m, u), calls in http.requests.items() if m == "POST" for k in [c.kwargs for c in calls]]
