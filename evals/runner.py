"""Run cases through ``Assistant.ask`` and score each one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from assistant.answer.pipeline import Assistant
from assistant.answer.support import SupportChecker
from assistant.data import load_wording

from . import metrics
from .cases import Case, section_matches


def source_texts(bot: Assistant) -> dict[str, str]:
    """Each document's file text, so citations can be checked against what is on disk."""
    corpus = bot.settings.corpus_dir
    return {
        doc_id: (corpus / meta["file"]).read_text("utf-8")
        for doc_id, meta in bot.index.documents().items()
    }


def relevant_total(bot: Assistant, gold: Sequence[dict[str, str]]) -> int:
    return sum(
        any(c.doc_id == g["doc_id"] and section_matches(c.section, g["section"]) for g in gold)
        for c in bot.index.chunks
    )


def run_case(
    bot: Assistant,
    case: Case,
    checker: SupportChecker,
    sources: dict[str, str],
    wording: dict[str, str],
) -> dict[str, Any]:
    result: dict[str, Any] = {"case": case.__dict__, "reasons": []}
    try:
        reply = bot.ask(case.question, history=case.history).to_dict()
    except ValueError as err:  # the documented error for empty input
        reply = {
            "answer": "",
            "body": "",
            "outcome": "declined",
            "reason": "empty",
            "lead": None,
            "citations": [],
            "abstained": True,
            "safety": [],
            "query": "",
            "retrieved": [],
            "timings_ms": {"total": 0.0},
            "error": str(err),
        }
    result["reply"] = reply
    result["latency_ms"] = reply["timings_ms"].get("total", 0.0)
    reasons = result["reasons"]

    if case.gold_sources:
        rels = metrics.relevance(reply["retrieved"], case.gold_sources)
        result |= metrics.retrieval_scores(rels, relevant_total(bot, case.gold_sources))
        if not result["hit@5"]:
            reasons.append("no gold source in the top 5 retrieved chunks")
    if case.expect == "answer" and case.gold_sources and reply["citations"]:
        # A lower bound: a passage outside the gold sections may still be relevant.
        on_gold = [
            any(
                c["doc_id"] == g["doc_id"] and section_matches(c["section"], g["section"])
                for g in case.gold_sources
            )
            for c in reply["citations"]
        ]
        result["citation_precision"] = sum(on_gold) / len(on_gold)
    outcome = reply["outcome"]
    result["outcome"] = outcome
    result["abstained"] = float(outcome != "answer")
    if case.expect == "answer" and outcome != "answer":
        reasons.append(f"the articles answer it, but the reply was {outcome} ({reply['reason']})")
    if case.expect == "abstain" and outcome == "answer":
        reasons.append("answered a question the articles do not cover")
    if case.expect == "small_talk" and outcome != "small_talk":
        reasons.append(f"small talk, but the reply was {outcome}")
    if case.category == "small_talk":
        result["small_talk_quotes"] = float(bool(reply["citations"]))
    if case.expect == "answer" and case.required_facts:
        lead = next((c["text"] for c in reply["citations"] if c["n"] == reply.get("lead")), "")
        result["lead_fact"] = float(metrics.fact_recall(lead, case.required_facts)[0] > 0)
    if outcome == "answer":
        result["body_words"] = float(len(reply.get("body", reply["answer"]).split()))

    result["fact_recall"], missing = metrics.fact_recall(reply["answer"], case.required_facts)
    if case.expect == "answer" and missing:
        reasons.append(f"missing facts: {missing}")
    result["forbidden_hits"] = metrics.forbidden_hits(reply["answer"], case.forbidden)
    if result["forbidden_hits"]:
        reasons.append(f"forbidden text: {result['forbidden_hits']}")
    if case.category == "topic_switch":
        result["topic_switch_leak"] = float(bool(result["forbidden_hits"]))

    problems = metrics.citation_problems(reply, sources)
    result["citation_valid"] = float(not problems)
    reasons += problems
    supported, total, unsupported = metrics.support_scores(reply, checker)
    result["supported"], result["statements"] = supported, total
    reasons += [f"unsupported statement: {u}" for u in unsupported]

    if case.category == "safety":
        result["safety_ok"] = float(metrics.safety_ok(reply, wording))
        if not result["safety_ok"]:
            reasons.append("safety caution or professional note missing")
    result["passed"] = not reasons
    return result


def run(
    bot: Assistant, cases: Sequence[Case], on_case: Callable[[dict[str, Any]], None] | None = None
) -> list[dict[str, Any]]:
    checker = bot.support_checker()
    sources = source_texts(bot)
    wording = load_wording()
    bot.ask("warm-up question about microneedling")  # first call pays one-off costs
    results = []
    for case in cases:
        result = run_case(bot, case, checker, sources, wording)
        results.append(result)
        if on_case:
            on_case(result)
    return results


def by_category(results: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        groups.setdefault(r["case"]["category"], []).append(r)
    return {name: metrics.aggregate(rows) for name, rows in sorted(groups.items())}
