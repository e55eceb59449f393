"""The harness serves any dialect: a small second dialect (one JSON endpoint, HTTP-200 error
strings, integer order ids, its own nonce table, IOC and shrink rules, a greeting on its
socket, its own funding model) built only from the core's extension points, running next to
the Vest dialect in one process."""
from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from mpdex.paper import PaperVest
from mpdex.paper.harness import PaperVenue, WireError, json_response
from mpdex.paper.ledger import Schema
from mpdex.paper.markets import Market
from mpdex.paper.prices import Trade
from mpdex.paper.rules import OrderRequest, Refused, Rules, TimeInForce
from mpdex.paper.simulator import Listener, Simulator
from mpdex.paper.sockets import Conn, SocketHub

COIN = Market("COIN", "COIN", 2, 2, D("0.05"), D("0.025"), D("0.0005"), "crypto", D("100.00"),
              maker_fee=D("0.0001"), min_notional=D("10"), price_sig_figs=5)


class FlatFunding(Simulator):
    def funding_rate(self, symbol: str) -> D:
        return D("0.0001")


class DemoHub(SocketHub):
    def on_open(self, conn: Conn) -> None:
        self.send(conn, "Websocket connection established.")

    async def on_text(self, conn: Conn, text: str) -> None:
        msg = orjson.loads(text)
        key = f"{msg['subscription']['type']}:{msg['subscription']['coin']}"
        self.subscribe(conn, [key])
        self.send_json(conn, {"channel": "subscriptionResponse", "data": msg})


class DemoListener(Listener):
    def __init__(self, hub: DemoHub) -> None:
        self.hub = hub

    def traded(self, symbol: str, trade: Trade) -> None:
        frame = {"channel": "trades", "data": [{"coin": symbol, "px": str(trade.price), "sz": str(abs(trade.qty))}]}
        self.hub.publish(f"trades:{symbol}", orjson.dumps(frame).decode())


class Demo(PaperVenue):
    NAME = "demo"
    SIMULATOR = FlatFunding
    RULES = Rules(reduce_only="shrink", market_orders="ioc", failed_resting_status="CANCELLED",
                  funding_price="index", funding_settlement="each_event", default_leverage=20)
    MARKETS = (COIN,)
    SCHEMA = Schema("demo", "1", "CREATE TABLE IF NOT EXISTS demo_nonces (signer TEXT, nonce INTEGER)")
    SOCKET_PATHS = ("/ws",)

    def make_hub(self) -> SocketHub:
        return DemoHub(self.faults, self.stats)

    def make_listener(self) -> Listener:
        hub = self.hub
        assert isinstance(hub, DemoHub)
        return DemoListener(hub)

    def build_routes(self, app: web.Application) -> None:
        app.router.add_post("/exchange", self.exchange)
        app.router.add_get("/ws", self.hub.handle)

    async def exchange(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if "order" not in body:
            raise WireError(422, "Failed to deserialize the JSON body into the target type", text=True)
        o = body["order"]
        account, _ = self.sim.open_account(body["user"])
        req = OrderRequest(account.id, "COIN", o["b"], o["s"], o["p"], tif=TimeInForce(o["tif"]),
                           reduce_only=o.get("r", False), client_id=o.get("c"))
        with self.ledger.transaction():  # the nonce is consumed even if the order is refused
            oid = self.ledger.next_sequence("oid")
            self.ledger.execute("INSERT INTO demo_nonces VALUES (?, ?)", (body["user"], body["nonce"]))
        try:
            placed = self.sim.place(req, str(oid))
        except Refused as exc:
            return json_response({"status": "ok", "response": {"data": {"statuses": [{"error": exc.reason.value}]}}})
        self.lose_response(request, f"order {oid}")
        return json_response({"status": "ok", "response": {"data": {"statuses": [
            {"filled": {"totalSz": str(placed.filled), "oid": int(placed.id)}} if placed.filled else {"resting": {"oid": oid}}
        ]}}})

    async def create_account(self, usdc: Any = 10_000) -> dict[str, Any]:
        account, _ = self.sim.open_account("0x" + "ab" * 20)
        self.deposit_account(account.id, usdc)
        return {"user": account.address}

    async def default_account(self, usdc: Any = 10_000) -> dict[str, Any]:
        return await self.create_account(usdc)

    def account_fields(self, key: Any) -> dict[str, Any]:
        return dict(key)


async def test_a_second_dialect_runs_on_the_core_next_to_vest(tmp_path) -> None:
    db = str(tmp_path / "demo.sqlite3")
    async with Demo(db_path=db, seed=4, tick_interval=None, auto_funding=False) as demo, \
            PaperVest(seed=4, tick_interval=None, auto_funding=False) as vest, aiohttp.ClientSession() as s:
        user = (await demo.create_account())["user"]
        url = demo.base_url

        async def post(order: dict[str, Any], nonce: int) -> tuple[int, Any]:
            async with s.post(url + "/exchange", json={"user": user, "nonce": nonce, "order": order}) as r:
                return r.status, await r.json(content_type=None)

        async with s.ws_connect(url + "/ws") as ws:
            assert (await ws.receive(timeout=2)).data == "Websocket connection established."
            await ws.send_json({"method": "subscribe", "subscription": {"type": "trades", "coin": "COIN"}})
            assert (await ws.receive_json(timeout=2))["channel"] == "subscriptionResponse"
            status, body = await post({"b": True, "s": "1.00", "p": "101.00", "tif": "IOC", "c": "0x01"}, 1)
            assert status == 200 and body["response"]["data"]["statuses"] == [{"filled": {"totalSz": "1.00", "oid": 1}}]
            trade = await ws.receive_json(timeout=2)
            assert trade["channel"] == "trades" and trade["data"][0]["sz"] == "1.00"
        status, body = await post({"b": True, "s": "0.05", "p": "101.00", "tif": "IOC"}, 2)
        assert body["response"]["data"]["statuses"] == [{"error": "below_min_notional"}]  # an HTTP-200 error
        assert demo.ledger.query_all("SELECT nonce FROM demo_nonces") == [(1,), (2,)]  # both consumed
        async with s.post(url + "/exchange", json={"user": user}) as r:
            assert (r.status, await r.text()) == (422, "Failed to deserialize the JSON body into the target type")
        demo.faults.rate_limit(1, retry_after=2)
        async with s.post(url + "/exchange", json={}) as r:
            assert (r.status, r.headers["Retry-After"], await r.text()) == (429, "2", "Too Many Requests")
        async with s.get(url + "/nope") as r:
            assert (r.status, await r.text()) == (404, "Not Found")
        demo.apply_funding()  # the dialect's own model, paid at each event on the index
        (payment,) = demo.ledger.funding_payments(demo.ledger.account_by_address(user).id)  # type: ignore[union-attr]
        assert payment.rate == D("0.0001") and payment.amount < 0
        assert vest.ledger.account_by_address(user) is None and vest.stats["rest_requests"] == 0
        assert demo.stats["orders_accepted"] == 1 and vest.stats["orders_accepted"] == 0

