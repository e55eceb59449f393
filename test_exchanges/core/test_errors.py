from mpdex import errors as E


def test_two_roots_keep_apart():
    refused = [E.AuthenticationError, E.InvalidOrder, E.InsufficientMargin, E.BadSymbol,
               E.OrderNotFound, E.DuplicateOrder, E.MarketClosed, E.NotSupported]
    unknown = [E.RequestTimeout, E.RateLimitExceeded, E.ExchangeUnavailable, E.OrderStateUnknown]
    for cls in refused:
        assert issubclass(cls, E.ExchangeError) and not issubclass(cls, E.NetworkError)
    for cls in unknown:
        assert issubclass(cls, E.NetworkError) and not issubclass(cls, E.ExchangeError)
    assert issubclass(E.ConfigError, ValueError) and issubclass(E.ConfigError, E.MpdexError)


def test_exchange_error_carries_code_status_and_raw():
    raw = {"detail": {"code": 1022, "msg": "Invalid signature"}}
    err = E.AuthenticationError("Invalid signature", code=1022, http_status=401, raw=raw)
    assert (err.code, err.message, err.http_status, err.raw) == (1022, "Invalid signature", 401, raw)
    assert str(err) == "Invalid signature (code=1022, http=401)"


def test_network_errors_carry_their_context():
    rl = E.RateLimitExceeded("slow down", retry_after=1.5, http_status=429)
    assert rl.retry_after == 1.5 and rl.http_status == 429
    unknown = E.OrderStateUnknown("lost", client_order_id="1767225600123")
    assert unknown.client_order_id == "1767225600123"


def test_the_suite_refuses_non_loopback_hosts():
    import socket

    import pytest

    with pytest.raises(OSError, match="offline"):
        socket.getaddrinfo("server-prod.hz.vestmarkets.com", 443)
    assert socket.getaddrinfo("127.0.0.1", 80)
