"""Vest's trading requests on the paper server: ``POST /orders``, ``POST /orders/cancel`` and
``POST /account/leverage`` — body checks, signature, nonce, then the simulator.

``POST /orders`` is synchronous: when the response leaves, the order is NEW (resting),
PARTIALLY_FILLED, FILLED or CANCELLED (FOK miss). Synchronous rejections store nothing and
consume no nonce, in this order: 1130 (shape), 1131/1132, 1022, 1121, 1116 (only
MARKET/LIMIT), 1133 (LIMIT: GTC|FOK; MARKET: none or GTC, as live clients send), 1130 (TP/SL
attachments: their signing convention is unverified), 1111 (too many decimals; fewer are fine,
the signed string is echoed as sent), 1130 (size not positive), 3011 (price ≤ 0), 3015 (nonce
already used by an order or cancel of this account), then the simulator's refusals: 1148
(HALT), 3018/3019 (reduce-only increases / exceeds the position), 3001 (a MARKET order's
``limitPrice`` cannot cover the whole size on the book), 3002 (margin).

Nonces must be unique per account (orders and cancels share the space) and below 2^63
(else 1023 INVALID_NONCE, after the signature check); they need not increase. The nonce is
consumed in the same ledger transaction as the order or cancel.

Absurd amounts are refused, never a 500: a size or price with more than 24 integer digits is
1130 (it is not a quantity on any market); below that, an amount no account could carry gets
what the exact check gives — 3002 MARGIN_CHECK_FAILED for a LIMIT order (``1e20`` BTC: its
margin is checked with 80 significant digits instead of overflowing), 3001 for a MARKET order
the book cannot cover, 3019 for a reduce-only order larger than the position, a FOK miss for
a FOK.
Leverage: default min(10, max); max = floor(1 / initMarginRatio); above it → 1130; lowering it
with a position that can no longer be margined → 3021. ``/account/leverage`` is checked
against ``recvWindow`` too (it is not signed).
"""
from __future__ import annotations

import re
from typing import Any

from mpdex.evm import keccak256
from mpdex.paper.ledger import Account, Order
from mpdex.paper.markets import Market
from mpdex.paper.rules import OrderRequest, Refused, TimeInForce
from mpdex.paper.simulator import Simulator
from mpdex.precision import decimals_of
from wrappers.vest_auth import cancel_hash, order_digest, personal_digest

from . import errors as E
from .auth import VestAuth, field
from .errors import PLAIN, ApiError, refusal
from .store import ApiKey, VestStore

__all__ = ["VestTrading"]

_DECIMAL = re.compile(r"^[0-9]+(\.[0-9]+)?$")
#: integer digits a size or price may have: beyond any market, and within exact arithmetic
MAX_INTEGER_DIGITS = 24
#: nonces are SQLite (and Java/Go int64) integers on the server side
NONCE_LIMIT = 2**63


