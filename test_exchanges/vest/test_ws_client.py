"""VestWSClient against a Vest-like loopback server and an in-memory REST fake: caches with
receive times and REST fallback, depth reference counts, listen-key life cycle, reconcile,
order waiters, and the per-account pool."""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

from mpdex.errors import AuthenticationError, RequestTimeout
from wrappers.vest_keys import make_vest_key
from wrappers.vest_ws_client import VestWSClient, VestWSPool

from ..ws_helpers import FakeVestRest, VestLikeServer, eventually, leftover_tasks, vest_order

FAST = dict(connect_timeout=1.0, ping_interval=0.1, recv_timeout=0.5, reconnect_min=0.05, reconnect_max=0.4)


def make_key(server: VestLikeServer, address: str = "0x" + "ab" * 20, api_key: str = "api-key-1") -> Any:
    return make_vest_key(api_key=api_key, signing_private_key="0x" + "11" * 32, primary_address=address,
                         account_group=3, network="dev", ws_url=server.url)


async def start_client(server: VestLikeServer, rest: FakeVestRest, **kw: Any) -> VestWSClient:
    client = VestWSClient(make_key(server), rest, **{**FAST, **kw})
    assert await client.start()
    return client


async def test_url_carries_group_and_listen_key_which_is_never_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with VestLikeServer() as server:
        rest = FakeVestRest(server)
        client = await start_client(server, rest)
        assert server.paths[0] == f"/ws-api?version=1.0&xwebsocketserver=restserver3&listenKey={rest.current_key}"
        assert await eventually(lambda: server.live_subscriptions() == [["tickers", "account_private"]])
        await client.close()
        assert rest.deleted == [rest.current_key] and rest.closed is False  # not ours to close
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("websockets.server"))
    assert "listenKey=<redacted>" in ours  # the wire log is kept, minus the secret
    assert rest.current_key and rest.current_key[4:] not in ours
    assert "secret" not in repr(client)


async def test_mark_price_is_served_fresh_and_stale_data_falls_back_to_rest(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="mpdex.vest.ws")
    async with VestLikeServer() as server:
        rest = FakeVestRest(server)
        client = await start_client(server, rest, max_age=0.3)
        assert await eventually(lambda: client.mark_price("BTC-PERP") == 100.5)
        server.marks["BTC-PERP"] = "101.25"
        assert await eventually(lambda: client.mark_price("BTC-PERP") == 101.25)
        assert await client.get_mark_price("BTC-PERP") == 101.25
        assert rest.count("get_ticker_latest") == 0
        server.silence(5)  # the socket stays up but the data ages
        await asyncio.sleep(0.35)
        assert client.mark_price("BTC-PERP") is None  # older than the bound: not served
        server.marks["BTC-PERP"] = "102"
        assert await client.get_mark_price("BTC-PERP") == 102.0
        assert rest.count("get_ticker_latest") == 1
        assert "using REST" in caplog.text
        # the REST answer is cached with its own receive time
        assert await client.get_mark_price("BTC-PERP") == 102.0 and rest.count("get_ticker_latest") == 1
        assert client.ticker("BTC-PERP", max_age=1)["oneHrFundingRate"] == "0.0000125"
        await client.close()


async def test_a_rest_ticker_that_answers_after_a_newer_socket_ticker_does_not_replace_it() -> None:
    async with VestLikeServer() as server:
        rest = FakeVestRest(server)
        rest.ticker_delay = 0.5
        client = await start_client(server, rest, max_age=0.2)
        assert await eventually(lambda: client.mark_price("BTC-PERP") == 100.5)
        server.silence(0.3)  # the socket's row ages past the bound …
        await asyncio.sleep(0.25)
        assert client.mark_price("BTC-PERP") is None
        server.marks["BTC-PERP"] = "101"
        reader = asyncio.create_task(client.get_mark_price("BTC-PERP"))  # … REST reads 101 now …
        await asyncio.sleep(0.05)
        server.marks["BTC-PERP"] = "102"  # … the socket speaks again, with 102, before REST answers
        assert await reader == 102.0
        assert client.mark_price("BTC-PERP") == 102.0 and rest.count("get_ticker_latest") == 1
        await client.close()


