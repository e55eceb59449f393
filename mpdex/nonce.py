"""Strictly increasing, millisecond-based nonces, one source per signer in the process.

Venues use the nonce as a replay guard (Hyperliquid) or as the client order id and
idempotency key (Vest), so two signed requests of one signer must never share one — also
when several exchange instances (or tasks) sign with the same key. ``shared_nonce_source``
hands every instance of one signer the same source. The clock is injectable for tests.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable


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


_SOURCES: dict[Hashable, NonceSource] = {}
_SOURCES_LOCK = threading.Lock()


def shared_nonce_source(signer: Hashable) -> NonceSource:
    """The process-wide source of ``signer`` (e.g. ``("vest", signing_address)``), created
    on first use; every exchange instance signing with that key draws from it."""
    with _SOURCES_LOCK:
        src = _SOURCES.get(signer)
        if src is None:
            src = _SOURCES[signer] = NonceSource()
        return src
