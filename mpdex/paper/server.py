"""The paper server's aiohttp application: Vest v2 REST routes under ``/v2``, the
WebSocket endpoint ``/ws-api``, headers, query parsing, error bodies and REST faults.

Headers: private routes need ``X-API-KEY`` (1002 otherwise) and
``xrestservermm: restserver{accGroup}`` naming the key's own account group (1146
otherwise, also when missing); public routes accept a missing header but reject a
malformed one or a group that does not exist (1146). Unknown paths answer FastAPI-style
``404 {"detail": "Not Found"}``. Error-body styles are described in ``wire.py``.
"""
from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from . import wire
from .exchange import ACCOUNT_GROUPS, Venue, kline_json, trade_json
from .faults import Faults
from .ledger import Account, ApiKey
from .prices import INTERVALS_MS
from .wire import DETAIL, OK200, ApiError
from .ws import Hub

__all__ = ["build_app", "INTERNAL_HEADER"]

log = logging.getLogger("mpdex.paper.server")

INTERNAL_HEADER = "X-Paper-Internal"
_GROUP = re.compile(r"^restserver([0-9]+)$")
_ORDER_STATUSES = ("NEW", "PARTIALLY_FILLED", "FILLED", "CANCELLED", "REJECTED")
_ORDER_TYPES = ("MARKET", "LIMIT", "STOP_LOSS", "TAKE_PROFIT", "LIQUIDATION")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json", headers=headers)