async def test_a_rest_book_that_answers_after_a_newer_socket_book_is_not_returned() -> None:
    async with VestLikeServer() as server:
        rest = FakeVestRest(server)
        rest.depth_delay = 0.5
        client = await start_client(server, rest, max_age=0.2)
        assert (await client.get_orderbook("BTC-PERP", "ex1", timeout=2))["bids"][0] == [99.5, 2.0]
        server.silence(0.3)
        await asyncio.sleep(0.25)
        book = await client.get_orderbook("BTC-PERP", "ex1", timeout=0.1)  # stale: REST is asked …
        assert rest.count("get_depth") == 1
        assert book["bids"] == [[99.5, 2.0], [99.0, 1.5]]  # … but the socket's book came after the request
        await client.close()


async def test_depth_is_reference_counted_per_holder() -> None:
    async with VestLikeServer() as server:
        rest = FakeVestRest(server)
        client = await start_client(server, rest)
        book = await client.get_orderbook("BTC-PERP", "ex1", timeout=2)
        assert book["bids"] == [[99.5, 2.0], [99.0, 1.5]] and book["asks"] == [[100.5, 3.0], [101.0, 1.0]]
        assert abs(book["time"] - time.time() * 1000) < 2000
        for _ in range(3):  # polling does not stack subscriptions
            await client.get_orderbook("BTC-PERP", "ex1")
        await client.get_orderbook("BTC-PERP", "ex2")
        assert server.live_subscriptions() == [["tickers", "account_private", "BTC-PERP@depth"]]
        await client.unsubscribe_orderbook("BTC-PERP", "ex1")
        await asyncio.sleep(0.1)
        assert "BTC-PERP@depth" in server.live_subscriptions()[0]
        await client.unsubscribe_orderbook("BTC-PERP", "ex2")
        assert await eventually(lambda: server.live_subscriptions() == [["tickers", "account_private"]])
        assert client.orderbook("BTC-PERP") is None and "BTC-PERP@depth" not in client.channels
        assert rest.count("get_depth") == 0
        await client.close()


async def test_a_book_is_parsed_once_per_frame_and_each_read_gets_its_own_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    from wrappers import vest_parsers

    parsed: list[int] = []
    real = vest_parsers.parse_orderbook

    def counting(raw: Any, time_ms: int) -> Any:
        parsed.append(time_ms)
        return real(raw, time_ms)

    monkeypatch.setattr(vest_parsers, "parse_orderbook", counting)
    async with VestLikeServer(tick=5.0) as server:  # one frame per 5 s: the reads below see one frame
        client = await start_client(server, FakeVestRest(server))
        await client.subscribe_orderbook("BTC-PERP", "ex1")
        client._handle_message({"channel": "BTC-PERP@depth", "data": {"bids": [["99", "1"]], "asks": [["101", "2"]]}})
        books = [await client.get_orderbook("BTC-PERP", "ex1") for _ in range(10)]
        assert len(parsed) == 1 and all(b == books[0] for b in books)
        assert books[0] == {"bids": [[99.0, 1.0]], "asks": [[101.0, 2.0]], "time": parsed[0]}
        books[0]["bids"][0][1] = 0.0  # a caller that edits its book …
        books[0]["asks"].clear()
        assert client.orderbook("BTC-PERP") == books[1]  # … does not edit the cache
        client._handle_message({"channel": "BTC-PERP@depth", "data": {"bids": [["98", "1"]], "asks": [["102", "2"]]}})
        assert (await client.get_orderbook("BTC-PERP", "ex1"))["bids"] == [[98.0, 1.0]] and len(parsed) == 2
        await client.close()


async def test_depth_that_never_arrives_waits_once_then_uses_rest() -> None:
    async with VestLikeServer() as server:
        rest = FakeVestRest(server)
        client = await start_client(server, rest)
        t0 = time.monotonic()
        book = await client.get_orderbook("AAPL-USD-PERP", "ex1", timeout=0.3)
        assert 0.25 <= time.monotonic() - t0 < 1.0 and book["bids"] == [[98.0, 1.0]]
        t0 = time.monotonic()
        await client.get_orderbook("AAPL-USD-PERP", "ex1", timeout=0.3)
        assert time.monotonic() - t0 < 0.1  # no second wait
        assert rest.count("get_depth") == 2
        await client.close()


