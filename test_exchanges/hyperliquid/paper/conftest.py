"""Fixtures for the Hyperliquid paper-server tests: a started ``PaperHyperliquid`` (no ticks,
no automatic funding, so only the test moves the market) and a raw client that signs with
``HyperliquidSigner`` — deliberately independent of any adapter: these tests pin the
server's wire behaviour."""
from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from mpdex.paper import PaperHyperliquid
from wrappers.hyperliquid_auth import HyperliquidSigner
from wrappers.hyperliquid_wire import exchange_body, limit_type, order_action, order_wire

BTC, ETH, SOL, DOGE = 0, 1, 2, 4


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class HlClient:
    """Speaks Hyperliquid to a paper server for one account; returns ``(status, body)``."""

    def __init__(self, paper: PaperHyperliquid, session: aiohttp.ClientSession, key: Any) -> None:
        self.paper = paper
        self.session = session
        fields = paper.account_fields(key)
        self.user: str = fields["wallet_address"]
        self.wallet = HyperliquidSigner(fields["wallet_private_key"])
        self.agent = HyperliquidSigner(fields["agent_api_private_key"]) if fields["agent_api_private_key"] else None
        self.is_mainnet = paper.network == "mainnet"
        self._last = 0

    def nonce(self) -> int:
        self._last = max(now_ms(), self._last + 1)
        return self._last

    async def post(self, path: str, body: Any = None, *, data: bytes | None = None,
                   headers: dict[str, str] | None = None) -> tuple[int, Any]:
        kwargs: dict[str, Any] = {"json": body} if data is None else {"data": data}
        async with self.session.post(self.paper.base_url + path, headers=headers, **kwargs) as resp:
            text = await resp.text()
            if resp.content_type == "application/json":
                return resp.status, json.loads(text)
            return resp.status, text

    async def info(self, kind: str, **fields: Any) -> Any:
        status, body = await self.post("/info", {"type": kind, **fields})
        assert status == 200, (status, body)
        return body

    def signed(self, action: dict[str, Any], *, signer: HyperliquidSigner | None = None, nonce: int | None = None,
               vault: str | None = None, expires: int | None = None, is_mainnet: bool | None = None) -> dict[str, Any]:
        who = signer or self.agent or self.wallet
        n = self.nonce() if nonce is None else nonce
        sig = who.sign_l1(action, n, vault_address=vault, expires_after=expires,
                          is_mainnet=self.is_mainnet if is_mainnet is None else is_mainnet)
        return exchange_body(action, n, sig, vault_address=vault, expires_after=expires)

    async def act(self, action: dict[str, Any], **kw: Any) -> Any:
        status, body = await self.post("/exchange", self.signed(action, **kw))
        assert status == 200, (status, body)
        return body

    async def orders(self, *wires: dict[str, Any], **kw: Any) -> list[Any]:
        body = await self.act(order_action(list(wires)), **kw)
        assert body["status"] == "ok", body
        statuses: list[Any] = body["response"]["data"]["statuses"]
        return statuses

    async def order(self, asset: int, is_buy: bool, px: str, sz: str, tif: str = "Gtc", *, reduce_only: bool = False,
                    cloid: str | None = None, **kw: Any) -> Any:
        wire = order_wire(asset, is_buy, Decimal(px), Decimal(sz), reduce_only=reduce_only,
                          order_type=limit_type(tif), cloid=cloid)  # type: ignore[arg-type]
        (status,) = await self.orders(wire, **kw)
        return status


@pytest.fixture
async def paper() -> AsyncIterator[PaperHyperliquid]:
    async with PaperHyperliquid(seed=3, tick_interval=None, auto_funding=False) as venue:
        yield venue


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def client(paper: PaperHyperliquid, session: aiohttp.ClientSession) -> HlClient:
    return HlClient(paper, session, await paper.create_account(usdc=10_000))
