"""The paper exchange's ledger in SQLite: accounts, API keys, balances, positions,
leverage, orders, nonces, listen keys, marks and funding history.

Every write happens inside ``transaction()`` (``BEGIN IMMEDIATE`` … ``COMMIT``, rolled
back on any exception), so an order's nonce, the order row, the position and the balance
change land together or not at all — also when the process is killed mid-way. Write
methods refuse to run outside a transaction. Files use WAL with ``synchronous=NORMAL``:
durable across a killed process, atomic always. ``path=None`` keeps everything in memory.

Money and sizes are stored as decimal TEXT and read back as ``Decimal``; the exact size and
price strings of an order are kept as they were signed. The connection is used from the
event-loop thread only, and no transaction spans an ``await``.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = ["Ledger", "Account", "ApiKey", "Position", "Order", "ListenKey", "LedgerError"]

SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    address TEXT NOT NULL UNIQUE,          -- primary address, lower-case
    acc_group INTEGER NOT NULL,
    balance TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS api_keys (
    api_key TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    signing_address TEXT NOT NULL,         -- checksum form
    expiry_ms INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS nonces (
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    nonce INTEGER NOT NULL,
    kind TEXT NOT NULL,
    PRIMARY KEY (account_id, nonce)
);
CREATE TABLE IF NOT EXISTS positions (
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    symbol TEXT NOT NULL,
    size TEXT NOT NULL,                    -- signed: negative is short
    entry_price TEXT NOT NULL,
    entry_funding TEXT NOT NULL,
    settled_funding TEXT NOT NULL,
    PRIMARY KEY (account_id, symbol)
);
CREATE TABLE IF NOT EXISTS leverages (
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    symbol TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (account_id, symbol)
);
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    nonce INTEGER NOT NULL,
    symbol TEXT NOT NULL,
    is_buy INTEGER NOT NULL,
    order_type TEXT NOT NULL,
    limit_price TEXT NOT NULL,
    size TEXT NOT NULL,
    reduce_only INTEGER NOT NULL,
    time_in_force TEXT NOT NULL,
    status TEXT NOT NULL,
    code INTEGER,
    filled TEXT NOT NULL,
    avg_price TEXT,
    last_filled_size TEXT,
    last_filled_price TEXT,
    last_filled_time INTEGER,
    fees TEXT NOT NULL,
    realized_pnl TEXT,
    settled_funding TEXT,
    mark_price TEXT NOT NULL,
    init_margin_ratio TEXT NOT NULL,
    post_time INTEGER NOT NULL,
    UNIQUE (account_id, nonce)
);
CREATE INDEX IF NOT EXISTS orders_open ON orders (status) WHERE status IN ('NEW', 'PARTIALLY_FILLED');
CREATE INDEX IF NOT EXISTS orders_account ON orders (account_id, post_time);
CREATE TABLE IF NOT EXISTS listen_keys (
    listen_key TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL UNIQUE REFERENCES accounts(id),
    expiry_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS marks (
    symbol TEXT PRIMARY KEY,
    mark TEXT NOT NULL,
    idx TEXT NOT NULL,
    cum_funding TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS funding_history (
    symbol TEXT NOT NULL,
    time INTEGER NOT NULL,
    rate TEXT NOT NULL,
    PRIMARY KEY (symbol, time)
);
"""


class LedgerError(RuntimeError):
    """A write outside a transaction, or a database from an incompatible version."""


@dataclass
class Account:
    id: int
    address: str
    group: int
    balance: Decimal


@dataclass
class ApiKey:
    api_key: str
    account_id: int
    signing_address: str
    expiry_ms: int


@dataclass
class Position:
    symbol: str
    size: Decimal  # signed
    entry_price: Decimal
    entry_funding: Decimal
    settled_funding: Decimal = Decimal(0)


@dataclass
class ListenKey:
    listen_key: str
    account_id: int
    expiry_ms: int


@dataclass
class Order:
    id: str
    account_id: int
    nonce: int
    symbol: str
    is_buy: bool
    order_type: str
    limit_price: str  # exactly as signed
    size: str  # exactly as signed
    reduce_only: bool
    time_in_force: str
    status: str
    mark_price: Decimal
    init_margin_ratio: Decimal
    post_time: int
    code: int | None = None
    filled: Decimal = Decimal(0)
    avg_price: Decimal | None = None
    last_filled_size: Decimal | None = None
    last_filled_price: Decimal | None = None
    last_filled_time: int | None = None
    fees: Decimal = Decimal(0)
    realized_pnl: Decimal | None = None
    settled_funding: Decimal | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def remaining(self) -> Decimal:
        return Decimal(self.size) - self.filled

    @property
    def is_open(self) -> bool:
        return self.status in ("NEW", "PARTIALLY_FILLED")


