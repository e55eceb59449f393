"""Who may do what on the Vest paper server: ``/register`` (EIP-712 SignerProof), API-key
authentication, the account-group headers, and the checks every signed request passes
(``recvWindow`` and the signature of the API key's signing key).

* ``/register`` verifies the SignerProof against the ``network``'s contract (``dev`` by
  default), wants ``networkType`` 0 (else 1024) and an ``expiryTime`` in the future (else
  1130). Registering the same primary address again adds a new API key and signer; earlier
  keys keep working until their own signer expires. A new account starts with 0 USDC, or
  with ``register_usdc`` (``--register-usdc``) so a client that registers itself can trade.
* An expired signer gets 1022 on orders and cancels ("register again"); reads with its API
  key keep working, so a client can still look at its account.
* ``time`` more than 1 s ahead of the server, or a ``recvWindow`` outside 1..60000 → 1131;
  ``now > time + recvWindow`` (default 5000) → 1132.
"""
from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from mpdex.paper.ledger import Account
from mpdex.paper.simulator import Simulator
from mpdex.redact import short_address
from wrappers.vest_auth import recover_address, register_digest, to_checksum_address

from . import errors as E
from .errors import DETAIL, ApiError
from .store import ACCOUNT_GROUPS, ApiKey, VestStore

__all__ = ["VestAuth", "field"]

log = logging.getLogger("mpdex.paper")

DEFAULT_RECV_WINDOW = 5_000
MAX_RECV_WINDOW = 60_000
CLOCK_AHEAD_MS = 1_000
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_GROUP = re.compile(r"^restserver([0-9]+)$")


def field(obj: Mapping[str, Any], name: str, kind: type, where: str = "") -> Any:
    """``obj[name]`` if it has JSON type ``kind`` (``int``: non-negative), else 1130."""
    value: Any = obj.get(name)
    if kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    else:
        ok = isinstance(value, kind)
    if not ok:
        what = {int: "a non-negative integer", str: "a string", bool: "a boolean", dict: "an object"}[kind]
        raise ApiError(E.INVALID_PARAMETER, f"{where}{name} must be {what}")
    return value


def group_of_header(header: str) -> int | None:
    """The group ``N`` of ``restserverN`` (``None`` if malformed)."""
    match = _GROUP.match(header)
    return int(match.group(1)) if match else None


class VestAuth:
    def __init__(self, sim: Simulator, store: VestStore, network: str, register_usdc: Decimal = Decimal(0)) -> None:
        self.sim = sim
        self.store = store
        self.network = network
        self.register_usdc = register_usdc

    def register(self, body: Any, *, fund: bool = True) -> dict[str, Any]:
        """Register a signer; a new account gets ``register_usdc`` when ``fund`` (the
        venue's own ``create_account`` funds its accounts itself)."""
        if not isinstance(body, dict):
            raise ApiError(E.INVALID_PARAMETER, "body must be a JSON object")
        signing = field(body, "signingAddr", str)
        primary = field(body, "primaryAddr", str)
        signature: Any = body.get("signature")
        expiry = field(body, "expiryTime", int)
        network_type = field(body, "networkType", int)
        for name, addr in (("signingAddr", signing), ("primaryAddr", primary)):
            if not _ADDRESS.match(addr):
                raise ApiError(E.INVALID_PARAMETER, f"{name} must be a 0x-prefixed 20-byte hex address")
        if network_type != 0:
            raise ApiError(E.INVALID_NETWORK_TYPE, f"networkType {network_type} is not supported; send 0")
        now = self.sim.clock_ms()
        if expiry <= now:
            raise ApiError(E.INVALID_PARAMETER, "expiryTime must be in the future (milliseconds)")
        try:
            signer = recover_address(register_digest(signing, expiry, self.network), signature)
        except ValueError:
            raise ApiError(E.INVALID_SIGNATURE, "Invalid signature", DETAIL) from None
        if signer.lower() != primary.lower():
            raise ApiError(E.INVALID_SIGNATURE, "Invalid signature: SignerProof is not signed by primaryAddr", DETAIL)
        api_key = secrets.token_hex(16)
        with self.sim.ledger.transaction():
            account, created = self.sim.open_account(primary)
            group = self.store.assign_group(account.id)
            self.store.add_api_key(ApiKey(api_key, account.id, to_checksum_address(signing), expiry), now)
            if created and fund and self.register_usdc > 0:
                self.sim.deposit(account.id, self.register_usdc)
        log.info("paper: registered signer %s for account %s (group %d)", short_address(signing), short_address(primary), group)
        self.sim.count("registrations")
        return {"apiKey": api_key, "accGroup": group}

    def authenticate(self, api_key: str | None) -> tuple[ApiKey, Account]:
        key = self.store.api_key(api_key) if api_key else None
        if key is None:
            raise ApiError(E.UNAUTHORIZED, "Unauthorized: unknown or missing X-API-KEY", DETAIL)
        return key, self.sim.ledger.account(key.account_id)

    def check_group(self, header: str | None, account: Account) -> None:
        """Private calls: a missing ``xrestservermm`` is accepted (the API key identifies
        the account; a connector that traded on production never sends it); one that is
        present must name the key's own group, so a hard-coded wrong group fails at once."""
        if header is None:
            return
        expected = f"restserver{self.store.group(account.id)}"
        if header != expected:
            raise ApiError(
                E.INVALID_ACCOUNT_GROUP,
                f"Invalid account group: xrestservermm must be '{expected}' for this account",
                DETAIL,
                status=403,
            )

    @staticmethod
    def check_public_group(header: str | None) -> None:
        """Public calls: no header is fine; a malformed one or a group that does not exist is not."""
        if header is None:
            return
        group = group_of_header(header)
        if group is None or group >= ACCOUNT_GROUPS:
            raise ApiError(E.INVALID_ACCOUNT_GROUP, f"Invalid account group header {header!r}", DETAIL, status=403)

    @staticmethod
    def check_window(body: Mapping[str, Any], sent_time: int, now: int) -> None:
        window = body.get("recvWindow", DEFAULT_RECV_WINDOW)
        if isinstance(window, bool) or not isinstance(window, int) or not 0 < window <= MAX_RECV_WINDOW:
            raise ApiError(E.BAD_RECV_WINDOW, f"recvWindow must be an integer in 1..{MAX_RECV_WINDOW} ms")
        if sent_time > now + CLOCK_AHEAD_MS:
            raise ApiError(E.BAD_RECV_WINDOW, f"time is {sent_time - now} ms ahead of the server clock")
        if now > sent_time + window:
            raise ApiError(E.ORDER_EXPIRED, f"Order expired: time is {now - sent_time} ms old, recvWindow is {window} ms")

    @staticmethod
    def check_signature(key: ApiKey, digest: bytes, signature: Any, now: int) -> None:
        try:
            signer = recover_address(digest, signature)
        except ValueError:
            raise ApiError(E.INVALID_SIGNATURE, "Invalid signature", DETAIL) from None
        if signer.lower() != key.signing_address.lower():
            raise ApiError(E.INVALID_SIGNATURE, "Invalid signature: not signed by this API key's signing key", DETAIL)
        if key.expiry_ms <= now:
            raise ApiError(E.INVALID_SIGNATURE, "Invalid signature: the signing key has expired; register again", DETAIL)
