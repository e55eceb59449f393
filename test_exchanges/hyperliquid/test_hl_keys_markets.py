"""Hyperliquid keys (mpdex's field names, validation naming the field never the value, no
secret in repr, builder fees only when asked), the registry entry and template, markets
(asset ids, the price grid, the symbol rule and resolver)."""
from __future__ import annotations

import dataclasses
import importlib.util
import logging
import types
from decimal import Decimal as D

import pytest

import exchange_factory
from exchange_factory import create_exchange, symbol_create
from mpdex import errors as E
from mpdex.config import read_fields
from test_exchanges.conftest import ROOT
from wrappers import hyperliquid_keys as hk
from wrappers import hyperliquid_markets as hm

from .conftest import sample
from .hl_fakes import AGENT, AGENT_KEY, BASE, VAULT, WALLET, WALLET_KEY, FakeHyperliquid, key_fields

OTHER_KEY = "0x" + "4d" * 32


@dataclasses.dataclass
class HyperliquidKEY:  # an mpdex user's keys/pk_hyperliquid.py, verbatim shape
    wallet_address: str
    wallet_private_key: str
    agent_api_address: str
    agent_api_private_key: str
    by_agent: bool
    vault_address: str
    builder_code: str
    builder_fee_pair: dict
    fetch_by_ws: bool


def test_registry_entry_lists_the_key_fields_and_the_venue_choices():
    spec = exchange_factory.venue("hyperliquid")
    assert spec.key_fields == hk.REQUIRED_FIELDS == ("wallet_address",)
    assert dict(spec.optional_key_fields) == hk.OPTIONAL_FIELDS
    assert (spec.keys_variable, spec.key_class, spec.networks, spec.default_network, spec.time_in_force, spec.paper) == (
        "HYPERLIQUID_KEY", "wrappers.hyperliquid_keys:HyperliquidKey", ("mainnet", "testnet"), "mainnet",
        ("GTC", "IOC", "ALO"), "mpdex.paper:PaperHyperliquid")
    assert spec.exchange == "wrappers.hyperliquid:HyperliquidExchange"


@pytest.mark.parametrize("coin,expected", [("btc", "BTC"), ("BTC", "BTC"), ("xyz:xyz100", "xyz:XYZ100"),
                                           ("XYZ:abc", "xyz:ABC"), (" eth ", "ETH"), ("kPEPE", "KPEPE")])
def test_symbol_rule(coin, expected):
    assert symbol_create("hyperliquid", coin) == expected == hm.symbol_for_coin(coin.strip())
    assert symbol_create("hyperliquid", "btc/usdc", is_spot=True) == "BTC/USDC"


