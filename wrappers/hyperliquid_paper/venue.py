"""``PaperHyperliquid``: the Hyperliquid dialect on the paper harness — its rules, markets,
tables, routes, socket, and funded accounts whose agent is approved through a real signed
``approveAgent``."""
from __future__ import annotations

import argparse
import dataclasses
import importlib
import importlib.util
import json
import secrets
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import aiohttp
from aiohttp import web

from mpdex.evm import address_of
from mpdex.paper.harness import PaperVenue, json_response
from mpdex.paper.markets import Market
from mpdex.paper.rules import Rules
from mpdex.paper.simulator import Listener
from mpdex.paper.sockets import SocketHub
from mpdex.precision import to_decimal
from wrappers.hyperliquid_auth import HyperliquidSigner

from .auth import HlAuth
from .exchange import ExchangeApi
from .info import InfoApi
from .markets import HL_MARKETS
from .routes import add_routes
from .sockets import HlHub, HlListener
from .store import HL_SCHEMA, HlStore
from .trading import DEFAULT, HlTrading

__all__ = ["PaperHyperliquid", "HL_RULES", "NETWORKS"]

NETWORKS = ("testnet", "mainnet")
_DAY_MS = 86_400_000
_KEYS_MODULE = "wrappers.hyperliquid_keys"

#: Hyperliquid: a reduce-only order larger than the position is shrunk to it (and resting
#: ones follow the position, cancelled when it closes), market orders are IOC limit orders,
#: a resting order that cannot fill for margin is cancelled, funding is hourly on the oracle
#: price and paid at every event, default leverage min(20, max), cross margin.
HL_RULES = Rules(
    reduce_only="shrink", market_orders="ioc", failed_resting_status="CANCELLED", funding_price="index",
    funding_settlement="each_event", default_leverage=20,
)


