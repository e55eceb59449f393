"""A strictly increasing, millisecond-based nonce source.

Vest uses the nonce as the client order id and idempotency key, so two signed requests
of one signer must never share one. The clock is injectable for deterministic tests.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class NonceSource:
    """``next()`` returns ``max(now_ms, last + 1)``: close to wall-clock time (the
    docs recommend ``nonce = time``) yet strictly increasing, even when called many
    times per millisecond or from several threads."""

    def __init__(self, clock_ms: Callable[[], int] = _now_ms, floor: int = 0) -> None:
        self._clock_ms = clock_ms
        self._last = floor
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            n = max(self._clock_ms(), self._last + 1)
            self._last = n
            return n

    def advance_past(self, value: int) -> None:
        """Never hand out ``value`` or anything below it (e.g. the server's lastNonce)."""
        with self._lock:
            if value > self._last:
                self._last = value

    @property
    def last(self) -> int:
        return self._last
