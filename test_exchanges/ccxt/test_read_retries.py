"""Reads through the ccxt adapter are retried as our own transport retries safe requests
(``RetryPolicy``'s budgets, the limiter's pause shared by the account); writes never are."""
from __future__ import annotations

import asyncio
import time

import pytest

from exchange_factory import create_exchange
from mpdex.errors import BadRequest, ConfigError, ExchangeUnavailable, RateLimitExceeded
from mpdex.transport import RetryPolicy
from test_exchanges.ccxt import hl_payloads as H
from test_exchanges.ccxt import test_paradex as PDX
from test_exchanges.ccxt.fake_venue import FakeVenue, serve, timeout
from wrappers.ccxt_perp import CcxtPerpExchange

POLICY = RetryPolicy(backoff_base=0.01)


def keys(n: int) -> dict:
    """Keys of an account of its own per test: its own shared limiter, no pause left by another test."""
    return {"wallet_address": "0x" + f"{n:x}".rjust(40, "c"), "wallet_private_key": H.KEY}


def states(v: FakeVenue) -> int:
    return sum(1 for s in v.sent if s.json and s.json.get("type") == "clearinghouseState")


async def make(n: int, **options):
    return await create_exchange("ccxt:hyperliquid", keys(n), retry=POLICY, **options)


async def test_a_read_answered_429_without_retry_after_is_retried_after_pausing_the_account():
    v = H.hl_venue()
    v.on_json("POST", "/info", "type", "clearinghouseState", "null", status=429, times=1)  # Hyperliquid's 429
    with serve(v):
        ex = await make(1)
        bucket = ex._limiter.bucket("rest")
        before = time.monotonic()
        pos = await ex.get_position("ETH")
        assert (pos["symbol"], pos["side"], pos["size"]) == ("ETH", "short", 0.0335)
        assert states(v) == 2
        assert bucket.paused_until > before  # the whole account held back, not only this read
        await ex.close()


async def test_retry_after_pauses_every_reader_of_the_account():
    v = H.hl_venue()
    v.on_json("POST", "/info", "type", "clearinghouseState", "null", status=429, times=1,
              headers={"Retry-After": "0.3"})
    with serve(v):
        ex = await make(2)
        bucket, paused = ex._limiter.bucket("rest"), asyncio.Event()
        real_pause = bucket.pause

        def pause(seconds: float) -> None:
            real_pause(seconds)
            paused.set()

        bucket.pause = pause
        started = time.monotonic()
        positions = asyncio.create_task(ex.get_positions())
        await paused.wait()
        assert await ex.get_mark_price("ETH") == 3001.25  # another reader: it waits out the same pause
        assert time.monotonic() - started >= 0.3
        assert [p["symbol"] for p in await positions] == ["ETH"]
        assert time.monotonic() - started >= 0.3 and states(v) == 2
        await ex.close()


@pytest.mark.parametrize("status, answer", [
    (503, "null"),
    (502, "<html><body>502 Bad Gateway</body></html>"),
    (500, {"status": "err", "response": "internal error"}),  # a 5xx that names no specific refusal
    (200, timeout()),  # no answer within ccxt's timeout
])
async def test_a_read_that_failed_in_transport_or_with_a_5xx_is_retried(status, answer):
    v = H.hl_venue()
    v.on_json("POST", "/info", "type", "clearinghouseState", answer, status=status, times=1)
    with serve(v):
        ex = await make(3)
        assert (await ex.get_collateral())["total_collateral"] == 13104.514502
        assert states(v) == 2
        await ex.close()


async def test_a_503_on_a_get_venue_is_retried_too():
    v = PDX.venue()
    v.on("GET", "/v1/positions", {"error": "SERVICE_UNAVAILABLE", "message": "try again"}, status=503, times=1)
    with serve(v):
        ex = await create_exchange("paradex", PDX.KEYS, retry=POLICY)
        (pos,) = await ex.get_positions()
        assert (pos["symbol"], pos["side"], pos["size"]) == ("ETH-USD-PERP", "long", 0.25)
        assert sum(1 for s in v.sent if s.path == "/v1/positions") == 2
        await ex.close()


async def test_when_the_read_budget_is_spent_the_typed_error_is_raised():
    v = H.hl_venue()
    v.on_json("POST", "/info", "type", "clearinghouseState", "null", status=503)
    with serve(v):
        ex = await make(4)
        with pytest.raises(ExchangeUnavailable):
            await ex.get_positions()
        assert states(v) == POLICY.read_attempts
        await ex.close()


