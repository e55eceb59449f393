"""Client-side rate limiting: one token bucket per endpoint group, one limiter per account
and host in the process.

A bucket refills at ``rate`` tokens per second up to ``burst``. When the server says
"slow down" (HTTP 429 / Retry-After) the whole group is paused, so concurrent callers of
that group wait too instead of hammering the server. A caller may bound its wait: what
cannot be sent in time is refused locally (``RateLimitExceeded``), never queued to go out
late. ``shared_limiter`` makes every client of one account on one host draw from the same
buckets, so N instances do not send N times the rate. The clock and the sleep are
injectable so tests run instantly and deterministically.
"""
from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Awaitable, Callable, Hashable, Mapping

from .errors import ConfigError, RateLimitExceeded

__all__ = ["TokenBucket", "RateLimiter", "Clock", "Sleep", "parse_retry_after", "shared_limiter"]

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: delta-seconds or an HTTP date (RFC 9110).
    ``None`` when absent or unreadable; never negative. ``now`` is epoch seconds (for
    dates; default: the wall clock). The one parser for REST and socket code."""
    if value is None:
        return None
    text = str(value).strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds or seconds in (float("inf"), float("-inf")):  # NaN / inf
        return None
    return max(0.0, seconds)


class TokenBucket:
    """``await acquire()`` returns once a token is available (FIFO among callers: slots are
    reserved in call order)."""

    def __init__(
        self,
        rate: float,
        burst: float,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if not rate > 0 or not burst >= 1:
            raise ConfigError("rate limit needs rate > 0 and burst >= 1")
        self.rate = float(rate)
        self.burst = float(burst)
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst
        self._stamp = clock()
        self._paused_until = 0.0
        self._pauses = 0

    def _refill(self, now: float) -> None:
        if now > self._stamp:
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now

    def wait_for(self, tokens: float = 1.0) -> float:
        """Seconds until ``tokens`` would be granted now, counting callers already queued."""
        now = self._clock()
        self._refill(now)
        start = max(now, self._stamp, self._paused_until)
        deficit = tokens - self._tokens
        return (start - now) + (max(0.0, deficit) / self.rate if deficit > 1e-9 else 0.0)

    async def acquire(self, tokens: float = 1.0, *, max_wait: float | None = None) -> float:
        """Take ``tokens``; returns how many seconds the caller waited.

        Each caller reserves its slot at once (the bucket may go into debt; the next caller
        waits longer), so the wait is known before anyone sleeps: when it would exceed
        ``max_wait`` the call raises ``RateLimitExceeded`` without taking anything — a
        request that cannot go out in time is refused locally instead of queueing. A pause
        ordered by the server while a caller sleeps sends it back to the queue.
        """
        waited = 0.0
        while True:
            wait = self.wait_for(tokens)
            if max_wait is not None and wait > max_wait + 1e-9:
                raise RateLimitExceeded(
                    f"rate limit: the next slot is {wait:.3f}s away, more than the {max_wait:.3f}s this request "
                    "can wait; refused locally, nothing was sent",
                    retry_after=wait,
                )
            self._tokens -= tokens
            if wait <= 1e-9:
                return waited
            pause_epoch = self._pauses
            await self._sleep(wait)
            waited += wait
            if self._pauses == pause_epoch or self._clock() >= self._paused_until:
                return waited
            # the server asked everyone to back off while we slept: queue again after it

    def pause(self, seconds: float) -> None:
        """Nobody in this group sends for ``seconds`` (the server asked us to back off)."""
        now = self._clock()
        self._paused_until = max(self._paused_until, now + max(0.0, seconds))
        self._pauses += 1
        # when the pause ends, one probe may go at once; the rest refill at the normal rate
        self._tokens = 1.0
        self._stamp = max(self._stamp, self._paused_until)

    @property
    def paused_until(self) -> float:
        return self._paused_until


class RateLimiter:
    """Named token buckets: ``limits = {"public": (rate_per_s, burst), ...}``."""

    def __init__(
        self,
        limits: Mapping[str, tuple[float, float]],
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if not limits:
            raise ConfigError("rate limiter needs at least one group")
        self._clock, self._sleep = clock, sleep
        self._buckets: dict[str, TokenBucket] = {
            name: TokenBucket(rate, burst, clock=clock, sleep=sleep) for name, (rate, burst) in limits.items()
        }

    def bucket(self, group: str) -> TokenBucket:
        try:
            return self._buckets[group]
        except KeyError:
            raise ConfigError(f"unknown rate-limit group '{group}'; known: {', '.join(sorted(self._buckets))}") from None

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(self._buckets)

    def limits(self) -> dict[str, tuple[float, float]]:
        return {name: (b.rate, b.burst) for name, b in self._buckets.items()}

    def configure(self, limits: Mapping[str, tuple[float, float]]) -> None:
        """Change the rate/burst of the named groups (added when new); queued slots keep theirs."""
        for name, (rate, burst) in limits.items():
            if not rate > 0 or not burst >= 1:
                raise ConfigError("rate limit needs rate > 0 and burst >= 1")
            bucket = self._buckets.get(name)
            if bucket is None:
                self._buckets[name] = TokenBucket(rate, burst, clock=self._clock, sleep=self._sleep)
            else:
                bucket.rate, bucket.burst = float(rate), float(burst)
                bucket._tokens = min(bucket._tokens, bucket.burst)


_SHARED: dict[Hashable, RateLimiter] = {}


def shared_limiter(
    key: Hashable,
    defaults: Mapping[str, tuple[float, float]],
    overrides: Mapping[str, tuple[float, float]] | None = None,
    *,
    clock: Clock = time.monotonic,
    sleep: Sleep = asyncio.sleep,
) -> RateLimiter:
    """The one limiter of an account on a host (``key``, e.g. ``("vest", base_url,
    account)``), shared by every client in the process that talks to it for that account:
    the exchange's REST client, its socket client's REST calls and every other instance.
    ``overrides`` (a user's ``rate_limits``) reconfigure the shared buckets for all of them.
    Injected clocks get a limiter of their own (tests must not share a timeline)."""
    full_key = (key, id(clock), id(sleep))
    limiter = _SHARED.get(full_key)
    if limiter is None:
        limits = dict(defaults)
        limits.update(overrides or {})
        limiter = _SHARED[full_key] = RateLimiter(limits, clock=clock, sleep=sleep)
    elif overrides:
        limiter.configure(overrides)
    return limiter
