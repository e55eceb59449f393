"""The Vest paper venue's own ledger tables: account groups, API keys (one per registered
signer), nonces (unique per account; orders and cancels share the space) and listen keys —
declared as an extra ``Schema`` and written in the simulator's transactions.

``upgrade`` converts a ledger written before the simulator core was split out (core schema
1, when these tables had unprefixed names and orders carried the nonce and the Vest code):
every account, key, nonce, order, position, mark and funding row survives.
"""
from __future__ import annotations

from dataclasses import dataclass

from mpdex.paper.ledger import Ledger, LedgerError, Schema
from mpdex.paper.rules import Reason

__all__ = ["VEST_SCHEMA", "VestStore", "ApiKey", "ListenKey", "ACCOUNT_GROUPS"]

ACCOUNT_GROUPS = 3

_DDL = """
CREATE TABLE IF NOT EXISTS vest_groups (
    account_id INTEGER PRIMARY KEY REFERENCES accounts(id),
    acc_group INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS vest_api_keys (
    api_key TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    signing_address TEXT NOT NULL,
    expiry_ms INTEGER NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS vest_nonces (
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    nonce INTEGER NOT NULL,
    kind TEXT NOT NULL,
    PRIMARY KEY (account_id, nonce)
);
CREATE TABLE IF NOT EXISTS vest_listen_keys (
    listen_key TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL UNIQUE REFERENCES accounts(id),
    expiry_ms INTEGER NOT NULL
)
"""


@dataclass
class ApiKey:
    api_key: str
    account_id: int
    signing_address: str  # checksum form
    expiry_ms: int


@dataclass
class ListenKey:
    listen_key: str
    account_id: int
    expiry_ms: int


_V1_CODES = {3018: Reason.REDUCE_ONLY_INCREASES, 3019: Reason.REDUCE_ONLY_EXCEEDS, 3002: Reason.INSUFFICIENT_MARGIN}


def _upgrade(ledger: Ledger, core: str | None, dialect: str | None) -> None:
    if core == "2" and dialect is None:
        ledger.create_tables()
        return
    if core != "1":
        raise LedgerError(f"paper ledger schema {core}/{dialect} cannot be upgraded; use a new file")
    x = ledger.execute
    # every table that references accounts moves aside (renaming a parent rewrites its
    # children's references, so they are all copied and dropped, children first)
    for table in ("accounts", "positions", "leverages", "orders"):
        x(f"ALTER TABLE {table} RENAME TO v1_{table}")
    for index in ("orders_open", "orders_account"):
        x(f"DROP INDEX IF EXISTS {index}")
    ledger.create_tables()
    x("ALTER TABLE funding_history ADD COLUMN price TEXT")
    x("INSERT INTO accounts(id, address, balance, created_ms) SELECT id, address, balance, created_ms FROM v1_accounts")
    x("INSERT INTO vest_groups(account_id, acc_group) SELECT id, acc_group FROM v1_accounts")
    x("INSERT INTO positions SELECT * FROM v1_positions")
    x("INSERT INTO leverages SELECT * FROM v1_leverages")
    x("INSERT INTO vest_api_keys SELECT api_key, account_id, signing_address, expiry_ms, created_ms FROM api_keys")
    x("INSERT INTO vest_nonces SELECT account_id, nonce, kind FROM nonces")
    x("INSERT INTO vest_listen_keys SELECT listen_key, account_id, expiry_ms FROM listen_keys")
    reason = "CASE code " + " ".join(f"WHEN {c} THEN '{r.value}'" for c, r in _V1_CODES.items()) + " END"
    x(
        "INSERT INTO orders(id, account_id, client_id, symbol, is_buy, order_type, limit_price, size, reduce_only, "
        "time_in_force, status, reason, filled, shrunk, avg_price, last_filled_size, last_filled_price, last_filled_time, "
        "fees, realized_pnl, settled_funding, mark_price, init_margin_ratio, post_time, status_time) "
        f"SELECT id, account_id, CAST(nonce AS TEXT), symbol, is_buy, order_type, limit_price, size, reduce_only, "
        f"time_in_force, status, {reason}, filled, '0', avg_price, last_filled_size, last_filled_price, last_filled_time, "
        "fees, realized_pnl, settled_funding, mark_price, init_margin_ratio, post_time, COALESCE(last_filled_time, post_time) "
        "FROM v1_orders ORDER BY post_time, nonce"
    )
    for table in ("api_keys", "nonces", "listen_keys", "v1_orders", "v1_positions", "v1_leverages", "v1_accounts"):
        x(f"DROP TABLE {table}")