async def test_when_the_rate_limit_budget_is_spent_the_typed_error_is_raised():
    v = H.hl_venue()
    v.on_json("POST", "/info", "type", "clearinghouseState", "null", status=429)
    with serve(v):
        ex = await make(5)
        with pytest.raises(RateLimitExceeded):
            await ex.get_positions()
        assert states(v) == POLICY.rate_limit_attempts
        await ex.close()


async def test_a_server_hint_longer_than_the_policy_waits_for_is_raised_at_once():
    v = H.hl_venue()
    v.on_json("POST", "/info", "type", "clearinghouseState", "null", status=429, headers={"Retry-After": "120"})
    with serve(v):
        ex = await make(6)
        with pytest.raises(RateLimitExceeded):
            await ex.get_positions()
        assert states(v) == 1
        await ex.close()


async def test_a_4xx_answer_to_a_read_is_an_answer_not_retried():
    v = PDX.venue()
    v.on("GET", "/v1/positions", {"error": "NOT_FOUND", "message": "no such thing"}, status=404)
    with serve(v):
        ex = await create_exchange("paradex", PDX.KEYS, retry=POLICY)
        with pytest.raises(BadRequest, match="NOT_FOUND"):
            await ex.get_positions()
        assert sum(1 for s in v.sent if s.path == "/v1/positions") == 1
        await ex.close()


async def test_a_bare_404_is_an_answer_even_where_ccxt_calls_it_unavailable():
    v = H.hl_venue()
    v.on_json("POST", "/info", "type", "clearinghouseState", "null", status=404)
    with serve(v):
        ex = await make(9)
        with pytest.raises(ExchangeUnavailable, match="404"):  # ccxt's class for a bare 404; sent once
            await ex.get_positions()
        assert states(v) == 1
        await ex.close()


def _cancels(v: FakeVenue) -> int:
    return sum(1 for s in v.sent if s.path == "/exchange" and s.json["action"]["type"] == "cancel")


async def test_a_cancel_is_never_retried_and_its_429_still_pauses_the_account():
    v = H.hl_venue()
    v.on_json("POST", "/info", "type", "frontendOpenOrders", [
        {"coin": "BTC", "isPositionTpsl": False, "isTrigger": False, "limitPx": "60000.0", "oid": 3,
         "orderType": "Limit", "origSz": "0.002", "reduceOnly": False, "side": "B", "sz": "0.002", "tif": "Gtc",
         "timestamp": 1704346468838, "triggerCondition": "N/A", "triggerPx": "0.0", "cloid": None}])
    v.on("POST", "/exchange", {"status": "ok", "response": {"type": "cancel", "data": {"statuses": ["success"]}}},
         when=lambda s: s.json["action"]["type"] == "cancel")
    v.on("POST", "/exchange", "null", status=503, times=1, when=lambda s: s.json["action"]["type"] == "cancel")
    with serve(v):
        ex = await make(7)
        (result,) = await ex.cancel_orders("BTC")
        assert (result["id"], result["status"]) == ("3", "error")
        assert isinstance(result["exception"], ExchangeUnavailable) and _cancels(v) == 1
        v.on("POST", "/exchange", "null", status=429, times=1, when=lambda s: s.json["action"]["type"] == "cancel")
        bucket = ex._limiter.bucket("rest")
        before = time.monotonic()
        (result,) = await ex.cancel_orders("BTC", ["3"])
        assert (result["status"], type(result["exception"])) == ("error", RateLimitExceeded)
        assert _cancels(v) == 2 and bucket.paused_until > before
        await ex.close()


async def test_an_order_answered_503_is_never_resent_but_reconciled_by_its_cloid():
    v = H.hl_venue()
    cid = "0x" + "9a" * 16
    v.on("POST", "/exchange", H.resting(61))  # would answer a second copy: none may be sent
    v.on("POST", "/exchange", "null", status=503, times=1)
    v.on_json("POST", "/info", "type", "orderStatus", lambda s: H.order_status(
        61, coin="BTC", side="B", px="60000", size="0.002", remaining="0.002", status="open", cloid=cid))
    with serve(v):
        ex = await make(8)
        res = await ex.create_order("BTC", "buy", "0.002", "60000", client_id=cid)
        assert (res["id"], res["status"], res["client_order_id"]) == ("61", "NEW", cid)
        assert sum(1 for s in v.sent if s.path == "/exchange") == 1
        await ex.close()


def test_the_retry_option_must_be_a_policy():
    with pytest.raises(ConfigError, match="RetryPolicy"):
        CcxtPerpExchange("ccxt:hyperliquid", retry={"read_attempts": 9}, **keys(10))
