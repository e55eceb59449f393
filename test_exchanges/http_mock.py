"""aioresponses ↔ aiohttp 3.14 shim, shared by the REST test files
(import ``mock_http`` from here).

aioresponses 0.7.9 builds ``ClientResponse`` without the ``stream_writer`` argument that
aiohttp 3.14 made mandatory (pnuckowski/aioresponses#289, fix pending in PR #288). aiohttp
only reads ``stream_writer.output_size`` there, so a stand-in object is enough. On older
aiohttp the shim is a no-op.
"""
from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any
from unittest import mock

import aiohttp
import aioresponses.core
from aioresponses import aioresponses as _aioresponses

_NEEDS_WRITER = "stream_writer" in inspect.signature(aiohttp.ClientResponse.__init__).parameters


class CompatClientResponse(aiohttp.ClientResponse):
    def __init__(self, method: str, url: Any, **kwargs: Any) -> None:
        if _NEEDS_WRITER:
            kwargs.setdefault("stream_writer", SimpleNamespace(output_size=0))
        super().__init__(method, url, **kwargs)


@contextlib.contextmanager
def mock_http() -> Iterator[_aioresponses]:
    """``aioresponses()`` that works on aiohttp 3.14."""
    with mock.patch.object(aioresponses.core, "ClientResponse", CompatClientResponse), _aioresponses() as m:
        yield m

