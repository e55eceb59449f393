"""Offline fakes for HyperliquidExchange unit tests: a strict fake ``/info`` + ``/exchange``
for aioresponses and an exchange factory pinned to the REST path.

``FakeHyperliquid`` parses every ``/exchange`` body with the strict server-side parser
(``hyperliquid_canonical.parse_exchange_request``: unknown keys, bad decimals and bad cloids are
HTTP 422), recovers the signer from the posted signature and refuses anything not signed by
the expected signer, refuses reused nonces, keeps orders by oid and cloid, and can lose or
fail answers on demand."""
from __future__ import annotations

import asyncio
import copy
from decimal import Decimal
from typing import Any

import orjson
from aioresponses import CallbackResult, aioresponses

from mpdex.evm import address_of
from mpdex.nonce import NonceSource
from test_exchanges.vest.vest_fakes import T0, Clock
from wrappers import hyperliquid_auth as ha
from wrappers import hyperliquid_canonical as hc
from wrappers.hyperliquid import HyperliquidExchange

BASE = "https://api.hyperliquid.xyz"
AGENT_KEY = "0x0123456789012345678901234567890123456789012345678901234567890123"  # the SDK's test key
AGENT = address_of(AGENT_KEY)  # 0x14791697260E4c9A71f18484C9f997B308e59325
WALLET_KEY = "0x" + "2b" * 32
WALLET = address_of(WALLET_KEY)
VAULT = "0x1719884eb866cb12b2287399b15f7db5e7d775ea"

UNIVERSE = [
    {"name": "BTC", "szDecimals": 5, "maxLeverage": 40},
    {"name": "ETH", "szDecimals": 4, "maxLeverage": 25},
    {"name": "SOL", "szDecimals": 2, "maxLeverage": 20},
    {"name": "kPEPE", "szDecimals": 0, "maxLeverage": 10},
    {"name": "HPOS", "szDecimals": 0, "maxLeverage": 3, "onlyIsolated": True},
    {"name": "LOOM", "szDecimals": 1, "maxLeverage": 3, "isDelisted": True, "marginMode": "strictIsolated"},
]
MARKS = {"BTC": "100000.0", "ETH": "3000.0", "SOL": "150.0", "kPEPE": "0.012345", "HPOS": "10.0", "LOOM": "1.0"}


def ctx(mark: str, funding: str = "0.0000125") -> dict[str, Any]:
    return {"dayNtlVlm": "1000.0", "funding": funding, "impactPxs": [mark, mark], "markPx": mark, "midPx": mark,
            "openInterest": "10.0", "oraclePx": mark, "premium": "0.0", "prevDayPx": mark}


def key_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {"wallet_address": WALLET, "agent_api_private_key": AGENT_KEY,
                              "agent_api_address": AGENT, "by_agent": True}
    fields.update(overrides)
    return fields


