"""Orders tell the truth: bad input is refused before anything is signed or sent; a lost
answer ends in exactly one adopted order or OrderStateUnknown, never a second signed order;
refusals raise their typed errors; nonces stay unique across tasks and instances."""
from __future__ import annotations

import asyncio

import pytest

from mpdex import errors as E
from mpdex.nonce import NonceSource

from .conftest import sample
from .hl_fakes import T0, FakeHyperliquid, make_exchange

CLOID = f"0x{42:032x}"


@pytest.mark.parametrize("args,kwargs,error", [
    (("ETH", "buy", "0.00001", 3000), {}, E.InvalidOrder),  # below one size step
    (("ETH", "buy", "0.01", "3000.123"), {"strict": True}, E.InvalidOrder),  # off the price grid
    (("ETH", "buy", "0.001", 3000), {}, E.InvalidOrder),  # 3 USDC < the $10 minimum
    (("ETH", "buy", "0.01", 3000), {"time_in_force": "FOK"}, E.NotSupported),
    (("ETH", "buy", "0.01"), {"time_in_force": "FOK"}, E.NotSupported),
    (("ETH", "buy", "0.01"), {"time_in_force": "ALO"}, E.InvalidOrder),  # post-only market order
    (("ETH", "buy", "0.01", 3000, "market"), {}, E.InvalidOrder),  # a price conflicts with "market"
    (("ETH", "buy", "0.01", None, "limit"), {}, E.InvalidOrder),
    (("ETH", "buy", "0.01", 3000), {"client_id": "0x1234"}, E.InvalidOrder),  # cloid of the wrong length
    (("ETH", "buy", "0.01", 3000), {"client_id": "0x" + "g" * 32}, E.InvalidOrder),
    (("ETH", "buy", "0.01", 3000), {"client_id": 2**128}, E.InvalidOrder),
    (("ETH", "buy", "0.01", 3000), {"client_id": 0}, E.InvalidOrder),
    (("ETH", "buy", "0.01", 3000), {"client_id": -5}, E.InvalidOrder),
    (("ETH", "buy", "0.01", 3000), {"client_id": True}, E.InvalidOrder),
    (("ETH", "buy", "0.01", 3000), {"client_id": 1.5}, E.InvalidOrder),
    (("ETH", "buy", "0.01", 3000), {"client_id": "١٢"}, E.InvalidOrder),  # non-ASCII digits
    (("ETH", "hold", "0.01", 3000), {}, E.InvalidOrder),
    (("ETH", "buy", "-1", 3000), {}, E.InvalidOrder),
    (("ETH", "buy", "0.01", 0), {}, E.InvalidOrder),
    (("ETH", "buy", "0.01", "nan"), {}, E.InvalidOrder),
    (("ETH", "buy", "0.01"), {"slippage": 1.5}, E.InvalidOrder),
    (("ETHX", "buy", "0.01", 3000), {}, E.BadSymbol),
    (("LOOM", "buy", "100", 1), {}, E.MarketClosed),  # delisted
])
async def test_bad_input_is_refused_typed_and_nothing_is_sent(http, clock, args, kwargs, error):
    fake = FakeHyperliquid(http)
    ex = await make_exchange(http, clock, fake)
    reads = len(fake.infos)
    with pytest.raises(error):
        await ex.create_order(*args, **kwargs)
    assert fake.exchange_posts == [] and len(fake.infos) == reads
    await ex.close()


async def test_an_unknown_coin_names_close_matches(http, clock):
    ex = await make_exchange(http, clock)
    with pytest.raises(E.BadSymbol, match="close matches: ETH"):
        await ex.create_order("ETHH", "buy", "0.01", 3000)
    assert ex.resolve_symbol("kpepe") == "kPEPE" and ex.resolve_symbol("btc-perp") == "BTC"
    await ex.close()


# -- lost answers -------------------------------------------------------------------------------


