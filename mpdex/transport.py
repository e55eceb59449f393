"""Exchange-neutral HTTP transport: one keep-alive session, rate limits, retry policy.

What it guarantees, and where each rule lives (this file only):

* every request waits for a token of its endpoint group (``mpdex.ratelimit``);
* HTTP 429 (or an exchange error decoded as ``RateLimitExceeded``) pauses the group for
  ``Retry-After`` (or an exponential delay) plus jitter, then retries, within a budget;
* *safe* requests (reads, idempotent writes) are retried on transport failures and 5xx
  with jittered exponential backoff, within a budget;
* a *signed* POST is never re-signed and never retried blindly: ``post_signed`` resends
  the **same bytes** while its deadline (the signature's validity window) allows, and
  reports what it knows (accepted / duplicate-after-resend / unknown) so the exchange
  layer can reconcile. A "duplicate" answer counts as acceptance only after an earlier
  attempt whose outcome was unknown.

Error bodies are exchange-specific, so the exchange supplies ``decode_error(status, body)``
returning a typed error (or ``None``); this module adds the generic HTTP fallbacks.
"""
from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp
import orjson

from .errors import (
    AuthenticationError,
    BadRequest,
    ExchangeError,
    ExchangeUnavailable,
    MpdexError,
    NetworkError,
    PermissionDenied,
    RateLimitExceeded,
    RequestTimeout,
)
from .ratelimit import Clock, RateLimiter, Sleep, parse_retry_after
from .redact import redact_url, safe_url

__all__ = [
    "RetryPolicy",
    "HttpTransport",
    "SignedPost",
    "ErrorDecoder",
    "parse_retry_after",
    "Sleep",
]

log = logging.getLogger("mpdex.transport")

ErrorDecoder = Callable[[int, Any], BaseException | None]


@dataclass(frozen=True)
class RetryPolicy:
    """Budgets and delays. Attempts are totals (first try included)."""

    read_attempts: int = 3  # safe requests: transport errors / 5xx
    rate_limit_attempts: int = 4  # any request: 429 / rate-limit codes
    backoff_base: float = 0.2  # seconds; doubles per attempt
    backoff_max: float = 5.0
    max_retry_after: float = 30.0  # a longer server hint is raised, not slept through
    jitter: float = 0.2  # fraction of the delay added at random

    def jittered(self, seconds: float, rng: Callable[[], float]) -> float:
        return seconds * (1.0 + self.jitter * rng())

    def backoff(self, attempt: int, rng: Callable[[], float]) -> float:
        """Seconds before retrying a request whose ``attempt``-th try failed (transport / 5xx)."""
        return self.jittered(min(self.backoff_max, self.backoff_base * (2 ** max(0, attempt - 1))), rng)

    def rate_limit_wait(self, retry_after: float | None, attempt: int, rng: Callable[[], float]) -> float | None:
        """Seconds to pause a rate-limited group after its ``attempt``-th refusal: the server's
        hint (else an exponential delay) plus jitter; None when the hint is longer than we wait for."""
        if retry_after is not None and retry_after > self.max_retry_after:
            return None
        return self.jittered(retry_after if retry_after is not None else self.backoff_base * (2 ** (attempt - 1)), rng)


@dataclass
class SignedPost:
    """What ``post_signed`` knows about a signed request.

    ``outcome``:
      * ``accepted``  — a 2xx answer; ``body`` is the decoded response;
      * ``duplicate`` — a resend was answered "duplicate" after an attempt whose outcome
        was unknown: the first copy was accepted (``body`` is None);
      * ``refused_after_unknown`` — a resend was refused (``error``) after an unknown
        attempt: the first copy may or may not have been accepted;
      * ``unknown``   — the deadline passed with at least one attempt whose outcome is
        unknown (``error`` is the last transport error).
    """

    outcome: Literal["accepted", "duplicate", "refused_after_unknown", "unknown"]
    body: Any
    attempts: int
    error: BaseException | None = None


class _AttemptFailed(Exception):
    """A transport-level failure; ``maybe_processed`` says whether the server may have
    acted on the request (timeout, dropped connection, 5xx) or certainly did not."""

    def __init__(self, error: NetworkError, maybe_processed: bool) -> None:
        super().__init__(str(error))
        self.error = error
        self.maybe_processed = maybe_processed


def _generic_http_error(status: int, body: Any) -> ExchangeError:
    text = body if isinstance(body, str) else orjson.dumps(body).decode() if body is not None else ""
    message = f"HTTP {status}" + (f": {text[:200]}" if text else "")
    if status == 401:
        return AuthenticationError(message, http_status=status, raw=body)
    if status == 403:
        return PermissionDenied(message, http_status=status, raw=body)
    if 400 <= status < 500:
        return BadRequest(message, http_status=status, raw=body)
    return ExchangeError(message, http_status=status, raw=body)


