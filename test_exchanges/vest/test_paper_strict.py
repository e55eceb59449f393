"""The paper server is as strict as Vest: every rule rejects what it should, with the
documented code and error-body style, and accepts the valid form."""
from __future__ import annotations

import aiohttp

from mpdex.paper import PaperVest
from test_exchanges.paper_helpers import RawClient, fresh_nonce, now_ms
from wrappers.vest_auth import VestSigner, address_of, sign_register

pytest_plugins = ("test_exchanges.paper_helpers",)


def detail(body: dict, code: int) -> None:
    assert body == {"detail": {"code": code, "msg": body["detail"]["msg"]}}, body


def detail400(status: int, body: dict, code: int) -> None:
    """The order-level refusals a live-tested connector read as ``error.detail.msg``."""
    assert status == 400, (status, body)
    detail(body, code)


def plain(body: dict, code: int) -> None:
    assert set(body) == {"code", "msg"} and body["code"] == code, body


async def test_valid_order_is_accepted_with_a_64_hex_id(client: RawClient) -> None:
    status, body = await client.place()
    assert status == 200 and set(body) == {"id"}
    assert body["id"].startswith("0x") and len(body["id"]) == 66
    int(body["id"], 16)


async def test_tampered_and_foreign_signatures_get_1022(client: RawClient) -> None:
    body = client.order()
    body["order"]["size"] = "0.0200"  # signed 0.0100
    status, resp = await client.post("/orders", body)
    assert status == 401
    detail(resp, 1022)
    foreign = client.order(signer=VestSigner("0x" + "11" * 32))
    status, resp = await client.post("/orders", foreign)
    assert status == 401
    detail(resp, 1022)
    bad = client.order()
    bad["signature"] = bad["signature"][2:]  # must start with 0x
    status, resp = await client.post("/orders", bad)
    detail(resp, 1022)
    assert (await client.get("/orders"))[1] == []  # nothing stored


async def test_unknown_api_key_gets_1002(client: RawClient) -> None:
    status, body = await client.get("/account", headers={**client.headers, "X-API-KEY": "nope"})
    assert status == 401
    detail(body, 1002)
    status, body = await client.get("/account", headers={"xrestservermm": client.headers["xrestservermm"]})
    detail(body, 1002)


async def test_account_group_header(client: RawClient) -> None:
    assert client.key.account_group == 1  # first account: 1 % 3, so hard-coded 0 is caught
    for header in ("restserver0", "restserver2", "garbage"):
        status, body = await client.get("/account", headers={**client.headers, "xrestservermm": header})
        assert status == 403
        detail(body, 1146)
    # missing on a private call: accepted, the API key identifies the account
    assert (await client.get("/account", headers={"X-API-KEY": client.key.api_key}))[0] == 200
    assert (await client.get("/account"))[0] == 200
    # public: missing is fine, malformed or non-existent group is not
    assert (await client.get("/ticker/latest", headers={}))[0] == 200
    assert (await client.get("/ticker/latest", headers={"xrestservermm": "restserver0"}))[0] == 200
    status, body = await client.get("/ticker/latest", headers={"xrestservermm": "restserver"})
    detail(body, 1146)
    status, body = await client.get("/ticker/latest", headers={"xrestservermm": "restserver9"})
    detail(body, 1146)


async def test_recv_window(client: RawClient) -> None:
    status, body = await client.place(t=now_ms() - 6000)
    assert status == 400
    plain(body, 1132)
    status, body = await client.place(t=now_ms() - 6000, recv_window=10_000)
    assert status == 200, body
    status, body = await client.place(t=now_ms() + 5000)
    plain(body, 1131)
    status, body = await client.place(recv_window=0)
    plain(body, 1131)
    status, body = await client.place(recv_window=None)  # default 5000
    assert status == 200


async def test_decimals(client: RawClient) -> None:
    status, body = await client.place(size="0.00001")
    assert status == 400
    plain(body, 1111)
    status, body = await client.place(limit_price="200000.05")
    plain(body, 1111)
    status, body = await client.place(size="1e-2")
    plain(body, 1130)
    status, body = await client.place(size="0.01", limit_price="200000")  # fewer decimals are fine
    assert status == 200, body
    row = await client.order_by_id(body["id"])
    assert row["size"] == "0.01" and row["limitPrice"] == "200000"  # echoed exactly as signed


async def test_unknown_symbol_styles(client: RawClient) -> None:
    status, body = await client.place(symbol="FOO-PERP")
    assert status == 400
    plain(body, 1121)
    status, body = await client.get("/depth", params={"symbol": "FOO-PERP"})
    assert (status, body) == (200, {"code": 1121, "msg": "unknown symbol"})
    status, body = await client.get("/ticker/latest", params={"symbols": "BTC-PERP,FOO-PERP"})
    assert (status, body) == (200, {"code": 1121, "msg": "unknown symbol"})
    status, body = await client.get("/depth")
    assert status == 400
    plain(body, 1130)


