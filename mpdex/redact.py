"""What identifiers look like in text that may be logged or shown: credentials redacted,
secret query values removed, addresses shortened."""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection

__all__ = ["redact_url", "redact_secrets", "safe_url", "short_address", "dataclass_repr"]

_USERINFO = re.compile(r"//[^/@\s'\"]*@")
#: query parameters whose values are secrets (listen keys, tokens, API keys, signatures)
_SECRET_QUERY = re.compile(r"(?i)((?:listenKey|token|api_?key|signature)=)[^&\s]+")


def redact_url(text: str) -> str:
    """Replace ``user:password@`` in every URL of ``text`` with ``<redacted>@``.

    Works on a bare URL and on free text that embeds one (aiohttp's proxy errors print
    the proxy URL with its credentials); it never spans whitespace or quotes.
    """
    return _USERINFO.sub("//<redacted>@", text)


def redact_secrets(text: str) -> str:
    """``text`` with credentials in URLs and secret query values replaced."""
    return _SECRET_QUERY.sub(r"\1<redacted>", redact_url(text))


def safe_url(url: str) -> str:
    """The URL without credentials or query (a listen key may travel in the query)."""
    return redact_url(url.split("?", 1)[0])


def short_address(address: object) -> str:
    """``0x5B61…6d95`` for log lines and tables; short values pass through."""
    text = str(address or "")
    return text if len(text) <= 12 else f"{text[:6]}…{text[-4:]}"


def dataclass_repr(obj: object, secrets: Collection[str], urls: Collection[str] = ("proxy",)) -> str:
    """``Name(field=value, …)`` of a dataclass instance (a key): each field in ``secrets``
    shows as ``'<redacted>'`` (``None`` when empty), credentials in the ``urls`` fields are
    removed."""
    shown = []
    for f in dataclasses.fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, f.name)
        if f.name in secrets:
            shown.append(f"{f.name}='<redacted>'" if value else f"{f.name}=None")
        elif f.name in urls and value:
            shown.append(f"{f.name}={redact_url(str(value))!r}")
        else:
            shown.append(f"{f.name}={value!r}")
    return f"{type(obj).__name__}({', '.join(shown)})"
