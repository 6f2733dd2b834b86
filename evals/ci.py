"""Files for CI systems: JUnit XML (a test case per eval case) and a CSV of per-case results.

A failing eval case is a JUnit ``<failure>`` whose message is its first reason and whose
text holds every reason, the question and the answer; its type says whether it is newly
failing against the compared run.
"""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from .compare import SetComparison, facts
from .record import SetRun

CSV_COLUMNS = (
    "set",
    "id",
    "category",
    "expect",
    "passed",
    "status",
    "outcome",
    "reason",
    "was_passed",
    "was_outcome",
    "fact_recall",
    "facts_missed",
    "hit@5",
    "mrr",
    "citation_precision",
    "latency_ms",
    "reasons",
    "question",
    "answer",
)


def _failure_text(result: dict[str, Any]) -> str:
    lines = [f"- {r}" for r in result["reasons"]]
    lines += ["", f"question: {result['case']['question']}", "", result["reply"]["answer"]]
    return "\n".join(lines)


def write_junit(path: Path, runs: list[SetRun], comparisons: dict[str, SetComparison]) -> None:
    suites = ET.Element("testsuites", name="evals")
    total = failed = 0
    seconds = 0.0
    for run in runs:
        comparison = comparisons.get(run.name)
        failing = sum(not r["passed"] for r in run.results)
        time = sum(r["latency_ms"] for r in run.results) / 1000
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=run.name,
            tests=str(len(run.results)),
            failures=str(failing),
            errors="0",
            time=f"{time:.3f}",
        )
        for result in run.results:
            case = result["case"]
            test = ET.SubElement(
                suite,
                "testcase",
                classname=f"evals.{run.name}.{case['category']}",
                name=case["id"],
                time=f"{result['latency_ms'] / 1000:.4f}",
            )
            if not result["passed"]:
                status = comparison.status_of(case["id"]) if comparison else "failing"
                failure = ET.SubElement(
                    test,
                    "failure",
                    message=result["reasons"][0] if result["reasons"] else "failed",
                    type=status,
                )
                failure.text = _failure_text(result)
        total += len(run.results)
        failed += failing
        seconds += time
    suites.set("tests", str(total))
    suites.set("failures", str(failed))
    suites.set("time", f"{seconds:.3f}")
    ET.indent(suites)
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)


def _row(run: SetRun, result: dict[str, Any], comparison: SetComparison | None) -> dict[str, Any]:
    case, reply = result["case"], result["reply"]
    change = next((c for c in comparison.cases if c.id == case["id"]), None) if comparison else None
    old = change.old if change else None
    missed = [p for p, found in facts(reply["answer"], case["required_facts"]) if found is None]
    return {
        "set": run.name,
        "id": case["id"],
        "category": case["category"],
        "expect": case["expect"],
        "passed": int(bool(result["passed"])),
        "status": change.status if change else "",
        "outcome": reply.get("outcome", ""),
        "reason": reply.get("reason", ""),
        "was_passed": "" if old is None else int(bool(old["passed"])),
        "was_outcome": "" if old is None else old.get("outcome") or "",
        "fact_recall": result.get("fact_recall", ""),
        "facts_missed": json.dumps(missed, ensure_ascii=False) if missed else "",
        "hit@5": result.get("hit@5", ""),
        "mrr": result.get("mrr", ""),
        "citation_precision": result.get("citation_precision", ""),
        "latency_ms": round(result["latency_ms"], 1),
        "reasons": " | ".join(result["reasons"]),
        "question": case["question"],
        "answer": reply["answer"],
    }


def write_csv(path: Path, runs: list[SetRun], comparisons: dict[str, SetComparison]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for run in runs:
            for result in run.results:
                writer.writerow(_row(run, result, comparisons.get(run.name)))
