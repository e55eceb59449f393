"""``VestRestClient``: one method per Vest v2 REST endpoint, decoded JSON out, typed errors.

Owns its own ``HttpTransport`` (one keep-alive session), so a socket client can hold one
independently of ``VestExchange``. Knows the wire (paths, headers, query names) and nothing
about the contract's shapes (that is ``vest_parsers``) or signing (``vest_auth``).
"""
from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

from mpdex.errors import ConfigError, ExchangeError
from mpdex.ratelimit import shared_limiter
from mpdex.transport import HttpTransport, RetryPolicy, SignedPost
from mpdex.transport import Sleep as _Sleep

from . import vest_errors
from .vest_keys import NETWORKS, VestKey

__all__ = ["VestRestClient", "REST_URLS", "DEFAULT_RATE_LIMITS", "DEFAULT_RECV_WINDOW", "ORDER_FILTERS"]

log = logging.getLogger("mpdex.vest.rest")

REST_URLS = {
    "prod": "https://server-prod.hz.vestmarkets.com/v2",
    "dev": "https://server-dev.hz.vestmarkets.com/v2",
}

#: group -> (requests per second, burst). Vest publishes no limits; these follow the
#: clients that ran live (5–10 req/s per endpoint).
DEFAULT_RATE_LIMITS: dict[str, tuple[float, float]] = {
    "public": (10.0, 20.0),
    "private": (5.0, 10.0),
    "order": (5.0, 10.0),
}

DEFAULT_RECV_WINDOW = 5000
#: the query names ``GET /orders`` accepts (Vest spelling)
ORDER_FILTERS = ("id", "nonce", "symbol", "orderType", "status", "startTime", "endTime", "limit")
_USER_AGENT = "mpdex-vest/0.1 (+aiohttp)"


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _csv(value: Any) -> Any:
    if isinstance(value, (list, tuple, set, frozenset)):
        return ",".join(str(v) for v in value)
    return value


def _query(**params: Any) -> dict[str, str]:
    out = {}
    for k, v in params.items():
        if v is None:
            continue
        v = _csv(v)
        out[k] = ("true" if v else "false") if isinstance(v, bool) else str(v)
    return out


