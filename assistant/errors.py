"""Named errors of the assistant. Each message tells the reader what to do next."""

from __future__ import annotations

REBUILD_COMMAND = "python ingest.py --rebuild"
BUILD_COMMAND = "python ingest.py"


class AssistantError(Exception):
    """Base class for every error the assistant raises on purpose."""


class IndexMissingError(AssistantError):
    """No usable index: ingest has not run yet."""

    def __init__(self, where: str) -> None:
        super().__init__(f"No index found at {where}. Build it with: {BUILD_COMMAND}")


class IndexMismatchError(AssistantError):
    """The index exists but was built by another model, backend or chunker version."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"The index does not match this assistant ({detail}). "
            f"Rebuild it with: {REBUILD_COMMAND}"
        )


class IndexCorruptError(AssistantError):
    """An index file is missing, truncated or unreadable."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"The index is damaged ({detail}). Rebuild it with: {REBUILD_COMMAND}")


class ChromaUnavailableError(IndexCorruptError):
    """The configured Chroma server does not answer; the index itself may be fine."""

    def __init__(self, where: str, detail: str) -> None:
        AssistantError.__init__(
            self,
            f"Chroma collection unusable: the Chroma server at {where} does not answer "
            f"({detail}). Start it (chroma run --path DIR --host HOST --port PORT) or unset "
            "SKINQA_CHROMA_HOST to use the embedded store.",
        )


class IngestLockedError(AssistantError):
    """Another ingest holds the lock."""

    def __init__(self, lock_path: str) -> None:
        super().__init__(
            f"Another ingest is already running (lock {lock_path}). "
            "Wait for it to finish, then run ingest again."
        )


class IngestLeaseError(IngestLockedError):
    """Another machine's ingest holds the lease on the shared Chroma store."""

    def __init__(self, holder: str, remaining_s: float, where: str = "") -> None:
        self.holder = holder
        store = f" on the Chroma server at {where}" if where else ""
        AssistantError.__init__(
            self,
            f"Another ingest is already running: {holder} holds the ingest lease{store} "
            f"(it expires in {max(0, round(remaining_s))} s unless renewed). Wait for it "
            "to finish, then run ingest again.",
        )


class BuildGoneError(AssistantError):
    """The build being served was deleted from the Chroma store (pruned elsewhere)."""

    def __init__(self, build_id: str) -> None:
        super().__init__(f"Build {build_id} is no longer in the Chroma store; reload the live one.")


class CorpusAllowlistError(AssistantError):
    """The corpus allow-list (``SKINQA_CORPUS_ALLOWLIST``) is missing or malformed.

    Ingest stops rather than guess: a clinic that asked for vetted files only must not
    get every file in the folder because its list could not be read.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(
            f"The corpus allow-list {path} cannot be used ({reason}). Fix the file or unset "
            "SKINQA_CORPUS_ALLOWLIST; nothing was ingested."
        )


class CorpusFileError(AssistantError):
    """One corpus file cannot be used; ingest skips it and goes on."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class GeneratorError(AssistantError):
    """The language-model backend failed (server down, timeout, bad output)."""
