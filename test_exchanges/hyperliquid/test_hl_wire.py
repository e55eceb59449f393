"""The wire form: canonical decimals, cloids, builders (key order, optional keys omitted), and
the server-side parser: what canonicalises to the same hash and what is the server's 422."""
from __future__ import annotations

import copy
from decimal import Decimal as D
from typing import Any

import msgpack
import pytest

from wrappers import hyperliquid_auth as ha
from wrappers import hyperliquid_canonical as hc
from wrappers import hyperliquid_wire as hw

CLOID = "0x1234567890abcdef1234567890abcdef"
BUILDER = "0x8c967e73e6b15087c42a10d344cff4c96d877f1d"


def _order(**over: Any) -> dict[str, Any]:
    wire: dict[str, Any] = {"a": 0, "b": True, "p": "50000", "s": "0.001", "r": False, "t": {"limit": {"tif": "Gtc"}}, "c": CLOID}
    wire.update(over)
    return {"type": "order", "orders": [wire], "grouping": "na"}


CANONICAL = _order()
CANONICAL_HASH = ha.action_hash(CANONICAL, None, 1700000000000, None)


# -- decimal_to_wire ----------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "wire"), [
    (D("100.0"), "100"), (D("1670.1"), "1670.1"), (D("0.0147"), "0.0147"), (D("1E+20"), "100000000000000000000"),
    (D("2.5E-5"), "0.000025"), (D("1.000000000"), "1"), (D("0.12345678"), "0.12345678"), (D("-1.50"), "-1.5"),
    (D("0"), "0"), (D("-0"), "0"), (D("-0.00"), "0"), (D("0E-12"), "0"), (7, "7"), (D("50000"), "50000"),
    # beyond the 28-digit default context: exact, no rounding
    (D("12345678901234567890123456789.12345678"), "12345678901234567890123456789.12345678"),
])
def test_decimal_to_wire(value, wire):
    assert hw.decimal_to_wire(value) == wire


@pytest.mark.parametrize("value", [D("0.000000001"), D("1.123456789"), D("1E-9"), D("NaN"), D("Infinity"), D("-Infinity"),
                                   0.5, 1.0, True, "1.5", None])
def test_decimal_to_wire_refuses(value):
    with pytest.raises(hc.WireError):
        hw.decimal_to_wire(value)


# -- cloids -------------------------------------------------------------------------------------


def test_validate_cloid():
    assert hw.validate_cloid(CLOID) == CLOID
    assert hw.validate_cloid(CLOID.upper().replace("0X", "0x")) == CLOID
    for bad in (CLOID[:-4], CLOID + "00", CLOID[2:], "0xhf01" + "0" * 28, "0X" + CLOID[2:], 12, None, " " + CLOID):
        with pytest.raises(hc.WireError):
            hw.validate_cloid(bad)


def test_cloid_for_client_id():
    assert hw.cloid_for_client_id(1) == "0x" + "0" * 31 + "1"
    assert hw.cloid_for_client_id(255) == "0x" + "0" * 30 + "ff"
    assert hw.cloid_for_client_id("255") == hw.cloid_for_client_id(255) == hw.cloid_for_client_id(" 255 ")
    assert hw.cloid_for_client_id(2**128 - 1) == "0x" + "f" * 32
    assert hw.cloid_for_client_id(1_700_000_000_123) == f"{1_700_000_000_123:#034x}"  # = SDK Cloid.from_int
    assert hw.cloid_for_client_id(CLOID.upper().replace("0X", "0x")) == CLOID
    # deterministic and one-to-one on the 128-bit range
    assert int(hw.cloid_for_client_id(123456789), 16) == 123456789
    for bad in (0, -1, 2**128, True, 1.0, "abc", "", "٣", "0x12", None):
        with pytest.raises(hc.WireError):
            hw.cloid_for_client_id(bad)


def test_new_cloid():
    a, b = hw.new_cloid(), hw.new_cloid()
    assert a != b and hw.validate_cloid(a) == a


