"""The paper venue's behaviour: registration, authentication, order placement and
cancellation, resting-order matching, leverage, listen keys, ticks and funding.

Every state change is one ledger transaction; public trades, book depletion and socket
events happen only after it commits. All methods are synchronous (called from the event
loop thread, never across an ``await``), so the HTTP response of ``POST /orders`` is sent
after the order is already NEW / FILLED / CANCELLED in the ledger.
"""
from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any, Protocol

from mpdex.precision import decimals_of
from mpdex.redact import short_address
from wrappers.vest_auth import (
    cancel_hash,
    keccak256,
    order_digest,
    personal_digest,
    recover_address,
    register_digest,
    to_checksum_address,
)

from . import wire
from .engine import AccountState, AccountView, RestingMargin, apply_fill, margin_allows, view_account
from .ledger import Account, ApiKey, Ledger, ListenKey, Order
from .markets import Market
from .prices import PriceModel, Trade
from .wire import DETAIL, PLAIN, ApiError, fmt, fmt_min, money

__all__ = ["Venue", "Publisher", "DEFAULT_LEVERAGE", "ACCOUNT_GROUPS", "trade_json", "kline_json"]

log = logging.getLogger("mpdex.paper")

DEFAULT_LEVERAGE = 10
ACCOUNT_GROUPS = 3
DEFAULT_RECV_WINDOW = 5_000
MAX_RECV_WINDOW = 60_000
CLOCK_AHEAD_MS = 1_000
HOUR_MS = 3_600_000
_DECIMAL = re.compile(r"^[0-9]+(\.[0-9]+)?$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_Q12 = Decimal("1e-12")


class Publisher(Protocol):
    """What the venue needs from the socket hub."""

    def wants(self, channel: str) -> bool: ...
    def publish(self, channel: str, data: Any) -> None: ...
    def publish_account(self, account_id: int, data: Any) -> None: ...
    def close_private(self, code: int, listen_key: str | None = None) -> int: ...


def _field(obj: Mapping[str, Any], name: str, kind: type, where: str = "") -> Any:
    value: Any = obj.get(name)
    if kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    else:
        ok = isinstance(value, kind)
    if not ok:
        what = {int: "a non-negative integer", str: "a string", bool: "a boolean", dict: "an object"}[kind]
        raise ApiError(wire.INVALID_PARAMETER, f"{where}{name} must be {what}")
    return value



class Venue:
    def __init__(
        self,
        ledger: Ledger,
        markets: dict[str, Market],
        prices: PriceModel,
        hub: Publisher,
        clock_ms: Callable[[], int],
        *,
        network: str = "dev",
        listen_key_ttl_ms: int = HOUR_MS,
        stats: dict[str, int] | None = None,
    ) -> None:
        self.ledger = ledger
        self.markets = markets
        self.prices = prices
        self.hub = hub
        self.clock_ms = clock_ms
        self.network = network
        self.listen_key_ttl_ms = listen_key_ttl_ms
        self.stats = stats if stats is not None else {}

    def _count(self, name: str, n: int = 1) -> None:
        self.stats[name] = self.stats.get(name, 0) + n

    # --- registration and authentication --------------------------------------------

    def register(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError(wire.INVALID_PARAMETER, "body must be a JSON object")
        signing = _field(body, "signingAddr", str)
        primary = _field(body, "primaryAddr", str)
        signature = body.get("signature")
        expiry = _field(body, "expiryTime", int)
        network_type = _field(body, "networkType", int)
        for name, addr in (("signingAddr", signing), ("primaryAddr", primary)):
            if not _ADDRESS.match(addr):
                raise ApiError(wire.INVALID_PARAMETER, f"{name} must be a 0x-prefixed 20-byte hex address")
        if network_type != 0:
            raise ApiError(wire.INVALID_NETWORK_TYPE, f"networkType {network_type} is not supported; send 0")
        now = self.clock_ms()
        if expiry <= now:
            raise ApiError(wire.INVALID_PARAMETER, "expiryTime must be in the future (milliseconds)")
        try:
            signer = recover_address(register_digest(signing, expiry, self.network), signature)  # type: ignore[arg-type]
        except ValueError:
            raise ApiError(wire.INVALID_SIGNATURE, "Invalid signature", DETAIL) from None
        if signer.lower() != primary.lower():
            raise ApiError(wire.INVALID_SIGNATURE, "Invalid signature: SignerProof is not signed by primaryAddr", DETAIL)
        api_key = secrets.token_hex(16)
        with self.ledger.transaction():
            account = self.ledger.account_by_address(primary) or self.ledger.create_account(primary, now, ACCOUNT_GROUPS)
            self.ledger.add_api_key(ApiKey(api_key, account.id, to_checksum_address(signing), expiry), now)
        log.info("paper: registered signer %s for account %s (group %d)", short_address(signing), short_address(primary), account.group)
        self._count("registrations")
        return {"apiKey": api_key, "accGroup": account.group}

    def authenticate(self, api_key: str | None) -> tuple[ApiKey, Account]:
        key = self.ledger.api_key(api_key) if api_key else None
        if key is None:
            raise ApiError(wire.UNAUTHORIZED, "Unauthorized: unknown or missing X-API-KEY", DETAIL)
        return key, self.ledger.account(key.account_id)

    @staticmethod
    def check_group(header: str | None, account: Account) -> None:
        expected = f"restserver{account.group}"
        if header != expected:
            raise ApiError(
                wire.INVALID_ACCOUNT_GROUP,
                f"Invalid account group: xrestservermm must be '{expected}' for this account",
                DETAIL,
                status=403,
            )

    def deposit(self, account_id: int, usdc: Decimal) -> None:
        with self.ledger.transaction():
            self.ledger.add_balance(account_id, money(usdc))

    # --- shared checks for signed requests ------------------------------------------

    def _check_window(self, body: Mapping[str, Any], sent_time: int, now: int) -> None:
        window = body.get("recvWindow", DEFAULT_RECV_WINDOW)
        if isinstance(window, bool) or not isinstance(window, int) or not 0 < window <= MAX_RECV_WINDOW:
            raise ApiError(wire.BAD_RECV_WINDOW, f"recvWindow must be an integer in 1..{MAX_RECV_WINDOW} ms")
        if sent_time > now + CLOCK_AHEAD_MS:
            raise ApiError(wire.BAD_RECV_WINDOW, f"time is {sent_time - now} ms ahead of the server clock")
        if now > sent_time + window:
            raise ApiError(wire.ORDER_EXPIRED, f"Order expired: time is {now - sent_time} ms old, recvWindow is {window} ms")

    def _check_signature(self, key: ApiKey, digest: bytes, signature: Any, now: int) -> None:
        try:
            signer = recover_address(digest, signature)
        except ValueError:
            raise ApiError(wire.INVALID_SIGNATURE, "Invalid signature", DETAIL) from None
        if signer.lower() != key.signing_address.lower():
            raise ApiError(wire.INVALID_SIGNATURE, "Invalid signature: not signed by this API key's signing key", DETAIL)
        if key.expiry_ms <= now:
            raise ApiError(wire.INVALID_SIGNATURE, "Invalid signature: the signing key has expired; register again", DETAIL)

    def _market(self, symbol: str, style: str = PLAIN) -> Market:
        m = self.markets.get(symbol)
        if m is None:
            raise ApiError(wire.BAD_SYMBOL, f"unknown symbol {symbol}" if style == PLAIN else "unknown symbol", style)
        return m

    # --- account state -------------------------------------------------------------

    def leverage_of(self, account_id: int, symbol: str) -> int:
        m = self.markets[symbol]
        return self.ledger.leverage(account_id, symbol) or min(DEFAULT_LEVERAGE, m.max_leverage)

    def _state(self, account_id: int) -> AccountState:
        stored = self.ledger.leverages(account_id)
        levs = {s: stored.get(s) or min(DEFAULT_LEVERAGE, m.max_leverage) for s, m in self.markets.items()}
        orders = [
            RestingMargin(o.symbol, o.remaining, Decimal(o.limit_price), o.reduce_only, o.id)
            for o in self.ledger.open_orders(account_id)
        ]
        positions = {p.symbol: p for p in self.ledger.positions(account_id)}
        return AccountState(self.ledger.account(account_id).balance, positions, levs, orders)

    def _view(self, state: AccountState) -> AccountView:
        st = self.prices.states
        return view_account(state, self.markets, {s: st[s].mark for s in st}, {s: st[s].cum_funding for s in st})

    def _simulate(self, state: AccountState, symbol: str, is_buy: bool, fills: list[tuple[Decimal, Decimal]]) -> AccountState:
        sim = state.copy()
        cum = self.prices.states[symbol].cum_funding
        fee_rate = self.markets[symbol].taker_fee
        for px, qty in fills:
            out = apply_fill(sim.positions.get(symbol), symbol, is_buy, qty, px, fee_rate, cum)
            sim.positions[symbol] = out.position
            sim.balance += out.balance_delta
        return sim

    def account_json(self, account: Account) -> dict[str, Any]:
        state = self._state(account.id)
        v = self._view(state)
        positions = []
        for pv in v.positions:
            m, p = pv.market, pv.position
            positions.append({
                "symbol": p.symbol,
                "isLong": p.size > 0,
                "size": fmt(abs(p.size), m.size_decimals),
                "entryPrice": fmt_min(p.entry_price, m.price_decimals),
                "entryFunding": fmt(p.entry_funding, 12),
                "unrealizedPnl": fmt(pv.unrealized_pnl, 6),
                "settledFunding": fmt(p.settled_funding, 6),
                "markPrice": fmt(pv.mark, m.price_decimals),
                "indexPrice": fmt(self.prices.states[p.symbol].index, m.price_decimals),
                "liqPrice": fmt(pv.liq_price, m.price_decimals),
                "initMargin": fmt(pv.init_margin, 6),
                "maintMargin": fmt(pv.maint_margin, 6),
                "initMarginRatio": wire.ratio(Decimal(1) / pv.leverage),
            })
        return {
            "address": account.address,
            "balances": [{"asset": "USDC", "total": fmt(v.balance, 6), "locked": fmt(v.margin_used, 6)}],
            "collateral": fmt(v.balance, 6),
            "withdrawable": fmt(v.withdrawable, 6),
            "totalAccountValue": fmt(v.account_value, 6),
            "openOrderMargin": fmt(v.open_order_margin, 6),
            "totalMaintMargin": fmt(v.maint_margin, 6),
            "positions": positions,
            "leverages": [{"symbol": s, "value": state.leverages[s]} for s in self.markets],
            "lp": {"balance": "0.000000", "shares": "0.000000", "unrealizedPnl": "0.000000"},
            "time": self.clock_ms(),
            "twitterUsername": None,
            "discordUsername": None,
        }

    def set_leverage(self, account: Account, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError(wire.INVALID_PARAMETER, "body must be a JSON object")
        sent = _field(body, "time", int)
        symbol = _field(body, "symbol", str)
        value = _field(body, "value", int)
        now = self.clock_ms()
        self._check_window(body, sent, now)
        m = self._market(symbol)
        if value < 1:
            raise ApiError(wire.INVALID_PARAMETER, "leverage value must be at least 1")
        if value > m.max_leverage:
            raise ApiError(wire.INVALID_PARAMETER, f"leverage {value} is above {symbol}'s maximum of {m.max_leverage}")
        state = self._state(account.id)
        if state.positions.get(symbol) and value < state.leverages[symbol]:
            sim = state.copy()
            sim.leverages[symbol] = value
            after = self._view(sim)
            if after.account_value < after.margin_used:
                raise ApiError(wire.DECREASE_LEVERAGE_WITH_POSITION, "not enough margin to lower leverage with this position open")
        with self.ledger.transaction():
            self.ledger.set_leverage(account.id, symbol, value)
        return {"symbol": symbol, "value": value}

    def last_nonce(self, account: Account) -> int:
        return self.ledger.last_nonce(account.id)

    # --- orders --------------------------------------------------------------------

    def place_order(self, key: ApiKey, account: Account, body: Any) -> Order:
        """Validate, sign-check, match and book one order; raise ``ApiError`` for every
        synchronous rejection (nothing stored, no nonce consumed)."""
        now = self.clock_ms()
        if not isinstance(body, dict):
            raise ApiError(wire.INVALID_PARAMETER, "body must be a JSON object")
        order = _field(body, "order", dict)
        sent = _field(order, "time", int, "order.")
        nonce = _field(order, "nonce", int, "order.")
        symbol = _field(order, "symbol", str, "order.")
        is_buy = _field(order, "isBuy", bool, "order.")
        size_s = _field(order, "size", str, "order.")
        order_type = _field(order, "orderType", str, "order.")
        limit_s = _field(order, "limitPrice", str, "order.")
        reduce_only = _field(order, "reduceOnly", bool, "order.")
        self._check_window(body, sent, now)
        self._check_signature(key, order_digest(order), body.get("signature"), now)

        m = self._market(symbol)
        if order_type not in ("MARKET", "LIMIT"):
            raise ApiError(wire.INVALID_ORDER_TYPE, f"orderType {order_type} is not accepted (MARKET or LIMIT)")
        tif = order.get("timeInForce")
        if order_type == "LIMIT":
            tif = "GTC" if tif is None else tif
            if tif not in ("GTC", "FOK"):
                raise ApiError(wire.INVALID_TIME_IN_FORCE, f"timeInForce {tif!r} is not GTC or FOK")
        else:
            if tif not in (None, "GTC"):
                raise ApiError(wire.INVALID_TIME_IN_FORCE, "timeInForce applies to LIMIT orders only")
            tif = "GTC"
        for child in ("tpPrice", "slPrice", "tpSignature", "slSignature"):
            if order.get(child) is not None:
                raise ApiError(wire.INVALID_PARAMETER, f"{child}: TP/SL attachments are not supported by the paper exchange")
        for name, text, places in (("size", size_s, m.size_decimals), ("limitPrice", limit_s, m.price_decimals)):
            if not _DECIMAL.match(text):
                raise ApiError(wire.INVALID_PARAMETER, f"order.{name} must be a plain decimal string")
            if decimals_of(text) > places:
                raise ApiError(wire.BAD_DECIMALS, f"order.{name} has more than {places} decimals for {symbol}")
        size = Decimal(size_s)
        limit = Decimal(limit_s)
        if size <= 0:
            raise ApiError(wire.INVALID_PARAMETER, "order.size must be positive")
        if limit <= 0:
            raise ApiError(wire.INVALID_LIMIT_PRICE, "order.limitPrice must be positive")
        if self.ledger.nonce_used(account.id, nonce):
            raise ApiError(wire.DUPLICATE, f"Duplicate: nonce {nonce} was already used")
        state_ = self.prices.states[symbol]
        if state_.status != "TRADING":
            raise ApiError(wire.MARKET_CLOSED, f"{symbol} is not trading ({state_.status})")
        pos = self.ledger.position(account.id, symbol)
        if reduce_only:
            self._check_reduce_only(pos.size if pos else Decimal(0), is_buy, size)

        fills = self.prices.sweep(symbol, is_buy, size, limit)
        taken = sum((q for _, q in fills), Decimal(0))
        fok_miss = False
        if order_type == "MARKET" and taken < size:
            best = self.prices.book(symbol)[1 if is_buy else 0]
            best_px = best[0][0] if best else None
            raise ApiError(
                wire.PRICE_CHECK_FAILED,
                f"Price check failed: {size_s} {symbol} cannot fill within limitPrice {limit_s} (best {best_px})",
            )
        if tif == "FOK" and taken < size:
            fills, fok_miss = [], True

        if not fok_miss:
            state = self._state(account.id)
            sim = self._simulate(state, symbol, is_buy, fills)
            rest = size - sum((q for _, q in fills), Decimal(0))
            if order_type == "LIMIT" and rest > 0:
                sim.orders.append(RestingMargin(symbol, rest, limit, reduce_only))
            if not margin_allows(self._view(state), self._view(sim)):
                raise ApiError(wire.MARGIN_CHECK_FAILED, "Margin check failed: not enough collateral for this order")

        lev = self.leverage_of(account.id, symbol)
        o = Order(
            id="0x" + keccak256(f"{account.address}:{nonce}:{now}:{self.prices.seed}".encode()).hex(),
            account_id=account.id, nonce=nonce, symbol=symbol, is_buy=is_buy, order_type=order_type,
            limit_price=limit_s, size=size_s, reduce_only=reduce_only, time_in_force=tif, status="NEW",
            mark_price=state_.mark, init_margin_ratio=Decimal(1) / lev, post_time=now,
        )
        new_event = replace(o)
        with self.ledger.transaction():
            self.ledger.use_nonce(account.id, nonce, "order")
            self.ledger.insert_order(o)
            if fills:
                self._fill(o, fills, now)
            elif fok_miss:
                o.status = "CANCELLED"
                self.ledger.update_order(o)
        self._count("orders_accepted")
        log.info("paper: order %s %s %s %s @ %s nonce=%d -> %s", short_address(account.address), symbol,
                 "buy" if is_buy else "sell", size_s, limit_s, nonce, o.status)
        self._after_fill(o, fills, now)
        self.hub.publish_account(account.id, wire.order_event(new_event, m))
        if o.status != "NEW":
            self.hub.publish_account(account.id, wire.order_event(o, m))
        return o

    @staticmethod
    def _check_reduce_only(position: Decimal, is_buy: bool, size: Decimal) -> None:
        if position == 0 or (position > 0) == is_buy:
            raise ApiError(wire.REDUCE_ONLY_INCREASES, "Reduce-only order would increase the position")
        if size > abs(position):
            raise ApiError(wire.REDUCE_ONLY_EXCEEDS_SIZE, f"Reduce-only order size {size} exceeds the position {abs(position)}")

    def _fill(self, o: Order, fills: list[tuple[Decimal, Decimal]], now: int) -> None:
        """Book fills of ``o`` (inside the caller's transaction)."""
        m = self.markets[o.symbol]
        cum = self.prices.states[o.symbol].cum_funding
        pos = self.ledger.position(o.account_id, o.symbol)
        notional = qty_total = Decimal(0)
        for px, qty in fills:
            out = apply_fill(pos, o.symbol, o.is_buy, qty, px, m.taker_fee, cum)
            self.ledger.add_balance(o.account_id, out.balance_delta)
            pos = out.position
            o.fees += out.fee
            o.settled_funding = (o.settled_funding or Decimal(0)) + out.funding
            o.realized_pnl = (o.realized_pnl or Decimal(0)) + out.balance_delta
            notional += px * qty
            qty_total += qty
        assert pos is not None
        self.ledger.save_position(o.account_id, pos)
        before = o.filled
        o.filled += qty_total
        o.avg_price = (((o.avg_price or Decimal(0)) * before + notional) / o.filled).quantize(_Q12)
        o.last_filled_size = qty_total
        o.last_filled_price = (notional / qty_total).quantize(_Q12)
        o.last_filled_time = now
        o.status = "FILLED" if o.filled == Decimal(o.size) else "PARTIALLY_FILLED"
        self.ledger.update_order(o)

    def _after_fill(self, o: Order, fills: list[tuple[Decimal, Decimal]], now: int) -> None:
        """Public side of committed fills: deplete the book, print trades."""
        for px, qty in fills:
            self.prices.consume(o.symbol, o.is_buy, qty)
            trade = self.prices.record_trade(o.symbol, px, qty if o.is_buy else -qty, now)
            self._publish_trade(o.symbol, trade)

    def _publish_trade(self, symbol: str, t: Trade) -> None:
        channel = f"{symbol}@trades"
        if self.hub.wants(channel):
            self.hub.publish(channel, trade_json(t, self.markets[symbol], ws=True))

    def cancel_order(self, key: ApiKey, account: Account, body: Any) -> str:
        now = self.clock_ms()
        if not isinstance(body, dict):
            raise ApiError(wire.INVALID_PARAMETER, "body must be a JSON object")
        cancel = _field(body, "order", dict)
        sent = _field(cancel, "time", int, "order.")
        nonce = _field(cancel, "nonce", int, "order.")
        order_id = _field(cancel, "id", str, "order.")
        self._check_window(body, sent, now)
        self._check_signature(key, personal_digest(cancel_hash(cancel)), body.get("signature"), now)
        if self.ledger.nonce_used(account.id, nonce):
            raise ApiError(wire.DUPLICATE, f"Duplicate: nonce {nonce} was already used")
        o = self.ledger.order(order_id)
        if o is None or o.account_id != account.id or not o.is_open:
            raise ApiError(wire.ORDER_NOT_FOUND, f"Order not found or not open: {order_id}")
        with self.ledger.transaction():
            self.ledger.use_nonce(account.id, nonce, "cancel")
            o.status = "CANCELLED"
            self.ledger.update_order(o)
        self._count("cancels")
        self.hub.publish_account(account.id, wire.order_event(o, self.markets[o.symbol]))
        return o.id

    def match_resting(self, symbol: str | None = None) -> None:
        """Fill resting LIMIT orders the (new) book crosses, at their limit price."""
        now = self.clock_ms()
        for o in self.ledger.open_orders(symbol=symbol):
            if o.order_type != "LIMIT":
                continue
            limit = Decimal(o.limit_price)
            qty = min(o.remaining, self.prices.liquidity_through(o.symbol, o.is_buy, limit))
            if qty <= 0:
                continue
            reason = self._resting_fill_refusal(o, qty, limit)
            m = self.markets[o.symbol]
            if reason is not None:
                with self.ledger.transaction():
                    o.status, o.code = "REJECTED", reason
                    self.ledger.update_order(o)
                log.info("paper: resting order %s rejected at fill time (code %d)", o.id[:10], reason)
                self.hub.publish_account(o.account_id, wire.order_event(o, m))
                continue
            with self.ledger.transaction():
                self._fill(o, [(limit, qty)], now)
            self._after_fill(o, [(limit, qty)], now)
            self.hub.publish_account(o.account_id, wire.order_event(o, m))

    def _resting_fill_refusal(self, o: Order, qty: Decimal, limit: Decimal) -> int | None:
        pos = self.ledger.position(o.account_id, o.symbol)
        if o.reduce_only:
            try:
                self._check_reduce_only(pos.size if pos else Decimal(0), o.is_buy, o.remaining)
            except ApiError as exc:
                return exc.code
            return None
        state = self._state(o.account_id)
        sim = self._simulate(state, o.symbol, o.is_buy, [(limit, qty)])
        sim.orders = [
            r if r.order_id != o.id else RestingMargin(r.symbol, r.remaining - qty, r.price, r.reduce_only, r.order_id)
            for r in sim.orders
        ]
        return None if margin_allows(self._view(state), self._view(sim)) else wire.MARGIN_CHECK_FAILED

    # --- listen keys ---------------------------------------------------------------

    def create_listen_key(self, account: Account) -> str:
        now = self.clock_ms()
        current = self.ledger.listen_key_of(account.id)
        key = current.listen_key if current and current.expiry_ms > now else secrets.token_hex(16)
        with self.ledger.transaction():
            self.ledger.put_listen_key(ListenKey(key, account.id, now + self.listen_key_ttl_ms))
        return key

    def keepalive_listen_key(self, account: Account) -> str:
        now = self.clock_ms()
        current = self.ledger.listen_key_of(account.id)
        if current is None or current.expiry_ms <= now:
            raise ApiError(wire.INVALID_LISTEN_KEY, "Listen key expired. Make a POST request to create a new key.")
        with self.ledger.transaction():
            self.ledger.put_listen_key(ListenKey(current.listen_key, account.id, now + self.listen_key_ttl_ms))
        return current.listen_key

    def delete_listen_key(self, account: Account) -> None:
        current = self.ledger.listen_key_of(account.id)
        with self.ledger.transaction():
            self.ledger.delete_listen_key(account.id)
        if current is not None:
            self.hub.close_private(4004, current.listen_key)

    def listen_key_state(self, key: str) -> tuple[str, int | None, int | None]:
        """``(state, account_id, account_group)`` for a socket's listen key, where state
        is ``"ok"``, ``"unknown"`` or ``"expired"``."""
        row = self.ledger.listen_key(key)
        if row is None:
            return "unknown", None, None
        group = self.ledger.account(row.account_id).group
        return ("ok" if row.expiry_ms > self.clock_ms() else "expired"), row.account_id, group

    def expire_listen_keys(self) -> int:
        with self.ledger.transaction():
            self.ledger.expire_listen_keys(self.clock_ms())
        return self.hub.close_private(4005)

    # --- market data, ticks and funding --------------------------------------------

    def set_price(self, symbol: str, price: Decimal) -> None:
        self._market(symbol)
        self.prices.set_price(symbol, price, self.clock_ms())
        self._save_marks()
        self.match_resting(symbol)
        self.publish_market(symbols=[symbol])

    def tick(self) -> None:
        now = self.clock_ms()
        for symbol, trades in self.prices.step(now).items():
            for t in trades:
                self._publish_trade(symbol, t)
        self._save_marks()
        self.match_resting()
        self.publish_market()

    def maybe_fund(self) -> bool:
        """Apply funding once when the wall clock entered a new hour. A fresh ledger
        starts counting from the current hour; a server that was down for several hours
        applies one event, not one per missed hour."""
        now = self.clock_ms()
        hour = now - now % HOUR_MS
        last = self.ledger.get_meta("last_funding_ms")
        if last is None:
            with self.ledger.transaction():
                self.ledger.set_meta("last_funding_ms", str(hour))
            return False
        if hour > int(last):
            self.apply_funding(hour)
            return True
        return False

    def _save_marks(self) -> None:
        with self.ledger.transaction():
            self.ledger.save_marks([(s, st.mark, st.index, st.cum_funding) for s, st in self.prices.states.items()])

    def apply_funding(self, time_ms: int | None = None) -> dict[str, Decimal]:
        """One hourly funding event for every market: the cumulative index moves by
        ``rate × mark``; open positions accrue it (settled on their next fill)."""
        when = self.clock_ms() if time_ms is None else time_ms
        rates = {s: self.prices.funding_rate(s) for s in self.markets}
        new_cum = {s: (st.cum_funding + rates[s] * st.mark).quantize(_Q12) for s, st in self.prices.states.items()}
        with self.ledger.transaction():
            for s, rate in rates.items():
                self.ledger.add_funding(s, when, rate)
            st = self.prices.states
            self.ledger.save_marks([(s, st[s].mark, st[s].index, new_cum[s]) for s in st])
            self.ledger.set_meta("last_funding_ms", str(max(when, int(self.ledger.get_meta("last_funding_ms") or 0))))
        for s, cum in new_cum.items():
            self.prices.states[s].cum_funding = cum
        self._count("funding_events")
        log.info("paper: funding applied at %d", when)
        return rates

    def publish_market(self, symbols: list[str] | None = None) -> None:
        now = self.clock_ms()
        if self.hub.wants("tickers"):
            self.hub.publish("tickers", self.tickers_ws())
        for s in symbols or list(self.markets):
            if self.hub.wants(f"{s}@depth"):
                self.hub.publish(f"{s}@depth", self.depth_json(s, 20))
            if self.hub.wants(f"{s}@kline_1m"):
                bar = self.prices.current_bar(s, now)
                self.hub.publish(f"{s}@kline_1m", kline_json(bar, self.markets[s], 60_000, ws=True))

    def ticker_latest(self, symbols: list[str]) -> list[dict[str, Any]]:
        imbalance = self.ledger.net_sizes()
        out = []
        for s in symbols:
            st, m = self.prices.states[s], self.markets[s]
            out.append({
                "symbol": s,
                "markPrice": fmt(st.mark, m.price_decimals),
                "indexPrice": fmt(st.index, m.price_decimals),
                "imbalance": fmt(imbalance.get(s, Decimal(0)), m.size_decimals),
                "oneHrFundingRate": f"{self.prices.funding_rate(s):f}",
                "cumFunding": fmt(st.cum_funding, 12),
                "status": st.status,
            })
        return out

    def tickers_ws(self) -> list[dict[str, Any]]:
        now = self.clock_ms()
        out = []
        for row in self.ticker_latest(list(self.markets)):
            m = self.markets[row["symbol"]]
            stats = self.prices.stats_24h(row["symbol"], now)
            out.append({
                "symbol": row["symbol"],
                "oneHrFundingRate": row["oneHrFundingRate"],
                "cumFunding": row["cumFunding"],
                "imbalance": row["imbalance"],
                "indexPrice": row["indexPrice"],
                "markPrice": row["markPrice"],
                "priceChange": fmt(stats["change"], m.price_decimals),  # type: ignore[arg-type]
                "priceChangePercent": f"{stats['change_pct']:f}",
                "status": row["status"],
            })
        return out

    def ticker_24h(self, symbols: list[str]) -> list[dict[str, Any]]:
        now = self.clock_ms()
        out = []
        for s in symbols:
            m = self.markets[s]
            st: dict[str, Any] = self.prices.stats_24h(s, now)
            out.append({
                "symbol": s,
                "openPrice": fmt(st["open"], m.price_decimals),
                "closePrice": fmt(st["close"], m.price_decimals),
                "highPrice": fmt(st["high"], m.price_decimals),
                "lowPrice": fmt(st["low"], m.price_decimals),
                "quoteVolume": fmt(st["quote_volume"], 6),
                "volume": fmt(st["volume"], m.size_decimals),
                "priceChange": fmt(st["change"], m.price_decimals),
                "priceChangePercent": f"{st['change_pct']:f}",
                "openTime": st["open_time"],
                "closeTime": st["close_time"],
            })
        return out

    def depth_json(self, symbol: str, limit: int) -> dict[str, Any]:
        m = self.markets[symbol]
        bids, asks = self.prices.book(symbol)

        def side(levels: list[list[Decimal]]) -> list[list[str]]:
            return [[fmt(p, m.price_decimals), fmt(q, m.size_decimals)] for p, q in levels[:limit]]

        return {"bids": side(bids), "asks": side(asks)}


def trade_json(t: Trade, m: Market, *, ws: bool = False) -> dict[str, Any]:
    """A public trade; ``qty`` is negative when the taker sold. REST ids are integers
    (as documented), WS ids ``0x…`` strings (as in the WS sample)."""
    return {
        "id": f"0x{t.id:08x}" if ws else t.id,
        "price": fmt(t.price, m.price_decimals),
        "qty": fmt(t.qty, m.size_decimals),
        "quoteQty": fmt(abs(t.qty) * t.price, 6),
        "time": t.time,
    }


def kline_json(bar: Any, m: Market, interval_ms: int, *, ws: bool = False) -> list[Any]:
    """``[openTime, open, high, low, close, closeTime, volume, quoteVolume, numTrades]``
    (numTrades a string on WS, as in the docs' example)."""
    return [
        bar.open_time,
        fmt(bar.open, m.price_decimals),
        fmt(bar.high, m.price_decimals),
        fmt(bar.low, m.price_decimals),
        fmt(bar.close, m.price_decimals),
        bar.open_time + interval_ms - 1,
        fmt(bar.volume, m.size_decimals),
        fmt(bar.quote_volume, 6),
        str(bar.trades) if ws else bar.trades,
    ]
