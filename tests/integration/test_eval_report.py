"""The eval report: comparison with an earlier run, history, JUnit/CSV, the page itself.

Fast tests build results by hand; one integration test runs the real CLI twice with a
seeded difference (a stricter answer gate) and reads what it wrote.
"""

from __future__ import annotations

import csv
import doctest
import html
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

import evals.compare
import evals.record
import evals.sets
from evals import history, report
from evals.__main__ import main
from evals.compare import compare_cases, compare_set, diff_answers, metric_deltas
from evals.html import SetEntry
from evals.record import Run, SetRun, compact, load_run, write_jsonl, write_run
from evals.sets import Registry, RegistryError
from evals.suite import SelectionError, parse_tuning, select


def result(case_id: str, passed: bool, answer: str = "- A quote. [1]", **case: Any) -> dict:
    """A hand-made result in the runner's shape."""
    return {
        "case": {
            "id": case_id,
            "category": case.get("category", "answerable"),
            "question": case.get("question", f"question {case_id}?"),
            "expect": case.get("expect", "answer"),
            "history": [],
            "gold_sources": [{"doc_id": "d", "section": "S"}],
            "required_facts": case.get("facts", []),
            "forbidden": [],
            "notes": "",
        },
        "reasons": [] if passed else ["declined a question the articles answer"],
        "passed": passed,
        "latency_ms": 12.5,
        "reply": {
            "answer": answer,
            "outcome": "answer" if passed else "declined",
            "reason": "answered" if passed else "low_confidence",
            "abstained": not passed,
            "citations": [
                {
                    "n": 1,
                    "doc_id": "d",
                    "title": "T",
                    "section": "S > Sub",
                    "text": "A quote.",
                    "role": "lead",
                }
            ]
            if passed
            else [],
            "retrieved": [{"doc_id": "d", "section": "S", "dense_similarity": 0.7, "cited": True}],
            "gate": {"similarity": 0.71, "coverage": 1.0, "unknown_terms": ["zzz"]},
        },
    }


def test_doctests_of_the_report_modules() -> None:
    for module in (evals.compare, evals.record, evals.sets):
        assert doctest.testmod(module).failed == 0, module.__name__


def test_changed_cases_come_worst_first() -> None:
    new = {
        r["case"]["id"]: r
        for r in (
            result("same", True),
            result("up", True),
            result("down", False),
            result("still", False),
            result("fresh", True),
        )
    }
    old = {
        i: compact(r)
        for i, r in {
            "same": result("same", True),
            "up": result("up", False),
            "down": result("down", True),
            "still": result("still", False),
            "gone": result("gone", True),
        }.items()
    }
    changes = compare_cases(new, old)
    assert [(c.id, c.status) for c in changes] == [
        ("down", "newly_failing"),
        ("up", "newly_passing"),
        ("still", "still_failing"),
        ("fresh", "new"),
        ("gone", "removed"),
        ("same", "same"),
    ]


def test_answers_are_diffed_by_quote_and_word() -> None:
    left, right = diff_answers("- Wait 24 hours. [1]\n- Use SPF. [2]", "- Use SPF. [1]")
    # A renumbered quote is the same quote; a dropped one is shown whole.
    assert left == [[("removed_line", "- Wait 24 hours.")], [("same", "- Use SPF.")]]
    assert right == [[("same", "- Use SPF.")]]
    left, right = diff_answers("- Avoid makeup for 24 hours.", "- Avoid makeup for 48 hours.")
    assert ("removed", "24") in left[0] and ("added", "48") in right[0]


def test_metric_deltas_know_direction_and_gate_and_take_any_new_figure() -> None:
    old = {"hit@5": 0.97, "false_refusals": 0.02, "latency_p50_ms": 10.0}
    new = {
        "hit@5": 0.94,
        "false_refusals": 0.01,
        "latency_p50_ms": 12.0,
        "outcomes": {"answer": 3, "related": 1},  # a figure the report has never seen
    }
    d = {x.metric: x for x in metric_deltas(new, old)}
    assert (d["hit@5"].better, d["hit@5"].below_floor, d["hit@5"].regressed) == (False, True, True)
    assert d["hit@5"].floor == "≥ 0.95" and d["false_refusals"].floor == "≤ 0.08"
    assert d["false_refusals"].better is True and d["latency_p50_ms"].better is False
    assert d["outcomes.answer"].new == 3 and d["outcomes.answer"].old is None