class VestTrading:
    def __init__(self, sim: Simulator, store: VestStore, auth: VestAuth) -> None:
        self.sim = sim
        self.store = store
        self.auth = auth

    def market(self, symbol: str, style: str = PLAIN) -> Market:
        m = self.sim.markets.get(symbol)
        if m is None:
            raise ApiError(E.BAD_SYMBOL, f"unknown symbol {symbol}" if style == PLAIN else "unknown symbol", style)
        return m

    def place_order(self, key: ApiKey, account: Account, body: Any) -> Order:
        """Validate, sign-check, match and book one order; ``ApiError`` for every
        synchronous rejection (nothing stored, no nonce consumed)."""
        now = self.sim.clock_ms()
        if not isinstance(body, dict):
            raise ApiError(E.INVALID_PARAMETER, "body must be a JSON object")
        order = field(body, "order", dict)
        sent = field(order, "time", int, "order.")
        nonce = field(order, "nonce", int, "order.")
        symbol = field(order, "symbol", str, "order.")
        is_buy = field(order, "isBuy", bool, "order.")
        size_s = field(order, "size", str, "order.")
        order_type = field(order, "orderType", str, "order.")
        limit_s = field(order, "limitPrice", str, "order.")
        reduce_only = field(order, "reduceOnly", bool, "order.")
        self.auth.check_window(body, sent, now)
        self.auth.check_signature(key, order_digest(order), body.get("signature"), now)

        m = self.market(symbol)
        if order_type not in ("MARKET", "LIMIT"):
            raise ApiError(E.INVALID_ORDER_TYPE, f"orderType {order_type} is not accepted (MARKET or LIMIT)")
        tif = order.get("timeInForce")
        if order_type == "LIMIT":
            tif = "GTC" if tif is None else tif
            if tif not in ("GTC", "FOK"):
                raise ApiError(E.INVALID_TIME_IN_FORCE, f"timeInForce {tif!r} is not GTC or FOK")
        else:
            if tif not in (None, "GTC"):
                raise ApiError(E.INVALID_TIME_IN_FORCE, "timeInForce applies to LIMIT orders only")
            tif = "GTC"
        for child in ("tpPrice", "slPrice", "tpSignature", "slSignature"):
            if order.get(child) is not None:
                raise ApiError(E.INVALID_PARAMETER, f"{child}: TP/SL attachments are not supported by the paper exchange")
        for name, text, places in (("size", size_s, m.size_decimals), ("limitPrice", limit_s, m.price_decimals)):
            if not _DECIMAL.match(text):
                raise ApiError(E.INVALID_PARAMETER, f"order.{name} must be a plain decimal string")
            if decimals_of(text) > places:
                raise ApiError(E.BAD_DECIMALS, f"order.{name} has more than {places} decimals for {symbol}")
            if len(text.partition(".")[0].lstrip("0")) > MAX_INTEGER_DIGITS:
                raise ApiError(E.INVALID_PARAMETER, f"order.{name} is out of range (at most {MAX_INTEGER_DIGITS} integer digits)")
        req = OrderRequest(
            account_id=account.id, symbol=symbol, is_buy=is_buy, size_text=size_s, price_text=limit_s,
            kind="limit" if order_type == "LIMIT" else "market", tif=TimeInForce(tif), reduce_only=reduce_only,
            order_type=order_type, client_id=str(nonce),
        )
        if req.size <= 0:
            raise ApiError(E.INVALID_PARAMETER, "order.size must be positive")
        if req.limit_price <= 0:
            raise ApiError(E.INVALID_LIMIT_PRICE, "order.limitPrice must be positive")
        self._check_nonce(nonce)
        if self.store.nonce_used(account.id, nonce):
            raise ApiError(E.DUPLICATE, f"Duplicate: nonce {nonce} was already used")
        order_id = "0x" + keccak256(f"{account.address}:{nonce}:{now}:{self.sim.prices.seed}".encode()).hex()
        try:
            return self.sim.place(req, order_id, writes=lambda: self.store.use_nonce(account.id, nonce, "order"))
        except Refused as exc:
            raise refusal(exc) from None

    @staticmethod
    def _check_nonce(nonce: int) -> None:
        if nonce >= NONCE_LIMIT:
            raise ApiError(E.INVALID_NONCE, f"Invalid nonce: {nonce} is not below 2^63")

    def cancel_order(self, key: ApiKey, account: Account, body: Any) -> str:
        now = self.sim.clock_ms()
        if not isinstance(body, dict):
            raise ApiError(E.INVALID_PARAMETER, "body must be a JSON object")
        cancel = field(body, "order", dict)
        sent = field(cancel, "time", int, "order.")
        nonce = field(cancel, "nonce", int, "order.")
        order_id = field(cancel, "id", str, "order.")
        self.auth.check_window(body, sent, now)
        self.auth.check_signature(key, personal_digest(cancel_hash(cancel)), body.get("signature"), now)
        self._check_nonce(nonce)
        if self.store.nonce_used(account.id, nonce):
            raise ApiError(E.DUPLICATE, f"Duplicate: nonce {nonce} was already used")
        try:
            o = self.sim.cancel(account.id, order_id, writes=lambda: self.store.use_nonce(account.id, nonce, "cancel"))
        except Refused as exc:
            raise refusal(exc) from None
        return o.id

    def set_leverage(self, account: Account, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError(E.INVALID_PARAMETER, "body must be a JSON object")
        sent = field(body, "time", int)
        symbol = field(body, "symbol", str)
        value = field(body, "value", int)
        self.auth.check_window(body, sent, self.sim.clock_ms())
        self.market(symbol)
        try:
            self.sim.set_leverage(account.id, symbol, value)
        except Refused as exc:
            raise refusal(exc) from None
        return {"symbol": symbol, "value": value}
