"""VestExchange over REST, offline: exact bytes sent, results returned, failure paths."""
from __future__ import annotations

import asyncio
import copy
import logging
from decimal import Decimal

import orjson
import pytest
from aioresponses import CallbackResult

from mpdex import errors as E
from test_exchanges.conftest import load_sample
from test_exchanges.vest.vest_fakes import (
    API_KEY,
    KEYS,
    T0,
    FakeVest,
    make_exchange,
    posts,
    requests,
    rx,
    tickers,
)
from wrappers import vest_auth as va
from wrappers import vest_parsers as P
from wrappers.vest import VestExchange

# -- init and symbols ---------------------------------------------------------------------


async def test_init_loads_markets_precision_status_and_nonce_floor(http, clock):
    ex = await make_exchange(http, clock, last_nonce=T0 + 500)
    btc, aapl, aud = ex.markets["BTC-PERP"], ex.markets["AAPL-USD-PERP"], ex.markets["AUD-USD-PERP"]
    assert (btc.size_step, btc.tick, btc.min_size) == (Decimal("0.0001"), Decimal("0.1"), Decimal("0.0001"))
    assert (btc.init_margin_ratio, btc.maint_margin_ratio, btc.taker_fee) == (
        Decimal("0.02"), Decimal("0.01"), Decimal("0.0001"))
    assert btc.max_leverage == 50 and aapl.max_leverage == 10
    assert (btc.status, aapl.status) == ("TRADING", "HALT")  # from /ticker/latest
    assert aud.size_step == Decimal(1) and aud.tick == Decimal("0.00001")
    assert ex.available_symbols == {"perp": sorted(ex.markets)}
    assert await ex.get_available_symbols() == {"perp": sorted(ex.markets)}
    assert ex._nonces.next() == T0 + 501  # max(now, lastNonce + 1)
    (url, kw), = requests(http, "GET", "/account/nonce")
    assert kw["headers"]["X-API-KEY"] == API_KEY and kw["headers"]["xrestservermm"] == "restserver0"
    assert url.query["time"] == str(T0)
    await ex.close()


async def test_trading_status_from_exchange_info_wins_over_ticker(http, clock):
    extras = load_sample("rest_exchangeInfo_with_observed_extras.json")
    ex = await make_exchange(http, clock, info=extras, ticker={"tickers": [{"symbol": "NDX-USD-PERP", "status": "HALT"}]})
    ndx = ex.markets["NDX-USD-PERP"]
    assert ndx.status == "TRADING" and ndx.tick == Decimal("0.25")
    assert ex.resolve_symbol("NQ-PERP") == ex.resolve_symbol("ndx") == "NDX-USD-PERP"
    await ex.close()


@pytest.mark.parametrize("text,expected", [
    ("BTC", "BTC-PERP"), ("btc", "BTC-PERP"), (" BTC-PERP ", "BTC-PERP"), ("btc-perp", "BTC-PERP"),
    ("AAPL", "AAPL-USD-PERP"), ("aapl", "AAPL-USD-PERP"), ("AAPL-PERP", "AAPL-USD-PERP"),
    ("AAPL-USD-PERP", "AAPL-USD-PERP"), ("AUD", "AUD-USD-PERP"), ("kBONK", "kBONK-PERP"), ("KBONK", "kBONK-PERP"),
    ("kBONK-PERP", "kBONK-PERP"),
])
async def test_resolve_symbol(http, clock, text, expected):
    ex = await make_exchange(http, clock)
    assert ex.resolve_symbol(text) == expected
    await ex.close()


async def test_unknown_symbol_lists_close_matches(http, clock):
    ex = await make_exchange(http, clock)
    with pytest.raises(E.BadSymbol) as info:
        ex.resolve_symbol("BTCC")
    assert "BTCC" in str(info.value) and "BTC-PERP" in str(info.value)
    with pytest.raises(E.BadSymbol):
        ex.resolve_symbol("DOGE-PERP")
    await ex.close()


# -- create_order: bytes on the wire ----------------------------------------------------------


def check_signed_by_signing_key(body: dict) -> None:
    assert va.recover_address(va.order_digest(body["order"]), body["signature"]) == KEYS["signing_address"]


