"""Rate limits that keep orders alive (issue 10): a body is signed when its token is in
hand, what cannot go out in time is refused locally, and every client of one account on
one host draws from one limiter."""
from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest

from exchange_factory import create_exchange
from mpdex import errors as E
from mpdex.paper import PaperVest
from test_exchanges.vest.vest_fakes import API_KEY, KEYS, rx
from wrappers.vest import VestExchange
from wrappers.vest_rest import VestRestClient


@pytest.fixture
async def paper():
    async with PaperVest(seed=3, tick_interval=None, auto_funding=False) as p:
        yield p


async def test_a_burst_of_concurrent_orders_never_expires_in_the_queue(paper: PaperVest):
    """100 concurrent limit orders through one bucket of 50/s (burst 10) and a 1 s window:
    the ones that get a slot in time are accepted (none expires with 1132), the rest are
    refused locally at once with RateLimitExceeded — nothing doomed goes out late."""
    key = await paper.create_account(usdc=1_000_000)
    ex = await create_exchange("vest", key, use_ws=False, recv_window=1000,
                               rate_limits={"order": (50.0, 10.0), "private": (500.0, 500.0)})
    paper.set_price("BTC-PERP", "97000.0")
    started = time.monotonic()
    outcomes = await asyncio.gather(*(ex.create_order("BTC", "buy", "0.001", price="90000") for _ in range(100)),
                                    return_exceptions=True)
    elapsed = time.monotonic() - started
    kinds = Counter(type(o).__name__ if isinstance(o, BaseException) else "accepted" for o in outcomes)
    assert set(kinds) <= {"accepted", "RateLimitExceeded"}, kinds  # no ORDER_EXPIRED (1132), nothing unknown
    assert 50 <= kinds["accepted"] <= 70 and kinds["accepted"] + kinds["RateLimitExceeded"] == 100
    refused = [o for o in outcomes if isinstance(o, E.RateLimitExceeded)]
    assert all("nothing was sent" in str(o) and o.retry_after and o.retry_after > 1.0 for o in refused)
    assert paper.stats["orders_accepted"] == kinds["accepted"] and paper.stats["orders_rejected"] == 0
    assert elapsed < 3.0
    await ex.close()


async def test_every_client_of_one_account_and_host_shares_one_limiter(paper: PaperVest):
    key = await paper.create_account()
    a = await create_exchange("vest", key, use_ws=False)
    b = await create_exchange("vest", key, use_ws=False)
    other = await create_exchange("vest", await paper.create_account(), use_ws=False)
    assert a.rest.transport._limiter is b.rest.transport._limiter
    assert other.rest.transport._limiter is not a.rest.transport._limiter
    socket_rest = VestRestClient(key)  # what the pooled socket client builds for its REST calls
    assert socket_rest.transport._limiter is a.rest.transport._limiter
    c = await create_exchange("vest", key, use_ws=False, rate_limits={"order": (2.0, 3.0)})
    assert a.rest.transport._limiter.bucket("order").rate == 2.0  # the option reaches all of them
    assert a.rest.transport._limiter.bucket("order").burst == 3.0
    for ex in (a, b, c, other):
        await ex.close()
    await socket_rest.close()


async def test_register_is_not_retried_after_a_lost_answer():
    from test_exchanges.http_mock import mock_http

    with mock_http() as http:
        http.post(rx("/register"), status=503, body="gateway")
        rest = VestRestClient(None, rest_url="https://server-prod.hz.vestmarkets.com/v2")
        with pytest.raises(E.ExchangeUnavailable):
            await rest.register({"signingAddr": "0x" + "11" * 20})
        await rest.close()
        sent = [c for (m, u), calls in http.requests.items() if m == "POST" for c in calls]
        assert len(sent) == 1  # a second POST could have created a second API key


@pytest.mark.parametrize("field,value", [
    ("signing_private_key", "0x" + "00" * 32),  # all-zero key
    ("signing_private_key", "0x" + "ff" * 32),  # above the curve order
    ("account_group", "1.5"), ("account_group", 1.5), ("account_group", "abc"), ("account_group", True),
    ("ws_url", "https://ws.example/ws-api"), ("rest_url", "ftp://x"),
])
def test_bad_keys_are_config_errors_before_any_request(field, value):
    fields = {"api_key": API_KEY, "signing_private_key": KEYS["signing_private_key"],
              "primary_address": KEYS["primary_address"], field: value}
    with pytest.raises(E.ConfigError) as info:
        VestExchange(**fields)
    assert field in str(info.value) and str(value) not in str(info.value).replace(field, "")


async def test_with_a_live_socket_an_order_is_confirmed_without_a_second_round_trip(paper: PaperVest):
    key = await paper.create_account(usdc=100_000)
    ex = await create_exchange("vest", key)
    assert ex.ws_client is not None and await ex.ws_client.wait_connected(5)
    await ex.get_mark_price("ETH")  # the socket's ticker, for the market order's cap
    for _ in range(100):  # the private stream is reconciled shortly after connecting
        if ex.ws_client.private_live:
            break
        await asyncio.sleep(0.02)
    before = paper.stats["rest_requests"]
    limit = await ex.create_order("ETH", "buy", "0.010", price="3000")
    market = await ex.create_order("ETH", "buy", "0.010")
    assert (limit["status"], market["status"]) == ("NEW", "FILLED")
    assert market["filled_size"] == 0.01 and market["avg_price"] and market["fee"]
    assert paper.stats["rest_requests"] - before == 2  # the two POSTs, no GET /orders?id=
    paper.faults.silence_websockets(2.0)  # no events: the confirmation falls back to REST in time
    started = time.monotonic()
    late = await ex.create_order("ETH", "buy", "0.010", price="3001")
    assert late["status"] == "NEW" and time.monotonic() - started < 1.5
    await ex.close()
