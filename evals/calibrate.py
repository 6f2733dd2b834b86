"""``python -m evals calibrate``: choose the support-check thresholds on labelled data.

Reads ``evals/support_labels.jsonl`` (statement, passages, hand label) and prints the
accuracy of each threshold pair, best first, next to the ones in ``assistant.tuning``.
"""

from __future__ import annotations

import json
from pathlib import Path

LABELS = Path(__file__).with_name("support_labels.jsonl")


def main() -> int:
    from assistant.answer.support import SupportChecker
    from assistant.embeddings import make_embedder
    from assistant.index.analyzer import Analyzer
    from assistant.settings import Settings
    from assistant.tuning import DEFAULT as tuning

    s = Settings()
    embedder = make_embedder(
        s.embed_backend, s.model_path, s.embed_batch_size, s.data_dir / "models"
    )
    rows = [json.loads(line) for line in LABELS.read_text("utf-8").splitlines() if line]
    # Thresholds 0: every cited sentence is read, and ``agreeing`` is the best similarity
    # among those that say the same thing (meaning.py), so each pair below is one test.
    checker = SupportChecker(embedder, Analyzer.from_package(), min_similarity=0, min_recall=0)
    signals = [(checker.check(r["statement"], r["passages"]), r["supported"]) for r in rows]
    grid = []
    for sim in [x / 100 for x in range(50, 91, 5)]:
        for recall in [x / 100 for x in range(30, 91, 10)]:
            for all_words in [x / 100 for x in range(35, 71, 5)]:
                if all_words > sim:
                    continue
                correct = sum(
                    (
                        sig.recall >= recall
                        and (sig.agreeing >= sim or sig.agreeing_all_words >= all_words)
                    )
                    == label
                    for sig, label in signals
                )
                grid.append((correct / len(rows), sim, recall, all_words))
    # Best first; among equals, the strictest thresholds.
    grid.sort(key=lambda g: (-g[0], -g[1], -g[2], -g[3]))
    print(
        f"{len(rows)} labelled statements; tuning uses similarity "
        f"{tuning.support_min_similarity}, recall {tuning.support_min_recall}, similarity "
        f"with every word held {tuning.support_min_similarity_all_words}"
    )
    for accuracy, sim, recall, all_words in grid[:10]:
        print(
            f"accuracy {accuracy:.3f}  min_similarity {sim:.2f}  min_recall {recall:.2f}  "
            f"min_similarity_all_words {all_words:.2f}"
        )
    tuned = (
        tuning.support_min_similarity,
        tuning.support_min_recall,
        tuning.support_min_similarity_all_words,
    )
    at_tuned = sum(
        (
            sig.recall >= tuned[1]
            and (sig.agreeing >= tuned[0] or sig.agreeing_all_words >= tuned[2])
        )
        == label
        for sig, label in signals
    )
    print(f"accuracy at the tuned values: {at_tuned / len(rows):.3f}")
    return 0