def _retry_after(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


def _int_param(request: web.Request, name: str, default: int | None = None, lo: int = 0, hi: int | None = None) -> int | None:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(wire.INVALID_PARAMETER, f"{name} must be an integer") from None
    if value < lo or (hi is not None and value > hi):
        raise ApiError(wire.INVALID_PARAMETER, f"{name} must be in {lo}..{hi}" if hi is not None else f"{name} must be >= {lo}")
    return value


class _Routes:
    def __init__(self, venue: Venue, hub: Hub, faults: Faults, stats: dict[str, int], internal_token: str) -> None:
        self.venue = venue
        self.hub = hub
        self.faults = faults
        self.stats = stats
        self.internal_token = internal_token

    # --- plumbing -------------------------------------------------------------------

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == "/ws-api":
            return await handler(request)
        self.stats["rest_requests"] = self.stats.get("rest_requests", 0) + 1
        if not self._internal(request):
            pause = self.faults.take_delay()
            if pause:
                await asyncio.sleep(pause)
            fault = self.faults.take_rest_fault()
            if fault is not None:
                kind, value = fault
                if kind == "rate":
                    return _json({"code": 429, "msg": "Rate limited"}, 429, {"Retry-After": _retry_after(value)})
                return _json({"code": int(value), "msg": "Service unavailable"}, int(value))
        try:
            return await handler(request)
        except ApiError as exc:
            self.stats["rest_errors"] = self.stats.get("rest_errors", 0) + 1
            return _json(exc.body(), exc.status)
        except web.HTTPException as exc:
            if exc.status in (404, 405):
                return _json({"detail": "Not Found" if exc.status == 404 else "Method Not Allowed"}, exc.status)
            raise
        except Exception:
            log.exception("paper server: unhandled error on %s %s", request.method, request.path)
            return _json({"code": 1011, "msg": "Internal error"}, 500)

    def _internal(self, request: web.Request) -> bool:
        return request.headers.get(INTERNAL_HEADER) == self.internal_token

    def _public_group(self, request: web.Request) -> None:
        header = request.headers.get("xrestservermm")
        if header is None:
            return
        match = _GROUP.match(header)
        if not match or int(match.group(1)) >= ACCOUNT_GROUPS:
            raise ApiError(wire.INVALID_ACCOUNT_GROUP, f"Invalid account group header {header!r}", DETAIL, status=403)

    def _private(self, request: web.Request) -> tuple[ApiKey, Account]:
        key, account = self.venue.authenticate(request.headers.get("X-API-KEY"))
        self.venue.check_group(request.headers.get("xrestservermm"), account)
        if request.method == "GET":
            _int_param(request, "time")
        return key, account

    async def _body(self, request: web.Request) -> Any:
        raw = await request.read()
        try:
            return orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            raise ApiError(wire.INVALID_PARAMETER, "body is not valid JSON") from None

    def _symbol(self, request: web.Request, *, required: bool = True) -> str | None:
        symbol = request.query.get("symbol")
        if symbol is None:
            if required:
                raise ApiError(wire.INVALID_PARAMETER, "symbol is required")
            return None
        if symbol not in self.venue.markets:
            raise ApiError(wire.BAD_SYMBOL, "unknown symbol", OK200)
        return symbol

    def _symbols(self, request: web.Request) -> list[str]:
        raw = request.query.get("symbols")
        if not raw:
            return list(self.venue.markets)
        symbols = [s.strip() for s in raw.split(",") if s.strip()]
        if any(s not in self.venue.markets for s in symbols):
            raise ApiError(wire.BAD_SYMBOL, "unknown symbol", OK200)
        return symbols

    # --- public ---------------------------------------------------------------------

    async def register(self, request: web.Request) -> web.Response:
        self._public_group(request)
        return _json(self.venue.register(await self._body(request)))

    async def exchange_info(self, request: web.Request) -> web.Response:
        self._public_group(request)
        symbols = self._symbols(request)
        return _json({
            "symbols": [self.venue.markets[s].info() for s in symbols],
            "exchange": {"lp": "0.000000", "insurance": "250000.000000", "collateralDecimals": 6},
        })

    async def ticker_latest(self, request: web.Request) -> web.Response:
        self._public_group(request)
        return _json({"tickers": self.venue.ticker_latest(self._symbols(request))})

    async def ticker_24hr(self, request: web.Request) -> web.Response:
        self._public_group(request)
        return _json({"tickers": self.venue.ticker_24h(self._symbols(request))})

    async def depth(self, request: web.Request) -> web.Response:
        self._public_group(request)
        symbol = self._symbol(request)
        limit = _int_param(request, "limit", 20, 1, 100)
        assert symbol is not None and limit is not None
        return _json(self.venue.depth_json(symbol, limit))

    async def trades(self, request: web.Request) -> web.Response:
        self._public_group(request)
        symbol = self._symbol(request)
        assert symbol is not None
        start = _int_param(request, "startTime")
        end = _int_param(request, "endTime")
        limit = _int_param(request, "limit", 1000, 1, 1000) or 1000
        rows = [
            t for t in self.venue.prices.states[symbol].trades
            if (start is None or t.time >= start) and (end is None or t.time <= end)
        ][-limit:]
        m = self.venue.markets[symbol]
        return _json([trade_json(t, m) for t in rows])

    def _interval(self, request: web.Request) -> int:
        interval = request.query.get("interval", "1m")
        if interval not in INTERVALS_MS:
            raise ApiError(wire.INVALID_PARAMETER, f"interval must be one of {', '.join(INTERVALS_MS)}")
        return INTERVALS_MS[interval]

    async def klines(self, request: web.Request) -> web.Response:
        self._public_group(request)
        symbol = self._symbol(request)
        assert symbol is not None
        interval_ms = self._interval(request)
        start = _int_param(request, "startTime")
        end = _int_param(request, "endTime")
        limit = _int_param(request, "limit", 500, 1, 1000) or 500
        self.venue.prices.current_bar(symbol, self.venue.clock_ms())
        bars = [
            b for b in self.venue.prices.bars(symbol, interval_ms)
            if (start is None or b.open_time >= start) and (end is None or b.open_time <= end)
        ][-limit:]
        m = self.venue.markets[symbol]
        return _json([kline_json(b, m, interval_ms) for b in bars])

    async def funding_history(self, request: web.Request) -> web.Response:
        self._public_group(request)
        symbol = self._symbol(request)
        assert symbol is not None
        if "interval" in request.query:
            self._interval(request)
        rows = self.venue.ledger.funding_history(
            symbol, _int_param(request, "startTime"), _int_param(request, "endTime"),
            _int_param(request, "limit", 1000, 1, 1000) or 1000,
        )
        return _json([{"symbol": symbol, "time": t, "oneHrFundingRate": f"{r:f}"} for t, r in rows])

    # --- private --------------------------------------------------------------------

    async def account(self, request: web.Request) -> web.Response:
        _, account = self._private(request)
        return _json(self.venue.account_json(account))

    async def account_nonce(self, request: web.Request) -> web.Response:
        _, account = self._private(request)
        return _json({"lastNonce": self.venue.last_nonce(account)})

    async def leverage(self, request: web.Request) -> web.Response:
        _, account = self._private(request)
        return _json(self.venue.set_leverage(account, await self._body(request)))

    async def post_order(self, request: web.Request) -> web.StreamResponse:
        key, account = self._private(request)
        body = await self._body(request)
        try:
            order = self.venue.place_order(key, account, body)
        except ApiError:
            self.stats["orders_rejected"] = self.stats.get("orders_rejected", 0) + 1
            raise
        if not self._internal(request) and self.faults.take_lost_order():
            log.info("paper fault: order %s committed, dropping its response", order.id[:10])
            self.stats["order_responses_lost"] = self.stats.get("order_responses_lost", 0) + 1
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError
        return _json({"id": order.id})

    async def get_orders(self, request: web.Request) -> web.Response:
        _, account = self._private(request)
        q = request.query
        symbol = q.get("symbol")
        if symbol is not None and symbol not in self.venue.markets:
            raise ApiError(wire.BAD_SYMBOL, f"unknown symbol {symbol}")
        status = q.get("status")
        if status is not None and status not in _ORDER_STATUSES:
            raise ApiError(wire.INVALID_PARAMETER, f"status must be one of {', '.join(_ORDER_STATUSES)}")
        order_type = q.get("orderType")
        if order_type is not None and order_type not in _ORDER_TYPES:
            raise ApiError(wire.INVALID_ORDER_TYPE, f"orderType must be one of {', '.join(_ORDER_TYPES)}")
        ids = [i.strip() for i in q["id"].split(",") if i.strip()] if q.get("id") else None
        orders = self.venue.ledger.find_orders(
            account.id,
            ids=ids,
            nonce=_int_param(request, "nonce"),
            symbol=symbol,
            order_type=order_type,
            status=status,
            start_time=_int_param(request, "startTime"),
            end_time=_int_param(request, "endTime"),
            limit=_int_param(request, "limit", 1000, 1, 1000) or 1000,
        )
        return _json([wire.order_json(o, self.venue.markets[o.symbol]) for o in orders])

    async def cancel_order(self, request: web.Request) -> web.Response:
        key, account = self._private(request)
        return _json({"id": self.venue.cancel_order(key, account, await self._body(request))})

    async def listen_key_post(self, request: web.Request) -> web.Response:
        _, account = self._private(request)
        return _json({"listenKey": self.venue.create_listen_key(account)})

    async def listen_key_put(self, request: web.Request) -> web.Response:
        _, account = self._private(request)
        return _json({"listenKey": self.venue.keepalive_listen_key(account)})

    async def listen_key_delete(self, request: web.Request) -> web.Response:
        _, account = self._private(request)
        self.venue.delete_listen_key(account)
        return _json({})


def build_app(venue: Venue, hub: Hub, faults: Faults, stats: dict[str, int], internal_token: str) -> web.Application:
    r = _Routes(venue, hub, faults, stats, internal_token)
    app = web.Application(middlewares=[r.middleware], client_max_size=1 << 20)
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
    app.router.add_get("/ws-api", hub.handle)
    return app

