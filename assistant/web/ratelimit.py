"""A per-client sliding-window rate limiter (in memory, one per app process)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


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

    def _prune(self, now: float) -> None:
        """Forget idle clients so the table cannot grow without bound."""
        idle = [k for k, ev in self._events.items() if not ev or now - ev[-1] >= self.window]
        for key in idle:
            del self._events[key]
        if len(self._events) >= self._max_clients:
            # Still full of active clients: drop the one idle the longest.
            oldest = min(self._events, key=lambda k: self._events[k][-1])
            del self._events[oldest]


def client_key(request: object | None) -> str:
    """The rate-limit key of a Gradio or Starlette request: the client's address as the
    server sees it.

    Forwarded-for headers are ignored on purpose: a client can set them freely.
    """
    client = getattr(request, "client", None)
    return str(getattr(client, "host", None) or "unknown")
