"""The pooled Vest socket against the paper exchange (real REST client, real server, faults
injected on the server): drops, silence, listen-key expiry, 429 handshakes, a CONNECT proxy
on every connection, and a bounded soak of forced drops."""
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from mpdex.paper import PaperVest
from test_exchanges.ws_helpers import ConnectProxy, eventually, leftover_tasks
from wrappers.vest_rest import VestRestClient
from wrappers.vest_ws_client import VestWSClient

FAST = dict(connect_timeout=2.0, ping_interval=0.1, recv_timeout=0.5, reconnect_min=0.05, reconnect_max=0.5)


@pytest.fixture
async def paper() -> AsyncIterator[PaperVest]:
    async with PaperVest(seed=1, tick_interval=0.1) as p:
        yield p


async def fresh_everywhere(client: VestWSClient, symbols: tuple[str, ...] = ("BTC-PERP",), within: float = 0.3) -> bool:
    return (
        client.private_live
        and all(client.mark_price(s, within) is not None for s in symbols)
        and all(client.orderbook(s, within) is not None for s in client.books.held)
    )


async def test_dropped_sockets_come_back_fresh_within_2s_with_every_subscription_once(paper: PaperVest) -> None:
    key = await paper.create_account(usdc=10_000)
    client = VestWSClient(key, **FAST)
    assert await client.start()
    await client.get_orderbook("BTC-PERP", "t", timeout=2)
    await client.get_orderbook("ETH-PERP", "t", timeout=2)
    expected = ["tickers", "account_private", "BTC-PERP@depth", "ETH-PERP@depth"]
    assert paper.ws_subscriptions() == [expected]
    for _ in range(3):
        gen = client.generation
        assert paper.faults.drop_websockets(code=1012) == 1
        t0 = time.monotonic()
        while not (client.generation > gen and await fresh_everywhere(client, ("BTC-PERP", "ETH-PERP"))):
            assert time.monotonic() - t0 < 2.0, "prices not fresh again within 2 s"
            await asyncio.sleep(0.01)
        assert paper.ws_subscriptions() == [expected]  # restored, no duplicates
    await client.close()
    assert await eventually(lambda: paper.stats["ws_open"] == 0)


async def test_silent_server_is_detected_and_data_resumes(paper: PaperVest) -> None:
    key = await paper.create_account(usdc=10_000)
    client = VestWSClient(key, **FAST)
    await client.start()
    assert await eventually(lambda: client.mark_price("BTC-PERP", 0.3) is not None)
    paper.faults.silence_websockets(1.0)  # open sockets, no data, no PONG
    assert await eventually(lambda: client.stats["watchdog_reconnects"] >= 1, timeout=2)
    assert await eventually(lambda: client.mark_price("BTC-PERP", 0.2) is not None and client.private_live, timeout=3)
    assert paper.ws_subscriptions() == [["tickers", "account_private"]]
    await client.close()


async def test_expired_listen_key_gets_a_new_key_and_private_events_flow_again(paper: PaperVest) -> None:
    from wrappers.vest import VestExchange

    key = await paper.create_account(usdc=10_000)
    client = VestWSClient(key, **FAST)
    await client.start()
    first = client._listen_key
    assert await eventually(lambda: client.private_live)
    assert paper.expire_listen_keys() == 1
    assert await eventually(lambda: client.private_live and client._listen_key != first, timeout=2)
    assert client.stats["listen_keys"] >= 2
    ex = VestExchange(**vars(key), use_ws=False)
    await ex.init()
    try:
        res = await ex.create_order("BTC-PERP", "buy", 0.01)
        order = await client.wait_for_order(res["client_order_id"], "FILLED", timeout=2)
        assert order["status"] == "FILLED" and client.stats["order_events"] >= 1
        pos = await client.get_position("BTC-PERP")
        assert pos is not None and pos["side"] == "long" and pos["size"] == 0.01
    finally:
        await ex.close()
        await client.close()