class PaperHyperliquid(PaperVenue):
    """A running Hyperliquid paper exchange. Use ``async with`` (or ``await start()`` / ``stop()``).

    ``network`` is the signature network the server verifies (``"testnet"`` by default: the
    official SDK signs testnet for any base URL but mainnet's; ``"mainnet"`` for a client
    that signs mainnet); the keys it hands out say the same."""

    NAME = "hyperliquid"
    RULES = HL_RULES
    MARKETS = HL_MARKETS
    SCHEMA = HL_SCHEMA
    SOCKET_PATHS = ("/ws",)

    def __init__(
        self,
        db_path: str | None = None,
        seed: int = 1,
        host: str = "127.0.0.1",
        port: int = 0,
        network: str = "testnet",
        *,
        tick_interval: float | None = 0.5,
        auto_funding: bool = True,
        clock_ms: Callable[[], int] | None = None,
        markets: list[Market] | tuple[Market, ...] | None = None,
        history_minutes: int = 120,
        drop_sockets_every: float | None = None,
        replay: bool = True,
        ws_idle_timeout: float = 60.0,
        address_request_base: int = 10_000,
        agent_validity_days: float = 180,
    ) -> None:
        if network not in NETWORKS:
            raise ValueError(f"network must be one of {', '.join(NETWORKS)}")
        super().__init__(db_path, seed, host, port, tick_interval=tick_interval, auto_funding=auto_funding,
                         clock_ms=clock_ms, markets=markets, history_minutes=history_minutes,
                         drop_sockets_every=drop_sockets_every, replay=replay)
        self.network = network
        self.ws_idle_timeout = ws_idle_timeout
        self.address_request_base = address_request_base
        self.agent_validity_ms = int(agent_validity_days * _DAY_MS)
        self._parts: tuple[HlStore, HlAuth, HlTrading, InfoApi, ExchangeApi] | None = None
        self._listener: HlListener | None = None

    # --- the dialect's pieces -----------------------------------------------------------

    def make_hub(self) -> SocketHub:
        return HlHub(self.faults, self.stats, markets=self.markets, snapshot=lambda sub: self.listener.snapshot(sub),
                     account_id=self._account_id, info=lambda body: self.info_api.handle(body),
                     exchange=lambda body: self.exchange_api.handle(body)[0], idle_timeout=self.ws_idle_timeout)

    def make_listener(self) -> Listener:
        self._listener = HlListener(lambda: self.sim, lambda: self.hl_hub, lambda: self.store,
                                    lambda coin: self.info_api.ctx(coin))
        return self._listener

    def on_started(self) -> None:
        store = HlStore(self.ledger)
        auth = HlAuth(self.sim, store, self.network, self.address_request_base, self.agent_validity_ms)
        trading = HlTrading(self.sim, store, self.listener.account_changed)
        self._parts = (store, auth, trading, InfoApi(self.sim, store, auth), ExchangeApi(auth, store, trading))

    def build_routes(self, app: web.Application) -> None:
        add_routes(app, self)

    def housekeeping(self) -> None:
        self.hl_hub.check_idle()
        self.trading.fire_schedules()

    def fault_response(self, kind: str, value: float) -> web.StreamResponse:
        """429 (and 5xx) answer JSON ``null``, as the server does; no ``Retry-After`` (the real
        one's is unconfirmed, so a client must back off on its own)."""
        return json_response(None, 429 if kind == "rate" else int(value))

    def internal_error_response(self) -> web.StreamResponse:
        return json_response(None, 500)

    def _account_id(self, address: str) -> int | None:
        account = self.ledger.account_by_address(address)
        return None if account is None else account.id

    @property
    def hl_hub(self) -> HlHub:
        hub = self.hub
        assert isinstance(hub, HlHub)
        return hub

    @property
    def listener(self) -> HlListener:
        if self._listener is None:
            raise RuntimeError("PaperHyperliquid is not started")
        return self._listener

    def _part(self) -> tuple[HlStore, HlAuth, HlTrading, InfoApi, ExchangeApi]:
        if self._parts is None:
            raise RuntimeError("PaperHyperliquid is not started")
        return self._parts

    @property
    def store(self) -> HlStore:
        return self._part()[0]

    @property
    def auth(self) -> HlAuth:
        return self._part()[1]

    @property
    def trading(self) -> HlTrading:
        return self._part()[2]

    @property
    def info_api(self) -> InfoApi:
        return self._part()[3]

    @property
    def exchange_api(self) -> ExchangeApi:
        return self._part()[4]

    # --- URLs ---------------------------------------------------------------------------

    @property
    def rest_url(self) -> str:
        """The base URL: requests go to ``rest_url + "/info"`` and ``"/exchange"``."""
        return self.base_url

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/ws"

    def urls(self) -> dict[str, str]:
        return {"REST": self.rest_url, "WS": self.ws_url}

    # --- accounts -------------------------------------------------------------------------

    def _nonce(self, address: str) -> int:
        kept = self.store.nonces(address)
        return max(self.now_ms(), kept[0] + 1 if kept else 0)

    async def approve_agent(self, wallet_private_key: str, agent_private_key: str, name: str | None = None) -> None:
        """Approve ``agent_private_key``'s address for the wallet's account through this
        server's own ``/exchange``: a user-signed ``approveAgent`` by the wallet key, signed
        for the server's network (no faults apply)."""
        signer = HyperliquidSigner(wallet_private_key)
        body = signer.approve_agent(address_of(agent_private_key), self._nonce(signer.address), agent_name=name,
                                    is_mainnet=self.network == "mainnet")
        async with aiohttp.ClientSession() as session, session.post(
            f"{self.base_url}/exchange", json=body, headers=self.internal_headers()
        ) as resp:
            data = await resp.json(content_type=None)
        if data != DEFAULT:
            raise RuntimeError(f"paper approveAgent refused (HTTP {resp.status}): {data}")

    def _key(self, wallet_pk: str, agent_pk: str | None) -> Any:
        """The key a client needs: a ``wrappers.hyperliquid_keys.HyperliquidKey`` when that
        module exists, else a mapping of the same (mpdex's) field names."""
        fields: dict[str, Any] = {
            "wallet_address": address_of(wallet_pk), "wallet_private_key": wallet_pk,
            "agent_api_address": None if agent_pk is None else address_of(agent_pk), "agent_api_private_key": agent_pk,
            "by_agent": agent_pk is not None, "network": self.network, "rest_url": self.rest_url, "ws_url": self.ws_url,
        }
        if importlib.util.find_spec(_KEYS_MODULE) is None:
            return fields
        return importlib.import_module(_KEYS_MODULE).make_hyperliquid_key(**fields)

    def _fund(self, wallet_pk: str, usdc: Any) -> Decimal:
        amount = to_decimal(usdc, "usdc")
        if amount < 0:
            raise ValueError("usdc must not be negative")
        account, _ = self.sim.open_account(address_of(wallet_pk))
        if amount:
            self.sim.deposit(account.id, amount)
        return amount

    async def _agent_for(self, wallet_pk: str) -> str | None:
        """A fresh agent approved for the wallet's account (``None`` while the account holds
        nothing: the server refuses approvals until a deposit)."""
        account = self.ledger.account_by_address(address_of(wallet_pk))
        if account is None or (account.balance <= 0 and not self.ledger.positions(account.id)):
            return None
        agent_pk = "0x" + secrets.token_hex(32)
        await self.approve_agent(wallet_pk, agent_pk)
        return agent_pk

    async def create_account(self, usdc: Any = 10_000) -> Any:
        """A new account (fresh wallet key) funded with ``usdc``, with a fresh agent approved
        by a signed ``approveAgent`` (an account created with 0 USDC gets no agent: its key
        signs with the wallet key, ``by_agent`` False). The key points at this server and names
        its network."""
        wallet_pk = "0x" + secrets.token_hex(32)
        self._fund(wallet_pk, usdc)
        return self._key(wallet_pk, await self._agent_for(wallet_pk))

    async def default_account(self, usdc: Any = 10_000) -> Any:
        """The ledger's persistent default account: created and funded with ``usdc`` on first
        use, the same wallet (and agent) on later runs with the same db; a new agent is
        approved when the old one is gone or within a day of expiry. Its keys are paper keys
        kept in the ledger's ``meta`` table."""
        stored = self.ledger.get_meta("default_account")
        if stored is None:
            wallet_pk = "0x" + secrets.token_hex(32)
            self._fund(wallet_pk, usdc)
            agent_pk = await self._agent_for(wallet_pk)
        else:
            saved = json.loads(stored)
            wallet_pk, agent_pk = saved["wallet_private_key"], saved.get("agent_private_key")
            agent = None if agent_pk is None else self.store.agent(address_of(agent_pk))
            if agent is None or agent.valid_until <= self.now_ms() + _DAY_MS:
                agent_pk = await self._agent_for(wallet_pk)
        with self.ledger.transaction():
            self.ledger.set_meta("default_account", json.dumps({"wallet_private_key": wallet_pk,
                                                                "agent_private_key": agent_pk}))
        return self._key(wallet_pk, agent_pk)

    def account_fields(self, key: Any) -> dict[str, Any]:
        return dataclasses.asdict(key) if dataclasses.is_dataclass(key) and not isinstance(key, type) else dict(key)

    def deposit(self, key: Any, usdc: Any) -> None:
        """Credit ``usdc`` (negative: a withdrawal) to an account, by key or wallet address."""
        address = key if isinstance(key, str) else self.account_fields(key)["wallet_address"]
        account = self.ledger.account_by_address(address)
        if account is None:
            raise KeyError(f"no paper account {address}")
        self.deposit_account(account.id, usdc)

    # --- command line -----------------------------------------------------------------------

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--network", choices=NETWORKS, default="testnet",
                            help="the signatures the server verifies (default testnet, what the official SDK signs "
                                 "for a local URL)")
        parser.add_argument("--ws-idle-timeout", type=float, default=60.0, metavar="SECONDS",
                            help="close a socket whose client sent nothing this long (default 60)")

    @classmethod
    def options_from_args(cls, args: argparse.Namespace) -> dict[str, Any]:
        return {"network": args.network, "ws_idle_timeout": args.ws_idle_timeout}
