"""Every SDK-computed vector in signing_vectors.json, byte for byte: the action our builders
make, msgpack, pre-image, connectionId, domain separator, struct hash, digest, r, s, v, the
recovered address and the whole posted body."""
from __future__ import annotations

import json
from decimal import Decimal as D
from typing import Any

import msgpack
import pytest

from wrappers import hyperliquid_auth as ha
from wrappers import hyperliquid_canonical as hc
from wrappers import hyperliquid_wire as hw

from .conftest import load_vectors

VECTORS = {v["name"]: v for v in load_vectors()["vectors"]}
L1 = [n for n, v in VECTORS.items() if v["scheme"] == "l1"]
USER = [n for n, v in VECTORS.items() if v["scheme"] == "user_signed"]
CLOID = "0x1234567890abcdef1234567890abcdef"
BUILDER = "0x8c967e73e6b15087c42a10d344cff4c96d877f1d"


def _btc_gtc(cloid: str | None = None) -> dict[str, Any]:
    return hw.order_wire(0, True, D("50000"), D("0.001"), order_type=hw.limit_type("Gtc"), cloid=cloid)


# the same actions, built with our builders from Decimals
BUILT: dict[str, Any] = {
    "order_limit_gtc_cloid": lambda: hw.order_action([_btc_gtc(CLOID)]),
    "order_market_style_ioc": lambda: hw.order_action([hw.order_wire(1, True, D("3163.0"), D("0.05"), order_type=hw.limit_type("Ioc"))]),
    "order_reduce_only_ioc": lambda: hw.order_action(
        [hw.order_wire(1, False, D("2861.80"), D("0.050"), reduce_only=True, order_type=hw.limit_type("Ioc"))]),
    "order_alo_post_only": lambda: hw.order_action([hw.order_wire(2, False, D("187.35"), D("1.5"), order_type=hw.limit_type("Alo"))]),
    "order_trigger_sl_market": lambda: hw.order_action([hw.order_wire(
        0, False, D("44000"), D("0.001"), reduce_only=True, order_type=hw.trigger_type(D("45000"), is_market=True, tpsl="sl"))]),
    "order_vault": lambda: hw.order_action([_btc_gtc()]),
    "order_limit_gtc_cloid_testnet": lambda: hw.order_action([_btc_gtc(CLOID.upper().replace("0X", "0x"))]),
    "order_expires_after": lambda: hw.order_action([_btc_gtc(CLOID)]),
    "order_with_builder": lambda: hw.order_action([_btc_gtc()], builder=hw.builder_info(BUILDER.upper().replace("0X", "0x"), 10)),
    "order_bulk_normal_tpsl": lambda: hw.order_action([
        hw.order_wire(1, True, D("3000"), D("0.1")),
        hw.order_wire(1, False, D("3300"), D("0.1"), reduce_only=True,
                      order_type=hw.trigger_type(D("3300"), is_market=False, tpsl="tp")),
        hw.order_wire(1, False, D("2700"), D("0.1"), reduce_only=True,
                      order_type=hw.trigger_type(D("2750"), is_market=True, tpsl="sl")),
    ], grouping="normalTpsl"),
    "cancel": lambda: hw.cancel_action([(0, 123456789)]),
    "cancel_by_cloid": lambda: hw.cancel_by_cloid_action([(0, CLOID)]),
    "modify_by_oid": lambda: hw.batch_modify_action([(123456789, hw.order_wire(0, True, D("49500"), D("0.002")))]),
    "modify_by_cloid": lambda: hw.batch_modify_action([(CLOID, hw.order_wire(0, True, D("49500"), D("0.002"), cloid=CLOID))]),
    "update_leverage_cross": lambda: hw.update_leverage_action(0, 10, is_cross=True),
    "update_leverage_isolated": lambda: hw.update_leverage_action(1, 5, is_cross=False),
    "update_isolated_margin": lambda: hw.update_isolated_margin_action(1, hw.usd_to_ntli(D("12.5"))),
    "schedule_cancel_set": lambda: hw.schedule_cancel_action(1700000060000),
    "schedule_cancel_clear": lambda: hw.schedule_cancel_action(),
}


def test_every_vector_is_covered():
    assert sorted(BUILT) == sorted(L1)
    assert len(USER) == 6 and "sdk_production_anchor" in VECTORS


def test_key_and_address(hl_vectors):
    signer = ha.HyperliquidSigner(hl_vectors["private_key"])
    assert signer.address == hl_vectors["address"]
    assert ha.HyperliquidSigner(hl_vectors["agent_private_key_for_approveAgent"]).address == hl_vectors["agent_address"]


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))  # key order is part of the comparison