class VestRestClient:
    """Vest v2 REST. ``key`` may be ``None`` for public calls and ``/register``.

    Options: ``network`` / ``rest_url`` / ``account_group`` / ``proxy`` override the key's
    values; ``timeout`` (s, per read), ``order_timeout`` (s, per signed-POST attempt),
    ``rate_limits`` ({group: (rate, burst)} merged over the defaults), ``retry`` (a
    ``RetryPolicy``), and injectable ``clock_ms``, ``monotonic``, ``sleep``, ``rng``.
    """

    def __init__(
        self,
        key: VestKey | None = None,
        *,
        network: str | None = None,
        rest_url: str | None = None,
        account_group: int | None = None,
        proxy: str | None = None,
        timeout: float = 10.0,
        order_timeout: float = 2.0,
        rate_limits: Mapping[str, tuple[float, float]] | None = None,
        retry: RetryPolicy | None = None,
        clock_ms: Callable[[], int] = _now_ms,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: _Sleep = asyncio.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self._key = key
        net = (network or (key.network if key else None) or "prod").lower()
        if net not in NETWORKS:
            raise ConfigError(f"network must be one of {', '.join(NETWORKS)}")
        self.network = net
        url = rest_url or (key.rest_url if key else None) or REST_URLS[net]
        if not url.startswith(("http://", "https://")):
            raise ConfigError("rest_url must be an http(s) URL")
        group = account_group if account_group is not None else (key.account_group if key else 0)
        if isinstance(group, bool) or not isinstance(group, int) or group < 0:
            raise ConfigError("account_group must be a non-negative integer")
        self.account_group = group
        if not timeout > 0 or not order_timeout > 0:
            raise ConfigError("timeout and order_timeout must be positive")
        self.order_timeout = order_timeout
        self._clock_ms = clock_ms
        self._monotonic = monotonic
        account = key.primary_address.lower() if key else None
        self.transport = HttpTransport(
            url,
            decode_error=vest_errors.decode_error,
            limiter=shared_limiter(("vest", url.rstrip("/"), account), DEFAULT_RATE_LIMITS, rate_limits,
                                   clock=monotonic, sleep=sleep),
            headers={"xrestservermm": f"restserver{group}", "User-Agent": _USER_AGENT, "Accept": "application/json"},
            proxy=proxy if proxy is not None else (key.proxy if key else None),
            timeout=timeout,
            policy=retry or RetryPolicy(),
            clock=monotonic,
            sleep=sleep,
            rng=rng,
            name="vest",
        )

    def __repr__(self) -> str:
        return f"VestRestClient(base_url={self.base_url!r}, account_group={self.account_group})"

    @property
    def base_url(self) -> str:
        return self.transport.base_url

    # -- plumbing --------------------------------------------------------------------

    def _auth(self) -> dict[str, str]:
        if self._key is None or not self._key.api_key:
            raise ConfigError("this Vest call needs an api_key (register first)")
        return {"X-API-KEY": self._key.api_key}

    async def _public(self, path: str, **params: Any) -> Any:
        return await self.transport.request("GET", path, params=_query(**params), group="public")

    async def _private_get(self, path: str, **params: Any) -> Any:
        headers = self._auth()
        return await self.transport.request(
            "GET", path, params=_query(**params, time=self._clock_ms()), headers=headers, group="private"
        )

    async def _private_call(self, method: str, path: str, body: Any = None, *, safe: bool) -> Any:
        headers = self._auth()
        data = orjson.dumps(body) if body is not None else None
        return await self.transport.request(method, path, data=data, headers=headers, group="private", safe=safe)

    def signed_deadline(self, body: Mapping[str, Any], margin_ms: int | None = None) -> float:
        """Monotonic second until which resending ``body`` can still be accepted:
        ``order.time + recvWindow`` minus a safety margin (10 % of the window)."""
        order = body["order"]
        window = int(body.get("recvWindow", DEFAULT_RECV_WINDOW))
        margin = window // 10 if margin_ms is None else margin_ms
        left_ms = int(order["time"]) + window - margin - self._clock_ms()
        return self._monotonic() + max(0, left_ms) / 1000.0

    async def _signed(self, path: str, body: Mapping[str, Any] | Callable[[], Mapping[str, Any]],
                      max_queue_wait: float | None = None) -> SignedPost:
        """POST a signed body. Given a function, it is called to build and sign the body
        when the rate-limit token is in hand; a body whose token is more than
        ``max_queue_wait`` seconds away is refused locally (``RateLimitExceeded``)."""
        headers = self._auth()

        def signed() -> tuple[bytes, float]:
            built = body() if callable(body) else body
            return orjson.dumps(built), self.signed_deadline(built)

        return await self.transport.post_signed(
            path,
            signed,
            is_duplicate=vest_errors.is_duplicate,
            headers=headers,
            group="order",
            attempt_timeout=self.order_timeout,
            max_queue_wait=max_queue_wait,
        )

    async def close(self) -> None:
        """Close the HTTP session. Idempotent."""
        await self.transport.close()

    # -- public ----------------------------------------------------------------------

    async def get_exchange_info(self, symbols: Sequence[str] | None = None) -> Any:
        return await self._public("/exchangeInfo", symbols=symbols)

    async def get_ticker_latest(self, symbols: Sequence[str] | None = None) -> Any:
        return await self._public("/ticker/latest", symbols=symbols)

    async def get_ticker_24h(self, symbols: Sequence[str] | None = None) -> Any:
        return await self._public("/ticker/24hr", symbols=symbols)

    async def get_funding_history(
        self, symbol: str, *, start_time: int | None = None, end_time: int | None = None,
        limit: int | None = None, interval: str | None = None,
    ) -> Any:
        return await self._public("/funding/history", symbol=symbol, startTime=start_time, endTime=end_time,
                                  limit=limit, interval=interval)

    async def get_klines(
        self, symbol: str, *, interval: str | None = None, start_time: int | None = None,
        end_time: int | None = None, limit: int | None = None,
    ) -> Any:
        return await self._public("/klines", symbol=symbol, interval=interval, startTime=start_time,
                                  endTime=end_time, limit=limit)

    async def get_depth(self, symbol: str, *, limit: int | None = None) -> Any:
        return await self._public("/depth", symbol=symbol, limit=limit)

    async def register(self, body: Mapping[str, Any]) -> Any:
        """``POST /register`` (public; the body carries the primary key's signature). Never
        retried: a retry after a lost answer could register a second API key."""
        return await self.transport.request("POST", "/register", data=orjson.dumps(body), group="public", safe=False)

    # -- private reads ----------------------------------------------------------------

    async def get_account(self) -> Any:
        return await self._private_get("/account")

    async def get_account_nonce(self) -> Any:
        return await self._private_get("/account/nonce")

    async def get_orders(self, **filters: Any) -> Any:
        """``GET /orders`` with Vest's filter names (lists become CSV): ``id``, ``nonce``,
        ``symbol``, ``orderType``, ``status``, ``startTime``, ``endTime``, ``limit``."""
        unknown = sorted(set(filters) - set(ORDER_FILTERS))
        if unknown:
            raise ConfigError(f"unknown GET /orders filter(s): {', '.join(unknown)}; known: {', '.join(ORDER_FILTERS)}")
        return await self._private_get("/orders", **filters)

    # -- private writes ---------------------------------------------------------------

    async def set_leverage(self, symbol: str, value: int) -> Any:
        """``POST /account/leverage`` (unsigned; setting a value twice is harmless)."""
        return await self._private_call(
            "POST", "/account/leverage", {"time": self._clock_ms(), "symbol": symbol, "value": int(value)}, safe=True
        )

    async def post_order(self, body: Mapping[str, Any] | Callable[[], Mapping[str, Any]], *,
                         max_queue_wait: float | None = None) -> SignedPost:
        """``POST /orders``: a signed body, or a function signing it at send time; see
        ``HttpTransport.post_signed``."""
        return await self._signed("/orders", body, max_queue_wait)

    async def post_cancel(self, body: Mapping[str, Any] | Callable[[], Mapping[str, Any]], *,
                          max_queue_wait: float | None = None) -> SignedPost:
        """``POST /orders/cancel``: a signed body, or a function signing it at send time."""
        return await self._signed("/orders/cancel", body, max_queue_wait)

    async def create_listen_key(self) -> str:
        """``POST /account/listenKey`` (re-POST returns the same key and extends it)."""
        return self._listen_key(await self._private_call("POST", "/account/listenKey", safe=True))

    async def keepalive_listen_key(self) -> str:
        """``PUT /account/listenKey``; an expired key raises ``AuthenticationError`` code 1125."""
        return self._listen_key(await self._private_call("PUT", "/account/listenKey", safe=True))

    async def delete_listen_key(self) -> None:
        await self._private_call("DELETE", "/account/listenKey", safe=True)

    @staticmethod
    def _listen_key(body: Any) -> str:
        key = body.get("listenKey") if isinstance(body, dict) else None
        if not isinstance(key, str) or not key:
            raise ExchangeError("Vest answered without a listenKey", raw=body)
        return key
