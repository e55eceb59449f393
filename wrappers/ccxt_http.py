"""The HTTP edge of the ccxt adapter: every request ccxt sends goes through the wrapper that
``install_fetch`` puts in place of the exchange's ``fetch``.

* each request waits for a token of our limiter's ``rest`` bucket; a request sent for an
  order waits at most ``QUEUE_WAIT`` (past that it is refused locally, nothing sent);
* ccxt's attribution headers are removed (``strip``) unless builder fees are on;
* the requests that went out on behalf of an order are listed in ``SENT``, which tells a
  local refusal from a request that may have reached the venue;
* a rate-limit answer (HTTP 429 or a venue code ccxt reads as one) pauses the whole bucket
  for the server's ``Retry-After`` or an exponential delay, so concurrent callers back off
  together (``mpdex.ratelimit``);
* a read (a request made inside ``safe_reads()``) is retried as ``mpdex.transport`` retries
  safe requests, with the same ``RetryPolicy`` budgets and delays: after a rate-limit answer,
  and after a transport failure (no answer, or an answer that could not be read) or a 5xx
  that is not a specific refusal.
  A write (order, cancel, leverage) is never retried here: an order's fate is settled by its
  client order id, a cancel reports its error. A 4xx other than 429 is an answer, never
  retried. When the budget is spent the last ccxt error is raised, for the caller to map.
"""
from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import random
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from mpdex.errors import ExchangeError, MpdexError, NetworkError, RateLimitExceeded
from mpdex.ratelimit import Sleep, TokenBucket, parse_retry_after
from mpdex.redact import safe_url
from mpdex.transport import RetryPolicy

from .ccxt_errors import is_ccxt_error, map_ccxt_error

__all__ = ["QUEUE_WAIT", "SENT", "install_fetch", "safe_reads"]

log = logging.getLogger("mpdex.ccxt")

#: seconds an order's request may wait for its rate-limit slot (None: reads wait as long as needed)
QUEUE_WAIT: contextvars.ContextVar[float | None] = contextvars.ContextVar("ccxt_queue_wait", default=None)
#: HTTP requests that went out on behalf of the current order (tells a local refusal from a sent one)
SENT: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("ccxt_sent", default=None)
#: True while the current call only reads (its requests may be retried)
_SAFE: contextvars.ContextVar[bool] = contextvars.ContextVar("ccxt_safe_read", default=False)
#: the status and Retry-After of the answer to the current attempt, filled by ``on_rest_response``
_ANSWER: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("ccxt_answer", default=None)


@contextlib.contextmanager
def safe_reads() -> Iterator[None]:
    """The requests made inside are reads: they may be retried."""
    token = _SAFE.set(True)
    try:
        yield
    finally:
        _SAFE.reset(token)


def _transient(error: MpdexError, status: int | None) -> bool:
    """No answer (or one that could not be read), or a 5xx that is not a specific refusal."""
    if status is None:
        return isinstance(error, NetworkError)
    return status >= 500 and (isinstance(error, NetworkError) or type(error) is ExchangeError)


def install_fetch(exchange: Any, bucket: TokenBucket, *, policy: RetryPolicy, venue: str, strip: Iterable[str] = (),
                  sleep: Sleep = asyncio.sleep, rng: Callable[[], float] = random.random) -> None:
    """Replace ``exchange.fetch`` (ccxt's one HTTP call) by the paced, filtered, retrying one."""
    original = exchange.fetch
    stripped = {h.lower() for h in strip}
    on_rest_response = exchange.on_rest_response

    def record_answer(code: Any, reason: Any, url: Any, method: Any, response_headers: Any, *rest: Any) -> Any:
        answer = _ANSWER.get()
        if answer is not None:
            answer["status"] = code if isinstance(code, int) else None
            headers = response_headers if isinstance(response_headers, dict) else {}
            answer["retry_after"] = next((v for k, v in headers.items() if str(k).lower() == "retry-after"), None)
        return on_rest_response(code, reason, url, method, response_headers, *rest)

    async def fetch(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
        if stripped and headers:
            headers = {k: v for k, v in headers.items() if k.lower() not in stripped}
        failures = refusals = 0
        while True:
            await bucket.acquire(max_wait=QUEUE_WAIT.get())
            sent = SENT.get()
            if sent is not None:
                sent.append(f"{method} {safe_url(url)}")
            answer: dict[str, Any] = {}
            token = _ANSWER.set(answer)
            try:
                return await original(url, method, headers, body)
            except Exception as exc:
                if not is_ccxt_error(exc):
                    raise
                error = map_ccxt_error(exc, venue)
                status = answer.get("status")
                if isinstance(error, RateLimitExceeded):
                    refusals += 1
                    wait = policy.rate_limit_wait(parse_retry_after(answer.get("retry_after")), refusals, rng)
                    if wait is not None:
                        bucket.pause(wait)  # every caller of this account waits, not only this one
                    if wait is None or not _SAFE.get() or refusals >= policy.rate_limit_attempts:
                        raise
                    log.warning("%s %s %s rate limited; the read is retried after %.3fs", venue, method,
                                safe_url(url), wait)
                elif _SAFE.get() and _transient(error, status):
                    failures += 1
                    if failures >= policy.read_attempts:
                        raise
                    delay = policy.backoff(failures, rng)
                    log.warning("%s %s %s failed (%s); the read is retried in %.3fs", venue, method, safe_url(url),
                                type(error).__name__, delay)
                    await sleep(delay)
                else:
                    raise
            finally:
                _ANSWER.reset(token)

    exchange.on_rest_response = record_answer
    exchange.fetch = fetch
