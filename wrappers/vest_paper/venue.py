"""``PaperVest``: the Vest dialect on the paper harness — its rules, markets, tables, routes,
sockets, and funded accounts registered through its own ``/register``."""
from __future__ import annotations

import argparse
import dataclasses
import json
import secrets
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web

from mpdex.paper.harness import PaperVenue, json_response
from mpdex.paper.markets import Market
from mpdex.paper.rules import Rules
from mpdex.paper.simulator import Listener
from mpdex.paper.sockets import SocketHub
from mpdex.precision import to_decimal
from wrappers.vest_auth import address_of, build_register_body
from wrappers.vest_keys import VestKey, make_vest_key

from .auth import VestAuth
from .listen_keys import ListenKeys
from .markets import VEST_MARKETS
from .routes import add_routes
from .sockets import VestHub, VestListener
from .store import VEST_SCHEMA, VestStore
from .trading import VestTrading

__all__ = ["PaperVest", "VEST_RULES"]

_DAY_MS = 86_400_000

#: Vest: reduce-only orders larger than the position are refused (3019), MARKET orders fill
#: completely within their limitPrice or are refused (3001), funding is hourly on the mark
#: and settles into the balance on the position's next fill, default leverage min(10, max).
VEST_RULES = Rules(
    reduce_only="refuse", market_orders="fill_or_refuse", failed_resting_status="REJECTED",
    funding_price="mark", funding_settlement="on_fill", default_leverage=10,
)


