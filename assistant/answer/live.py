"""The index build questions are answered from, switched when ingest publishes a new one.

Ingest writes a new build next to the old one and then publishes it (``index.layout``, and
in server mode the store's live record, ``index.store``); a running assistant picks it up
between questions, without a restart.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from ..embeddings import Embedder
from ..errors import AssistantError
from ..index import layout, store
from ..index.analyzer import Analyzer
from ..index.reader import LoadedIndex
from ..index.vocabulary import Vocabulary
from ..settings import Settings
from ..tuning import Tuning
from .retrieve import HybridRetriever
from .spelling import Speller, article_words, shorthand

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
        df = index.keyword.document_frequencies()
        vocabulary = Vocabulary.from_counts(analyzer, df, len(index.chunks))
        retriever = HybridRetriever(index, embedder, tuning, correct=vocabulary.corrected)
        # The articles' words are gathered on the first word that needs them: a start at
        # 100k chunks does not wait for them.
        speller = Speller(
            lambda: article_words(index.chunks, analyzer.canonical), common_words, shorthand()
        )
        return cls(index, vocabulary, retriever, speller)


class LiveIndex:
    """The current ``Snapshot``, replaced as a whole when a newer build is published.

    Locally the ``CURRENT`` file names the live build; in server mode the store's live
    record does (read at most once per ``chroma_poll_seconds``), so every replica of a
    deployment switches within one poll interval of an ingest on any machine.
    """

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
        # One thread loads a new build; the others keep answering from the current one.
        self._switching = threading.Lock()

    def _live_build(self) -> str | None:
        if self.settings.chroma_host:
            return store.live_build(self.current.index.client)
        live = layout.current_build(self.settings.index_path)
        return live.name if live is not None else None

    def refresh(self, min_interval: float | None = None) -> bool:
        """Switch to a newer complete build if ingest published one (checked at most once
        per ``min_interval`` seconds; default: the poll interval in server mode, 1 s
        locally). A broken new build, or a server that does not answer, is logged and
        the build in use kept."""
        if min_interval is None:
            min_interval = self.settings.chroma_poll_seconds if self.settings.chroma_host else 1.0
        now = time.monotonic()
        if now - self._checked < min_interval:
            return False
        if not self._switching.acquire(blocking=False):
            return False
        try:
            self._checked = now
            live = self._live_build()
            if live is None or live == self.current.index.build.name:
                return False
            return self._load()
        except AssistantError as err:
            # A damaged pointer or build: keep answering from the build in use.
            log.warning("not switching builds: %s", err)
            return False
        except Exception as exc:  # the Chroma server did not answer the poll
            log.warning("not switching builds: the live build could not be read (%s)", exc)
            return False
        finally:
            self._switching.release()

    def reload(self) -> Snapshot:
        """The live build, loaded now: for a replica whose build was deleted under it
        (pruned by an ingest elsewhere). Raises what ``LoadedIndex.open`` raises."""
        with self._switching:
            self._checked = time.monotonic()
            self._load()
        return self.current

    def _load(self) -> bool:
        index = LoadedIndex.open(self.settings, self.embedder.model_id, self.tuning)
        if index.build.name == self.current.index.build.name:
            return False
        self.current = Snapshot.bind(
            index, self.tuning, self.embedder, self.analyzer, self.common_words
        )
        log.info("switched to index build %s", index.build.name)
        return True
