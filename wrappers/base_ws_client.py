"""The socket life cycle shared by every exchange: connect, subscribe, keep alive, detect
death, reconnect.

``BaseWSClient`` owns one supervisor task that connects, replays subscriptions, reads frames
and reconnects. Only the supervisor opens sockets, so one reconnect is in flight at a time;
everything else (ping task, silence watchdog, a venue that wants a fresh token) can only
*ask* for a reconnect, and only for the socket generation it serves.

Decisions:
* Backoff: jittered (50–100 %) exponential from ``reconnect_min``, capped at
  ``reconnect_max`` (5 s). The attempt count resets as soon as a socket delivers a data frame
  (``_handle_message`` returned true; an ack or pong is not data). Storm guard: a new socket
  opens no sooner than ``min_connect_interval`` (default 4 × ``reconnect_min``) after the
  previous one opened, whatever the server does. A ``Retry-After`` (seconds or HTTP date) on
  a refused handshake is honoured, up to ``MAX_RETRY_AFTER``.
* Gaps: when a socket ends, every object passed to ``track()`` gets ``mark_gap()`` before
  anything else runs, so no cache fed by that socket is served as fresh afterwards.
* Time comes from one injectable ``mpdex.clock.Clock`` (``clock=``).

A venue subclass declares the endpoint and timings (class settings, overridable per
instance) and implements the hooks: ``_handle_message(msg) -> bool`` (hot path, synchronous),
``_subscribe_messages(topics)`` / ``_unsubscribe_messages(topics)``, ``_build_ping_message()``;
optional ``_connect_url()``, ``_on_connected()``, ``_on_disconnected(code, reason)``,
``_retry_delay_for_close(code)``.
"""
from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Coroutine, Hashable, Iterable
from typing import Any, Protocol, TypeVar

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from mpdex.clock import SYSTEM_CLOCK, Clock
from mpdex.ratelimit import parse_retry_after
from mpdex.redact import redact_secrets, safe_url

try:  # optional: some Vest hosts send Brotli-compressed JSON in binary frames
    import brotli as _brotli  # type: ignore[import-not-found,import-untyped,unused-ignore]
except ImportError:  # pragma: no cover - exercised only without the extra installed
    try:
        import brotlicffi as _brotli  # type: ignore[import-not-found,no-redef,unused-ignore]
    except ImportError:
        _brotli = None

__all__ = ["BaseWSClient", "BROTLI_AVAILABLE", "GapAware"]

log = logging.getLogger("mpdex.ws")

BROTLI_AVAILABLE = _brotli is not None
_ERROR_LOG_EVERY = 1000  # after the first few, log one handler/decode failure in this many
_T = TypeVar("_T")


class GapAware(Protocol):
    """State fed by a socket: told when the socket ended (it may have missed messages)."""

    def mark_gap(self) -> None: ...


