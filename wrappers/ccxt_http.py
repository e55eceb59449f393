"""The HTTP edge of the ccxt adapter: every request ccxt sends goes through the wrapper that
``install_fetch`` puts in place of the exchange's ``fetch``.

* each request waits for a token of our limiter's ``rest`` bucket; a request sent for an
  order waits at most ``QUEUE_WAIT`` (past that it is refused locally, nothing sent);
* ccxt's attribution headers are removed (``strip``) unless builder fees are on;
* the requests that went out on behalf of an order are listed in ``SENT``, which tells a
  local refusal from a request that may have reached the venue.
"""
from __future__ import annotations

import contextvars
from collections.abc import Iterable
from typing import Any

from mpdex.ratelimit import TokenBucket
from mpdex.redact import safe_url

__all__ = ["QUEUE_WAIT", "SENT", "install_fetch"]

#: seconds an order's request may wait for its rate-limit slot (None: reads wait as long as needed)
QUEUE_WAIT: contextvars.ContextVar[float | None] = contextvars.ContextVar("ccxt_queue_wait", default=None)
#: HTTP requests that went out on behalf of the current order (tells a local refusal from a sent one)
SENT: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("ccxt_sent", default=None)


def install_fetch(exchange: Any, bucket: TokenBucket, *, strip: Iterable[str] = ()) -> None:
    """Replace ``exchange.fetch`` (ccxt's one HTTP call) by the paced, filtered one."""
    original = exchange.fetch
    stripped = {h.lower() for h in strip}

    async def fetch(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        await bucket.acquire(max_wait=QUEUE_WAIT.get())
        if stripped and headers:
            headers = {k: v for k, v in headers.items() if k.lower() not in stripped}
        sent = SENT.get()
        if sent is not None:
            sent.append(f"{method} {safe_url(url)}")
        return await original(url, method, headers, body)

    exchange.fetch = fetch
