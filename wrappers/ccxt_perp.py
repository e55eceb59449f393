"""``CcxtPerpExchange``: the unified contract over a ccxt async exchange, one class for every
venue of ``wrappers.ccxt_venues``.

ccxt does the wire (signing, endpoints, parsing); this class does what the contract
promises, the same way as for native venues:

* orders go through ``mpdex.orders`` (checked and rounded with ``Decimal`` from ccxt's market
  precision, directed, every rounding in ``adjustments``) before anything is sent; the strings
  ccxt would format are compared with ours and a difference refuses the order locally;
* market orders are IOC limit orders at the slippage cap; the client order id is always
  ours and a lost answer is reconciled by it (``fetchOrder`` by client id, or open + closed
  orders scanned), never re-sent (the order wire is ``wrappers.ccxt_orders``);
* ccxt's errors become ours (``wrappers.ccxt_errors``); an error raised before any request
  went out is a refusal, whatever its class;
* every HTTP request waits for our limiter (``shared_limiter`` per venue, host and account);
  ccxt's throttle is off (``enableRateLimit=False``);
* ccxt's defaults that pay or credit ccxt (builder fees and their approvals, referrer codes,
  partner headers) are off unless ``builder_fees=True``;
* ``ws_supported`` is all False: every read is REST (ccxt.pro's ``watch*`` are not used);
* ccxt's DEBUG lines of request headers and bodies (credentials) are reduced to method + URL.

ccxt is imported when the first instance is built, never at module import.
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
from urllib.parse import urlsplit, urlunsplit

from mpdex.config import check_seconds
from mpdex.errors import (
    BadRequest,
    BadSymbol,
    ConfigError,
    ExchangeError,
    InvalidOrder,
    MpdexError,
    NotSupported,
    OrderNotFound,
    RequestTimeout,
)
from mpdex.orders import (
    MarketRules,
    OrderPlan,
    check_slippage,
    normalize_order,
    place_order,
)
from mpdex.ratelimit import RateLimiter, shared_limiter
from mpdex.redact import safe_url
from mpdex.types import (
    CancelResult,
    Collateral,
    FundingRate,
    LeverageInfo,
    LeverageUpdate,
    MarketInfo,
    OpenOrder,
    OrderBook,
    OrderRecord,
    OrderResult,
    Position,
    TradingFees,
)
from multi_perp_dex import MultiPerpDex, MultiPerpDexMixin

from . import ccxt_parsers as P
from .ccxt_errors import map_ccxt_error
from .ccxt_orders import _QUEUE_WAIT, _SENT, CcxtOrderWire
from .ccxt_venues import CcxtVenue, ccxt_venue

__all__ = ["CcxtPerpExchange", "DEFAULT_SLIPPAGE", "build_ccxt_exchange"]

log = logging.getLogger("mpdex.ccxt")

DEFAULT_SLIPPAGE = Decimal("0.005")


class _WithholdRequestDetails(logging.Filter):
    """ccxt logs every request's headers and body at DEBUG (API keys, bearer tokens, session
    cookies, signatures): keep the method and the URL without its query, drop the rest."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.msg if isinstance(record.msg, str) else ""
        if ("Request:" in text or "Response:" in text) and isinstance(record.args, tuple) and len(record.args) >= 2:
            record.msg = "%s %s (headers and body withheld: they carry credentials)"
            record.args = (record.args[0], safe_url(str(record.args[1])))
        return True


_CCXT_LOG_FILTER = _WithholdRequestDetails()


def _set_path(target: dict[str, Any], path: str, value: Any) -> None:
    head, _, rest = path.partition(".")
    if not rest:
        target[head] = value
        return
    node = target.get(head)
    if not isinstance(node, dict):
        node = target[head] = {}
    _set_path(node, rest, value)


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = dict(value) if isinstance(value, Mapping) else value
    return base


def _rehost(url: str, base: str) -> str:
    """``url`` with its scheme and host replaced by ``base``'s, ``base``'s path prefixed."""
    old, new = urlsplit(url), urlsplit(base)
    path = new.path.rstrip("/") + old.path
    return urlunsplit((new.scheme, new.netloc, path, old.query, old.fragment))


