"""Pure parsers on the recorded and reconstructed samples: positions and collateral (current,
2023 and isolated shapes), open orders, order statuses, fills, books, funding, candles."""
from __future__ import annotations

import pytest

from mpdex import errors as E
from wrappers import hyperliquid_parsers as P

from .conftest import sample


def test_positions_and_collateral_of_the_current_shape():
    state = sample("info_clearinghouseState_response")
    eth, sol = P.positions_of(state)
    assert (sol["symbol"], sol["side"], sol["size"], sol["entry_price"], sol["liquidation_price"]) == (
        "SOL", "short", 0.5, 138.76, 22881.19788911)
    assert (eth["side"], eth["size"], eth["liquidation_price"], eth["leverage"], eth["margin_mode"],
            eth["margin_used"], eth["unrealized_pnl"]) == ("long", 1.6, None, 20, "cross", 190.96, 2059.2)
    assert P.position_for(state, "ETH") == eth and P.position_for(state, "BTC") is None
    coll = P.parse_collateral(state)
    assert (coll["available_collateral"], coll["total_collateral"], coll["margin_used"]) == (
        11292.922399, 11524.216934, 194.409)
    assert coll["unrealized_pnl"] == pytest.approx(2059.6)
    assert all(isinstance(v, float) for k, v in coll.items() if k != "raw")


def test_the_2023_shape_and_isolated_positions():
    old = P.positions_of(sample("info_clearinghouseState_2023_response"))
    assert len(old) == 12 and {p["liquidation_price"] is None for p in old} == {True, False}
    btc = next(p for p in old if p["symbol"] == "BTC")
    assert (btc["side"], btc["size"], btc["leverage"]) == ("short", 0.00785, 20)
    assert P.parse_collateral(sample("info_clearinghouseState_2023_response"))["available_collateral"] == 1010.57173
    (hype,) = P.positions_of(sample("info_clearinghouseState_isolated_response"))
    assert (hype["margin_mode"], hype["leverage"], hype["side"]) == ("isolated", 10, "short")


def test_frontend_open_orders_list_each_order_once():
    orders = P.parse_open_orders(sample("info_frontendOpenOrders_response"))
    assert [(o["id"], o["order_type"], o["side"], o["reduce_only"], o["status"]) for o in orders] == [
        ("3184595905", "limit", "buy", False, "NEW"), ("3184595906", "stop_loss", "sell", True, "NEW"),
        ("3184595907", "take_profit", "sell", True, "NEW")]
    assert P.parse_open_orders(sample("info_frontendOpenOrders_response"), "ETH") == []
    old = P.parse_open_orders(sample("info_openOrders_response"))  # the minimal 2023 shape
    assert [(o["symbol"], o["size"], o["price"], o["client_order_id"]) for o in old] == [
        ("ARB", 173.7, 1.1795, None), ("MATIC", 208.7, 1.0357, None)]


def test_order_status_records():
    record = P.parse_order_status(sample("info_orderStatus_response"))
    assert record is not None
    assert (record["id"], record["symbol"], record["side"], record["size"], record["price"], record["status"],
            record["created_at"], record["code"]) == ("80972193016", "HYPE", "buy", 2.0, 13.5, "NEW", 1742488072039, None)
    assert P.parse_order_status(sample("info_orderStatus_unknown_response")) is None
    with pytest.raises(E.ExchangeError):
        P.parse_order_status({"status": "surprise"})
    hist = [P.parse_open_order(r["order"], r["status"]) for r in sample("info_historicalOrders_response")]
    assert {(r["status"], r["code"]) for r in hist} == {("REJECTED", "iocCancelRejected")}
    updates = [P.parse_open_order(u["order"], u["status"]) for u in sample("ws_orderUpdates")["data"]]
    assert [(u["status"], u["client_order_id"], u["reduce_only"]) for u in updates] == [
        ("NEW", "0xa1f00000000000000000000000000001", False), ("CANCELLED", None, True)]


@pytest.mark.parametrize("status,expected", [
    ("open", "NEW"), ("triggered", "NEW"), ("filled", "FILLED"), ("canceled", "CANCELLED"),
    ("marginCanceled", "CANCELLED"), ("reduceOnlyCanceled", "CANCELLED"), ("scheduledCancel", "CANCELLED"),
    ("siblingFilledCanceled", "CANCELLED"), ("rejected", "REJECTED"), ("badAloPxRejected", "REJECTED"),
    ("perpMaxPositionRejected", "REJECTED"),
])
def test_status_mapping(status, expected):
    assert P.contract_status(status) == expected


