"""The one error table: every sample error body from hyperliquid-samples maps to its typed
error; unknown strings still raise with their text; the non-200 shapes (text 400/415/422,
429 ``null``, 5xx) are handled through the real transport."""
from __future__ import annotations

import pytest

from mpdex import errors as E
from wrappers import hyperliquid_errors as he
from wrappers.hyperliquid_keys import make_hyperliquid_key
from wrappers.hyperliquid_rest import HyperliquidRestClient

from .conftest import SAMPLES, sample
from .hl_fakes import BASE, key_fields

WHOLE_REQUEST = {
    "exchange_err_address_rate_limit_response": (E.RateLimitExceeded, "ADDRESS_RATE_LIMIT"),
    "exchange_err_batch_over_weight_response": (E.BadRequest, "BATCH_TOO_LARGE"),
    "exchange_err_builder_not_approved_response": (E.PermissionDenied, "BUILDER_NOT_APPROVED"),
    "exchange_err_duplicate_nonce_response": (E.BadRequest, "DUPLICATE_NONCE"),
    "exchange_err_expired_response": (E.BadRequest, "EXPIRED"),
    "exchange_err_leverage_switch_response": (E.BadRequest, "LEVERAGE_SWITCH"),
    "exchange_err_must_deposit_response": (E.AuthenticationError, "MUST_DEPOSIT"),
    "exchange_err_nonce_too_low_response": (E.BadRequest, "INVALID_NONCE"),
    "exchange_err_schedule_cancel_volume_response": (E.PermissionDenied, "SCHEDULE_CANCEL_VOLUME"),
    "exchange_err_signature_response": (E.AuthenticationError, "UNKNOWN_SIGNER"),
}
PER_ORDER = [
    ("exchange_order_errors_examples_response", [
        (E.InvalidOrder, "TICK_SIZE"), (E.InsufficientMargin, "INSUFFICIENT_MARGIN"), (E.InvalidOrder, "REDUCE_ONLY"),
        (E.InvalidOrder, "POST_ONLY_WOULD_CROSS"), (E.InvalidOrder, "IOC_NO_MATCH"), (E.InvalidOrder, "INVALID_PRICE"),
        (E.InvalidOrder, "INVALID_SIZE")]),
    ("exchange_order_error_min_notional_response", [(E.InvalidOrder, "MIN_VALUE")]),
    ("exchange_cancel_mixed_response", [None, (E.OrderNotFound, "ORDER_NOT_FOUND"),
                                        (E.OrderNotFound, "ORDER_NOT_FOUND")]),
]


def test_every_sample_error_file_is_covered_here():
    names = {p.stem for p in SAMPLES.glob("exchange_err_*.json")}
    assert names == set(WHOLE_REQUEST)


@pytest.mark.parametrize("name", sorted(WHOLE_REQUEST))
def test_whole_request_refusals_map_to_typed_errors(name):
    body = sample(name)
    cls, code = WHOLE_REQUEST[name]
    err = he.decode_error(200, body)
    assert type(err) is cls and err.code == code
    assert body["response"] in err.message and err.http_status == 200 and err.raw == body
    assert isinstance(err, (E.ExchangeError, E.RateLimitExceeded))


@pytest.mark.parametrize("name,expected", PER_ORDER)
def test_per_order_error_strings_map_to_typed_errors(name, expected):
    statuses = sample(name)["response"]["data"]["statuses"]
    assert he.decode_error(200, sample(name)) is None  # status "ok": data, read per order
    for status, want in zip(statuses, expected, strict=True):
        if want is None:
            assert status == "success"
            continue
        err = he.error_for_text(status["error"])
        assert (type(err), err.code) == want and status["error"] in str(err)


def test_the_address_budget_refusal_says_its_numbers_and_the_10s_regime():
    err = he.decode_error(200, sample("exchange_err_address_rate_limit_response"))
    assert isinstance(err, E.RateLimitExceeded) and err.retry_after == 10.0
    assert he.parse_address_limit(err) == (97460, 97456)
    assert he.parse_address_limit(E.RateLimitExceeded("other")) is None


