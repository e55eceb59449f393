"""One socket client per (event loop, account), shared by reference count.

Every exchange instance of one account on one event loop gets the same client; the first
``acquire`` builds it with the venue's factory and starts it, the last ``release`` closes
it. A first start that fails is seen by every acquirer that was waiting for it, and leaves
no entry behind, so the next ``acquire`` starts afresh. Keys are kept in memory only (they
may hold credentials) and never logged.
"""
from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, Protocol, TypeVar

__all__ = ["Census", "PooledClient", "WSPool", "let_go"]


class PooledClient(Protocol):
    """What the pool needs of a client."""

    @property
    def closed(self) -> bool: ...
    async def start(self, wait: bool = True) -> bool: ...
    async def close(self) -> None: ...


K = TypeVar("K")
C = TypeVar("C", bound=PooledClient)


class _Entry(Generic[C]):
    __slots__ = ("client", "refs", "ready")

    def __init__(self, client: C, ready: asyncio.Future[None]) -> None:
        self.client = client
        self.refs = 1
        self.ready = ready


class WSPool(Generic[K, C]):
    """Reference-counted clients keyed by event loop and ``key_of(key)``.

    ``factory(key, **options)`` builds a client; ``options`` apply only when an
    ``acquire`` creates one."""

    def __init__(self, factory: Callable[..., C], key_of: Callable[[K], Hashable]) -> None:
        self._factory = factory
        self._key_of = key_of
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Hashable, _Entry[C]]] = (
            weakref.WeakKeyDictionary()
        )

    def _entries(self, loop: asyncio.AbstractEventLoop) -> dict[Hashable, _Entry[C]]:
        entries = self._by_loop.get(loop)
        if entries is None:
            entries = self._by_loop[loop] = {}
        return entries

    async def acquire(self, key: K, loop: asyncio.AbstractEventLoop | None = None, **options: Any) -> C:
        """The account's client, started on first use; each call needs one ``release``."""
        loop = loop or asyncio.get_running_loop()
        entries = self._entries(loop)
        pk = self._key_of(key)
        entry = entries.get(pk)
        if entry is not None and not entry.client.closed:
            entry.refs += 1
            try:
                await asyncio.shield(entry.ready)
            except BaseException:
                entry.refs -= 1
                raise
            return entry.client
        client = self._factory(key, **options)
        ready: asyncio.Future[None] = loop.create_future()
        entry = entries[pk] = _Entry(client, ready)
        try:
            await client.start()
        except BaseException as exc:
            if entries.get(pk) is entry:
                del entries[pk]
            ready.set_exception(exc)
            ready.exception()  # retrieved: later sharers re-raise it, nobody warns
            await client.close()
            raise
        ready.set_result(None)
        return client

    async def release(self, client: C) -> None:
        """Drop one reference; the last one closes the client. Unknown clients are closed."""
        for entries in list(self._by_loop.values()):
            for pk, entry in list(entries.items()):
                if entry.client is client:
                    entry.refs -= 1
                    if entry.refs > 0:
                        return
                    del entries[pk]
                    await client.close()
                    return
        await client.close()

    def refs(self, client: C) -> int:
        """How many acquirers hold ``client`` (0 once closed or unknown)."""
        for entries in self._by_loop.values():
            for entry in entries.values():
                if entry.client is client:
                    return entry.refs
        return 0


class Census:
    """Which clients are alive per group (e.g. per account), across every event loop of the
    process: lets a client ask whether others still use a resource they share (a listen
    key of the account) before it releases it. Weak: a client never closed does not leak."""

    def __init__(self) -> None:
        self._groups: dict[Hashable, weakref.WeakSet[Any]] = {}
        self._lock = threading.Lock()

    def join(self, group: Hashable, client: PooledClient) -> None:
        with self._lock:
            self._groups.setdefault(group, weakref.WeakSet()).add(client)

    def leave(self, group: Hashable, client: PooledClient) -> int:
        """Count ``client`` out; returns how many other live (not closed) clients remain."""
        with self._lock:
            members = self._groups.get(group)
            if members is None:
                return 0
            members.discard(client)
            others = sum(1 for c in members if not c.closed)
            if not members:
                del self._groups[group]
            return others


class _Holds(Protocol):
    async def release_holder(self, holder: Hashable) -> None: ...


async def let_go(client: _Holds, holder: Hashable, release: Callable[[Any], Awaitable[None]]) -> None:
    """An exchange instance lets go of its pooled socket client: its holds (book streams)
    are dropped, then its pool reference — counted out even if dropping the holds fails or
    the caller is cancelled, so the account's last instance always closes the socket."""
    try:
        await client.release_holder(holder)
    finally:
        await release(client)
