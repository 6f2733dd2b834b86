"""Answer stage: from a question (and the conversation) to a cited ``Reply``.

``query`` (clean-up, follow-ups) -> ``retrieve`` (BM25 + dense, fused) -> ``respond``
(``gate``, ``compose``, ``checks``, ``safety``, ``cite``); ``pipeline`` wires them in
``Assistant``; ``live`` switches builds between questions; ``support`` is the offline
citation-support check shared with LLM mode and the evals.
"""
