"""mpdex.transport + mpdex.ratelimit: budgets, backoff, Retry-After, the signed-POST resend rule."""
from __future__ import annotations

import asyncio
import re
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from aioresponses import CallbackResult

from mpdex import errors as E
from mpdex.ratelimit import RateLimiter, TokenBucket
from mpdex.transport import HttpTransport, RetryPolicy, parse_retry_after
from test_exchanges.conftest import FakeClock
from test_exchanges.http_mock import mock_http

BASE = "http://127.0.0.1:9/api"


def decode(status: int, body: Any) -> BaseException | None:
    """A toy exchange: {"err": n, "msg": s} is an error; 7 means rate limited, 9 duplicate."""
    if isinstance(body, dict) and "err" in body:
        if body["err"] == 7:
            return E.RateLimitExceeded(body["msg"], code=7)
        cls = E.DuplicateOrder if body["err"] == 9 else E.InvalidOrder
        return cls(body["msg"], code=body["err"], raw=body)
    return None


def make(clock: FakeClock, **kw: Any) -> HttpTransport:
    limits = kw.pop("limits", {"public": (100.0, 100.0), "order": (100.0, 100.0)})
    return HttpTransport(BASE, decode_error=decode, limiter=RateLimiter(limits, clock=clock, sleep=clock.sleep),
                         headers={"X-Always": "1"}, clock=clock, sleep=clock.sleep, rng=lambda: 0.5,
                         policy=kw.pop("policy", RetryPolicy()), **kw)


def rx(path: str) -> re.Pattern:
    return re.compile("^" + re.escape(BASE + path) + r"(\?.*)?$")


def sent(m: Any, method: str = "POST") -> list[Any]:
    return [c.kwargs for (meth, _), calls in m.requests.items() if meth == method for c in calls]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# -- rate limiting ------------------------------------------------------------------------------


async def test_token_bucket_allows_a_burst_then_paces(clock):
    bucket = TokenBucket(10, 2, clock=clock, sleep=clock.sleep)
    for _ in range(4):
        await bucket.acquire()
    assert clock.sleeps == [0.1, 0.1]
    bucket.pause(3.0)
    await bucket.acquire()
    assert clock.sleeps[-1] == 3.0


def test_rate_limiter_rejects_unknown_groups_and_bad_limits(clock):
    limiter = RateLimiter({"public": (1, 1)}, clock=clock, sleep=clock.sleep)
    with pytest.raises(E.ConfigError, match="public"):
        limiter.bucket("privat")
    with pytest.raises(E.ConfigError):
        TokenBucket(0, 1)


async def test_429_honours_retry_after_with_jitter_then_succeeds(clock):
    t = make(clock)
    with mock_http() as m:
        m.get(rx("/x"), status=429, headers={"Retry-After": "2"}, payload={"code": 429, "msg": "Rate limited"})
        m.get(rx("/x"), payload={"ok": 1})
        assert await t.request("GET", "/x") == {"ok": 1}
    assert clock.sleeps == [2.2]  # 2 s hint + 10 % jitter (rng 0.5 × jitter 0.2)
    await t.close()


async def test_rate_limit_code_in_a_200_body_backs_off_exponentially_without_hint(clock):
    t = make(clock)
    with mock_http() as m:
        m.get(rx("/x"), payload={"err": 7, "msg": "slow down"})
        m.get(rx("/x"), payload={"err": 7, "msg": "slow down"})
        m.get(rx("/x"), payload={"ok": 1})
        assert await t.request("GET", "/x") == {"ok": 1}
    assert clock.sleeps == [0.22, 0.44]
    await t.close()


async def test_rate_limit_budget_then_typed_error_with_retry_after(clock):
    t = make(clock, policy=RetryPolicy(rate_limit_attempts=2))
    with mock_http() as m:
        m.get(rx("/x"), status=429, headers={"Retry-After": "1"}, repeat=True)
        with pytest.raises(E.RateLimitExceeded) as info:
            await t.request("GET", "/x")
        assert len(sent(m, "GET")) == 2
    assert info.value.retry_after == 1.0 and info.value.http_status == 429
    await t.close()


async def test_retry_after_longer_than_we_wait_is_raised_at_once(clock):
    t = make(clock)
    with mock_http() as m:
        m.get(rx("/x"), status=429, headers={"Retry-After": "600"}, repeat=True)
        with pytest.raises(E.RateLimitExceeded) as info:
            await t.request("GET", "/x")
        assert len(sent(m, "GET")) == 1
    assert info.value.retry_after == 600 and clock.sleeps == []
    await t.close()