def _override_urls(api: Any, base: str, *, skip: tuple[str, ...] = ("ws",)) -> Any:
    """Every REST URL of ccxt's ``urls['api']`` moved onto ``base`` (paths kept)."""
    if isinstance(api, str):
        return _rehost(api, base) if api.startswith("http") else api
    if isinstance(api, dict):
        return {k: (v if k in skip else _override_urls(v, base, skip=skip)) for k, v in api.items()}
    return api


def build_ccxt_exchange(entry: CcxtVenue, credentials: Mapping[str, Any], *, builder_fees: bool,
                        ccxt_options: Mapping[str, Any] | None, timeout_ms: int, sandbox: bool,
                        rest_url: str | None, ws_url: str | None, proxy: str | None) -> Any:
    """The configured ccxt async exchange (ccxt imported here, on first use)."""
    try:
        import ccxt
        import ccxt.async_support as ccxt_async
    except ImportError:
        raise ConfigError(f"{entry.name} runs through ccxt, which is not installed: pip install "
                          "'mpdex-vest[ccxt]'") from None
    cls = getattr(ccxt_async, entry.ccxt_id, None)
    if cls is None:
        raise NotSupported(f"{entry.name}: the installed ccxt {ccxt.__version__} has no exchange "
                           f"'{entry.ccxt_id}'; a newer ccxt 4.5.x is needed")
    if entry.disabled_methods and not builder_fees:
        cls = type(f"{cls.__name__}NoBuilder", (cls,), {m: _disabled(entry.name, m) for m in entry.disabled_methods})
    options: dict[str, Any] = {}
    if not builder_fees:
        _merge(options, entry.options)
    config: dict[str, Any] = {"enableRateLimit": False, "timeout": timeout_ms}
    for target, value in credentials.items():
        if target.startswith("options."):
            _set_path(options, target[len("options."):], value)
        else:
            config[target] = value
    _merge(options, ccxt_options or {})
    config["options"] = options
    exchange = cls(config)
    if sandbox:
        exchange.set_sandbox_mode(True)
    if rest_url:
        exchange.urls["api"] = _override_urls(exchange.urls.get("api"), rest_url)
    if ws_url and isinstance(exchange.urls.get("api"), dict) and "ws" in exchange.urls["api"]:
        exchange.urls["api"]["ws"] = _override_urls(exchange.urls["api"]["ws"], ws_url, skip=())
    if proxy:
        exchange.aiohttp_proxy = proxy
    ccxt_log = logging.getLogger("ccxt.base.exchange")
    if _CCXT_LOG_FILTER not in ccxt_log.filters:
        ccxt_log.addFilter(_CCXT_LOG_FILTER)
    return exchange


def _disabled(venue: str, method: str) -> Any:
    async def disabled(self: Any, *args: Any, **kwargs: Any) -> bool:
        log.debug("%s: ccxt %s() skipped (builder fees / referrals are off)", venue, method)
        return False

    disabled.__name__ = method
    return disabled


