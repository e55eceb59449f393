"""The Hyperliquid paper server is as strict as the real one about what reaches it: plain-text
HTTP refusals, the canonical re-encoding before the signature is recovered, who may sign for
an account (agents, networks, deposits, vaults), expiry, and nonces per signer — with the
exact strings, HTTP 200 vs 4xx, and which refusals consume the nonce."""
from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

import pytest

from mpdex.evm import address_of
from mpdex.paper import PaperHyperliquid
from wrappers.hyperliquid_auth import HyperliquidSigner
from wrappers.hyperliquid_canonical import DESERIALIZE_ERROR
from wrappers.hyperliquid_wire import limit_type, noop_action, order_action, order_wire

from .conftest import BTC, HlClient, now_ms

ERR = "err"


def _order(px: str = "90000", sz: str = "0.001", tif: str = "Gtc", cloid: str | None = None) -> dict[str, Any]:
    return order_action([order_wire(BTC, True, Decimal(px), Decimal(sz), order_type=limit_type(tif),  # type: ignore[arg-type]
                                    cloid=cloid)])


def _err(text: str) -> dict[str, str]:
    return {"status": ERR, "response": text}


# --- HTTP-level refusals: plain text, not HTTP 200 ----------------------------------------------


async def test_content_type_json_and_schema_refusals_are_plain_text(client: HlClient) -> None:
    assert await client.post("/info", data=b'{"type":"allMids"}', headers={"Content-Type": "text/plain"}) == (
        415, "Expected request with `Content-Type: application/json`")
    json_type = {"Content-Type": "application/json"}
    assert await client.post("/info", data=b'{"type":', headers=json_type) == (400, "Failed to parse the request body as JSON")
    status, mids = await client.post("/info", data=b'{"type":"allMids"} trailing garbage', headers=json_type)
    assert status == 200 and set(mids) == set(client.paper.markets)  # the first JSON value counts
    status, mids = await client.post("/info", data=b'{"type":"allMids"}', headers={"Content-Type": "application/vnd+json"})
    assert status == 200
    assert await client.post("/info", {"type": "noSuchType"}) == (422, DESERIALIZE_ERROR)
    assert await client.post("/info", {"type": "clearinghouseState", "user": "0x1234"}) == (422, DESERIALIZE_ERROR)
    assert await client.post("/info", {"type": "allMids", "unknownField": 1}) == (200, await client.info("allMids"))

    good = client.signed(_order())
    for mutate in (
        lambda b: b.update(extra=1),  # unknown envelope key
        lambda b: b["action"]["orders"][0].update(p=90000),  # a number where a decimal string is required
        lambda b: b["action"]["orders"][0].update(s="0.000000001"),  # a non-zero 9th decimal
        lambda b: b["action"]["orders"][0].update(c="0x1234"),  # a cloid of the wrong length
        lambda b: b["action"]["orders"][0].update(p="9e4"),  # an exponent
        lambda b: b["action"].update(type="teleport"),  # unknown action type
        lambda b: b["action"]["orders"][0].update(x=True),  # unknown order key
    ):
        body = client.signed(_order())
        mutate(body)
        assert await client.post("/exchange", body) == (422, DESERIALIZE_ERROR)
    assert (await client.post("/exchange", good))[0] == 200  # none of them consumed its nonce


async def test_the_server_hashes_its_canonical_re_encoding(client: HlClient) -> None:
    """Padding zeros, reordered keys and an upper-case cloid still recover the signer, as the
    server re-encodes before hashing; a hand-built non-canonical action signed as posted does not."""
    cloid = "0x" + "ab" * 16
    body = client.signed(_order("90000", "0.001", cloid=cloid))
    o = body["action"]["orders"][0]
    body["action"]["orders"][0] = {"t": o["t"], "s": "0.00100000", "r": False, "p": "90000.0000", "b": True,
                                   "a": 0, "c": cloid.upper().replace("0X", "0x")}
    body["action"] = {"grouping": "na", "orders": body["action"]["orders"], "type": "order"}
    assert await client.post("/exchange", body) == (200, {"status": "ok", "response": {"type": "order", "data": {
        "statuses": [{"resting": {"oid": 1, "cloid": cloid}}]}}})


async def test_an_unknown_signer_is_named_by_the_address_the_server_recovered(client: HlClient) -> None:
    stranger = HyperliquidSigner("0x" + secrets.token_hex(32))
    assert await client.act(_order(), signer=stranger) == _err(
        f"L1 error: User or API Wallet {stranger.address.lower()} does not exist.")
    body = client.signed(_order("90000"))
    body["action"]["orders"][0]["p"] = "90001"  # not what was signed: recovers to some other address
    status, answer = await client.post("/exchange", body)
    assert status == 200 and answer["status"] == ERR
    assert answer["response"].startswith("L1 error: User or API Wallet 0x") and answer["response"].endswith(" does not exist.")
    assert client.agent is not None and client.agent.address.lower() not in answer["response"]
    zero = client.signed(_order())
    zero["signature"] = {"r": "0x0", "s": "0x0", "v": 27}
    assert await client.post("/exchange", zero) == (200, _err("Unable to recover signer."))
    # none of these consumed the nonce of the real signer
    assert client.agent is not None and client.paper.store.nonces(client.agent.address) == []


