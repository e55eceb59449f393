"""The Hyperliquid paper venue's own ledger tables, declared as an extra ``Schema`` and
written inside the simulator's transactions: per-signer nonce sets, approved agents (API
wallets), the address-based request count, the funding premium of each funding event, and
dead-man switches (``scheduleCancel``).

Nonces (hyperliquid-api.md §4.7, the older documented rules): each *signer* — the master
key or an agent key, not the account — keeps its 100 highest nonces. A new nonce must not
be among them, must be larger than the smallest kept one once 100 are kept, and must lie in
the open window (T − 2 days, T + 1 day) around the server's time T. ``nonce_error`` says why
one is refused in the server's words; ``use_nonce`` stores it and prunes the set to 100.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from mpdex.paper.ledger import Ledger, Schema

__all__ = ["HL_SCHEMA", "HlStore", "Agent", "NONCES_KEPT", "NONCE_PAST_MS", "NONCE_FUTURE_MS"]

NONCES_KEPT = 100
NONCE_PAST_MS = 2 * 86_400_000
NONCE_FUTURE_MS = 86_400_000

_DDL = """
CREATE TABLE IF NOT EXISTS hl_nonces (
    signer TEXT NOT NULL,
    nonce INTEGER NOT NULL,
    PRIMARY KEY (signer, nonce)
);
CREATE TABLE IF NOT EXISTS hl_agents (
    agent TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    name TEXT NOT NULL,
    valid_until INTEGER NOT NULL,
    approved_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS hl_requests (
    account_id INTEGER PRIMARY KEY REFERENCES accounts(id),
    used INTEGER NOT NULL,
    last_over_ms INTEGER
);
CREATE TABLE IF NOT EXISTS hl_premiums (
    symbol TEXT NOT NULL,
    time INTEGER NOT NULL,
    premium TEXT NOT NULL,
    PRIMARY KEY (symbol, time)
);
CREATE TABLE IF NOT EXISTS hl_schedules (
    account_id INTEGER PRIMARY KEY REFERENCES accounts(id),
    time INTEGER NOT NULL
)
"""

HL_SCHEMA = Schema(name="hyperliquid", version="1", ddl=_DDL)


@dataclass(frozen=True)
class Agent:
    address: str  # lower case
    account_id: int
    name: str  # "" for the unnamed agent
    valid_until: int
    approved_ms: int


class HlStore:
    """Reads and writes of the Hyperliquid tables (writes inside a ledger transaction)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    # --- nonces -----------------------------------------------------------------------

    def nonce_error(self, signer: str, nonce: int, now_ms: int) -> str | None:
        """The server's refusal of ``nonce`` for ``signer`` at ``now_ms``, or ``None``."""
        kept = [int(r[0]) for r in self.ledger.query_all(
            "SELECT nonce FROM hl_nonces WHERE signer = ? ORDER BY nonce DESC LIMIT ?", (signer.lower(), NONCES_KEPT))]
        if nonce in kept:
            return f"Invalid nonce: duplicate nonce {nonce}"
        floor = now_ms - NONCE_PAST_MS + 1
        if len(kept) == NONCES_KEPT:
            floor = max(floor, kept[-1] + 1)
        if nonce < floor:
            return f"Invalid nonce: nonce too low {nonce} < {floor}"
        ceiling = now_ms + NONCE_FUTURE_MS - 1
        if nonce > ceiling:
            return f"Invalid nonce: nonce too high {nonce} > {ceiling}"
        return None

    def use_nonce(self, signer: str, nonce: int) -> None:
        signer = signer.lower()
        self.ledger.execute("INSERT INTO hl_nonces(signer, nonce) VALUES (?, ?)", (signer, nonce))
        self.ledger.execute(
            "DELETE FROM hl_nonces WHERE signer = ? AND nonce < (SELECT nonce FROM hl_nonces WHERE signer = ? "
            "ORDER BY nonce DESC LIMIT 1 OFFSET ?)", (signer, signer, NONCES_KEPT - 1))

    def nonces(self, signer: str) -> list[int]:
        """The kept nonces of ``signer``, highest first."""
        return [int(r[0]) for r in self.ledger.query_all(
            "SELECT nonce FROM hl_nonces WHERE signer = ? ORDER BY nonce DESC", (signer.lower(),))]

    # --- agents -----------------------------------------------------------------------

    def _agents(self, where: str, args: tuple[object, ...]) -> list[Agent]:
        rows = self.ledger.query_all(
            f"SELECT agent, account_id, name, valid_until, approved_ms FROM hl_agents WHERE {where} ORDER BY approved_ms, agent",
            args)
        return [Agent(*r) for r in rows]

    def agent(self, address: str) -> Agent | None:
        found = self._agents("agent = ?", (address.lower(),))
        return found[0] if found else None

    def agents_of(self, account_id: int) -> list[Agent]:
        return self._agents("account_id = ?", (account_id,))

    def put_agent(self, agent: Agent) -> None:
        """Approve ``agent``: an unnamed one replaces the account's unnamed agent, a named one
        the agent of that name."""
        self.ledger.execute("DELETE FROM hl_agents WHERE account_id = ? AND name = ?", (agent.account_id, agent.name))
        self.ledger.execute("DELETE FROM hl_agents WHERE agent = ?", (agent.address,))
        self.ledger.execute(
            "INSERT INTO hl_agents(agent, account_id, name, valid_until, approved_ms) VALUES (?, ?, ?, ?, ?)",
            (agent.address, agent.account_id, agent.name, agent.valid_until, agent.approved_ms))

    # --- the address-based request budget ----------------------------------------------

    def requests(self, account_id: int) -> tuple[int, int | None]:
        """``(requests used, when the last request past the cap was let through)``."""
        row = self.ledger.query_one("SELECT used, last_over_ms FROM hl_requests WHERE account_id = ?", (account_id,))
        return (0, None) if row is None else (int(row[0]), row[1])

    def add_requests(self, account_id: int, n: int, over_ms: int | None = None) -> None:
        used, last = self.requests(account_id)
        self.ledger.execute(
            "INSERT INTO hl_requests(account_id, used, last_over_ms) VALUES (?, ?, ?) ON CONFLICT(account_id) DO UPDATE "
            "SET used = excluded.used, last_over_ms = excluded.last_over_ms",
            (account_id, used + n, over_ms if over_ms is not None else last))

    def volume(self, account_id: int) -> Decimal:
        """Lifetime traded notional (USDC) of the account."""
        rows = self.ledger.query_all("SELECT price, qty FROM fills WHERE account_id = ?", (account_id,))
        return sum((Decimal(p) * Decimal(q) for p, q in rows), Decimal(0))

    # --- funding premiums ----------------------------------------------------------------

    def put_premium(self, symbol: str, time_ms: int, premium: Decimal) -> None:
        self.ledger.execute("INSERT OR REPLACE INTO hl_premiums(symbol, time, premium) VALUES (?, ?, ?)",
                            (symbol, time_ms, str(premium)))

    def premium(self, symbol: str, time_ms: int) -> Decimal | None:
        row = self.ledger.query_one("SELECT premium FROM hl_premiums WHERE symbol = ? AND time = ?", (symbol, time_ms))
        return None if row is None else Decimal(row[0])

    # --- dead-man switches -----------------------------------------------------------------

    def schedule(self, account_id: int) -> int | None:
        row = self.ledger.query_one("SELECT time FROM hl_schedules WHERE account_id = ?", (account_id,))
        return None if row is None else int(row[0])

    def set_schedule(self, account_id: int, time_ms: int | None) -> None:
        self.ledger.execute("DELETE FROM hl_schedules WHERE account_id = ?", (account_id,))
        if time_ms is not None:
            self.ledger.execute("INSERT INTO hl_schedules(account_id, time) VALUES (?, ?)", (account_id, time_ms))

    def due_schedules(self, now_ms: int) -> list[tuple[int, int]]:
        """``(account_id, time)`` of the switches whose time has come."""
        return [(int(a), int(t)) for a, t in self.ledger.query_all(
            "SELECT account_id, time FROM hl_schedules WHERE time <= ? ORDER BY time", (now_ms,))]
