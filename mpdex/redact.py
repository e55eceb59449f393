"""Keeping credentials out of text that may be logged or shown."""
from __future__ import annotations

import re

_USERINFO = re.compile(r"//[^/@\s'\"]*@")


def redact_url(text: str) -> str:
    """Replace ``user:password@`` in every URL of ``text`` with ``<redacted>@``.

    Works on a bare URL and on free text that embeds one (aiohttp's proxy errors print
    the proxy URL with its credentials); it never spans whitespace or quotes.
    """
    return _USERINFO.sub("//<redacted>@", text)
