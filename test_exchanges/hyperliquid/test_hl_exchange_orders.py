"""HyperliquidExchange orders on mocked HTTP: the exact bodies sent, their signatures (the
signer recovered from what was posted), rounding, time in force, builder fees only when
asked, vaults, networks, cancels and close_position."""
from __future__ import annotations

from decimal import Decimal

import eth_account
import orjson
import pytest
from hyperliquid.utils import signing as sdk_signing

from mpdex import errors as E
from wrappers import hyperliquid_auth as ha

from .hl_fakes import AGENT, AGENT_KEY, T0, VAULT, WALLET, WALLET_KEY, FakeHyperliquid, key_fields, make_exchange

CLOID7 = f"0x{7:032x}"


def _order(body: dict) -> dict:
    return body["action"]["orders"][0]


def _recover(body: dict, *, mainnet: bool = True) -> str:
    return ha.recover_l1_signer(body["action"], body["nonce"], body["signature"], vault_address=body["vaultAddress"],
                                expires_after=body["expiresAfter"], is_mainnet=mainnet)


async def test_market_order_body_is_exact_signed_by_the_agent_and_equal_to_the_sdks(http, clock):
    fake = FakeHyperliquid(http)
    ex = await make_exchange(http, clock, fake)
    res = await ex.create_order("BTC", "buy", "0.001", client_id=7)
    (raw,) = fake.exchange_posts
    action = {"type": "order", "orders": [{"a": 0, "b": True, "p": "100500", "s": "0.001", "r": False,
                                           "t": {"limit": {"tif": "Ioc"}}, "c": CLOID7}], "grouping": "na"}
    body = orjson.loads(raw)
    # every order expires 10 s after its nonce: a copy delayed past that can never land
    assert body == {"action": action, "nonce": T0, "signature": body["signature"], "vaultAddress": None,
                    "expiresAfter": T0 + 10_000}
    assert raw == orjson.dumps(body)  # canonical key order on the wire, as signed
    assert _recover(body) == AGENT
    sdk = sdk_signing.sign_l1_action(eth_account.Account.from_key(AGENT_KEY), action, None, T0, T0 + 10_000, True)
    assert body["signature"] == sdk  # the official SDK signs the same action identically
    assert (res["id"], res["client_order_id"], res["status"], res["order_type"]) == ("1000", CLOID7, "FILLED", "market")
    assert (res["size"], res["price"], res["filled_size"], res["avg_price"]) == (0.001, 100500.0, 0.001, 100500.0)
    assert res["adjustments"] == ["market order capped at 100500 = mark 100000 + 0.500% (rounded toward the mark)"]
    await ex.close()


async def test_market_sell_cap_rounds_toward_the_mark_and_a_custom_slippage_applies(http, clock):
    fake = FakeHyperliquid(http)
    fake.marks["ETH"] = "3011.37"
    ex = await make_exchange(http, clock, fake)
    await ex.create_order("ETH", "sell", "0.01", slippage=0.01)
    # 3011.37 × 0.99 = 2981.2563 → 5 significant figures, up (toward the mark): 2981.3
    assert _order(fake.bodies()[0])["p"] == "2981.3"
    await ex.close()


@pytest.mark.parametrize("coin,side,amount,price,size_wire,price_wire", [
    ("ETH", "buy", "0.12345", "3000.123456", "0.1234", "3000.1"),  # size down, price down (buy)
    ("ETH", "sell", "0.1", "3000.11", "0.1", "3000.2"),  # sell: price up
    ("BTC", "buy", "0.001", "123456.7", "0.001", "123456"),  # integer prices keep every digit
    ("kPEPE", "buy", "1000", "0.0123456", "1000", "0.012345"),  # 6 - 0 decimals, 5 figures
    ("SOL", "sell", "1", "150.123", "1", "150.13"),  # 6 - 2 = 4 decimals, 5 figures
])
async def test_limit_orders_are_rounded_in_the_users_favour(http, clock, coin, side, amount, price, size_wire,
                                                           price_wire):
    fake = FakeHyperliquid(http)
    ex = await make_exchange(http, clock, fake)
    res = await ex.create_order(coin, side, amount, price)
    sent = _order(fake.bodies()[0])
    assert (sent["s"], sent["p"], sent["t"]) == (size_wire, price_wire, {"limit": {"tif": "Gtc"}})
    assert res["status"] == "NEW" and res["price"] == float(price_wire) and res["requested_price"] == float(price)
    assert len(res["adjustments"]) == (size_wire != amount) + (price_wire != price)
    await ex.close()