async def test_limit_order_exact_body_headers_and_result(http, clock):
    ex = await make_exchange(http, clock)
    fake = FakeVest(http)
    res = await ex.create_order("ETH", "buy", "0.5004", price="3500.257")
    (url, kw), = requests(http, "POST", "/orders")
    assert kw["headers"]["X-API-KEY"] == API_KEY
    assert kw["headers"]["xrestservermm"] == "restserver0"
    assert kw["headers"]["Content-Type"] == "application/json"
    body = orjson.loads(kw["data"])
    nonce = T0  # max(clock, lastNonce + 1): the clock is ahead of lastNonce
    assert body == {
        "order": {"time": T0, "nonce": nonce, "symbol": "ETH-PERP", "isBuy": True, "size": "0.500",
                  "orderType": "LIMIT", "limitPrice": "3500.25", "reduceOnly": False, "timeInForce": "GTC"},
        "recvWindow": 5000,
        "signature": body["signature"],
    }
    assert list(body["order"]) == ["time", "nonce", "symbol", "isBuy", "size", "orderType", "limitPrice",
                                   "reduceOnly", "timeInForce"]
    check_signed_by_signing_key(body)
    oid = f"0x{nonce:064x}"
    assert res == {
        "id": oid, "order_id": oid, "client_order_id": str(nonce), "symbol": "ETH-PERP", "side": "buy",
        "size": 0.5, "price": 3500.25, "order_type": "limit", "status": "NEW", "raw": res["raw"],
        "filled_size": 0.0, "avg_price": None, "fee": 0.0, "realized_pnl": None,
        "requested_size": 0.5004, "requested_price": 3500.257,
        "adjustments": ["size 0.5004 rounded down to 0.500 (step 0.001 on ETH-PERP)",
                        "price 3500.257 rounded down to 3500.25 (tick 0.01, in your favour)"],
    }
    assert res["raw"]["id"] == oid
    assert fake.gets == [{"id": oid, "time": str(T0)}]  # one confirmation read for a limit order
    await ex.close()


async def test_limit_sell_rounds_up_and_fok_and_reduce_only_are_sent(http, clock):
    ex = await make_exchange(http, clock)
    fake = FakeVest(http)
    await ex.create_order("ETH-PERP", "SELL", 1, price=3500.251, time_in_force="fok", is_reduce_only=True)
    (body,) = fake.sent_bodies()
    assert (body["order"]["limitPrice"], body["order"]["size"]) == ("3500.26", "1.000")
    assert body["order"]["timeInForce"] == "FOK" and body["order"]["reduceOnly"] is True
    assert body["order"]["isBuy"] is False
    check_signed_by_signing_key(body)
    await ex.close()


@pytest.mark.parametrize("side,cap", [("buy", "97700.3"), ("sell", "96728.3")])
async def test_market_order_caps_price_by_slippage_and_omits_time_in_force(http, clock, side, cap):
    ex = await make_exchange(http, clock)
    http.get(rx("/ticker/latest"), payload=tickers(BTC_PERP="97214.3"))
    fake = FakeVest(http, market_statuses=["NEW", "FILLED"])
    res = await ex.create_order("BTC", side, Decimal("0.01239"), is_reduce_only=True)
    (body,) = fake.sent_bodies()
    # 97214.3 × 1.005 = 97700.37… → down; 97214.3 × 0.995 = 96728.22… → up: never beyond 0.5 %
    assert body["order"] == {"time": T0, "nonce": T0, "symbol": "BTC-PERP", "isBuy": side == "buy",
                             "size": "0.0123", "orderType": "MARKET", "limitPrice": cap, "reduceOnly": True}
    check_signed_by_signing_key(body)
    assert res["status"] == "FILLED" and res["order_type"] == "market"
    assert res["price"] == float(cap) and res["size"] == 0.0123
    assert res["filled_size"] == 0.0123 and res["avg_price"] == 100.0
    assert len(fake.gets) == 2 and clock.sleeps == [0.05]  # polled once more after NEW
    await ex.close()


async def test_market_order_custom_slippage_and_client_id(http, clock):
    ex = await make_exchange(http, clock)
    http.get(rx("/ticker/latest"), payload=tickers(ETH_PERP="2000.00"))
    fake = FakeVest(http)
    res = await ex.create_order("ETH", "buy", 0.1, slippage="0.01", client_id="1767225600999")
    (body,) = fake.sent_bodies()
    assert body["order"]["limitPrice"] == "2020.00" and body["order"]["nonce"] == 1767225600999
    assert res["client_order_id"] == "1767225600999"
    assert ex._nonces.next() == 1767225601000  # the next generated nonce stays above it
    await ex.close()


async def test_market_order_still_new_after_confirm_timeout_is_reported_as_new(http, clock):
    ex = await make_exchange(http, clock, confirm_timeout=0.3)
    http.get(rx("/ticker/latest"), payload=tickers(ETH_PERP="2000.00"))
    fake = FakeVest(http, market_statuses=["NEW"])
    res = await ex.create_order("ETH", "buy", 0.1)
    assert res["status"] == "NEW" and res["filled_size"] == 0.0
    assert sum(clock.sleeps) == pytest.approx(0.3)
    assert len(fake.gets) >= 3
    await ex.close()