def test_a_different_case_list_shows_no_metric_deltas() -> None:
    new = SetRun("s", {"passed": 1.0}, results=(result("a", True),))
    old = SetRun(
        "s", {"passed": 2.0}, results=(compact(result("a", True)), compact(result("b", True)))
    )
    comparison = compare_set(new, old, "before")
    assert not comparison.same_cases
    assert [d.old for d in comparison.deltas] == [None]
    assert comparison.status_of("b") == "removed"


def test_run_folders_round_trip_and_old_single_set_folders_load(tmp_path: Path) -> None:
    one = SetRun("cases", {"passed": 1.0}, {"answerable": {"passed": 1.0}}, (result("a", True),))
    write_run(tmp_path / "new", Run("x", "2026-12-02", "abc", {"cases": one}))
    loaded = load_run(tmp_path / "new")
    assert loaded.commit == "abc" and loaded.sets["cases"].by_id()["a"]["passed"] is True
    legacy = tmp_path / "heldout"
    legacy.mkdir()
    (legacy / "summary.json").write_text(json.dumps({"overall": {"passed": 0.0}}))
    (legacy / "results.jsonl").write_text(json.dumps(result("a", False)) + "\n")
    assert load_run(legacy).sets["heldout"].by_id()["a"]["passed"] is False
    with pytest.raises(evals.record.RunError, match="no eval run here"):
        load_run(tmp_path)


def test_history_skips_bad_lines_and_names_them(tmp_path: Path) -> None:
    committed, local = tmp_path / "history.jsonl", tmp_path / "out" / "history.jsonl"
    write_jsonl(committed, [history.entry("s", "baseline", {"mrr": 0.8}, "2026-12-01", "a")])
    write_jsonl(local, [history.entry("s", "run", {"mrr": 0.9}, "2026-12-02", "b")])
    with local.open("a") as handle:
        handle.write("{broken\n")
    lines, problems = history.read(committed, local)
    assert [(x["kind"], x["committed"]) for x in lines] == [("baseline", True), ("run", False)]
    [problem] = problems
    assert problem.startswith(f"{local}:2: not valid JSON") and problem.endswith("line skipped")


def registry(tmp_path: Path) -> Registry:
    for name in ("dev", "blind"):
        (tmp_path / f"{name}.jsonl").write_text("")
    data = {
        "sets": [
            {"name": "dev", "file": "dev.jsonl", "summary": None, "per_case": None, "gated": True},
            {
                "name": "blind",
                "file": "blind.jsonl",
                "summary": None,
                "per_case": None,
                "blind": True,
                "first_run": None,
            },
        ]
    }
    (tmp_path / "sets.json").write_text(json.dumps(data))
    return Registry.load(tmp_path / "sets.json")


def test_a_blind_set_is_run_for_the_first_time_only_on_purpose(tmp_path: Path) -> None:
    reg = registry(tmp_path)
    picked, skipped = select(reg, every=True)
    assert [s.name for s in picked] == ["dev"] and [s.name for s in skipped] == ["blind"]
    with pytest.raises(SelectionError, match="--first-run blind"):
        select(reg, names=["blind"])
    with pytest.raises(SelectionError, match="whole set"):
        select(reg, first_run=["blind"], category="safety")
    with pytest.raises(SelectionError, match="baseline covers the whole set"):
        select(reg, names=["dev"], category="safety", write_baseline=True)
    picked, _ = select(reg, first_run=["blind"])
    assert [(s.name, s.first_run) for s in picked] == [("blind", True)]
    reg.record_first_run("blind", "2026-12-02", "abc1234")
    again = Registry.load(tmp_path / "sets.json")
    assert again.get("blind").first_run == evals.sets.FirstRun("2026-12-02", "abc1234")
    with pytest.raises(SelectionError, match="not a blind set awaiting"):
        select(again, first_run=["blind"])


def test_bad_registry_and_tuning_are_named(tmp_path: Path) -> None:
    (tmp_path / "sets.json").write_text('{"sets": [{"name": "a"}]}')
    with pytest.raises(RegistryError, match=r"sets\[0\]: file is required"):
        Registry.load(tmp_path / "sets.json")
    assert parse_tuning(["gate_min_similarity=0.6", "support_units=1"]) == {
        "gate_min_similarity": 0.6,
        "support_units": 1,
    }
    with pytest.raises(SelectionError, match="NAME one of"):
        parse_tuning(["no_such_knob=1"])
    with pytest.raises(SelectionError, match="float expected"):
        parse_tuning(["gate_min_similarity=high"])