def test_parse_retry_after_seconds_and_http_date():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 0.5 ") == 0.5
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


# -- retries of safe requests ---------------------------------------------------------------------


async def test_safe_read_is_retried_on_timeout_and_5xx_within_budget(clock):
    t = make(clock)
    with mock_http() as m:
        m.get(rx("/x"), exception=asyncio.TimeoutError())
        m.get(rx("/x"), status=502, body="bad gateway")
        m.get(rx("/x"), payload=[1, 2])
        assert await t.request("GET", "/x", params={"a": "1"}) == [1, 2]
        assert all(k["headers"]["X-Always"] == "1" for k in sent(m, "GET"))
    assert clock.sleeps == [0.22, 0.44]
    await t.close()


async def test_safe_read_budget_exhausted_raises_network_error(clock):
    t = make(clock)
    with mock_http() as m:
        m.get(rx("/x"), exception=asyncio.TimeoutError(), repeat=True)
        with pytest.raises(E.RequestTimeout):
            await t.request("GET", "/x")
        assert len(sent(m, "GET")) == 3
    await t.close()


async def test_unsafe_post_is_not_retried(clock):
    t = make(clock)
    with mock_http() as m:
        m.post(rx("/x"), status=503, body="down", repeat=True)
        with pytest.raises(E.ExchangeUnavailable) as info:
            await t.request("POST", "/x", data=b"{}")
        assert len(sent(m)) == 1
    assert info.value.http_status == 503
    await t.close()


async def test_exchange_refusals_are_not_retried_and_keep_status_and_raw(clock):
    t = make(clock)
    with mock_http() as m:
        m.get(rx("/x"), status=400, payload={"err": 3, "msg": "no"}, repeat=True)
        with pytest.raises(E.InvalidOrder) as info:
            await t.request("GET", "/x")
        assert len(sent(m, "GET")) == 1
    assert (info.value.code, info.value.http_status, info.value.raw) == (3, 400, {"err": 3, "msg": "no"})
    await t.close()


@pytest.mark.parametrize("status,error", [(401, E.AuthenticationError), (403, E.PermissionDenied),
                                          (404, E.BadRequest), (418, E.BadRequest)])
async def test_uncoded_http_errors_map_generically(clock, status, error):
    t = make(clock)
    with mock_http() as m:
        m.get(rx("/x"), status=status, body="nope")
        with pytest.raises(error) as info:
            await t.request("GET", "/x")
    assert info.value.http_status == status
    await t.close()


async def test_one_keep_alive_session_reused_and_close_is_idempotent(clock):
    t = make(clock)
    with mock_http() as m:
        m.get(rx("/x"), payload={}, repeat=True)
        await t.request("GET", "/x")
        first = t._session
        await t.request("GET", "/x")
        assert t._session is first
    await t.close()
    await t.close()
    assert t.closed and first.closed
    with pytest.raises(RuntimeError):
        await t.request("GET", "/x")


# -- signed POST: resend the same bytes, never re-sign ---------------------------------------------


def is_dup(exc: BaseException) -> bool:
    return getattr(exc, "code", None) == 9


async def test_signed_post_accepted_first_time(clock):
    t = make(clock)
    with mock_http() as m:
        m.post(rx("/o"), payload={"id": "a"})
        out = await t.post_signed("/o", b'{"n":1}', deadline=clock.now + 4, is_duplicate=is_dup)
    assert (out.outcome, out.body, out.attempts) == ("accepted", {"id": "a"}, 1)
    await t.close()


async def test_signed_post_timeout_then_duplicate_means_accepted(clock):
    t = make(clock)
    with mock_http() as m:
        m.post(rx("/o"), exception=asyncio.TimeoutError())
        m.post(rx("/o"), status=400, payload={"err": 9, "msg": "dup"})
        out = await t.post_signed("/o", b'{"n":1}', deadline=clock.now + 4, is_duplicate=is_dup)
        bodies = [k["data"] for k in sent(m)]
    assert out.outcome == "duplicate" and out.attempts == 2
    assert bodies == [b'{"n":1}', b'{"n":1}']
    await t.close()