@pytest.mark.parametrize("name", L1)
def test_l1_vector(name, hl_vectors):
    v = VECTORS[name]
    mainnet = v["network"] == "mainnet"
    assert v["source"] == ("a" if mainnet else "b")
    action = BUILT[name]()
    assert _dumps(action) == _dumps(v["action"])
    assert _dumps(hc.canonical_action(v["action"])) == _dumps(v["action"])
    assert msgpack.packb(action).hex() == v["msgpack_hex"]
    args = (v["vaultAddress"], v["nonce"], v["expiresAfter"])
    assert ha.action_preimage(action, *args).hex() == v["hash_preimage_hex"]
    connection_id = ha.action_hash(action, *args)
    assert "0x" + connection_id.hex() == v["connectionId"] == v["eip712"]["message"]["connectionId"]
    assert "0x" + ha.L1_DOMAIN_SEPARATOR.hex() == v["domain_separator"]
    assert "0x" + ha.agent_struct_hash(connection_id, mainnet).hex() == v["struct_hash"]
    assert "0x" + ha.l1_digest(action, *args, mainnet).hex() == v["digest"]

    kw = {"vault_address": v["vaultAddress"], "expires_after": v["expiresAfter"], "is_mainnet": mainnet}
    signer = ha.HyperliquidSigner(hl_vectors["private_key"])
    sig = signer.sign_l1(action, v["nonce"], **kw)
    assert sig == v["signature_sdk"]
    assert ha.sign_l1_action(hl_vectors["private_key"], action, v["nonce"], **kw) == sig
    # the padded form is the same numbers: the SDK's r/s drop leading zero nibbles
    for part in ("r", "s"):
        assert int(sig[part], 16) == int(v["signature_padded"][part], 16)
        assert len(v["signature_padded"][part]) == 66
    body = hw.exchange_body(action, v["nonce"], sig, vault_address=v["vaultAddress"], expires_after=v["expiresAfter"])
    assert _dumps(body) == _dumps(v["request_body"])
    for form in (v["signature_sdk"], v["signature_padded"]):
        assert ha.recover_l1_signer(action, v["nonce"], form, **kw) == hl_vectors["address"]
    parsed = hc.parse_exchange_request(v["request_body"])
    assert ha.recover_l1_signer(parsed.action, parsed.nonce, parsed.signature, vault_address=parsed.vault_address,
                                expires_after=parsed.expires_after, is_mainnet=mainnet) == hl_vectors["address"]


def test_short_r_and_s_are_in_the_vectors():
    # at least one r and one s shorter than 66 characters: the "as sent" form is exercised
    assert any(len(v["signature_sdk"]["r"]) < 66 for v in VECTORS.values() if "signature_sdk" in v)
    assert any(len(v["signature_sdk"]["s"]) < 66 for v in VECTORS.values() if "signature_sdk" in v)


def _user_body(name: str, signer: ha.HyperliquidSigner, agent: str) -> dict[str, Any]:
    nonce = 1700000000000
    if name == "approve_agent_named":
        return signer.approve_agent(agent.lower(), nonce, agent_name="bot1")
    if name == "approve_agent_unnamed":
        return signer.approve_agent(agent, nonce)
    if name == "approve_agent_named_testnet":
        return signer.approve_agent(agent, nonce, agent_name="bot1", is_mainnet=False)
    if name == "approve_builder_fee":
        return signer.approve_builder_fee(BUILDER, "0.001%", nonce)
    if name == "usd_class_transfer":
        return signer.usd_class_transfer("100.0", False, nonce)
    assert name == "withdraw3"
    return signer.withdraw3("0x14791697260E4c9A71f18484C9f997B308e59325", "5.0", nonce)


@pytest.mark.parametrize("name", USER)
def test_user_signed_vector(name, hl_vectors):
    v = VECTORS[name]
    signer = ha.HyperliquidSigner(hl_vectors["private_key"])
    body = _user_body(name, signer, hl_vectors["agent_address"])
    assert _dumps(body) == _dumps(v["request_body"])
    assert _dumps(body["action"]) == _dumps(v["action_as_posted"])
    posted = v["action_as_posted"]
    primary, fields = ha.USER_SIGNED_TYPES[posted["type"]]
    assert primary == v["primaryType"] == v["eip712"]["primaryType"]
    assert [{"name": n, "type": t} for n, t in fields] == v["eip712"]["types"][primary]
    chain_id = int(posted["signatureChainId"], 16)
    assert chain_id == v["eip712"]["domain"]["chainId"]
    assert "0x" + ha.user_signed_domain_separator(chain_id).hex() == v["domain_separator"]
    assert "0x" + ha.user_signed_struct_hash(posted).hex() == v["struct_hash"]
    assert "0x" + ha.user_signed_digest(posted).hex() == v["digest"]
    # what the SDK signed (agentName "" for the unnamed agent) hashes the same as what it posted
    assert ha.user_signed_digest(v["message_signed"]) == ha.user_signed_digest(posted)
    assert body["signature"] == v["signature_sdk"] == signer.sign_user_signed(posted)
    for form in (v["signature_sdk"], v["signature_padded"]):
        assert ha.recover_user_signed(posted, form) == hl_vectors["address"]
    parsed = hc.parse_exchange_request(v["request_body"])
    assert ha.recover_user_signed(parsed.action, parsed.signature) == hl_vectors["address"]


def test_sdk_production_anchor():
    v = VECTORS["sdk_production_anchor"]
    action = hw.order_action([hw.order_wire(4, True, D("1670.1"), D("0.0147"), order_type=hw.limit_type("Ioc"))])
    assert action == v["action"]
    assert msgpack.packb(action).hex() == v["msgpack_hex"]
    assert "0x" + ha.action_hash(action, v["vaultAddress"], v["nonce"], v["expiresAfter"]).hex() == v["connectionId"]


def test_readme_constants():
    assert ha.AGENT_TYPE_HASH.hex() == "26f05c2f7239b6983075e58321292d77b3aa173d19b27257ac96ab362570f508"
    assert ha.user_signed_domain_separator(0x66EEE).hex() == "feb1393ca4412a4ca577bd51d04f0a77033514c602f4d0a11490fb95f7428df6"
    # another signatureChainId is part of the domain (the docs show 0xa4b1)
    assert ha.user_signed_domain_separator(0xA4B1) != ha.user_signed_domain_separator(0x66EEE)