@pytest.mark.parametrize("tif,wire", [("IOC", "Ioc"), ("ALO", "Alo"), ("post_only", "Alo"), ("GTC", "Gtc")])
async def test_time_in_force_reaches_the_wire(http, clock, tif, wire):
    fake = FakeHyperliquid(http)
    ex = await make_exchange(http, clock, fake)
    await ex.create_order("ETH", "buy", "0.01", 2900, time_in_force=tif)
    assert _order(fake.bodies()[0])["t"] == {"limit": {"tif": wire}}
    await ex.close()


async def test_an_ioc_that_fills_in_part_reports_the_fill_and_the_cancelled_rest(http, clock):
    fake = FakeHyperliquid(http)
    fake.ioc_fill = Decimal("0.4")
    ex = await make_exchange(http, clock, fake)
    res = await ex.create_order("ETH", "buy", "0.1")
    assert (res["status"], res["filled_size"], res["size"]) == ("CANCELLED", 0.04, 0.1)
    await ex.close()


async def test_signing_with_the_wallet_when_not_by_agent(http, clock):
    fake = FakeHyperliquid(http, signer=WALLET)
    ex = await make_exchange(http, clock, fake, keys={"wallet_address": WALLET, "wallet_private_key": WALLET_KEY,
                                                      "by_agent": False})
    await ex.create_order("ETH", "buy", "0.01", 2900)
    assert _recover(fake.bodies()[0]) == WALLET
    await ex.close()


async def test_a_vault_is_signed_sent_and_queried(http, clock):
    fake = FakeHyperliquid(http, account=VAULT)
    ex = await make_exchange(http, clock, fake, keys=key_fields(vault_address=VAULT.upper().replace("0X", "0x")))
    fake.faults = ["lose"]
    res = await ex.create_order("ETH", "buy", "0.01", 2900, client_id=7)  # reconciled: orderStatus for the vault
    body = fake.bodies()[0]
    assert body["vaultAddress"] == VAULT and _recover(body) == AGENT
    assert res["id"] == "1000" and [b["user"] for b in fake.infos if b["type"] == "orderStatus"] == [VAULT]
    await ex.close()


async def test_testnet_keys_sign_for_testnet(http, clock):
    fake = FakeHyperliquid(http, mainnet=False, base="https://api.hyperliquid-testnet.xyz")
    ex = await make_exchange(http, clock, fake, keys=key_fields(network="testnet"))
    await ex.create_order("ETH", "buy", "0.01", 2900)
    assert _recover(fake.bodies()[0], mainnet=False) == AGENT
    await ex.close()


async def test_a_signature_for_the_wrong_network_is_refused_as_unknown_signer(http, clock):
    fake = FakeHyperliquid(http)  # mainnet server
    ex = await make_exchange(http, clock, fake, keys=key_fields(network="testnet", rest_url="https://api.hyperliquid.xyz"))
    with pytest.raises(E.AuthenticationError) as info:
        await ex.create_order("ETH", "buy", "0.01", 2900)
    assert info.value.code == "UNKNOWN_SIGNER"
    assert len(fake.exchange_posts) == 1  # a refusal is never retried
    await ex.close()


async def test_no_builder_is_sent_unless_the_key_asks(http, clock):
    fake = FakeHyperliquid(http)
    ex = await make_exchange(http, clock, fake)
    await ex.create_order("ETH", "buy", "0.01", 2900)
    await ex.create_order("ETH", "buy", "0.01")
    assert all(set(b["action"]) == {"type", "orders", "grouping"} for b in fake.bodies())
    await ex.close()