def test_the_template_loads_and_an_mpdex_key_file_shape_works(http):
    spec = importlib.util.spec_from_file_location("tmpl_hl", ROOT / "keys" / "copy.pk_hyperliquid.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    assert isinstance(module.HYPERLIQUID_KEY, hk.HyperliquidKey)
    assert set(dataclasses.asdict(module.HYPERLIQUID_KEY)) == set(hk.REQUIRED_FIELDS) | set(hk.OPTIONAL_FIELDS)
    mpdex_key = HyperliquidKEY(wallet_address=WALLET, wallet_private_key=None, agent_api_address=AGENT,  # type: ignore[arg-type]
                               agent_api_private_key=AGENT_KEY, by_agent=True, vault_address=None,  # type: ignore[arg-type]
                               builder_code=None, builder_fee_pair=None, fetch_by_ws=True)  # type: ignore[arg-type]
    key = hk.parse_hyperliquid_key(mpdex_key)
    assert (key.account_address, key.network, key.base_url, key.websocket_url) == (
        WALLET.lower(), "mainnet", BASE, "wss://api.hyperliquid.xyz/ws")
    spec_ = exchange_factory.venue("hyperliquid")
    assert read_fields(mpdex_key, spec_.key_fields, spec_.optional_key_fields)["network"] == "mainnet"


async def test_create_exchange_from_a_namespace(http):
    FakeHyperliquid(http)
    ex = await create_exchange("hyperliquid", types.SimpleNamespace(**key_fields()), use_ws=False)
    assert ex.available_symbols == {"perp": ["BTC", "ETH", "HPOS", "SOL", "kPEPE"]}  # LOOM is delisted
    assert ex.get_perp_quote("btc") == "USDC" and ex.CAPABILITIES >= {"orders", "funding", "fees", "positions"}
    await ex.close()


@pytest.mark.parametrize("fields,field", [
    ({"wallet_address": None}, "wallet_address"),
    ({"wallet_address": "0x123"}, "wallet_address"),
    ({"agent_api_private_key": None}, "agent_api_private_key"),
    ({"agent_api_private_key": "0x" + "00" * 32}, "agent_api_private_key"),
    ({"agent_api_address": "0x" + "11" * 20}, "agent_api_address"),
    ({"by_agent": False, "wallet_private_key": None}, "wallet_private_key"),
    ({"by_agent": "yes"}, "by_agent"),
    ({"wallet_private_key": OTHER_KEY}, "wallet_private_key"),  # not the key of wallet_address
    ({"network": "devnet"}, "network"),
    ({"rest_url": "ftp://x"}, "rest_url"),
    ({"ws_url": "https://x"}, "ws_url"),
    ({"proxy": "socks5://x"}, "proxy"),
    ({"vault_address": "vault"}, "vault_address"),
    ({"builder_code": "lit"}, "builder_code"),
    ({"builder_code": VAULT}, "builder_fee_pair"),  # a builder without an explicit fee
    ({"builder_code": VAULT, "builder_fee_pair": 101}, "builder_fee_pair"),  # above 0.1 %
    ({"builder_code": VAULT, "builder_fee_pair": "ten"}, "builder_fee_pair"),
    ({"builder_code": VAULT, "builder_fee_pair": {"base": (1, 2, 3)}}, "builder_fee_pair"),
    ({"fetch_by_ws": "no"}, "fetch_by_ws"),
    ({"FrontendMarket": "yes"}, "FrontendMarket"),
])
def test_bad_keys_name_the_field_never_the_value(fields, field):
    with pytest.raises(E.ConfigError) as info:
        hk.make_hyperliquid_key(**key_fields(**{"wallet_private_key": WALLET_KEY, **fields}))
    assert field in str(info.value)
    for secret in (AGENT_KEY, WALLET_KEY, OTHER_KEY, AGENT_KEY[2:], WALLET_KEY[2:]):
        assert secret not in str(info.value)


def test_repr_never_shows_a_secret():
    key = hk.make_hyperliquid_key(**key_fields(wallet_private_key=WALLET_KEY, proxy="http://user:pw@proxy:8080"))
    text = repr(key) + str(key)
    assert AGENT_KEY[2:] not in text and WALLET_KEY[2:] not in text and "pw@" not in text
    assert "agent_api_private_key='<redacted>'" in text and WALLET in text


def test_builder_fees_are_read_as_mpdex_writes_them():
    table = hk.make_hyperliquid_key(**key_fields(builder_code=VAULT, builder_fee_pair={"base": "10,20", "dex": 5,
                                                                                       "xyz": (1, 2)})).builder_fee_pair
    assert table == {"base": (10, 20), "dex": (5, 5), "xyz": (1, 2)}
    assert [hk.builder_fee_for(table, dex, m) for dex, m in (("", False), ("", True), ("xyz", True), ("abc", False))] == [
        10, 20, 2, 5]
    assert hk.builder_fee_for({"dex": (5, 5)}, "", False) is None  # no fee for the main dex: no builder


def test_fields_that_do_not_apply_are_accepted_and_said_so(caplog):
    caplog.set_level(logging.WARNING, "mpdex.hyperliquid")
    key = hk.make_hyperliquid_key(**key_fields(builder_fee_pair=10, FrontendMarket=True))
    assert key.builder_fee_pair is None and key.FrontendMarket is True
    assert "builder_fee_pair without builder_code is ignored" in caplog.text
    assert "FrontendMarket is ignored" in caplog.text


# -- markets ----------------------------------------------------------------------------------


def test_meta_parses_both_shapes_with_asset_ids_and_modes():
    current = hm.parse_meta(sample("info_meta_response"))
    assert [(m.symbol, m.asset, m.sz_decimals, m.max_leverage, m.margin_modes, m.delisted) for m in current.values()] == [
        ("BTC", 0, 5, 40, ["cross", "isolated"], False), ("ETH", 1, 4, 25, ["cross", "isolated"], False),
        ("HPOS", 2, 0, 3, ["isolated"], False), ("LOOM", 3, 1, 3, ["isolated"], True)]
    old = hm.parse_meta(sample("info_meta_2023_response"))
    assert old["kPEPE"].asset == 15 and old["BTC"].size_step == D("0.00001") and old["BTC"].price_decimals == 1
    assert hm.parse_meta(sample("info_meta_response"), dex="xyz", dex_index=1)["ETH"].asset == 110001
    markets, ctxs = hm.parse_meta_and_ctxs(sample("info_metaAndAssetCtxs_response"))
    assert ctxs["BTC"]["markPx"] == "14.3161" and markets["HPOS"].isolated_only
    with pytest.raises(E.ExchangeError):
        hm.parse_meta_and_ctxs([sample("info_meta_response"), []])


@pytest.mark.parametrize("sz_dec,price,mode,expected", [
    (5, "100000.7", "down", "100000"), (5, "100000.7", "up", "100001"),  # integers keep every digit
    (5, "12345.67", "down", "12345"), (5, "1234.567", "up", "1234.6"),  # 5 figures
    (4, "3000.123456", "down", "3000.1"), (0, "0.0123456", "down", "0.012345"),
    (2, "0.0012345", "up", "0.0013"),  # 6 - 2 = 4 decimals beat 5 figures
    (0, "1.23456789", "nearest", "1.2346"),
])
def test_the_price_grid_rounds_in_the_asked_direction(sz_dec, price, mode, expected):
    assert hm.HyperliquidMarket("X", 0, sz_dec, 10).price_grid.round_price(D(price), mode) == D(expected)


def test_the_resolver_accepts_mpdex_spellings_and_suggests_close_matches():
    resolver = hm.SymbolResolver(hm.parse_meta(sample("info_meta_2023_response")).values())
    for text in ("BTC", "btc", "BTC-PERP", "btc-usdc", " BTC "):
        assert resolver.resolve(text) == "BTC"
    assert resolver.resolve("KPEPE") == "kPEPE"
    with pytest.raises(E.BadSymbol, match="close matches: .*BTC"):
        resolver.resolve("BTCC")
    with pytest.raises(E.BadSymbol):
        resolver.resolve("")
    with pytest.raises(E.BadSymbol, match="ambiguous"):
        hm.SymbolResolver([hm.HyperliquidMarket("kABC", 0, 0, 1), hm.HyperliquidMarket("KABC", 1, 0, 1)]).resolve("kabc")
