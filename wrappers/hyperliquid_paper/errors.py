"""Hyperliquid's refusals on the paper server: the server's exact strings, where each goes,
and the map from the simulator's neutral ``Reason`` to a string and an order status.

Three kinds of answer (hyperliquid-api.md §1.3, §1.4):

* plain-text HTTP errors (``HttpError``): 400 ``Failed to parse the request body as JSON``,
  415 ``Expected request with `Content-Type: application/json` ``, 422 the deserialise text of
  ``hyperliquid_canonical.DESERIALIZE_ERROR``; 429 and 5xx answer JSON ``null``;
* a whole request refused, HTTP 200 ``{"status":"err","response":"<text>"}`` (``ActionError``);
* one order (or cancel) refused inside an accepted request, HTTP 200, ``{"error": "<text>"}``
  among the statuses.

Strings with a source are the server's (see the reference's tables). Where no source
captured one, the paper exchange uses these (marked INF in the package docstring):
``Order has invalid asset.``, ``Invalid asset.``, ``Invalid leverage value.``, ``Isolated
margin is not allowed for this asset.``, ``Cannot update isolated margin of a cross
position.``, ``Agent name must be 1 to 16 characters.``, ``Too many named API wallets.``,
``API wallet is already used by another account.``, ``Scheduled cancel time must be at least
5 seconds in the future.``, ``expiresAfter is not allowed on user-signed actions.``, and for
what is not modelled ``Trigger orders are not supported by the paper exchange.``, ``TP/SL
groupings are not supported by the paper exchange.`` and ``<action> is not supported by the
paper exchange.``.
"""
from __future__ import annotations

from mpdex.paper.harness import WireError
from mpdex.paper.ledger import Order
from mpdex.paper.rules import Reason

__all__ = [
    "HttpError", "ActionError", "ORDER_REFUSALS", "order_status", "unsupported", "BAD_JSON", "BAD_CONTENT_TYPE",
    "UNKNOWN_SIGNER", "MUST_DEPOSIT", "WRONG_NETWORK", "EXPIRED", "NONCE_MISMATCH", "VAULT", "OVER_WEIGHT", "BUILDER",
    "ADDRESS_LIMIT", "LEVERAGE_MARGIN", "SCHEDULE_VOLUME", "INVALID_SIZE", "INVALID_PRICE", "TICK", "PRICE_BAND",
    "CANCEL_MISS", "EMPTY_BATCH", "INVALID_ASSET", "INVALID_LEVERAGE", "NO_ISOLATED", "NO_ISOLATED_MARGIN",
    "ASSET_UNKNOWN", "AGENT_NAME", "TOO_MANY_AGENTS", "AGENT_TAKEN", "SCHEDULE_TOO_EARLY", "EXPIRES_ON_USER_SIGNED",
    "TPSL_GROUPING", "TRIGGER", "TICK_REJECTED", "ORACLE_REJECTED", "SCHEDULED_CANCEL",
]

BAD_JSON = "Failed to parse the request body as JSON"
BAD_CONTENT_TYPE = "Expected request with `Content-Type: application/json`"

UNKNOWN_SIGNER = "L1 error: User or API Wallet {address} does not exist."
MUST_DEPOSIT = "Must deposit before performing actions. User: {address}"
WRONG_NETWORK = "Mainnet and testnet require different signature."
EXPIRED = "Action already expired"
NONCE_MISMATCH = "Nonce mismatch."
VAULT = "Vault not registered: {address}"
OVER_WEIGHT = "Signed action over weight limit of 200."
BUILDER = "Builder fee has not been approved."
ADDRESS_LIMIT = ("Too many cumulative requests sent ({used} > {cap}) for cumulative volume traded ${volume}. "
                 "Place taker orders to free up 1 request per USDC traded.")
LEVERAGE_MARGIN = ("Cross position does not have sufficient margin available to decrease leverage. "
                   "To decrease leverage, add margin to the position.")
SCHEDULE_VOLUME = "Cannot set scheduled cancel time until enough volume traded. Required: $1000000. Traded: ${traded}."