_ORDER_COLS = (
    "id, account_id, nonce, symbol, is_buy, order_type, limit_price, size, reduce_only, time_in_force, "
    "status, code, filled, avg_price, last_filled_size, last_filled_price, last_filled_time, fees, "
    "realized_pnl, settled_funding, mark_price, init_margin_ratio, post_time"
)


def _d(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _order_from_row(r: Sequence[Any]) -> Order:
    return Order(
        id=r[0], account_id=r[1], nonce=r[2], symbol=r[3], is_buy=bool(r[4]), order_type=r[5],
        limit_price=r[6], size=r[7], reduce_only=bool(r[8]), time_in_force=r[9], status=r[10],
        code=r[11], filled=Decimal(r[12]), avg_price=_d(r[13]), last_filled_size=_d(r[14]),
        last_filled_price=_d(r[15]), last_filled_time=r[16], fees=Decimal(r[17]),
        realized_pnl=_d(r[18]), settled_funding=_d(r[19]), mark_price=Decimal(r[20]),
        init_margin_ratio=Decimal(r[21]), post_time=r[22],
    )


def _order_values(o: Order) -> tuple[Any, ...]:
    return (
        o.id, o.account_id, o.nonce, o.symbol, int(o.is_buy), o.order_type, o.limit_price, o.size,
        int(o.reduce_only), o.time_in_force, o.status, o.code, str(o.filled), _s(o.avg_price),
        _s(o.last_filled_size), _s(o.last_filled_price), o.last_filled_time, str(o.fees),
        _s(o.realized_pnl), _s(o.settled_funding), str(o.mark_price), str(o.init_margin_ratio), o.post_time,
    )


class Ledger:
    def __init__(self, path: str | None = None) -> None:
        self.path = path
        self._conn = sqlite3.connect(path or ":memory:", isolation_level=None, check_same_thread=False)
        self._in_tx = False
        if path:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.executescript(_SCHEMA)
        version = self.get_meta("schema_version")
        if version is None:
            with self.transaction():
                self.set_meta("schema_version", SCHEMA_VERSION)
        elif version != SCHEMA_VERSION:
            raise LedgerError(f"paper ledger schema {version} is not {SCHEMA_VERSION}; use a new --db file")

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic unit of work; nested calls join the outer transaction."""
        if self._in_tx:
            yield
            return
        self._conn.execute("BEGIN IMMEDIATE")
        self._in_tx = True
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        else:
            self._conn.execute("COMMIT")
        finally:
            self._in_tx = False

    def _write(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Cursor:
        if not self._in_tx:
            raise LedgerError("ledger writes must happen inside transaction()")
        return self._conn.execute(sql, args)

    def _one(self, sql: str, args: Sequence[Any] = ()) -> Any:
        return self._conn.execute(sql, args).fetchone()

    def _all(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        return self._conn.execute(sql, args).fetchall()

    # --- meta ---------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else row[0]

    def set_meta(self, key: str, value: str) -> None:
        self._write("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    # --- accounts and keys --------------------------------------------------------

    def create_account(self, address: str, now_ms: int, groups: int) -> Account:
        cur = self._write(
            "INSERT INTO accounts(address, acc_group, balance, created_ms) VALUES (?, 0, '0', ?)",
            (address.lower(), now_ms),
        )
        account_id = int(cur.lastrowid or 0)
        group = account_id % groups
        self._write("UPDATE accounts SET acc_group = ? WHERE id = ?", (group, account_id))
        return Account(account_id, address.lower(), group, Decimal(0))

    def _account(self, where: str, arg: Any) -> Account | None:
        row = self._one(f"SELECT id, address, acc_group, balance FROM accounts WHERE {where} = ?", (arg,))
        return None if row is None else Account(row[0], row[1], row[2], Decimal(row[3]))

    def account(self, account_id: int) -> Account:
        acc = self._account("id", account_id)
        if acc is None:
            raise LedgerError(f"no account {account_id}")
        return acc

    def account_by_address(self, address: str) -> Account | None:
        return self._account("address", address.lower())

    def add_balance(self, account_id: int, delta: Decimal) -> Decimal:
        balance = self.account(account_id).balance + delta
        self._write("UPDATE accounts SET balance = ? WHERE id = ?", (str(balance), account_id))
        return balance

    def add_api_key(self, key: ApiKey, now_ms: int) -> None:
        self._write(
            "INSERT INTO api_keys(api_key, account_id, signing_address, expiry_ms, created_ms) VALUES (?, ?, ?, ?, ?)",
            (key.api_key, key.account_id, key.signing_address, key.expiry_ms, now_ms),
        )

    def api_key(self, api_key: str) -> ApiKey | None:
        row = self._one("SELECT api_key, account_id, signing_address, expiry_ms FROM api_keys WHERE api_key = ?", (api_key,))
        return None if row is None else ApiKey(*row)

    # --- nonces -------------------------------------------------------------------

    def nonce_used(self, account_id: int, nonce: int) -> bool:
        return self._one("SELECT 1 FROM nonces WHERE account_id = ? AND nonce = ?", (account_id, nonce)) is not None

    def use_nonce(self, account_id: int, nonce: int, kind: str) -> None:
        self._write("INSERT INTO nonces(account_id, nonce, kind) VALUES (?, ?, ?)", (account_id, nonce, kind))

    def last_nonce(self, account_id: int) -> int:
        row = self._one("SELECT MAX(nonce) FROM nonces WHERE account_id = ?", (account_id,))
        return int(row[0]) if row and row[0] is not None else 0

    # --- positions and leverage ---------------------------------------------------

    def position(self, account_id: int, symbol: str) -> Position | None:
        row = self._one(
            "SELECT symbol, size, entry_price, entry_funding, settled_funding FROM positions WHERE account_id = ? AND symbol = ?",
            (account_id, symbol),
        )
        return None if row is None else Position(row[0], *(Decimal(x) for x in row[1:]))

    def positions(self, account_id: int) -> list[Position]:
        rows = self._all(
            "SELECT symbol, size, entry_price, entry_funding, settled_funding FROM positions WHERE account_id = ? ORDER BY symbol",
            (account_id,),
        )
        return [Position(r[0], *(Decimal(x) for x in r[1:])) for r in rows]

    def net_sizes(self) -> dict[str, Decimal]:
        """Signed open interest per symbol over every paper account (``imbalance``)."""
        out: dict[str, Decimal] = {}
        for symbol, size in self._all("SELECT symbol, size FROM positions"):
            out[symbol] = out.get(symbol, Decimal(0)) + Decimal(size)
        return out

    def save_position(self, account_id: int, pos: Position) -> None:
        if pos.size == 0:
            self._write("DELETE FROM positions WHERE account_id = ? AND symbol = ?", (account_id, pos.symbol))
            return
        self._write(
            "INSERT INTO positions(account_id, symbol, size, entry_price, entry_funding, settled_funding) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(account_id, symbol) DO UPDATE SET size = excluded.size, entry_price = excluded.entry_price, "
            "entry_funding = excluded.entry_funding, settled_funding = excluded.settled_funding",
            (account_id, pos.symbol, str(pos.size), str(pos.entry_price), str(pos.entry_funding), str(pos.settled_funding)),
        )

    def leverage(self, account_id: int, symbol: str) -> int | None:
        row = self._one("SELECT value FROM leverages WHERE account_id = ? AND symbol = ?", (account_id, symbol))
        return None if row is None else int(row[0])

    def leverages(self, account_id: int) -> dict[str, int]:
        return dict(self._all("SELECT symbol, value FROM leverages WHERE account_id = ? ORDER BY symbol", (account_id,)))

    def set_leverage(self, account_id: int, symbol: str, value: int) -> None:
        self._write(
            "INSERT INTO leverages(account_id, symbol, value) VALUES (?, ?, ?) "
            "ON CONFLICT(account_id, symbol) DO UPDATE SET value = excluded.value",
            (account_id, symbol, value),
        )

    # --- orders -------------------------------------------------------------------

    def insert_order(self, order: Order) -> None:
        self._write(f"INSERT INTO orders({_ORDER_COLS}) VALUES ({', '.join('?' * 23)})", _order_values(order))

    def update_order(self, order: Order) -> None:
        cols = [c.strip() for c in _ORDER_COLS.split(",")]
        sets = ", ".join(f"{c} = ?" for c in cols[1:])
        values = _order_values(order)
        self._write(f"UPDATE orders SET {sets} WHERE id = ?", (*values[1:], values[0]))

    def order(self, order_id: str) -> Order | None:
        row = self._one(f"SELECT {_ORDER_COLS} FROM orders WHERE id = ?", (order_id,))
        return None if row is None else _order_from_row(row)

    def open_orders(self, account_id: int | None = None, symbol: str | None = None) -> list[Order]:
        sql = f"SELECT {_ORDER_COLS} FROM orders WHERE status IN ('NEW', 'PARTIALLY_FILLED')"
        args: list[Any] = []
        if account_id is not None:
            sql += " AND account_id = ?"
            args.append(account_id)
        if symbol is not None:
            sql += " AND symbol = ?"
            args.append(symbol)
        return [_order_from_row(r) for r in self._all(sql + " ORDER BY post_time, nonce", args)]

    def find_orders(
        self,
        account_id: int,
        *,
        ids: Sequence[str] | None = None,
        nonce: int | None = None,
        symbol: str | None = None,
        order_type: str | None = None,
        status: str | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
        limit: int = 1000,
    ) -> list[Order]:
        """Orders of one account matching every given filter, newest first."""
        sql = f"SELECT {_ORDER_COLS} FROM orders WHERE account_id = ?"
        args: list[Any] = [account_id]
        if ids is not None:
            sql += f" AND id IN ({', '.join('?' * len(ids))})"
            args.extend(ids)
        for col, value in (("nonce", nonce), ("symbol", symbol), ("order_type", order_type), ("status", status)):
            if value is not None:
                sql += f" AND {col} = ?"
                args.append(value)
        if start_time is not None:
            sql += " AND post_time >= ?"
            args.append(start_time)
        if end_time is not None:
            sql += " AND post_time <= ?"
            args.append(end_time)
        sql += " ORDER BY post_time DESC, nonce DESC LIMIT ?"
        args.append(limit)
        return [_order_from_row(r) for r in self._all(sql, args)]

    # --- listen keys --------------------------------------------------------------

    def listen_key_of(self, account_id: int) -> ListenKey | None:
        row = self._one("SELECT listen_key, account_id, expiry_ms FROM listen_keys WHERE account_id = ?", (account_id,))
        return None if row is None else ListenKey(*row)

    def listen_key(self, key: str) -> ListenKey | None:
        row = self._one("SELECT listen_key, account_id, expiry_ms FROM listen_keys WHERE listen_key = ?", (key,))
        return None if row is None else ListenKey(*row)

    def put_listen_key(self, lk: ListenKey) -> None:
        self._write("DELETE FROM listen_keys WHERE account_id = ?", (lk.account_id,))
        self._write("INSERT INTO listen_keys(listen_key, account_id, expiry_ms) VALUES (?, ?, ?)", (lk.listen_key, lk.account_id, lk.expiry_ms))

    def delete_listen_key(self, account_id: int) -> None:
        self._write("DELETE FROM listen_keys WHERE account_id = ?", (account_id,))

    def expire_listen_keys(self, now_ms: int) -> None:
        self._write("UPDATE listen_keys SET expiry_ms = ? WHERE expiry_ms > ?", (now_ms, now_ms))

    # --- marks and funding --------------------------------------------------------

    def load_marks(self) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
        return {r[0]: (Decimal(r[1]), Decimal(r[2]), Decimal(r[3])) for r in self._all("SELECT symbol, mark, idx, cum_funding FROM marks")}

    def save_marks(self, rows: Sequence[tuple[str, Decimal, Decimal, Decimal]]) -> None:
        for symbol, mark, index, cum in rows:
            self._write(
                "INSERT INTO marks(symbol, mark, idx, cum_funding) VALUES (?, ?, ?, ?) ON CONFLICT(symbol) DO UPDATE SET "
                "mark = excluded.mark, idx = excluded.idx, cum_funding = excluded.cum_funding",
                (symbol, str(mark), str(index), str(cum)),
            )

    def add_funding(self, symbol: str, time_ms: int, rate: Decimal) -> None:
        self._write("INSERT OR REPLACE INTO funding_history(symbol, time, rate) VALUES (?, ?, ?)", (symbol, time_ms, str(rate)))

    def funding_history(self, symbol: str, start: int | None, end: int | None, limit: int) -> list[tuple[int, Decimal]]:
        sql = "SELECT time, rate FROM funding_history WHERE symbol = ?"
        args: list[Any] = [symbol]
        if start is not None:
            sql += " AND time >= ?"
            args.append(start)
        if end is not None:
            sql += " AND time <= ?"
            args.append(end)
        rows = self._all(sql + " ORDER BY time DESC LIMIT ?", (*args, limit))
        return [(int(t), Decimal(r)) for t, r in rows]
