"""The CLI is driven by the venue registry and the exchange's declared capabilities: a venue
added to ``VENUES`` gets its own choices, modules, keys variable and paper ledger without a
line of CLI code; nothing in ``mpdex/cli`` names a venue."""
from __future__ import annotations

import dataclasses
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest

import exchange_factory
from mpdex.cli import app, arguments, session
from test_exchanges.conftest import ROOT

CLI_DIR = ROOT / "mpdex" / "cli"


@pytest.fixture(autouse=True)
def keep_root_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


class NoFundingExchange:
    """A class that declares no optional capability (its registry entry lists no extras)."""

    CAPABILITIES: frozenset[str] = frozenset()


@pytest.fixture
def other_venue(monkeypatch):
    """``vestclone``: Vest's exchange and paper classes under another name, with its own choices."""
    vest = exchange_factory.venue("vest")
    spec = exchange_factory.VenueSpec(
        name="vestclone", perp_symbol=vest.perp_symbol, exchange=vest.exchange, key_fields=vest.key_fields,
        optional_key_fields=vest.optional_key_fields, keys_variable="VESTCLONE_KEY", key_class=vest.key_class,
        networks=("main",), default_network="main", paper=vest.paper, time_in_force=("GTC",),
    )
    bare = exchange_factory.VenueSpec(name="bare", perp_symbol="{coin}-PERP",
                                      exchange="test_exchanges.cli.test_registry_driven:NoFundingExchange",
                                      keys_variable="BARE_KEY")
    monkeypatch.setitem(exchange_factory.VENUES, "vestclone", spec)
    monkeypatch.setitem(exchange_factory.VENUES, "bare", bare)
    return spec


def test_choices_and_modules_come_from_the_registry_and_capabilities(other_venue, capsys):
    vest = arguments.load_venue("vest")
    assert "funding" in vest.modules and "register" in vest.modules  # capability + extra_modules
    clone = arguments.load_venue("vestclone")
    assert "funding" in clone.modules and "register" not in clone.modules  # no extra_modules
    bare = arguments.load_venue("bare")
    assert "funding" not in bare.modules and "register" not in bare.modules and "check" in bare.modules

    with pytest.raises(SystemExit):
        arguments.parse_args(["--exchange", "vestclone", "--module", "order", "--coin", "BTC", "--side", "buy",
                              "--amount", "1", "--price", "1", "--tif", "FOK"])
    assert "invalid choice: 'FOK' (choose from 'GTC')" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        arguments.parse_args(["--exchange", "vestclone", "--module", "register"])
    assert "invalid choice: 'register'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        arguments.parse_args(["--exchange", "bare", "--module", "funding", "--coin", "BTC"])
    assert "invalid choice: 'funding'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        arguments.parse_args(["--exchange", "bare", "--paper", "--module", "check"])
    assert "--paper is not available for --exchange bare: it has no paper venue" in capsys.readouterr().err
    args = arguments.parse_args(["--exchange", "vestclone", "--module", "order", "--coin", "BTC", "--side", "buy",
                                 "--amount", "1", "--price", "1", "--tif", "gtc"])
    assert (args.venue.name, args.tif) == ("vestclone", "GTC")


def test_missing_keys_file_names_the_registry_variable_and_no_register_where_there_is_none(other_venue, capsys,
                                                                                           tmp_path):
    code = app.main(["--exchange", "vestclone", "--module", "check", "--keys", str(tmp_path / "k.py")])
    err = capsys.readouterr().err
    assert code == 1 and "--module register" not in err and "keys/copy.pk_vestclone.py" in err
    (tmp_path / "k.py").write_text("VEST_KEY = 1\n")
    code = app.main(["--exchange", "vestclone", "--module", "check", "--keys", str(tmp_path / "k.py")])
    assert code == 1 and capsys.readouterr().err.strip() == f"error: keys file {tmp_path / 'k.py'} does not define VESTCLONE_KEY"


