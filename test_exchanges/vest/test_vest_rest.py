"""Vest wire pieces: the error table and body styles, VestRestClient URLs/headers, pure parsers."""
from __future__ import annotations

import re
from decimal import Decimal

import orjson
import pytest

from mpdex import errors as E
from test_exchanges.conftest import load_sample
from test_exchanges.http_mock import mock_http
from wrappers import vest_errors as VE
from wrappers import vest_parsers as P
from wrappers.vest_keys import VestKey
from wrappers.vest_markets import SymbolResolver, parse_markets
from wrappers.vest_rest import VestRestClient

# -- error bodies -------------------------------------------------------------------------------


@pytest.mark.parametrize("name,status,cls,code", [
    ("err_docs_style.json", 400, E.AuthenticationError, 1125),
    ("err_detail_wrapped_style.json", 401, E.AuthenticationError, 1022),
    ("err_http200_code_msg_style.json", 200, E.BadSymbol, 1121),
    ("err_rate_limited_docs_style.json", 429, E.RateLimitExceeded, 429),
])
def test_the_three_body_styles_decode_to_typed_errors(name, status, cls, code):
    body = load_sample(name)
    err = VE.decode_error(status, body)
    assert type(err) is cls and err.code == code and err.raw == body and err.http_status == status


@pytest.mark.parametrize("code,cls", [
    (1002, E.AuthenticationError), (1003, E.RateLimitExceeded), (1022, E.AuthenticationError),
    (1111, E.InvalidOrder), (1121, E.BadSymbol), (1146, E.PermissionDenied), (1148, E.MarketClosed),
    (3001, E.InvalidOrder), (3002, E.InsufficientMargin), (3015, E.DuplicateOrder), (3017, E.OrderNotFound),
    (3019, E.InvalidOrder), (3023, E.BadSymbol), (3024, E.MarketClosed), (5010, E.DuplicateOrder),
])
def test_main_codes_map_through_the_one_table(code, cls):
    err = VE.error_for_code(code, "why", http_status=400)
    assert type(err) is cls and err.code == code and VE.VEST_ERRORS[code][1] in str(err) and "why" in str(err)


def test_unknown_codes_still_raise_and_data_passes():
    err = VE.decode_error(200, {"code": 7777, "msg": "new thing"})
    assert type(err) is E.ExchangeError and err.code == 7777
    for data in (load_sample("rest_orders_get.json")[0], {"id": "0x1"}, [], {"code": None, "msg": "x"},
                 {"lastNonce": 5}, {"code": 3002, "status": "REJECTED"}):
        assert VE.decode_error(200, data) is None
    assert VE.decode_error(422, {"detail": [{"msg": "field required"}]}).message.endswith("field required")
    assert isinstance(VE.decode_error(200, {"detail": "Not authenticated"}), E.BadRequest)
    assert VE.decode_error(502, {"detail": "upstream"}) is None  # left to the transport: outcome unknown


# -- the REST client ----------------------------------------------------------------------------

KEY = VestKey(api_key="k-abc", signing_private_key="0x" + "b2" * 32, primary_address="0x" + "11" * 20,
              account_group=3, network="dev")


async def test_urls_prefix_headers_and_time_parameter():
    rest = VestRestClient(KEY, clock_ms=lambda: 1234)
    assert rest.base_url == "https://server-dev.hz.vestmarkets.com/v2"
    with mock_http() as m:
        m.get(re.compile(r"^https://server-dev\.hz\.vestmarkets\.com/v2/depth\?.*$"), payload={"bids": [], "asks": []})
        m.get(re.compile(r"^https://server-dev\.hz\.vestmarkets\.com/v2/orders\?.*$"), payload=[])
        await rest.get_depth("BTC-PERP", limit=5)
        await rest.get_orders(symbol="BTC-PERP", status="NEW", id=["0x1", "0x2"])
        (depth_url, depth_call), (orders_url, orders_call) = [(u, c[0].kwargs) for (_, u), c in m.requests.items()]
    assert dict(depth_url.query) == {"symbol": "BTC-PERP", "limit": "5"}
    assert depth_call["headers"]["xrestservermm"] == "restserver3" and "X-API-KEY" not in depth_call["headers"]
    assert dict(orders_url.query) == {"symbol": "BTC-PERP", "status": "NEW", "id": "0x1,0x2", "time": "1234"}
    assert orders_call["headers"]["X-API-KEY"] == "k-abc" and orders_call["headers"]["xrestservermm"] == "restserver3"
    assert "k-abc" not in repr(rest)
    await rest.close()


async def test_rest_url_override_and_private_calls_need_a_key():
    rest = VestRestClient(None, rest_url="http://127.0.0.1:8765/v2/")
    assert rest.base_url == "http://127.0.0.1:8765/v2" and rest.account_group == 0
    with pytest.raises(E.ConfigError, match="api_key"):
        await rest.get_account()
    with pytest.raises(E.ConfigError, match="filter"):
        await VestRestClient(KEY).get_orders(side="buy")
    with pytest.raises(E.ConfigError):
        VestRestClient(None, network="mainnet")
    await rest.close()


