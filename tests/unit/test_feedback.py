"""web.feedback: the append-only JSON-lines log, under threads, processes and bad records."""

from __future__ import annotations

import json
import multiprocessing
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

from assistant.web.feedback import FeedbackLog


def _record(i: int) -> dict[str, Any]:
    # Larger than a pipe buffer, so unsynchronised writers would interleave.
    return {"id": i, "answer": f"réponse {i} " + "x" * 8000, "comment": 'ok\n"quoted"'}


def test_concurrent_feedback_writes_give_one_valid_line_each(tmp_path) -> None:
    path = tmp_path / "sub" / "feedback.jsonl"
    log = FeedbackLog(path)
    threads = [threading.Thread(target=log.append, args=(_record(i),)) for i in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = path.read_text("utf-8").splitlines()
    assert len(lines) == 200
    assert sorted(json.loads(line)["id"] for line in lines) == list(range(200))


def _append_many(path: str, start: int) -> None:
    log = FeedbackLog(path)
    for i in range(start, start + 25):
        log.append(_record(i))


def test_feedback_writes_from_several_processes(tmp_path) -> None:
    path = str(tmp_path / "feedback.jsonl")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(path, k * 25)) for k in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    lines = Path(path).read_text("utf-8").splitlines()
    assert sorted(json.loads(line)["id"] for line in lines) == list(range(100))


def test_a_record_is_one_utf8_line_in_a_private_file(tmp_path) -> None:
    path = tmp_path / "feedback.jsonl"
    FeedbackLog(path).append({"comment": "Crème\nand “quotes”", "vote": "down"})
    assert path.read_text("utf-8") == '{"comment": "Crème\\nand “quotes”", "vote": "down"}\n'
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # feedback may hold personal details


def test_a_record_that_cannot_be_written_leaves_the_log_as_it_was(tmp_path) -> None:
    log = FeedbackLog(tmp_path / "feedback.jsonl")
    log.append({"id": 1})
    loop: dict[str, Any] = {}
    loop["self"] = loop
    with pytest.raises(ValueError, match="Circular reference"):
        log.append(loop)
    log.append({"id": 2})  # and the log is not left locked
    lines = (tmp_path / "feedback.jsonl").read_text("utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [{"id": 1}, {"id": 2}]
