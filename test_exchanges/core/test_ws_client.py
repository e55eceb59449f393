"""BaseWSClient against a controllable loopback server: reconnects, watchdog, backoff,
proxy on every connect, frame decoding, and no task outliving close()."""
from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Any

import brotli
import orjson
import pytest
from websockets.exceptions import InvalidStatus

from wrappers import base_ws_client
from wrappers.base_ws_client import BaseWSClient

from ..ws_helpers import ConnectProxy, ControlledServer, eventually, leftover_tasks

FAST = dict(connect_timeout=1.0, ping_interval=0.1, recv_timeout=0.4, reconnect_min=0.05, reconnect_max=0.4)


class ChannelClient(BaseWSClient):
    """The smallest real subclass: tracks channels, records frames, pings like Vest."""

    LOG_NAME = "test-ws"

    def __init__(self, url: str, channels: list[str], **kw: Any) -> None:
        super().__init__(url, **kw)
        self.channels = list(channels)
        self.frames: list[Any] = []
        self.last_data_at: dict[str, float] = {}

    def _handle_message(self, msg: Any) -> bool:
        self.frames.append(msg)
        if isinstance(msg, dict) and "channel" in msg:
            self.last_data_at[msg["channel"]] = time.monotonic()
            return True
        return False  # acks and PONGs are not data

    async def _resubscribe(self) -> None:
        await self.send({"method": "SUBSCRIBE", "params": self.channels, "id": self.generation})

    def _build_ping_message(self) -> Any:
        return {"method": "PING", "params": [], "id": 0}

    def fresh(self, channel: str, within: float = 0.3) -> bool:
        return time.monotonic() - self.last_data_at.get(channel, 0.0) < within


async def test_connects_subscribes_and_close_leaves_no_task() -> None:
    baseline = leftover_tasks()
    async with ControlledServer() as server:
        client = ChannelClient(server.url, ["tickers", "BTC-PERP@depth"], **FAST)
        assert await client.start()
        assert await eventually(lambda: client.fresh("tickers") and client.fresh("BTC-PERP@depth"))
        assert server.live_subscriptions() == [["tickers", "BTC-PERP@depth"]]
        await client.close()
        assert client.closed and not client.connected
        assert await eventually(lambda: not server.open_connections())
        await client.close()  # idempotent
    assert leftover_tasks(baseline) == set()


async def test_server_drop_reconnects_fast_and_replays_subscriptions_once() -> None:
    async with ControlledServer() as server:
        client = ChannelClient(server.url, ["tickers", "ETH-PERP@depth"], **FAST)
        await client.start()
        for _ in range(3):
            gen = client.generation
            assert await server.drop_all() == 1
            t0 = time.monotonic()
            assert await eventually(lambda g=gen: client.generation > g and client.fresh("tickers", 0.1))
            assert time.monotonic() - t0 < 1.0  # the first retry is sub-second
        # every socket carried the subscriptions exactly once
        assert server.live_subscriptions() == [["tickers", "ETH-PERP@depth"]]
        assert all(subs == ["tickers", "ETH-PERP@depth"] for subs in server.subscriptions.values())
        assert server.connect_count == 4 and client.stats["disconnects"] == 3
        await client.close()


async def test_silent_socket_is_detected_by_the_watchdog() -> None:
    async with ControlledServer() as server:
        client = ChannelClient(server.url, ["tickers"], **FAST)
        await client.start()
        assert await eventually(lambda: client.fresh("tickers"))
        server.silence(0.6)  # open, but no data and no PONG
        assert await eventually(lambda: client.stats["watchdog_reconnects"] >= 1, timeout=2.0)
        assert await eventually(lambda: client.fresh("tickers", 0.1), timeout=2.0)
        assert server.connect_count >= 2
        assert client.stats["watchdog_reconnects"] >= 1
        await client.close()


