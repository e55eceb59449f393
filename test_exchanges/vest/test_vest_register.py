"""VestExchange.register: exact /register body, signature under the right domain, typed failures."""
from __future__ import annotations

import orjson
import pytest

from mpdex import errors as E
from test_exchanges.conftest import load_sample
from test_exchanges.http_mock import mock_http
from wrappers import vest_auth as va
from wrappers.vest import VestExchange
from wrappers.vest_keys import VestKey

KEYS = load_sample("signing_vectors.json")["keys"]  # type: ignore[index]
NOW = 1_767_225_600_000
DAY = 86_400_000


def sent_bodies(m) -> list[tuple[str, dict, dict]]:
    return [(str(u), orjson.loads(c.kwargs["data"]), c.kwargs["headers"]) for (meth, u), calls in m.requests.items()
            if meth == "POST" for c in calls]


@pytest.mark.parametrize("network,url", [("prod", "https://server-prod.hz.vestmarkets.com/v2/register"),
                                         ("dev", "https://server-dev.hz.vestmarkets.com/v2/register")])
async def test_register_body_and_signature(network, url):
    with mock_http() as m:
        m.post(url, payload={"apiKey": "api-xyz", "accGroup": 2})
        key = await VestExchange.register(KEYS["primary_private_key"], network=network,
                                          signing_private_key=KEYS["signing_private_key"], clock_ms=lambda: NOW)
        ((sent_url, body, headers),) = sent_bodies(m)
    assert sent_url == url
    assert body == {"signingAddr": KEYS["signing_address"].lower(), "primaryAddr": KEYS["primary_address"].lower(),
                    "signature": body["signature"], "expiryTime": NOW + 7 * DAY, "networkType": 0}
    assert headers["xrestservermm"] == "restserver0" and "X-API-KEY" not in headers
    digest = va.register_digest(KEYS["signing_address"], body["expiryTime"], network)
    assert va.recover_address(digest, body["signature"]) == KEYS["primary_address"]
    other = va.register_digest(KEYS["signing_address"], body["expiryTime"], "dev" if network == "prod" else "prod")
    assert va.recover_address(other, body["signature"]) != KEYS["primary_address"]
    assert isinstance(key, VestKey)
    assert (key.api_key, key.account_group, key.network, key.primary_address) == (
        "api-xyz", 2, network, KEYS["primary_address"])
    assert key.signing_private_key == KEYS["signing_private_key"]
    assert "api-xyz" not in repr(key)


async def test_register_matches_the_published_vector():
    vector = load_sample("signing_vectors.json")["register_prod"]  # type: ignore[index]
    expiry = vector["message"]["signerExpiry"]
    with mock_http() as m:
        m.post("https://server-prod.hz.vestmarkets.com/v2/register", payload=load_sample("rest_register_response.json"))
        await VestExchange.register(KEYS["primary_private_key"], signing_private_key=KEYS["signing_private_key"],
                                    expiry_days=1, clock_ms=lambda: expiry - DAY)
        ((_, body, _),) = sent_bodies(m)
    assert body == vector["request_body"]


async def test_register_generates_a_signing_key_and_targets_the_paper_exchange():
    with mock_http() as m:
        m.post("http://127.0.0.1:8765/v2/register", payload={"apiKey": "paper-key", "accGroup": 0})
        key = await VestExchange.register(KEYS["primary_private_key"], network="dev", expiry_days=30,
                                          rest_url="http://127.0.0.1:8765/v2", clock_ms=lambda: NOW)
        ((_, body, _),) = sent_bodies(m)
    assert key.signing_private_key not in (KEYS["signing_private_key"], KEYS["primary_private_key"])
    assert va.address_of(key.signing_private_key).lower() == body["signingAddr"]
    assert body["expiryTime"] == NOW + 30 * DAY
    assert key.rest_url == "http://127.0.0.1:8765/v2" and key.network == "dev"


@pytest.mark.parametrize("kwargs,match", [
    ({"network": "main"}, "network"),
    ({"expiry_days": 0}, "expiry_days"),
    ({"expiry_days": 400}, "expiry_days"),
    ({"signing_private_key": "0x1234"}, "signing_private_key"),
])
async def test_register_bad_input_sends_nothing(kwargs, match):
    with mock_http() as m:
        with pytest.raises(E.ConfigError, match=match) as info:
            await VestExchange.register(KEYS["primary_private_key"], **kwargs)
        assert m.requests == {}
    assert KEYS["primary_private_key"][2:] not in str(info.value)


async def test_register_bad_primary_key_names_the_field_not_the_value():
    with mock_http() as m, pytest.raises(E.ConfigError, match="primary_private_key") as info:
        await VestExchange.register("0xnot-a-key-secret")
    assert "not-a-key-secret" not in str(info.value) and m.requests == {}


async def test_register_refusal_and_malformed_answer_are_typed():
    url = "https://server-prod.hz.vestmarkets.com/v2/register"
    with mock_http() as m:
        m.post(url, status=400, payload={"detail": {"code": 1022, "msg": "Invalid signature"}})
        with pytest.raises(E.AuthenticationError) as info:
            await VestExchange.register(KEYS["primary_private_key"])
        assert info.value.code == 1022
        m.post(url, payload={"accGroup": 0})
        with pytest.raises(E.ExchangeError, match="apiKey"):
            await VestExchange.register(KEYS["primary_private_key"])
