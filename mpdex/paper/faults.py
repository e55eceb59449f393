"""Failure injection for the paper server, so tests can prove a client survives a
misbehaving exchange.

Venue-neutral: REST faults count requests as they arrive (a venue's own internal requests,
marked with ``harness.INTERNAL_HEADER``, are exempt); when several are armed, a pending delay
is served first, then rate limiting, then server errors. The bodies of the fault responses
are the dialect's (``PaperVenue.fault_response``). ``lose_next_order_response`` lets the
dialect's order route commit the order and then drop the connection without an answer.

Each REST fault comes one-shot ("the next n requests") or periodic ("every n-th request",
``*_every``; 0 disarms): the one-shot form scripts a test, the periodic one soaks a bot for
as long as it runs (``python -m mpdex.paper --fault-…``). One-shot faults are served first.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol

__all__ = ["Faults"]

log = logging.getLogger("mpdex.paper.faults")


class _Sockets(Protocol):
    def drop_all(self, code: int) -> int: ...
    def close_private(self, code: int) -> int: ...


class Faults:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._sockets: _Sockets | None = None
        self.clear()

    def attach(self, sockets: _Sockets) -> None:
        self._sockets = sockets

    def clear(self) -> None:
        """Disarm every fault (sockets already closed stay closed)."""
        self._rate_limit = 0
        self._retry_after = 1.0
        self._server_error = 0
        self._error_status = 503
        self._delays: list[float] = []
        self._lost_orders = 0
        self._silent_until = 0.0
        self._ws_rejects = 0
        self._ws_reject_status = 429
        self._ws_retry_after: float | None = 1
        self._requests = 0  # REST requests seen (internal ones excluded)
        self._orders = 0  # accepted orders seen
        self._every_rate = self._every_error = self._every_delay = self._every_lost = 0
        self._every_delay_s = 0.0
        self._every_retry_after = 1.0
        self._every_status = 503

    # --- sockets --------------------------------------------------------------------

    def drop_websockets(self, code: int = 1012) -> int:
        """Close every open socket now with ``code``; returns how many."""
        n = self._sockets.drop_all(code) if self._sockets else 0
        log.info("paper fault: dropped %d sockets with %d", n, code)
        return n

    def close_private(self, code: int = 4005) -> int:
        """Close every socket bound to an account's private stream now with ``code``."""
        n = self._sockets.close_private(code) if self._sockets else 0
        log.info("paper fault: closed %d private sockets with %d", n, code)
        return n

    def silence_websockets(self, seconds: float) -> None:
        """Sockets stay open but nothing is sent for ``seconds``: no data, no PONG, no
        protocol pong. Frames produced meanwhile are dropped, not delivered late."""
        self._silent_until = self._clock() + seconds

    def reject_ws_connects(self, n: int, status: int = 429, retry_after: float | None = 1) -> None:
        """The next ``n`` WebSocket handshakes are answered with HTTP ``status``."""
        self._ws_rejects, self._ws_reject_status, self._ws_retry_after = n, status, retry_after

    def ws_silenced(self) -> bool:
        return self._clock() < self._silent_until

    def take_ws_reject(self) -> tuple[int, float | None] | None:
        if self._ws_rejects <= 0:
            return None
        self._ws_rejects -= 1
        return self._ws_reject_status, self._ws_retry_after

    # --- REST -----------------------------------------------------------------------

    def rate_limit(self, n: int, retry_after: float = 1.0) -> None:
        """The next ``n`` REST requests: HTTP 429 with ``Retry-After`` (and the dialect's body)."""
        self._rate_limit, self._retry_after = n, retry_after

    def server_error(self, n: int, status: int = 503) -> None:
        """The next ``n`` REST requests answer HTTP ``status`` (5xx)."""
        if not 500 <= status <= 599:
            raise ValueError("server_error status must be 5xx")
        self._server_error, self._error_status = n, status

    def delay(self, seconds: float, n: int = 1) -> None:
        """Hold the next ``n`` REST responses for ``seconds`` before answering."""
        self._delays.extend([seconds] * n)

    def lose_next_order_response(self, n: int = 1) -> None:
        """The next ``n`` accepted orders are committed, then the connection is dropped
        without a response."""
        self._lost_orders = n

    # --- periodic REST faults -----------------------------------------------------------

    @staticmethod
    def _every(n: int) -> int:
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError("every must be a non-negative integer (0 disarms)")
        return n

    def rate_limit_every(self, n: int, retry_after: float = 1.0) -> None:
        """Every ``n``-th REST request answers 429 with ``Retry-After``."""
        self._every_rate, self._every_retry_after = self._every(n), retry_after

    def server_error_every(self, n: int, status: int = 503) -> None:
        """Every ``n``-th REST request answers HTTP ``status`` (5xx)."""
        if not 500 <= status <= 599:
            raise ValueError("server_error status must be 5xx")
        self._every_error, self._every_status = self._every(n), status

    def delay_every(self, n: int, seconds: float) -> None:
        """Every ``n``-th REST request is held ``seconds`` before it is handled."""
        self._every_delay, self._every_delay_s = self._every(n), seconds

    def lose_order_response_every(self, n: int) -> None:
        """Every ``n``-th accepted order is committed and its response dropped."""
        self._every_lost = self._every(n)

    # --- what the harness asks per request -----------------------------------------------

    def next_request(self) -> tuple[float, tuple[str, float] | None]:
        """For one (non-internal) REST request: ``(seconds to hold it, fault)`` where the
        fault is ``("rate", retry_after)``, ``("error", status)`` or ``None``."""
        self._requests += 1
        k = self._requests
        pause = self._delays.pop(0) if self._delays else 0.0
        if not pause and self._every_delay and k % self._every_delay == 0:
            pause = self._every_delay_s
        fault: tuple[str, float] | None = None
        if self._rate_limit > 0:
            self._rate_limit -= 1
            fault = ("rate", self._retry_after)
        elif self._server_error > 0:
            self._server_error -= 1
            fault = ("error", self._error_status)
        elif self._every_rate and k % self._every_rate == 0:
            fault = ("rate", self._every_retry_after)
        elif self._every_error and k % self._every_error == 0:
            fault = ("error", self._every_status)
        return pause, fault

    def take_lost_order(self) -> bool:
        """For one accepted order: drop its response?"""
        self._orders += 1
        if self._lost_orders > 0:
            self._lost_orders -= 1
            return True
        return bool(self._every_lost and self._orders % self._every_lost == 0)