async def test_application_ping_keeps_a_quiet_socket_alive() -> None:
    async with ControlledServer() as server:
        client = ChannelClient(server.url, [], **FAST)  # no data channel: only PONGs arrive
        await client.start()
        await asyncio.sleep(1.0)  # 2.5× the watchdog timeout
        assert client.stats["watchdog_reconnects"] == 0 and server.connect_count == 1
        assert {"data": "PONG"} in client.frames
        await client.close()


async def test_429_on_handshake_backs_off_per_retry_after() -> None:
    async with ControlledServer() as server:
        server.reject_next(2, status=429, retry_after=0.3)
        client = ChannelClient(server.url, ["tickers"], **FAST)
        t0 = time.monotonic()
        await client.start(wait=False)
        assert await client.wait_connected(3.0)
        elapsed = time.monotonic() - t0
        assert server.rejected == 2 and client.stats["connect_failures"] == 2
        assert elapsed >= 0.6  # honoured Retry-After twice instead of hammering
        assert server.connect_count == 1
        await client.close()


async def test_backoff_is_jittered_exponential_capped_and_first_retry_fast() -> None:
    client = ChannelClient("ws://127.0.0.1:9/x", [], reconnect_min=0.25, reconnect_max=4.0, rng=random.Random(7))
    delays = [client.next_delay() for _ in range(10)]
    assert delays[0] < 0.25  # sub-second first retry
    bases = [min(4.0, 0.25 * 2**i) for i in range(10)]
    assert all(0.5 * b <= d <= b for d, b in zip(delays, bases, strict=True))
    assert max(delays) <= 4.0 and delays[-1] >= 2.0
    assert len(set(delays)) == len(delays)  # jittered


async def test_unreachable_server_keeps_retrying_with_growing_delays() -> None:
    # a port with nothing listening: connects fail fast, retries back off
    probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()
    client = ChannelClient(f"ws://127.0.0.1:{port}/ws", [], **{**FAST, "connect_timeout": 0.3})
    assert not await client.start()  # not an error: reads fall back to REST meanwhile
    await asyncio.sleep(0.3)
    failures = client.stats["connect_failures"]
    assert 2 <= failures <= 8  # backing off, not spinning
    await client.close()
    assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("test-ws")]


async def test_handshake_that_never_answers_times_out() -> None:
    hung: list[asyncio.StreamWriter] = []
    sink = await asyncio.start_server(lambda r, w: hung.append(w), "127.0.0.1", 0)
    port = sink.sockets[0].getsockname()[1]
    client = ChannelClient(f"ws://127.0.0.1:{port}/ws", [], **{**FAST, "connect_timeout": 0.2})
    await client.start(wait=False)
    assert await eventually(lambda: client.stats["connect_failures"] >= 2, timeout=2.0)
    await client.close()
    for w in hung:
        w.close()
    sink.close()
    await sink.wait_closed()


async def test_reconnect_requests_collapse_and_stale_generations_are_ignored() -> None:
    async with ControlledServer() as server:
        client = ChannelClient(server.url, ["tickers"], **FAST)
        await client.start()
        gen = client.generation
        assert not client.request_reconnect("stale", generation=gen - 1)
        assert client.connected and server.connect_count == 1
        results = [client.request_reconnect("burst", generation=gen) for _ in range(5)]
        assert results[0] is True
        assert await eventually(lambda: client.generation == gen + 1 and client.connected)
        await asyncio.sleep(0.3)
        assert server.connect_count == 2  # five requests, exactly one reconnect
        assert client.generation == gen + 1
        await client.close()


async def test_proxy_is_used_on_first_connect_and_every_reconnect() -> None:
    async with ControlledServer() as server, ConnectProxy() as proxy:
        client = ChannelClient(server.url, ["tickers"], proxy=proxy.url, **FAST)
        assert await client.start()
        assert proxy.tunnels == 1
        await server.drop_all()
        assert await eventually(lambda: client.generation == 2 and client.fresh("tickers", 0.1))
        client.request_reconnect("test")
        assert await eventually(lambda: client.generation == 3 and client.connected)
        assert proxy.tunnels == 3 and server.connect_count == 3
        assert proxy.targets == [f"127.0.0.1:{server.port}"] * 3
        await client.close()