# per order
INVALID_SIZE = "Order has invalid size."
INVALID_PRICE = "Order has invalid price."
TICK = "Price must be divisible by tick size. asset={asset}"
PRICE_BAND = "Order price cannot be more than 80% away from the reference price"
CANCEL_MISS = "Order was never placed, already canceled, or filled. asset={asset}"
EMPTY_BATCH = "Orders are empty."

# no captured string (INF, see the module docstring)
INVALID_ASSET = "Order has invalid asset."
INVALID_LEVERAGE = "Invalid leverage value."
NO_ISOLATED = "Isolated margin is not allowed for this asset."
NO_ISOLATED_MARGIN = "Cannot update isolated margin of a cross position."
ASSET_UNKNOWN = "Invalid asset."
AGENT_NAME = "Agent name must be 1 to 16 characters."
TOO_MANY_AGENTS = "Too many named API wallets."
AGENT_TAKEN = "API wallet is already used by another account."
SCHEDULE_TOO_EARLY = "Scheduled cancel time must be at least 5 seconds in the future."
EXPIRES_ON_USER_SIGNED = "expiresAfter is not allowed on user-signed actions."
TPSL_GROUPING = "TP/SL groupings are not supported by the paper exchange."
TRIGGER = "Trigger orders are not supported by the paper exchange."

#: the dialect's own reasons kept on REJECTED / CANCELLED orders (the simulator's are ``Reason`` values)
TICK_REJECTED = "tickRejected"
ORACLE_REJECTED = "oracleRejected"
SCHEDULED_CANCEL = "scheduledCancel"

#: a refusal by the simulator → (per-order string, status of the recorded REJECTED order)
ORDER_REFUSALS: dict[Reason, tuple[str, str]] = {
    Reason.MARKET_HALTED: ("Trading is halted.", "rejected"),
    Reason.REDUCE_ONLY_INCREASES: ("Reduce only order would increase position. asset={asset}", "reduceOnlyRejected"),
    Reason.POST_ONLY_WOULD_CROSS: ("Post only order would have immediately matched, bbo was {bbo}. asset={asset}",
                                   "badAloPxRejected"),
    Reason.IOC_NO_MATCH: ("Order could not immediately match against any resting orders. asset={asset}",
                          "iocCancelRejected"),
    Reason.BELOW_MIN_NOTIONAL: ("Order must have minimum value of $10. asset={asset}", "minTradeNtlRejected"),
    Reason.INSUFFICIENT_MARGIN: ("Insufficient margin to place order. asset={asset}", "perpMarginRejected"),
}

#: how a CANCELLED order that its owner did not cancel ended
_CANCELLED = {
    Reason.IOC_REMAINDER.value: "filled",  # an IOC that filled in part: the rest went quietly
    Reason.REDUCE_ONLY_POSITION_GONE.value: "reduceOnlyCanceled",
    Reason.REDUCE_ONLY_INCREASES.value: "reduceOnlyCanceled",
    Reason.INSUFFICIENT_MARGIN.value: "marginCanceled",
    SCHEDULED_CANCEL: "scheduledCancel",
}
_REJECTED = {reason.value: status for reason, (_, status) in ORDER_REFUSALS.items()}
_REJECTED.update({TICK_REJECTED: TICK_REJECTED, ORACLE_REJECTED: ORACLE_REJECTED})


class HttpError(WireError):
    """A plain-text HTTP refusal (400 / 415 / 422), or JSON ``null`` (``text=None``)."""

    def __init__(self, status: int, text: str | None) -> None:
        super().__init__(status, text, text=text is not None, message=f"HTTP {status}: {text}")


class ActionError(Exception):
    """The whole request refused: HTTP 200 ``{"status": "err", "response": text}``."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def order_status(o: Order) -> str:
    """The order's status string (``orderStatus``, ``historicalOrders``, ``orderUpdates``)."""
    if o.status in ("NEW", "PARTIALLY_FILLED"):
        return "open"
    if o.status == "FILLED":
        return "filled"
    if o.status == "REJECTED":
        return _REJECTED.get(o.reason or "", "rejected")
    return _CANCELLED.get(o.reason or "", "canceled")


def unsupported(action_type: str) -> str:
    return f"{action_type} is not supported by the paper exchange."
