"""Who may act on the Hyperliquid paper server: the signer of an ``/exchange`` request, the
account it acts for, and what admitting the request costs (its nonce, its address budget).

* L1 actions: the signer is recovered from the canonical re-encoding of the action
  (``hyperliquid_auth.recover_l1_signer``, the way the server hashes) with the server's
  network (``source "a"`` mainnet / ``"b"`` testnet). It must be an account itself or an
  agent approved for one (``approveAgent``) and not expired. A signer the server does not know
  gets ``L1 error: User or API Wallet 0x<recovered> does not exist.`` — unless the signature
  recovers to a known signer under the *other* network's source, which gets ``Mainnet and
  testnet require different signature.``. An all-zero signature gets ``Unable to recover
  signer.``.
* User-signed actions (``approveAgent``): ``hyperliquidChain`` must be the server's network
  (``Mainnet and testnet require different signature.``), the envelope nonce must equal the
  action's ``nonce`` / ``time`` (``Nonce mismatch.``), ``expiresAfter`` must be absent, and
  the signer must be the account (the master key) itself; an agent address has no account
  (``Must deposit before performing actions. User: 0x<agent>``).
* An account with no balance and no position: ``Must deposit before performing actions.
  User: 0x<account>``.
* Admission (``admit``): the address budget (``10 000 + 1 per USDC traded`` requests, a
  batch of n orders or cancels costs n; cancels may go on to ``min(cap + 100 000, 2 × cap)``;
  past the cap one request per 10 s, else ``Too many cumulative requests sent (…)``; a request
  refused so costs nothing), then the signer's nonce (``store.HlStore.nonce_error``). What is
  admitted is charged by the returned ``Charge``: the nonce is consumed and the requests
  counted, inside the transaction of the first order, cancel or change the action makes,
  or on their own when it makes none — so a business refusal consumes the nonce, a bad
  signature or a nonce error does not (§4.7).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mpdex.paper.ledger import Account
from mpdex.paper.simulator import Simulator
from wrappers.hyperliquid_auth import UNABLE_TO_RECOVER, SignatureError, recover_l1_signer, recover_user_signed
from wrappers.hyperliquid_canonical import ExchangeRequest
from wrappers.hyperliquid_wire import hyperliquid_chain

from . import errors as E
from .errors import ActionError
from .store import HlStore
from .wire import num, usd2

__all__ = ["HlAuth", "Caller", "Charge", "OVER_CAP_WAIT_MS", "EXPIRED_COST"]

#: once the address budget is spent, one request per this many ms (§6.2, measured)
OVER_CAP_WAIT_MS = 10_000
#: a request refused for a stale ``expiresAfter`` costs this many times its weight (§3.1)
EXPIRED_COST = 5


@dataclass(frozen=True)
class Caller:
    signer: str  # lower case: the master or an agent
    account: Account


@dataclass
class Charge:
    """What an admitted request costs; call it inside the transaction of the action's first
    write (``writes=charge``), or ``settle()`` it on its own when the action wrote nothing."""

    auth: HlAuth
    signer: str
    nonce: int
    account_id: int
    weight: int
    over_ms: int | None
    done: bool = False

    def __call__(self) -> None:
        if self.done:
            return
        self.auth.store.use_nonce(self.signer, self.nonce)
        self.auth.store.add_requests(self.account_id, self.weight, self.over_ms)
        self.done = True

    def settle(self) -> None:
        if not self.done:
            with self.auth.store.ledger.transaction():
                self()


class HlAuth:
    def __init__(self, sim: Simulator, store: HlStore, network: str, request_base: int,
                 agent_validity_ms: int) -> None:
        self.sim = sim
        self.store = store
        self.network = network
        self.request_base = request_base
        self.agent_validity_ms = agent_validity_ms

    @property
    def is_mainnet(self) -> bool:
        return self.network == "mainnet"

    def now(self) -> int:
        return self.sim.clock_ms()

    # --- who is it ----------------------------------------------------------------------

    def account_of(self, signer: str) -> Account | None:
        """The account ``signer`` (lower case) may act for: its own, or its master's when it
        is an agent that has not expired."""
        account = self.sim.ledger.account_by_address(signer)
        if account is not None:
            return account
        agent = self.store.agent(signer)
        if agent is None or agent.valid_until <= self.now():
            return None
        return self.sim.ledger.account(agent.account_id)

    def _funded(self, account: Account) -> None:
        if account.balance <= 0 and not self.sim.ledger.positions(account.id):
            raise ActionError(E.MUST_DEPOSIT.format(address=account.address))

    def l1_caller(self, req: ExchangeRequest) -> Caller:
        """The signer of an L1 action and its account; ``ActionError`` as the server refuses."""
        signer = self._recover_l1(req, self.is_mainnet)
        if signer is None:
            raise ActionError(UNABLE_TO_RECOVER)
        account = self.account_of(signer)
        if account is None:
            other = self._recover_l1(req, not self.is_mainnet)
            if other is not None and self.account_of(other) is not None:
                raise ActionError(E.WRONG_NETWORK)
            raise ActionError(E.UNKNOWN_SIGNER.format(address=signer))
        self._funded(account)
        return Caller(signer, account)

    @staticmethod
    def _recover_l1(req: ExchangeRequest, is_mainnet: bool) -> str | None:
        try:
            return recover_l1_signer(req.action, req.nonce, req.signature, vault_address=req.vault_address,
                                     expires_after=req.expires_after, is_mainnet=is_mainnet).lower()
        except SignatureError:
            return None

    def user_caller(self, req: ExchangeRequest) -> Caller:
        """The master key that signed a user-signed action, and its account."""
        action: dict[str, Any] = req.action
        if action["hyperliquidChain"] != hyperliquid_chain(self.is_mainnet):
            raise ActionError(E.WRONG_NETWORK)
        if req.nonce != action.get("nonce", action.get("time")):
            raise ActionError(E.NONCE_MISMATCH)
        if req.expires_after is not None:
            raise ActionError(E.EXPIRES_ON_USER_SIGNED)
        try:
            signer = recover_user_signed(action, req.signature).lower()
        except SignatureError:
            raise ActionError(UNABLE_TO_RECOVER) from None
        account = self.sim.ledger.account_by_address(signer)
        if account is None:
            if self.store.agent(signer) is not None:
                raise ActionError(E.MUST_DEPOSIT.format(address=signer))
            raise ActionError(E.UNKNOWN_SIGNER.format(address=signer))
        self._funded(account)
        return Caller(signer, account)

    # --- what it costs ------------------------------------------------------------------

    def admit(self, caller: Caller, nonce: int, weight: int, *, cancel: bool = False) -> Charge:
        """The address budget, then the signer's nonce; the ``Charge`` of the admitted request."""
        now = self.now()
        account_id = caller.account.id
        used, last_over = self.store.requests(account_id)
        volume = self.store.volume(account_id)
        cap = self.request_base + int(volume)
        limit = min(cap + 100_000, 2 * cap) if cancel else cap
        over_ms: int | None = None
        if used + weight > limit:
            if last_over is not None and now - last_over < OVER_CAP_WAIT_MS:
                raise ActionError(E.ADDRESS_LIMIT.format(used=used + weight, cap=limit, volume=usd2(volume)))
            over_ms = now
        refused = self.store.nonce_error(caller.signer, nonce, now)
        if refused is not None:
            raise ActionError(refused)
        return Charge(self, caller.signer, nonce, account_id, weight, over_ms)

    def rate_limit(self, account_id: int) -> dict[str, Any]:
        """``userRateLimit`` of an account."""
        used, _ = self.store.requests(account_id)
        volume = self.store.volume(account_id)
        return {"cumVlm": num(volume, 6), "nRequestsUsed": used, "nRequestsCap": self.request_base + int(volume)}