def test_an_unknown_status_is_never_guessed():
    with pytest.raises(E.ExchangeError):
        P.contract_status("waitingForFill")


def test_a_partly_filled_open_order_and_fills():
    raw = {"coin": "ETH", "side": "B", "limitPx": "3000", "sz": "0.6", "origSz": "1.0", "oid": 7, "timestamp": 1}
    assert (P.parse_open_order(raw)["status"], P.parse_open_order(raw)["filled_size"]) == ("PARTIALLY_FILLED", 0.4)
    assert P.parse_open_order({**raw, "reduceOnly": True})["status"] == "NEW"  # shrunk with the position
    fills = sample("info_userFills_current_response")
    assert P.fill_summary(fills, 90542681) == (P.dec("93.53"), P.dec("18.435"), P.dec("0.01"), P.dec("0.0"))
    assert P.fill_summary(fills, 1) is None
    ioc = P.parse_open_order({**raw, "sz": "1.0", "oid": 6928122855, "tif": "Ioc"}, "filled")
    partial = P.with_fills(ioc, fills)  # 0.5 of 1.0 filled: the rest was cancelled
    assert (partial["status"], partial["filled_size"], partial["avg_price"], partial["fee"]) == (
        "CANCELLED", 0.5, 132.31, 0.023154)


def test_books_funding_candles_fees():
    book = P.parse_orderbook(sample("info_l2Book_response"), 123)
    assert book["bids"][0] == [2.111, 134.4] and book["asks"][0] == [2.1124, 352.3] and book["time"] == 123
    assert book["bids"] == sorted(book["bids"], reverse=True) and len(book["asks"]) == 20
    with pytest.raises(E.ExchangeError):
        P.parse_orderbook({"levels": [[]]}, 0)
    ctx = sample("info_metaAndAssetCtxs_response")[1][0]
    rate = P.parse_funding_rate("BTC", ctx)
    assert (rate["funding_rate"], rate["interval_hours"], rate["funding_rate_per_hour"], rate["mark_price"],
            rate["index_price"]) == (0.0000125, 1.0, 0.0000125, 14.3161, 14.32)
    predicted = P.parse_predicted_funding(sample("info_predictedFundings_response"), "AVAX")
    assert (predicted["funding_rate"], predicted["next_funding_time"]) == (0.0000125, 1733958000000)
    with pytest.raises(E.ExchangeError):
        P.parse_predicted_funding(sample("info_predictedFundings_response"), "BTC")
    old = P.parse_funding_history(sample("info_fundingHistory_2023_response"))
    assert [(e["interval_hours"], e["funding_rate"]) for e in old] == [(8.0, -0.00061334), (8.0, -0.00074503),
                                                                       (8.0, -0.00081798)]
    hourly = P.parse_funding_history([{"coin": "ETH", "fundingRate": "0.0000125", "premium": "0", "time": t}
                                      for t in (7_200_000, 3_600_000, 0)])
    assert [(e["time"], e["interval_hours"]) for e in hourly] == [(0, 1.0), (3_600_000, 1.0), (7_200_000, 1.0)]
    (first, _) = P.parse_candles(sample("info_candleSnapshot_response"))
    assert first == {"open_time": 1684699200000, "open": 0.001601, "high": 0.001616, "low": 0.001601,
                     "close": 0.001604, "close_time": 1684702799999, "volume": 520665683.0, "quote_volume": None,
                     "trades": 709}
    fees = P.parse_trading_fees({"userCrossRate": "0.000315", "userAddRate": "0.000105"}, "BTC")
    assert fees == {"symbol": "BTC", "maker": 0.000105, "taker": 0.000315}
    assert P.parse_leverage(sample("info_activeAssetData_response")) == (3, "cross")


def test_exchange_answers():
    assert P.response_statuses(sample("exchange_order_resting_response"), "order") == [{"resting": {"oid": 77738308}}]
    with pytest.raises(E.ExchangeError):
        P.response_statuses(sample("exchange_default_response"), "order")
