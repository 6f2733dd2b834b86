"""One ingest at a time across machines: a lease held in the Chroma store itself.

The lease is a collection named ``skinqa-ingest-lease`` whose metadata says who holds it
and until when. Creating a collection whose name exists fails on the server, so taking
the lease is atomic without any other coordination service; the holder renews it while
it works and deletes it when done. A lease past its expiry (its holder died) is taken
over: it is first renamed out of the way by its own id, so of two machines taking over
the same dead lease only the one whose create succeeds holds it.

>>> # with Lease(client, "clinic-a pid 42", ttl_s=120): ...   # refused: IngestLeaseError
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from types import TracebackType
from typing import Any

from ..errors import IngestLeaseError

log = logging.getLogger(__name__)

LEASE = "skinqa-ingest-lease"


class Lease:
    """The ingest lease on one Chroma store, held for a ``with`` block.

    ``where`` names the store in messages (its address); ``ttl_s`` is how long the lease
    stays valid without renewal (renewed every third of it while held).
    """

    def __init__(self, client: Any, holder: str, ttl_s: float, where: str = "") -> None:
        self.client = client
        self.holder = holder
        self.ttl_s = ttl_s
        self.where = where
        self.token = secrets.token_hex(8)
        self._collection: Any = None
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None
        self.lost = False

    def _metadata(self) -> dict[str, Any]:
        now = time.time()
        return {
            "holder": self.holder,
            "token": self.token,
            "taken": now,
            "expires": now + self.ttl_s,
        }

    def acquire(self) -> None:
        """Take the lease, or raise ``IngestLeaseError`` naming its holder."""
        for _ in range(3):
            try:
                self._collection = self.client.create_collection(
                    LEASE, metadata=self._metadata(), embedding_function=None
                )
                break
            except Exception as exc:  # the name exists (or the server failed: see below)
                held = self._current()
                if held is None:
                    if _is_conflict(exc):
                        continue  # released between our create and our read
                    raise
                meta = held.metadata or {}
                expires = meta.get("expires")
                expires = float(expires) if isinstance(expires, int | float) else 0.0
                if expires > time.time():
                    holder = str(meta.get("holder", "an unknown holder"))
                    raise IngestLeaseError(holder, expires - time.time(), self.where) from None
                log.warning("taking over the expired ingest lease of %s", meta.get("holder"))
                self._discard(held)
        else:
            raise IngestLeaseError("another ingest (the lease keeps changing hands)", 0, self.where)
        self._renewer = threading.Thread(target=self._renew, name="ingest-lease", daemon=True)
        self._renewer.start()

    def _current(self) -> Any:
        try:
            return self.client.get_collection(LEASE)
        except Exception:
            return None

    def _discard(self, collection: Any) -> None:
        """Rename ``collection`` (by its id) out of the lease's name, then delete it."""
        aside = f"{LEASE}-expired-{secrets.token_hex(4)}"
        try:
            collection.modify(name=aside)
            self.client.delete_collection(aside)
        except Exception as exc:  # another machine moved it first: the create decides
            log.info("the expired lease was already moved: %s", exc)

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl_s / 3):
            try:
                if not self.held():
                    self.lost = True
                    log.error("the ingest lease was taken over by another machine")
                    return
                self._collection.modify(metadata=self._metadata())
            except Exception as exc:  # keep trying: the lease is valid until it expires
                log.warning("could not renew the ingest lease: %s", exc)

    def held(self) -> bool:
        """The lease on the store is still ours (checked on the server)."""
        current = self._current()
        return current is not None and (current.metadata or {}).get("token") == self.token

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(timeout=5)
        if self._collection is not None and self.held():
            self._discard(self._collection)
        self._collection = None

    def __enter__(self) -> Lease:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def _is_conflict(exc: Exception) -> bool:
    return "already exists" in str(exc)