def test_prefixes_match_with_or_without_l1_error_and_whatever_follows():
    for text in ("L1 error: User or API Wallet 0xabc does not exist.", "User or API Wallet 0xdef does not exist."):
        assert he.error_for_text(text).code == "UNKNOWN_SIGNER"
    assert he.error_for_text("Trading is halted. asset=7").code == "HALTED"
    assert isinstance(he.error_for_text("Trading is halted."), E.MarketClosed)
    assert he.is_duplicate(he.error_for_text("Invalid nonce: duplicate nonce 5"))
    assert not he.is_duplicate(he.error_for_text("Invalid nonce: nonce too low 5 < 6"))
    assert isinstance(he.error_for_text("Cross position does not have sufficient margin available to decrease "
                                        "leverage. To decrease leverage, add margin to the position."),
                      E.InsufficientMargin)


def test_an_unknown_string_still_raises_with_its_text():
    err = he.decode_error(200, {"status": "err", "response": "Something new went wrong. asset=3"})
    assert type(err) is E.ExchangeError and err.code == "UNKNOWN" and "Something new went wrong. asset=3" in str(err)
    assert type(he.error_for_text("Fancy new per-order refusal")) is E.ExchangeError


def test_data_is_not_an_error():
    for body in (None, [], {"status": "order", "order": {}}, {"status": "unknownOid"}, sample("exchange_default_response"),
                 sample("info_l2Book_response")):
        assert he.decode_error(200, body) is None


@pytest.mark.parametrize("status", sorted(he.STATUS_ERRORS))
def test_rejected_order_statuses_have_typed_errors(status):
    err = he.error_for_status(status)
    assert isinstance(err, E.InvalidOrder) and status in str(err)


# -- non-200 shapes through the transport -------------------------------------------------------


def _rest(clock, **kw):
    return HyperliquidRestClient(make_hyperliquid_key(**key_fields()), monotonic=clock.monotonic, sleep=clock.sleep,
                                 rng=lambda: 0.0, **kw)


@pytest.mark.parametrize("name,code", [("http_400_bad_json", "BAD_JSON"), ("http_415_content_type", "CONTENT_TYPE"),
                                       ("http_422_deserialize", "DESERIALIZE")])
async def test_text_4xx_bodies_are_bad_requests_carrying_the_text(http, clock, name, code):
    text = sample(name)
    http.post(BASE + "/info", status=int(name.split("_")[1]), body=text, content_type="text/plain")
    rest = _rest(clock)
    with pytest.raises(E.BadRequest) as info:
        await rest.meta()
    assert info.value.code == code and text in str(info.value) and info.value.http_status == int(name.split("_")[1])
    assert info.value.raw == text
    await rest.close()


async def test_a_429_with_a_null_body_backs_off_and_retries(http, clock):
    http.post(BASE + "/info", status=429, body="null", content_type="application/json")
    http.post(BASE + "/info", payload=sample("info_meta_response"))
    rest = _rest(clock)
    assert (await rest.meta())["universe"][0]["name"] == "BTC"
    assert clock.sleeps and clock.sleeps[0] > 0  # the IP bucket was paused before the retry
    await rest.close()


async def test_a_429_that_persists_raises_rate_limit_exceeded(http, clock):
    http.post(BASE + "/info", status=429, body="null", content_type="application/json", repeat=True)
    rest = _rest(clock)
    with pytest.raises(E.RateLimitExceeded) as info:
        await rest.meta()
    assert info.value.http_status == 429
    await rest.close()


async def test_a_5xx_on_a_read_is_retried_then_unavailable(http, clock):
    http.post(BASE + "/info", status=500, body="null", content_type="application/json", repeat=True)
    rest = _rest(clock)
    with pytest.raises(E.ExchangeUnavailable):
        await rest.meta()
    assert len(next(iter(http.requests.values()))) == 3  # the read budget of RetryPolicy
    await rest.close()