async def test_rejected_order_raises_the_typed_error_with_the_raw_order(http, clock):
    ex = await make_exchange(http, clock)
    fake = FakeVest(http)
    fake.reject_code = 3002
    with pytest.raises(E.InsufficientMargin) as info:
        await ex.create_order("ETH", "buy", 0.1, price=3000)
    assert info.value.code == 3002 and info.value.raw["status"] == "REJECTED"
    await ex.close()


async def test_concurrent_orders_get_distinct_increasing_nonces(http, clock):
    ex = await make_exchange(http, clock)
    fake = FakeVest(http)
    results = await asyncio.gather(*(ex.create_order("ETH", "buy", 0.1, price=3000 + i) for i in range(8)))
    nonces = [b["order"]["nonce"] for b in fake.sent_bodies()]
    assert len(set(nonces)) == 8
    assert sorted(nonces) == list(range(T0, T0 + 8))
    assert sorted(int(r["client_order_id"]) for r in results) == sorted(nonces)
    await ex.close()


# -- create_order: the never-twice paths ------------------------------------------------------


async def test_lost_answer_then_duplicate_on_resend_means_accepted(http, clock):
    ex = await make_exchange(http, clock)
    fake = FakeVest(http)
    fake.post_faults = ["lose"]  # accepted, answer lost
    res = await ex.create_order("ETH", "buy", 0.1, price=3000)
    assert len(fake.posts) == 2 and fake.posts[0] == fake.posts[1]  # same bytes, never re-signed
    assert len(fake.orders) == 1  # exactly one order exists
    assert res["id"] == next(iter(fake.orders)) and res["client_order_id"] == str(T0)
    assert fake.gets[0]["nonce"] == str(T0)  # reconciled by nonce
    await ex.close()


async def test_timeout_then_success_on_resend(http, clock):
    ex = await make_exchange(http, clock)
    fake = FakeVest(http)
    fake.post_faults = ["timeout", "503"]  # never reached / 5xx, then accepted
    res = await ex.create_order("ETH", "sell", 0.2, price=3000)
    assert len(fake.posts) == 3 and len(set(fake.posts)) == 1
    assert len(fake.orders) == 1 and res["status"] == "NEW"
    await ex.close()


async def test_all_resends_time_out_then_reconcile_finds_the_order(http, clock):
    ex = await make_exchange(http, clock)
    fake = FakeVest(http)
    fake.post_faults = ["lose"] + ["timeout"] * 50
    res = await ex.create_order("ETH", "buy", 0.1, price=3000)
    assert len(fake.orders) == 1 and res["client_order_id"] == str(T0)
    assert 2 <= len(fake.posts) < 10 and len(set(fake.posts)) == 1
    assert clock.now - T0 / 1000 <= 5.0  # resends stayed inside recvWindow
    assert any(g.get("nonce") == str(T0) for g in fake.gets)
    await ex.close()


async def test_outcome_unknown_when_reconcile_finds_nothing(http, clock):
    ex = await make_exchange(http, clock)
    fake = FakeVest(http)
    fake.post_faults = ["timeout"] * 50
    with pytest.raises(E.OrderStateUnknown) as info:
        await ex.create_order("ETH", "buy", 0.1, price=3000)
    assert info.value.client_order_id == str(T0)
    assert fake.orders == {} and len(set(fake.posts)) == 1
    assert fake.gets[-1]["nonce"] == str(T0)
    await ex.close()


async def test_duplicate_on_first_attempt_is_a_reused_client_id(http, clock):
    ex = await make_exchange(http, clock)
    fake = FakeVest(http)
    await ex.create_order("ETH", "buy", 0.1, price=3000, client_id=42)
    fake.gets.clear()
    with pytest.raises(E.DuplicateOrder) as info:
        await ex.create_order("ETH", "buy", 0.1, price=3000, client_id=42)
    assert info.value.code == 3015
    assert len(fake.posts) == 2 and len(fake.orders) == 1 and fake.gets == []  # no reconcile
    await ex.close()


async def test_confirmation_read_failure_is_order_state_unknown_not_a_result(http, clock):
    ex = await make_exchange(http, clock)
    http.post(rx("/orders"), payload={"id": "0xabc"})
    http.get(rx("/orders"), status=500, body="boom", repeat=True)
    with pytest.raises(E.OrderStateUnknown) as info:
        await ex.create_order("ETH", "buy", 0.1, price=3000)
    assert info.value.client_order_id == str(T0) and info.value.raw == {"id": "0xabc"}
    await ex.close()


