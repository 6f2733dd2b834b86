"""Append-only feedback log: one JSON object per line, safe under concurrent writers."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from filelock import FileLock


class FeedbackLog:
    """Appends feedback records as JSON lines to ``path``.

    Threads of this process serialise on a ``threading.Lock``; other processes (a second
    app instance, an export script) on a ``FileLock`` beside the file. Each record goes
    out in one ``write()`` of a complete line, flushed and fsynced, so a reader never sees
    half a record and a crash loses at most the line being written.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._thread_lock = threading.Lock()
        self._file_lock = FileLock(str(self.path) + ".lock")

    def append(self, record: dict[str, Any]) -> None:
        # Serialise before taking the locks: a record that cannot be encoded fails here,
        # without blocking other writers.
        line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
        data = line.encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._thread_lock, self._file_lock:
            # O_APPEND makes every write land at the current end of the file.
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                written = os.write(fd, data)
                if written != len(data):  # a full disk; never leave half a line silently
                    raise OSError(f"short write to {self.path}: {written} of {len(data)} bytes")
                os.fsync(fd)
            finally:
                os.close(fd)