class BaseWSClient:
    """An exchange-neutral, self-healing WebSocket client.

    Lifecycle: ``await start()`` launches the supervisor and waits (up to the connect
    timeout) for the first socket; ``await close()`` stops every task and awaits them.
    Reads never block on the socket: subclasses keep caches that the hot path fills.
    """

    #: endpoint (subclasses or the constructor set it)
    WS_URL: str = ""
    #: seconds allowed for TCP + proxy tunnel + WebSocket handshake
    WS_CONNECT_TIMEOUT: float = 10.0
    #: seconds between application-level pings (the server's answer feeds the watchdog)
    PING_INTERVAL: float = 20.0
    #: a socket that delivered nothing for this long is treated as dead
    RECV_TIMEOUT: float = 60.0
    #: first reconnect delay (before jitter) — keep it sub-second
    RECONNECT_MIN: float = 0.25
    #: cap of the exponential backoff: a flapping link is retried within this many seconds
    RECONNECT_MAX: float = 5.0
    #: a server's Retry-After longer than this is not believed
    MAX_RETRY_AFTER: float = 300.0
    #: largest frame accepted (bytes)
    MAX_MESSAGE_SIZE: int = 8 * 1024 * 1024
    #: non-JSON text frames the venue sends by design (e.g. a hello line): skipped silently
    IGNORED_TEXT_FRAMES: frozenset[str] = frozenset()
    #: label used in log lines
    LOG_NAME: str = "ws"

    def __init__(
        self,
        url: str | None = None,
        *,
        proxy: str | None = None,
        connect_timeout: float | None = None,
        ping_interval: float | None = None,
        recv_timeout: float | None = None,
        reconnect_min: float | None = None,
        reconnect_max: float | None = None,
        min_connect_interval: float | None = None,
        additional_headers: dict[str, str] | None = None,
        rng: random.Random | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.url: str = url or self.WS_URL
        #: ``http://[user:pass@]host:port`` CONNECT proxy, used for every connection
        self.proxy: str | None = proxy or None
        self.connect_timeout = float(connect_timeout if connect_timeout is not None else self.WS_CONNECT_TIMEOUT)
        self.ping_interval = float(ping_interval if ping_interval is not None else self.PING_INTERVAL)
        self.recv_timeout = float(recv_timeout if recv_timeout is not None else self.RECV_TIMEOUT)
        self.reconnect_min = float(reconnect_min if reconnect_min is not None else self.RECONNECT_MIN)
        self.reconnect_max = float(reconnect_max if reconnect_max is not None else self.RECONNECT_MAX)
        self.min_connect_interval = float(
            min_connect_interval if min_connect_interval is not None else 4 * self.reconnect_min
        )
        if min(self.connect_timeout, self.ping_interval, self.recv_timeout, self.reconnect_min) <= 0:
            raise ValueError("socket timings must be positive")
        if self.reconnect_max < self.reconnect_min:
            raise ValueError("reconnect_max must be >= reconnect_min")
        if self.min_connect_interval < 0:
            raise ValueError("min_connect_interval must not be negative")
        self.additional_headers = dict(additional_headers or {})
        self._rng = rng or random.Random()
        #: the one time source of this client and of the state it feeds
        self.clock: Clock = clock or SYSTEM_CLOCK

        self._ws: ClientConnection | None = None
        #: increments for every socket that opens; tasks remember the one they serve
        self.generation: int = 0
        self._last_recv: float = 0.0
        self._last_open: float | None = None
        self._attempt: int = 0
        self._delivered = False  # the current/last socket delivered a data frame
        self._closing = False
        self._closed = False
        self._supervisor: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._connected_event = asyncio.Event()
        self._brotli_warned = False
        self._errors_seen = 0
        self._gap_aware: list[GapAware] = []
        # subscriptions: wanted topics (ordered) and those sent on the current socket
        self._wanted: dict[Hashable, None] = {}
        self._sent: set[Hashable] = set()
        self._request_id = 0
        #: counters a user (or a test) can read: connects, disconnects, messages, ...
        self.stats: dict[str, int] = {
            "connects": 0,
            "connect_failures": 0,
            "disconnects": 0,
            "watchdog_reconnects": 0,
            "messages": 0,
            "dropped_frames": 0,
        }

    # ------------------------------------------------------------------ hooks
    def _handle_message(self, msg: Any) -> bool | None:
        """One decoded frame; return true when it carried data (not an ack, pong or error).
        Runs inline in the reader: keep it fast, never block."""
        return None

    def _subscribe_messages(self, topics: list[Hashable]) -> list[Any]:
        """The frames that subscribe ``topics`` (str/bytes/JSON-able objects)."""
        return []

    def _unsubscribe_messages(self, topics: list[Hashable]) -> list[Any]:
        """The frames that unsubscribe ``topics``."""
        return []

    def _build_ping_message(self) -> Any | None:
        """The application ping (str/bytes/JSON-able object) or ``None`` to send none."""
        return None

    async def _connect_url(self) -> str:
        """The URL of the next connection (override to fetch a token first)."""
        return self.url

    async def _on_connected(self) -> None:
        """Called after the subscriptions were replayed on every new socket (e.g. reconcile)."""

    def _on_disconnected(self, code: int | None, reason: str) -> None:
        """Called once per lost socket (after the gap was marked), before the reconnect delay."""

    def _retry_delay_for_close(self, code: int | None) -> float | None:
        """Override the backoff after a close ``code`` (e.g. a config error: go slow)."""
        return None

    # ------------------------------------------------------------- public API
    @property
    def connected(self) -> bool:
        ws = self._ws
        return ws is not None and ws.close_code is None and not self._closing

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def last_message_at(self) -> float:
        """``clock.monotonic()`` of the last frame received (0.0 before the first)."""
        return self._last_recv

    @property
    def delivered_data(self) -> bool:
        """Whether the current (or, between sockets, the last) socket delivered a data frame."""
        return self._delivered

    @property
    def attempt(self) -> int:
        """Consecutive attempts since the last socket that delivered a data frame."""
        return self._attempt

    @property
    def topics(self) -> list[Hashable]:
        """The topics this client keeps subscribed (replayed after every reconnect)."""
        return list(self._wanted)

    def track(self, state: GapAware) -> None:
        """Have ``state.mark_gap()`` called whenever a socket ends."""
        self._gap_aware.append(state)

    async def start(self, wait: bool = True) -> bool:
        """Launch the supervisor; with ``wait``, wait up to the connect timeout for the
        first socket. Returns whether a socket is open. A failed first connect is not an
        error: the supervisor keeps retrying and callers read through their REST fallback."""
        if self._closing:
            raise RuntimeError("client is closed")
        if self._supervisor is None:
            self._supervisor = asyncio.get_running_loop().create_task(
                self._supervise(), name=f"{self.LOG_NAME}-supervisor"
            )
        if wait:
            return await self.wait_connected(self.connect_timeout)
        return self.connected

    async def wait_connected(self, timeout: float | None = None) -> bool:
        """Wait until a socket is open and its subscriptions were replayed."""
        if self.connected and self._connected_event.is_set():
            return True
        try:
            await asyncio.wait_for(self._connected_event.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        return self.connected

    async def send(self, message: Any) -> bool:
        """Send on the current socket; ``False`` when there is none (the message is not
        queued: subscriptions are replayed after the next connect)."""
        ws = self._ws
        if ws is None or self._closing:
            return False
        data = message if isinstance(message, (str, bytes)) else orjson.dumps(message).decode()
        try:
            await ws.send(data)
        except ConnectionClosed:
            return False
        return True

    def next_request_id(self) -> int:
        """A fresh id for a request frame on this client."""
        self._request_id += 1
        return self._request_id

    async def subscribe(self, *topics: Hashable) -> None:
        """Keep ``topics`` subscribed (sent now if connected, replayed on every reconnect)."""
        for topic in topics:
            self._wanted.setdefault(topic, None)
        await self._send_subscriptions(list(topics))

    async def unsubscribe(self, *topics: Hashable) -> None:
        """Stop keeping ``topics``; those sent on the current socket are unsubscribed."""
        sent = [t for t in topics if t in self._sent]
        for topic in topics:
            self._wanted.pop(topic, None)
            self._sent.discard(topic)
        if sent and self.connected:
            for message in self._unsubscribe_messages(sent):
                await self.send(message)

    def request_reconnect(self, reason: str, generation: int | None = None) -> bool:
        """Drop the current socket so the supervisor opens a new one.

        ``generation`` pins the request to one socket: a request made for an older
        socket is ignored. Returns whether a socket was dropped.
        """
        ws = self._ws
        if ws is None or self._closing:
            return False
        if generation is not None and generation != self.generation:
            log.debug("%s: ignoring stale reconnect request (%s) for generation %s", self.LOG_NAME, reason, generation)
            return False
        log.info("%s: reconnecting (%s)", self.LOG_NAME, reason)
        self._abort(ws)
        return True

    async def close(self) -> None:
        """Stop every task, close the socket and wait for all of it. Idempotent."""
        if self._closed:
            return
        self._closing = True
        ws = self._ws
        if ws is not None:
            self._abort(ws)
        tasks = [t for t in (self._supervisor, *self._tasks) if t is not None and not t.done()]
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._ws = None
        self._closed = True
        log.debug("%s: closed", self.LOG_NAME)

    def spawn(self, coro: Coroutine[Any, Any, _T], name: str) -> asyncio.Task[_T]:
        """Run ``coro`` as a task that ``close()`` cancels and awaits; failures are logged."""
        task = asyncio.get_running_loop().create_task(coro, name=f"{self.LOG_NAME}-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def next_delay(self) -> float:
        """The next backoff delay: jittered (50–100 %) and doubling up to the cap."""
        base = min(self.reconnect_max, self.reconnect_min * (2 ** min(self._attempt, 32)))
        self._attempt += 1
        return float(base * (0.5 + 0.5 * self._rng.random()))

    # -------------------------------------------------------------- internals
    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s: task %s failed: %r", self.LOG_NAME, task.get_name(), task.exception())

    @staticmethod
    def _abort(ws: ClientConnection) -> None:
        # abort, not close(): a silent peer would make a closing handshake wait its timeout
        transport = getattr(ws, "transport", None)
        if transport is not None:
            transport.abort()

    async def _send_subscriptions(self, topics: Iterable[Hashable]) -> None:
        todo = [t for t in topics if t in self._wanted and t not in self._sent]
        if not todo or not self.connected:
            return
        self._sent.update(todo)  # before the await: a concurrent call cannot send them again
        for message in self._subscribe_messages(todo):
            if not await self.send(message):
                self._sent.difference_update(todo)
                return

    async def _resubscribe(self) -> None:
        """Replay every wanted topic on the socket that just opened."""
        self._sent = set()
        await self._send_subscriptions(list(self._wanted))

    async def _open(self) -> ClientConnection:
        url = await self._connect_url()
        return await connect(
            url,
            proxy=self.proxy,  # None disables the environment's proxy: only ours is used
            open_timeout=self.connect_timeout,
            ping_interval=None,  # liveness is the application ping + the watchdog
            close_timeout=min(2.0, self.connect_timeout),
            max_size=self.MAX_MESSAGE_SIZE,
            additional_headers=self.additional_headers or None,
            logger=_RedactingLogger(logging.getLogger("mpdex.ws.wire")),
        )

    def _spacing(self) -> float:
        """Seconds still to wait so two sockets never open closer than the storm guard."""
        if self._last_open is None:
            return 0.0
        return max(0.0, self._last_open + self.min_connect_interval - self.clock.monotonic())

    async def _supervise(self) -> None:
        while not self._closing:
            try:
                ws = await asyncio.wait_for(self._open(), self.connect_timeout * 2)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # every connect failure is retried
                self.stats["connect_failures"] += 1
                delay = max(self.next_delay(), self._spacing())
                hint = self._retry_after(exc)
                if hint is not None:
                    delay = max(delay, hint)
                log.warning(
                    "%s: connect to %s failed (%s); retrying in %.2fs",
                    self.LOG_NAME, safe_url(self.url), _describe(exc), delay,
                )
                await asyncio.sleep(delay)
                continue
            await self._serve(ws)
            if self._closing:
                break
            code, reason = ws.close_code, ws.close_reason or ""
            self.stats["disconnects"] += 1
            try:
                self._on_disconnected(code, reason)
            except Exception:
                log.exception("%s: disconnect hook failed", self.LOG_NAME)
            override = self._retry_delay_for_close(code)
            delay = max(self.next_delay() if override is None else override, self._spacing())
            log.info("%s: socket closed (code=%s %s); reconnecting in %.2fs", self.LOG_NAME, code, reason, delay)
            await asyncio.sleep(delay)

    def _retry_after(self, exc: BaseException) -> float | None:
        if not isinstance(exc, InvalidStatus):
            return None
        hint = parse_retry_after(exc.response.headers.get("Retry-After"), now=self.clock.now_ms() / 1000)
        return None if hint is None else min(hint, self.MAX_RETRY_AFTER)

    async def _serve(self, ws: ClientConnection) -> None:
        """Run one socket: replay subscriptions, ping, watch, read until it dies."""
        self.generation += 1
        gen = self.generation
        self._ws = ws
        self._last_recv = self._last_open = self.clock.monotonic()
        self._delivered = False
        self.stats["connects"] += 1
        helpers = [
            self.spawn(self._watchdog(ws, gen), "watchdog"),
            self.spawn(self._pinger(ws, gen), "ping"),
        ]
        try:
            log.info("%s: connected (generation %d)", self.LOG_NAME, gen)
            await self._resubscribe()
            await self._on_connected()
            self._connected_event.set()
            await self._read(ws)
        except ConnectionClosed:
            pass
        except Exception:
            # a failing hook must not kill the supervisor: drop this socket, reconnect
            log.exception("%s: error on socket generation %d", self.LOG_NAME, gen)
        finally:
            self._connected_event.clear()
            self._ws = None
            self._abort(ws)
            for state in self._gap_aware:  # whatever this socket fed may have missed messages
                state.mark_gap()
            for t in helpers:
                t.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)

    async def _read(self, ws: ClientConnection) -> None:
        handle = self._handle_message
        loads = orjson.loads
        mono = self.clock.monotonic
        stats = self.stats
        delivered = False
        async for raw in ws:
            self._last_recv = mono()
            stats["messages"] += 1
            try:
                msg = loads(raw) if type(raw) is str else self._decode_binary(raw)  # type: ignore[arg-type]
            except orjson.JSONDecodeError:
                if raw not in self.IGNORED_TEXT_FRAMES:
                    self._count_error("undecodable frame dropped")
                continue
            if msg is None:
                continue
            try:
                if handle(msg) and not delivered:
                    # data flows: the next drop starts again with a fast first retry
                    delivered = self._delivered = True
                    self._attempt = 0
            except Exception:
                self._count_error("message handler failed", exc_info=True)
        # the iterator ends quietly on a normal close; an abort raises ConnectionClosed

    def _decode_binary(self, raw: bytes) -> Any:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
        if _brotli is None:
            self.stats["dropped_frames"] += 1
            if not self._brotli_warned:
                self._brotli_warned = True
                log.warning(
                    "%s: binary frame is not JSON and the optional 'brotli' package is not "
                    "installed; dropping such frames (pip install brotli)", self.LOG_NAME,
                )
            return None
        try:
            return orjson.loads(_brotli.decompress(raw))
        except Exception:
            self.stats["dropped_frames"] += 1
            self._count_error("binary frame is neither JSON nor Brotli JSON; dropped")
            return None

    def _count_error(self, what: str, exc_info: bool = False) -> None:
        self._errors_seen += 1
        if self._errors_seen <= 5 or self._errors_seen % _ERROR_LOG_EVERY == 0:
            log.warning("%s: %s (%d so far)", self.LOG_NAME, what, self._errors_seen, exc_info=exc_info)

    async def _watchdog(self, ws: ClientConnection, gen: int) -> None:
        while True:
            idle = self.clock.monotonic() - self._last_recv
            if idle >= self.recv_timeout:
                if self._ws is ws and gen == self.generation:
                    self.stats["watchdog_reconnects"] += 1
                    self.request_reconnect(f"nothing received for {idle:.1f}s", gen)
                return
            await asyncio.sleep(self.recv_timeout - idle)

    async def _pinger(self, ws: ClientConnection, gen: int) -> None:
        message = self._build_ping_message()
        if message is None:
            return
        data = message if isinstance(message, (str, bytes)) else orjson.dumps(message).decode()
        while True:
            await asyncio.sleep(self.ping_interval)
            if gen != self.generation:
                return
            try:
                await ws.send(data)
            except ConnectionClosed:
                return  # the reader sees the close and the supervisor reconnects


def _describe(exc: BaseException) -> str:
    if isinstance(exc, InvalidStatus):
        return f"HTTP {exc.response.status_code}"
    if isinstance(exc, asyncio.TimeoutError):
        return "timed out"
    return redact_secrets(f"{type(exc).__name__}: {exc}")[:200]


class _RedactingLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """The ``websockets`` protocol logger, minus secrets: its debug lines include the
    request line, i.e. the URL with the listen key."""

    def log(self, level: int, msg: Any, *args: Any, **kwargs: Any) -> None:
        if self.isEnabledFor(level):
            text = redact_secrets(str(msg) % args if args else str(msg))
            self.logger.log(level, "%s", text, **kwargs)
