"""The aioresponses shim in ``http_mock`` serves mocked bodies on this aiohttp."""
from __future__ import annotations

import aiohttp

from test_exchanges.http_mock import mock_http


async def test_shim_serves_a_mocked_json_body():
    with mock_http() as m:
        m.get("http://127.0.0.1:9/x", payload={"ok": True}, headers={"Retry-After": "1"})
        async with aiohttp.ClientSession() as s, s.get("http://127.0.0.1:9/x") as resp:
            assert resp.status == 200 and await resp.json() == {"ok": True}
            assert resp.headers["Retry-After"] == "1"