async def test_signatures_of_the_other_network_are_refused(client: HlClient) -> None:
    assert client.paper.network == "testnet"
    assert await client.act(_order(), is_mainnet=True) == _err("Mainnet and testnet require different signature.")
    assert (await client.act(_order()))["status"] == "ok"


async def test_a_mainnet_server_verifies_mainnet_signatures_and_says_so_in_its_keys(session: Any) -> None:
    async with PaperHyperliquid(network="mainnet", tick_interval=None, auto_funding=False) as paper:
        key = await paper.create_account(usdc=1000)
        assert paper.account_fields(key)["network"] == "mainnet"
        c = HlClient(paper, session, key)
        assert (await c.act(_order()))["status"] == "ok"
        assert await c.act(_order(), is_mainnet=False) == _err("Mainnet and testnet require different signature.")
    with pytest.raises(ValueError, match="network"):
        PaperHyperliquid(network="devnet")


async def test_an_account_without_a_deposit_must_deposit_first(paper: PaperHyperliquid, session: Any) -> None:
    key = await paper.create_account(usdc=0)
    fields = paper.account_fields(key)
    assert fields["by_agent"] is False and fields["agent_api_private_key"] is None  # approvals need a deposit too
    c = HlClient(paper, session, key)
    user = fields["wallet_address"].lower()
    assert await c.act(_order()) == _err(f"Must deposit before performing actions. User: {user}")
    status, answer = await c.post("/exchange", c.wallet.approve_agent(address_of("0x" + "11" * 32), c.nonce(),
                                                                        is_mainnet=False))
    assert answer == _err(f"Must deposit before performing actions. User: {user}")
    paper.deposit(key, 50)
    assert (await c.act(_order("90000", "0.0001")))["status"] == "ok"


async def test_vaults_are_not_modelled_and_the_refusal_consumes_the_nonce(client: HlClient) -> None:
    vault = "0x1719884eb866cb12b2287399b15f7db5e7d775ea"
    body = client.signed(_order(), vault=vault)
    assert await client.post("/exchange", body) == (200, _err(f"Vault not registered: {vault}"))
    assert (await client.post("/exchange", body))[1] == _err(f"Invalid nonce: duplicate nonce {body['nonce']}")


async def test_expired_actions_are_refused_consume_the_nonce_and_cost_five_requests(client: HlClient) -> None:
    used = (await client.info("userRateLimit", user=client.user))["nRequestsUsed"]
    assert used == 1  # the approveAgent create_account sent
    body = client.signed(_order(), expires=now_ms() - 1)
    assert await client.post("/exchange", body) == (200, _err("Action already expired"))
    assert (await client.post("/exchange", body))[1] == _err(f"Invalid nonce: duplicate nonce {body['nonce']}")
    assert (await client.info("userRateLimit", user=client.user))["nRequestsUsed"] == used + 5
    assert (await client.act(_order(), expires=now_ms() + 60_000))["status"] == "ok"


# --- agents and user-signed actions ------------------------------------------------------------


async def test_approve_agent_rules(client: HlClient) -> None:
    wallet, old_agent = client.wallet, client.agent
    assert old_agent is not None
    new_pk = "0x" + secrets.token_hex(32)
    approve = wallet.approve_agent(address_of(new_pk), client.nonce(), is_mainnet=False)
    assert await client.post("/exchange", approve) == (200, {"status": "ok", "response": {"type": "default"}})
    # the new unnamed agent replaced the old one
    assert await client.act(_order(), signer=old_agent) == _err(
        f"L1 error: User or API Wallet {old_agent.address.lower()} does not exist.")
    assert (await client.act(_order(), signer=HyperliquidSigner(new_pk)))["status"] == "ok"

    def named(name: str, **kw: Any) -> dict[str, Any]:
        return wallet.approve_agent(address_of("0x" + secrets.token_hex(32)), client.nonce(), agent_name=name,
                                    is_mainnet=False, **kw)

    for name in ("a", "b", "c"):
        assert (await client.post("/exchange", named(name)))[1]["status"] == "ok"
    assert (await client.post("/exchange", named("d")))[1] == _err("Too many named API wallets.")
    assert (await client.post("/exchange", named("a")))[1]["status"] == "ok"  # a name approved again: replaced
    agents = await client.info("extraAgents", user=client.user)
    assert sorted(a["name"] for a in agents) == ["a", "b", "c"] and all(a["validUntil"] > now_ms() for a in agents)
    assert (await client.post("/exchange", named("x" * 16)))[1] == _err("Too many named API wallets.")
    for bad in ("x" * 17, ""):  # signed as posted (the builder refuses such names)
        body = named("y")
        body["action"]["agentName"] = bad
        body["signature"] = wallet.sign_user_signed(body["action"])
        assert (await client.post("/exchange", body))[1] == _err("Agent name must be 1 to 16 characters.")