async def test_environment_proxy_is_ignored_unless_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")  # would fail every connect
    monkeypatch.setenv("all_proxy", "http://127.0.0.1:9")
    async with ControlledServer() as server:
        client = ChannelClient(server.url, ["tickers"], **FAST)
        assert await client.start()
        await client.close()


async def test_binary_frames_plain_and_brotli_json_are_decoded() -> None:
    async with ControlledServer() as server:
        client = ChannelClient(server.url, [], **FAST)
        await client.start()
        await server.broadcast_raw(b'{"channel":"a","data":1}')
        await server.broadcast_raw(brotli.compress(orjson.dumps({"channel": "b", "data": [1, 2]})))
        await server.broadcast_raw("not json")
        assert await eventually(lambda: {"channel": "b", "data": [1, 2]} in client.frames)
        assert {"channel": "a", "data": 1} in client.frames
        assert client.connected  # a bad frame does not kill the socket
        await client.close()


async def test_brotli_frames_without_the_extra_are_dropped_with_one_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(base_ws_client, "_brotli", None)
    caplog.set_level(logging.WARNING, logger="mpdex.ws")
    async with ControlledServer() as server:
        client = ChannelClient(server.url, [], **FAST)
        await client.start()
        frame = brotli.compress(orjson.dumps({"channel": "b", "data": 1}))
        for _ in range(3):
            await server.broadcast_raw(frame)
        await server.broadcast_raw(b'{"channel":"after","data":1}')
        assert await eventually(lambda: {"channel": "after", "data": 1} in client.frames)
        assert client.stats["dropped_frames"] == 3
        assert sum("brotli" in r.getMessage() for r in caplog.records) == 1
        await client.close()


async def test_handler_errors_are_logged_and_the_socket_survives(caplog: pytest.LogCaptureFixture) -> None:
    class Fragile(ChannelClient):
        def _handle_message(self, msg: Any) -> bool:
            data = super()._handle_message(msg)
            if isinstance(msg, dict) and msg.get("channel") == "boom":
                raise KeyError("boom")
            return data

    async with ControlledServer() as server:
        client = Fragile(server.url, ["boom", "tickers"], **FAST)
        await client.start()
        assert await eventually(lambda: client.fresh("tickers") and client.fresh("boom"))
        assert client.connected and server.connect_count == 1
        assert any("handler failed" in r.getMessage() for r in caplog.records)
        await client.close()


async def test_close_during_backoff_and_during_connect_leaves_nothing_behind() -> None:
    baseline = leftover_tasks()
    async with ControlledServer() as server:
        server.reject_next(100, status=503, retry_after=5)
        client = ChannelClient(server.url, ["tickers"], **FAST)
        await client.start(wait=False)
        assert await eventually(lambda: client.stats["connect_failures"] >= 1)
        await client.close()  # sleeping in a 5 s backoff
        server._reject.clear()
        client2 = ChannelClient(server.url, ["tickers"], **FAST)
        await client2.start(wait=False)
        await client2.close()  # mid-handshake
        assert not client2.connected
    assert leftover_tasks(baseline) == set()


async def test_settings_are_class_defaults_overridable_per_instance() -> None:
    class Slow(BaseWSClient):
        WS_URL = "ws://example.invalid/ws"
        PING_INTERVAL = 15.0

    a = Slow()
    b = Slow(ping_interval=0.5, recv_timeout=2.0)
    assert (a.url, a.ping_interval, a.recv_timeout) == ("ws://example.invalid/ws", 15.0, 60.0)
    assert (b.ping_interval, b.recv_timeout, b.reconnect_min) == (0.5, 2.0, BaseWSClient.RECONNECT_MIN)
    assert BaseWSClient.RECONNECT_MIN < 1.0
    with pytest.raises(ValueError):
        Slow(recv_timeout=0)


