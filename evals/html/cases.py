"""Cases: changed ones side by side (before | now), and the full view of every case."""

from __future__ import annotations

from typing import Any

from ..cases import section_matches
from ..compare import CaseChange, Line, diff_answers, facts
from ..record import compact
from .page import badge, esc, fmt

STATUS_TEXT = {
    "newly_failing": ("newly failing", "b-fail"),
    "newly_passing": ("newly passing", "b-pass"),
    "still_failing": ("still failing", ""),
    "changed": ("answer changed", ""),
    "new": ("new case", ""),
    "removed": ("removed", ""),
    "same": ("unchanged", ""),
}


def _lines(lines: list[Line]) -> str:
    return "".join(
        "<div>"
        + " ".join(
            esc(text) if kind == "same" else f'<span class="{kind}">{esc(text)}</span>'
            for kind, text in pieces
        )
        + "</div>"
        for pieces in lines
    )


def _outcome(record: dict[str, Any]) -> str:
    passed = badge("passed", "b-pass") if record.get("passed") else badge("failed", "b-fail")
    outcome = record.get("outcome") or ("declined" if record.get("abstained") else "–")
    return f"{passed} outcome {badge(outcome)} reason {badge(record.get('reason') or '–')}"


def _reasons(reasons: list[str]) -> str:
    if not reasons:
        return ""
    return '<ul class="reasons">' + "".join(f"<li>{esc(r)}</li>" for r in reasons) + "</ul>"


def _facts(answer: str, required: list[list[str]]) -> str:
    if not required:
        return ""
    items = []
    for patterns, found in facts(answer, required):
        alternatives = " | ".join(patterns)
        if found is None:
            items.append(
                f'<li><span class="miss-mark">✗</span> missed <code>{esc(alternatives)}</code></li>'
            )
        else:
            items.append(
                f'<li><span class="ok-mark">✓</span> “{esc(found)}” '
                f"<small>(<code>{esc(alternatives)}</code>)</small></li>"
            )
    return '<ul class="facts">' + "".join(items) + "</ul>"


def _history(case: dict[str, Any]) -> str:
    turns = "".join(
        f"<div><b>{esc(t['role'])}:</b> {esc(t['content'])}</div>" for t in case.get("history", [])
    )
    return f'<div class="history">{turns}</div>' if turns else ""


def _side(title: str, record: dict[str, Any], answer: str, case: dict[str, Any]) -> str:
    return (
        f'<div class="side"><h4>{esc(title)}</h4><div>{_outcome(record)}</div>'
        f"{_reasons(record.get('reasons', []))}"
        f'<div class="answer">{answer}</div>'
        f"{_facts(record.get('answer', ''), case['required_facts'])}</div>"
    )


def change_card(set_name: str, change: CaseChange, against: str, open_: bool = True) -> str:
    """A case whose verdict changed: both answers side by side, the quotes diffed."""
    assert change.new is not None and change.old is not None
    case, now = change.new["case"], compact(change.new)
    left, right = diff_answers(change.old.get("answer", ""), now["answer"])
    label, css = STATUS_TEXT[change.status]
    return (
        f'<details class="card change" id="change-{esc(change.id)}"{" open" if open_ else ""}>'
        f"<summary>{badge(label, css)} <code>{esc(set_name)} / {esc(change.id)}</code> "
        f'{badge(case["category"])} <span class="q">{esc(case["question"])}</span></summary>'
        f"{_history(case)}"
        f'<div class="sides">{_side(f"before ({against})", change.old, _lines(left), case)}'
        f"{_side('now', now, _lines(right), case)}</div>"
        f'<p><a href="#case-{esc(change.id)}">full view of this case ↓</a></p></details>'
    )


def _gold(item: dict[str, Any], gold: list[dict[str, str]]) -> bool:
    return any(
        item.get("doc_id") == g["doc_id"] and section_matches(item.get("section", ""), g["section"])
        for g in gold
    )