def synthetic_report(out: Path) -> Path:
    """A report of two sets, one with a category and a figure the evals do not know yet."""
    now = SetRun(
        "cases",
        {
            "hit@5": 0.9,
            "false_refusals": 0.1,
            "passed": 1.0,
            "cases": 2.0,
            "outcomes": {"answer": 1, "declined": 1},
        },
        {"topic_switch": {"hit@5": 1.0, "passed": 1.0}, "answerable": {"hit@5": 0.8}},
        (
            result("a-1", True, category="topic_switch"),
            result("a-2", False, answer="Sorry, the articles do not cover that."),
        ),
    )
    before = SetRun(
        "cases",
        {"hit@5": 1.0, "false_refusals": 0.0, "passed": 2.0, "cases": 2.0},
        results=(compact(result("a-1", True)), compact(result("a-2", True))),
    )
    comparison = compare_set(now, before, "committed baselines")
    entry = SetEntry("cases", None, now, comparison, False, "../cases.jsonl")
    run = Run(str(out), "2026-12-02T10:00:00Z", "abc1234", {"cases": now})
    lines = [
        history.entry("cases", k, {"hit@5": v, "passed": 1.0, "cases": 2.0}, d, c)
        | {"committed": k != "run"}
        for k, v, d, c in (
            ("baseline", 0.95, "2026-12-01", "a"),
            ("blind_first_run", 0.8, "2026-12-01T01", "b"),
            ("run", 0.9, "2026-12-02", "c"),
        )
    ]
    return report.write(out, run, [entry], {"cases": comparison}, lines).report


def test_the_page_renders_any_figure_and_category_and_is_self_contained(tmp_path: Path) -> None:
    page = synthetic_report(tmp_path).read_text()
    assert "outcomes.<wbr>answer" in page and "topic_switch" in page
    assert (
        page.index("Newly failing (1)")
        < page.index('id="change-a-2"')
        < page.index("Newly passing")
    )
    # Nothing the page loads comes from elsewhere: no src/href to another host, no @import.
    assert not re.search(r'(src|href)="(https?:)?//', page) and "@import" not in page
    assert page.count("<svg") == 3  # trend, categories, latency
    assert "Sorry, the articles do not cover that." in page


def test_junit_and_csv_record_every_case_with_its_status(tmp_path: Path) -> None:
    synthetic_report(tmp_path)
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    assert suite is not None and (suite.get("tests"), suite.get("failures")) == ("2", "1")
    failure = suite.find("testcase[@name='a-2']/failure")
    assert failure is not None and failure.get("type") == "newly_failing"
    assert failure.get("message") == "declined a question the articles answer"
    rows = list(csv.DictReader((tmp_path / "results.csv").open()))
    assert [(r["id"], r["status"], r["passed"], r["was_passed"]) for r in rows] == [
        ("a-1", "same", "1", "1"),
        ("a-2", "newly_failing", "0", "1"),
    ]


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _quotes(answer: str) -> list[str]:
    return [
        " ".join(re.sub(r"\s*\[\d+\]", "", x).split()) for x in answer.splitlines() if x.strip()
    ]