async def test_reconnect_replays_every_channel_once_and_reconciles() -> None:
    async with VestLikeServer() as server:
        rest = FakeVestRest(server)
        client = await start_client(server, rest)
        await client.get_orderbook("ETH-PERP", "ex1", timeout=2)
        assert await eventually(lambda: client.private_live)
        orders_before = rest.count("get_orders")
        for _ in range(3):
            gen = client.generation
            await server.drop_all()
            assert await eventually(lambda g=gen: client.generation > g and client.private_live, timeout=2)
            assert await eventually(lambda: client.orderbook("ETH-PERP", max_age=0.1) is not None)
        subs = server.live_subscriptions()
        assert len(subs) == 1 and sorted(subs[0]) == sorted(["tickers", "account_private", "ETH-PERP@depth"])
        assert rest.count("get_orders") == orders_before + 6  # NEW + PARTIALLY_FILLED per reconnect
        assert client.stats["reconciles"] == 4
        await client.close()


async def test_listen_key_expiry_close_gets_a_fresh_key_and_private_events_flow() -> None:
    async with VestLikeServer() as server:
        rest = FakeVestRest(server)
        client = await start_client(server, rest)
        first = rest.current_key
        await server.expire_keys(4005)
        assert await eventually(lambda: client.private_live and rest.current_key != first, timeout=2)
        assert server.paths[-1].endswith(f"listenKey={rest.current_key}")
        assert await eventually(lambda: ["tickers", "account_private"] in server.live_subscriptions())
        assert await server.push_order_event(vest_order(7, "NEW")) == 1
        assert await eventually(lambda: client.find_order(7) is not None)
        await client.close()


async def test_keepalive_1125_gets_a_fresh_key_and_reconnects() -> None:
    async with VestLikeServer() as server:
        rest = FakeVestRest(server)
        client = await start_client(server, rest, keepalive_interval=0.15)
        assert await eventually(lambda: rest.count("keepalive_listen_key") >= 1)
        assert client.generation == 1  # a live key: keepalives change nothing
        first = rest.current_key
        server.valid_keys.clear()  # expired server-side; the socket stays open
        assert await eventually(lambda: client.generation >= 2 and client.private_live, timeout=2)
        assert rest.current_key != first and server.paths[-1].endswith(f"listenKey={rest.current_key}")
        assert await server.push_order_event(vest_order(8)) >= 1
        assert await eventually(lambda: client.find_order(8) is not None)
        await client.close()


SLOW_BACKOFF = dict(reconnect_min=2.0, reconnect_max=2.0, min_connect_interval=0.2)  # a normal retry takes ≥ 1 s


async def test_a_healthy_socket_whose_key_expires_on_keepalive_reconnects_at_once() -> None:
    async with VestLikeServer() as server:
        rest = FakeVestRest(server)
        client = await start_client(server, rest, keepalive_interval=0.15, **SLOW_BACKOFF)
        assert await eventually(lambda: client.private_live and client.mark_price("BTC-PERP") is not None)
        await asyncio.sleep(0.2)  # older than the storm guard's spacing
        server.valid_keys.clear()  # expired server-side: the next keepalive answers 1125
        t0 = time.monotonic()
        assert await eventually(lambda: client.generation == 2 and client.private_live, timeout=3)
        assert time.monotonic() - t0 < 0.6  # the keepalive period plus a reconnect, no backoff
        await client.close()


async def test_a_healthy_socket_closed_for_its_key_reconnects_at_once_but_a_refused_new_key_backs_off() -> None:
    async with VestLikeServer() as server:
        rest = FakeVestRest(server)
        client = await start_client(server, rest, **SLOW_BACKOFF)
        assert await eventually(lambda: client.private_live and client.mark_price("BTC-PERP") is not None)
        await asyncio.sleep(0.2)
        t0 = time.monotonic()
        await server.expire_keys(4004)  # e.g. another process deleted the account's key
        assert await eventually(lambda: client.generation == 2 and client.private_live, timeout=3)
        assert time.monotonic() - t0 < 0.5
        real = rest.create_listen_key

        async def refused_key() -> str:
            key = await real()
            server.valid_keys.discard(key)  # handed out, then refused by the socket server
            return key

        rest.create_listen_key = refused_key  # type: ignore[method-assign]
        await server.expire_keys(4004)
        await asyncio.sleep(1.5)
        assert server.connect_count <= 4  # one at once, then the 1-2 s backoff: no storm
        await client.close()