async def test_a_builder_fee_goes_out_when_the_key_names_the_builder_and_its_fee(http, clock):
    builder = "0x8C967E73E6B15087C42A10D344CFF4C96D877F1D"
    fake = FakeHyperliquid(http)
    ex = await make_exchange(http, clock, fake, keys=key_fields(builder_code=builder, builder_fee_pair=(10, 20)))
    await ex.create_order("ETH", "buy", "0.01", 2900)
    await ex.create_order("ETH", "buy", "0.01")
    assert [b["action"]["builder"] for b in fake.bodies()] == [{"b": builder.lower(), "f": 10},
                                                              {"b": builder.lower(), "f": 20}]
    assert all(_recover(b) == AGENT for b in fake.bodies())
    await ex.close()


async def test_every_order_carries_a_fresh_cloid_returned_as_client_order_id(http, clock):
    fake = FakeHyperliquid(http)
    ex = await make_exchange(http, clock, fake)
    a = await ex.create_order("ETH", "buy", "0.01", 2900)
    b = await ex.create_order("ETH", "buy", "0.01", 2900, client_id=ex.new_client_id())
    cloids = [_order(x)["c"] for x in fake.bodies()]
    assert cloids == [a["client_order_id"], b["client_order_id"]] and len(set(cloids)) == 2
    assert all(c.startswith("0x") and len(c) == 34 for c in cloids)
    await ex.close()


# -- cancels ----------------------------------------------------------------------------------


async def test_cancel_takes_an_id_a_dict_a_cloid_or_a_list_in_one_action_per_kind(http, clock):
    fake = FakeHyperliquid(http)
    ex = await make_exchange(http, clock, fake)
    orders = [await ex.create_order("ETH", "buy", "0.01", 2900 - i, client_id=i + 1) for i in range(4)]
    fake.exchange_posts.clear()
    results = await ex.cancel_orders("ETH", [orders[0]["id"], {"id": orders[1]["id"], "symbol": "ETH"},
                                             int(orders[2]["id"]), {"client_order_id": orders[3]["client_order_id"]},
                                             "424242"])
    assert [(r["id"], r["status"]) for r in results] == [
        ("1000", "ok"), ("1001", "ok"), ("1002", "ok"), (f"0x{4:032x}", "ok"), ("424242", "error")]
    assert isinstance(results[4]["exception"], E.OrderNotFound)
    by_oid, by_cloid = fake.bodies()
    assert by_oid["action"] == {"type": "cancel", "cancels": [{"a": 1, "o": 1000}, {"a": 1, "o": 1001},
                                                              {"a": 1, "o": 1002}, {"a": 1, "o": 424242}]}
    assert by_cloid["action"] == {"type": "cancelByCloid", "cancels": [{"asset": 1, "cloid": f"0x{4:032x}"}]}
    assert _recover(by_oid) == AGENT and _recover(by_cloid) == AGENT
    assert await ex.get_open_orders() == []
    await ex.close()


async def test_cancel_defaults_to_every_open_order_of_the_symbol_and_a_lone_dict_works(http, clock):
    fake = FakeHyperliquid(http)
    ex = await make_exchange(http, clock, fake)
    first = await ex.create_order("ETH", "buy", "0.01", 2900)
    await ex.create_order("ETH", "buy", "0.01", 2901)
    await ex.create_order("SOL", "buy", "1", 140)
    assert [r["status"] for r in await ex.cancel_orders("ETH")] == ["ok", "ok"]
    assert [o["symbol"] for o in await ex.get_open_orders()] == ["SOL"]
    (again,) = await ex.cancel_orders("ETH", first)  # mpdex passes one order dict
    assert again["status"] == "error" and "never placed, already canceled" in again["error"]
    assert await ex.cancel_orders("ETH") == []  # nothing open: nothing sent
    await ex.close()