# -- builders -----------------------------------------------------------------------------------


def test_order_builders_key_order_and_optional_keys():
    wire = hw.order_wire(3, False, D("1.50"), D("10"), reduce_only=True,
                         order_type=hw.trigger_type(D("1.40"), is_market=False, tpsl="sl"))
    assert list(wire) == ["a", "b", "p", "s", "r", "t"]  # no "c" key at all, never null
    assert wire["t"] == {"trigger": {"isMarket": False, "triggerPx": "1.4", "tpsl": "sl"}}
    assert list(wire["t"]["trigger"]) == ["isMarket", "triggerPx", "tpsl"]
    action = hw.order_action([wire], builder={"b": BUILDER.upper().replace("0X", "0x"), "f": 5})
    assert list(action) == ["type", "orders", "grouping", "builder"]
    assert action["builder"] == {"b": BUILDER, "f": 5}
    assert list(hw.order_action([wire])) == ["type", "orders", "grouping"]
    assert hw.order_wire(0, True, D("1"), D("1"))["t"] == {"limit": {"tif": "Gtc"}}
    assert hw.schedule_cancel_action() == {"type": "scheduleCancel"}
    assert hw.schedule_cancel_action(5) == {"type": "scheduleCancel", "time": 5}
    assert hw.noop_action() == {"type": "noop"}
    assert hw.modify_action(CLOID.upper().replace("0X", "0x"), wire) == {"type": "modify", "oid": CLOID, "order": wire}
    assert hw.usd_to_ntli(D("12.5")) == 12_500_000 and hw.usd_to_ntli(D("-0.000001")) == -1 and hw.usd_to_ntli(3) == 3_000_000


def test_builders_do_not_alias_caller_objects():
    wire = hw.order_wire(0, True, D("1"), D("1"))
    action = hw.order_action([wire])
    action["orders"][0]["p"] = "2"
    assert wire["p"] == "1"
    order_type = hw.limit_type("Ioc")
    built = hw.order_wire(0, True, D("1"), D("1"), order_type=order_type)
    built["t"]["limit"]["tif"] = "Alo"
    assert order_type == {"limit": {"tif": "Ioc"}}


@pytest.mark.parametrize("call", [
    lambda: hw.order_wire(0, True, 50000.0, D("1")),
    lambda: hw.order_wire(0, True, D("50000"), D("0")),
    lambda: hw.order_wire(0, True, D("-1"), D("1")),
    lambda: hw.order_wire(0, True, D("1"), D("0.000000001")),
    lambda: hw.order_wire(-1, True, D("1"), D("1")),
    lambda: hw.order_wire(2**32, True, D("1"), D("1")),
    lambda: hw.order_wire(True, True, D("1"), D("1")),
    lambda: hw.order_wire(0, 1, D("1"), D("1")),
    lambda: hw.order_wire(0, True, D("1"), D("1"), cloid="0x1234"),
    lambda: hw.order_wire(0, True, D("1"), D("1"), order_type={"limit": {"tif": "FrontendMarket"}}),
    lambda: hw.order_wire(0, True, D("1"), D("1"), order_type={"limit": {"tif": "Gtc"}, "trigger": {}}),
    lambda: hw.limit_type("GTC"),
    lambda: hw.limit_type("Fok"),
    lambda: hw.trigger_type(D("0"), is_market=True, tpsl="sl"),
    lambda: hw.trigger_type(D("1"), is_market=True, tpsl="stop"),
    lambda: hw.order_action([], grouping="all"),
    lambda: hw.builder_info("0x1234", 1),
    lambda: hw.builder_info(BUILDER, -1),
    lambda: hw.order_action([], builder={"b": BUILDER}),
    lambda: hw.cancel_action([(0, -5)]),
    lambda: hw.cancel_by_cloid_action([(0, "0x" + "a" * 28)]),
    lambda: hw.update_leverage_action(0, 0, is_cross=True),
    lambda: hw.update_leverage_action(0, 5, is_cross=1),
    lambda: hw.update_isolated_margin_action(0, 2**63),
    lambda: hw.usd_to_ntli(D("0.0000001")),
    lambda: hw.usd_to_ntli(1.5),
    lambda: hw.schedule_cancel_action(-1),
    lambda: hw.approve_agent_action("0x123", 1),
    lambda: hw.approve_agent_action(BUILDER, 1, agent_name=""),
    lambda: hw.approve_agent_action(BUILDER, 1, agent_name="x" * 17),
    lambda: hw.approve_builder_fee_action(BUILDER, "0.001", 1),
    lambda: hw.usd_class_transfer_action("1e3", True, 1),
    lambda: hw.usd_class_transfer_action("0.00", True, 1),
    lambda: hw.usd_class_transfer_action(1.5, True, 1),
    lambda: hw.withdraw3_action("14791697260e4c9a71f18484c9f997b308e59325", "5", 1),
    lambda: hw.exchange_body({}, -1, {"r": "0x1", "s": "0x1", "v": 27}),
])
def test_builders_refuse_bad_input(call):
    with pytest.raises(hc.WireError):
        call()


