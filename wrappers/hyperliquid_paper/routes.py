"""The HTTP side of the Hyperliquid paper server: ``POST /info``, ``POST /exchange`` and the
socket endpoint ``/ws``; body decoding with the server's plain-text refusals.

A body must come with ``Content-Type: application/json`` (or ``application/*+json``), else
HTTP 415 ``Expected request with `Content-Type: application/json` ``; it must hold a JSON
value, else 400 ``Failed to parse the request body as JSON`` — the first value counts,
trailing bytes after it are ignored, as on the real server (hyperliquid-api.md §1.2).
An order action that booked at least one order is where a lost-response fault drops the
connection (the orders stay committed).
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from mpdex.paper.harness import json_response

from .errors import BAD_CONTENT_TYPE, BAD_JSON, HttpError

if TYPE_CHECKING:
    from .venue import PaperHyperliquid

__all__ = ["add_routes", "decode_body"]


def _json_type(content_type: str) -> bool:
    mime = content_type.split(";", 1)[0].strip().lower()
    return mime == "application/json" or (mime.startswith("application/") and mime.endswith("+json"))


def decode_body(content_type: str, raw: bytes) -> Any:
    """The request's JSON value; ``HttpError`` 415 / 400 as the server answers."""
    if not _json_type(content_type):
        raise HttpError(415, BAD_CONTENT_TYPE)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    try:  # trailing bytes after the first value, or integers orjson will not hold
        value, _ = json.JSONDecoder().raw_decode(raw.decode("utf-8").lstrip())
    except (UnicodeDecodeError, ValueError):
        raise HttpError(400, BAD_JSON) from None
    return value


class _Routes:
    def __init__(self, venue: PaperHyperliquid) -> None:
        self.venue = venue

    async def _body(self, request: web.Request) -> Any:
        return decode_body(request.headers.get("Content-Type", ""), await request.read())

    async def info(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        return json_response(self.venue.info_api.handle(body))

    async def exchange(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        answer, booked = self.venue.exchange_api.handle(body)
        if booked:
            self.venue.lose_response(request, f"order action ({booked} orders)")
        return json_response(answer)


def add_routes(app: web.Application, venue: PaperHyperliquid) -> None:
    r = _Routes(venue)
    app.router.add_post("/info", r.info)
    app.router.add_post("/exchange", r.exchange)
    app.router.add_get("/ws", venue.hub.handle)