VEST_SCHEMA = Schema(name="vest", version="1", ddl=_DDL, upgrade=_upgrade)


class VestStore:
    """Reads and writes of the Vest tables (writes inside a ledger transaction)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    # --- account groups --------------------------------------------------------------

    def assign_group(self, account_id: int) -> int:
        """``account_id % 3``, so the first account is in group 1 and a client that
        hard-codes ``restserver0`` in its headers fails at once."""
        group = account_id % ACCOUNT_GROUPS
        self.ledger.execute("INSERT OR IGNORE INTO vest_groups(account_id, acc_group) VALUES (?, ?)", (account_id, group))
        return self.group(account_id)

    def group(self, account_id: int) -> int:
        row = self.ledger.query_one("SELECT acc_group FROM vest_groups WHERE account_id = ?", (account_id,))
        if row is None:
            raise LedgerError(f"account {account_id} has no Vest account group")
        return int(row[0])

    # --- API keys ---------------------------------------------------------------------

    def add_api_key(self, key: ApiKey, now_ms: int) -> None:
        self.ledger.execute(
            "INSERT INTO vest_api_keys(api_key, account_id, signing_address, expiry_ms, created_ms) VALUES (?, ?, ?, ?, ?)",
            (key.api_key, key.account_id, key.signing_address, key.expiry_ms, now_ms),
        )

    def api_key(self, api_key: str) -> ApiKey | None:
        row = self.ledger.query_one(
            "SELECT api_key, account_id, signing_address, expiry_ms FROM vest_api_keys WHERE api_key = ?", (api_key,)
        )
        return None if row is None else ApiKey(*row)

    # --- nonces -----------------------------------------------------------------------

    def nonce_used(self, account_id: int, nonce: int) -> bool:
        return self.ledger.query_one(
            "SELECT 1 FROM vest_nonces WHERE account_id = ? AND nonce = ?", (account_id, nonce)
        ) is not None

    def use_nonce(self, account_id: int, nonce: int, kind: str) -> None:
        self.ledger.execute("INSERT INTO vest_nonces(account_id, nonce, kind) VALUES (?, ?, ?)", (account_id, nonce, kind))

    def last_nonce(self, account_id: int) -> int:
        row = self.ledger.query_one("SELECT MAX(nonce) FROM vest_nonces WHERE account_id = ?", (account_id,))
        return int(row[0]) if row and row[0] is not None else 0

    # --- listen keys --------------------------------------------------------------------

    def listen_key_of(self, account_id: int) -> ListenKey | None:
        row = self.ledger.query_one(
            "SELECT listen_key, account_id, expiry_ms FROM vest_listen_keys WHERE account_id = ?", (account_id,)
        )
        return None if row is None else ListenKey(*row)

    def listen_key(self, key: str) -> ListenKey | None:
        row = self.ledger.query_one(
            "SELECT listen_key, account_id, expiry_ms FROM vest_listen_keys WHERE listen_key = ?", (key,)
        )
        return None if row is None else ListenKey(*row)

    def put_listen_key(self, lk: ListenKey) -> None:
        self.ledger.execute("DELETE FROM vest_listen_keys WHERE account_id = ?", (lk.account_id,))
        self.ledger.execute("INSERT INTO vest_listen_keys(listen_key, account_id, expiry_ms) VALUES (?, ?, ?)",
                            (lk.listen_key, lk.account_id, lk.expiry_ms))

    def delete_listen_key(self, account_id: int) -> None:
        self.ledger.execute("DELETE FROM vest_listen_keys WHERE account_id = ?", (account_id,))

    def expire_listen_keys(self, now_ms: int) -> None:
        self.ledger.execute("UPDATE vest_listen_keys SET expiry_ms = ? WHERE expiry_ms > ?", (now_ms, now_ms))