def test_user_signed_builders():
    agent = hw.approve_agent_action("0xE239CDC5FBE977A8A141B72194D3CF8C41BC5BC6", 7, is_mainnet=False)
    assert agent == {"type": "approveAgent", "agentAddress": "0xe239cdc5fbe977a8a141B72194D3CF8c41bC5BC6", "nonce": 7,
                     "signatureChainId": "0x66eee", "hyperliquidChain": "Testnet"}
    fee = hw.approve_builder_fee_action(BUILDER, D("0.0100"), 7, signature_chain_id="0xA4B1")
    assert fee["maxFeeRate"] == "0.01%" and fee["signatureChainId"] == "0xa4b1"
    transfer = hw.usd_class_transfer_action(D("25.50"), True, 7, vault_address=BUILDER.upper().replace("0X", "0x"))
    assert transfer["amount"] == f"25.5 subaccount:{BUILDER}"
    assert hw.withdraw3_action(BUILDER, 5, 7)["amount"] == "5"


# -- the server-side parser: same hash ------------------------------------------------------------


def _hash(action: Any) -> bytes:
    return ha.action_hash(hc.canonical_action(action), None, 1700000000000, None)


@pytest.mark.parametrize("posted", [
    # reordered keys everywhere
    {"grouping": "na", "orders": [{"t": {"limit": {"tif": "Gtc"}}, "c": CLOID, "r": False, "s": "0.001", "p": "50000",
                                   "b": True, "a": 0}], "type": "order"},
    _order(p="50000.000000000", s="0.00100000000"),  # padding zeros, nine decimals and more
    _order(p="050000", s="00.001"),
    _order(c=CLOID.upper().replace("0X", "0x")),
    _order(c="0x1234567890ABCDEF1234567890abcdef"),
])
def test_equivalent_forms_hash_the_same(posted):
    before = copy.deepcopy(posted)
    assert msgpack.packb(hc.canonical_action(posted)) == msgpack.packb(CANONICAL)
    assert _hash(posted) == CANONICAL_HASH
    assert posted == before  # never mutated


def test_alphabetical_order_hashes_differently():
    # the pitfall the parser protects a server from: hashing the JSON as posted
    alphabetical = {"grouping": "na", "orders": CANONICAL["orders"], "type": "order"}
    assert ha.action_hash(alphabetical, None, 1700000000000, None) != CANONICAL_HASH
    assert _hash(alphabetical) == CANONICAL_HASH