async def test_server_that_acks_then_closes_does_not_cause_a_reconnect_storm() -> None:
    # a flapping server: every socket gets its ack (a frame!) and is closed at once;
    # one frame must not count as a healthy socket, or every retry is the fast first one
    class AckThenClose(ControlledServer):
        async def _answer(self, ws: Any, raw: str | bytes) -> None:
            await super()._answer(ws, raw)
            await ws.close(1011, "internal error")

    async with AckThenClose() as server:
        client = ChannelClient(server.url, ["tickers"], **FAST)
        await client.start(wait=False)
        await asyncio.sleep(1.2)
        # fast first retry, then 0.1, 0.2, 0.4, 0.4 … (jittered): a handful, not dozens
        assert 3 <= server.connect_count <= 10
        assert client.attempt >= 3
        await client.close()


class TopicClient(BaseWSClient):
    """A client that lets the base keep its subscriptions, Hyperliquid style: one
    subscribe object per topic, a JSON ping, a text hello frame that is not JSON."""

    LOG_NAME = "topic-ws"
    IGNORED_TEXT_FRAMES = frozenset({"Websocket connection established."})

    def __init__(self, url: str, **kw: Any) -> None:
        super().__init__(url, **kw)
        self.frames: list[Any] = []

    def _handle_message(self, msg: Any) -> bool:
        self.frames.append(msg)
        return isinstance(msg, dict) and "channel" in msg

    def _subscribe_messages(self, topics: list[Any]) -> list[Any]:
        return [{"method": "SUBSCRIBE", "params": [t], "id": self.next_request_id()} for t in topics]

    def _unsubscribe_messages(self, topics: list[Any]) -> list[Any]:
        return [{"method": "UNSUBSCRIBE", "params": list(topics), "id": self.next_request_id()}]


async def test_the_base_keeps_topics_sends_each_once_and_replays_them_after_a_drop() -> None:
    async with ControlledServer() as server:
        client = TopicClient(server.url, **FAST)
        await client.subscribe("tickers", "BTC-PERP@depth")  # before start: kept, sent on connect
        assert await client.start()
        assert await eventually(lambda: server.live_subscriptions() == [["tickers", "BTC-PERP@depth"]])
        await client.subscribe("tickers", "ETH-PERP@depth")  # a kept topic is not sent again
        assert await eventually(lambda: server.live_subscriptions() == [["tickers", "BTC-PERP@depth", "ETH-PERP@depth"]])
        await client.unsubscribe("BTC-PERP@depth", "never-subscribed")
        assert await eventually(lambda: server.live_subscriptions() == [["tickers", "ETH-PERP@depth"]])
        assert client.topics == ["tickers", "ETH-PERP@depth"]
        await server.drop_all()
        assert await eventually(lambda: client.generation == 2 and server.live_subscriptions() == [["tickers", "ETH-PERP@depth"]])
        await client.close()


async def test_an_expected_text_frame_is_skipped_silently(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="mpdex.ws")
    async with ControlledServer() as server:
        client = TopicClient(server.url, **FAST)
        await client.start()
        await server.broadcast_raw("Websocket connection established.")
        await server.broadcast_raw('{"channel":"after","data":1}')
        assert await eventually(lambda: {"channel": "after", "data": 1} in client.frames)
        assert client._errors_seen == 0 and not caplog.records
        await server.broadcast_raw("something else")
        assert await eventually(lambda: client._errors_seen == 1)
        await client.close()


async def test_receive_times_come_from_the_injected_clock(fake_clock: Any) -> None:
    async with ControlledServer() as server:
        client = TopicClient(server.url, clock=fake_clock, **FAST)
        await client.subscribe("tickers")
        await client.start()
        assert await eventually(lambda: len(client.frames) >= 2)
        assert client.last_message_at == fake_clock.monotonic() == 1000.0
        await client.close()


