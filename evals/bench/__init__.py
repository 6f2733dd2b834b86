"""The benchmark behind ``python -m evals.bench``: how fast the assistant is, how it scales,
and how it compares (the command, its sections and its report: cli.py).

One module per section, ``cold``, ``warm``, ``embed``, ``scale`` (its worker processes:
``scale_worker``), ``load`` and ``llamaindex`` (the llama-index peers: ``peers``; the
measurements: ``sidebyside``, scored on text by ``spans`` with ``bootstrap`` intervals),
over the shared parts: ``plan`` (sections, targets, the full and quick plans), ``report``
(rows, tables, Markdown), ``machine`` (/proc figures, timing, subprocess environment)
and ``context`` (the assistant under test).

The package stays light at import time (no torch, no llama-index): the scale workers are
this same package run as ``python -m evals.bench _worker ...``, and their peak memory must
be the assistant's, not the benchmark's. ``peers`` imports llama-index, so it is not
imported here.
"""

from .bootstrap import Estimate, bootstrap, paired_difference
from .cli import BENCHES, main
from .context import Context
from .embed import embedding_texts, throughput
from .load import ENDPOINTS, measure_load
from .plan import FULL, QUICK, SECTIONS, TARGETS, Plan
from .report import Row, Section, Table, render, splice
from .scale_worker import worker_main
from .sidebyside import case_sets, corpus_files, peer_query, score_set
from .spans import Span, gold_spans, locate, overlaps, rank_scores, relevance

__all__ = [
    "BENCHES",
    "ENDPOINTS",
    "FULL",
    "QUICK",
    "SECTIONS",
    "TARGETS",
    "Context",
    "Estimate",
    "Plan",
    "Row",
    "Section",
    "Span",
    "Table",
    "bootstrap",
    "case_sets",
    "corpus_files",
    "embedding_texts",
    "gold_spans",
    "locate",
    "main",
    "measure_load",
    "overlaps",
    "paired_difference",
    "peer_query",
    "rank_scores",
    "relevance",
    "render",
    "score_set",
    "splice",
    "throughput",
    "worker_main",
]