def test_parser_canonicalises_every_kind():
    upper = CLOID.upper().replace("0X", "0x")
    assert hc.canonical_action({"type": "order", "grouping": "na", "orders": [], "builder": {"f": 1, "b": "0x" + BUILDER[2:].upper()}}) == \
        {"type": "order", "orders": [], "grouping": "na", "builder": {"b": BUILDER, "f": 1}}
    assert hc.canonical_action({"builder": None, **_order(c=None)}) == {
        "type": "order", "orders": [{"a": 0, "b": True, "p": "50000", "s": "0.001", "r": False, "t": {"limit": {"tif": "Gtc"}}}],
        "grouping": "na"}
    assert hc.canonical_action({"cancels": [{"o": 5, "a": 1}], "type": "cancel"}) == {"type": "cancel", "cancels": [{"a": 1, "o": 5}]}
    assert hc.canonical_action({"type": "cancelByCloid", "cancels": [{"cloid": upper, "asset": 2}]}) == \
        {"type": "cancelByCloid", "cancels": [{"asset": 2, "cloid": CLOID}]}
    order = CANONICAL["orders"][0]
    assert hc.canonical_action({"type": "batchModify", "modifies": [{"order": order, "oid": upper}]}) == \
        {"type": "batchModify", "modifies": [{"oid": CLOID, "order": order}]}
    assert hc.canonical_action({"order": order, "oid": 9, "type": "modify"}) == {"type": "modify", "oid": 9, "order": order}
    assert list(hc.canonical_action({"leverage": 3, "isCross": False, "asset": 1, "type": "updateLeverage"})) == \
        ["type", "asset", "isCross", "leverage"]
    assert list(hc.canonical_action({"ntli": -5, "isBuy": True, "asset": 1, "type": "updateIsolatedMargin"})) == \
        ["type", "asset", "isBuy", "ntli"]
    assert hc.canonical_action({"type": "scheduleCancel", "time": None}) == {"type": "scheduleCancel"}
    assert hc.canonical_action({"time": 5, "type": "scheduleCancel"}) == {"type": "scheduleCancel", "time": 5}
    assert hc.canonical_action({"type": "noop"}) == {"type": "noop"}
    assert hc.canonical_action(_order(t={"trigger": {"tpsl": "tp", "triggerPx": "3300.0", "isMarket": False}}))["orders"][0]["t"] == \
        {"trigger": {"isMarket": False, "triggerPx": "3300", "tpsl": "tp"}}
    # the web UI's tif is accepted by the server (never built by us)
    assert hc.canonical_action(_order(t={"limit": {"tif": "FrontendMarket"}}))["orders"][0]["t"]["limit"]["tif"] == "FrontendMarket"


def test_user_signed_parser():
    agent = {"hyperliquidChain": "Mainnet", "signatureChainId": "0x66EEE", "nonce": 1, "agentName": None, "type": "approveAgent",
             "agentAddress": "0xE239CDC5FBE977A8A141B72194D3CF8C41BC5BC6"}
    assert hc.canonical_action(agent) == {"type": "approveAgent", "agentAddress": "0xe239cdc5fbe977a8a141b72194d3cf8c41bc5bc6",
                                          "nonce": 1, "signatureChainId": "0x66eee", "hyperliquidChain": "Mainnet"}
    # string-typed fields are hashed as text: kept verbatim
    withdraw = {"type": "withdraw3", "destination": "0x14791697260E4c9A71f18484C9f997B308e59325", "amount": "5.0", "time": 1,
                "signatureChainId": "0x66eee", "hyperliquidChain": "Testnet"}
    assert hc.canonical_action(withdraw)["destination"] == withdraw["destination"]
    assert hc.canonical_action(withdraw)["amount"] == "5.0"
    transfer = {"type": "usdClassTransfer", "amount": f"1.0 subaccount:{BUILDER}", "toPerp": True, "nonce": 1,
                "signatureChainId": "0x66eee", "hyperliquidChain": "Mainnet"}
    assert hc.canonical_action(transfer)["amount"] == transfer["amount"]


# -- the server-side parser: HTTP 422 -------------------------------------------------------------