async def test_accepted_order_with_an_unreadable_record_is_state_unknown_not_a_refusal(http, clock):
    ex = await make_exchange(http, clock)
    http.post(rx("/orders"), payload={"id": "0xabc"})
    # the order exists, but its record lacks the size: it must not read as "refused" (a user would re-send)
    http.get(rx("/orders"), payload=[{"id": "0xabc", "nonce": T0, "symbol": "ETH-PERP", "isBuy": True,
                                      "orderType": "LIMIT", "status": "NEW", "limitPrice": "3000.00"}], repeat=True)
    with pytest.raises(E.OrderStateUnknown) as info:
        await ex.create_order("ETH", "buy", 0.1, price=3000)
    assert info.value.client_order_id == str(T0) and info.value.raw["id"] == "0xabc"
    await ex.close()


async def test_close_counts_the_instance_out_of_the_pool_even_if_releasing_its_holds_fails(http, clock, monkeypatch):
    from wrappers import vest_ws_client

    ex = await make_exchange(http, clock)
    released: list[object] = []

    class Client:
        async def release_holder(self, holder):
            raise RuntimeError("socket stalled")

    async def release(client):
        released.append(client)

    monkeypatch.setattr(vest_ws_client, "release", release)
    ex.ws_client = client = Client()
    with pytest.raises(RuntimeError):
        await ex.close()
    assert released == [client] and ex.ws_client is None
    await ex.close()  # idempotent


# -- bad input: typed error, nothing sent -----------------------------------------------------


@pytest.mark.parametrize("args,kwargs,error", [
    (("DOGE", "buy", 1), {}, E.BadSymbol),
    (("ETH", "buy", 0), {}, E.InvalidOrder),
    (("ETH", "buy", -1), {}, E.InvalidOrder),
    (("ETH", "buy", float("nan")), {}, E.InvalidOrder),
    (("ETH", "buy", "abc"), {}, E.InvalidOrder),
    (("ETH", "buy", None), {}, E.InvalidOrder),
    (("ETH", "buy", "0.0004"), {}, E.InvalidOrder),  # below the 0.001 minimum
    (("ETH", "hold", 1), {}, E.InvalidOrder),
    (("ETH", "long", 1), {}, E.InvalidOrder),
    (("ETH", "buy", 1, 3000), {"time_in_force": "IOC"}, E.NotSupported),
    (("ETH", "buy", 1, 3000), {"time_in_force": "post_only"}, E.NotSupported),
    (("ETH", "buy", 1, 3000), {"time_in_force": "DAY"}, E.InvalidOrder),
    (("ETH", "buy", 1), {"time_in_force": "FOK"}, E.InvalidOrder),
    (("ETH", "buy", 1, None, "limit"), {}, E.InvalidOrder),
    (("ETH", "buy", 1, 3000, "stop"), {}, E.InvalidOrder),
    (("ETH", "buy", 1, -5), {}, E.InvalidOrder),
    (("ETH", "buy", 1, float("inf")), {}, E.InvalidOrder),
    (("ETH", "buy", 1), {"client_id": "abc"}, E.InvalidOrder),
    (("ETH", "buy", 1), {"client_id": -3}, E.InvalidOrder),
    (("ETH", "buy", 1), {"client_id": 2**64}, E.InvalidOrder),  # cannot be sent as a JSON integer
    (("ETH", "buy", 1), {"slippage": "1.5"}, E.InvalidOrder),
    (("ETH", "buy", 1), {"is_reduce_only": "yes"}, E.InvalidOrder),
    (("AAPL", "buy", 1, 250), {}, E.MarketClosed),  # halted per ticker status
    (("AAPL", "buy", 1), {}, E.MarketClosed),
])
async def test_bad_input_raises_typed_error_and_sends_nothing(http, clock, args, kwargs, error):
    ex = await make_exchange(http, clock)
    FakeVest(http)
    http.get(rx("/ticker/latest"), payload=load_sample("rest_ticker_latest.json"), repeat=True)  # AAPL still halted
    with pytest.raises(error):
        await ex.create_order(*args, **kwargs)
    assert posts(http) == []
    assert requests(http, "GET", "/orders") == []
    await ex.close()


async def test_unsendable_client_id_does_not_poison_the_nonce_source(http, clock):
    ex = await make_exchange(http, clock)
    FakeVest(http)
    for huge in (2**64, str(2**70), 2**63):
        with pytest.raises(E.InvalidOrder, match="client_id"):
            await ex.create_order("ETH", "buy", 0.1, price=3000, client_id=huge)
    assert posts(http) == []
    res = await ex.create_order("ETH", "buy", 0.1, price=3000)  # later orders still go out
    assert res["client_order_id"] == str(T0)
    await ex.close()


