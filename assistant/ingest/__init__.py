"""Ingest stage: corpus files -> chunks -> embeddings -> a new published index build."""

from .pipeline import IngestSummary, ingest

__all__ = ["IngestSummary", "ingest"]