async def test_every_tracked_state_hears_of_each_lost_socket_before_the_disconnect_hook() -> None:
    events: list[str] = []

    class Recorder:
        def mark_gap(self) -> None:
            events.append("gap")

    class Hooked(TopicClient):
        def _on_disconnected(self, code: int | None, reason: str) -> None:
            events.append(f"disconnected {code}")

    async with ControlledServer() as server:
        client = Hooked(server.url, **FAST)
        client.track(Recorder())
        await client.start()
        await server.drop_all(code=1012)
        assert await eventually(lambda: client.generation == 2 and client.connected)
        assert events == ["gap", "disconnected 1012"]
        await client.close()
    assert events[-1] == "gap"  # the last socket ended too


async def test_a_server_that_sends_data_then_closes_is_reconnected_at_a_bounded_rate() -> None:
    # data resets the backoff, so the storm guard is the spacing between two opens
    class DataThenClose(ControlledServer):
        async def _answer(self, ws: Any, raw: str | bytes) -> None:
            await super()._answer(ws, raw)
            await ws.send('{"channel":"tickers","data":{"seq":0}}')
            await ws.close(1011, "internal error")

    async with DataThenClose() as server:
        client = ChannelClient(server.url, ["tickers"], **FAST)  # min_connect_interval = 4 × 0.05
        assert client.min_connect_interval == pytest.approx(0.2)
        await client.start(wait=False)
        await asyncio.sleep(1.2)
        assert 3 <= server.connect_count <= 7  # ≤ 1 per 0.2 s, not dozens
        assert client.attempt <= 1  # every socket delivered data: no growing backoff
        await client.close()


async def test_a_flapping_link_is_up_most_of_the_time() -> None:
    # for 4 s every connection lives 0.2–0.6 s (data flowing), far shorter than the ping interval;
    # the backoff restarts with each connection that delivered data, so the link is down
    # only for the fast first retry (the old rule kept doubling towards its 30 s cap)
    rng = random.Random(11)

    class Flapping(ControlledServer):
        async def _handler(self, ws: Any) -> None:
            asyncio.get_running_loop().call_later(rng.uniform(0.2, 0.6), lambda: asyncio.ensure_future(ws.close(1012)))
            await super()._handler(ws)

    async with Flapping() as server:
        client = ChannelClient(server.url, ["tickers"], connect_timeout=1.0, ping_interval=1.0, recv_timeout=2.0,
                               reconnect_min=0.05, rng=random.Random(5))
        assert client.reconnect_max == 5.0  # the cap: a flapping link is retried within 5 s
        await client.start()
        up = samples = 0
        loop = asyncio.get_running_loop()
        end = loop.time() + 4.0
        while loop.time() < end:
            up += client.connected
            samples += 1
            await asyncio.sleep(0.005)
        uptime = up / samples
        assert uptime >= 0.8, f"up {uptime:.0%} of the soak ({server.connect_count} connections)"
        assert server.connect_count >= 6
        await client.close()


async def test_the_default_cap_keeps_every_retry_within_five_seconds() -> None:
    client = ChannelClient("ws://127.0.0.1:9/x", [], rng=random.Random(3))
    delays = [client.next_delay() for _ in range(40)]
    assert delays[0] < BaseWSClient.RECONNECT_MIN and max(delays) <= 5.0 and delays[-1] >= 2.5


def test_retry_after_is_read_as_seconds_or_an_http_date_against_the_injected_clock(fake_clock: Any) -> None:
    import email.utils

    from websockets.datastructures import Headers
    from websockets.http11 import Response

    def refused(value: str) -> InvalidStatus:
        return InvalidStatus(Response(429, "Too Many Requests", Headers({"Retry-After": value}), b""))

    client = ChannelClient("ws://127.0.0.1:9/x", [], clock=fake_clock)
    in_3s = email.utils.formatdate(fake_clock.now_ms() / 1000 + 3, usegmt=True)
    assert client._retry_after(refused(in_3s)) == pytest.approx(3.0)
    assert client._retry_after(refused("1.5")) == 1.5
    assert client._retry_after(refused("86400")) == BaseWSClient.MAX_RETRY_AFTER  # not believed beyond 5 min
    assert client._retry_after(refused("soon")) is None
    assert client._retry_after(OSError("refused")) is None