async def test_market_halted_by_fresh_ticker_sends_no_order(http, clock):
    ex = await make_exchange(http, clock)
    fresh = tickers(ETH_PERP="2000")
    fresh["tickers"][-1]["status"] = "HALT"
    http.get(rx("/ticker/latest"), payload=fresh)
    with pytest.raises(E.MarketClosed):
        await ex.create_order("ETH", "buy", 1)
    assert posts(http) == [] and ex.markets["ETH-PERP"].status == "HALT"
    await ex.close()


async def test_slippage_smaller_than_a_tick_is_refused_before_signing(http, clock):
    ex = await make_exchange(http, clock)
    http.get(rx("/ticker/latest"), payload=tickers(ETH_PERP="2000.005"))
    with pytest.raises(E.InvalidOrder, match="tick"):
        await ex.create_order("ETH", "buy", 1, slippage=0)
    assert posts(http) == []
    await ex.close()


@pytest.mark.parametrize("missing", ["api_key", "signing_private_key", "primary_address"])
def test_missing_key_fields_raise_config_error_naming_the_field(missing):
    fields = {"api_key": API_KEY, "signing_private_key": KEYS["signing_private_key"],
              "primary_address": KEYS["primary_address"], missing: ""}
    with pytest.raises(E.ConfigError, match=missing) as info:
        VestExchange(**fields)
    assert API_KEY not in str(info.value) and KEYS["signing_private_key"][2:] not in str(info.value)


def test_bad_options_raise_config_error():
    base = dict(api_key=API_KEY, signing_private_key=KEYS["signing_private_key"], primary_address=KEYS["primary_address"])
    for bad in ({"slippage": 2}, {"recv_window": 10}, {"confirm_timeout": -1}, {"network": "main"}):
        with pytest.raises(E.ConfigError):
            VestExchange(**base, **bad)


# -- reads ------------------------------------------------------------------------------------


async def test_position_and_collateral_from_account(http, clock):
    ex = await make_exchange(http, clock)
    http.get(rx("/account"), payload=load_sample("rest_account.json"), repeat=True)
    pos = await ex.get_position("eth")
    assert pos == {"symbol": "ETH-PERP", "side": "long", "size": 0.5, "entry_price": 3475.1, "unrealized_pnl": 12.45,
                   "liquidation_price": 1131.55, "raw_data": load_sample("rest_account.json")["positions"][0],
                   "leverage": 10, "margin_mode": "cross", "margin_used": 175.0}
    assert await ex.get_position("BTC") is None
    col = await ex.get_collateral()
    assert col["available_collateral"] == 1030.1124 and col["total_collateral"] == 1262.45
    assert col["unrealized_pnl"] == 12.45 and col["margin_used"] == 175.0
    info = await ex.get_leverage_info("ETH")
    assert info == {"symbol": "ETH-PERP", "leverage": 10, "margin_mode": "cross", "max_leverage": 50,
                    "available_margin_modes": ["cross"], "status": "ok"}
    assert (await ex.get_leverage_info("AUD"))["leverage"] is None
    (url, kw) = requests(http, "GET", "/account")[0]
    assert kw["headers"]["X-API-KEY"] == API_KEY and "time" in url.query
    await ex.close()


async def test_short_position_and_flat_position(http, clock):
    ex = await make_exchange(http, clock)
    account = copy.deepcopy(load_sample("rest_account.json"))
    account["positions"].append({"symbol": "BTC-PERP", "isLong": False, "size": "0.0100", "entryPrice": "97000.0",
                                 "unrealizedPnl": "-1.5", "liqPrice": None})
    account["positions"][0]["size"] = "0.000"
    http.get(rx("/account"), payload=account, repeat=True)
    assert await ex.get_position("ETH") is None
    btc = await ex.get_position("BTC")
    assert btc["side"] == "short" and btc["size"] == 0.01 and btc["liquidation_price"] is None
    await ex.close()


async def test_get_positions_reads_every_market_from_one_account_request(http, clock):
    ex = await make_exchange(http, clock)
    account = copy.deepcopy(load_sample("rest_account.json"))
    account["positions"].append({"symbol": "BTC-PERP", "isLong": False, "size": "0.0100", "entryPrice": "97000.0",
                                 "unrealizedPnl": "-1.5", "liqPrice": "99000.0"})
    account["positions"].append({"symbol": "AAPL-USD-PERP", "isLong": True, "size": "0.00", "entryPrice": "1"})
    http.get(rx("/account"), payload=account)
    got = await ex.get_positions()
    assert [(p["symbol"], p["side"], p["size"]) for p in got] == [("BTC-PERP", "short", 0.01), ("ETH-PERP", "long", 0.5)]
    assert len(requests(http, "GET", "/account")) == 1
    await ex.close()