_ORDER_422 = [
    _order(x=1),  # unknown key in an order
    {**_order(), "extra": True},  # unknown key in the action
    _order(p="0.000000001"),  # a non-zero 9th decimal
    _order(s="1.1234567891"),
    _order(p="1e5"), _order(p="1E5"), _order(p="5e-1"),  # exponents
    _order(p=50000), _order(s=0.001), _order(p=None),  # numbers instead of strings
    _order(c="0x" + "a" * 28), _order(c="0x" + "a" * 34), _order(c="0xhf01" + "0" * 28), _order(c=123),  # cloids
    _order(p="-1"), _order(p="-0"), _order(p="+1"), _order(p=" 1"), _order(p=".5"), _order(p="5."), _order(p=""),
    _order(p="1,5"), _order(p="٣"), _order(p="NaN"),
    _order(a=True), _order(a=1.0), _order(a=-1), _order(a="0"), _order(a=2**32),
    _order(b=1), _order(r="false"),
    _order(t={"limit": {"tif": "GTC"}}), _order(t={"limit": {"tif": "Fok"}}), _order(t={}),
    _order(t={"limit": {"tif": "Gtc"}, "trigger": {"isMarket": True, "triggerPx": "1", "tpsl": "sl"}}),
    _order(t={"trigger": {"isMarket": True, "triggerPx": "1", "tpsl": "stop"}}),
    _order(t={"trigger": {"isMarket": True, "triggerPx": 1, "tpsl": "sl"}}),
    _order(t={"trigger": {"isMarket": True, "tpsl": "sl"}}),
    {"type": "order", "orders": {}, "grouping": "na"},
    {"type": "order", "orders": [], "grouping": "all"},
    {"type": "order", "orders": []},  # missing grouping
    {"type": "order", "orders": [], "grouping": "na", "builder": {"b": BUILDER}},
    {"type": "order", "orders": [], "grouping": "na", "builder": {"b": "0x1234", "f": 1}},
    {"type": "Order", "orders": [], "grouping": "na"},  # unknown type
    {"orders": [], "grouping": "na"},  # no type
    {"type": "twapOrder"},
    {"type": "cancel", "cancels": [{"a": 0, "o": "123"}]},
    {"type": "cancel", "cancels": [{"a": 0, "o": 2**64}]},
    {"type": "cancel", "cancels": [{"asset": 0, "o": 1}]},
    {"type": "cancelByCloid", "cancels": [{"asset": 0, "cloid": "0x" + "a" * 28}]},
    {"type": "batchModify", "modifies": [{"oid": "0x12", "order": CANONICAL["orders"][0]}]},
    {"type": "batchModify", "modifies": [{"oid": 1, "order": {**CANONICAL["orders"][0], "z": 1}}]},
    {"type": "updateLeverage", "asset": 0, "isCross": "true", "leverage": 5},
    {"type": "updateLeverage", "asset": 0, "isCross": True, "leverage": 5.0},
    {"type": "updateIsolatedMargin", "asset": 0, "isBuy": True, "ntli": "1"},
    {"type": "updateIsolatedMargin", "asset": 0, "isBuy": True, "ntli": 2**63},
    {"type": "scheduleCancel", "time": -1},
    {"type": "noop", "nonce": 1},
    {"type": "approveAgent", "agentAddress": BUILDER, "nonce": 1, "signatureChainId": "0x66eee", "hyperliquidChain": "mainnet"},
    {"type": "approveAgent", "agentAddress": BUILDER, "nonce": 1, "signatureChainId": "421614", "hyperliquidChain": "Mainnet"},
    {"type": "approveAgent", "agentAddress": BUILDER, "nonce": 1, "signatureChainId": "0x66eee"},
    {"type": "approveBuilderFee", "maxFeeRate": "0.001", "builder": BUILDER, "nonce": 1, "signatureChainId": "0x66eee",
     "hyperliquidChain": "Mainnet"},
    {"type": "usdClassTransfer", "amount": 100, "toPerp": True, "nonce": 1, "signatureChainId": "0x66eee",
     "hyperliquidChain": "Mainnet"},
    {"type": "usdClassTransfer", "amount": "1e2", "toPerp": True, "nonce": 1, "signatureChainId": "0x66eee",
     "hyperliquidChain": "Mainnet"},
    {"type": "withdraw3", "destination": "not-an-address", "amount": "1", "time": 1, "signatureChainId": "0x66eee",
     "hyperliquidChain": "Mainnet"},
    {"type": "withdraw3", "destination": BUILDER, "amount": "1", "time": 1, "nonce": 1, "signatureChainId": "0x66eee",
     "hyperliquidChain": "Mainnet"},
    [], "order", None,
]