async def test_a_lost_answer_is_resent_byte_for_byte_and_the_order_adopted_once(http, clock):
    fake = FakeHyperliquid(http)
    ex = await make_exchange(http, clock, fake)
    fake.faults = ["lose"]  # processed, answer lost: the resend is answered "duplicate nonce"
    res = await ex.create_order("ETH", "sell", "0.01", "3000.004", client_id=42)
    assert len(fake.exchange_posts) == 2 and len(set(fake.exchange_posts)) == 1
    assert len(fake.orders) == 1 and res["id"] == "1000" and res["client_order_id"] == CLOID
    assert (res["status"], res["price"], res["requested_price"]) == ("NEW", 3000.1, 3000.004)
    assert res["order_type"] == "limit"
    await ex.close()


async def test_a_lost_market_order_is_adopted_with_its_fills(http, clock):
    fake = FakeHyperliquid(http)
    ex = await make_exchange(http, clock, fake, resend_window=0.1)  # no time to resend: look it up
    fake.faults = ["lose"]
    res = await ex.create_order("ETH", "buy", "0.01", client_id=42)
    assert len(fake.exchange_posts) == 1
    assert (res["status"], res["order_type"], res["filled_size"], res["avg_price"], res["fee"]) == (
        "FILLED", "market", 0.01, 3015.0, 0.01)
    await ex.close()


async def test_a_fresh_order_briefly_invisible_is_found_on_a_later_lookup(http, clock):
    fake = FakeHyperliquid(http)
    ex = await make_exchange(http, clock, fake, resend_window=0.1)
    fake.faults = ["lose"]
    fake.status_misses = 2
    res = await ex.create_order("ETH", "buy", "0.01", 2900, client_id=42)
    assert res["id"] == "1000" and fake.info_types().count("orderStatus") == 3
    await ex.close()


async def test_an_order_that_cannot_be_found_is_unknown_and_never_signed_twice(http, clock):
    fake = FakeHyperliquid(http)
    ex = await make_exchange(http, clock, fake)
    fake.faults = ["timeout"] * 20  # nothing reaches the book; every answer is lost
    with pytest.raises(E.OrderStateUnknown) as info:
        await ex.create_order("ETH", "buy", "0.01", 2900, client_id=42)
    assert info.value.client_order_id == CLOID
    assert len(fake.exchange_posts) >= 2 and len(set(fake.exchange_posts)) == 1  # the same signed bytes only
    assert fake.info_types().count("orderStatus") == 3 and fake.orders == {}
    await ex.close()


async def test_a_different_order_under_our_cloid_is_not_adopted(http, clock):
    fake = FakeHyperliquid(http)
    ex = await make_exchange(http, clock, fake, resend_window=0.1, nonce_source=NonceSource(clock_ms=clock.now_ms))
    await ex.create_order("ETH", "buy", "0.02", 2900, client_id=42)  # an earlier order holds the cloid
    clock.now += 60  # a minute later the caller reuses its client id for a different order
    fake.faults = ["timeout"]
    with pytest.raises(E.DuplicateOrder):
        await ex.create_order("ETH", "buy", "0.01", 2900, client_id=42)
    clock.now += 60
    fake.faults = ["timeout"]
    with pytest.raises(E.DuplicateOrder):  # identical fields, but recorded long before we signed
        await ex.create_order("ETH", "buy", "0.02", 2900, client_id=42)
    assert len(fake.orders) == 1
    await ex.close()


async def test_a_duplicate_nonce_on_the_first_attempt_is_a_refusal_not_an_adoption(http, clock):
    fake = FakeHyperliquid(http)
    ex = await make_exchange(http, clock, fake)
    fake.nonces.add(T0)  # another process signed with our nonce
    with pytest.raises(E.BadRequest) as info:
        await ex.create_order("ETH", "buy", "0.01", 2900)
    assert info.value.code == "DUPLICATE_NONCE" and "orderStatus" not in fake.info_types()
    await ex.close()


async def test_a_503_is_resent_with_the_same_bytes_and_placed_once(http, clock):
    fake = FakeHyperliquid(http)
    ex = await make_exchange(http, clock, fake)
    fake.faults = ["503"]
    res = await ex.create_order("ETH", "buy", "0.01", 2900)
    assert res["status"] == "NEW" and len(fake.orders) == 1 and len(set(fake.exchange_posts)) == 1
    await ex.close()


