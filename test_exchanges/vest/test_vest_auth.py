"""Signing: every shared vector byte for byte, and eth-account as an oracle."""
from __future__ import annotations

import random

import pytest
from eth_abi import encode as eth_abi_encode
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data

from wrappers import vest_auth as va

ORDER_FIELDS = ("time", "nonce", "orderType", "symbol", "isBuy", "size", "limitPrice", "reduceOnly")


def _order(values):
    return dict(zip(ORDER_FIELDS, values, strict=True))


def test_keys_and_addresses(vectors):
    k = vectors["keys"]
    signer = va.VestSigner(k["signing_private_key"])
    assert signer.address == k["signing_address"]
    assert va.address_of(k["primary_private_key"]) == k["primary_address"]
    assert k["signing_private_key"][2:] not in repr(signer)


@pytest.mark.parametrize("name", ["order_limit", "order_market_reduce_only"])
def test_order_vectors(vectors, name):
    v = vectors[name]
    order = _order(v["values"])
    assert "0x" + va.order_hash(order).hex() == v["args_hash"]
    assert va.sign_order(vectors["keys"]["signing_private_key"], order) == v["signature"]
    assert va.VestSigner(vectors["keys"]["signing_private_key"]).sign_order(order) == v["signature"]
    assert va.recover_address(va.order_digest(order), v["signature"]) == vectors["keys"]["signing_address"]


def test_cancel_vector(vectors):
    signer = va.VestSigner(vectors["keys"]["signing_private_key"])
    c = vectors["cancel"]
    cancel = dict(zip(("time", "nonce", "id"), c["values"], strict=True))
    assert "0x" + va.cancel_hash(cancel).hex() == c["args_hash"]
    assert signer.sign_cancel(cancel) == c["signature"]


@pytest.mark.parametrize("network", ["prod", "dev"])
def test_register_vectors(vectors, network):
    r = vectors[f"register_{network}"]
    k = vectors["keys"]
    assert "0x" + va.domain_separator(network).hex() == r["domain_separator"]
    assert "0x" + va.register_struct_hash(r["message"]["approvedSigner"], r["message"]["signerExpiry"]).hex() == r["struct_hash"]
    assert "0x" + va.register_digest(r["message"]["approvedSigner"], r["message"]["signerExpiry"], network).hex() == r["digest"]
    sig = va.sign_register(k["primary_private_key"], r["message"]["approvedSigner"], r["message"]["signerExpiry"], network)
    assert sig == r["signature_by_primary"] == r["request_body"]["signature"]


def test_signed_request_samples_carry_verifiable_signatures(vectors):
    """The reconstructed request bodies recover to the vectors' signing address."""
    from test_exchanges.conftest import load_sample

    for name in ("rest_orders_post_request_limit.json", "rest_orders_post_request_market.json"):
        body = load_sample(name)
        assert va.recover_address(va.order_digest(body["order"]), body["signature"]) == vectors["keys"]["signing_address"]


def _random_order(rng: random.Random) -> dict:
    size_dp, px_dp = rng.randint(0, 6), rng.randint(0, 6)
    return {
        "time": rng.randint(1_600_000_000_000, 1_900_000_000_000),
        "nonce": rng.randint(0, 2**64),
        "orderType": rng.choice(["MARKET", "LIMIT"]),
        "symbol": rng.choice(["BTC-PERP", "ETH-PERP", "AAPL-USD-PERP", "kBONK-PERP", "X" * rng.randint(1, 70)]),
        "isBuy": rng.random() < 0.5,
        "size": f"{rng.randint(1, 10**9) / 10**size_dp:.{size_dp}f}",
        "limitPrice": f"{rng.randint(1, 10**9) / 10**px_dp:.{px_dp}f}",
        "reduceOnly": rng.random() < 0.5,
    }


def test_fast_path_matches_eth_account_on_random_orders():
    rng = random.Random(20261121)
    for _ in range(150):
        key = "0x" + rng.randbytes(32).hex()
        try:
            signer = va.VestSigner(key)
        except ValueError:
            continue
        order = _random_order(rng)
        encoded = eth_abi_encode(list(va.ORDER_TYPES), [order[f] for f in ORDER_FIELDS])
        assert va.abi_encode(va.ORDER_TYPES, [order[f] for f in ORDER_FIELDS]) == encoded
        expected = Account.sign_message(encode_defunct(primitive=va.keccak256(encoded)), key).signature.hex()
        expected = expected if expected.startswith("0x") else "0x" + expected
        got = signer.sign_order(order)
        assert got == expected
        assert len(got) == 132 and got.startswith("0x")
        assert signer.address == Account.from_key(key).address


def test_register_matches_eth_account_typed_data():
    rng = random.Random(7)
    for network in ("prod", "dev"):
        key = "0x" + rng.randbytes(32).hex()
        signing = Account.create().address
        expiry = rng.randint(1_700_000_000_000, 1_900_000_000_000)
        typed = {
            "types": {"EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                                       {"name": "verifyingContract", "type": "address"}],
                      "SignerProof": [{"name": "approvedSigner", "type": "address"},
                                      {"name": "signerExpiry", "type": "uint256"}]},
            "primaryType": "SignerProof",
            "domain": {"name": "VestRouterV2", "version": "0.0.1", "verifyingContract": va.VERIFYING_CONTRACTS[network]},
            "message": {"approvedSigner": signing, "signerExpiry": expiry},
        }
        expected = Account.sign_message(encode_typed_data(full_message=typed), key).signature.hex()
        expected = expected if expected.startswith("0x") else "0x" + expected
        assert va.sign_register(key, signing, expiry, network) == expected


@pytest.mark.parametrize("bad", [
    {"isBuy": 1}, {"size": 0.5}, {"time": -1}, {"nonce": 2**256},
])
def test_encoder_rejects_wrong_types_instead_of_signing_garbage(vectors, bad):
    order = dict(_order(vectors["order_limit"]["values"]), **bad)
    with pytest.raises(ValueError):
        va.VestSigner(vectors["keys"]["signing_private_key"]).sign_order(order)


@pytest.mark.parametrize("sig", ["0x00", "nothex", "0x" + "00" * 65, "0x" + "11" * 64 + "05"])
def test_recover_rejects_malformed_signatures(sig):
    with pytest.raises(ValueError):
        va.recover_address(b"\x01" * 32, sig)
