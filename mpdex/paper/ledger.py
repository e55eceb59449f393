"""The simulator's ledger in SQLite: accounts, balances, positions, leverage, orders, fills,
marks, funding (rates and, where a venue settles it hourly, payments) and named sequences.

Every write happens inside ``transaction()`` (``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on
any exception), so an order row, its fills, the position and the balance change land
together or not at all, also when the process is killed mid-way. Write methods refuse to run
outside a transaction. Files use WAL with ``synchronous=NORMAL``: durable across a killed
process, atomic always. ``path=None`` keeps everything in memory.

The file holds paper keys, so it is private: created 0600 whatever the umask (an older file
readable by others is narrowed to 0600 when opened), and SQLite gives its ``-wal`` and
``-shm`` files the database file's mode.

A dialect adds its own tables (credentials, nonces, session keys …) through a ``Schema``:
they are created in the same file, written in the same transactions (``execute``), and the
file remembers which dialect owns it, so a ledger is never opened by another venue. A
``Schema.upgrade`` brings an older file to the current layout (or refuses).

Money and sizes are stored as decimal TEXT and read back as ``Decimal``; the exact size and
price strings of an order are kept as they were signed. The connection is used from the
event-loop thread only, and no transaction spans an ``await``.
"""
from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = [
    "Ledger", "Schema", "Account", "Position", "Order", "Fill", "FundingPayment", "LedgerError",
    "SCHEMA_VERSION", "CORE_SCHEMA",
]

SCHEMA_VERSION = "2"

