"""Exchange-neutral parts of the ccxt adapter: error mapping, registry, lazy import, keys."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from decimal import Decimal

import ccxt
import pytest

import exchange_factory
from exchange_factory import create_exchange, symbol_create
from mpdex import errors as E
from test_exchanges.conftest import ROOT
from wrappers import ccxt_parsers as P
from wrappers.ccxt_build import _override_urls
from wrappers.ccxt_errors import map_ccxt_error
from wrappers.ccxt_perp import CcxtPerpExchange
from wrappers.ccxt_venues import CCXT_VENUES

CCXT_NAMES = ("paradex", "backpack", "grvt", "extended", "pacifica", "lighter")


@pytest.mark.parametrize("ccxt_error, ours", [
    (ccxt.InsufficientFunds, E.InsufficientMargin),
    (ccxt.InvalidOrder, E.InvalidOrder),
    (ccxt.OrderNotFound, E.OrderNotFound),
    (ccxt.DuplicateOrderId, E.DuplicateOrder),
    (ccxt.BadSymbol, E.BadSymbol),
    (ccxt.AuthenticationError, E.AuthenticationError),
    (ccxt.PermissionDenied, E.PermissionDenied),
    (ccxt.AccountSuspended, E.PermissionDenied),
    (ccxt.NotSupported, E.NotSupported),
    (ccxt.MarketClosed, E.MarketClosed),
    (ccxt.ArgumentsRequired, E.BadRequest),
    (ccxt.BadRequest, E.BadRequest),
    (ccxt.InvalidNonce, E.BadRequest),
    (ccxt.ExchangeError, E.ExchangeError),
    (ccxt.RateLimitExceeded, E.RateLimitExceeded),
    (ccxt.DDoSProtection, E.RateLimitExceeded),
    (ccxt.RequestTimeout, E.RequestTimeout),
    (ccxt.ExchangeNotAvailable, E.ExchangeUnavailable),
    (ccxt.OnMaintenance, E.ExchangeUnavailable),
    (ccxt.NetworkError, E.NetworkError),
    (ccxt.BadResponse, E.NetworkError),
])
def test_each_ccxt_error_class_maps_onto_ours(ccxt_error, ours):
    mapped = map_ccxt_error(ccxt_error("venue said no"), "v")
    assert type(mapped) is ours and "venue said no" in str(mapped)
    refused = issubclass(ours, E.ExchangeError)
    assert isinstance(mapped, E.ExchangeError) is refused and isinstance(mapped, E.NetworkError) is not refused


def test_an_unreadable_answer_is_unknown_outcome_not_a_refusal():
    import aiohttp

    try:
        try:
            raise aiohttp.ClientPayloadError("truncated")
        except aiohttp.ClientError as cause:
            raise ccxt.ExchangeError("hyperliquid POST /exchange") from cause
    except ccxt.ExchangeError as exc:
        assert type(map_ccxt_error(exc, "v")) is E.NetworkError
    assert type(map_ccxt_error(KeyError("x"), "v")) is E.NetworkError  # unknown: never a refusal


@pytest.mark.parametrize("mode, value, step", [
    (P.TICK_SIZE, 0.001, "0.001"), (P.TICK_SIZE, 1e-05, "0.00001"), (P.TICK_SIZE, 0.5, "0.5"),
    (P.TICK_SIZE, 10, "10"), (P.DECIMAL_PLACES, 3, "0.001"), (P.DECIMAL_PLACES, 0, "1"),
])
def test_precision_modes_are_read_exactly(mode, value, step):
    assert P.step_from_precision(value, mode, "amount", "X") == Decimal(step)


def test_significant_digits_mode_is_refused():
    with pytest.raises(E.NotSupported):
        P.step_from_precision(4, P.SIGNIFICANT_DIGITS, "price", "X")


@pytest.mark.parametrize("interval, hours", [("1h", "1"), ("8h", "8"), ("24h", "24"), ("1d", "24"), ("30m", "0.5")])
def test_funding_interval_from_ccxt(interval, hours):
    assert P.interval_hours(interval) == Decimal(hours)


def test_no_interval_no_per_hour_rate():
    with pytest.raises(E.NotSupported, match="interval"):
        P.parse_funding_rate({"fundingRate": 0.0001, "interval": None}, "BTC", "lighter")
    rate = P.parse_funding_rate({"fundingRate": 0.0008, "interval": "8h"}, "BTC", "x")
    assert (rate["interval_hours"], rate["funding_rate_per_hour"]) == (8.0, 0.0001)


def test_registry_key_fields_are_the_entries_mapping():
    for name, entry in CCXT_VENUES.items():
        spec = exchange_factory.venue(name)
        assert spec.via == "ccxt" and spec.constructor_options == {"venue": name}
        assert spec.exchange == "wrappers.ccxt_perp:CcxtPerpExchange"
        fields = set(spec.key_fields) | set(spec.optional_key_fields)
        assert set(entry.credentials) <= fields, name
        assert set(entry.requires) <= fields


@pytest.mark.parametrize("name, coin, native", [
    ("paradex", "btc", "BTC-USD-PERP"), ("backpack", "BTC", "BTC_USDC_PERP"), ("grvt", "BTC", "BTC_USDT_Perp"),
    ("extended", "BTC", "BTC-USD"), ("pacifica", "BTC", "BTC"), ("lighter", "BTC", "BTC"),
    ("ccxt:hyperliquid", "btc", "BTC"), ("ccxt:paradex", "eth", "ETH-USD-PERP"),
])
def test_mpdex_symbol_formats_are_kept(name, coin, native):
    assert symbol_create(name, coin) == native


def test_implemented_venues_include_the_ccxt_ones():
    assert set(CCXT_NAMES) <= set(exchange_factory.implemented_venues())


async def test_unknown_ccxt_id_is_not_supported_and_names_the_known_ones():
    with pytest.raises(E.NotSupported) as info:
        await create_exchange("ccxt:binance", {"api_key": "k"})
    assert "ccxt:hyperliquid" in str(info.value) and "ccxt:paradex" in str(info.value)


async def test_lighter_without_its_signer_library_says_what_is_needed(tmp_path):
    keys = {"account_id": 7, "private_key": "ab" * 40, "api_key_id": 5}
    with pytest.raises(E.ConfigError, match="signer_library"):
        await create_exchange("lighter", keys)
    with pytest.raises(E.ConfigError, match="existing file"):
        await create_exchange("lighter", {**keys, "signer_library": str(tmp_path / "missing.so")})
    lib = tmp_path / "lighter-signer.so"
    lib.write_bytes(b"")
    with pytest.raises(E.ConfigError, match="4..254"):
        CcxtPerpExchange("lighter", **{**keys, "api_key_id": 2, "signer_library": str(lib)})
    ex = CcxtPerpExchange("lighter", **{**keys, "signer_library": str(lib)})
    o = ex.exchange.options
    assert (o["libraryPath"], o["accountIndex"], o["apiKeyIndex"]) == (str(lib), 7, 5)
    assert o["auths"]["7"]["5"]["lighterPrivateKey"] == "ab" * 40 and not ex.exchange.privateKey
    assert o["builderFee"] is False
    await ex.close()


@pytest.mark.parametrize("name", [*CCXT_NAMES[:-1], "ccxt:hyperliquid"])
def test_every_venue_is_built_with_ccxt_defaults_that_pay_ccxt_turned_off(name):
    entry = CCXT_VENUES[name]
    fields = {f: "0x" + "1" * 64 for f in entry.credentials}
    if name == "ccxt:hyperliquid":
        fields["wallet_private_key"] = "0x" + "2" * 64
    ex = CcxtPerpExchange(name, **fields)
    assert ex.exchange.enableRateLimit is False
    assert ex.exchange.options.get("builderFee", False) is False
    for method in entry.disabled_methods:
        assert getattr(type(ex.exchange), method).__name__ == method
        assert getattr(type(ex.exchange), method).__qualname__.startswith("_disabled")
    opted = CcxtPerpExchange(name, builder_fees=True, **fields)
    assert type(opted.exchange).__name__ == entry.ccxt_id  # ccxt's own class, untouched


def test_rest_url_keeps_each_urls_path():
    api = {"v1": "https://api.prod.{hostname}/v1", "v2": "https://api.prod.{hostname}/v2",
           "ws": "wss://ws.x/v1", "nested": {"a": "https://edge.grvt.io/"}}
    assert _override_urls(api, "http://127.0.0.1:9000") == {
        "v1": "http://127.0.0.1:9000/v1", "v2": "http://127.0.0.1:9000/v2", "ws": "wss://ws.x/v1",
        "nested": {"a": "http://127.0.0.1:9000/"}}
    assert _override_urls("https://api.{hostname}", "http://127.0.0.1:1/hl") == "http://127.0.0.1:1/hl"


def test_importing_mpdex_and_the_factory_or_using_vest_never_imports_ccxt():
    code = textwrap.dedent("""
        import sys, asyncio
        import mpdex, exchange_factory
        from mpdex import create_exchange, symbol_create
        symbol_create("paradex", "BTC"); exchange_factory.venue("ccxt:hyperliquid")
        assert "ccxt" not in sys.modules, "import"
        from mpdex.paper import PaperVest
        async def main():
            async with PaperVest(seed=1) as paper:
                key = await paper.create_account()
                ex = await create_exchange("vest", key)
                await ex.close()
        asyncio.run(main())
        bad = sorted(m for m in sys.modules if m == "ccxt" or m.startswith("ccxt."))
        print(json.dumps(bad) if False else bad)
        assert not bad, bad
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]