async def test_signed_post_duplicate_on_first_attempt_raises(clock):
    t = make(clock)
    with mock_http() as m:
        m.post(rx("/o"), status=400, payload={"err": 9, "msg": "dup"})
        with pytest.raises(E.DuplicateOrder):
            await t.post_signed("/o", b"{}", deadline=clock.now + 4, is_duplicate=is_dup)
    await t.close()


async def test_signed_post_unknown_after_deadline_and_refusal_after_unknown(clock):
    t = make(clock)
    with mock_http() as m:
        m.post(rx("/o"), exception=asyncio.TimeoutError(), repeat=True)
        out = await t.post_signed("/o", b"{}", deadline=clock.now + 1.0, is_duplicate=is_dup)
        n = len(sent(m))
    assert out.outcome == "unknown" and isinstance(out.error, E.RequestTimeout) and out.attempts == n >= 2
    assert clock.now <= 1001.0 + 1e-9
    with mock_http() as m:
        m.post(rx("/o"), status=502, body="bad gateway")
        m.post(rx("/o"), status=400, payload={"err": 4, "msg": "margin"})
        out = await t.post_signed("/o", b"{}", deadline=clock.now + 4, is_duplicate=is_dup)
    assert out.outcome == "refused_after_unknown" and out.error.code == 4
    await t.close()


async def test_signed_post_never_reaching_the_server_raises_the_transport_error(clock):
    t = make(clock)
    refused = aiohttp.ClientConnectorError(SimpleNamespace(ssl=None, host="127.0.0.1", port=9), OSError(111, "refused"))
    with mock_http() as m:
        m.post(rx("/o"), exception=refused, repeat=True)
        with pytest.raises(E.ExchangeUnavailable, match="cannot connect"):
            await t.post_signed("/o", b"{}", deadline=clock.now + 1, is_duplicate=is_dup)
    await t.close()


async def test_signed_post_429_resends_same_bytes_after_retry_after(clock):
    t = make(clock)
    with mock_http() as m:
        m.post(rx("/o"), status=429, headers={"Retry-After": "0.5"})
        m.post(rx("/o"), callback=lambda url, **kw: CallbackResult(payload={"id": kw["data"].decode()}))
        out = await t.post_signed("/o", b"same", deadline=clock.now + 4, is_duplicate=is_dup)
    assert out.outcome == "accepted" and out.body == {"id": "same"} and clock.sleeps == [0.55]
    with mock_http() as m:
        m.post(rx("/o"), status=429, headers={"Retry-After": "10"})
        with pytest.raises(E.RateLimitExceeded):  # cannot wait inside the window: certainly not placed
            await t.post_signed("/o", b"same", deadline=clock.now + 4, is_duplicate=is_dup)
    await t.close()


async def test_proxy_credentials_never_reach_error_messages_or_logs(caplog):
    # aiohttp's proxy errors print the proxy URL, user:password included
    async def refuse_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(refuse_connect, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    t = HttpTransport("https://exchange.invalid/api", decode_error=decode,
                      limiter=RateLimiter({"public": (100.0, 100.0), "order": (100.0, 100.0)}),
                      proxy=f"http://trader:s3cretpw@127.0.0.1:{port}", policy=RetryPolicy(backoff_base=0.001))
    caplog.set_level("DEBUG")
    try:
        with pytest.raises(E.NetworkError) as read:
            await t.request("GET", "/r")
        signed = await t.post_signed("/o", b"{}", deadline=asyncio.get_running_loop().time() + 0.05,
                                     is_duplicate=is_dup)
    finally:
        await t.close()
        server.close()
        await server.wait_closed()
    for exc in (read.value, signed.error):
        assert "s3cretpw" not in str(exc) and "s3cretpw" not in repr(exc.args)
        assert "127.0.0.1" in str(exc)  # still says which proxy failed
    assert "s3cretpw" not in caplog.text


async def test_a_connection_failure_names_the_host_never_credentials():
    t = HttpTransport("http://user:pw@127.0.0.1:9/v2", decode_error=decode,
                      limiter=RateLimiter({"public": (100.0, 100.0)}), policy=RetryPolicy(read_attempts=1))
    try:
        with pytest.raises(E.ExchangeUnavailable) as info:
            await t.request("GET", "/x")
        assert "127.0.0.1:9" in str(info.value) and "pw" not in str(info.value)
    finally:
        await t.close()