@pytest.mark.parametrize("posted", _ORDER_422)
def test_422(posted):
    with pytest.raises(hc.DeserializeError) as info:
        hc.canonical_action(posted)
    err = info.value
    assert err.status == 422
    assert err.text == "Failed to deserialize the JSON body into the target type"
    assert str(err).startswith(err.text + ": ") and err.detail
    assert isinstance(err, ValueError)


# -- envelopes -------------------------------------------------------------------------------------

_SIG = {"r": "0x3a5e53dfa61eb31b5b156d4511bb35b582ee19a45cd67712f22da30abc40cddf",
        "s": "0x2eea97b597af600383f4317cb3f0a45bcdd0330435c49fe39ac787c10dcde18f", "v": 27}


def _body(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"action": CANONICAL, "nonce": 1700000000000, "signature": dict(_SIG)}
    body.update(over)
    return body


def test_parse_exchange_request_forms():
    plain = hc.parse_exchange_request(_body())
    assert plain.vault_address is None and plain.expires_after is None and plain.signature == _SIG
    assert hc.parse_exchange_request(_body(vaultAddress=None, expiresAfter=None)) == plain
    vault = "0x1719884eb866cb12b2287399b15f7db5e7d775ea"
    for form in (vault, vault[2:], vault.upper().replace("0X", "0x"), vault[2:].upper()):
        assert hc.parse_exchange_request(_body(vaultAddress=form)).vault_address == vault
    assert hc.parse_exchange_request(_body(expiresAfter=5)).expires_after == 5
    # r/s with leading zeros dropped, padded, or upper-case: one canonical (SDK) form
    short = hc.parse_exchange_request(_body(signature={"r": "0xabc", "s": "0x0" + "0" * 62 + "1", "v": 28}))
    assert short.signature == {"r": "0xabc", "s": "0x1", "v": 28}
    assert hc.parse_exchange_request(_body(signature={"r": "0xABC", "s": "0x01", "v": 28})).signature == short.signature
    # an all-zero signature parses (the server answers "Unable to recover signer." later)
    assert hc.parse_exchange_request(_body(signature={"r": "0x0", "s": "0x0", "v": 27})).signature["r"] == "0x0"


@pytest.mark.parametrize("body", [
    _body(extra=1), _body(isFrontend=True), {"action": CANONICAL, "nonce": 1}, {"nonce": 1, "signature": _SIG},
    _body(nonce=-1), _body(nonce="1"), _body(nonce=2**64), _body(nonce=1.5),
    _body(vaultAddress="0x1234"), _body(vaultAddress=5), _body(expiresAfter="5"), _body(expiresAfter=-5),
    _body(signature={**_SIG, "v": 29}), _body(signature={**_SIG, "v": "27"}), _body(signature={**_SIG, "v": True}),
    _body(signature={**_SIG, "r": "0x" + "1" * 65}), _body(signature={**_SIG, "r": _SIG["r"][2:]}),
    _body(signature={**_SIG, "r": "0x"}), _body(signature={**_SIG, "s": 5}), _body(signature={"r": "0x1", "s": "0x1"}),
    _body(signature={**_SIG, "w": 1}), _body(signature="0x" + "1" * 130),
    _body(action=_order(p=50000)), [], None,
])
def test_envelope_422(body):
    with pytest.raises(hc.DeserializeError):
        hc.parse_exchange_request(body)