def test_a_seeded_difference_shows_first_under_newly_failing(
    built_settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """Two real CLI runs; the second with an answer gate no passage can pass."""
    cases = tmp_path / "cases.jsonl"
    rows = [
        (
            "priced",
            "answerable",
            "What would a package of microneedling sessions cost me?",
            "answer",
            [["\\$700"]],
        ),
        (
            "weather",
            "out_of_scope",
            "What will the weather be like in Paris tomorrow?",
            "abstain",
            [],
        ),
    ]
    cases.write_text(
        "".join(
            json.dumps(
                {
                    "id": i,
                    "category": c,
                    "history": [],
                    "question": q,
                    "expect": e,
                    "gold_sources": [],
                    "required_facts": f,
                    "forbidden": [],
                    "notes": "",
                }
            )
            + "\n"
            for i, c, q, e, f in rows
        )
    )
    monkeypatch.setenv("SKINQA_DATA_DIR", str(built_settings.data_dir))
    first, second = tmp_path / "first", tmp_path / "second"
    assert main(["--cases", str(cases), "--out", str(first)]) == 0
    before = {
        r["case"]["id"]: r for r in map(json.loads, (first / "cases" / "results.jsonl").open())
    }
    assert before["priced"]["passed"] and before["weather"]["passed"]
    # No passage is close enough to answer with, nor to quote as related.
    strict = [
        "gate_min_similarity",
        "gate_typed_similarity",
        "gate_anchored_similarity",
        "sentence_min_similarity",
    ]
    main(
        [
            "--cases",
            str(cases),
            "--out",
            str(second),
            "--compare",
            str(first),
            *(f"--tune={name}=0.99" for name in strict),
        ]
    )
    after = {
        r["case"]["id"]: r for r in map(json.loads, (second / "cases" / "results.jsonl").open())
    }
    assert not after["priced"]["passed"] and after["weather"]["passed"]

    page = (second / "report.html").read_text()
    section = page[page.index("<h2>Newly failing (1)") : page.index("<h2>Newly passing")]
    cards = re.findall(r'<details class="card change" id="change-([^"]+)"', section)
    assert cards == ["priced"]
    card = _text(section)
    for quote in _quotes(before["priced"]["reply"]["answer"]) + _quotes(
        after["priced"]["reply"]["answer"]
    ):
        assert quote in card
    assert "✓ “$700”" in card and "✗ missed \\$700" in card  # the fact, matched then missed

    junit = ET.parse(second / "junit.xml").getroot()
    failure = junit.find(".//testcase[@name='priced']/failure")
    assert failure is not None and failure.get("type") == "newly_failing"
    assert failure.get("message") == after["priced"]["reasons"][0]
    assert junit.find(".//testcase[@name='weather']/failure") is None
    out = capsys.readouterr().out
    assert (
        "newly failing cases/priced" in out
        and f"report: {(second / 'report.html').as_uri()}" in out
    )
    lines, _ = history.read(tmp_path / "none.jsonl", second / "history.jsonl")
    assert [x["metrics"]["passed"] for x in lines] == [1.0]
    assert lines[0]["tuning"] == {name: 0.99 for name in strict}


@pytest.mark.browser
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Debian's chromium")
def test_the_report_fits_1280_px_and_loads_nothing_from_the_network(tmp_path: Path) -> None:
    from evals.html.screenshot import WIDTH, capture

    facts = capture(synthetic_report(tmp_path), tmp_path / "top.png")
    assert facts["scroll_width"] == WIDTH and facts["external_requests"] == []
    assert facts["widest_element_right"] <= WIDTH
    assert (tmp_path / "top.png").stat().st_size > 10_000


def test_baselines_and_blind_first_runs_are_written_where_the_registry_says(
    bot, tmp_path: Path
) -> None:
    from evals.suite import Options, evaluate

    line = {
        "category": "answerable",
        "history": [],
        "expect": "answer",
        "gold_sources": [],
        "required_facts": [],
        "forbidden": [],
        "notes": "",
    }
    for name, question in (("dev", "Does microneedling hurt?"), ("blind", "Is it safe?")):
        (tmp_path / f"{name}.jsonl").write_text(
            json.dumps(line | {"id": f"{name}-1", "question": question}) + "\n"
        )
    data = {
        "sets": [
            {
                "name": "dev",
                "file": "dev.jsonl",
                "summary": "baseline-dev.json",
                "per_case": "baselines/dev.jsonl",
                "gated": True,
            },
            {
                "name": "blind",
                "file": "blind.jsonl",
                "summary": None,
                "per_case": None,
                "blind": True,
                "first_run": None,
            },
        ]
    }
    (tmp_path / "sets.json").write_text(json.dumps(data))
    reg = Registry.load(tmp_path / "sets.json")
    picked, skipped = select(reg, names=["dev"], first_run=["blind"])
    evaluate(bot, picked, reg, Options(out=tmp_path / "out", write_baseline=True), skipped)

    assert json.loads((tmp_path / "baseline-dev.json").read_text())["overall"]["cases"] == 1.0
    [record] = map(json.loads, (tmp_path / "baselines" / "dev.jsonl").open())
    assert record["id"] == "dev-1" and set(record) >= {"passed", "outcome", "answer", "citations"}
    reg = Registry.load(tmp_path / "sets.json")
    assert reg.get("blind").first_run is not None and not reg.get("blind").awaiting_first_run
    lines, _ = history.read(reg.history)
    assert sorted((x["set"], x["kind"]) for x in lines) == [
        ("blind", "baseline"),
        ("blind", "blind_first_run"),
        ("dev", "baseline"),
    ]
    # A set without baseline files gets the usual names, written into the registry.
    assert reg.get("blind").per_case == tmp_path / "baselines" / "blind.jsonl"
    assert (tmp_path / "baseline-blind.json").is_file()
    # The next run compares with the baseline just written: nothing moved.
    picked, _ = select(reg, names=["dev"])
    again = evaluate(bot, picked, reg, Options(out=tmp_path / "out2"))
    assert [c.status for c in again.comparisons["dev"].cases] == ["same"]
    assert again.comparisons["dev"].against == "committed baselines"