async def test_api_keys_of_one_account_share_the_listen_key_and_only_the_last_close_deletes_it() -> None:
    async with VestLikeServer() as server:
        rest_a, rest_b, rest_c = FakeVestRest(server), FakeVestRest(server), FakeVestRest(server)
        a = VestWSClient(make_key(server, api_key="bot-a"), rest_a, **FAST)
        b = VestWSClient(make_key(server, api_key="bot-b"), rest_b, **FAST)
        c = VestWSClient(make_key(server, address="0x" + "cd" * 20, api_key="bot-c"), rest_c, **FAST)
        for client in (a, b, c):
            assert await client.start()
        await a.close()
        assert rest_a.count("delete_listen_key") == 0  # b still uses the account's key
        await c.close()
        assert rest_c.count("delete_listen_key") == 1  # another account: its own key
        assert b.connected and b.generation == 1
        await b.close()
        assert rest_b.count("delete_listen_key") == 1  # the last socket of the account


async def test_keepalive_survives_an_unexpected_error() -> None:
    async with VestLikeServer() as server:
        rest = FakeVestRest(server)
        real = rest.keepalive_listen_key
        failures = []

        async def flaky() -> str:
            if not failures:
                failures.append(1)
                raise RuntimeError("unexpected")
            return await real()

        rest.keepalive_listen_key = flaky  # type: ignore[method-assign]
        client = await start_client(server, rest, keepalive_interval=0.05)
        assert await eventually(lambda: rest.count("keepalive_listen_key") >= 2)  # renewal went on
        assert failures == [1] and client.generation == 1
        await client.close()


async def test_refused_listen_key_fails_start_and_closes_cleanly() -> None:
    baseline = leftover_tasks()
    async with VestLikeServer() as server:
        rest = FakeVestRest(server)
        rest.fail_listen_key = AuthenticationError("Vest UNAUTHORIZED", code=1002, http_status=401)
        client = VestWSClient(make_key(server), rest, **FAST)
        with pytest.raises(AuthenticationError):
            await client.start()
        await client.close()
        assert server.connect_count == 0
    assert leftover_tasks(baseline) == set()


async def test_fill_reaches_wait_for_order_and_refreshes_the_position() -> None:
    async with VestLikeServer() as server:
        rest = FakeVestRest(server)
        client = await start_client(server, rest)
        assert await eventually(lambda: client.private_live)
        assert await client.get_position("BTC-PERP") is None
        gets = rest.count("get_account")
        waiter = asyncio.create_task(client.wait_for_order(42, status="FILLED", timeout=3))
        await server.push_order_event(vest_order(42, "NEW"))
        await asyncio.sleep(0.1)
        assert not waiter.done()
        rest.account["positions"] = [{"symbol": "BTC-PERP", "isLong": True, "size": "0.5", "entryPrice": "100.00",
                                      "unrealizedPnl": "0.25", "liqPrice": "50.0", "initMargin": "5"}]
        rest.account_delay = 0.05
        await server.push_order_event(vest_order(42, "FILLED", filled=True))
        order = await waiter
        assert order["status"] == "FILLED" and order["client_order_id"] == "42" and order["avg_price"] == 100.0
        pos = await client.get_position("BTC-PERP")  # waits for the refresh the fill started
        assert pos is not None and pos["side"] == "long" and pos["size"] == 0.5
        assert rest.count("get_account") == gets + 1  # one refresh, shared
        # already final: answered at once from the stream's memory
        assert (await client.wait_for_order(42, timeout=0.01))["status"] == "FILLED"
        await client.close()


