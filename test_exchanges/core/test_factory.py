"""The factory: lazy loading, key parsing from three forms, error paths."""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap
import types

import pytest

import exchange_factory
from exchange_factory import create_exchange, symbol_create
from mpdex.errors import ConfigError, ExchangeUnavailable, NotSupported
from test_exchanges.conftest import ROOT

FAKE_SPEC = exchange_factory.VenueSpec(
    name="fake", perp_symbol="{coin}-X", exchange="test_exchanges.fake_exchange:FakeExchange",
    key_fields=("api_key", "secret"), optional_key_fields={"region": "eu", "fail_init": False},
)


@pytest.fixture
def fake_registry(monkeypatch):
    monkeypatch.setitem(exchange_factory.VENUES, "fake", FAKE_SPEC)
    from test_exchanges import fake_exchange

    fake_exchange.FakeExchange.instances.clear()
    return fake_exchange.FakeExchange


@dataclasses.dataclass
class FakeKeyDC:
    api_key: str
    secret: str
    region: str = "eu"


@pytest.mark.parametrize(
    "keys",
    [
        FakeKeyDC(api_key="k-123", secret="s-456"),
        types.SimpleNamespace(api_key="k-123", secret="s-456"),
        {"api_key": "k-123", "secret": "s-456"},
    ],
    ids=["dataclass", "namespace", "dict"],
)
async def test_create_exchange_accepts_all_three_key_forms(fake_registry, keys):
    ex = await create_exchange("fake", keys)
    assert isinstance(ex, fake_registry)
    assert ex.initialised is True
    assert (ex.api_key, ex.secret) == ("k-123", "s-456")
    assert ex.region == "eu"  # optional field default or given


async def test_missing_field_names_the_field_not_the_values(fake_registry):
    with pytest.raises(ConfigError) as info:
        await create_exchange("fake", {"api_key": "k-SECRET-VALUE"})
    assert "'secret'" in str(info.value)
    assert "k-SECRET-VALUE" not in str(info.value)
    assert fake_registry.instances == []  # nothing was constructed


async def test_empty_field_counts_as_missing(fake_registry):
    with pytest.raises(ConfigError, match="'api_key'"):
        await create_exchange("fake", {"api_key": "  ", "secret": "s"})


async def test_unknown_exchange_lists_known_names():
    with pytest.raises(ConfigError) as info:
        await create_exchange("binance", {})
    assert "binance" in str(info.value) and "vest" in str(info.value)
    assert isinstance(info.value, ValueError)  # mpdex raised ValueError here


async def test_failed_init_closes_the_half_built_instance(fake_registry):
    with pytest.raises(ExchangeUnavailable):
        await create_exchange("fake", {"api_key": "k", "secret": "s", "fail_init": True})
    (ex,) = fake_registry.instances
    assert ex.closed == 1


async def test_options_reach_the_constructor(fake_registry):
    ex = await create_exchange("fake", {"api_key": "k", "secret": "s"}, use_ws=False)
    assert ex.options == {"use_ws": False}


@pytest.mark.parametrize(
    "coin,expected",
    [("btc", "BTC-PERP"), ("BTC", "BTC-PERP"), ("BTC-PERP", "BTC-PERP"),
     ("AAPL-USD-PERP", "AAPL-USD-PERP"), ("kBONK", "kBONK-PERP"), (" eth ", "ETH-PERP")],
)
def test_symbol_create_vest(coin, expected):
    assert symbol_create("vest", coin) == expected
    assert symbol_create("vest", coin, quote="USDT") == expected  # quote is ignored


def test_symbol_create_errors():
    with pytest.raises(NotSupported):
        symbol_create("vest", "BTC", is_spot=True)
    with pytest.raises(ConfigError, match="vest"):
        symbol_create("nope", "BTC")
    with pytest.raises(ConfigError):
        symbol_create("vest", "")