# -- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text,error,code", [
    (e["error"], cls, code) for e, (cls, code) in zip(
        sample("exchange_order_errors_examples_response")["response"]["data"]["statuses"],
        [(E.InvalidOrder, "TICK_SIZE"), (E.InsufficientMargin, "INSUFFICIENT_MARGIN"), (E.InvalidOrder, "REDUCE_ONLY"),
         (E.InvalidOrder, "POST_ONLY_WOULD_CROSS"), (E.InvalidOrder, "IOC_NO_MATCH"), (E.InvalidOrder, "INVALID_PRICE"),
         (E.InvalidOrder, "INVALID_SIZE")], strict=True)
] + [(sample("exchange_order_error_min_notional_response")["response"]["data"]["statuses"][0]["error"],
      E.InvalidOrder, "MIN_VALUE")])
async def test_a_per_order_error_raises_its_typed_error_and_nothing_more_is_sent(http, clock, text, error, code):
    fake = FakeHyperliquid(http)
    ex = await make_exchange(http, clock, fake)
    fake.order_errors = [text]
    with pytest.raises(error) as info:
        await ex.create_order("ETH", "buy", "0.01", 2900)
    assert info.value.code == code and text in str(info.value)
    assert len(fake.exchange_posts) == 1 and "orderStatus" not in fake.info_types()
    await ex.close()


async def test_an_ioc_that_matches_nothing_is_refused(http, clock):
    fake = FakeHyperliquid(http)
    fake.ioc_fill = 0  # type: ignore[assignment]
    ex = await make_exchange(http, clock, fake)
    with pytest.raises(E.InvalidOrder, match="could not immediately match") as info:
        await ex.create_order("ETH", "buy", "0.01")
    assert info.value.code == "IOC_NO_MATCH"
    await ex.close()


async def test_a_whole_request_refusal_raises_its_typed_error(http, clock):
    fake = FakeHyperliquid(http)
    ex = await make_exchange(http, clock, fake)
    fake.whole_errors = [sample("exchange_err_must_deposit_response")["response"]]
    with pytest.raises(E.AuthenticationError, match="Must deposit"):
        await ex.create_order("ETH", "buy", "0.01", 2900)
    fake.whole_errors = [sample("exchange_err_builder_not_approved_response")["response"]]
    with pytest.raises(E.PermissionDenied):
        await ex.create_order("ETH", "buy", "0.01", 2900)
    await ex.close()


# -- nonces ---------------------------------------------------------------------------------------


async def test_100_concurrent_orders_on_two_instances_sharing_one_agent_key_use_100_distinct_nonces(http, clock):
    fake = FakeHyperliquid(http)
    a = await make_exchange(http, clock, fake, nonce_source=None)  # the process-wide source of the agent key
    b = await make_exchange(http, clock, fake, nonce_source=None)
    results = await asyncio.gather(*(
        (a if i % 2 else b).create_order("ETH", "buy", "0.01", 2900 - i) for i in range(100)))
    nonces = [body["nonce"] for body in fake.bodies()]
    assert len(nonces) == 100 and len(set(nonces)) == 100
    assert all(r["status"] == "NEW" for r in results) and len(fake.orders) == 100
    assert a._nonces is b._nonces
    await a.close()
    await b.close()


async def test_a_burst_of_market_orders_reads_the_marks_once(http, clock):
    fake = FakeHyperliquid(http)
    ex = await make_exchange(http, clock, fake)
    await asyncio.gather(*(ex.create_order("ETH", "buy", "0.01") for _ in range(20)))
    assert fake.info_types().count("metaAndAssetCtxs") == 1  # init's read is fresh enough (CTX_REUSE)
    clock.now += 1
    await asyncio.gather(*(ex.create_order("ETH", "buy", "0.01") for _ in range(5)))
    assert fake.info_types().count("metaAndAssetCtxs") == 2
    await ex.close()