async def test_429_on_handshake_backs_off_then_connects(paper: PaperVest) -> None:
    key = await paper.create_account(usdc=10_000)
    client = VestWSClient(key, **FAST)
    await client.start()
    paper.faults.reject_ws_connects(2, status=429, retry_after=0.4)
    t0 = time.monotonic()
    paper.faults.drop_websockets()
    assert await eventually(lambda: client.stats["connect_failures"] == 2, timeout=3)
    assert await eventually(lambda: client.private_live, timeout=3)
    assert time.monotonic() - t0 >= 0.8  # Retry-After honoured on each refusal
    assert client.stats["connects"] == 2 and paper.ws_subscriptions() == [["tickers", "account_private"]]
    await client.close()


async def test_proxy_carries_the_first_connection_and_every_reconnection(paper: PaperVest) -> None:
    async with ConnectProxy() as proxy:
        key = replace(await paper.create_account(usdc=10_000), proxy=proxy.url)
        client = VestWSClient(key, **FAST)  # its own REST client uses the proxy too
        assert await client.start()
        assert proxy.tunnels == 1
        paper.faults.drop_websockets()
        assert await eventually(lambda: client.generation == 2 and client.private_live, timeout=2)
        paper.expire_listen_keys()
        assert await eventually(lambda: client.generation == 3 and client.private_live, timeout=2)
        assert proxy.tunnels == 3
        assert set(proxy.targets) == {f"127.0.0.1:{paper.port}"}
        assert proxy.forwarded >= 1  # listen keys and reconciles went through it as well
        await client.close()


async def test_soak_50_forced_drops_lose_nothing_and_leak_nothing(paper: PaperVest) -> None:
    baseline = leftover_tasks()
    key = await paper.create_account(usdc=10_000)
    # each reconnect costs 4 private REST calls (listen key, open orders ×2, account); the
    # default 5 req/s budget would make this a 40 s test, so it gets a larger one
    rest = VestRestClient(key, rate_limits={"private": (1000.0, 1000.0)})
    client = VestWSClient(key, rest, **{**FAST, "reconnect_min": 0.01, "reconnect_max": 0.05})
    await client.start()
    await client.get_orderbook("BTC-PERP", "soak", timeout=2)
    expected = [["tickers", "account_private", "BTC-PERP@depth"]]
    for i in range(50):
        gen = client.generation
        paper.faults.drop_websockets(code=1012 if i % 2 else 1011)
        assert await eventually(lambda g=gen: client.generation > g and client.private_live, timeout=2), i
        assert paper.ws_subscriptions() == expected, i
    assert await eventually(lambda: client.orderbook("BTC-PERP", 0.3) is not None)
    assert client.stats["connects"] == 51 and client.stats["reconciles"] == 51
    await client.close()
    await rest.close()
    assert await eventually(lambda: paper.stats["ws_open"] == 0)
    # nothing of ours (nor a server handler serving us) outlives close()
    assert await eventually(lambda: not leftover_tasks(baseline), timeout=1), leftover_tasks(baseline)


async def test_one_bots_close_does_not_end_another_api_keys_private_stream(paper: PaperVest) -> None:
    # two API keys of one account (two bots), one listen key per account on Vest
    from wrappers.vest import VestExchange

    primary = "0x" + "5a" * 32
    keys = [replace(await VestExchange.register(primary, network="dev", rest_url=paper.rest_url), ws_url=paper.ws_url)
            for _ in range(2)]
    assert keys[0].api_key != keys[1].api_key and keys[0].primary_address == keys[1].primary_address
    paper.deposit(keys[0], 10_000)
    a, b = (VestExchange(**vars(k), ws_options=FAST) for k in keys)
    await a.init()
    await b.init()
    try:
        assert a.ws_client is not b.ws_client
        client = b.ws_client
        assert await eventually(lambda: client.private_live and a.ws_client.private_live)
        await a.close()
        await asyncio.sleep(0.3)
        assert client.generation == 1 and client.private_live  # b's stream was not cut
        res = await b.create_order("BTC", "buy", 0.01)
        assert (await client.wait_for_order(res["client_order_id"], timeout=2))["status"] == "FILLED"
        assert client.stats["order_events"] >= 1
    finally:
        await a.close()
        await b.close()
