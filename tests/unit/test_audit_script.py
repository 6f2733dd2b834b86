"""scripts/audit.py (``make audit``) on pip-audit reports written by hand: a skipped package
or a finding that is not accepted fails the audit."""

from __future__ import annotations

import importlib.util

import pytest

from ..conftest import ROOT

CLEAN = {"name": "numpy", "version": "2.4.6", "vulns": []}
SKIPPED = {
    "name": "torch",
    "skip_reason": "Dependency not found on PyPI and could not be audited: torch (2.13.0)",
}


@pytest.fixture
def audit(monkeypatch: pytest.MonkeyPatch):
    spec = importlib.util.spec_from_file_location("audit", ROOT / "scripts" / "audit.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def run(*deps: dict) -> int:
        monkeypatch.setattr(module, "pip_audit", lambda: {"dependencies": list(deps), "fixes": []})
        return module.main()

    return run


def vuln(vid: str, aliases: tuple[str, ...] = (), fixed: tuple[str, ...] = ()) -> dict:
    return {"id": vid, "aliases": list(aliases), "fix_versions": list(fixed), "description": ""}


def test_everything_audited_and_clean_passes(audit, capsys) -> None:
    assert audit(CLEAN) == 0
    assert "1 of 1 installed packages audited" in capsys.readouterr().out


def test_a_package_that_could_not_be_audited_fails(audit, capsys) -> None:
    assert audit(CLEAN, SKIPPED) == 1
    out = capsys.readouterr().out
    assert "1 of 2 installed packages audited" in out
    assert "NOT AUDITED: 1 packages" in out and "torch (2.13.0)" in out


def test_a_finding_fails_unless_accepted(audit, capsys) -> None:
    found = {"name": "somelib", "version": "1.0", "vulns": [vuln("GHSA-xxxx", fixed=("1.1",))]}
    assert audit(CLEAN, found) == 1
    assert "somelib 1.0: GHSA-xxxx (1.1) - NOT ACCEPTED" in capsys.readouterr().out


def test_an_accepted_finding_passes_and_is_printed_with_its_reason(audit, capsys) -> None:
    # pip-audit may report the PYSEC id with the accepted GHSA id among its aliases.
    chroma = {
        "name": "chromadb",
        "version": "1.5.9",
        "vulns": [vuln("PYSEC-2026-311", ("GHSA-f4j7-r4q5-qw2c",))],
    }
    assert audit(chroma) == 0
    out = capsys.readouterr().out
    assert "chromadb 1.5.9: PYSEC-2026-311 (no fixed release) - accepted: chromadb 1.5.9" in out
