"""Build the lead adapter (``assistant/answer/adapter.py``) from the development cases.

For every answerable case of the given sets, the question as the engine reads it (a
follow-up with its context) is paired with the article sentences of its gold sections
that hold a required fact (positives) and the other sentences of its gold articles
(negatives). A linear map ``W`` of the query vector, started at the identity and kept
near it, is trained so that the positives outscore the negatives and the other
questions' positives (a contrastive loss). Deterministic: fixed seeds, the CPU.

    python -m evals.lead_adapter                       # rebuild from the recorded sets
    python -m evals.lead_adapter --sets cases,blind1   # from other sets
    python -m evals.lead_adapter --sets ... --holdout blind9,blind10 --no-write
        # train on --sets only and report, on the held-out sets, how often the unit with
        # the best answer score holds a required fact (against the plain model's best)

Writes ``assistant/data/lead_adapter.npz`` (the map, float16) and ``lead_adapter.json``
(what it was trained on, when, from which commit). Only ever train on sets whose
failures have been read: a blind set is blind only until its first run.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import random
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.answer import compose
from assistant.answer.adapter import FILE
from evals.cases import Case, load_cases, section_matches
from evals.sets import Registry

DATA = Path(__file__).resolve().parent.parent / "assistant" / "data"
META = DATA / "lead_adapter.json"
EPOCHS, LEARNING_RATE, PULL_TO_IDENTITY, BATCH, SCALE = 20, 1e-3, 1e-3, 64, 20.0


@dataclass
class Example:
    query: str
    positives: list[int]  # rows of the sentence matrix
    negatives: list[int]


def sentences_of(bot) -> tuple[list[tuple[str, str, str]], np.ndarray]:
    """Every quotable unit's sentences as (doc_id, section, text), and their vectors."""
    rows = []
    for chunk in bot.index.chunks:
        for unit, members in compose.units(chunk):
            if compose.quotable(compose.quoting().unlabelled(unit)):
                rows += [(chunk.doc_id, chunk.section, chunk.sentences[i].text) for i in members]
    rows = list(dict.fromkeys(rows))
    return rows, bot.embedder.embed([t for *_, t in rows])


def _holds(case: Case, text: str) -> bool:
    return any(re.search(rx, text, re.I) for fact in case.required_facts for rx in fact)


def examples(bot, cases: list[Case], rows: list[tuple[str, str, str]]) -> list[Example]:
    out = []
    for case in cases:
        if case.expect != "answer" or not case.required_facts:
            continue
        holds = [_holds(case, t) for *_, t in rows]
        gold_docs = {g["doc_id"] for g in case.gold_sources}
        in_gold = [
            any(d == g["doc_id"] and section_matches(s, g["section"]) for g in case.gold_sources)
            for d, s, _ in rows
        ]
        pos = [i for i in range(len(rows)) if holds[i] and in_gold[i]]
        neg = [i for i, (d, _, _) in enumerate(rows) if not holds[i] and d in gold_docs]
        if pos and neg:
            query = bot.ask(case.question, history=case.history).query
            out.append(Example(query, pos, neg))
    return out


def train(queries: np.ndarray, data: list[Example], units: np.ndarray) -> np.ndarray:
    import torch

    torch.manual_seed(0)
    rng = random.Random(0)
    dim = queries.shape[1]
    eye = torch.eye(dim)
    weights = torch.nn.Parameter(eye.clone())
    opt = torch.optim.Adam([weights], lr=LEARNING_RATE)
    q_all, u_all = torch.tensor(queries), torch.tensor(units)
    order = list(range(len(data)))
    for _ in range(EPOCHS):
        rng.shuffle(order)
        for start in range(0, len(order), BATCH):
            batch = order[start : start + BATCH]
            q = torch.nn.functional.normalize(q_all[batch] @ weights.T, dim=-1)
            pos = [rng.choice(data[j].positives) for j in batch]
            neg = [rng.choice(data[j].negatives) for j in batch]
            scores = q @ u_all[pos + neg].T * SCALE
            loss = torch.nn.functional.cross_entropy(scores, torch.arange(len(batch)))
            loss = loss + PULL_TO_IDENTITY * ((weights - eye) ** 2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
    return weights.detach().numpy()


def best_holds(bot, cases: list[Case], weights: np.ndarray | None) -> tuple[int, int]:
    """(questions, of which the best-scoring unit of the top five passages holds a fact)."""
    n = hit = 0
    for case in cases:
        if case.expect != "answer" or not case.required_facts:
            continue
        reply = bot.ask(case.question, history=case.history)
        if reply.outcome.value != "answer":
            continue
        pool = [u for h in reply.hits[:5] for u, _ in compose.units(h.chunk)]
        texts = [compose.quoting().unlabelled(u).text for u in pool]
        texts = [t for t in texts if len(t) >= 20]
        if not texts:
            continue
        q = bot.embedder.embed([reply.query])[0]
        if weights is not None:
            q = weights @ q
        best = max(zip(bot.embedder.embed(texts) @ q, texts, strict=True))[1]
        n += 1
        hit += _holds(case, best)
    return n, hit


def main(argv: list[str] | None = None) -> int:
    import assistant
    from assistant.tuning import DEFAULT

    parser = argparse.ArgumentParser(prog="python -m evals.lead_adapter", description=__doc__)
    parser.add_argument("--sets", help="comma-separated set names (default: the recorded ones)")
    parser.add_argument("--holdout", help="sets to report the best unit's fact rate on")
    parser.add_argument("--no-write", action="store_true", help="do not write the files")
    args = parser.parse_args(argv)
    registry = Registry.load()
    if args.sets:
        names = args.sets.split(",")
    elif META.is_file():
        names = json.loads(META.read_text("utf-8"))["sets"]
    else:
        parser.error("no recorded sets: give --sets")
    unread = [s.name for s in registry.sets if s.name in names and s.awaiting_first_run]
    if unread:
        parser.error(f"never train on a blind set before its first run: {', '.join(unread)}")
    # Without the adapter: the questions are read as the engine reads them, and the
    # hold-out comparison starts from the plain model.
    bot = assistant.load(tuning=dataclasses.replace(DEFAULT, off=frozenset({"lead_adapter"})))
    rows, units = sentences_of(bot)
    data = [e for n in names for e in examples(bot, load_cases(registry.get(n).file), rows)]
    queries = bot.embedder.embed([e.query for e in data])
    weights = train(queries, data, units)
    print(f"trained on {len(data)} questions from {len(names)} sets, {len(rows)} sentences")
    for name in (args.holdout or "").split(",") if args.holdout else []:
        cases = load_cases(registry.get(name).file)
        n, plain = best_holds(bot, cases, None)
        _, adapted = best_holds(bot, cases, weights)
        print(
            f"{name}: the best unit holds a fact, plain {plain / n:.3f}, adapted {adapted / n:.3f}"
        )
    if args.no_write:
        return 0
    model = bot.embedder.model_id.split("@")[0]
    np.savez_compressed(DATA / FILE, weights=weights.astype(np.float16), model=np.array(model))
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    META.write_text(
        json.dumps(
            {
                "sets": names,
                "questions": len(data),
                "sentences": len(rows),
                "model": model,
                "trained": dt.date.today().isoformat(),
                "commit": commit or None,
                "epochs": EPOCHS,
                "learning_rate": LEARNING_RATE,
                "pull_to_identity": PULL_TO_IDENTITY,
            },
            indent=2,
        )
        + "\n",
        "utf-8",
    )
    print(f"wrote {DATA / FILE} and {META}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
