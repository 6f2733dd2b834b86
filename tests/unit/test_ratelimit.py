"""web.ratelimit: the per-client sliding window, and whose address counts as the client."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from assistant.web.ratelimit import ClientAddress, RateLimiter


def test_sliding_window_limiter() -> None:
    now = [0.0]
    limiter = RateLimiter(3, window=60, clock=lambda: now[0])
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b")  # per client
    now[0] = 30.0
    assert not limiter.allow("a")
    now[0] = 60.0  # the first three leave the window together
    assert [limiter.allow("a") for _ in range(4)] == [True, True, True, False]


def test_limiter_forgets_idle_clients() -> None:
    now = [0.0]
    limiter = RateLimiter(1, window=60, clock=lambda: now[0], max_clients=10)
    for i in range(10):
        limiter.allow(f"c{i}")
    now[0] = 100.0
    assert limiter.allow("new")
    assert len(limiter._events) == 1


def test_refused_calls_do_not_extend_the_wait() -> None:
    now = [0.0]
    limiter = RateLimiter(1, window=10, clock=lambda: now[0])
    assert limiter.allow("a")
    for second in range(1, 10):  # retrying every second while refused
        now[0] = float(second)
        assert not limiter.allow("a")
    now[0] = 10.0  # the one accepted call has left the window
    assert limiter.allow("a")


def test_a_full_table_of_active_clients_drops_the_longest_idle() -> None:
    now = [0.0]
    limiter = RateLimiter(5, window=60, clock=lambda: now[0], max_clients=2)
    limiter.allow("old")
    now[0] = 1.0
    limiter.allow("recent")
    now[0] = 2.0
    assert limiter.allow("new")
    assert sorted(limiter._events) == ["new", "recent"]


def test_a_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RateLimiter(0)


def test_the_key_is_the_address_the_server_sees() -> None:
    request = SimpleNamespace(
        client=SimpleNamespace(host="10.0.0.7"), headers={"x-forwarded-for": "1.2.3.4"}
    )
    client_key = ClientAddress()
    assert client_key(request) == "10.0.0.7"  # a forwarded-for header is not trusted
    assert client_key(SimpleNamespace(client=None)) == "unknown"
    assert client_key(None) == "unknown"
    # Behind a listed proxy, the right-most hop the proxy did not add is the client.
    proxied = ClientAddress(["10.0.0.0/8"])
    assert proxied(request) == "1.2.3.4"
