"""Hyperliquid's two rate limits: the IP weight budget (weights per info type and per item,
per batch for actions; shared by every client of a host) and the address budget's 10 s regime
once the server says it is used up (orders held back or refused locally, cancels let through)."""
from __future__ import annotations

import pytest

from mpdex import errors as E
from wrappers.hyperliquid_keys import make_hyperliquid_key
from wrappers.hyperliquid_rest import HyperliquidRestClient, exchange_weight, info_weight, item_weight

from .conftest import sample
from .hl_fakes import BASE, FakeHyperliquid, key_fields, make_exchange


def test_weights_follow_the_published_table():
    assert [info_weight(t) for t in ("l2Book", "allMids", "clearinghouseState", "orderStatus", "userRole",
                                     "metaAndAssetCtxs", "frontendOpenOrders")] == [2, 2, 2, 2, 60, 20, 20]
    assert (item_weight("userFillsByTime", [{}] * 45), item_weight("candleSnapshot", [{}] * 130),
            item_weight("fundingHistory", [{}] * 19), item_weight("l2Book", [{}] * 100)) == (2, 2, 0, 0)
    assert [exchange_weight(n) for n in (1, 39, 40, 79, 80, 200)] == [1, 1, 2, 2, 3, 6]


async def test_reads_draw_their_weight_from_the_ip_bucket(http, clock):
    rest = HyperliquidRestClient(make_hyperliquid_key(**key_fields()), rate_limits={"ip": (1.0, 100.0)},
                                 monotonic=clock.monotonic, sleep=clock.sleep)
    http.post(BASE + "/info", payload=sample("info_metaAndAssetCtxs_response"))
    http.post(BASE + "/info", payload=sample("info_l2Book_response"))
    http.post(BASE + "/info", payload=[{"oid": i} for i in range(45)])
    http.post(BASE + "/info", payload=[{"t": i} for i in range(130)])
    await rest.meta_and_asset_ctxs()  # 20
    await rest.l2_book("DYDX")  # 2
    await rest.user_fills_by_time(0)  # 20 + 45 // 20
    await rest.candle_snapshot("BTC", "1m", 0, 1)  # 20 + 130 // 60
    bucket = rest.limiter.bucket("ip")
    assert bucket.wait_for(34) == 0 and bucket.wait_for(35) == pytest.approx(1.0)
    assert clock.sleeps == []
    await rest.close()


async def test_the_ip_budget_is_one_per_host_the_address_budget_one_per_account(clock):
    mono, sleep = clock.monotonic, clock.sleep  # one timeline (injected clocks get limiters of their own)
    a = HyperliquidRestClient(make_hyperliquid_key(**key_fields()), monotonic=mono, sleep=sleep)
    b = HyperliquidRestClient(make_hyperliquid_key(**key_fields(vault_address="0x" + "ab" * 20)),
                              monotonic=mono, sleep=sleep)
    c = HyperliquidRestClient(make_hyperliquid_key(**key_fields()), monotonic=mono, sleep=sleep)
    assert a.limiter is b.limiter and a.limiter.bucket("ip").burst == 1200 and a.limiter.bucket("ip").rate == 20
    assert a.budget is c.budget and a.budget is not b.budget
    for rest in (a, b, c):
        await rest.close()


def test_unknown_rate_limit_groups_are_config_errors():
    with pytest.raises(E.ConfigError, match="unknown rate_limits"):
        HyperliquidRestClient(make_hyperliquid_key(**key_fields()), rate_limits={"order": (1.0, 1.0)})


async def test_an_action_pays_its_batch_weight(http, clock):
    fake = FakeHyperliquid(http)
    ex = await make_exchange(http, clock, fake, rate_limits={"ip": (1.0, 1000.0)})
    orders = [await ex.create_order("ETH", "buy", "0.01", 2000 + i) for i in range(80)]
    bucket = ex.rest.limiter.bucket("ip")
    before = bucket.wait_for(1000)
    await ex.cancel_orders("ETH", orders)  # one action of 80 cancels: weight 3
    assert bucket.wait_for(1000) == pytest.approx(before + 3)
    await ex.close()


async def test_the_10s_regime_once_the_address_budget_is_used_up(http, clock):
    fake = FakeHyperliquid(http)
    ex = await make_exchange(http, clock, fake)
    resting = await ex.create_order("ETH", "buy", "0.01", 2900)
    refusal = sample("exchange_err_address_rate_limit_response")["response"]
    fake.whole_errors = [refusal]
    with pytest.raises(E.RateLimitExceeded) as info:
        await ex.create_order("ETH", "buy", "0.01", 2900)
    assert info.value.retry_after == 10.0 and ex.rest.budget.exhausted
    posts = len(fake.exchange_posts)
    fake.info_answers["userRateLimit"] = {"cumVlm": "87457.46", "nRequestsUsed": 97461, "nRequestsCap": 97456}
    # the next slot is 10 s away, more than the order's queue wait (5 s): refused locally, unsent
    with pytest.raises(E.RateLimitExceeded, match="refused locally"):
        await ex.create_order("ETH", "buy", "0.01", 2900)
    assert len(fake.exchange_posts) == posts and fake.info_types().count("userRateLimit") == 1
    # cancels have a cap of their own and still go out
    (cancelled,) = await ex.cancel_orders("ETH", resting["id"])
    assert cancelled["status"] == "ok" and len(fake.exchange_posts) == posts + 1
    # with a queue wait longer than the regime, the order waits for its slot and goes
    ex.order_queue_wait = 15.0
    started = clock.now
    res = await ex.create_order("ETH", "buy", "0.01", 2900)
    assert res["status"] == "NEW" and clock.now - started == pytest.approx(10.0)
    # traded volume freed requests: the regime ends at the next check (at most every 10 s)
    clock.now += 10
    fake.info_answers["userRateLimit"] = {"cumVlm": "200000.0", "nRequestsUsed": 97470, "nRequestsCap": 210000}
    started = clock.now
    await ex.create_order("ETH", "buy", "0.01", 2900)
    assert clock.now == started and not ex.rest.budget.exhausted
    assert fake.info_types().count("userRateLimit") == 2
    await ex.close()


async def test_an_ip_429_on_an_order_resends_the_same_bytes(http, clock):
    fake = FakeHyperliquid(http)
    ex = await make_exchange(http, clock, fake)
    fake.faults = ["429"]
    res = await ex.create_order("ETH", "buy", "0.01", 2900)
    assert res["status"] == "NEW" and len(fake.exchange_posts) == 2 and len(set(fake.exchange_posts)) == 1
    assert clock.sleeps and len(fake.orders) == 1
    await ex.close()