CORE_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    address TEXT NOT NULL UNIQUE,
    balance TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS positions (
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    symbol TEXT NOT NULL,
    size TEXT NOT NULL,
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
    client_id TEXT,
    symbol TEXT NOT NULL,
    is_buy INTEGER NOT NULL,
    order_type TEXT NOT NULL,
    limit_price TEXT NOT NULL,
    size TEXT NOT NULL,
    reduce_only INTEGER NOT NULL,
    time_in_force TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    filled TEXT NOT NULL,
    shrunk TEXT NOT NULL,
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
    status_time INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_open ON orders (status) WHERE status IN ('NEW', 'PARTIALLY_FILLED');
CREATE INDEX IF NOT EXISTS orders_account ON orders (account_id, post_time);
CREATE INDEX IF NOT EXISTS orders_client ON orders (account_id, client_id);
CREATE TABLE IF NOT EXISTS fills (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id TEXT NOT NULL REFERENCES orders(id),
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    symbol TEXT NOT NULL,
    is_buy INTEGER NOT NULL,
    price TEXT NOT NULL,
    qty TEXT NOT NULL,
    fee TEXT NOT NULL,
    closed_pnl TEXT NOT NULL,
    funding TEXT NOT NULL,
    start_position TEXT NOT NULL,
    taker INTEGER NOT NULL,
    time INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS fills_account ON fills (account_id, time);
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
    price TEXT,
    PRIMARY KEY (symbol, time)
);
CREATE TABLE IF NOT EXISTS funding_payments (
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    symbol TEXT NOT NULL,
    time INTEGER NOT NULL,
    size TEXT NOT NULL,
    rate TEXT NOT NULL,
    amount TEXT NOT NULL,
    PRIMARY KEY (account_id, symbol, time)
);
CREATE TABLE IF NOT EXISTS sequences (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class LedgerError(RuntimeError):
    """A write outside a transaction, or a database of another version or venue."""


@dataclass(frozen=True)
class Schema:
    """A dialect's own tables.

    ``ddl`` is ``CREATE … IF NOT EXISTS`` statements separated by ``;``. ``upgrade(ledger,
    core_version, dialect_version)`` runs inside a transaction when a file's stored versions
    are not the current ones (``None``: not recorded); it must leave the file in the current
    core and dialect layout (``Ledger.create_tables()`` creates the missing tables) or raise
    ``LedgerError``. Without it, such a file is refused.
    """

    name: str
    version: str
    ddl: str
    upgrade: Callable[[Ledger, str | None, str | None], None] | None = None


@dataclass
class Account:
    id: int
    address: str
    balance: Decimal


@dataclass
class Position:
    symbol: str
    size: Decimal  # signed
    entry_price: Decimal
    entry_funding: Decimal
    settled_funding: Decimal = Decimal(0)


@dataclass
class Order:
    """One order. ``size`` and ``limit_price`` are the exact strings the client signed;
    ``order_type`` is the dialect's label; ``time_in_force`` a ``TimeInForce`` value;
    ``reason`` a ``Reason`` value for orders that ended other than by filling or a
    user's cancel; ``shrunk`` is what a reduce-only rule took off the size."""

    id: str
    account_id: int
    client_id: str | None
    symbol: str
    is_buy: bool
    order_type: str
    limit_price: str
    size: str
    reduce_only: bool
    time_in_force: str
    status: str
    mark_price: Decimal
    init_margin_ratio: Decimal
    post_time: int
    status_time: int = 0
    reason: str | None = None
    filled: Decimal = Decimal(0)
    shrunk: Decimal = Decimal(0)
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
        return Decimal(self.size) - self.shrunk - self.filled

    @property
    def is_open(self) -> bool:
        return self.status in ("NEW", "PARTIALLY_FILLED")


@dataclass
class Fill:
    """One execution. ``closed_pnl`` is the price PnL of the part that closed (fee not
    included); ``funding`` is accrued funding settled by this fill; ``start_position`` the
    signed size before it."""

    order_id: str
    account_id: int
    symbol: str
    is_buy: bool
    price: Decimal
    qty: Decimal
    fee: Decimal
    closed_pnl: Decimal
    funding: Decimal
    start_position: Decimal
    taker: bool
    time: int
    id: int = 0


@dataclass
class FundingPayment:
    """Funding settled into a balance at one funding event (``amount`` < 0: paid)."""

    account_id: int
    symbol: str
    time: int
    size: Decimal
    rate: Decimal
    amount: Decimal


_ORDER_COLS = (
    "id, account_id, client_id, symbol, is_buy, order_type, limit_price, size, reduce_only, time_in_force, "
    "status, reason, filled, shrunk, avg_price, last_filled_size, last_filled_price, last_filled_time, fees, "
    "realized_pnl, settled_funding, mark_price, init_margin_ratio, post_time, status_time"
)
_N_ORDER_COLS = len(_ORDER_COLS.split(","))
_FILL_COLS = "order_id, account_id, symbol, is_buy, price, qty, fee, closed_pnl, funding, start_position, taker, time"


def _d(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _order_from_row(r: Sequence[Any]) -> Order:
    return Order(
        id=r[0], account_id=r[1], client_id=r[2], symbol=r[3], is_buy=bool(r[4]), order_type=r[5],
        limit_price=r[6], size=r[7], reduce_only=bool(r[8]), time_in_force=r[9], status=r[10],
        reason=r[11], filled=Decimal(r[12]), shrunk=Decimal(r[13]), avg_price=_d(r[14]),
        last_filled_size=_d(r[15]), last_filled_price=_d(r[16]), last_filled_time=r[17], fees=Decimal(r[18]),
        realized_pnl=_d(r[19]), settled_funding=_d(r[20]), mark_price=Decimal(r[21]),
        init_margin_ratio=Decimal(r[22]), post_time=r[23], status_time=r[24],
    )


def _order_values(o: Order) -> tuple[Any, ...]:
    return (
        o.id, o.account_id, o.client_id, o.symbol, int(o.is_buy), o.order_type, o.limit_price, o.size,
        int(o.reduce_only), o.time_in_force, o.status, o.reason, str(o.filled), str(o.shrunk), _s(o.avg_price),
        _s(o.last_filled_size), _s(o.last_filled_price), o.last_filled_time, str(o.fees),
        _s(o.realized_pnl), _s(o.settled_funding), str(o.mark_price), str(o.init_margin_ratio), o.post_time,
        o.status_time,
    )


def _fill_from_row(r: Sequence[Any]) -> Fill:
    return Fill(
        order_id=r[1], account_id=r[2], symbol=r[3], is_buy=bool(r[4]), price=Decimal(r[5]), qty=Decimal(r[6]),
        fee=Decimal(r[7]), closed_pnl=Decimal(r[8]), funding=Decimal(r[9]), start_position=Decimal(r[10]),
        taker=bool(r[11]), time=r[12], id=r[0],
    )


def _on_disk(path: str | None) -> bool:
    return bool(path) and path != ":memory:" and not str(path).startswith("file:")


def _make_private(path: str) -> None:
    """Create ``path`` 0600 (umask only removes bits, and 0600 has none to lose) or narrow
    an existing file, and its WAL side files, that others could read."""
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for name in (path, f"{path}-wal", f"{path}-shm"):
        try:
            mode = stat.S_IMODE(os.stat(name).st_mode)
        except FileNotFoundError:
            continue
        if mode & 0o077:
            os.chmod(name, mode & 0o700)


def _statements(ddl: str) -> list[str]:
    return [s.strip() for s in ddl.split(";") if s.strip()]


class Ledger:
    def __init__(self, path: str | None = None, schema: Schema | None = None) -> None:
        self.path = path
        self.schema = schema
        if path is not None and _on_disk(path):
            _make_private(path)
        self._conn = sqlite3.connect(path or ":memory:", isolation_level=None, check_same_thread=False)
        self._in_tx = False
        try:
            if path:
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._open()
        except BaseException:
            self._conn.close()
            raise

    def _open(self) -> None:
        fresh = self._one("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'meta'") is None
        core = None if fresh else self.get_meta("schema_version")
        owner = None if fresh else self.get_meta("dialect")
        schema = self.schema
        if schema is not None and owner is not None and owner != schema.name:
            raise LedgerError(f"this paper ledger belongs to the {owner!r} venue, not {schema.name!r}; use another file")
        dialect = None if fresh or schema is None else self.get_meta("dialect_schema_version")
        if fresh or (core is None and not self._has_tables()):
            with self.transaction():
                self.create_tables()
                self._stamp()
            return
        current = core == SCHEMA_VERSION and (schema is None or owner is None or dialect == schema.version)
        if not current:
            if schema is None or schema.upgrade is None:
                raise LedgerError(f"paper ledger schema {core} is not {SCHEMA_VERSION}; use a new file")
            with self.transaction():
                schema.upgrade(self, core, dialect)
                self._stamp()
        elif schema is not None and owner is None:
            with self.transaction():  # a core-only file adopted by a dialect
                self.create_tables()
                self._stamp()

    def _has_tables(self) -> bool:
        return bool(self._one("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name != 'meta'")[0] > 0)

    def _stamp(self) -> None:
        self.set_meta("schema_version", SCHEMA_VERSION)
        if self.schema is not None:
            self.set_meta("dialect", self.schema.name)
            self.set_meta("dialect_schema_version", self.schema.version)

    def create_tables(self) -> None:
        """Create the core's and the dialect's tables that do not exist yet (inside a transaction)."""
        for ddl in (CORE_SCHEMA, self.schema.ddl if self.schema else ""):
            for statement in _statements(ddl):
                self.execute(statement)

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

    @property
    def in_transaction(self) -> bool:
        return self._in_tx

    # --- raw access (for a dialect's own tables) -------------------------------------

    def execute(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Cursor:
        """A write; only inside ``transaction()``."""
        if not self._in_tx:
            raise LedgerError("ledger writes must happen inside transaction()")
        return self._conn.execute(sql, args)

    def query_one(self, sql: str, args: Sequence[Any] = ()) -> Any:
        return self._conn.execute(sql, args).fetchone()

    def query_all(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        return self._conn.execute(sql, args).fetchall()

    _write = execute
    _one = query_one
    _all = query_all

    # --- meta and sequences -----------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else row[0]

    def set_meta(self, key: str, value: str) -> None:
        self._write("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    def next_sequence(self, name: str, start: int = 1) -> int:
        """The next value of a named counter (``start`` first), e.g. integer order ids."""
        row = self._one("SELECT value FROM sequences WHERE name = ?", (name,))
        value = start if row is None else int(row[0]) + 1
        self._write("INSERT INTO sequences(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                    (name, value))
        return value

    # --- accounts -------------------------------------------------------------------

    def create_account(self, address: str, now_ms: int) -> Account:
        cur = self._write(
            "INSERT INTO accounts(address, balance, created_ms) VALUES (?, '0', ?)", (address.lower(), now_ms)
        )
        return Account(int(cur.lastrowid or 0), address.lower(), Decimal(0))

    def _account(self, where: str, arg: Any) -> Account | None:
        row = self._one(f"SELECT id, address, balance FROM accounts WHERE {where} = ?", (arg,))
        return None if row is None else Account(row[0], row[1], Decimal(row[2]))

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

    # --- positions and leverage -----------------------------------------------------

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

    def all_positions(self) -> list[tuple[int, Position]]:
        """Every open position of every account, ``(account_id, position)``."""
        rows = self._all(
            "SELECT account_id, symbol, size, entry_price, entry_funding, settled_funding FROM positions "
            "ORDER BY account_id, symbol"
        )
        return [(r[0], Position(r[1], *(Decimal(x) for x in r[2:]))) for r in rows]

    def net_sizes(self) -> dict[str, Decimal]:
        """Signed open interest per symbol over every paper account."""
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

    # --- orders ---------------------------------------------------------------------

    def insert_order(self, order: Order) -> None:
        self._write(f"INSERT INTO orders({_ORDER_COLS}) VALUES ({', '.join('?' * _N_ORDER_COLS)})", _order_values(order))

    def update_order(self, order: Order) -> None:
        cols = [c.strip() for c in _ORDER_COLS.split(",")]
        sets = ", ".join(f"{c} = ?" for c in cols[1:])
        values = _order_values(order)
        self._write(f"UPDATE orders SET {sets} WHERE id = ?", (*values[1:], values[0]))

    def order(self, order_id: str) -> Order | None:
        row = self._one(f"SELECT {_ORDER_COLS} FROM orders WHERE id = ?", (order_id,))
        return None if row is None else _order_from_row(row)

    def open_orders(self, account_id: int | None = None, symbol: str | None = None) -> list[Order]:
        """Resting orders, oldest first."""
        sql = f"SELECT {_ORDER_COLS} FROM orders WHERE status IN ('NEW', 'PARTIALLY_FILLED')"
        args: list[Any] = []
        if account_id is not None:
            sql += " AND account_id = ?"
            args.append(account_id)
        if symbol is not None:
            sql += " AND symbol = ?"
            args.append(symbol)
        return [_order_from_row(r) for r in self._all(sql + " ORDER BY post_time, rowid", args)]

    def find_orders(
        self,
        account_id: int,
        *,
        ids: Sequence[str] | None = None,
        client_id: str | None = None,
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
        for col, value in (("client_id", client_id), ("symbol", symbol), ("order_type", order_type), ("status", status)):
            if value is not None:
                sql += f" AND {col} = ?"
                args.append(value)
        if start_time is not None:
            sql += " AND post_time >= ?"
            args.append(start_time)
        if end_time is not None:
            sql += " AND post_time <= ?"
            args.append(end_time)
        sql += " ORDER BY post_time DESC, rowid DESC LIMIT ?"
        args.append(limit)
        return [_order_from_row(r) for r in self._all(sql, args)]

    # --- fills ----------------------------------------------------------------------

    def add_fill(self, fill: Fill) -> int:
        cur = self._write(
            f"INSERT INTO fills({_FILL_COLS}) VALUES ({', '.join('?' * 12)})",
            (fill.order_id, fill.account_id, fill.symbol, int(fill.is_buy), str(fill.price), str(fill.qty),
             str(fill.fee), str(fill.closed_pnl), str(fill.funding), str(fill.start_position), int(fill.taker), fill.time),
        )
        fill.id = int(cur.lastrowid or 0)
        return fill.id

    def fills(self, account_id: int, *, order_id: str | None = None, start: int | None = None,
              end: int | None = None, limit: int = 2000) -> list[Fill]:
        """Fills of one account in time order (oldest first), bounds inclusive; the newest
        ``limit`` when there are more."""
        sql = f"SELECT id, {_FILL_COLS} FROM fills WHERE account_id = ?"
        args: list[Any] = [account_id]
        for cond, value in (("order_id = ?", order_id), ("time >= ?", start), ("time <= ?", end)):
            if value is not None:
                sql += f" AND {cond}"
                args.append(value)
        rows = self._all(sql + " ORDER BY time DESC, id DESC LIMIT ?", (*args, limit))
        return [_fill_from_row(r) for r in reversed(rows)]

    # --- marks and funding ----------------------------------------------------------

    def load_marks(self) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
        return {r[0]: (Decimal(r[1]), Decimal(r[2]), Decimal(r[3])) for r in self._all("SELECT symbol, mark, idx, cum_funding FROM marks")}

    def save_marks(self, rows: Sequence[tuple[str, Decimal, Decimal, Decimal]]) -> None:
        for symbol, mark, index, cum in rows:
            self._write(
                "INSERT INTO marks(symbol, mark, idx, cum_funding) VALUES (?, ?, ?, ?) ON CONFLICT(symbol) DO UPDATE SET "
                "mark = excluded.mark, idx = excluded.idx, cum_funding = excluded.cum_funding",
                (symbol, str(mark), str(index), str(cum)),
            )

    def add_funding(self, symbol: str, time_ms: int, rate: Decimal, price: Decimal | None = None) -> None:
        self._write("INSERT OR REPLACE INTO funding_history(symbol, time, rate, price) VALUES (?, ?, ?, ?)",
                    (symbol, time_ms, str(rate), _s(price)))

    def funding_history(self, symbol: str, start: int | None, end: int | None, limit: int) -> list[tuple[int, Decimal]]:
        """``(time, rate)`` newest first."""
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

    def funding_price(self, symbol: str, time_ms: int) -> Decimal | None:
        """The price a funding event was computed on (``None`` when not recorded)."""
        row = self._one("SELECT price FROM funding_history WHERE symbol = ? AND time = ?", (symbol, time_ms))
        return None if row is None or row[0] is None else Decimal(row[0])

    def add_funding_payment(self, p: FundingPayment) -> None:
        self._write(
            "INSERT OR REPLACE INTO funding_payments(account_id, symbol, time, size, rate, amount) VALUES (?, ?, ?, ?, ?, ?)",
            (p.account_id, p.symbol, p.time, str(p.size), str(p.rate), str(p.amount)),
        )

    def funding_payments(self, account_id: int, start: int | None = None, end: int | None = None,
                         limit: int = 500) -> list[FundingPayment]:
        """Payments of one account, oldest first, bounds inclusive."""
        sql = "SELECT account_id, symbol, time, size, rate, amount FROM funding_payments WHERE account_id = ?"
        args: list[Any] = [account_id]
        for cond, value in (("time >= ?", start), ("time <= ?", end)):
            if value is not None:
                sql += f" AND {cond}"
                args.append(value)
        rows = self._all(sql + " ORDER BY time, symbol LIMIT ?", (*args, limit))
        return [FundingPayment(r[0], r[1], r[2], Decimal(r[3]), Decimal(r[4]), Decimal(r[5])) for r in rows]
