"""A venue-shaped HTTP fake under ccxt: aioresponses intercepts aiohttp below ccxt's own
``fetch``, so ccxt's real request building, signing, error handling and parsing all run.

Routes match on method, path and (optionally) a predicate over the decoded JSON body or
the query; every request is recorded with its exact headers and body bytes.
"""
from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aioresponses import CallbackResult

from test_exchanges.http_mock import mock_http

Responder = Any  # a JSON-able payload, a callable(request) -> payload, or an Exception to raise


@dataclass
class Sent:
    method: str
    url: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: str

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Route:
    method: str
    path: str
    respond: Responder
    when: Callable[[Sent], bool] | None = None
    status: int = 200
    times: int | None = None  # None: forever
    headers: dict[str, str] = field(default_factory=dict)
    hits: int = 0


@dataclass
class FakeVenue:
    routes: list[Route] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)

    def on(self, method: str, path: str, respond: Responder, *, when: Callable[[Sent], bool] | None = None,
           status: int = 200, times: int | None = None, headers: dict[str, str] | None = None) -> Route:
        route = Route(method.upper(), path, respond, when, status, times, dict(headers or {}))
        self.routes.insert(0, route)  # later routes win: a test can shadow a default
        return route

    def on_json(self, method: str, path: str, key: str, value: Any, respond: Responder, **kw: Any) -> Route:
        """A route for JSON bodies whose ``key`` equals ``value`` (Hyperliquid's ``type``)."""
        return self.on(method, path, respond, when=lambda s: isinstance(s.json, dict) and s.json.get(key) == value,
                       **kw)

    def _callback(self, url: Any, **kwargs: Any) -> CallbackResult:
        data = kwargs.get("data")
        body = data.decode() if isinstance(data, bytes) else (data or "")
        parts = urlsplit(str(url))
        sent = Sent(kwargs.get("method", "?"), str(url), parts.path, parse_qs(parts.query),
                    dict(kwargs.get("headers") or {}), body)
        self.sent.append(sent)
        for route in self.routes:
            if route.method != sent.method or route.path != sent.path:
                continue
            if route.when is not None and not route.when(sent):
                continue
            if route.times is not None and route.hits >= route.times:
                continue
            route.hits += 1
            respond = route.respond
            if isinstance(respond, BaseException):
                raise respond
            payload = respond(sent) if callable(respond) else respond
            text = payload if isinstance(payload, str) else json.dumps(payload)
            return CallbackResult(status=route.status, body=text, reason=HTTPStatus(route.status).phrase,
                                  headers={"Content-Type": "application/json", **route.headers})
        raise AssertionError(f"unexpected request {sent.method} {sent.url} body={sent.body[:300]}")

    def bodies(self) -> str:
        """Everything that went out (URLs, headers, bodies) as one text, for 'never sent' checks."""
        return "\n".join(f"{s.method} {s.url} {json.dumps(s.headers)} {s.body}" for s in self.sent)


@contextmanager
def serve(venue: FakeVenue) -> Iterator[FakeVenue]:
    with mock_http() as m:
        for method in ("GET", "POST", "DELETE", "PUT", "PATCH"):
            def callback(url: Any, _method: str = method, **kw: Any) -> CallbackResult:
                return venue._callback(url, method=_method, **kw)
            m.add(re.compile(r"^https?://.*"), method=method, callback=callback, repeat=True)
        yield venue


def timeout() -> BaseException:
    return asyncio.TimeoutError()
