"""``POST /exchange`` on the Hyperliquid paper server: one signed envelope in, one answer out.

Order of checks for an L1 action (each refusal the server's whole-request ``err`` unless said
otherwise): the strict parse (``hyperliquid_canonical.parse_exchange_request``: unknown keys,
wrong types, bad decimals or cloids → HTTP 422 with the server's text); more than 200 orders,
cancels or modifies (``Signed action over weight limit of 200.``); the signer and its account
(``auth.py``); the address budget and the signer's nonce (``auth.HlAuth.admit``: refusals here
consume nothing). Everything past the nonce check consumes the nonce: ``vaultAddress``
(vaults are not modelled: ``Vault not registered: 0x…``), a passed ``expiresAfter``
(``Action already expired``, 5× the weight), then the action itself (``trading.py``).
User-signed actions are checked as ``auth.HlAuth.user_caller`` says; of them only
``approveAgent`` is modelled (``agentName`` 1..16 characters; one unnamed agent, replaced by
the next unnamed one; up to 3 named ones, a name approved again replaces its agent; agents
are valid for ``agent_validity_ms``). ``noop`` burns the nonce. ``modify``, ``batchModify``,
``updateIsolatedMargin``, ``approveBuilderFee``, ``usdClassTransfer`` and ``withdraw3`` are
verified and admitted like any action, then refused (``<type> is not supported by the paper
exchange.``, and isolated margin with its own string).

``handle`` is synchronous from the nonce check to the last write, so two requests racing
for one nonce cannot both pass.
"""
from __future__ import annotations

from typing import Any

from wrappers.hyperliquid_canonical import (
    DESERIALIZE_ERROR,
    USER_SIGNED_ACTION_TYPES,
    DeserializeError,
    parse_exchange_request,
)

from . import errors as E
from .auth import EXPIRED_COST, Caller, Charge, HlAuth
from .errors import ActionError, HttpError
from .store import Agent, HlStore
from .trading import DEFAULT, HlTrading

__all__ = ["ExchangeApi", "MAX_WEIGHT", "MAX_NAMED_AGENTS"]

MAX_WEIGHT = 200
MAX_NAMED_AGENTS = 3
_BATCH_KEYS = {"order": "orders", "cancel": "cancels", "cancelByCloid": "cancels", "batchModify": "modifies"}
_CANCELS = ("cancel", "cancelByCloid")


class ExchangeApi:
    def __init__(self, auth: HlAuth, store: HlStore, trading: HlTrading) -> None:
        self.auth = auth
        self.store = store
        self.trading = trading

    def handle(self, body: Any) -> tuple[dict[str, Any], int]:
        """``(answer, orders booked)`` for a decoded body; ``HttpError`` for a 422."""
        try:
            req = parse_exchange_request(body)
        except DeserializeError:
            raise HttpError(422, DESERIALIZE_ERROR) from None
        try:
            if req.action["type"] in USER_SIGNED_ACTION_TYPES:
                return self._user_signed(req.action, self.auth.user_caller(req), req.nonce, req.vault_address), 0
            return self._l1(req)
        except ActionError as exc:
            return {"status": "err", "response": exc.text}, 0

    def _l1(self, req: Any) -> tuple[dict[str, Any], int]:
        action: dict[str, Any] = req.action
        kind = action["type"]
        batch = len(action[_BATCH_KEYS[kind]]) if kind in _BATCH_KEYS else 1
        if batch > MAX_WEIGHT:
            raise ActionError(E.OVER_WEIGHT)
        caller = self.auth.l1_caller(req)
        charge = self.auth.admit(caller, req.nonce, max(batch, 1), cancel=kind in _CANCELS)
        try:
            if req.vault_address is not None:
                raise ActionError(E.VAULT.format(address=req.vault_address))
            if req.expires_after is not None and req.expires_after < self.auth.now():
                charge.weight *= EXPIRED_COST
                raise ActionError(E.EXPIRED)
            return self._dispatch(caller, action, charge)
        finally:
            charge.settle()

    def _dispatch(self, caller: Caller, action: dict[str, Any], charge: Charge) -> tuple[dict[str, Any], int]:
        t = self.trading
        account = caller.account
        kind = action["type"]
        if kind == "order":
            return t.order(account, action, charge)
        if kind == "cancel":
            return t.cancel(account, action, charge), 0
        if kind == "cancelByCloid":
            return t.cancel_by_cloid(account, action, charge), 0
        if kind == "updateLeverage":
            return t.update_leverage(account, action, charge), 0
        if kind == "scheduleCancel":
            return t.schedule_cancel(account, action, charge), 0
        if kind == "noop":
            return DEFAULT, 0
        if kind == "updateIsolatedMargin":
            raise ActionError(E.NO_ISOLATED_MARGIN)
        raise ActionError(E.unsupported(kind))

    def _user_signed(self, action: dict[str, Any], caller: Caller, nonce: int, vault: str | None) -> dict[str, Any]:
        charge = self.auth.admit(caller, nonce, 1)
        try:
            if vault is not None:
                raise ActionError(E.VAULT.format(address=vault))
            if action["type"] != "approveAgent":
                raise ActionError(E.unsupported(action["type"]))
            self._approve_agent(caller, action, charge)
            return DEFAULT
        finally:
            charge.settle()

    def _approve_agent(self, caller: Caller, action: dict[str, Any], charge: Charge) -> None:
        name = action.get("agentName", "")
        if "agentName" in action and not 1 <= len(name) <= 16:
            raise ActionError(E.AGENT_NAME)
        address = action["agentAddress"].lower()
        ledger = self.store.ledger
        taken = self.store.agent(address)
        if ledger.account_by_address(address) is not None or (taken is not None and taken.account_id != caller.account.id):
            raise ActionError(E.AGENT_TAKEN)
        named = {a.name for a in self.store.agents_of(caller.account.id) if a.name}
        if name and name not in named and len(named) >= MAX_NAMED_AGENTS:
            raise ActionError(E.TOO_MANY_AGENTS)
        now = self.auth.now()
        with ledger.transaction():
            charge()
            self.store.put_agent(Agent(address, caller.account.id, name, now + self.auth.agent_validity_ms, now))