async def test_signed_deadline_is_inside_recv_window():
    rest = VestRestClient(KEY, clock_ms=lambda: 10_000, monotonic=lambda: 50.0)
    body = {"order": {"time": 10_000}, "recvWindow": 5000}
    assert rest.signed_deadline(body) == 50.0 + 4.5
    assert rest.signed_deadline({"order": {"time": 1_000}, "recvWindow": 5000}) == 50.0  # already expired
    await rest.close()


async def test_signed_post_sends_exact_bytes():
    rest = VestRestClient(KEY, clock_ms=lambda: 1_000)
    body = {"order": {"time": 1_000, "nonce": 1_000, "id": "0xab"}, "recvWindow": 5000, "signature": "0x00"}
    with mock_http() as m:
        m.post("https://server-dev.hz.vestmarkets.com/v2/orders/cancel", payload={"id": "0xab"})
        out = await rest.post_cancel(body)
        (call,) = next(iter(m.requests.values()))
    assert out.outcome == "accepted" and out.body == {"id": "0xab"}
    assert call.kwargs["data"] == orjson.dumps(body) and call.kwargs["headers"]["X-API-KEY"] == "k-abc"
    await rest.close()


# -- parsers ------------------------------------------------------------------------------------


def test_parse_order_shapes_for_filled_rejected_and_ws_partial():
    filled, rejected = load_sample("rest_orders_get.json")[1:]
    o = P.parse_order(filled)
    assert (o["status"], o["side"], o["filled_size"], o["avg_price"], o["fee"], o["order_type"]) == (
        "FILLED", "buy", 0.5, 3475.1, 0.173755, "market")
    assert o["client_order_id"] == "1767225500000" and o["created_at"] == 1767225500250
    r = P.parse_order(rejected)
    assert (r["status"], r["code"], r["filled_size"]) == ("REJECTED", 3002, 0.0)
    ws = load_sample("ws_account_private_order_filled.json")["data"]["args"]
    assert P.parse_order(ws)["filled_size"] == 0.5
    with pytest.raises(E.ExchangeError):
        P.parse_order({"status": "NEW"})


def test_orderbook_is_sorted_best_first_and_drops_empty_levels():
    book = P.parse_orderbook({"bids": [["1.0", "1"], ["2.0", "0"], ["1.5", "2"]], "asks": [["3", "1"], ["2.5", "1"]]}, 7)
    assert book == {"bids": [[1.5, 2.0], [1.0, 1.0]], "asks": [[2.5, 1.0], [3.0, 1.0]], "time": 7}
    with pytest.raises(E.ExchangeError):
        P.parse_orderbook({"bids": [["x", "1"]], "asks": []}, 0)


@pytest.mark.parametrize("row", [
    [1, "10", "12", "9", "11", 2, "100", "1100", 5],  # docs order
    [1, "10", "12", "9", "11", "100", 2, "1100", 5],  # Binance order (one live collector)
    [1, "10", "12", "9", "11", 2, "100", "1100", "5"],  # WS: trade count as a string
])
def test_klines_are_read_by_json_type(row):
    assert P.parse_kline(row) == {"open_time": 1, "open": 10.0, "high": 12.0, "low": 9.0, "close": 11.0,
                                  "close_time": 2, "volume": 100.0, "quote_volume": 1100.0, "trades": 5}


def test_kline_with_wrong_types_is_an_error():
    with pytest.raises(E.ExchangeError):
        P.parse_kline([1, 2, 3, 4, 5, 6, 7, 8, 9])


def test_collateral_mapping_and_ws_ticker_funding():
    c = P.parse_collateral(load_sample("rest_account.json"))
    assert (c["available_collateral"], c["total_collateral"], c["unrealized_pnl"], c["margin_used"]) == (
        1030.1124, 1262.45, 12.45, 175.0)
    ws = load_sample("ws_tickers.json")["data"][0]
    assert P.parse_funding_rate(ws) == {"symbol": "BTC-PERP", "funding_rate": 0.0000125, "interval_hours": 1.0,
                                        "funding_rate_per_hour": 0.0000125, "mark_price": 97214.3,
                                        "index_price": 97205.8}


def test_markets_and_resolver_edge_cases():
    markets = parse_markets(load_sample("rest_exchangeInfo.json"))
    assert markets["AAPL-USD-PERP"].status == "UNKNOWN" and not markets["AAPL-USD-PERP"].halted
    assert markets["ETH-PERP"].size_step == Decimal("0.001")
    both = [markets["BTC-PERP"], markets["BTC-PERP"].__class__(**{**markets["BTC-PERP"].__dict__, "symbol": "btc-PERP",
                                                                 "base": "btc", "display_name": "btc-PERP"})]
    r = SymbolResolver(both)
    assert r.resolve("btc") == "btc-PERP" and r.resolve("BTC") == "BTC-PERP"  # exact case wins
    with pytest.raises(E.BadSymbol, match="ambiguous"):
        r.resolve("Btc")
    with pytest.raises(E.BadSymbol):
        r.resolve(None)
    with pytest.raises(E.ExchangeError):
        parse_markets({"symbols": [{"symbol": "X-PERP", "sizeDecimals": "2"}]})