def test_liquidation_price_zero_means_none():
    """Vest sends liqPrice "0" when the account can absorb any move: that is no price."""
    base = {"symbol": "BTC-PERP", "isLong": True, "size": "0.01", "entryPrice": "97000.0", "unrealizedPnl": "0"}
    assert P.parse_position(dict(base, liqPrice="0"))["liquidation_price"] is None
    assert P.parse_position(dict(base, liqPrice="0.00"))["liquidation_price"] is None
    assert P.parse_position(dict(base, liqPrice="1131.55"))["liquidation_price"] == 1131.55


async def test_open_orders_merges_new_and_partially_filled(http, clock):
    ex = await make_exchange(http, clock)
    sample = load_sample("rest_orders_get.json")
    partial = dict(sample[0], id="0xpart", status="PARTIALLY_FILLED", lastFilledSize="0.1000", postTime=1)
    http.get(rx("/orders"), callback=lambda url, **kw: CallbackResult(
        payload=[sample[0]] if url.query["status"] == "NEW" else [partial]), repeat=True)
    orders = await ex.get_open_orders("ETH")
    assert [o["id"] for o in orders] == ["0xpart", sample[0]["id"]]
    first = orders[1]
    assert {k: first[k] for k in ("order_id", "client_order_id", "symbol", "side", "size", "filled_size", "price",
                                  "order_type", "status", "reduce_only", "created_at")} == {
        "order_id": sample[0]["id"], "client_order_id": "1767225600123", "symbol": "ETH-PERP", "side": "sell",
        "size": 0.5, "filled_size": 0.0, "price": 3500.25, "order_type": "limit", "status": "NEW",
        "reduce_only": False, "created_at": 1767225600201}
    assert orders[0]["filled_size"] == 0.1
    queries = sorted(dict(u.query)["status"] for u, _ in requests(http, "GET", "/orders"))
    assert queries == ["NEW", "PARTIALLY_FILLED"]
    assert all(u.query["symbol"] == "ETH-PERP" for u, _ in requests(http, "GET", "/orders"))
    await ex.close()


async def test_open_orders_empty_is_an_empty_list(http, clock):
    ex = await make_exchange(http, clock)
    http.get(rx("/orders"), payload=[], repeat=True)
    assert await ex.get_open_orders() == []
    assert all("symbol" not in u.query for u, _ in requests(http, "GET", "/orders"))
    await ex.close()


async def test_cancel_orders_concurrently_with_per_order_results(http, clock):
    ex = await make_exchange(http, clock)
    fake = FakeVest(http)
    a = await ex.create_order("ETH", "buy", 0.1, price=3000)
    b = await ex.create_order("ETH", "buy", 0.1, price=3001)
    fake.orders[b["id"]]["status"] = "FILLED"  # filled meanwhile: its cancel must fail, alone
    results = await ex.cancel_orders("ETH", [a, b])
    assert [(r["id"], r["status"]) for r in results] == [(a["id"], "ok"), (b["id"], "error")]
    assert results[0]["error"] is None and "ORDER_NOT_FOUND" in results[1]["error"]
    assert isinstance(results[1]["exception"], E.OrderNotFound)
    assert results[0]["symbol"] == "ETH-PERP"
    nonces = set()
    for body in fake.cancels:
        assert set(body) == {"order", "recvWindow", "signature"} and set(body["order"]) == {"time", "nonce", "id"}
        digest = va.personal_digest(va.cancel_hash(body["order"]))
        assert va.recover_address(digest, body["signature"]) == KEYS["signing_address"]
        nonces.add(body["order"]["nonce"])
    assert len(nonces) == 2 and min(nonces) > int(b["client_order_id"])  # one nonce source for all signing
    await ex.close()


async def test_cancel_orders_defaults_to_every_open_order_of_the_symbol(http, clock):
    ex = await make_exchange(http, clock)
    fake = FakeVest(http)
    for i in range(3):
        await ex.create_order("ETH", "buy", 0.1, price=3000 + i)
    results = await ex.cancel_orders("ETH-PERP")
    assert [r["status"] for r in results] == ["ok"] * 3
    assert {o["status"] for o in fake.orders.values()} == {"CANCELLED"}
    assert await ex.cancel_orders("ETH") == []
    await ex.close()


async def test_cancel_rejects_orders_without_id_before_sending(http, clock):
    ex = await make_exchange(http, clock)
    with pytest.raises(E.BadRequest):
        await ex.cancel_orders("ETH", [{"symbol": "ETH-PERP"}])
    assert posts(http) == []
    await ex.close()


