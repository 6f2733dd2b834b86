"""The registry of eval sets (``evals/sets.json``): each set's file, baselines and blindness.

>>> registry = Registry.load()
>>> registry.get("cases").gated
True
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REGISTRY = Path(__file__).with_name("sets.json")


class RegistryError(ValueError):
    """The registry file, or a name looked up in it, is wrong."""


@dataclass(frozen=True)
class FirstRun:
    """When a blind set was first run; only that run measures questions nobody tuned for."""

    date: str
    commit: str | None = None


@dataclass(frozen=True)
class EvalSet:
    name: str
    file: Path
    summary: Path | None  # the committed baseline figures (overall and per category)
    per_case: Path | None  # the committed baseline's per-case records
    gated: bool = False
    blind: bool = False
    written: str = ""
    first_run: FirstRun | None = None
    about: str = ""

    @property
    def awaiting_first_run(self) -> bool:
        """A blind set nobody has run yet: its first run must be a deliberate act."""
        return self.blind and self.first_run is None


def _path(folder: Path, value: Any, where: str) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise RegistryError(f"{where}: must be a relative path or null")
    return folder / value


def _entry(folder: Path, raw: Any, where: str) -> EvalSet:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise RegistryError(f"{where}: each set is an object with a name")
    first = raw.get("first_run")
    if first is not None and not (isinstance(first, dict) and isinstance(first.get("date"), str)):
        raise RegistryError(f"{where}: first_run must be null or {{date, commit}}")
    file = _path(folder, raw.get("file"), f"{where}.file")
    if file is None:
        raise RegistryError(f"{where}: file is required")
    return EvalSet(
        name=raw["name"],
        file=file,
        summary=_path(folder, raw.get("summary"), f"{where}.summary"),
        per_case=_path(folder, raw.get("per_case"), f"{where}.per_case"),
        gated=bool(raw.get("gated", False)),
        blind=bool(raw.get("blind", False)),
        written=str(raw.get("written", "")),
        first_run=None if first is None else FirstRun(first["date"], first.get("commit")),
        about=str(raw.get("about", "")),
    )


@dataclass(frozen=True)
class Registry:
    path: Path
    sets: tuple[EvalSet, ...]

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def history(self) -> Path:
        """The committed history: baselines and blind first runs."""
        return self.folder / "history.jsonl"

    @classmethod
    def load(cls, path: Path = REGISTRY) -> Registry:
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise RegistryError(f"{path}: cannot read the set registry ({err})") from err
        raw_sets = data.get("sets") if isinstance(data, dict) else None
        if not isinstance(raw_sets, list) or not raw_sets:
            raise RegistryError(f"{path}: 'sets' must be a non-empty list")
        sets = tuple(
            _entry(path.parent, s, f"{path.name}: sets[{i}]") for i, s in enumerate(raw_sets)
        )
        names = [s.name for s in sets]
        if len(set(names)) != len(names):
            raise RegistryError(f"{path}: set names must be unique, got {names}")
        return cls(path, sets)

    def get(self, name: str) -> EvalSet:
        for s in self.sets:
            if s.name == name:
                return s
        raise RegistryError(f"no eval set named {name!r}; known: {[s.name for s in self.sets]}")

    def for_file(self, file: Path) -> EvalSet | None:
        """The registered set whose case file this is, if any."""
        target = file.resolve()
        return next((s for s in self.sets if s.file.resolve() == target), None)

    def _update(self, name: str, fields: dict[str, Any]) -> Registry:
        """Change one set's entry in the registry file, keeping everything else as it is."""
        data = json.loads(self.path.read_text("utf-8"))
        for raw in data["sets"]:
            if raw["name"] == name:
                raw.update(fields)
        self.path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")
        return Registry.load(self.path)

    def record_first_run(self, name: str, date: str, commit: str | None) -> Registry:
        """Write the date and commit of a blind set's first run into the registry file."""
        return self._update(name, {"first_run": {"date": date, "commit": commit}})

    def baseline_paths(self, name: str) -> tuple[Path, Path, Registry]:
        """A set's baseline files; a set without any gets the usual names, registered."""
        s = self.get(name)
        if s.summary is not None and s.per_case is not None:
            return s.summary, s.per_case, self
        summary = s.summary or self.folder / f"baseline-{name}.json"
        per_case = s.per_case or self.folder / "baselines" / f"{name}.jsonl"
        fields = {
            "summary": summary.relative_to(self.folder).as_posix(),
            "per_case": per_case.relative_to(self.folder).as_posix(),
        }
        return summary, per_case, self._update(name, fields)
