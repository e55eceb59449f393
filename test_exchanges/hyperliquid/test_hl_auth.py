"""Signing behaviour beyond the vectors: recovery round trips (and what changes the
recovered address), canonicalisation before signing, no mutation, no secret in repr or errors."""
from __future__ import annotations

import copy
import random
from decimal import Decimal as D
from typing import Any

import pytest

from mpdex.evm import SECP256K1_N, EvmSigner, address_of
from wrappers import hyperliquid_auth as ha
from wrappers import hyperliquid_canonical as hc
from wrappers import hyperliquid_wire as hw

KEY = "0x" + "7e" * 32
CLOID = "0x1234567890abcdef1234567890abcdef"
VAULT = "0x1719884eb866cb12b2287399b15f7db5e7d775ea"
NONCE = 1_700_000_000_000


def _action() -> dict[str, Any]:
    return hw.order_action([hw.order_wire(0, True, D("50000"), D("0.001"), cloid=CLOID)])


def test_l1_recovery_round_trips_and_every_hashed_field_matters():
    rng = random.Random(5)
    for _ in range(40):
        key = "0x" + f"{rng.randrange(1, SECP256K1_N):064x}"
        signer = ha.HyperliquidSigner(key)
        assert signer.address == address_of(key)
        action = hw.order_action([hw.order_wire(rng.randrange(100), rng.random() < 0.5, D(rng.randrange(1, 10**6)),
                                                D(rng.randrange(1, 10**4)).scaleb(-3))])
        nonce = NONCE + rng.randrange(10**6)
        vault = VAULT if rng.random() < 0.5 else None
        expires = nonce + 1000 if rng.random() < 0.5 else None
        mainnet = rng.random() < 0.5
        kw = {"vault_address": vault, "expires_after": expires, "is_mainnet": mainnet}
        sig = signer.sign_l1(action, nonce, **kw)
        assert ha.recover_l1_signer(action, nonce, sig, **kw) == signer.address
        # the server recovers *some* address from a signature over anything else
        assert ha.recover_l1_signer(action, nonce + 1, sig, **kw) != signer.address
        assert ha.recover_l1_signer(action, nonce, sig, **{**kw, "is_mainnet": not mainnet}) != signer.address
        assert ha.recover_l1_signer(action, nonce, sig, **{**kw, "vault_address": None if vault else VAULT}) != signer.address
        assert ha.recover_l1_signer(action, nonce, sig, **{**kw, "expires_after": None if expires else nonce}) != signer.address
        other = copy.deepcopy(action)
        other["orders"][0]["r"] = True
        assert ha.recover_l1_signer(other, nonce, sig, **kw) != signer.address


def test_user_signed_round_trips_and_chain_matters():
    signer = ha.HyperliquidSigner(KEY)
    agent = ha.HyperliquidSigner("0x" + "11" * 32).address
    bodies = [
        signer.approve_agent(agent, NONCE, agent_name="hedge"),
        signer.approve_agent(agent, NONCE, is_mainnet=False),
        signer.approve_builder_fee("0x8c967e73e6b15087c42a10d344cff4c96d877f1d", "0.01%", NONCE),
        signer.usd_class_transfer(D("12.5"), True, NONCE, vault_address=VAULT),
        signer.withdraw3(signer.address, D("5"), NONCE, is_mainnet=False, signature_chain_id="0xa4b1"),
    ]
    for body in bodies:
        action = body["action"]
        assert body["nonce"] == action.get("nonce", action.get("time")) == NONCE
        assert body["vaultAddress"] is None and body["expiresAfter"] is None
        assert ha.recover_user_signed(action, body["signature"]) == signer.address
        flipped = {**action, "hyperliquidChain": "Testnet" if action["hyperliquidChain"] == "Mainnet" else "Mainnet"}
        assert ha.recover_user_signed(flipped, body["signature"]) != signer.address
        assert ha.recover_user_signed({**action, "signatureChainId": "0x1"}, body["signature"]) != signer.address


def test_unnamed_agent_is_signed_with_an_empty_name():
    signer = ha.HyperliquidSigner(KEY)
    agent = ha.HyperliquidSigner("0x" + "11" * 32).address
    body = signer.approve_agent(agent, NONCE)
    assert "agentName" not in body["action"]
    assert ha.user_signed_digest(body["action"]) == ha.user_signed_digest({**body["action"], "agentName": ""})
    assert ha.user_signed_digest(body["action"]) != ha.user_signed_digest({**body["action"], "agentName": "x"})


def test_signing_canonicalises_first():
    signer = ha.HyperliquidSigner(KEY)
    canonical = _action()
    sloppy = {"grouping": "na", "type": "order", "orders": [
        {"c": CLOID.upper().replace("0X", "0x"), "t": {"limit": {"tif": "Gtc"}}, "r": False, "s": "0.00100", "p": "50000.0",
         "b": True, "a": 0}]}
    before = copy.deepcopy(sloppy)
    assert signer.sign_l1(sloppy, NONCE) == signer.sign_l1(canonical, NONCE)
    assert ha.recover_l1_signer(sloppy, NONCE, signer.sign_l1(canonical, NONCE)) == signer.address
    assert sloppy == before
    # the low-level hash takes the action as given: that is what the pitfall looks like
    assert ha.action_hash(sloppy, None, NONCE, None) != ha.action_hash(canonical, None, NONCE, None)