async def test_repeated_nonce_and_rejections_consume_no_nonce(client: RawClient) -> None:
    nonce = fresh_nonce()
    status, body = await client.place(nonce=nonce, size="0.00001")  # 1111: rejected, nonce unused
    assert status == 400
    assert (await client.get("/account/nonce"))[1] == {"lastNonce": 0}
    status, first = await client.place(nonce=nonce)
    assert status == 200
    status, body = await client.place(nonce=nonce, size="0.0200")
    assert status == 400
    plain(body, 3015)
    assert (await client.get("/account/nonce"))[1] == {"lastNonce": nonce}
    orders = (await client.get("/orders"))[1]
    assert [o["id"] for o in orders] == [first["id"]]


async def test_reduce_only(client: RawClient) -> None:
    status, body = await client.place(is_buy=False, reduce_only=True, limit_price="1.0")
    detail400(status, body, 3018)  # flat: anything reduce-only would open
    assert (await client.place(size="0.0100"))[0] == 200  # long 0.01
    status, body = await client.place(is_buy=True, reduce_only=True)
    detail400(status, body, 3018)
    status, body = await client.place(is_buy=False, size="0.0200", reduce_only=True, limit_price="1.0")
    plain(body, 3019)
    status, body = await client.place(is_buy=False, size="0.0100", reduce_only=True, limit_price="1.0")
    assert status == 200, body
    assert await client.position("BTC-PERP") is None


async def test_margin_check(client: RawClient) -> None:
    # 10 000 USDC at 10x carries about 100 000 of notional: 2 BTC (~194 000) is too much
    status, body = await client.place(size="2.0000")
    assert status == 400
    plain(body, 3002)
    status, body = await client.place(size="0.5000", order_type="LIMIT", limit_price="90000.0")
    assert status == 200  # 45 000 / 10 reserved
    status, body = await client.place(size="0.6000")
    plain(body, 3002)  # the resting order's reservation counts
    assert (await client.post("/account/leverage", {"time": now_ms(), "symbol": "BTC-PERP", "value": 50}))[0] == 200
    status, body = await client.place(size="0.6000")
    assert status == 200, body


async def test_market_order_limit_price_breach(client: RawClient, paper: PaperVest) -> None:
    paper.set_price("BTC-PERP", "97000.0")
    ask, _ = (await client.get("/depth", params={"symbol": "BTC-PERP", "limit": 1}))[1]["asks"][0]
    status, body = await client.place(limit_price="97000.0")  # best ask is above the mark
    assert status == 400
    plain(body, 3001)
    status, body = await client.place(limit_price=ask)
    assert status == 200
    # sells: the bid must not be below the limit
    status, body = await client.place(is_buy=False, size="0.0100", limit_price="97000.0")
    plain(body, 3001)


async def test_leverage_rules(client: RawClient) -> None:
    ok = await client.post("/account/leverage", {"time": now_ms(), "symbol": "BTC-PERP", "value": 50})
    assert ok == (200, {"symbol": "BTC-PERP", "value": 50})
    status, body = await client.post("/account/leverage", {"time": now_ms(), "symbol": "BTC-PERP", "value": 51})
    detail400(status, body, 1130)
    assert "maximum of 50" in body["detail"]["msg"]
    status, body = await client.post("/account/leverage", {"time": now_ms(), "symbol": "AAPL-USD-PERP", "value": 11})
    detail400(status, body, 1130)
    status, body = await client.post("/account/leverage", {"time": now_ms(), "symbol": "BTC-PERP", "value": 0})
    plain(body, 1130)  # malformed, not above the maximum: the docs' style
    status, body = await client.post("/account/leverage", {"time": now_ms(), "symbol": "FOO-PERP", "value": 2})
    plain(body, 1121)
    acc = await client.account()
    assert {"symbol": "BTC-PERP", "value": 50} in acc["leverages"]
    # a 50x position cannot drop to 1x on 10 000 USDC
    assert (await client.place(size="1.0000"))[0] == 200
    status, body = await client.post("/account/leverage", {"time": now_ms(), "symbol": "BTC-PERP", "value": 1})
    plain(body, 3021)


async def test_order_type_and_time_in_force(client: RawClient) -> None:
    plain((await client.place(order_type="STOP_LOSS"))[1], 1116)
    plain((await client.place(order_type="LIMIT", limit_price="90000.0", tif="IOC"))[1], 1133)
    plain((await client.place(tif="FOK"))[1], 1133)  # MARKET takes no FOK
    assert (await client.place(tif="GTC"))[0] == 200  # what live clients send on MARKET