async def test_a_lost_cancel_answer_is_settled_by_each_orders_state(http, clock):
    fake = FakeHyperliquid(http)
    ex = await make_exchange(http, clock, fake, resend_window=0.1)
    order = await ex.create_order("ETH", "buy", "0.01", 2900)
    fake.faults = ["lose"]
    (result,) = await ex.cancel_orders("ETH", order["id"])
    assert result["status"] == "ok" and fake.orders[1000]["status"] == "canceled"
    await ex.close()


@pytest.mark.parametrize("bad", [None, True, 1.5, "abc", "0x1234", {"symbol": "ETH"}, -3])
async def test_an_uncancellable_target_is_bad_input_and_nothing_is_sent(http, clock, bad):
    fake = FakeHyperliquid(http)
    ex = await make_exchange(http, clock, fake)
    with pytest.raises(E.BadRequest):
        await ex.cancel_orders("ETH", [bad] if bad is None else bad)
    assert fake.exchange_posts == []
    await ex.close()


# -- close ------------------------------------------------------------------------------------


def _state(szi: str, coin: str = "ETH") -> dict:
    return {"marginSummary": {"accountValue": "100.0", "totalNtlPos": "6.3", "totalRawUsd": "93.7",
                              "totalMarginUsed": "0.3"},
            "crossMarginSummary": {"accountValue": "100.0", "totalNtlPos": "6.3", "totalRawUsd": "93.7",
                                   "totalMarginUsed": "0.3"},
            "crossMaintenanceMarginUsed": "0.1", "withdrawable": "99.7", "time": T0,
            "assetPositions": [{"type": "oneWay", "position": {
                "coin": coin, "szi": szi, "leverage": {"type": "cross", "value": 20}, "entryPx": "3000.0",
                "positionValue": "6.3", "unrealizedPnl": "0.0", "returnOnEquity": "0.0", "liquidationPx": None,
                "marginUsed": "0.3", "maxLeverage": 25,
                "cumFunding": {"allTime": "0.0", "sinceOpen": "0.0", "sinceChange": "0.0"}}}]}


async def test_close_position_sends_a_reduce_only_ioc_for_the_exact_size_even_below_10_dollars(http, clock):
    fake = FakeHyperliquid(http)
    fake.info_answers["clearinghouseState"] = _state("-0.0021")
    ex = await make_exchange(http, clock, fake)
    res = await ex.close_position("eth")
    sent = _order(fake.bodies()[0])
    assert (sent["b"], sent["s"], sent["r"], sent["t"], sent["p"]) == (True, "0.0021", True, {"limit": {"tif": "Ioc"}},
                                                                       "3015")
    assert res is not None and res["status"] == "FILLED"
    fake.info_answers["clearinghouseState"] = {**_state("0.0"), "assetPositions": []}
    assert await ex.close_position("ETH") is None
    await ex.close()


async def test_an_opening_order_below_10_dollars_is_refused_before_signing(http, clock):
    fake = FakeHyperliquid(http)
    ex = await make_exchange(http, clock, fake)
    with pytest.raises(E.InvalidOrder, match="minimum of 10 USDC"):
        await ex.create_order("ETH", "sell", "0.0021")
    assert fake.exchange_posts == []
    await ex.close()


async def test_order_validity_is_the_expiry_plus_the_clock_skew(http, clock):
    fake = FakeHyperliquid(http)
    ex = await make_exchange(http, clock, fake, order_queue_wait=1.0, order_expiry=6.0, server_clock_skew=0.5)
    assert ex.order_validity == 6.0 + 0.5  # counted from the signing, which ends before the call does
    await ex.create_order("BTC", "buy", "0.001")
    sent = orjson.loads(fake.exchange_posts[0])
    assert sent["expiresAfter"] == clock.now_ms() + 6000 == sent["nonce"] + 6000  # from the clock at signing
    await ex.close()
    with pytest.raises(E.ConfigError, match="order_expiry"):
        await make_exchange(http, clock, fake, resend_window=4.0, order_expiry=3.0)
