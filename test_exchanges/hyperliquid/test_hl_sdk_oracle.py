"""The official hyperliquid-python-sdk as an oracle: hundreds of random actions, built by
the SDK's own ``Exchange`` methods (HTTP replaced by a recorder, clock pinned) and by our
builders + signer, must give the same posted body byte for byte and recover to the key."""
from __future__ import annotations

import json
import random
from collections import Counter
from decimal import Decimal
from typing import Any

import eth_account
import hyperliquid.exchange as sdk_exchange
import pytest
from hyperliquid.utils import constants as sdk_constants
from hyperliquid.utils import signing as sdk_signing
from hyperliquid.utils.types import Cloid

from wrappers import hyperliquid_auth as ha
from wrappers import hyperliquid_canonical as hc
from wrappers import hyperliquid_wire as hw

KEY = "0x" + "5a" * 32
AGENT_KEY = "0x" + "3c" * 32
COINS = [("BTC", 5), ("ETH", 4), ("SOL", 2), ("kPEPE", 0), ("DOGE", 0), ("AVAX", 2)]
META = {"universe": [{"name": n, "szDecimals": d} for n, d in COINS]}
SPOT_META: dict[str, Any] = {"universe": [], "tokens": []}
VAULT = "0x1719884eb866cb12b2287399b15f7db5e7d775ea"
N_ORDERS = 240
N_OTHER = 160
N_USER = 48


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


