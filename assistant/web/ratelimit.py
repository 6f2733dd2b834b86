"""Who the client is (``ClientAddress``) and how often it may ask (``RateLimiter``)."""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class RateLimiter:
    """Allows at most ``limit`` events per client within any ``window`` seconds.

    A sliding window (timestamps of recent events) rather than fixed minute buckets, so
    a client cannot fire 2 x limit requests across a bucket boundary.
    """

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 10_000,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._max_clients = max_clients
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Record an event for ``key`` and say whether it is within the limit.

        Refused events are not recorded: a client that keeps retrying is let in again
        once its earlier, accepted events leave the window.
        """
        now = self._clock()
        with self._lock:
            events = self._events.get(key)
            if events is None:
                if len(self._events) >= self._max_clients:
                    self._prune(now)
                events = self._events.setdefault(key, deque())
            while events and now - events[0] >= self.window:
                events.popleft()
            if len(events) >= self.limit:
                return False
            events.append(now)
            return True

    def blocked(self, key: str) -> bool:
        """Whether ``allow(key)`` would refuse now (nothing is recorded)."""
        now = self._clock()
        with self._lock:
            events = self._events.get(key, ())
            return sum(1 for t in events if now - t < self.window) >= self.limit

    def _prune(self, now: float) -> None:
        """Forget idle clients so the table cannot grow without bound."""
        idle = [k for k, ev in self._events.items() if not ev or now - ev[-1] >= self.window]
        for key in idle:
            del self._events[key]
        if len(self._events) >= self._max_clients:
            # Still full of active clients: drop the one idle the longest.
            oldest = min(self._events, key=lambda k: self._events[k][-1])
            del self._events[oldest]


class ClientAddress:
    """The client's address for rate limits, the login throttle and the logs.

    The connecting socket's address, unless that is a reverse proxy listed in
    ``SKINQA_TRUSTED_PROXIES``: then the right-most address in ``X-Forwarded-For`` that
    is not a trusted proxy (each proxy appends the address it saw, so everything left of
    that was written by the client and proves nothing).

    >>> ClientAddress(["10.0.0.0/8"]).resolve("10.0.0.2", ["6.6.6.6, 203.0.113.7, 10.0.0.9"])
    '203.0.113.7'
    >>> ClientAddress([]).resolve("127.0.0.1", ["6.6.6.6"])
    '127.0.0.1'
    """

    def __init__(self, trusted_proxies: Sequence[str] = ()) -> None:
        self.trusted: list[IPNetwork] = [
            ipaddress.ip_network(p, strict=False) for p in trusted_proxies
        ]

    def _trusts(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.trusted)

    def resolve(self, peer: str, forwarded_for: Sequence[str]) -> str:
        if not self._trusts(peer):
            return peer
        hops = [h.strip() for value in forwarded_for for h in value.split(",") if h.strip()]
        for hop in reversed(hops):
            host = _strip_port(hop)
            if not self._trusts(host):
                return host[:64]
        return _strip_port(hops[0])[:64] if hops else peer

    def __call__(self, request: Any) -> str:
        """The address of a Starlette or Gradio request (``"unknown"`` without one)."""
        client = getattr(request, "client", None)
        peer = str(getattr(client, "host", None) or "unknown")
        if not self.trusted:
            return peer
        headers = getattr(request, "headers", None) or {}
        getlist = getattr(headers, "getlist", None)
        values = getlist("x-forwarded-for") if getlist else [headers.get("x-forwarded-for", "")]
        return self.resolve(peer, [v for v in values if v])

    def describe(self) -> str:
        """One line for the start-up report: where the client's address comes from."""
        if not self.trusted:
            return "the connecting socket's address (X-Forwarded-For is ignored)"
        proxies = ", ".join(str(n) for n in self.trusted)
        return (
            f"X-Forwarded-For from the trusted proxies {proxies} (right-most untrusted hop); "
            "the socket's address otherwise"
        )


def _strip_port(hop: str) -> str:
    """``"[2001:db8::1]:443"`` -> ``"2001:db8::1"``, ``"203.0.113.7:80"`` -> ``"203.0.113.7"``."""
    if hop.startswith("[") and "]" in hop:
        return hop[1 : hop.index("]")]
    if hop.count(":") == 1:
        return hop.split(":", 1)[0]
    return hop
