"""The ledger file holds paper keys: it and its WAL side files are private (0600), also under
a permissive umask and for a file an older version left readable; money stays bounded."""
from __future__ import annotations

import os
import stat
from decimal import Decimal as D

import pytest

from mpdex.paper.ledger import Ledger
from mpdex.paper.markets import Market, market_table
from mpdex.paper.prices import PriceModel
from mpdex.paper.simulator import Simulator


def mode(path: str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def open_umask():
    old = os.umask(0)  # the most permissive: SQLite alone would create 0644 files
    try:
        yield
    finally:
        os.umask(old)


def test_a_new_ledger_and_its_wal_files_are_0600(tmp_path, open_umask) -> None:
    path = str(tmp_path / "paper.sqlite3")
    ledger = Ledger(path)
    with ledger.transaction():
        ledger.set_meta("default_account", "{}")
    assert os.path.exists(path + "-wal") and os.path.exists(path + "-shm")
    assert [mode(p) for p in (path, path + "-wal", path + "-shm")] == [0o600, 0o600, 0o600]
    ledger.close()


def test_an_old_readable_ledger_is_narrowed_when_opened(tmp_path, open_umask) -> None:
    path = str(tmp_path / "old.sqlite3")
    Ledger(path).close()
    for p in (path, path + "-wal", path + "-shm"):
        if os.path.exists(p):
            os.chmod(p, 0o644)
    ledger = Ledger(path)
    with ledger.transaction():
        ledger.set_meta("x", "1")
    assert all(mode(p) == 0o600 for p in (path, path + "-wal", path + "-shm") if os.path.exists(p))
    ledger.close()


def test_deposits_and_hand_set_prices_stay_within_exact_money() -> None:
    m = Market("AAA", "AAA", 2, 2, D("0.05"), D("0.025"), D("0.0005"), "crypto", D("100.00"))
    table = market_table([m])
    sim = Simulator(Ledger(None), table, PriceModel(table, 1, 0, None, 0), lambda: 0)
    account, _ = sim.open_account("0x" + "22" * 20)
    for amount in (D(10) ** 15, D(-10) ** 15, D("1e30")):
        with pytest.raises(ValueError, match="below"):
            sim.deposit(account.id, amount)
    assert sim.deposit(account.id, D("999999999999999.999999")) == D("999999999999999.999999")
    for price in (D(0), D(10) ** 15):
        with pytest.raises(ValueError, match="price"):
            sim.set_price("AAA", price)