class Recorder:
    """An SDK ``Exchange`` whose ``post`` records the body instead of sending it."""

    def __init__(self, mainnet: bool) -> None:
        url = sdk_constants.MAINNET_API_URL if mainnet else sdk_constants.TESTNET_API_URL
        self.ex = sdk_exchange.Exchange(eth_account.Account.from_key(KEY), url, meta=META, spot_meta=SPOT_META)
        self.bodies: list[dict[str, Any]] = []
        self.ex.post = lambda path, payload=None: self.bodies.append(payload)

    def call(self, monkeypatch: pytest.MonkeyPatch, nonce: int, vault: str | None, expires: int | None,
             method: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        monkeypatch.setattr(sdk_exchange, "get_timestamp_ms", lambda: nonce)
        self.ex.vault_address = vault
        self.ex.set_expires_after(expires)
        getattr(self.ex, method)(*args, **kwargs)
        return self.bodies.pop()


@pytest.fixture(scope="module")
def recorders() -> dict[bool, Recorder]:
    return {True: Recorder(True), False: Recorder(False)}


def _decimal(rng: random.Random, max_int_digits: int, decimals: int) -> Decimal:
    """A positive decimal a float carries exactly enough for the SDK's float_to_wire."""
    whole = rng.randrange(0, 10 ** rng.randint(1, max_int_digits))
    frac = rng.randrange(0, 10 ** decimals) if decimals else 0
    value = Decimal(whole) + Decimal(frac).scaleb(-decimals)
    if value == 0:
        value = Decimal(1).scaleb(-decimals)
    # sometimes with padding zeros: the wire form must not change
    return value.quantize(Decimal(1).scaleb(-(decimals + rng.randint(0, 3)))) if rng.random() < 0.3 else value


def _random_order(rng: random.Random) -> tuple[dict[str, Any], dict[str, Any]]:
    """(SDK OrderRequest, our order wire) for one random order."""
    asset = rng.randrange(len(COINS))
    coin, sz_dec = COINS[asset]
    is_buy, reduce_only = rng.random() < 0.5, rng.random() < 0.3
    size = _decimal(rng, 5, sz_dec)
    price = _decimal(rng, 6, max(0, 6 - sz_dec))
    cloid = f"0x{rng.getrandbits(128):032x}" if rng.random() < 0.5 else None
    if rng.random() < 0.3:
        trigger_px = _decimal(rng, 6, max(0, 6 - sz_dec))
        is_market, tpsl = rng.random() < 0.5, rng.choice(["tp", "sl"])
        sdk_type: dict[str, Any] = {"trigger": {"triggerPx": float(trigger_px), "isMarket": is_market, "tpsl": tpsl}}
        ours_type = hw.trigger_type(trigger_px, is_market=is_market, tpsl=tpsl)
    else:
        tif = rng.choice(["Gtc", "Ioc", "Alo"])
        sdk_type, ours_type = {"limit": {"tif": tif}}, hw.limit_type(tif)
    request = {"coin": coin, "is_buy": is_buy, "sz": float(size), "limit_px": float(price), "order_type": sdk_type,
               "reduce_only": reduce_only}
    if cloid is not None:
        request["cloid"] = Cloid(cloid)
    # our side may be handed the cloid in any case: it goes out lower-case
    ours_cloid = cloid.upper().replace("0X", "0x") if cloid and rng.random() < 0.3 else cloid
    ours = hw.order_wire(asset, is_buy, price, size, reduce_only=reduce_only, order_type=ours_type, cloid=ours_cloid)
    return request, ours


def _envelope(rng: random.Random) -> tuple[int, str | None, int | None, bool]:
    nonce = 1_700_000_000_000 + rng.randrange(10**9)
    vault = VAULT if rng.random() < 0.25 else None
    expires = nonce + rng.randrange(1, 120_000) if rng.random() < 0.25 else None
    return nonce, vault, expires, rng.random() < 0.5


def _check_l1(ours_action: dict[str, Any], sdk_body: dict[str, Any], nonce: int, vault: str | None,
              expires: int | None, mainnet: bool, signer: ha.HyperliquidSigner) -> None:
    sig = signer.sign_l1(ours_action, nonce, vault_address=vault, expires_after=expires, is_mainnet=mainnet)
    ours = hw.exchange_body(ours_action, nonce, sig, vault_address=vault, expires_after=expires)
    assert _dumps(ours) == _dumps(sdk_body)
    assert ha.recover_l1_signer(ours_action, nonce, sig, vault_address=vault, expires_after=expires,
                                is_mainnet=mainnet) == signer.address
    # a server that re-parses the posted body hashes the same bytes
    parsed = hc.parse_exchange_request(json.loads(_dumps(sdk_body)))
    assert parsed.action == ours_action


def test_random_order_actions(recorders, monkeypatch):
    rng = random.Random(20240601)
    signer = ha.HyperliquidSigner(KEY)
    seen: Counter[str] = Counter()
    for _ in range(N_ORDERS):
        nonce, vault, expires, mainnet = _envelope(rng)
        pairs = [_random_order(rng) for _ in range(rng.choice([1, 1, 1, 2, 3, 5]))]
        grouping = rng.choice(["na", "na", "normalTpsl", "positionTpsl"])
        builder = {"b": "0x8C967E73E6B15087C42A10D344CFF4C96D877F1D".lower(), "f": rng.randrange(0, 100)} \
            if rng.random() < 0.2 else None
        sdk_body = recorders[mainnet].call(monkeypatch, nonce, vault, expires, "bulk_orders", [p[0] for p in pairs],
                                           builder=dict(builder) if builder else None, grouping=grouping)
        ours = hw.order_action([p[1] for p in pairs], grouping=grouping,
                               builder=hw.builder_info(builder["b"], builder["f"]) if builder else None)
        _check_l1(ours, sdk_body, nonce, vault, expires, mainnet, signer)
        wires = ours["orders"]
        seen.update({"vault": vault is not None, "expires": expires is not None, "testnet": not mainnet,
                     "builder": builder is not None, "batch": len(wires) > 1,
                     "trigger": any("trigger" in w["t"] for w in wires), "cloid": any("c" in w for w in wires),
                     "reduce_only": any(w["r"] for w in wires), "ioc": any(w["t"].get("limit", {}).get("tif") == "Ioc" for w in wires),
                     "alo": any(w["t"].get("limit", {}).get("tif") == "Alo" for w in wires),
                     "fraction": any("." in w["p"] for w in wires), "sell": any(not w["b"] for w in wires)})
    # the random space was actually covered
    assert min(seen.values()) >= 15, seen


def test_random_other_l1_actions(recorders, monkeypatch):
    rng = random.Random(777)
    signer = ha.HyperliquidSigner(KEY)
    kinds = ["cancel", "cancel_by_cloid", "modify", "leverage", "margin", "schedule", "noop", "modify_single"]
    for i in range(N_OTHER):
        nonce, vault, expires, mainnet = _envelope(rng)
        rec = recorders[mainnet]
        kind = kinds[i % len(kinds)]
        if kind == "cancel":
            reqs = [(rng.randrange(len(COINS)), rng.randrange(1, 2**40)) for _ in range(rng.randint(1, 4))]
            sdk_body = rec.call(monkeypatch, nonce, vault, expires, "bulk_cancel",
                                [{"coin": COINS[a][0], "oid": o} for a, o in reqs])
            ours = hw.cancel_action(reqs)
        elif kind == "cancel_by_cloid":
            reqs2 = [(rng.randrange(len(COINS)), f"0x{rng.getrandbits(128):032x}") for _ in range(rng.randint(1, 4))]
            sdk_body = rec.call(monkeypatch, nonce, vault, expires, "bulk_cancel_by_cloid",
                                [{"coin": COINS[a][0], "cloid": Cloid(c)} for a, c in reqs2])
            ours = hw.cancel_by_cloid_action(reqs2)
        elif kind == "modify":
            mods = []
            sdk_mods = []
            for _ in range(rng.randint(1, 3)):
                request, wire = _random_order(rng)
                oid: int | str = rng.randrange(1, 2**40) if rng.random() < 0.5 else f"0x{rng.getrandbits(128):032x}"
                mods.append((oid, wire))
                sdk_mods.append({"oid": Cloid(oid) if isinstance(oid, str) else oid, "order": request})
            sdk_body = rec.call(monkeypatch, nonce, vault, expires, "bulk_modify_orders_new", sdk_mods)
            ours = hw.batch_modify_action(mods)
        elif kind == "leverage":
            asset, lev, cross = rng.randrange(len(COINS)), rng.randint(1, 50), rng.random() < 0.5
            sdk_body = rec.call(monkeypatch, nonce, vault, expires, "update_leverage", lev, COINS[asset][0], cross)
            ours = hw.update_leverage_action(asset, lev, is_cross=cross)
        elif kind == "margin":
            asset = rng.randrange(len(COINS))
            usdc = Decimal(rng.randrange(-10**9, 10**9)).scaleb(-rng.randint(0, 6))
            sdk_body = rec.call(monkeypatch, nonce, vault, expires, "update_isolated_margin", float(usdc), COINS[asset][0])
            ours = hw.update_isolated_margin_action(asset, hw.usd_to_ntli(usdc))
        elif kind == "schedule":
            when = nonce + rng.randrange(5_000, 10**7) if rng.random() < 0.6 else None
            sdk_body = rec.call(monkeypatch, nonce, vault, expires, "schedule_cancel", when)
            ours = hw.schedule_cancel_action(when)
        elif kind == "noop":
            sdk_body = rec.call(monkeypatch, nonce, vault, expires, "noop", nonce)
            ours = hw.noop_action()
        else:  # the SDK never sends "modify"; its signing function is the oracle
            request, wire = _random_order(rng)
            ours = hw.modify_action(rng.randrange(1, 2**40), wire)
            sdk_sig = sdk_signing.sign_l1_action(rec.ex.wallet, json.loads(_dumps(ours)), vault, nonce, expires, mainnet)
            sdk_body = {"action": ours, "nonce": nonce, "signature": sdk_sig, "vaultAddress": vault, "expiresAfter": expires}
        _check_l1(ours, sdk_body, nonce, vault, expires, mainnet, signer)


def test_random_user_signed_actions(recorders, monkeypatch):
    rng = random.Random(4242)
    signer = ha.HyperliquidSigner(KEY)
    agent = ha.HyperliquidSigner(AGENT_KEY)
    monkeypatch.setattr(sdk_exchange.secrets, "token_hex", lambda n: AGENT_KEY[2:])
    for i in range(N_USER):
        nonce, _, _, mainnet = _envelope(rng)
        rec = recorders[mainnet]
        kind = i % 5
        if kind == 0:
            name = rng.choice([None, "bot", "a" * 16, "x1"])
            sdk_body = rec.call(monkeypatch, nonce, None, None, "approve_agent", name)
            ours = signer.approve_agent(agent.address, nonce, agent_name=name, is_mainnet=mainnet)
        elif kind == 1:
            builder = f"0x{rng.getrandbits(160):040x}"
            rate = f"{rng.randrange(1, 100) / 1000}%"
            sdk_body = rec.call(monkeypatch, nonce, None, None, "approve_builder_fee", builder, rate)
            ours = signer.approve_builder_fee(builder, rate, nonce, is_mainnet=mainnet)
        elif kind in (2, 3):
            amount = float(Decimal(rng.randrange(1, 10**8)).scaleb(-rng.randint(0, 2)))
            to_perp = rng.random() < 0.5
            vault = VAULT if kind == 3 else None
            sdk_body = rec.call(monkeypatch, nonce, vault, None, "usd_class_transfer", amount, to_perp)
            ours = signer.usd_class_transfer(str(amount), to_perp, nonce, vault_address=vault, is_mainnet=mainnet)
        else:
            destination = f"0x{rng.getrandbits(160):040x}"
            amount = float(Decimal(rng.randrange(2, 10**7)).scaleb(-rng.randint(0, 2)))
            sdk_body = rec.call(monkeypatch, nonce, None, None, "withdraw_from_bridge", amount, destination)
            ours = signer.withdraw3(destination, str(amount), nonce, is_mainnet=mainnet)
        assert _dumps(ours) == _dumps(sdk_body)
        assert ha.recover_user_signed(ours["action"], ours["signature"]) == signer.address
        parsed = hc.parse_exchange_request(json.loads(_dumps(sdk_body)))
        assert ha.recover_user_signed(parsed.action, parsed.signature) == signer.address


def test_decimal_to_wire_agrees_with_float_to_wire():
    rng = random.Random(99)
    for _ in range(2000):
        value = _decimal(rng, 7, rng.randint(0, 8))
        assert hw.decimal_to_wire(value) == sdk_signing.float_to_wire(float(value))


def test_negative_zero_pitfall():
    # the SDK's guard compares with "-0" but sees "-0.00000000": it emits "-0" (a different
    # hash, and an unsettled server reading); we always emit "0", the Rust SDK's form
    assert sdk_signing.float_to_wire(-0.0) == "-0"
    assert hw.decimal_to_wire(Decimal("-0")) == "0"
    assert hw.decimal_to_wire(Decimal("-0.000")) == "0"
    assert hw.decimal_to_wire(Decimal("-0E+5")) == "0"
    with pytest.raises(hc.DeserializeError):
        hc.canonical_action({"type": "order", "orders": [{"a": 0, "b": True, "p": "-0", "s": "1", "r": False,
                                                         "t": {"limit": {"tif": "Gtc"}}}], "grouping": "na"})