async def test_listen_key_life_cycle(client: RawClient, paper: PaperVest) -> None:
    status, body = await client.request("PUT", "/account/listenKey")
    assert status == 400
    assert body == {"code": 1125, "msg": "Listen key expired. Make a POST request to create a new key."}
    first = (await client.post("/account/listenKey"))[1]["listenKey"]
    assert (await client.post("/account/listenKey"))[1] == {"listenKey": first}  # same key, extended
    assert (await client.request("PUT", "/account/listenKey"))[1] == {"listenKey": first}
    paper.expire_listen_keys()
    plain((await client.request("PUT", "/account/listenKey"))[1], 1125)
    second = (await client.post("/account/listenKey"))[1]["listenKey"]
    assert second != first
    assert await client.request("DELETE", "/account/listenKey") == (200, {})
    plain((await client.request("PUT", "/account/listenKey"))[1], 1125)


async def test_register_verifies_the_signer_proof(paper: PaperVest, session: aiohttp.ClientSession) -> None:
    primary = "0x" + "a1" * 32
    signing = address_of("0x" + "b2" * 32)
    expiry = now_ms() + 86_400_000
    body = {
        "signingAddr": signing.lower(),
        "primaryAddr": address_of(primary).lower(),
        "signature": sign_register(primary, signing, expiry, "dev"),
        "expiryTime": expiry,
        "networkType": 0,
    }
    url = paper.rest_url + "/register"
    async with session.post(url, json={**body, "signature": sign_register(primary, signing, expiry, "prod")}) as r:
        assert r.status == 401
        detail(await r.json(), 1022)  # signed for the other network's contract
    async with session.post(url, json={**body, "expiryTime": expiry + 1}) as r:
        detail(await r.json(), 1022)
    async with session.post(url, json={**body, "networkType": 1}) as r:
        assert r.status == 400
        plain(await r.json(), 1024)
    async with session.post(url, json=body) as r:
        assert r.status == 200
        reg = await r.json()
    assert set(reg) == {"apiKey", "accGroup"} and isinstance(reg["accGroup"], int)


async def test_expired_signer_cannot_sign_but_can_read(session: aiohttp.ClientSession) -> None:
    clock = [now_ms()]
    async with PaperVest(tick_interval=None, auto_funding=False, clock_ms=lambda: clock[0]) as paper:
        key = await paper.create_account(usdc=1000, expiry_days=1)
        c = RawClient(key, session)
        assert (await c.place(t=clock[0], size="0.0010"))[0] == 200
        clock[0] += 2 * 86_400_000
        status, body = await c.place(t=clock[0], size="0.0010")
        assert status == 401
        detail(body, 1022)
        assert "expired" in body["detail"]["msg"]
        assert (await c.get("/account"))[0] == 200


async def test_cancel_rules(client: RawClient) -> None:
    status, placed = await client.place(order_type="LIMIT", limit_price="50000.0")
    assert status == 200
    body = client.cancel(placed["id"])
    body["signature"] = client.order()["signature"]  # a signature over something else
    detail((await client.post("/orders/cancel", body))[1], 1022)
    detail400(*await client.post("/orders/cancel", client.cancel("0x" + "00" * 32)), 3017)
    assert await client.post("/orders/cancel", client.cancel(placed["id"])) == (200, {"id": placed["id"]})
    detail400(*await client.post("/orders/cancel", client.cancel(placed["id"])), 3017)  # no longer open
    _, filled = await client.place(size="0.0010")
    detail400(*await client.post("/orders/cancel", client.cancel(filled["id"])), 3017)  # already filled
    assert (await client.order_by_id(placed["id"]))["status"] == "CANCELLED"


async def test_unknown_path_is_fastapi_404(client: RawClient) -> None:
    assert await client.get("/orders/open") == (404, {"detail": "Not Found"})


async def test_halted_market_refuses_orders(client: RawClient, paper: PaperVest) -> None:
    paper.set_market_status("AAPL-USD-PERP", "HALT")
    status, body = await client.place(symbol="AAPL-USD-PERP", size="1.00", limit_price="300.00")
    assert status == 400
    plain(body, 1148)
    ticker = (await client.get("/ticker/latest", params={"symbols": "AAPL-USD-PERP"}))[1]["tickers"][0]
    assert ticker["status"] == "HALT"
    paper.set_market_status("AAPL-USD-PERP", "TRADING")
    assert (await client.place(symbol="AAPL-USD-PERP", size="1.00", limit_price="300.00"))[0] == 200


