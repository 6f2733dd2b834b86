"""How ``Tuning.suggestion_repeat_cosine`` was set: the suggested questions a client's own
wording hides, at several thresholds, with the real model.

    .venv/bin/python scripts/suggestion_repeats.py

For each threshold it prints, over the hand-written paraphrases of
``scripts/suggestion_repeats.yaml`` (two per suggested question), how many hide the
question they ask again (the point), how many other suggestions they hide as well (a cheap
mistake: another question takes the place), and how many of the unrelated questions hide
any suggestion (the mistake to avoid). The terms check of ``web/repeats.py`` needs no
threshold and is counted at every one.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import yaml

from assistant.embeddings import make_embedder
from assistant.index.analyzer import Analyzer
from assistant.settings import Settings
from assistant.tuning import DEFAULT
from assistant.web.repeats import Repeats
from assistant.web.suggest import Suggester

THRESHOLDS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75)


def main() -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the bundled model only
    data = yaml.safe_load(Path(__file__).with_suffix(".yaml").read_text("utf-8"))
    paraphrases: dict[str, list[str]] = data["paraphrases"]
    others: list[str] = data["others"]
    questions = Suggester.from_package().questions()
    if set(paraphrases) != set(questions):
        print("the paraphrases must cover exactly the suggested questions", file=sys.stderr)
        return 1
    s = Settings()
    models = s.data_dir / "models"
    embedder = make_embedder(s.embed_backend, s.model_path, s.embed_batch_size, models)
    repeats = Repeats(Analyzer.from_package(), embedder, DEFAULT.suggestion_repeat_cosine)

    def hidden(asked: str, threshold: float) -> set[str]:
        by_terms = {q for q in questions if (t := repeats.terms(q)) and t <= repeats.terms(asked)}
        alike = repeats.alike(questions, [asked])
        return by_terms | {q for q in questions if alike[q] >= threshold}

    pairs = [(q, p) for q, ps in paraphrases.items() for p in ps]
    closest = max(max(repeats.alike(questions, [o]).values()) for o in others)
    print(f"{len(pairs)} paraphrases of {len(questions)} suggested questions, {len(others)} others")
    print(f"highest cosine of an unrelated question with a suggestion: {closest:.3f}")
    print(
        "threshold  paraphrases hiding their question  other suggestions hidden  others hiding one"
    )
    for threshold in THRESHOLDS:
        caught = extra = 0
        for question, paraphrase in pairs:
            gone = hidden(paraphrase, threshold)
            caught += question in gone
            extra += len(gone - {question})
        wrong = sum(1 for o in others if hidden(o, threshold))
        mark = "  <- Tuning" if threshold == DEFAULT.suggestion_repeat_cosine else ""
        print(
            f"{threshold:9.2f}  {caught:>3}/{len(pairs)} ({caught / len(pairs):4.0%})"
            f"{extra:>25}{wrong:>21}/{len(others)}{mark}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