async def test_wait_for_order_returns_on_a_different_final_state_and_times_out_otherwise() -> None:
    async with VestLikeServer() as server:
        rest = FakeVestRest(server)
        client = await start_client(server, rest)
        assert await eventually(lambda: client.private_live)
        await server.push_order_event(vest_order(5, "NEW"))
        waiter = asyncio.create_task(client.wait_for_order(5, "FILLED", timeout=3))
        await asyncio.sleep(0.05)
        await server.push_order_event({"id": f"0x{5:064x}", "status": "CANCELLED", "postTime": 1, "nonce": 5})
        assert (await waiter)["status"] == "CANCELLED"
        rest.orders = [vest_order(6, "NEW")]
        with pytest.raises(RequestTimeout):
            await client.wait_for_order(6, "FILLED", timeout=0.2)
        assert rest.calls[-1] == ("get_orders", {"nonce": "6"})
        await client.close()


async def test_fill_missed_while_disconnected_is_recovered_by_reconcile() -> None:
    async with VestLikeServer() as server:
        rest = FakeVestRest(server)
        client = await start_client(server, rest, reconnect_min=0.3, reconnect_max=0.4)
        assert await eventually(lambda: client.private_live)
        await server.push_order_event(vest_order(9, "NEW"))
        assert await eventually(lambda: client.find_order(9) is not None)
        waiter = asyncio.create_task(client.wait_for_order(9, "FILLED", timeout=3))
        await server.drop_all()
        rest.orders = [vest_order(9, "FILLED", filled=True)]  # filled while we were away
        order = await waiter
        assert order["status"] == "FILLED"
        assert await client.get_open_orders() == []
        await client.close()


async def test_open_orders_live_from_the_stream_and_rest_after_our_own_change() -> None:
    async with VestLikeServer() as server:
        rest = FakeVestRest(server)
        rest.orders = [vest_order(1, "NEW")]
        client = await start_client(server, rest)
        assert await eventually(lambda: client.private_live)
        assert [o["client_order_id"] for o in await client.get_open_orders()] == ["1"]
        calls = rest.count("get_orders")
        await server.push_order_event(vest_order(2, "NEW", symbol="ETH-PERP"))
        assert await eventually(lambda: client.find_order(2) is not None)
        assert [o["client_order_id"] for o in await client.get_open_orders()] == ["1", "2"]
        assert [o["client_order_id"] for o in await client.get_open_orders("ETH-PERP")] == ["2"]
        assert rest.count("get_orders") == calls  # served live
        rest.orders.append(vest_order(3, "NEW"))  # placed by us over REST: the stream has not said so yet
        client.invalidate_private()
        ids = [o["client_order_id"] for o in await client.get_open_orders()]
        assert "3" in ids and rest.count("get_orders") == calls + 2
        await client.close()


async def test_stale_account_snapshot_is_refetched() -> None:
    async with VestLikeServer() as server:
        rest = FakeVestRest(server)
        client = await start_client(server, rest, max_age=0.2)
        assert await eventually(lambda: client.private_live)
        gets = rest.count("get_account")
        assert (await client.get_collateral())["available_collateral"] == 1000.0
        assert rest.count("get_account") == gets
        rest.account["withdrawable"] = "900"
        await asyncio.sleep(0.25)
        assert (await client.get_collateral())["available_collateral"] == 900.0
        assert rest.count("get_account") == gets + 1
        await client.close()


async def test_pool_shares_one_socket_per_account_and_loop() -> None:
    baseline = leftover_tasks()
    pool = VestWSPool()
    async with VestLikeServer() as server:
        rest = FakeVestRest(server)
        key = make_key(server)
        a, b = await asyncio.gather(pool.acquire(key, rest=rest, **FAST), pool.acquire(key, rest=rest, **FAST))
        assert a is b and pool.refs(a) == 2 and server.connect_count == 1
        other = await pool.acquire(make_key(server, address="0x" + "cd" * 20), rest=FakeVestRest(server), **FAST)
        assert other is not a
        await pool.release(a)
        assert a.connected and pool.refs(a) == 1
        await server.drop_all()  # the survivor still heals
        assert await eventually(lambda: a.generation == 2 and a.private_live, timeout=2)
        await pool.release(a)
        assert a.closed and pool.refs(a) == 0
        again = await pool.acquire(key, rest=rest, **FAST)
        assert again is not a and again.connected
        await pool.release(again)
        await pool.release(other)
    assert leftover_tasks(baseline) == set()