async def test_a_client_that_never_sends_the_group_header_trades(client: RawClient, paper: PaperVest,
                                                                 session: aiohttp.ClientSession) -> None:
    """A live-tested connector sends only X-API-KEY on private calls; the paper accepts it,
    and a wrong group still fails at once."""
    bare = RawClient(client.key, session)
    bare.headers = {"X-API-KEY": client.key.api_key}
    assert (await bare.post("/account/leverage", {"time": now_ms(), "symbol": "BTC-PERP", "value": 5}))[0] == 200
    status, placed = await bare.place(order_type="LIMIT", limit_price="50000.0")
    assert status == 200, placed
    assert (await bare.order_by_id(placed["id"]))["status"] == "NEW"
    assert (await bare.post("/orders/cancel", bare.cancel(placed["id"])))[0] == 200
    assert (await bare.post("/account/listenKey"))[0] == 200
    assert (await bare.get("/account/nonce"))[0] == 200
    assert paper.stats["group_header_missing"] == 6
    wrong = {"X-API-KEY": client.key.api_key, "xrestservermm": "restserver0"}
    status, body = await bare.post("/orders", bare.order(order_type="LIMIT", limit_price="50000.0"), headers=wrong)
    assert status == 403
    detail(body, 1146)


async def test_a_client_that_registers_itself_gets_register_usdc_once(session: aiohttp.ClientSession) -> None:
    from wrappers.vest_auth import build_register_body
    from wrappers.vest_keys import make_vest_key

    async with PaperVest(tick_interval=None, auto_funding=False, register_usdc="2500") as paper:
        primary, signing = "0x" + "a7" * 32, "0x" + "b8" * 32
        for expected_total in ("2500.000000", "2500.000000"):  # a second signer adds no money
            body = build_register_body(primary, address_of(signing), now_ms() + 86_400_000, "dev")
            async with session.post(paper.rest_url + "/register", json=body) as r:
                reg = await r.json()
            key = make_vest_key(api_key=reg["apiKey"], signing_private_key=signing, primary_address=address_of(primary),
                                account_group=reg["accGroup"], network="dev", rest_url=paper.rest_url, ws_url=paper.ws_url)
            assert (await RawClient(key, session).account())["collateral"] == expected_total
        made = await paper.create_account(usdc=100)  # the venue's own accounts get what they ask for
        assert (await RawClient(made, session).account())["collateral"] == "100.000000"


async def test_absurd_amounts_are_refused_with_a_vest_code_never_a_500(client: RawClient, paper: PaperVest) -> None:
    e20 = "100000000000000000000.0000"  # 1e20 BTC: no account can carry it
    status, body = await client.place(size=e20, order_type="LIMIT", limit_price="90000.0")  # was HTTP 500
    assert status == 400
    plain(body, 3002)
    plain((await client.place(size=e20))[1], 3001)  # MARKET: the book cannot cover it
    status, body = await client.place(is_buy=False, size="0.0100", order_type="LIMIT",
                                      limit_price="100000000000000000.0")  # 1e17: was HTTP 500
    plain(body, 3002)
    status, body = await client.place(size="9" * 24 + ".9999", order_type="LIMIT", limit_price="9" * 24 + ".9")
    plain(body, 3002)  # the widest accepted shape still gets an exact margin check
    for size, price in (("1" + "0" * 24 + ".0000", "90000.0"), ("0.0100", "1" + "0" * 28 + ".0")):
        status, body = await client.place(size=size, order_type="LIMIT", limit_price=price)
        assert status == 400 and "out of range" in body["msg"]
        plain(body, 1130)  # more than 24 integer digits: not a quantity on any market
    status, body = await client.place(size=e20, order_type="LIMIT", limit_price="90000.0", tif="FOK")
    assert status == 200 and (await client.order_by_id(body["id"]))["status"] == "CANCELLED"  # a FOK miss
    assert (await client.place(size="0.0100"))[0] == 200
    status, body = await client.place(is_buy=False, size=e20, reduce_only=True, limit_price="1.0")
    plain(body, 3019)  # larger than any position
    assert (await client.position("BTC-PERP"))["size"] == "0.0100"

    plain((await client.place(nonce=2**63))[1], 1023)  # not an int64: refused, not a 500
    _, resting = await client.place(nonce=2**63 - 1, order_type="LIMIT", limit_price="50000.0")
    plain((await client.post("/orders/cancel", client.cancel(resting["id"], nonce=2**63)))[1], 1023)
    assert (await client.post("/orders/cancel", client.cancel(resting["id"])))[0] == 200
    status, body = await client.get("/orders", params={"startTime": str(10**30)})
    assert status == 400
    plain(body, 1130)
    assert (await client.get("/account/nonce"))[1] == {"lastNonce": 2**63 - 1}