async def test_user_signed_envelope_rules(client: HlClient) -> None:
    wallet = client.wallet
    agent_addr = address_of("0x" + secrets.token_hex(32))
    n = client.nonce()
    mainnet = wallet.approve_agent(agent_addr, n, is_mainnet=True)
    assert (await client.post("/exchange", mainnet))[1] == _err("Mainnet and testnet require different signature.")
    mismatch = wallet.approve_agent(agent_addr, n, is_mainnet=False)
    mismatch["nonce"] = n + 1
    assert (await client.post("/exchange", mismatch))[1] == _err("Nonce mismatch.")
    assert client.agent is not None
    by_agent = client.agent.approve_agent(agent_addr, client.nonce(), is_mainnet=False)
    assert (await client.post("/exchange", by_agent))[1] == _err(
        f"Must deposit before performing actions. User: {client.agent.address.lower()}")
    transfer = wallet.usd_class_transfer("1", False, client.nonce(), is_mainnet=False)
    assert (await client.post("/exchange", transfer))[1] == _err("usdClassTransfer is not supported by the paper exchange.")
    assert (await client.post("/exchange", transfer))[1]["response"].startswith("Invalid nonce: duplicate nonce")


# --- nonces ---------------------------------------------------------------------------------------


async def test_nonce_window_and_strings(session: Any) -> None:
    t = 1_800_000_000_000
    async with PaperHyperliquid(tick_interval=None, auto_funding=False, clock_ms=lambda: t) as paper:
        c = HlClient(paper, session, await paper.create_account(usdc=1000))
        day = 86_400_000
        assert await c.act(noop_action(), nonce=t - 2 * day) == _err(
            f"Invalid nonce: nonce too low {t - 2 * day} < {t - 2 * day + 1}")
        assert await c.act(noop_action(), nonce=t + day) == _err(f"Invalid nonce: nonce too high {t + day} > {t + day - 1}")
        assert (await c.act(noop_action(), nonce=t - 2 * day + 1))["status"] == "ok"
        assert (await c.act(noop_action(), nonce=t + day - 1))["status"] == "ok"
        # unused nonces need not increase while fewer than 100 are kept
        assert (await c.act(noop_action(), nonce=t - day))["status"] == "ok"
        assert await c.act(noop_action(), nonce=t - day) == _err(f"Invalid nonce: duplicate nonce {t - day}")
        for k in range(97):
            assert (await c.act(noop_action(), nonce=t + k))["status"] == "ok"
        kept = paper.store.nonces(c.agent.address)  # type: ignore[union-attr]
        assert len(kept) == 100 and kept[-1] == t - 2 * day + 1
        assert (await c.act(noop_action(), nonce=t + 500))["status"] == "ok"  # the 101st: the smallest drops out
        floor = t - day
        assert await c.act(noop_action(), nonce=floor - 5) == _err(f"Invalid nonce: nonce too low {floor - 5} < {floor + 1}")
        assert await c.act(noop_action(), nonce=t - 2 * day + 1) == _err(
            f"Invalid nonce: nonce too low {t - 2 * day + 1} < {floor + 1}")  # forgotten: now below the kept set
        # nonces are per signer: the wallet key has its own set
        assert (await c.act(noop_action(), nonce=t + 3, signer=c.wallet))["status"] == "ok"


async def test_business_refusals_consume_the_nonce_signature_and_nonce_errors_do_not(client: HlClient) -> None:
    below_min = client.signed(_order("90000", "0.0001"))  # $9 < $10
    assert (await client.post("/exchange", below_min))[1]["response"]["data"]["statuses"] == [
        {"error": "Order must have minimum value of $10. asset=0"}]
    assert (await client.post("/exchange", below_min))[1] == _err(f"Invalid nonce: duplicate nonce {below_min['nonce']}")

    n = client.nonce()
    tampered = client.signed(_order("90000"), nonce=n)
    tampered["action"]["orders"][0]["s"] = "0.002"
    assert (await client.post("/exchange", tampered))[1]["response"].startswith("L1 error: User or API Wallet")
    assert (await client.act(_order("90000"), nonce=n))["status"] == "ok"  # the bad signature did not use n
    assert client.paper.stats["orders_accepted"] == 1