class FakeHyperliquid:
    """Just enough of Hyperliquid for aioresponses (see the module docstring)."""

    def __init__(self, http: aioresponses, *, signer: str = AGENT, account: str = WALLET, mainnet: bool = True,
                 base: str = BASE) -> None:
        self.signer, self.account, self.mainnet = signer, account.lower(), mainnet
        self.marks = dict(MARKS)
        self.universe = copy.deepcopy(UNIVERSE)
        self.orders: dict[int, dict[str, Any]] = {}  # oid -> orderStatus "order" wrapper
        self.next_oid = 1000
        self.nonces: set[int] = set()
        self.exchange_posts: list[bytes] = []
        self.infos: list[dict[str, Any]] = []
        self.faults: list[str] = []  # "lose" (processed, answer lost), "timeout" (not processed), "503", "429"
        self.order_errors: list[str] = []  # per-order {"error": …} answers, one per order
        self.whole_errors: list[str] = []  # {"status": "err"} answers
        self.ioc_fill: Decimal | None = None  # fraction an IOC fills (None: all)
        self.status_misses = 0  # orderStatus answers unknownOid this many times first
        self.info_answers: dict[str, Any] = {}
        self.fills: list[dict[str, Any]] = []
        http.post(base + "/info", callback=self.on_info, repeat=True)
        http.post(base + "/exchange", callback=self.on_exchange, repeat=True)

    # -- /info -------------------------------------------------------------------------

    def meta(self) -> dict[str, Any]:
        return {"universe": self.universe, "marginTables": [], "collateralToken": 0}

    def on_info(self, url: Any, **kw: Any) -> CallbackResult:
        body = orjson.loads(kw["data"])
        self.infos.append(body)
        kind = body["type"]
        if kind in self.info_answers:
            answer = self.info_answers[kind]
            answer = answer(body) if callable(answer) else answer
            if isinstance(answer, CallbackResult):
                return answer
            return CallbackResult(payload=answer)
        if kind == "metaAndAssetCtxs":
            return CallbackResult(body=orjson.dumps([self.meta(), [ctx(self.marks[u["name"]]) for u in self.universe]]))
        if kind == "orderStatus":
            assert body["user"] == self.account, "orderStatus must ask for the account, not the agent"
            if self.status_misses:
                self.status_misses -= 1
                return CallbackResult(payload={"status": "unknownOid"})
            found = self.find(body["oid"])
            return CallbackResult(payload={"status": "order", "order": copy.deepcopy(found)} if found
                                  else {"status": "unknownOid"})
        if kind == "frontendOpenOrders":
            rows = [o["order"] for o in self.orders.values() if o["status"] == "open"]
            return CallbackResult(body=orjson.dumps(rows))
        if kind == "userFillsByTime":
            return CallbackResult(body=orjson.dumps([f for f in self.fills if f["time"] >= body["startTime"]]))
        raise AssertionError(f"unexpected /info type {kind}")

    def find(self, oid: int | str) -> dict[str, Any] | None:
        if isinstance(oid, int):
            return self.orders.get(oid)
        matches = [o for o in self.orders.values() if o["order"].get("cloid") == oid.lower()]
        return matches[-1] if matches else None

    # -- /exchange ---------------------------------------------------------------------

    def on_exchange(self, url: Any, **kw: Any) -> CallbackResult:
        self.exchange_posts.append(kw["data"])
        assert kw["headers"]["Content-Type"] == "application/json"
        fault = self.faults.pop(0) if self.faults else None
        if fault == "timeout":
            raise asyncio.TimeoutError()
        if fault == "503":
            return CallbackResult(status=503, body="upstream unavailable")
        if fault == "429":
            return CallbackResult(status=429, body="null", content_type="application/json")
        try:
            req = hc.parse_exchange_request(orjson.loads(kw["data"]))
        except hc.DeserializeError:
            return CallbackResult(status=422, body=hc.DESERIALIZE_ERROR, content_type="text/plain")
        recovered = ha.recover_l1_signer(req.action, req.nonce, req.signature, vault_address=req.vault_address,
                                         expires_after=req.expires_after, is_mainnet=self.mainnet)
        if recovered != self.signer:
            return self._err(f"L1 error: User or API Wallet {recovered.lower()} does not exist.")
        if req.nonce in self.nonces:
            return self._err(f"Invalid nonce: duplicate nonce {req.nonce}")
        self.nonces.add(req.nonce)
        if self.whole_errors:
            return self._err(self.whole_errors.pop(0))
        answer = self._act(req.action, req.nonce)
        if fault == "lose":
            raise asyncio.TimeoutError()
        return CallbackResult(payload=answer)

    @staticmethod
    def _err(text: str) -> CallbackResult:
        return CallbackResult(payload={"status": "err", "response": text})

    def _act(self, action: dict[str, Any], nonce: int) -> dict[str, Any]:
        kind = action["type"]
        if kind == "order":
            statuses = [self._order(o, nonce) for o in action["orders"]]
            return {"status": "ok", "response": {"type": "order", "data": {"statuses": statuses}}}
        if kind in ("cancel", "cancelByCloid"):
            statuses = [self._cancel(c["o"] if kind == "cancel" else c["cloid"]) for c in action["cancels"]]
            return {"status": "ok", "response": {"type": "cancel", "data": {"statuses": statuses}}}
        if kind == "updateLeverage":
            return {"status": "ok", "response": {"type": "default"}}
        raise AssertionError(f"unexpected action {kind}")

    def _order(self, o: dict[str, Any], nonce: int) -> Any:
        if self.order_errors:
            return {"error": self.order_errors.pop(0)}
        coin = self.universe[o["a"]]["name"]
        tif = o["t"]["limit"]["tif"]
        oid, self.next_oid = self.next_oid, self.next_oid + 1
        size = Decimal(o["s"])
        filled = Decimal(0)
        if tif == "Ioc":
            filled = size if self.ioc_fill is None else (size * self.ioc_fill).quantize(Decimal(1).scaleb(-5))
        status = "open" if tif != "Ioc" else "filled" if filled else "iocCancelRejected"
        order = {"coin": coin, "side": "B" if o["b"] else "A", "limitPx": o["p"], "sz": str(size - filled),
                 "oid": oid, "timestamp": nonce + 3, "triggerCondition": "N/A", "isTrigger": False, "triggerPx": "0.0",
                 "children": [], "isPositionTpsl": False, "reduceOnly": o["r"], "orderType": "Limit",
                 "origSz": o["s"], "tif": tif, "cloid": o.get("c")}
        self.orders[oid] = {"order": order, "status": status, "statusTimestamp": nonce + 3}
        if filled:
            self.fills.append({"coin": coin, "px": o["p"], "sz": str(filled), "side": order["side"], "time": nonce + 3,
                               "startPosition": "0.0", "dir": "Open Long", "closedPnl": "0.0", "hash": "0x00",
                               "oid": oid, "crossed": True, "fee": "0.01", "tid": oid, "feeToken": "USDC"})
            return {"filled": {"totalSz": str(filled), "avgPx": o["p"], "oid": oid}}
        if status == "iocCancelRejected":
            return {"error": f"Order could not immediately match against any resting orders. asset={o['a']}"}
        return {"resting": {"oid": oid}}

    def _cancel(self, ident: int | str) -> Any:
        found = self.find(ident)
        if found is None or found["status"] != "open":
            return {"error": "Order was never placed, already canceled, or filled. asset=0"}
        found["status"] = "canceled"
        return "success"

    # -- helpers for assertions ----------------------------------------------------------

    def bodies(self) -> list[dict[str, Any]]:
        return [orjson.loads(b) for b in self.exchange_posts]

    def info_types(self) -> list[str]:
        return [b["type"] for b in self.infos]


async def make_exchange(http: aioresponses, clock: Clock, fake: FakeHyperliquid | None = None, *,
                        keys: dict[str, Any] | None = None, **options: Any) -> HyperliquidExchange:
    if fake is None:
        FakeHyperliquid(http)
    options.setdefault("nonce_source", NonceSource(clock_ms=clock.now_ms))
    options.setdefault("use_ws", False)  # these tests pin the REST path
    ex = HyperliquidExchange(**(keys or key_fields()), clock_ms=clock.now_ms, monotonic=clock.monotonic, sleep=clock.sleep,
                             rng=lambda: 0.0, **options)
    return await ex.init()


__all__ = ["T0", "Clock", "FakeHyperliquid", "make_exchange", "key_fields", "ctx", "BASE", "AGENT", "AGENT_KEY",
           "WALLET", "WALLET_KEY", "VAULT", "MARKS", "UNIVERSE"]