def test_paper_mode_runs_any_venue_with_a_paper_class_on_its_own_ledger(other_venue, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert app.main(["--exchange", "vestclone", "--paper", "--json", "--module", "check"]) == 0
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert (doc["exchange"], doc["paper"]) == ("vestclone", True)
    assert doc["collateral"]["total_collateral"] == session.PAPER_USDC
    ledger = tmp_path / "mpdex-vest" / "paper-vestclone.sqlite3"
    assert f"ledger {ledger}" in err and ledger.exists()
    assert not (tmp_path / "mpdex-vest" / "paper-vest.sqlite3").exists()


def test_paper_ledger_one_file_per_venue_and_the_old_default_kept(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    base = tmp_path / "mpdex-vest"
    assert session.default_paper_db("vest") == base / "paper-vest.sqlite3"
    assert session.default_paper_db("hyperliquid") == base / "paper-hyperliquid.sqlite3"
    base.mkdir()
    (base / "paper.sqlite3").write_bytes(b"")  # a ledger from before there were several venues
    assert session.default_paper_db("vest") == base / "paper.sqlite3"
    assert session.default_paper_db("hyperliquid") == base / "paper-hyperliquid.sqlite3"
    (base / "paper-vest.sqlite3").write_bytes(b"")
    assert session.default_paper_db("vest") == base / "paper-vest.sqlite3"


def _code_without_docstrings(path: Path) -> str:
    text = path.read_text()
    return re.sub(r'"""[\s\S]*?"""', "", text)


@pytest.mark.parametrize("path", sorted(CLI_DIR.glob("*.py")), ids=lambda p: p.name)
def test_no_cli_file_names_a_venue_or_probes_the_exchange(path: Path):
    code = _code_without_docstrings(path)
    venues = [n for n in exchange_factory.VENUES if re.search(rf"""["']{re.escape(n)}["']""", code)]
    allowed: dict[str, Any] = {"arguments.py": ["vest"]}  # DEFAULT_EXCHANGE, the one default
    assert venues == allowed.get(path.name, [])
    probes = re.findall(r"getattr\(\s*(?:ex|ctx\.exchange|exchange)\b[^)]*\)", code)
    assert probes == []  # market rules come from the contract's get_markets, not from an attribute


def test_the_arbitrage_modules_run_on_venues_only_the_registry_names(other_venue, monkeypatch, tmp_path, capsys):
    """Two venues that exist only as registry entries are compared and hedged, each on its own
    paper ledger; their choices in --long/--short/--exchanges come from the registry too."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.setitem(exchange_factory.VENUES, "vestclone2",
                        dataclasses.replace(other_venue, name="vestclone2", keys_variable="VESTCLONE2_KEY"))
    code = app.main(["--paper", "--json", "--module", "spread", "--exchanges", "vestclone,vestclone2", "--coins", "BTC",
                     "--once"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert set(json.loads(out)["quotes"]["BTC"]) == {"vestclone", "vestclone2"}
    code = app.main(["--paper", "--json", "--module", "hedge", "--coin", "BTC", "--long", "vestclone", "--short",
                     "vestclone2", "--amount", "0.001"])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    assert doc["status"] == "hedged" and [leg["venue"] for leg in doc["plan"]["preview"]["legs"]] == ["vestclone",
                                                                                                   "vestclone2"]
    assert {p.name for p in (tmp_path / "mpdex-vest").glob("*.sqlite3")} == {"paper-vestclone.sqlite3",
                                                                             "paper-vestclone2.sqlite3"}
    with pytest.raises(SystemExit):  # a registry venue without a paper class
        arguments.parse_args(["--paper", "--module", "hedge", "--coin", "BTC", "--long", "bare", "--short",
                              "vestclone", "--amount", "1"])
    assert "--paper is not available for bare: no paper venue" in capsys.readouterr().err


def test_the_arbitrage_file_is_among_the_scanned_ones():
    assert "arb.py" in {p.name for p in CLI_DIR.glob("*.py")}