def test_signing_refuses_before_anything_is_signed():
    signer = ha.HyperliquidSigner(KEY)
    with pytest.raises(hc.DeserializeError):
        signer.sign_l1({**_action(), "extra": 1}, NONCE)
    with pytest.raises(hc.DeserializeError):
        signer.sign_l1({"type": "twapOrder", "twap": {}}, NONCE)
    user = hw.withdraw3_action(signer.address, D("1"), NONCE)
    with pytest.raises(hc.WireError, match="user-signed"):
        signer.sign_l1(user, NONCE)
    with pytest.raises(hc.WireError, match="not user-signed"):
        signer.sign_user_signed(_action())
    for bad in ({"nonce": -1}, {"nonce": 2**64}, {"nonce": True}):
        with pytest.raises(hc.WireError):
            signer.sign_l1(_action(), bad["nonce"])
    for vault in ("0x1234", VAULT + "00", "zz" * 20, "", "0X" + VAULT[2:]):
        with pytest.raises(hc.WireError):
            signer.sign_l1(_action(), NONCE, vault_address=vault)
    with pytest.raises(hc.WireError):
        signer.sign_l1(_action(), NONCE, expires_after=-1)


def test_vault_address_case_and_prefix_do_not_matter():
    signer = ha.HyperliquidSigner(KEY)
    sig = signer.sign_l1(_action(), NONCE, vault_address=VAULT)
    for form in (VAULT[2:], VAULT.upper().replace("0X", "0x"), VAULT[2:].upper()):
        assert signer.sign_l1(_action(), NONCE, vault_address=form) == sig


def test_module_entry_point_takes_a_key_or_a_signer():
    signer = ha.HyperliquidSigner(KEY)
    sig = ha.sign_l1_action(KEY, _action(), NONCE, is_mainnet=False)
    assert sig == ha.sign_l1_action(signer, _action(), NONCE, is_mainnet=False)
    assert sig == ha.sign_l1_action(EvmSigner(KEY), _action(), NONCE, is_mainnet=False)
    assert sig == ha.sign_l1_action(bytes.fromhex(KEY[2:]), _action(), NONCE, is_mainnet=False)
    assert set(sig) == {"r", "s", "v"} and sig["v"] in (27, 28)
    assert sig["r"] == hex(int(sig["r"], 16)) and sig["s"] == hex(int(sig["s"], 16))  # SDK's to_hex(int)


def test_unrecoverable_signatures():
    action = _action()
    for sig in ({"r": "0x0", "s": "0x0", "v": 27}, {"r": hex(SECP256K1_N), "s": "0x1", "v": 27},
                {"r": "0x" + "f" * 64, "s": "0x1", "v": 28}):
        with pytest.raises(ha.SignatureError) as info:
            ha.recover_l1_signer(action, NONCE, sig)
        assert str(info.value) == "Unable to recover signer." == ha.UNABLE_TO_RECOVER
    with pytest.raises(hc.DeserializeError):
        ha.recover_l1_signer(action, NONCE, {"r": "0x1", "s": "0x1", "v": 1})
    with pytest.raises(ha.SignatureError):
        ha.recover_user_signed(hw.withdraw3_action(VAULT, D("1"), NONCE), {"r": "0x0", "s": "0x0", "v": 27})


def test_user_signed_actions_do_not_mutate_the_caller():
    signer = ha.HyperliquidSigner(KEY)
    posted = hw.approve_agent_action(signer.address, NONCE)
    before = copy.deepcopy(posted)
    signer.sign_user_signed(posted)
    ha.recover_user_signed(posted, signer.sign_user_signed(posted))
    assert posted == before and "agentName" not in posted
    mainnet = hw.usd_class_transfer_action(D("1"), True, NONCE)
    testnet = hw.usd_class_transfer_action(D("1"), True, NONCE, is_mainnet=False)
    signer.sign_user_signed(mainnet)
    assert mainnet["hyperliquidChain"] == "Mainnet" and testnet["hyperliquidChain"] == "Testnet"  # pitfall §8.13


def test_no_key_in_repr_or_errors():
    signer = ha.HyperliquidSigner(KEY)
    assert repr(signer) == f"HyperliquidSigner(address={signer.address})"
    assert KEY[2:] not in repr(signer) and KEY[2:] not in str(vars(type(signer)))
    bad_keys = ["0x" + "7e" * 31 + "zz", "0x" + "00" * 32, "0x" + f"{SECP256K1_N:064x}", "7e" * 33, "secret-passphrase", b"\x01" * 31]
    for bad in bad_keys:
        with pytest.raises(ValueError) as info:
            ha.HyperliquidSigner(bad)
        text = str(info.value) + repr(info.value)
        shown = bad.hex() if isinstance(bad, bytes) else bad
        assert shown not in text and shown.removeprefix("0x") not in text and "7e7e" not in text
        assert info.value.__cause__ is None and info.value.__suppress_context__
    with pytest.raises(ValueError) as info2:
        ha.sign_l1_action("0x" + "7e" * 31 + "zz", _action(), NONCE)
    assert "7e7e" not in str(info2.value)
