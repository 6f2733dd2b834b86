"""The index build questions are answered from, switched when ingest publishes a new one.

Ingest writes a new build next to the old one and then publishes it (``index.layout``); a
running assistant picks it up between questions, without a restart.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from ..embeddings import Embedder
from ..errors import AssistantError
from ..index import layout
from ..index.analyzer import Analyzer
from ..index.reader import LoadedIndex
from ..index.vocabulary import Vocabulary
from ..settings import Settings
from ..tuning import Tuning
from .retrieve import HybridRetriever
from .spelling import Speller, article_words

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    """Everything bound to one index build.

    A question uses one snapshot from start to end, so a build published by ingest
    mid-question never mixes with the old one.
    """

    index: LoadedIndex
    vocabulary: Vocabulary
    retriever: HybridRetriever
    speller: Speller

    @classmethod
    def bind(
        cls,
        index: LoadedIndex,
        tuning: Tuning,
        embedder: Embedder,
        analyzer: Analyzer,
        common_words: frozenset[str] = frozenset(),
    ) -> Snapshot:
        """``common_words``: words a client may write that no article uses (never
        corrected into an article word; see ``spelling``)."""
        vocabulary = Vocabulary(analyzer, index.chunks)
        retriever = HybridRetriever(index, embedder, tuning, correct=vocabulary.corrected)
        speller = Speller(article_words(index.chunks, analyzer.canonical), common_words)
        return cls(index, vocabulary, retriever, speller)


class LiveIndex:
    """The current ``Snapshot``, replaced as a whole when a newer build is published."""

    def __init__(
        self,
        settings: Settings,
        tuning: Tuning,
        index: LoadedIndex,
        embedder: Embedder,
        analyzer: Analyzer,
        common_words: frozenset[str] = frozenset(),
    ) -> None:
        self.settings = settings
        self.tuning = tuning
        self.embedder = embedder
        self.analyzer = analyzer
        self.common_words = common_words
        self.current = Snapshot.bind(index, tuning, embedder, analyzer, common_words)
        self._checked = time.monotonic()

    def refresh(self, min_interval: float = 1.0) -> bool:
        """Switch to a newer complete build if ingest published one (checked at most once
        per ``min_interval`` seconds). A broken new build is logged and the old one kept."""
        now = time.monotonic()
        if now - self._checked < min_interval:
            return False
        self._checked = now
        try:
            live = layout.current_build(self.settings.index_path)
            if live is None or live == self.current.index.build:
                return False
            index = LoadedIndex.open(self.settings, self.embedder.model_id, self.tuning)
        except AssistantError as err:
            # A damaged pointer or build: keep answering from the build in use.
            log.warning("not switching builds: %s", err)
            return False
        self.current = Snapshot.bind(
            index, self.tuning, self.embedder, self.analyzer, self.common_words
        )
        log.info("switched to index build %s", index.build.name)
        return True