class HttpTransport:
    """One keep-alive ``aiohttp`` session for one exchange client.

    ``base_url`` has no trailing slash; paths start with ``/``. ``headers`` go on every
    request. ``group`` of each call names its token bucket in ``limiter``.
    """

    def __init__(
        self,
        base_url: str,
        *,
        decode_error: ErrorDecoder,
        limiter: RateLimiter,
        headers: Mapping[str, str] | None = None,
        proxy: str | None = None,
        timeout: float = 10.0,
        policy: RetryPolicy = RetryPolicy(),
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        rng: Callable[[], float] = random.random,
        name: str = "http",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._decode_error = decode_error
        self._limiter = limiter
        self._headers: dict[str, str] = dict(headers or {})
        self._proxy = proxy
        self._timeout = timeout
        self.policy = policy
        self._clock = clock
        self._sleep = sleep
        self._rng = rng
        self.name = name
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    # -- session ---------------------------------------------------------------------

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError(f"{self.name} transport is closed")
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=64, keepalive_timeout=30.0),
                json_serialize=lambda obj: orjson.dumps(obj).decode(),
            )
        return self._session

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def host(self) -> str:
        """``host[:port]`` of the base URL, credentials never included (for messages)."""
        return safe_url(self.base_url).split("//", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]

    async def close(self) -> None:
        """Close the session. Idempotent."""
        self._closed = True
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    # -- one attempt -----------------------------------------------------------------

    async def _attempt(
        self, method: str, path: str, params: Mapping[str, Any] | None, data: bytes | None,
        headers: Mapping[str, str] | None, timeout: float,
    ) -> Any:
        session = self._get_session()
        all_headers = dict(self._headers)
        if headers:
            all_headers.update(headers)
        if data is not None:
            all_headers.setdefault("Content-Type", "application/json")
        url = self.base_url + path
        try:
            async with session.request(
                method, url, params=params, data=data, headers=all_headers, proxy=self._proxy,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as resp:
                status = resp.status
                raw = await resp.read()
                retry_after = parse_retry_after(resp.headers.get("Retry-After"))
        except asyncio.TimeoutError:
            raise _AttemptFailed(RequestTimeout(f"{method} {path}: no answer from {self.host} within {timeout:g}s"),
                                 True) from None
        except aiohttp.ClientConnectorError as exc:  # never reached the server
            raise _AttemptFailed(ExchangeUnavailable(
                f"{method} {path}: cannot connect to {self.host} ({type(exc).__name__})"), False) from None
        except aiohttp.ClientError as exc:  # the connection broke after (maybe) sending
            raise _AttemptFailed(ExchangeUnavailable(
                f"{method} {path}: {type(exc).__name__}: {redact_url(str(exc))}"), True) from None

        body: Any
        if raw.strip():
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError:
                body = raw.decode("utf-8", "replace")
        else:
            body = {}

        error = self._decode_error(status, body)  # text bodies too: some venues answer 4xx in plain text
        if status == 429 and not isinstance(error, RateLimitExceeded):
            error = RateLimitExceeded(f"{method} {path}: rate limited (HTTP 429)", http_status=429, raw=body,
                                      retry_after=retry_after)
        if isinstance(error, RateLimitExceeded):
            if error.retry_after is None:
                error.retry_after = retry_after
            if error.http_status is None:
                error.http_status = status
            raise error
        if isinstance(error, NetworkError):
            if error.http_status is None:
                error.http_status = status
            raise _AttemptFailed(error, True)
        if status >= 500 and (error is None or type(error) is ExchangeError):
            # a gateway error or an uncoded failure: the request may or may not have run
            raise _AttemptFailed(ExchangeUnavailable(f"{method} {path}: HTTP {status}", http_status=status,
                                                     raw=body), True)
        if error is not None:
            if isinstance(error, ExchangeError) and error.http_status is None:
                error.http_status = status
            raise error
        if status >= 300:
            raise _generic_http_error(status, body)
        if isinstance(body, str):
            # a 2xx that is not JSON: the server did something we cannot read
            raise _AttemptFailed(ExchangeUnavailable(f"{method} {path}: non-JSON answer", http_status=status,
                                                     raw=body[:500]), True)
        return body

    # -- public API ------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        group: str = "public",
        safe: bool | None = None,
        timeout: float | None = None,
        weight: float = 1.0,
    ) -> Any:
        """Send one request and return its decoded JSON body, or raise a typed error.

        ``safe`` (default: True for GET) allows retries after transport failures / 5xx.
        Rate-limit answers are retried for any request: the server did not process it.
        ``weight`` is how many tokens of ``group`` each attempt costs (venues that weigh
        requests, e.g. Hyperliquid's per-IP budget).
        """
        is_safe = (method.upper() == "GET") if safe is None else safe
        bucket = self._limiter.bucket(group)
        tries = rl_tries = 0
        started = self._clock()
        while True:
            await bucket.acquire(weight)
            try:
                body = await self._attempt(method, path, params, data, headers, timeout or self._timeout)
                log.debug("%s %s %s ok in %.1f ms", self.name, method, path, (self._clock() - started) * 1e3)
                return body
            except RateLimitExceeded as exc:
                rl_tries += 1
                wait = self.policy.rate_limit_wait(exc.retry_after, rl_tries, self._rng)
                if wait is None or rl_tries >= self.policy.rate_limit_attempts:
                    raise
                log.warning("%s %s %s rate limited; pausing group '%s' %.3fs", self.name, method, path, group, wait)
                bucket.pause(wait)
            except _AttemptFailed as failed:
                tries += 1
                if not is_safe or tries >= self.policy.read_attempts:
                    raise failed.error from None
                delay = self.policy.backoff(tries, self._rng)
                log.warning("%s %s %s failed (%s); retry %d in %.3fs", self.name, method, path, failed.error, tries, delay)
                await self._sleep(delay)

    async def post_signed(
        self,
        path: str,
        data: bytes | Callable[[], tuple[bytes, float]],
        *,
        deadline: float | None = None,
        is_duplicate: Callable[[BaseException], bool],
        headers: Mapping[str, str] | None = None,
        group: str = "order",
        attempt_timeout: float | None = None,
        max_queue_wait: float | None = None,
        weight: float = 1.0,
    ) -> SignedPost:
        """Send a signed body; resend the *same bytes* until the deadline (monotonic
        seconds) when the outcome of an attempt is unknown. Never re-signs.

        ``data`` is either the signed bytes with their ``deadline``, or a function that signs
        and returns ``(bytes, deadline)``: it is called once, when the first rate-limit token
        is in hand, so a body is never older than the token wait at its first send. With
        ``max_queue_wait``, a request whose token is further away than that is refused
        locally with ``RateLimitExceeded`` (nothing signed, nothing sent). Each attempt
        costs ``weight`` tokens of ``group``.

        Raises the typed error for a refusal when no earlier attempt may have been
        accepted (including "duplicate" on the first attempt), and the transport error
        when no attempt can have reached the server.
        """
        bucket = self._limiter.bucket(group)
        per_try = attempt_timeout or self._timeout
        attempts = 0
        maybe_accepted = False
        last_error: BaseException | None = None
        body: bytes | None = data if isinstance(data, bytes) else None
        if body is not None and deadline is None:
            raise ValueError("post_signed needs a deadline with pre-signed bytes")
        end = deadline if deadline is not None else 0.0
        while True:
            if attempts and end - self._clock() <= 0:
                break
            await bucket.acquire(weight, max_wait=max_queue_wait if not attempts else None)
            if body is None:
                assert callable(data)
                body, end = data()
            remaining = end - self._clock()
            attempts += 1
            try:
                answer = await self._attempt("POST", path, None, body, headers, max(0.05, min(per_try, remaining)))
                return SignedPost("accepted", answer, attempts)
            except RateLimitExceeded as exc:
                last_error = exc
                wait = self.policy.rate_limit_wait(exc.retry_after, attempts, self._rng)
                if wait is None or self._clock() + wait >= end:
                    if maybe_accepted:
                        break
                    raise
                log.warning("%s POST %s rate limited; resending the same body in %.3fs", self.name, path, wait)
                bucket.pause(wait)
            except _AttemptFailed as failed:
                last_error = failed.error
                maybe_accepted = maybe_accepted or failed.maybe_processed
                log.warning("%s POST %s attempt %d: %s (maybe processed: %s)", self.name, path, attempts,
                            failed.error, failed.maybe_processed)
                delay = min(self.policy.backoff(attempts, self._rng), max(0.0, end - self._clock()))
                if delay > 0:
                    await self._sleep(delay)
            except (ExchangeError, MpdexError) as exc:
                if not maybe_accepted:
                    raise
                if is_duplicate(exc):
                    return SignedPost("duplicate", None, attempts, exc)
                return SignedPost("refused_after_unknown", None, attempts, exc)
        if maybe_accepted:
            return SignedPost("unknown", None, attempts, last_error)
        raise last_error if last_error is not None else ExchangeUnavailable(f"POST {path}: not sent")
