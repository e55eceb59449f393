"""Vest listen keys on the paper server: one per account, ``listen_key_ttl`` long (60 min by
default). ``POST`` returns the current key while it is valid and extends it (a new key once
it expired), ``PUT`` extends it or answers 1125, ``DELETE`` → ``{}`` and closes the sockets
using it (4004). A socket whose key expires while open is closed with 4005.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Protocol

from mpdex.paper.ledger import Account, Ledger

from . import errors as E
from .errors import ApiError
from .store import ListenKey, VestStore

__all__ = ["ListenKeys", "KeySockets"]


class KeySockets(Protocol):
    def close_listen_key(self, code: int, listen_key: str | None = None) -> int: ...


class ListenKeys:
    def __init__(self, ledger: Ledger, store: VestStore, clock_ms: Callable[[], int], ttl_ms: int,
                 sockets: KeySockets) -> None:
        self.ledger = ledger
        self.store = store
        self.clock_ms = clock_ms
        self.ttl_ms = ttl_ms
        self.sockets = sockets

    def create(self, account: Account) -> str:
        now = self.clock_ms()
        current = self.store.listen_key_of(account.id)
        key = current.listen_key if current and current.expiry_ms > now else secrets.token_hex(16)
        with self.ledger.transaction():
            self.store.put_listen_key(ListenKey(key, account.id, now + self.ttl_ms))
        return key

    def keepalive(self, account: Account) -> str:
        now = self.clock_ms()
        current = self.store.listen_key_of(account.id)
        if current is None or current.expiry_ms <= now:
            raise ApiError(E.INVALID_LISTEN_KEY, "Listen key expired. Make a POST request to create a new key.")
        with self.ledger.transaction():
            self.store.put_listen_key(ListenKey(current.listen_key, account.id, now + self.ttl_ms))
        return current.listen_key

    def delete(self, account: Account) -> None:
        current = self.store.listen_key_of(account.id)
        with self.ledger.transaction():
            self.store.delete_listen_key(account.id)
        if current is not None:
            self.sockets.close_listen_key(4004, current.listen_key)

    def state(self, key: str) -> tuple[str, int | None, int | None]:
        """``(state, account_id, account_group)`` for a socket's listen key, where state
        is ``"ok"``, ``"unknown"`` or ``"expired"``."""
        row = self.store.listen_key(key)
        if row is None:
            return "unknown", None, None
        group = self.store.group(row.account_id)
        return ("ok" if row.expiry_ms > self.clock_ms() else "expired"), row.account_id, group

    def expire_all(self) -> int:
        """Every current key expires now; returns how many sockets were closed (4005)."""
        with self.ledger.transaction():
            self.store.expire_listen_keys(self.clock_ms())
        return self.sockets.close_listen_key(4005)