def test_key_templates_use_mpdex_field_names():
    for name in CCXT_NAMES:
        path = ROOT / "keys" / f"copy.pk_{name}.py"
        spec = exchange_factory.venue(name)
        namespace: dict = {}
        exec(compile(path.read_text(), str(path), "exec"), namespace)  # the template is plain Python
        key = namespace[spec.keys_variable]
        for field in spec.key_fields:
            assert hasattr(key, field), (name, field)
        assert all(token not in repr(key) for token in ("private_key='", "secret_key='")), repr(key)
    assert json.dumps(CCXT_NAMES)


def test_a_ccxt_id_missing_from_the_installed_ccxt_is_not_supported_by_name(monkeypatch):
    import dataclasses

    from wrappers import ccxt_venues

    ghost = dataclasses.replace(CCXT_VENUES["paradex"], name="ghost", ccxt_id="nosuchdex")
    monkeypatch.setitem(ccxt_venues.CCXT_VENUES, "ghost", ghost)
    with pytest.raises(E.NotSupported, match=rf"ccxt {ccxt.__version__} has no exchange 'nosuchdex'"):
        CcxtPerpExchange("ghost", **{f: "x" for f in ghost.credentials})


def test_without_ccxt_installed_the_error_says_which_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "ccxt", None)
    monkeypatch.setitem(sys.modules, "ccxt.async_support", None)
    with pytest.raises(E.ConfigError, match=r"mpdex-vest\[ccxt\]"):
        CcxtPerpExchange("backpack", api_key="k", secret_key="s")
