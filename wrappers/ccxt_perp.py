"""``CcxtPerpExchange``: the unified contract over a ccxt async exchange, one class for every
venue of ``wrappers.ccxt_venues``.

ccxt does the wire (signing, endpoints, parsing); this class does what the contract
promises, the same way as for native venues. This file holds construction, orders and
cancels; the reads are ``wrappers.ccxt_reads``, leverage is ``wrappers.ccxt_leverage``, the
ccxt object is built by ``wrappers.ccxt_build``, its HTTP edge is ``wrappers.ccxt_http`` and
its sockets (ccxt.pro's watchers) are ``wrappers.ccxt_watch``.

* orders go through ``mpdex.orders`` (checked and rounded with ``Decimal`` from ccxt's market
  precision, directed, every rounding in ``adjustments``) before anything is sent; the strings
  ccxt would format are compared with ours and a difference refuses the order locally;
* market orders are IOC limit orders at the slippage cap; the client order id is always
  ours and a lost answer is reconciled by it (``fetchOrder`` by client id, or open + closed
  orders scanned), never re-sent (the order wire is ``wrappers.ccxt_orders``);
* ccxt's errors become ours (``wrappers.ccxt_errors``); an error raised before any request
  went out is a refusal, whatever its class;
* every HTTP request waits for our limiter (``shared_limiter`` per venue, host and account);
  ccxt's throttle is off (``enableRateLimit=False``); a rate-limit answer pauses the account's
  bucket; reads are retried within ``RetryPolicy``'s budgets, writes never are;
* ccxt's defaults that pay or credit ccxt (builder fees and their approvals, referrer codes,
  partner headers) are off unless ``builder_fees=True``;
* with ``use_ws`` (the default) the ccxt object is ccxt.pro's and the reads its entry lists
  in ``ws_reads`` (and ccxt.pro's ``has`` confirms) are socket-first with REST fallback
  (``wrappers.ccxt_watch``, the staleness rule of our own sockets); ``ws_supported`` says
  exactly those; ``use_ws=False`` pins REST. Sockets are not paced by our limiter.

ccxt (and ccxt.pro) is imported when the first instance is built, never at module import.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from mpdex.config import check_seconds
from mpdex.errors import BadRequest, ConfigError, ExchangeError, InvalidOrder, MpdexError, NotSupported, OrderNotFound
from mpdex.orders import MarketRules, OrderPlan, check_slippage, normalize_order, place_order
from mpdex.ratelimit import RateLimiter, shared_limiter
from mpdex.transport import RetryPolicy
from mpdex.types import CancelResult, LeverageInfo, LeverageUpdate, OrderRecord, OrderResult
from multi_perp_dex import MultiPerpDex, MultiPerpDexMixin

from . import ccxt_leverage as L
from .ccxt_build import build_ccxt_exchange
from .ccxt_http import install_fetch
from .ccxt_orders import CcxtOrderWire
from .ccxt_reads import CcxtReads
from .ccxt_venues import CcxtVenue, ccxt_venue
from .ccxt_watch import WATCH_METHODS, CcxtWatch

__all__ = ["CcxtPerpExchange", "DEFAULT_SLIPPAGE"]

log = logging.getLogger("mpdex.ccxt")

DEFAULT_SLIPPAGE = Decimal("0.005")
#: seconds a socket mark may be old and still set a market order's slippage cap (else REST)
CAP_MAX_AGE = 1.0


class CcxtPerpExchange(CcxtReads, MultiPerpDexMixin, MultiPerpDex):
    """A ccxt-backed venue. ``await create_exchange("paradex", keys)`` (or ``"ccxt:<id>"``),
    or ``await CcxtPerpExchange(venue="paradex", **key_fields).init()``.

    Options (keyword-only):
      ``slippage``          default market-order slippage cap (fraction, default 0.005)
      ``timeout``           seconds per HTTP request (ccxt's timeout)
      ``order_queue_wait``  seconds an order may wait for its rate-limit slot (default 5);
                            past that it is refused locally (``RateLimitExceeded``), nothing sent
      ``confirm_timeout``   seconds to poll a market order to a final state (default 2)
      ``rate_limits``       ``{"rest": (rate, burst)}`` for this account's limiter
      ``retry``             ``mpdex.transport.RetryPolicy``: the budgets and delays of read retries
      ``builder_fees``      True: keep ccxt's builder fees / referrals / approvals (off by default)
      ``ccxt_options``      extra ccxt ``options`` (merged last)
      ``network``           ``"mainnet"`` (default) or ``"testnet"`` (ccxt's sandbox URLs)
      ``rest_url``          replaces the scheme and host of every ccxt REST URL (paths kept)
      ``ws_url``            ccxt.pro's socket URL (a bare host keeps each socket path; default: rest_url's host)
      ``proxy``             an HTTP proxy for REST and sockets
      ``use_ws``            None (default): the key's ``fetch_by_ws`` / ``prefer_ws`` when set, else True;
                            False pins every read to REST
      ``ws_max_age``        seconds (default 5): socket data older than this is never served
    """

    def __init__(
        self,
        venue: str,
        *,
        slippage: Any = DEFAULT_SLIPPAGE,
        timeout: float = 10.0,
        order_queue_wait: float = 5.0,
        confirm_timeout: float = 2.0,
        rate_limits: Mapping[str, tuple[float, float]] | None = None,
        retry: RetryPolicy | None = None,
        builder_fees: bool = False,
        ccxt_options: Mapping[str, Any] | None = None,
        use_ws: bool | None = None,
        ws_max_age: float = 5.0,
        **key_fields: Any,
    ) -> None:
        super().__init__()
        self.entry: CcxtVenue = ccxt_venue(venue)
        self.name = self.entry.name
        try:
            self._slippage = check_slippage(slippage)
        except InvalidOrder as exc:
            raise ConfigError(f"slippage option: {exc.message}") from None
        self.order_queue_wait = check_seconds(order_queue_wait, "order_queue_wait", allow_zero=True)
        self.confirm_timeout = check_seconds(confirm_timeout, "confirm_timeout", allow_zero=True)
        timeout = check_seconds(timeout, "timeout")
        if not isinstance(builder_fees, bool):
            raise ConfigError("builder_fees must be a bool")
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise ConfigError("retry must be an mpdex.transport.RetryPolicy")
        self.builder_fees = builder_fees
        self.ws_max_age = check_seconds(ws_max_age, "ws_max_age")
        choice = next((v for v in (use_ws, key_fields.get("fetch_by_ws"), key_fields.get("prefer_ws")) if v is not None),
                      True)
        self.use_ws = bool(choice)
        self._watch: CcxtWatch | None = None
        for name, why in self.entry.requires.items():
            if not key_fields.get(name):
                raise ConfigError(f"{self.name} key_params is missing '{name}': {why}")
        credentials = self._credentials(key_fields)
        network = str(key_fields.get("network") or "mainnet").strip().lower()
        if network not in self.entry.networks:
            raise ConfigError(f"{self.name}: network must be one of {', '.join(self.entry.networks)}")
        self.network = network
        rest_url = key_fields.get("rest_url")
        if rest_url is not None and (not isinstance(rest_url, str) or not rest_url.startswith(("http://", "https://"))):
            raise ConfigError(f"{self.name}: rest_url must be an http:// or https:// URL")
        ws_url = key_fields.get("ws_url")
        if ws_url is not None and (not isinstance(ws_url, str) or not ws_url.startswith(("ws://", "wss://"))):
            raise ConfigError(f"{self.name}: ws_url must be a ws:// or wss:// URL")
        self._pro = self.use_ws and bool(self.entry.ws_reads)
        self.exchange: Any = build_ccxt_exchange(
            self.entry, credentials, builder_fees=builder_fees, ccxt_options=ccxt_options,
            timeout_ms=int(timeout * 1000), sandbox=self.entry.networks[network], rest_url=rest_url,
            ws_url=ws_url, proxy=key_fields.get("proxy"), pro=self._pro,
        )
        public = next((str(v) for t, v in credentials.items() if t == "walletAddress" and v), None)
        secret_id = next((str(v) for t, v in credentials.items() if t in ("apiKey", "privateKey") and v), "")
        if public:
            self._who = public[:6] + "…" + public[-4:] if len(public) > 12 else public
        else:  # no public address: a digest of the key names the account without showing it
            self._who = "acct-" + hashlib.sha256(secret_id.encode()).hexdigest()[:8]
        host = urlsplit(rest_url).netloc if rest_url else self.entry.ccxt_id
        self._limiter: RateLimiter = shared_limiter(("ccxt", self.entry.ccxt_id, host, self._who),
                                                    {"rest": self.entry.rate_limit}, rate_limits)
        install_fetch(self.exchange, self._limiter.bucket("rest"), strip=() if builder_fees else self.entry.strip_headers,
                      venue=self.name, policy=retry or RetryPolicy())
        self._markets: dict[str, dict[str, Any]] = {}
        self._native_by_unified: dict[str, str] = {}
        self._rules: dict[str, MarketRules] = {}
        self._closed = False
        self.CAPABILITIES = frozenset()

    def __repr__(self) -> str:
        return f"CcxtPerpExchange(venue={self.name}, ccxt={self.entry.ccxt_id}, account={self._who}, network={self.network})"

    def _credentials(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for field, target in self.entry.credentials.items():
            value = fields.get(field)
            if value is not None and value != "":
                out[target] = value.strip() if isinstance(value, str) else value
        if self.entry.key_rule is not None:
            out.update(self.entry.key_rule(fields))
        return out

    # -- setup -----------------------------------------------------------------------

    async def init(self) -> CcxtPerpExchange:
        """Load ccxt's markets; keep the linear perpetuals settled in the venue's collateral."""
        await self._read("load_markets", False, dict(self.entry.market_params))
        markets: dict[str, dict[str, Any]] = {}
        for market in self.exchange.markets.values():
            if not market.get("swap") or market.get("linear") is False:
                continue
            native = self._native_of_market(market)
            if native:
                markets[native] = market
        if not markets:
            raise ExchangeError(f"{self.name}: ccxt loaded no perpetual markets")
        self._markets = markets
        self._native_by_unified = {m["symbol"]: n for n, m in markets.items()}
        self.available_symbols = {"perp": sorted(markets)}
        caps = {"orders", "prepare", "markets"}
        if self._has("fetchPositions"):
            caps.add("positions")
        if self._has("fetchFundingRate") or self._has("fetchFundingRates"):
            caps.add("funding")
        caps.add("fees")
        self.CAPABILITIES = frozenset(caps)
        self.has_margin_mode = self._has("setMarginMode")
        reads = frozenset(r for r in self.entry.ws_reads if self._has(WATCH_METHODS[r])) if self._pro else frozenset()
        if reads and self._watch is None and not self._closed:
            self._watch = CcxtWatch(self.exchange, label=f"{self.name} {self._who}", reads=reads,
                                    mark_field=self.entry.ws_mark, unified=lambda n: self._markets[n]["symbol"],
                                    rest_book=lambda n: self._rest_book(n))
        self.ws_supported = {k: k in reads for k in self.ws_supported}
        log.info("%s %s: %d perpetual markets loaded through ccxt %s", self.name, self._who, len(markets),
                 self.entry.ccxt_id)
        return self

    # -- orders ----------------------------------------------------------------------

    def new_client_id(self) -> str:
        """A fresh client order id in this venue's format (see ``ccxt_venues``)."""
        rule = self.entry.client_id
        if rule.kind == "uint":
            if rule.maximum >= 10**15:  # ms clock + random digits: ordered, unique in practice
                return str((time.time_ns() // 1_000_000) * 1000 + secrets.randbelow(1000))
            return str(1 + secrets.randbelow(rule.maximum))
        if rule.kind == "hex128":
            return "0x" + secrets.token_hex(16)
        return str(uuid.uuid4())

    def check_client_id(self, client_id: Any) -> str:
        """The caller's ``client_id`` in the venue's format, or ``InvalidOrder`` before sending."""
        rule = self.entry.client_id
        if rule.kind == "uint":
            text = str(client_id).strip() if isinstance(client_id, (int, str)) and not isinstance(client_id, bool) \
                else ""
            if not text.isdigit() or not text.isascii() or not 0 < int(text) <= rule.maximum:
                raise InvalidOrder(f"{self.name}: client_id must be an integer in 1..{rule.maximum}, got {client_id!r}")
            return str(int(text))
        if not isinstance(client_id, str):
            raise InvalidOrder(f"{self.name}: client_id must be a string, got {client_id!r}")
        text = client_id.strip()
        if rule.kind == "hex128":
            body = text[2:] if text.lower().startswith("0x") else ""
            if len(body) != 32 or any(c not in "0123456789abcdefABCDEF" for c in body):
                raise InvalidOrder(f"{self.name}: client_id must be 0x + 32 hex digits, got {client_id!r}")
            return "0x" + body.lower()
        try:
            return str(uuid.UUID(text))
        except ValueError:
            raise InvalidOrder(f"{self.name}: client_id must be a UUID, got {client_id!r}") from None

    async def prepare_order(self, symbol: str, side: str, amount: Any, price: Any = None,
                            order_type: str | None = None, *, is_reduce_only: bool = False,
                            time_in_force: str | None = None, slippage: Any | None = None,
                            strict: bool = False) -> OrderPlan:
        """Check and round an order exactly as ``create_order`` would, without sending it."""
        rules = self.market_rules(symbol)
        slip = self._slippage if slippage is None else check_slippage(slippage)
        return await normalize_order(
            rules, side, amount, price, order_type, is_reduce_only=is_reduce_only, time_in_force=time_in_force,
            slippage=slip, mark=lambda: self._mark_decimal(rules.symbol, min(self.ws_max_age, CAP_MAX_AGE)),
            strict=strict, venue=self.name,
        )

    async def create_order(
        self,
        symbol: str,
        side: str,
        amount: Any,
        price: Any = None,
        order_type: str | None = None,
        *,
        is_reduce_only: bool = False,
        time_in_force: str | None = None,
        client_id: Any | None = None,
        slippage: Any | None = None,
        strict: bool = False,
    ) -> OrderResult:
        """Place an order (a price makes it a limit order). A market order goes out as an IOC
        limit order at ``mark × (1 ± slippage)``. ``client_id`` (the venue's format; default
        ``new_client_id()``) is the venue's client order id and comes back as
        ``client_order_id``. The result is what the venue recorded; an order whose fate
        cannot be established raises ``OrderStateUnknown`` — query it by ``client_order_id``."""
        cid = self.check_client_id(client_id) if client_id is not None else self.new_client_id()
        plan = await self.prepare_order(symbol, side, amount, price, order_type, is_reduce_only=is_reduce_only,
                                        time_in_force=time_in_force, slippage=slippage, strict=strict)
        wire = CcxtOrderWire(self, plan, cid)
        return await place_order(plan, cid, wire, venue=self.name, account=self._who, matches=wire.matches)

    async def get_order(self, *, order_id: str | None = None, client_order_id: Any | None = None,
                        symbol: str | None = None) -> OrderRecord:
        """One order by exchange id or client order id; ``OrderNotFound`` when absent. A filled
        order carries its fill price, fee and realised PnL when the venue recorded them."""
        if (order_id is None) == (client_order_id is None):
            raise BadRequest("give exactly one of order_id and client_order_id")
        unified = self._markets[self.resolve_symbol(symbol)]["symbol"] if symbol is not None else None
        if client_order_id is not None:
            cid = self.check_client_id(client_order_id)
            found = await self._find_by_client_id(cid, unified)
            if found is None:
                raise OrderNotFound(f"{self.name} has no order with client order id {cid}")
            return await self._with_fills(found, unified)
        if not self._has("fetchOrder"):
            raise NotSupported(f"{self.name}: ccxt cannot read one order by id here")
        order = await self._read("fetch_order", str(order_id), unified)
        return await self._with_fills(self._record(order), unified)

    async def cancel_orders(self, symbol: str, open_orders: Any = None) -> list[CancelResult]:
        """Cancel ``open_orders`` (an id, an order dict or a list of them; default: every open
        order of ``symbol``); one ``{id, order_id, symbol, status, error}`` each."""
        native = self.resolve_symbol(symbol)
        if open_orders is None:
            targets = [o["id"] for o in await self.get_open_orders(native)]
        else:
            items = [open_orders] if isinstance(open_orders, (str, Mapping)) else open_orders
            if not isinstance(items, (list, tuple)):
                raise BadRequest("open_orders must be an order id, an order dict or a list of them")
            targets = []
            for item in items:
                oid = item if isinstance(item, str) else (item.get("id") or item.get("order_id")) \
                    if isinstance(item, Mapping) else None
                if not isinstance(oid, str) or not oid.strip():
                    raise BadRequest(f"cannot cancel {item!r}: give an order id or an order dict with 'id'")
                targets.append(oid.strip())
        unified = self._markets[native]["symbol"]
        return list(await asyncio.gather(*(self._cancel_one(oid, native, unified) for oid in targets)))

    async def _cancel_one(self, order_id: str, native: str, unified: str) -> CancelResult:
        result: CancelResult = {"id": order_id, "order_id": order_id, "symbol": native, "status": "ok", "error": None}
        try:
            await self._call("cancel_order", order_id, unified)
        except MpdexError as exc:
            result["status"], result["error"], result["exception"] = "error", str(exc), exc
        log.info("%s %s cancel %s id=%s %s", self.name, self._who, native, order_id, result["status"])
        return result

    # -- leverage (wrappers.ccxt_leverage) ----------------------------------------------

    async def update_leverage(self, symbol: str, leverage: int | None = None,
                              margin_mode: str | None = None) -> LeverageUpdate:
        return await L.update_leverage(self, symbol, leverage, margin_mode)

    async def get_leverage_info(self, symbol: str) -> LeverageInfo:
        return await L.leverage_info(self, symbol)

    # -- life cycle --------------------------------------------------------------------

    async def close(self, force_close: bool = True) -> None:
        if self._closed:
            return
        self._closed = True
        self.ws_supported = dict.fromkeys(self.ws_supported, False)
        try:
            if self._watch is not None:
                await self._watch.close()
        finally:
            await self.exchange.close()