class CcxtPerpExchange(MultiPerpDexMixin, MultiPerpDex):
    """A ccxt-backed venue. ``await create_exchange("paradex", keys)`` (or ``"ccxt:<id>"``),
    or ``await CcxtPerpExchange(venue="paradex", **key_fields).init()``.

    Options (keyword-only):
      ``slippage``          default market-order slippage cap (fraction, default 0.005)
      ``timeout``           seconds per HTTP request (ccxt's timeout)
      ``order_queue_wait``  seconds an order may wait for its rate-limit slot (default 5);
                            past that it is refused locally (``RateLimitExceeded``), nothing sent
      ``confirm_timeout``   seconds to poll a market order to a final state (default 2)
      ``rate_limits``       ``{"rest": (rate, burst)}`` for this account's limiter
      ``builder_fees``      True: keep ccxt's builder fees / referrals / approvals (off by default)
      ``ccxt_options``      extra ccxt ``options`` (merged last)
      ``network``           ``"mainnet"`` (default) or ``"testnet"`` (ccxt's sandbox URLs)
      ``rest_url``          replaces the scheme and host of every ccxt REST URL (paths kept)
      ``ws_url``, ``proxy`` the socket URL (unused while ``ws_supported`` is all False), a proxy
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
        builder_fees: bool = False,
        ccxt_options: Mapping[str, Any] | None = None,
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
        self.builder_fees = builder_fees
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
        self.exchange: Any = build_ccxt_exchange(
            self.entry, credentials, builder_fees=builder_fees, ccxt_options=ccxt_options,
            timeout_ms=int(timeout * 1000), sandbox=self.entry.networks[network], rest_url=rest_url,
            ws_url=key_fields.get("ws_url"), proxy=key_fields.get("proxy"),
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
        self._wrap_fetch()
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

    def _wrap_fetch(self) -> None:
        original = self.exchange.fetch
        strip = {h.lower() for h in self.entry.strip_headers} if not self.builder_fees else set()
        bucket = self._limiter.bucket("rest")

        async def fetch(url: str, method: str = "GET", headers: Any = None, body: Any = None) -> Any:
            await bucket.acquire(max_wait=_QUEUE_WAIT.get())
            if strip and headers:
                headers = {k: v for k, v in headers.items() if k.lower() not in strip}
            sent = _SENT.get()
            if sent is not None:
                sent.append(f"{method} {safe_url(url)}")
            return await original(url, method, headers, body)

        self.exchange.fetch = fetch

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return await getattr(self.exchange, method)(*args, **kwargs)
        except MpdexError:
            raise
        except Exception as exc:
            raise map_ccxt_error(exc, self.name) from exc

    def _has(self, feature: str) -> bool:
        return self.exchange.has.get(feature) in (True, "emulated")

    # -- setup -----------------------------------------------------------------------

    async def init(self) -> CcxtPerpExchange:
        """Load ccxt's markets; keep the linear perpetuals settled in the venue's collateral."""
        await self._call("load_markets", False, dict(self.entry.market_params))
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
        log.info("%s %s: %d perpetual markets loaded through ccxt %s", self.name, self._who, len(markets),
                 self.entry.ccxt_id)
        return self

    def _native_of_market(self, market: Mapping[str, Any]) -> str | None:
        rule = self.entry.native
        if rule.startswith("info:"):
            value = (market.get("info") or {}).get(rule[5:])
        else:
            value = market.get(rule)
        return str(value) if value not in (None, "") else None

    def _native_of_unified(self, symbol: Any) -> str | None:
        return self._native_by_unified.get(symbol) if isinstance(symbol, str) else None

    def resolve_symbol(self, coin_or_symbol: str) -> str:
        """A native symbol, a ccxt unified symbol or a bare coin → the native symbol."""
        if not self._markets:
            raise ConfigError(f"{self.name}: init() has not loaded the markets yet")
        if not isinstance(coin_or_symbol, str) or not coin_or_symbol.strip():
            raise BadSymbol(f"symbol must be a non-empty string, got {coin_or_symbol!r}")
        text = coin_or_symbol.strip()
        if text in self._markets:
            return text
        if text in self._native_by_unified:
            return self._native_by_unified[text]
        folded = {n.lower(): n for n in self._markets}
        if text.lower() in folded:
            return folded[text.lower()]
        coin = text.upper()
        found = [n for n, m in self._markets.items()
                 if str(m.get("base") or "").upper() == coin or str(m.get("baseName") or "").upper() == coin]
        if len(found) > 1:
            found = [n for n in found if self._markets[n].get("settle") == self.entry.collateral] or found
        if len(found) == 1:
            return found[0]
        close = sorted(n for n in self._markets if coin in n.upper())[:5]
        hint = f"; close matches: {', '.join(close)}" if close else ""
        raise BadSymbol(f"{self.name} has no perpetual market {coin_or_symbol!r}{hint}")

    def _market(self, symbol: str) -> tuple[str, dict[str, Any]]:
        native = self.resolve_symbol(symbol)
        return native, self._markets[native]

    def market_rules(self, symbol: str) -> MarketRules:
        native, market = self._market(symbol)
        rules = self._rules.get(native)
        if rules is None:
            rules = self._rules[native] = P.market_rules(
                market, native, self.exchange.precisionMode, price_grid=self.entry.price_grid,
                limit_tifs=self.entry.limit_tifs, quote=self.entry.collateral)
        return rules

    def get_perp_quote(self, symbol: str, *, is_basic_coll: bool = False) -> str:
        _, market = self._market(symbol)
        return str(market.get("settle") or self.entry.collateral)

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
            slippage=slip, mark=lambda: self._mark_decimal(rules.symbol), strict=strict, venue=self.name,
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
        """One order by exchange id or client order id; ``OrderNotFound`` when absent."""
        if (order_id is None) == (client_order_id is None):
            raise BadRequest("give exactly one of order_id and client_order_id")
        unified = self._markets[self.resolve_symbol(symbol)]["symbol"] if symbol is not None else None
        if client_order_id is not None:
            cid = self.check_client_id(client_order_id)
            found = await self._find_by_client_id(cid, unified)
            if found is None:
                raise OrderNotFound(f"{self.name} has no order with client order id {cid}")
            return found
        if not self._has("fetchOrder"):
            raise NotSupported(f"{self.name}: ccxt cannot read one order by id here")
        order = await self._call("fetch_order", str(order_id), unified)
        return self._record(order)

    def _record(self, order: Mapping[str, Any]) -> OrderRecord:
        return P.parse_order(order, self._native_of_unified, self.entry.collateral)

    async def _find_by_client_id(self, cid: str, unified: str | None) -> OrderRecord | None:
        if self.entry.lookup == "fetch_order":
            try:
                order = await self._call("fetch_order", None, unified, {"clientOrderId": cid})
            except OrderNotFound:
                return None
            except ExchangeError as exc:
                if any(code in str(exc) for code in self.entry.not_found_codes):
                    return None
                raise
            if not order or order.get("id") in (None, ""):
                return None  # e.g. Hyperliquid's {"status": "unknownOid"}
            record = self._record(order)
            if record["client_order_id"] not in (None, cid):
                raise ExchangeError(f"{self.name} answered order {record['id']} with client id "
                                    f"{record['client_order_id']} for a lookup of {cid}", raw=record["raw"])
            return record
        sources = ["fetch_open_orders"]
        if self._has("fetchClosedOrders"):
            sources.append("fetch_closed_orders")
        elif self._has("fetchOrders"):
            sources.append("fetch_orders")
        for source in sources:
            for order in await self._call(source, unified):
                if str(order.get("clientOrderId")) == cid:
                    return self._record(order)
        return None

    async def get_open_orders(self, symbol: str | None = None) -> list[OpenOrder]:
        unified = self._markets[self.resolve_symbol(symbol)]["symbol"] if symbol is not None else None
        orders = await self._call("fetch_open_orders", unified)
        out = []
        for order in orders:
            record = self._record(order)
            if record["symbol"] in self._markets:
                out.append(P.as_open_order(record))
        out.sort(key=lambda o: (o["created_at"] or 0, o["id"]))
        return out

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

    # -- account ---------------------------------------------------------------------

    async def get_positions(self) -> list[Position]:
        if not self._has("fetchPositions"):
            raise NotSupported(f"{self.name}: ccxt cannot read positions here")
        out = []
        for raw in await self._call("fetch_positions"):
            native = self._native_of_unified(raw.get("symbol"))
            if native is None:
                continue
            position = P.parse_position(raw, native)
            if position is not None:
                out.append(position)
        return sorted(out, key=lambda p: p["symbol"])

    async def get_position(self, symbol: str) -> Position | None:
        native = self.resolve_symbol(symbol)
        for position in await self.get_positions():
            if position["symbol"] == native:
                return position
        return None

    async def get_collateral(self) -> Collateral:
        """``available_collateral`` / ``total_collateral`` in the venue's collateral currency:
        ccxt's balance (free / total), or the venue's account summary where ccxt's balance
        has no free figure (``account_summary`` in the venue entry)."""
        summary = self.entry.account_summary
        if not summary:
            return P.parse_collateral(await self._call("fetch_balance"), self.entry.collateral)
        if summary.get("auth"):
            await self._call(summary["auth"])
        raw = await self._call(summary["method"])
        if summary.get("root") and isinstance(raw, Mapping):
            raw = raw.get(summary["root"])
        values = {k: P.dec(raw.get(summary[k])) if isinstance(raw, Mapping) else None
                  for k in ("available", "total", "margin_used") if k in summary}
        if values.get("available") is None or values.get("total") is None:
            raise ExchangeError(f"{self.name}: the account summary has no {summary['available']}/{summary['total']}",
                                raw=raw)
        out: Collateral = {"available_collateral": float(values["available"]),  # type: ignore[arg-type]
                           "total_collateral": float(values["total"]), "raw": raw}  # type: ignore[arg-type]
        if values.get("margin_used") is not None:
            out["margin_used"] = float(values["margin_used"])  # type: ignore[arg-type]
        return out

    async def update_leverage(self, symbol: str, leverage: int | None = None,
                              margin_mode: str | None = None) -> LeverageUpdate:
        native, market = self._market(symbol)
        if leverage is None and margin_mode is None:
            raise BadRequest("give leverage and/or margin_mode")
        mode = str(margin_mode).lower() if margin_mode is not None else None
        if mode is not None and mode not in ("cross", "isolated"):
            raise BadRequest(f"margin_mode must be 'cross' or 'isolated', got {margin_mode!r}")
        lev: int | None = None
        if leverage is not None:
            value: Any = leverage
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            maximum = ((market.get("limits") or {}).get("leverage") or {}).get("max")
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0 or \
                    (maximum is not None and value > maximum):
                raise BadRequest(f"leverage must be a positive integer{f' up to {maximum}' if maximum else ''}, "
                                 f"got {leverage!r}")
            lev = value
        missing = [w for w, need, feature in (("leverage", lev is not None, "setLeverage"),
                                              ("margin mode", mode is not None, "setMarginMode"))
                   if need and not self._has(feature)]
        if missing:
            return {"status": "not_implemented", "leverage": lev, "margin_mode": mode, "symbol": native,
                    "message": f"ccxt's {self.entry.ccxt_id} cannot set the {' and '.join(missing)}"}
        unified = market["symbol"]
        if mode is not None:
            await self._call("set_margin_mode", mode, unified, {"leverage": lev} if lev is not None else {})
        if lev is not None:
            await self._call("set_leverage", lev, unified, {"marginMode": mode} if mode is not None else {})
        log.info("%s %s leverage %s -> %s %s", self.name, self._who, native, lev, mode)
        return {"status": "ok", "leverage": lev, "margin_mode": mode, "symbol": native}

    async def get_leverage_info(self, symbol: str) -> LeverageInfo:
        native, market = self._market(symbol)
        maximum = ((market.get("limits") or {}).get("leverage") or {}).get("max")
        info: LeverageInfo = {
            "symbol": native, "leverage": None, "margin_mode": None,
            "max_leverage": int(maximum) if maximum is not None else None,
            "available_margin_modes": ["cross", "isolated"] if self._has("setMarginMode") else [], "status": "ok",
        }
        if not self._has("fetchLeverage"):
            info["message"] = "ccxt cannot read the account's leverage here; max_leverage is the market's"
            return info
        answer = await self._call("fetch_leverage", market["symbol"])
        lev = answer.get("longLeverage") or answer.get("shortLeverage")
        info["leverage"] = int(lev) if isinstance(lev, (int, float)) else None
        info["margin_mode"] = answer.get("marginMode")
        return info

    # -- market data -------------------------------------------------------------------

    async def _mark_decimal(self, native: str) -> Decimal:
        unified = self._markets[native]["symbol"]
        mark = None
        if self._has("fetchTicker"):
            ticker = await self._call("fetch_ticker", unified)
            mark = P.dec(ticker.get("markPrice"))
        if mark is None and (self._has("fetchFundingRate") or self._has("fetchFundingRates")):
            mark = P.dec((await self._funding(native)).get("markPrice"))
        if mark is None or mark <= 0:
            raise ExchangeError(f"{self.name}: ccxt gives no positive mark price for {native}")
        return mark

    async def get_mark_price(self, symbol: str) -> float:
        return float(await self._mark_decimal(self.resolve_symbol(symbol)))

    async def get_orderbook(self, symbol: str, timeout: float = 5.0) -> OrderBook:
        timeout = check_seconds(timeout, "timeout")
        native, market = self._market(symbol)
        try:
            book = await asyncio.wait_for(self._call("fetch_order_book", market["symbol"]), timeout)
        except asyncio.TimeoutError:
            raise RequestTimeout(f"no order book for {native} within {timeout:g}s") from None
        return {
            "bids": [[float(p), float(s)] for p, s, *_ in book.get("bids") or []],
            "asks": [[float(p), float(s)] for p, s, *_ in book.get("asks") or []],
            "time": time.time_ns() // 1_000_000,
        }

    async def get_funding_rate(self, symbol: str) -> FundingRate:
        """The current rate with ccxt's reported interval (``interval_hours``) and its
        per-hour value; ``NotSupported`` when ccxt does not say what the interval is."""
        native = self.resolve_symbol(symbol)
        return P.parse_funding_rate(await self._funding(native), native, self.name)

    async def _funding(self, native: str) -> Mapping[str, Any]:
        unified = self._markets[native]["symbol"]
        if self._has("fetchFundingRate"):
            rate: Mapping[str, Any] = await self._call("fetch_funding_rate", unified)
            return rate
        if self._has("fetchFundingRates"):
            rates = await self._call("fetch_funding_rates", [unified])
            found = rates.get(unified) if isinstance(rates, Mapping) else None
            if found is None:
                raise ExchangeError(f"{self.name}: ccxt returned no funding rate for {native}")
            return found  # type: ignore[no-any-return]
        raise NotSupported(f"{self.name}: ccxt {self.entry.ccxt_id} reads no funding rates")

    async def get_markets(self) -> list[MarketInfo]:
        """Every loaded perpetual's rules as the adapter applies them (``market_rules``) and
        ccxt's market flags (``active`` → TRADING/HALT, leverage limits, fee rates)."""
        out: list[MarketInfo] = []
        for native in sorted(self._markets):
            market, rules = self._markets[native], self.market_rules(native)
            grid = rules.price_grid
            tick = getattr(grid, "tick", None)
            lev = ((market.get("limits") or {}).get("leverage") or {}).get("max")
            active = market.get("active")
            out.append({
                "symbol": native, "base": str(market.get("base") or native), "quote": rules.quote,
                "status": "UNKNOWN" if active is None else "TRADING" if active else "HALT",
                "size_step": float(rules.size_step), "min_size": float(rules.min_size),
                "tick": float(tick) if isinstance(tick, Decimal) else None, "price_rule": grid.describe(),
                "min_notional": None if rules.min_notional is None else float(rules.min_notional),
                "max_leverage": int(lev) if isinstance(lev, (int, float)) and lev > 0 else None,
                "taker_fee": P.num(market.get("taker")), "maker_fee": P.num(market.get("maker")),
            })
        return out

    async def get_trading_fees(self, symbol: str) -> TradingFees:
        """The account's fees when ccxt can read them (``fetchTradingFee``), else the market's."""
        native, market = self._market(symbol)
        source: Mapping[str, Any] = market
        if self._has("fetchTradingFee"):
            source = await self._call("fetch_trading_fee", market["symbol"])
        maker, taker = P.dec(source.get("maker")), P.dec(source.get("taker"))
        if maker is None or taker is None:
            raise ExchangeError(f"{self.name}: ccxt gives no maker/taker fee for {native}")
        return {"symbol": native, "maker": float(maker), "taker": float(taker)}

    # -- life cycle --------------------------------------------------------------------

    async def close(self, force_close: bool = True) -> None:
        if self._closed:
            return
        self._closed = True
        await self.exchange.close()
