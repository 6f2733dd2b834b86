"""Every test file sits in a tier: ``pytest`` (and so ``make test``) collects only
tests/unit, tests/integration and tests/e2e, so a test file anywhere else would never run."""

from __future__ import annotations

import tomllib

from ..conftest import ROOT

TIERS = ["tests/unit", "tests/integration", "tests/e2e"]


def test_pytest_collects_the_three_tiers_fast_first() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    assert config["tool"]["pytest"]["ini_options"]["testpaths"] == TIERS


def test_no_test_file_outside_a_tier() -> None:
    tests = ROOT / "tests"
    stray = [
        str(p.relative_to(ROOT))
        for p in tests.rglob("test_*.py")
        if not any(p.is_relative_to(ROOT / tier) for tier in TIERS)
    ]
    assert stray == [], f"move these into tests/unit, tests/integration or tests/e2e: {stray}"
