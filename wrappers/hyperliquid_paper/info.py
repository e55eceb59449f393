"""``POST /info`` on the Hyperliquid paper server: the read types a perps client needs, with
the samples' shapes (``wire.py`` builds the objects).

A body is ``{"type": …, …}``; an unknown ``type``, a missing required field or a field of the
wrong JSON type (a ``user`` that is not a 20-byte hex address, a ``startTime`` that is not an
integer, a cloid of the wrong form) is HTTP 422 with the server's text; other extra fields
are ignored, as the server ignores them. ``dex`` other than the main dex (``""``) answers
``null``, as does ``l2Book`` for an unknown coin; an ``nSigFigs``/``mantissa`` pair the server
does not serve answers HTTP 500 ``null`` (as testnet did for ``mantissa`` 1).

Account reads are by the account (master) address; an agent's address, like any address
without an account, reads as empty state (hyperliquid-api.md §8.9). Lists: ``userFills``
the newest 2000, newest first; ``userFillsByTime`` the oldest 2000 in its inclusive range of
the newest 10 000, oldest first; ``historicalOrders`` the newest 2000; ``fundingHistory``
and ``userFunding`` the oldest 500 in range, oldest first; ``candleSnapshot`` the last 5000.
``predictedFundings`` lists only ``HlPerp`` (no other venue's rates are known here);
``spotMeta`` is a valid universe with only USDC and no pairs; ``userAbstraction`` is
``"default"`` (perps margin apart from spot, which is not modelled).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from mpdex.paper.ledger import Account
from mpdex.paper.prices import INTERVALS_MS
from mpdex.paper.simulator import Simulator
from wrappers.hyperliquid_canonical import DESERIALIZE_ERROR

from . import wire as W
from .auth import HlAuth
from .errors import HttpError, order_status
from .markets import meta_json
from .store import HlStore

__all__ = ["InfoApi", "SPOT_META"]

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_CLOID = re.compile(r"0x[0-9a-fA-F]{32}")
_HOUR_MS = 3_600_000
_U64 = 1 << 64

#: no spot pairs are listed; USDC is the collateral token (index 0)
SPOT_META: dict[str, Any] = {"universe": [], "tokens": [{
    "name": "USDC", "szDecimals": 8, "weiDecimals": 8, "index": 0, "tokenId": "0x6d1e7cde53ba9467b783cb7c530ce054",
    "isCanonical": True, "evmContract": None, "fullName": None,
}]}


def _bad() -> HttpError:
    return HttpError(422, DESERIALIZE_ERROR)


def _field(body: dict[str, Any], key: str, kind: type, *, optional: bool = False) -> Any:
    value = body.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, kind) or (isinstance(value, int) and (isinstance(value, bool) or not 0 <= value < _U64)):
        raise _bad()
    return value


def _user(body: dict[str, Any]) -> str:
    user = _field(body, "user", str)
    if _ADDRESS.fullmatch(user) is None:
        raise _bad()
    return str(user).lower()


def _main_dex(body: dict[str, Any]) -> bool:
    dex = body.get("dex")
    if dex is not None and not isinstance(dex, str):
        raise _bad()
    return not dex


class InfoApi:
    def __init__(self, sim: Simulator, store: HlStore, auth: HlAuth) -> None:
        self.sim = sim
        self.store = store
        self.auth = auth
        self._handlers: dict[str, Callable[[dict[str, Any]], Any]] = {
            "meta": self.meta, "metaAndAssetCtxs": self.meta_and_ctxs, "allMids": self.all_mids,
            "l2Book": self.l2_book, "clearinghouseState": self.clearinghouse, "openOrders": self.open_orders,
            "frontendOpenOrders": self.frontend_open_orders, "orderStatus": self.order_status,
            "userFills": self.user_fills, "userFillsByTime": self.user_fills_by_time,
            "historicalOrders": self.historical_orders, "fundingHistory": self.funding_history,
            "predictedFundings": self.predicted_fundings, "userFunding": self.user_funding,
            "candleSnapshot": self.candles, "activeAssetData": self.active_asset_data,
            "userRateLimit": self.user_rate_limit, "extraAgents": self.extra_agents, "userFees": self.user_fees,
            "spotMeta": lambda b: SPOT_META, "spotClearinghouseState": self.spot_state,
            "userAbstraction": self.user_abstraction, "perpDexs": lambda b: [None], "userRole": self.user_role,
            "maxBuilderFee": self.max_builder_fee,
        }

    def handle(self, body: Any) -> Any:
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            raise _bad()
        handler = self._handlers.get(body["type"])
        if handler is None:
            raise _bad()
        return handler(body)

    def now(self) -> int:
        return self.sim.clock_ms()

    def _account(self, body: dict[str, Any]) -> Account | None:
        return self.sim.ledger.account_by_address(_user(body))

    # --- market data --------------------------------------------------------------------

    def meta(self, body: dict[str, Any]) -> Any:
        return meta_json(self.sim.markets) if _main_dex(body) else None

    def _open_interest(self) -> dict[str, Any]:
        out = dict.fromkeys(self.sim.markets, W.ZERO)
        for _, p in self.sim.ledger.all_positions():
            if p.size > 0:
                out[p.symbol] += p.size
        return out

    def ctxs(self) -> list[dict[str, Any]]:
        oi, now = self._open_interest(), self.now()
        return [W.asset_ctx(self.sim, m, now, oi[m.symbol]) for m in self.sim.markets.values()]

    def ctx(self, coin: str) -> dict[str, Any]:
        return W.asset_ctx(self.sim, self.sim.markets[coin], self.now(), self._open_interest()[coin])

    def meta_and_ctxs(self, body: dict[str, Any]) -> Any:
        return [meta_json(self.sim.markets), self.ctxs()] if _main_dex(body) else None

    def all_mids(self, body: dict[str, Any]) -> Any:
        return W.mids(self.sim) if _main_dex(body) else None

    def l2_book(self, body: dict[str, Any]) -> Any:
        coin = _field(body, "coin", str)
        sig = _field(body, "nSigFigs", int, optional=True)
        mantissa = _field(body, "mantissa", int, optional=True)
        if sig not in (None, 2, 3, 4, 5) or (mantissa is not None and (sig != 5 or mantissa not in (2, 5))):
            raise HttpError(500, None)
        if coin not in self.sim.markets:
            return None
        return W.l2_book(self.sim, coin, self.now(), sig, mantissa)

    def funding_history(self, body: dict[str, Any]) -> Any:
        coin = _field(body, "coin", str)
        start = _field(body, "startTime", int)
        end = _field(body, "endTime", int, optional=True)
        if coin not in self.sim.markets:
            return []
        rows = list(reversed(self.sim.ledger.funding_history(coin, start, end, 1_000_000)))[:500]
        out = []
        for t, rate in rows:
            prem = self.store.premium(coin, t)
            out.append({"coin": coin, "fundingRate": W.num(rate), "premium": W.num(prem if prem is not None else W.ZERO),
                        "time": t})
        return out

    def predicted_fundings(self, body: dict[str, Any]) -> Any:
        now = self.now()
        nxt = now - now % _HOUR_MS + _HOUR_MS
        return [[s, [["HlPerp", {"fundingRate": W.num(self.sim.funding_rate(s)), "nextFundingTime": nxt}]]]
                for s in self.sim.markets]

    def candles(self, body: dict[str, Any]) -> Any:
        req = _field(body, "req", dict)
        coin = _field(req, "coin", str)
        interval = _field(req, "interval", str)
        start = _field(req, "startTime", int)
        end = _field(req, "endTime", int, optional=True)
        if interval not in W.HL_INTERVALS:
            raise _bad()
        if coin not in self.sim.markets:
            return []
        step = INTERVALS_MS[interval]
        self.sim.prices.current_bar(coin, self.now())
        bars = [b for b in self.sim.prices.bars(coin, step) if b.open_time + step > start and (end is None or b.open_time <= end)]
        return [W.candle(b, coin, interval, step) for b in bars[-5000:]]

    # --- account data ---------------------------------------------------------------------

    def clearinghouse(self, body: dict[str, Any]) -> Any:
        account = self._account(body)
        if not _main_dex(body):
            return None
        return W.empty_clearinghouse(self.now()) if account is None else W.clearinghouse(self.sim, account.id, self.now())

    def _open(self, body: dict[str, Any]) -> list[Any]:
        account = self._account(body)
        if account is None or not _main_dex(body):
            return []
        return list(reversed(self.sim.ledger.open_orders(account.id)))

    def open_orders(self, body: dict[str, Any]) -> Any:
        return [W.open_order(o) for o in self._open(body)]

    def frontend_open_orders(self, body: dict[str, Any]) -> Any:
        return [W.order_frontend(o) for o in self._open(body)]

    def order_status(self, body: dict[str, Any]) -> Any:
        account = self._account(body)
        ref = body.get("oid")
        if isinstance(ref, str):
            if _CLOID.fullmatch(ref) is None:
                raise _bad()
        else:
            _field(body, "oid", int)
        if account is None:
            return {"status": "unknownOid"}
        if isinstance(ref, str):
            found = self.sim.ledger.find_orders(account.id, client_id=ref.lower(), limit=1)
            o = found[0] if found else None
        else:
            o = self.sim.ledger.order(str(ref))
        if o is None or o.account_id != account.id:
            return {"status": "unknownOid"}
        return {"status": "order", "order": {"order": W.order_frontend(o), "status": order_status(o),
                                             "statusTimestamp": o.status_time}}

    def historical_orders(self, body: dict[str, Any]) -> Any:
        account = self._account(body)
        if account is None:
            return []
        return [{"order": W.order_frontend(o), "status": order_status(o), "statusTimestamp": o.status_time}
                for o in self.sim.ledger.find_orders(account.id, limit=2000)]

    def _fills(self, body: dict[str, Any], rows: list[Any]) -> list[dict[str, Any]]:
        out = W.fills_json(self.sim, rows)
        aggregate = body.get("aggregateByTime")
        if aggregate is not None and not isinstance(aggregate, bool):
            raise _bad()
        return W.aggregate_fills(out) if aggregate else out

    def user_fills(self, body: dict[str, Any]) -> Any:
        account = self._account(body)
        rows = [] if account is None else list(reversed(self.sim.ledger.fills(account.id, limit=2000)))
        return self._fills(body, rows)

    def user_fills_by_time(self, body: dict[str, Any]) -> Any:
        account = self._account(body)
        start = _field(body, "startTime", int)
        end = _field(body, "endTime", int, optional=True)
        rows = [] if account is None else self.sim.ledger.fills(account.id, start=start, end=end, limit=10_000)[:2000]
        return self._fills(body, rows)

    def user_funding(self, body: dict[str, Any]) -> Any:
        account = self._account(body)
        start = _field(body, "startTime", int)
        end = _field(body, "endTime", int, optional=True)
        if account is None:
            return []
        out = []
        for p in self.sim.ledger.funding_payments(account.id, start, end, limit=500):
            delta = {"type": "funding", "coin": p.symbol, "usdc": W.num(p.amount, 6), "szi": W.num(p.size),
                     "fundingRate": W.num(p.rate), "nSamples": None}
            out.append({"time": p.time, "hash": W.funding_hash(account.address, p), "delta": delta})
        return out

    def active_asset_data(self, body: dict[str, Any]) -> Any:
        user = _user(body)
        coin = _field(body, "coin", str)
        if coin not in self.sim.markets:
            return None
        account = self.sim.ledger.account_by_address(user)
        return W.active_asset_data(self.sim, None if account is None else account.id, user, self.sim.markets[coin])

    def user_rate_limit(self, body: dict[str, Any]) -> Any:
        account = self._account(body)
        if account is None:
            return {"cumVlm": "0.0", "nRequestsUsed": 0, "nRequestsCap": self.auth.request_base}
        return self.auth.rate_limit(account.id)

    def extra_agents(self, body: dict[str, Any]) -> Any:
        account = self._account(body)
        if account is None:
            return []
        return [{"name": a.name, "address": a.address, "validUntil": a.valid_until}
                for a in self.store.agents_of(account.id) if a.name and a.valid_until > self.now()]

    def user_fees(self, body: dict[str, Any]) -> Any:
        account = self._account(body)
        since = self.now() - 15 * 86_400_000
        mine = [] if account is None else self.sim.ledger.fills(account.id, start=since, limit=1_000_000)
        everyone = []
        for (account_id,) in self.sim.ledger.query_all("SELECT DISTINCT account_id FROM fills WHERE time >= ?", (since,)):
            everyone.extend(self.sim.ledger.fills(account_id, start=since, limit=1_000_000))
        return W.user_fees(mine, everyone, self.now())

    def spot_state(self, body: dict[str, Any]) -> Any:
        _user(body)
        return {"balances": []}

    def user_abstraction(self, body: dict[str, Any]) -> Any:
        _user(body)
        return "default"

    def user_role(self, body: dict[str, Any]) -> Any:
        user = _user(body)
        if self.sim.ledger.account_by_address(user) is not None:
            return {"role": "user"}
        agent = self.store.agent(user)
        if agent is not None:
            return {"role": "agent", "data": {"user": self.sim.ledger.account(agent.account_id).address}}
        return {"role": "missing"}

    def max_builder_fee(self, body: dict[str, Any]) -> Any:
        _user(body)
        builder = _field(body, "builder", str)
        if _ADDRESS.fullmatch(builder) is None:
            raise _bad()
        return 0  # builder fee approvals are not modelled: none is ever approved