def _signals(gate: dict[str, Any]) -> str:
    if not gate:
        return ""
    cells = "".join(
        f"<tr><td>{esc(k)}</td><td class=text>"
        f"{fmt(', '.join(map(str, v)) if isinstance(v, list) else v)}</td></tr>"
        for k, v in gate.items()
    )
    return f'<table class="signals"><tr><th>signal</th><th>value</th></tr>{cells}</table>'


def _citations(reply: dict[str, Any], gold: list[dict[str, str]]) -> str:
    items = []
    for c in reply.get("citations", []):
        marks = badge("gold", "b-gold") if _gold(c, gold) else ""
        role = badge(c["role"]) if c.get("role") else ""
        items.append(
            f"<li>[{esc(c['n'])}] {role}{marks} <b>{esc(c.get('title', c['doc_id']))}</b> — "
            f"{esc(c['section'])}<blockquote>{esc(c['text'])}</blockquote></li>"
        )
    return f"<ol>{''.join(items)}</ol>" if items else "<p class=flat>No citations.</p>"


def _retrieved(reply: dict[str, Any], gold: list[dict[str, str]]) -> str:
    rows = "".join(
        f"<tr><td>{i}</td><td class=text>{esc(r['doc_id'])} — {esc(r['section'])}"
        f"{badge('gold', 'b-gold') if _gold(r, gold) else ''}</td>"
        f"<td>{fmt(r.get('dense_similarity'))}</td>"
        f"<td>{'cited' if r.get('cited') else ''}</td></tr>"
        for i, r in enumerate(reply.get("retrieved", [])[:5], start=1)
    )
    if not rows:
        return ""
    return (
        "<table><tr><th>#</th><th>retrieved (top 5)</th><th>similarity</th><th></th></tr>"
        f"{rows}</table>"
    )


def case_view(set_name: str, result: dict[str, Any], change: CaseChange | None) -> str:
    """Everything about one case: question, verdict and signals, answer, sources, facts."""
    case, reply = result["case"], result["reply"]
    status = change.status if change else ("failing" if not result["passed"] else "passing")
    label, css = STATUS_TEXT.get(status, (status, ""))
    state = badge("passed", "b-pass") if result["passed"] else badge("failed", "b-fail")
    text = f"{case['id']} {case['category']} {case['question']}".lower()
    flags = f"{'passing' if result['passed'] else 'failing'} {status}"
    gold = case.get("gold_sources", [])
    gold_list = "".join(f"<li>{esc(g['doc_id'])} — {esc(g['section'])}</li>" for g in gold)
    notes = f"<p><small>{esc(case['notes'])}</small></p>" if case.get("notes") else ""
    changed = (
        f' <a href="#change-{esc(case["id"])}">before/after ↑</a>'
        if change and change.status in ("newly_failing", "newly_passing")
        else ""
    )
    return (
        f'<details class="card case" id="case-{esc(case["id"])}" data-text="{esc(text)}" '
        f'data-status="{esc(flags)}"><summary>{state} {badge(label, css) if change else ""}'
        f"<code>{esc(case['id'])}</code> {badge(case['category'])} "
        f"{badge('expects ' + case['expect'])} {esc(case['question'])}</summary>"
        f"{_history(case)}<p>{_outcome({**reply, 'passed': result['passed']})} · "
        f"{fmt(result['latency_ms'])} ms{changed}</p>{_reasons(result['reasons'])}"
        f"{_signals(reply.get('gate', {}))}"
        f'<div class="answer">{esc(reply["answer"])}</div>'
        f"<h4>Facts</h4>{_facts(reply['answer'], case['required_facts']) or '<p>none required</p>'}"
        f"<h4>Citations</h4>{_citations(reply, gold)}"
        f"{'<h4>Gold passages</h4><ul>' + gold_list + '</ul>' if gold_list else ''}"
        f"{_retrieved(reply, gold)}{notes}</details>"
    )
