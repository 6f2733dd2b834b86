"""The corpus allow-list: for clinics that want only vetted files ingested.

``SKINQA_CORPUS_ALLOWLIST`` names a text file in the format ``sha256sum`` writes, one
file of the corpus folder per line::

    # vetted 2026-12-01 by the clinic's medical lead
    3f7a…c1  womens-health-microneedling-basics.md
    dermaroller-micro-needling-intro.md

A line with a SHA-256 admits the file only with exactly that content (an edit must be
vetted again); a line with a name alone admits the file by name. Every other file in
the folder is skipped with a message. ``sha256sum *.md > vetted.sha256`` in the corpus
folder writes a complete list.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Set
from dataclasses import dataclass
from pathlib import Path

from ..errors import CorpusAllowlistError, CorpusFileError

_HASHED = re.compile(r"^([0-9a-fA-F]{64}) [ *](.+)$")
_MAX_BYTES = 1_000_000


@dataclass(frozen=True)
class Allowlist:
    path: Path
    entries: dict[str, str | None]  # file name -> vetted SHA-256, or None (by name)

    @classmethod
    def read(cls, path: Path) -> Allowlist:
        """Parse the list; raise ``CorpusAllowlistError`` naming the line that is wrong.

        >>> Allowlist.parse(Path("v"), "a.md\\n" + "0" * 64 + "  b.md\\n").entries
        {'a.md': None, 'b.md': '0000000000000000000000000000000000000000000000000000000000000000'}
        """
        try:
            raw = path.read_bytes()[: _MAX_BYTES + 1]
        except OSError as exc:
            raise CorpusAllowlistError(str(path), exc.strerror or str(exc)) from exc
        if len(raw) > _MAX_BYTES:
            raise CorpusAllowlistError(str(path), f"larger than {_MAX_BYTES} bytes")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CorpusAllowlistError(str(path), f"not UTF-8 at byte {exc.start}") from exc
        return cls.parse(path, text)

    @classmethod
    def parse(cls, path: Path, text: str) -> Allowlist:
        entries: dict[str, str | None] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            match = _HASHED.match(line)
            digest, name = (match.group(1).lower(), match.group(2)) if match else (None, line)
            if "/" in name or "\\" in name or name in (".", ".."):
                raise CorpusAllowlistError(
                    str(path), f"line {number}: '{name}' is not a file name in the corpus folder"
                )
            if name in entries:
                raise CorpusAllowlistError(str(path), f"line {number}: '{name}' is listed twice")
            entries[name] = digest
        if not entries:
            raise CorpusAllowlistError(str(path), "it lists no files")
        return cls(path, entries)

    def check(self, path: Path, raw: bytes) -> None:
        """Raise ``CorpusFileError`` unless the file at ``path`` with bytes ``raw`` is vetted."""
        if path.name not in self.entries:
            raise CorpusFileError(str(path), f"is not in the allow-list {self.path.name}")
        vetted = self.entries[path.name]
        actual = hashlib.sha256(raw).hexdigest()
        if vetted is not None and actual != vetted:
            raise CorpusFileError(
                str(path),
                f"differs from the version vetted in {self.path.name} (SHA-256 {actual[:12]}…, "
                f"vetted {vetted[:12]}…); skipped until it is vetted again",
            )

    def missing(self, corpus_dir: Path, seen: Set[str]) -> list[CorpusFileError]:
        """One error per listed file the corpus folder does not hold (``seen``: the names
        it does hold, usable or not)."""
        return [
            CorpusFileError(str(corpus_dir / name), f"is listed in {self.path.name} but absent")
            for name in sorted(self.entries)
            if name not in seen
        ]
