"""A minimal exchange for factory and mixin tests (not collected: no ``test_`` prefix)."""
from __future__ import annotations

from typing import Any, ClassVar

from mpdex.errors import ExchangeUnavailable


class FakeExchange:
    instances: ClassVar[list[FakeExchange]] = []

    def __init__(self, api_key: str, secret: str, region: str, fail_init: bool, **options: Any) -> None:
        self.api_key, self.secret, self.region = api_key, secret, region
        self.fail_init = fail_init
        self.options = options
        self.initialised = False
        self.closed = 0
        FakeExchange.instances.append(self)

    async def init(self) -> FakeExchange:
        if self.fail_init:
            raise ExchangeUnavailable("exchangeInfo unreachable")
        self.initialised = True
        return self

    async def close(self) -> None:
        self.closed += 1