async def test_pool_acquire_failure_leaves_no_entry() -> None:
    pool = VestWSPool()
    async with VestLikeServer() as server:
        rest = FakeVestRest(server)
        rest.fail_listen_key = AuthenticationError("Vest UNAUTHORIZED", code=1002, http_status=401)
        key = make_key(server)
        with pytest.raises(AuthenticationError):
            await pool.acquire(key, rest=rest, **FAST)
        rest.fail_listen_key = None
        client = await pool.acquire(key, rest=rest, **FAST)
        assert pool.refs(client) == 1 and client.connected
        await pool.release(client)


async def test_close_wakes_waiters_and_stops_everything() -> None:
    baseline = leftover_tasks()
    async with VestLikeServer() as server:
        rest = FakeVestRest(server)
        client = await start_client(server, rest, keepalive_interval=0.05)
        waiter = asyncio.create_task(client.wait_for_order(77, timeout=5))
        await asyncio.sleep(0.1)
        await client.close()
        with pytest.raises(Exception, match="closed"):
            await waiter
    assert leftover_tasks(baseline) == set()


async def test_order_memory_stays_bounded_over_a_long_run(monkeypatch: pytest.MonkeyPatch) -> None:
    from wrappers import vest_ws_client

    monkeypatch.setattr(vest_ws_client, "_RECENT_FINAL_ORDERS", 10)
    async with VestLikeServer() as server:
        client = VestWSClient(make_key(server), FakeVestRest(server), **FAST)
        for n in range(1, 101):
            client._on_order_event(vest_order(n, "NEW"))
            client._on_order_event({"id": f"0x{n:064x}", "status": "CANCELLED", "postTime": 1, "nonce": n})
        assert len(client.state.tracker.final) == 10 and not client.state.tracker.open
        assert len(client.state.tracker.by_client_id) == 10 and len(client.state.tracker.order_seq) == 10
        assert client.find_order(100)["status"] == "CANCELLED" and client.find_order(1) is None
        await client.close()


async def test_open_orders_are_not_served_from_a_socket_silent_for_longer_than_the_bound() -> None:
    # the watchdog allows 2 s of silence, the read bound is 0.2 s: a stream state we have not
    # heard about for longer than the bound may miss events, so REST answers instead
    async with VestLikeServer() as server:
        rest = FakeVestRest(server)
        client = await start_client(server, rest, max_age=0.2, recv_timeout=2.0, ping_interval=1.0)
        assert await eventually(lambda: client.private_live)
        assert await client.get_open_orders() == []
        server.silence(5)
        rest.orders.append(vest_order(5, "NEW"))  # its NEW event never arrives
        await asyncio.sleep(0.35)
        assert [o["client_order_id"] for o in await client.get_open_orders()] == ["5"]
        await client.close()


async def test_a_burst_of_fills_runs_one_account_refresher_not_one_task_per_fill() -> None:
    async with VestLikeServer() as server:
        rest = FakeVestRest(server)
        client = await start_client(server, rest)
        assert await eventually(lambda: client.private_live)
        rest.account_delay = 0.1
        for n in range(200):  # a market maker's partial fills, faster than one /account read
            client._on_order_event(vest_order(n + 1, "PARTIALLY_FILLED", filled=True))
        refreshers = [t for t in client._tasks if t.get_name().endswith("account-refresh-on-fill")]
        assert len(refreshers) == 1
        assert await eventually(lambda: client.state.account.fresh(client.max_age))
        assert rest.count("get_account") <= 3
        await client.close()


async def test_orders_that_ended_unseen_leave_no_index_entries_after_a_snapshot() -> None:
    # an order that ended while the socket was down never gets its final event: the REST
    # snapshot drops it, and its nonce/sequence entries must go too (days of reconnects)
    async with VestLikeServer() as server:
        rest = FakeVestRest(server)
        client = VestWSClient(make_key(server), rest, **FAST)
        for n in range(1, 51):
            client._on_order_event(vest_order(n, "NEW"))
        rest.orders = [vest_order(50, "NEW")]
        await client.state.orders.refresh()
        assert list(client.state.tracker.open) == [f"0x{50:064x}"]
        assert list(client.state.tracker.by_client_id) == ["50"] and list(client.state.tracker.order_seq) == [f"0x{50:064x}"]
        assert client.find_order(50) is not None and client.find_order(1) is None
        await client.close()
