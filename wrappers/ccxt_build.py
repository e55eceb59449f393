"""Building the ccxt async exchange one venue entry describes (``wrappers.ccxt_venues``).

* ccxt is imported here, when the first instance is built, never at module import;
* ccxt's throttle is off (``enableRateLimit=False``): our limiter paces every request
  (``wrappers.ccxt_http``);
* ccxt's defaults that pay or credit ccxt (builder fees and their approvals, referrer codes)
  are off unless ``builder_fees=True``: the entry's options are forced and its approval /
  referral methods become no-ops;
* ``rest_url`` moves every REST URL of ccxt's ``urls['api']`` onto another host, paths kept;
* with ``pro`` the class is ccxt.pro's (the same REST code plus ``watch*``; imported here, on
  first use). Its socket URLs (``urls['api']['ws']``) follow ``ws_url``: a URL with a path is
  the one socket URL, a bare ``ws[s]://host[:port]`` moves every socket URL onto that host,
  paths kept; without ``ws_url`` they follow ``rest_url``'s host (``http`` → ``ws``, ``https``
  → ``wss``), so sockets never talk to another server than REST. ccxt.pro's socket throttle
  is off with ccxt's (``enableRateLimit=False``); our limiter paces REST only;
* ccxt's DEBUG lines of request headers and bodies (credentials) are reduced to method + URL.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from mpdex.errors import ConfigError, NotSupported
from mpdex.redact import safe_url

from .ccxt_venues import CcxtVenue

__all__ = ["build_ccxt_exchange"]

log = logging.getLogger("mpdex.ccxt")


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


def _socket_url(url: str, ws_url: str | None, rest_url: str | None) -> str:
    """One socket URL of ccxt's ``urls['api']['ws']`` after the overrides (see above)."""
    if ws_url:
        if urlsplit(ws_url).path.strip("/"):
            return ws_url
        return _rehost(url, ws_url)
    if rest_url:
        new = urlsplit(rest_url)
        scheme = "wss" if new.scheme == "https" else "ws"
        return _rehost(url, urlunsplit((scheme, new.netloc, new.path, "", "")))
    return url


def _override_ws(api: Any, ws_url: str | None, rest_url: str | None) -> Any:
    if isinstance(api, str):
        return _socket_url(api, ws_url, rest_url) if api.startswith(("ws://", "wss://")) else api
    if isinstance(api, dict):
        return {k: _override_ws(v, ws_url, rest_url) for k, v in api.items()}
    return api


def build_ccxt_exchange(entry: CcxtVenue, credentials: Mapping[str, Any], *, builder_fees: bool,
                        ccxt_options: Mapping[str, Any] | None, timeout_ms: int, sandbox: bool,
                        rest_url: str | None, ws_url: str | None, proxy: str | None, pro: bool = False) -> Any:
    """The configured ccxt async exchange, ccxt.pro's class with ``pro`` (ccxt imported here,
    on first use)."""
    try:
        import ccxt
        import ccxt.async_support as ccxt_async
    except ImportError:
        raise ConfigError(f"{entry.name} runs through ccxt, which is not installed: pip install "
                          "'mpdex-vest[ccxt]'") from None
    cls = getattr(ccxt_async, entry.ccxt_id, None)
    if pro and cls is not None:
        import ccxt.pro as ccxt_pro

        cls = getattr(ccxt_pro, entry.ccxt_id, None)
        if cls is None:
            raise NotSupported(f"{entry.name}: the installed ccxt {ccxt.__version__} has no ccxt.pro class "
                               f"'{entry.ccxt_id}'; use use_ws=False")
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
    for group in ("api", "test") if ws_url or rest_url else ():  # some ccxt.pro code reads urls['test'] on testnet
        urls = exchange.urls.get(group)
        if isinstance(urls, dict) and "ws" in urls:
            urls["ws"] = _override_ws(urls["ws"], ws_url, rest_url)
    if proxy:
        exchange.aiohttp_proxy = proxy
        if pro:  # ccxt.pro's sockets take an HTTP proxy as wsProxy (aiohttp's ws_connect proxy)
            exchange.wsProxy = proxy
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