class PaperVest(PaperVenue):
    """A running Vest paper exchange. Use ``async with`` (or ``await start()`` / ``stop()``)."""

    NAME = "vest"
    RULES = VEST_RULES
    MARKETS = VEST_MARKETS
    SCHEMA = VEST_SCHEMA
    EXTRA_STATS = ("registrations", "group_header_missing")
    SOCKET_PATHS = ("/ws-api",)

    def __init__(
        self,
        db_path: str | None = None,
        seed: int = 1,
        host: str = "127.0.0.1",
        port: int = 0,
        network: str = "dev",
        *,
        tick_interval: float | None = 0.5,
        listen_key_ttl: float = 3600.0,
        auto_funding: bool = True,
        clock_ms: Callable[[], int] | None = None,
        markets: list[Market] | tuple[Market, ...] | None = None,
        history_minutes: int = 120,
        drop_sockets_every: float | None = None,
        replay: bool = True,
        register_usdc: Any = 0,
    ) -> None:
        if network not in ("prod", "dev"):
            raise ValueError("network must be 'prod' or 'dev'")
        super().__init__(db_path, seed, host, port, tick_interval=tick_interval, auto_funding=auto_funding,
                         clock_ms=clock_ms, markets=markets, history_minutes=history_minutes,
                         drop_sockets_every=drop_sockets_every, replay=replay)
        self.network = network
        self.register_usdc = to_decimal(register_usdc, "register_usdc")
        if self.register_usdc < 0:
            raise ValueError("register_usdc must not be negative")
        self._listen_key_ttl_ms = int(listen_key_ttl * 1000)
        self._parts: tuple[VestStore, VestAuth, VestTrading, ListenKeys] | None = None
        self._vest_listener: VestListener | None = None

    # --- the dialect's pieces -----------------------------------------------------------

    def make_hub(self) -> SocketHub:
        return VestHub(self.faults, self.stats, lambda key: self.listen_keys.state(key), self._snapshot)

    def make_listener(self) -> Listener:
        self._vest_listener = VestListener(lambda: self.sim, self.vest_hub)
        return self._vest_listener

    def _snapshot(self, channel: str) -> Any | None:
        return None if self._vest_listener is None else self._vest_listener.snapshot(channel)

    def on_started(self) -> None:
        store = VestStore(self.ledger)
        auth = VestAuth(self.sim, store, self.network, self.register_usdc)
        listen_keys = ListenKeys(self.ledger, store, self.now_ms, self._listen_key_ttl_ms, self.vest_hub)
        self._parts = (store, auth, VestTrading(self.sim, store, auth), listen_keys)

    def build_routes(self, app: web.Application) -> None:
        add_routes(app, self)

    def housekeeping(self) -> None:
        self.vest_hub.check_listen_keys()

    def fault_response(self, kind: str, value: float) -> web.StreamResponse:
        if kind == "rate":
            retry = str(int(value)) if float(value).is_integer() else f"{value:g}"
            return json_response({"code": 429, "msg": "Rate limited"}, 429, {"Retry-After": retry})
        return json_response({"code": int(value), "msg": "Service unavailable"}, int(value))

    def not_found_response(self, status: int) -> web.StreamResponse:
        return json_response({"detail": "Not Found" if status == 404 else "Method Not Allowed"}, status)

    def internal_error_response(self) -> web.StreamResponse:
        return json_response({"code": 1011, "msg": "Internal error"}, 500)

    @property
    def vest_hub(self) -> VestHub:
        hub = self.hub
        assert isinstance(hub, VestHub)
        return hub

    def _part(self) -> tuple[VestStore, VestAuth, VestTrading, ListenKeys]:
        if self._parts is None:
            raise RuntimeError("PaperVest is not started")
        return self._parts

    @property
    def store(self) -> VestStore:
        return self._part()[0]

    @property
    def auth(self) -> VestAuth:
        return self._part()[1]

    @property
    def trading(self) -> VestTrading:
        return self._part()[2]

    @property
    def listen_keys(self) -> ListenKeys:
        return self._part()[3]

    # --- URLs ---------------------------------------------------------------------------

    @property
    def rest_url(self) -> str:
        return f"{self.base_url}/v2"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/ws-api?version=1.0"

    def urls(self) -> dict[str, str]:
        return {"REST": self.rest_url, "WS": self.ws_url}

    # --- accounts -------------------------------------------------------------------------

    async def _register(self, primary_pk: str, signing_pk: str, expiry_days: float) -> tuple[str, int]:
        expiry = self.now_ms() + int(expiry_days * _DAY_MS)
        body = build_register_body(primary_pk, address_of(signing_pk), expiry, self.network)
        async with aiohttp.ClientSession() as session, session.post(
            f"{self.rest_url}/register", json=body, headers=self.internal_headers()
        ) as resp:
            data = await resp.json(content_type=None)
        if resp.status != 200 or "apiKey" not in data:
            raise RuntimeError(f"paper /register refused the account (HTTP {resp.status}, code {data.get('code')})")
        return data["apiKey"], int(data["accGroup"])

    def _key(self, api_key: str, signing_pk: str, primary_pk: str, group: int) -> VestKey:
        return make_vest_key(
            api_key=api_key, signing_private_key=signing_pk, primary_address=address_of(primary_pk),
            account_group=group, network=self.network, rest_url=self.rest_url, ws_url=self.ws_url,
        )

    async def _new_account(self, usdc: Any, expiry_days: float) -> tuple[VestKey, str]:
        amount = to_decimal(usdc, "usdc")
        if amount < 0:
            raise ValueError("usdc must not be negative")
        primary_pk = "0x" + secrets.token_hex(32)
        signing_pk = "0x" + secrets.token_hex(32)
        api_key, group = await self._register(primary_pk, signing_pk, expiry_days)
        account = self.ledger.account_by_address(address_of(primary_pk))
        assert account is not None
        if amount:
            self.sim.deposit(account.id, amount)
        return self._key(api_key, signing_pk, primary_pk, group), primary_pk

    async def create_account(self, usdc: Any = 10_000, *, expiry_days: float = 30) -> VestKey:
        """A new account, registered through ``POST /register`` with a real SignerProof
        signature by a fresh primary key, funded with ``usdc``; its ``VestKey`` points at
        this server (``network`` as configured, ``dev`` by default)."""
        key, _ = await self._new_account(usdc, expiry_days)
        return key

    async def default_account(self, usdc: Any = 10_000) -> VestKey:
        """The ledger's persistent default account: created and funded with ``usdc`` on
        first use, the same key on later runs with the same db (re-registered with a new
        signer when the old one is within a day of expiry). Its keys are paper keys kept
        in the ledger's ``meta`` table."""
        stored = self.ledger.get_meta("default_account")
        if stored is not None:
            wallet = json.loads(stored)
            row = self.store.api_key(wallet["api_key"])
            if row is not None and row.expiry_ms > self.now_ms() + _DAY_MS:
                group = self.store.group(row.account_id)
                return self._key(wallet["api_key"], wallet["signing_private_key"], wallet["primary_private_key"], group)
            primary_pk = wallet["primary_private_key"]
            signing_pk = "0x" + secrets.token_hex(32)
            api_key, group = await self._register(primary_pk, signing_pk, 365)
            key = self._key(api_key, signing_pk, primary_pk, group)
        else:
            key, primary_pk = await self._new_account(usdc, 365)
        wallet = {"api_key": key.api_key, "signing_private_key": key.signing_private_key, "primary_private_key": primary_pk}
        with self.ledger.transaction():
            self.ledger.set_meta("default_account", json.dumps(wallet))
        return key

    def account_fields(self, key: Any) -> dict[str, Any]:
        return dataclasses.asdict(key)

    def deposit(self, key: VestKey | str, usdc: Any) -> None:
        """Credit ``usdc`` (may be negative: a withdrawal) to an account, by key or address."""
        address = key.primary_address if isinstance(key, VestKey) else key
        account = self.ledger.account_by_address(address)
        if account is None:
            raise KeyError(f"no paper account {address}")
        self.deposit_account(account.id, usdc)

    def expire_listen_keys(self) -> int:
        """Every current listen key expires now; sockets using one close with 4005.
        Returns how many sockets were closed."""
        return self.listen_keys.expire_all()

    # --- command line -----------------------------------------------------------------------

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--network", choices=("dev", "prod"), default="dev", help="EIP-712 contract for /register")
        parser.add_argument("--listen-key-ttl", type=float, default=3600.0, metavar="SECONDS",
                            help="listen key lifetime (default 3600; short values test renewal)")
        parser.add_argument("--register-usdc", default="0", metavar="USDC",
                            help="funding of an account a client creates with POST /register (default 0)")

    @classmethod
    def options_from_args(cls, args: argparse.Namespace) -> dict[str, Any]:
        return {"network": args.network, "listen_key_ttl": args.listen_key_ttl, "register_usdc": args.register_usdc}
