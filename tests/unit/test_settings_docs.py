"""The settings table in docs/operations.md is the one ``Settings`` generates."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from assistant.settings import markdown_table

from ..conftest import ROOT


@pytest.fixture(scope="module")
def script():
    """scripts/settings_table.py (``make docs``), loaded as a module."""
    spec = importlib.util.spec_from_file_location(
        "settings_table", ROOT / "scripts" / "settings_table.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_docs_table_is_the_generated_one(script) -> None:
    _, table, _ = script.split(script.PAGE.read_text("utf-8"))
    assert table == markdown_table(), "the settings changed: run `make docs`"


def test_every_setting_has_a_row_with_its_variable_and_meaning() -> None:
    from assistant.settings import Settings

    rows = markdown_table().splitlines()[2:]
    assert len(rows) == len(Settings.model_fields)
    for row, (name, field) in zip(rows, Settings.model_fields.items(), strict=True):
        assert row.startswith(f"| `SKINQA_{name.upper()}` |")
        assert field.description and row.endswith(f"| {field.description} |")


def test_regenerating_replaces_only_the_table(script) -> None:
    page = f"intro\n{script.START}\n| old | table |\n{script.END}\nafter\n"
    assert (
        script.with_table(page)
        == f"intro\n{script.START}\n{markdown_table()}\n{script.END}\nafter\n"
    )
    with pytest.raises(ValueError, match="markers"):
        script.with_table("a page without markers")


def test_the_module_prints_the_table() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "assistant.settings"], capture_output=True, text=True, check=True
    ).stdout
    assert printed == markdown_table() + "\n"