async def test_get_order_by_either_id(http, clock):
    ex = await make_exchange(http, clock)
    FakeVest(http)
    placed = await ex.create_order("ETH", "buy", 0.1, price=3000)
    by_cid = await ex.get_order(client_order_id=placed["client_order_id"])
    by_id = await ex.get_order(order_id=placed["id"])
    assert by_cid["id"] == by_id["id"] == placed["id"] and by_id["fee"] == 0.0 and by_id["avg_price"] is None
    with pytest.raises(E.OrderNotFound):
        await ex.get_order(client_order_id=12345)
    with pytest.raises(E.BadRequest):
        await ex.get_order()
    await ex.close()


async def test_market_data_reads(http, clock):
    ex = await make_exchange(http, clock)
    http.get(rx("/ticker/latest"), payload=load_sample("rest_ticker_latest.json"), repeat=True)
    http.get(rx("/depth"), payload={"bids": [["3499.75", "3.010"], ["3499.90", "1.204"]],
                                    "asks": [["3500.25", "2.400"], ["3500.05", "0.880"]]})
    http.get(rx("/funding/history"), payload=load_sample("rest_funding_history.json"))
    http.get(rx("/klines"), payload=load_sample("rest_klines.json"))
    http.get(rx("/ticker/24hr"), payload=load_sample("rest_ticker_24hr.json"))
    assert await ex.get_mark_price("BTC") == 97214.3
    book = await ex.get_orderbook("ETH")
    assert book == {"bids": [[3499.9, 1.204], [3499.75, 3.01]], "asks": [[3500.05, 0.88], [3500.25, 2.4]], "time": T0}
    assert await ex.get_funding_rate("btc") == {"symbol": "BTC-PERP", "funding_rate": 0.0000125, "interval_hours": 1.0,
                                                "funding_rate_per_hour": 0.0000125,
                                                "mark_price": 97214.3, "index_price": 97205.8}
    hist = await ex.get_funding_history("ETH", limit=2)
    assert hist == [{"symbol": "ETH-PERP", "time": 1767218400000, "funding_rate": 0.00001, "interval_hours": 1.0},
                    {"symbol": "ETH-PERP", "time": 1767222000000, "funding_rate": 0.000012, "interval_hours": 1.0}]
    assert await ex.get_trading_fees("eth") == {"symbol": "ETH-PERP", "maker": 0.0001, "taker": 0.0001}
    kl = await ex.get_klines("ETH", "1m", limit=2)
    assert kl[0] == {"open_time": 1767225540000, "open": 3498.1, "high": 3499.75, "low": 3497.4, "close": 3499.2,
                     "close_time": 1767225599999, "volume": 12.43, "quote_volume": 43491.2215, "trades": 37}
    t24 = await ex.get_ticker_24h("BTC")
    assert (t24["open"], t24["close"], t24["volume"], t24["close_time"]) == (95880.0, 97214.3, 190.1123, 1767225599999)
    assert ex.get_perp_quote("BTC") == "USDC"  # a plain method, as in mpdex
    (url, kw), = requests(http, "GET", "/depth")
    assert url.query["symbol"] == "ETH-PERP" and "X-API-KEY" not in kw["headers"]
    assert kw["headers"]["xrestservermm"] == "restserver0"
    (url, _), = requests(http, "GET", "/funding/history")
    assert dict(url.query) == {"symbol": "ETH-PERP", "limit": "2", "interval": "1h"}
    with pytest.raises(E.BadRequest):
        await ex.get_klines("ETH", "7m")
    with pytest.raises(E.BadRequest):
        await ex.get_funding_history("ETH", limit=5000)
    await ex.close()


async def test_update_leverage(http, clock):
    ex = await make_exchange(http, clock)
    http.post(rx("/account/leverage"), payload={"symbol": "ETH-PERP", "value": 10})
    res = await ex.update_leverage("ETH", 10)
    assert res == {"status": "ok", "leverage": 10, "margin_mode": "cross", "symbol": "ETH-PERP"}
    (url, kw), = requests(http, "POST", "/account/leverage")
    assert orjson.loads(kw["data"]) == {"time": T0, "symbol": "ETH-PERP", "value": 10}
    assert kw["headers"]["X-API-KEY"] == API_KEY
    for bad in ({"leverage": 0}, {"leverage": "abc"}, {"leverage": 2.5}):
        with pytest.raises(E.BadRequest):
            await ex.update_leverage("ETH", **bad)
    # mpdex's call shapes: status dicts with a message for what Vest cannot do or a missing argument
    assert await ex.update_leverage("ETH", None, "cross") == {
        "status": "ok", "leverage": None, "margin_mode": "cross", "symbol": "ETH-PERP",
        "message": "Vest margin is always cross: nothing to change"}
    missing = await ex.update_leverage("ETH")
    assert missing["status"] == "error" and "leverage is required" in missing["message"]
    isolated = await ex.update_leverage("ETH", 50, "isolated")
    assert isolated["status"] == "error" and "cross margin only" in isolated["message"]
    above = await ex.update_leverage("ETH", 51)
    assert above["status"] == "error" and "maximum of 50x" in above["message"]
    assert len(requests(http, "POST", "/account/leverage")) == 1  # none of those sent anything
    await ex.close()


