"""The Vest v2 REST routes of the paper server (under ``/v2``) and the socket endpoint
``/ws-api``: headers, query parsing and which error style each refusal uses.

Private routes need ``X-API-KEY`` (1002 otherwise); ``xrestservermm`` may be missing (the API
key identifies the account, as a live-tested connector that never sends it shows), but when
present it must be ``restserver{accGroup}`` of the key's own account (1146 otherwise); the
``group_header_missing`` counter shows how many private calls came without it. Public
routes accept a missing header but reject a malformed one or a group that does not exist
(1146). ``time`` on private GETs is only checked to be an integer. Unknown paths answer
FastAPI-style ``404 {"detail": "Not Found"}``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from mpdex.paper.harness import json_response
from mpdex.paper.ledger import Account
from mpdex.paper.prices import INTERVALS_MS

from . import errors as E
from . import wire
from .errors import OK200, ApiError
from .markets import exchange_info_entry
from .store import ApiKey

if TYPE_CHECKING:
    from .venue import PaperVest

__all__ = ["add_routes"]

_INT64_MAX = 2**63 - 1  # query integers are compared with SQLite integers
_ORDER_STATUSES = ("NEW", "PARTIALLY_FILLED", "FILLED", "CANCELLED", "REJECTED")
_ORDER_TYPES = ("MARKET", "LIMIT", "STOP_LOSS", "TAKE_PROFIT", "LIQUIDATION")


def _int_param(request: web.Request, name: str, default: int | None = None, lo: int = 0, hi: int | None = None) -> int | None:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(E.INVALID_PARAMETER, f"{name} must be an integer") from None
    top = hi if hi is not None else _INT64_MAX
    if value < lo or value > top:
        raise ApiError(E.INVALID_PARAMETER, f"{name} must be in {lo}..{top}")
    return value


class _Routes:
    def __init__(self, venue: PaperVest) -> None:
        self.venue = venue
        self.sim = venue.sim
        self.auth = venue.auth
        self.trading = venue.trading
        self.listen_keys = venue.listen_keys

    # --- plumbing -------------------------------------------------------------------

    def _public_group(self, request: web.Request) -> None:
        self.auth.check_public_group(request.headers.get("xrestservermm"))

    def _private(self, request: web.Request) -> tuple[ApiKey, Account]:
        key, account = self.auth.authenticate(request.headers.get("X-API-KEY"))
        group = request.headers.get("xrestservermm")
        if group is None:
            self.venue.stats["group_header_missing"] += 1
        self.auth.check_group(group, account)
        if request.method == "GET":
            _int_param(request, "time")
        return key, account

    async def _body(self, request: web.Request) -> Any:
        raw = await request.read()
        try:
            return orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            raise ApiError(E.INVALID_PARAMETER, "body is not valid JSON") from None

    def _symbol(self, request: web.Request) -> str:
        symbol = request.query.get("symbol")
        if symbol is None:
            raise ApiError(E.INVALID_PARAMETER, "symbol is required")
        if symbol not in self.sim.markets:
            raise ApiError(E.BAD_SYMBOL, "unknown symbol", OK200)
        return symbol

    def _symbols(self, request: web.Request) -> list[str]:
        raw = request.query.get("symbols")
        if not raw:
            return list(self.sim.markets)
        symbols = [s.strip() for s in raw.split(",") if s.strip()]
        if any(s not in self.sim.markets for s in symbols):
            raise ApiError(E.BAD_SYMBOL, "unknown symbol", OK200)
        return symbols

    def _interval(self, request: web.Request) -> int:
        interval = request.query.get("interval", "1m")
        if interval not in INTERVALS_MS:
            raise ApiError(E.INVALID_PARAMETER, f"interval must be one of {', '.join(INTERVALS_MS)}")
        return INTERVALS_MS[interval]

    # --- public ---------------------------------------------------------------------

    async def register(self, request: web.Request) -> web.Response:
        self._public_group(request)
        body = await self._body(request)
        return json_response(self.auth.register(body, fund=not self.venue.is_internal(request)))

    async def exchange_info(self, request: web.Request) -> web.Response:
        self._public_group(request)
        symbols = self._symbols(request)
        return json_response({
            "symbols": [exchange_info_entry(self.sim.markets[s]) for s in symbols],
            "exchange": {"lp": "0.000000", "insurance": "250000.000000", "collateralDecimals": 6},
        })

    async def ticker_latest(self, request: web.Request) -> web.Response:
        self._public_group(request)
        return json_response({"tickers": wire.ticker_latest(self.sim, self._symbols(request))})

    async def ticker_24hr(self, request: web.Request) -> web.Response:
        self._public_group(request)
        return json_response({"tickers": wire.ticker_24h(self.sim, self._symbols(request))})

    async def depth(self, request: web.Request) -> web.Response:
        self._public_group(request)
        symbol = self._symbol(request)
        limit = _int_param(request, "limit", 20, 1, 100)
        assert limit is not None
        return json_response(wire.depth_json(self.sim, symbol, limit))

    async def trades(self, request: web.Request) -> web.Response:
        self._public_group(request)
        symbol = self._symbol(request)
        start = _int_param(request, "startTime")
        end = _int_param(request, "endTime")
        limit = _int_param(request, "limit", 1000, 1, 1000) or 1000
        rows = [
            t for t in self.sim.prices.states[symbol].trades
            if (start is None or t.time >= start) and (end is None or t.time <= end)
        ][-limit:]
        m = self.sim.markets[symbol]
        return json_response([wire.trade_json(t, m) for t in rows])

    async def klines(self, request: web.Request) -> web.Response:
        self._public_group(request)
        symbol = self._symbol(request)
        interval_ms = self._interval(request)
        start = _int_param(request, "startTime")
        end = _int_param(request, "endTime")
        limit = _int_param(request, "limit", 500, 1, 1000) or 500
        self.sim.prices.current_bar(symbol, self.sim.clock_ms())
        bars = [
            b for b in self.sim.prices.bars(symbol, interval_ms)
            if (start is None or b.open_time >= start) and (end is None or b.open_time <= end)
        ][-limit:]
        m = self.sim.markets[symbol]
        return json_response([wire.kline_json(b, m, interval_ms) for b in bars])

    async def funding_history(self, request: web.Request) -> web.Response:
        self._public_group(request)
        symbol = self._symbol(request)
        if "interval" in request.query:
            self._interval(request)
        rows = self.sim.ledger.funding_history(
            symbol, _int_param(request, "startTime"), _int_param(request, "endTime"),
            _int_param(request, "limit", 1000, 1, 1000) or 1000,
        )
        return json_response([{"symbol": symbol, "time": t, "oneHrFundingRate": f"{r:f}"} for t, r in rows])

    # --- private --------------------------------------------------------------------

    async def account(self, request: web.Request) -> web.Response:
        _, account = self._private(request)
        return json_response(wire.account_json(self.sim, account))

    async def account_nonce(self, request: web.Request) -> web.Response:
        _, account = self._private(request)
        return json_response({"lastNonce": self.venue.store.last_nonce(account.id)})

    async def leverage(self, request: web.Request) -> web.Response:
        _, account = self._private(request)
        return json_response(self.trading.set_leverage(account, await self._body(request)))

    async def post_order(self, request: web.Request) -> web.StreamResponse:
        key, account = self._private(request)
        body = await self._body(request)
        try:
            order = self.trading.place_order(key, account, body)
        except ApiError:
            self.venue.stats["orders_rejected"] += 1
            raise
        self.venue.lose_response(request, f"order {order.id[:10]}")
        return json_response({"id": order.id})

    async def get_orders(self, request: web.Request) -> web.Response:
        _, account = self._private(request)
        q = request.query
        symbol = q.get("symbol")
        if symbol is not None and symbol not in self.sim.markets:
            raise ApiError(E.BAD_SYMBOL, f"unknown symbol {symbol}")
        status = q.get("status")
        if status is not None and status not in _ORDER_STATUSES:
            raise ApiError(E.INVALID_PARAMETER, f"status must be one of {', '.join(_ORDER_STATUSES)}")
        order_type = q.get("orderType")
        if order_type is not None and order_type not in _ORDER_TYPES:
            raise ApiError(E.INVALID_ORDER_TYPE, f"orderType must be one of {', '.join(_ORDER_TYPES)}")
        ids = [i.strip() for i in q["id"].split(",") if i.strip()] if q.get("id") else None
        nonce = _int_param(request, "nonce")
        orders = self.sim.ledger.find_orders(
            account.id,
            ids=ids,
            client_id=None if nonce is None else str(nonce),
            symbol=symbol,
            order_type=order_type,
            status=status,
            start_time=_int_param(request, "startTime"),
            end_time=_int_param(request, "endTime"),
            limit=_int_param(request, "limit", 1000, 1, 1000) or 1000,
        )
        return json_response([wire.order_json(o, self.sim.markets[o.symbol]) for o in orders])

    async def cancel_order(self, request: web.Request) -> web.Response:
        key, account = self._private(request)
        return json_response({"id": self.trading.cancel_order(key, account, await self._body(request))})

    async def listen_key_post(self, request: web.Request) -> web.Response:
        _, account = self._private(request)
        return json_response({"listenKey": self.listen_keys.create(account)})

    async def listen_key_put(self, request: web.Request) -> web.Response:
        _, account = self._private(request)
        return json_response({"listenKey": self.listen_keys.keepalive(account)})

    async def listen_key_delete(self, request: web.Request) -> web.Response:
        _, account = self._private(request)
        self.listen_keys.delete(account)
        return json_response({})


def add_routes(app: web.Application, venue: PaperVest) -> None:
    r = _Routes(venue)
    app.router.add_post("/v2/register", r.register)
    app.router.add_get("/v2/exchangeInfo", r.exchange_info)
    app.router.add_get("/v2/ticker/latest", r.ticker_latest)
    app.router.add_get("/v2/ticker/24hr", r.ticker_24hr)
    app.router.add_get("/v2/depth", r.depth)
    app.router.add_get("/v2/trades", r.trades)
    app.router.add_get("/v2/klines", r.klines)
    app.router.add_get("/v2/funding/history", r.funding_history)
    app.router.add_get("/v2/account", r.account)
    app.router.add_get("/v2/account/nonce", r.account_nonce)
    app.router.add_post("/v2/account/leverage", r.leverage)
    app.router.add_post("/v2/orders", r.post_order)
    app.router.add_get("/v2/orders", r.get_orders)
    app.router.add_post("/v2/orders/cancel", r.cancel_order)
    app.router.add_post("/v2/account/listenKey", r.listen_key_post)
    app.router.add_put("/v2/account/listenKey", r.listen_key_put)
    app.router.add_delete("/v2/account/listenKey", r.listen_key_delete)
    app.router.add_get("/ws-api", venue.hub.handle)
