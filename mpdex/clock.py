"""The one clock: wall-clock milliseconds and a monotonic second counter, injectable.

Everything that reads time (nonces, signed-request deadlines, cache ages, socket watchdogs,
rate limits) takes a ``Clock`` so a test can move time by hand instead of sleeping. The
default reads the system clocks.
"""
from __future__ import annotations

import time
from typing import Protocol

__all__ = ["Clock", "SystemClock", "SYSTEM_CLOCK", "now_ms"]


class Clock(Protocol):
    def now_ms(self) -> int:
        """Milliseconds since the epoch (wall clock: what exchanges compare timestamps with)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (ages, timeouts, deadlines)."""
        ...


class SystemClock:
    """The process's real clocks."""

    __slots__ = ()

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def monotonic(self) -> float:
        return time.monotonic()

    def __repr__(self) -> str:
        return "SystemClock()"


SYSTEM_CLOCK = SystemClock()


def now_ms() -> int:
    """Wall-clock milliseconds since the epoch."""
    return time.time_ns() // 1_000_000