async def test_leverage_refusal_raises_typed_error(http, clock):
    ex = await make_exchange(http, clock)
    http.post(rx("/account/leverage"), status=400, payload={"detail": {"code": 3021, "msg": "has position"}})
    with pytest.raises(E.InvalidOrder) as info:
        await ex.update_leverage("ETH", 2)
    assert info.value.code == 3021 and info.value.http_status == 400
    await ex.close()


async def test_listen_key_life_cycle(http, clock):
    ex = await make_exchange(http, clock)
    http.post(rx("/account/listenKey"), payload={"listenKey": "lk1"})
    http.put(rx("/account/listenKey"), payload={"listenKey": "lk1"})
    http.put(rx("/account/listenKey"), status=400, payload={"code": 1125, "msg": "Listen key expired."})
    http.delete(rx("/account/listenKey"), payload={})
    assert await ex.create_listen_key() == "lk1"
    assert await ex.keepalive_listen_key() == "lk1"
    with pytest.raises(E.AuthenticationError) as info:
        await ex.keepalive_listen_key()
    assert info.value.code == 1125
    assert await ex.delete_listen_key() is None
    for method in ("POST", "PUT", "DELETE"):
        for _, kw in requests(http, method, "/account/listenKey"):
            assert kw["headers"]["X-API-KEY"] == API_KEY
    await ex.close()


@pytest.mark.parametrize("status,body,error,code", [
    (401, {"detail": {"code": 1002, "msg": "Unauthorized"}}, E.AuthenticationError, 1002),
    (200, {"code": 1121, "msg": "unknown symbol"}, E.BadSymbol, 1121),
    (400, {"code": 1146, "msg": "bad group"}, E.PermissionDenied, 1146),
    (400, {"code": 9999, "msg": "brand new"}, E.ExchangeError, 9999),
])
async def test_error_styles_reach_the_caller_typed(http, clock, status, body, error, code):
    ex = await make_exchange(http, clock)
    http.get(rx("/account"), status=status, payload=body)
    with pytest.raises(error) as info:
        await ex.get_collateral()
    assert type(info.value) is error and info.value.code == code and info.value.raw == body
    await ex.close()


# -- hygiene ----------------------------------------------------------------------------------


async def test_logs_and_repr_carry_no_secret(http, clock, caplog):
    caplog.set_level(logging.DEBUG)
    ex = await make_exchange(http, clock)
    FakeVest(http).post_faults = ["lose"]
    res = await ex.create_order("ETH", "buy", 0.1, price=3000)
    text = caplog.text + repr(ex) + repr(ex.rest) + repr(ex.key)
    assert API_KEY not in text and KEYS["signing_private_key"][2:] not in text
    order_lines = [r.getMessage() for r in caplog.records if " order ETH-PERP buy" in r.getMessage()]
    assert len(order_lines) == 1
    assert res["client_order_id"] in order_lines[0] and "latency=" in order_lines[0] and "0.100" in order_lines[0]
    await ex.close()
    await ex.close()  # idempotent
    assert ex.rest.transport.closed


async def test_init_failure_is_typed(http, clock):
    http.get(rx("/exchangeInfo"), payload={"nope": 1})
    http.get(rx("/ticker/latest"), payload={"tickers": []})
    http.get(rx("/account/nonce"), payload={"lastNonce": None})
    ex = VestExchange(API_KEY, KEYS["signing_private_key"], KEYS["primary_address"], sleep=clock.sleep,
                      use_ws=False)
    with pytest.raises(E.ExchangeError):
        await ex.init()
    await ex.close()
    with pytest.raises(E.ConfigError):
        ex.resolve_symbol("BTC")


async def test_new_client_id_is_the_next_nonce_and_never_repeats(http, clock):
    ex = await make_exchange(http, clock)
    ids = [ex.new_client_id() for _ in range(50)]
    assert len(set(ids)) == 50 and all(i.isdigit() for i in ids)
    assert [int(i) for i in ids] == sorted(int(i) for i in ids)
    await ex.close()