def _run(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_the_package_loads_no_exchange_and_no_transport():
    got = _run("""
        import json, sys
        import mpdex, exchange_factory, multi_perp_dex
        heavy = [m for m in ("wrappers.vest", "aiohttp", "websockets", "coincurve", "wrappers.vest_ws_client")
                 if m in sys.modules]
        print(json.dumps({"heavy": heavy, "errors": mpdex.errors.__name__}))
    """)
    assert got == {"heavy": [], "errors": "mpdex.errors"}


def test_creating_one_exchange_imports_no_other():
    got = _run("""
        import asyncio, json, sys
        import exchange_factory
        from exchange_factory import VENUES, VenueSpec
        VENUES["fake"] = VenueSpec(name="fake", perp_symbol="{coin}", exchange="test_exchanges.fake_exchange:FakeExchange",
                                   key_fields=("api_key", "secret"), optional_key_fields={"region": "eu", "fail_init": False})
        VENUES["other"] = VenueSpec(name="other", perp_symbol="{coin}", exchange="test_exchanges.exploding_module:Nope")
        asyncio.run(exchange_factory.create_exchange("fake", {"api_key": "k", "secret": "s"}))
        print(json.dumps({"other": "test_exchanges.exploding_module" in sys.modules,
                          "vest": "wrappers.vest" in sys.modules}))
    """)
    assert got == {"other": False, "vest": False}


def test_lazy_exports_resolve():
    got = _run("""
        import json, mpdex
        print(json.dumps([mpdex.create_exchange.__name__, mpdex.symbol_create("vest", "sol"),
                          mpdex.MultiPerpDex.__name__, mpdex.MultiPerpDexMixin.__name__]))
    """)
    assert got == ["create_exchange", "SOL-PERP", "MultiPerpDex", "MultiPerpDexMixin"]


def test_vest_registry_entry_lists_the_vest_key_fields():
    from wrappers.vest_keys import OPTIONAL_FIELDS, REQUIRED_FIELDS

    spec = exchange_factory.venue("vest")
    assert spec.key_fields == REQUIRED_FIELDS
    assert dict(spec.optional_key_fields) == OPTIONAL_FIELDS


@pytest.mark.parametrize(
    "name,coin,expected",
    [
        ("paradex", "btc", "BTC-USD-PERP"), ("edgex", "btc", "BTCUSD"), ("grvt", "btc", "BTC_USDT_Perp"),
        ("backpack", "btc", "BTC_USDC_PERP"), ("lighter", "btc", "BTC"),
        ("treadfi.hyperliquid", "btc", "BTC:PERP-USDC"), ("treadfi.hyperliquid", "xyz:abc", "xyz_ABC:PERP-USDC"),
        ("treadfi.pacifica", "btc", "BTC:PERP-USDC"), ("variational", "btc", "BTC"), ("pacifica", "btc", "BTC"),
        ("hyperliquid", "btc", "BTC"), ("hyperliquid", "xyz:xyz100", "xyz:XYZ100"), ("superstack", "btc", "BTC"),
        ("standx", "btc", "BTC-USD"), ("extended", "btc", "BTC-USD"),
    ],
)
def test_symbol_create_knows_every_mpdex_venue(name, coin, expected):
    assert symbol_create(name, coin) == expected
    assert exchange_factory.SYMBOL_FORMATS[name](coin.upper()) == expected


def test_treadfi_quote_and_spot_formats():
    assert symbol_create("treadfi.hyperliquid", "eth", quote="usdt") == "ETH:PERP-USDT"
    for sep in ("/", "_", "-"):
        assert symbol_create("backpack", f"btc{sep}usdc", is_spot=True) == "BTC_USDC"
        assert symbol_create("hyperliquid", f"btc{sep}usdc", is_spot=True) == "BTC/USDC"
        assert symbol_create("treadfi.hyperliquid", f"btc{sep}usdc", is_spot=True) == "BTC-USDC"
    from exchange_factory import SPOT_SYMBOL_FORMATS

    assert sorted(SPOT_SYMBOL_FORMATS) == ["backpack", "edgex", "hyperliquid", "lighter", "superstack",
                                           "treadfi.hyperliquid"]
    assert SPOT_SYMBOL_FORMATS["lighter"](["ETH", "USDC"]) == "ETH/USDC"
    with pytest.raises(NotSupported):
        symbol_create("paradex", "BTC/USDC", is_spot=True)
    with pytest.raises(ValueError):
        symbol_create("backpack", "BTCUSDC", is_spot=True)


async def test_creating_a_venue_that_is_not_implemented_names_the_implemented_ones():
    with pytest.raises(NotSupported) as info:
        await create_exchange("edgex", {"x": 1})
    assert "vest" in str(info.value) and "edgex" in str(info.value) and "paradex" in str(info.value)


async def test_an_option_wins_over_a_key_field_of_the_same_name(monkeypatch):
    spec = exchange_factory.VenueSpec(name="fake2", perp_symbol="{coin}", exchange="test_exchanges.fake_exchange:FakeExchange",
                                      key_fields=("api_key", "secret"),
                                      optional_key_fields={"region": "eu", "fail_init": False, "use_ws": True})
    monkeypatch.setitem(exchange_factory.VENUES, "fake2", spec)
    ex = await create_exchange("fake2", {"api_key": "k", "secret": "s", "use_ws": True}, use_ws=False)
    assert ex.options == {"use_ws": False}  # not a TypeError for a repeated keyword
