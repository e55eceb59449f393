"""Client-side rate limiting: one token bucket per endpoint group.

A bucket refills at ``rate`` tokens per second up to ``burst``. When the server says
"slow down" (HTTP 429 / Retry-After) the whole group is paused, so concurrent callers of
that group wait too instead of hammering the server. The clock and the sleep are
injectable so tests run instantly and deterministically.
"""
from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Awaitable, Callable, Mapping

from .errors import ConfigError

__all__ = ["TokenBucket", "RateLimiter", "Clock", "Sleep", "parse_retry_after"]

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
    """``await acquire()`` returns once a token is available (FIFO among waiters)."""

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
        self._lock = asyncio.Lock()

    def _refill(self, now: float) -> None:
        if now > self._stamp:
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now

    async def acquire(self, tokens: float = 1.0) -> float:
        """Take ``tokens``; returns how many seconds the caller waited."""
        waited = 0.0
        async with self._lock:
            while True:
                now = self._clock()
                if now < self._paused_until:
                    wait = self._paused_until - now
                else:
                    self._refill(now)
                    if self._tokens >= tokens - 1e-9:  # float dust must not spin the loop
                        self._tokens -= tokens
                        return waited
                    wait = (tokens - self._tokens) / self.rate
                await self._sleep(wait)
                waited += wait

    def pause(self, seconds: float) -> None:
        """Nobody in this group sends for ``seconds`` (the server asked us to back off)."""
        now = self._clock()
        self._paused_until = max(self._paused_until, now + max(0.0, seconds))
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
