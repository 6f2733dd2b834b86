"""The package's data files: word lists, patterns and fixed wording staff can review.

>>> load_yaml("wording.yaml")["answer_lead"]
"Here is what the clinic's articles say:"
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

import yaml


def read_text(name: str) -> str:
    """A data file's text (UTF-8)."""
    return resources.files(__name__).joinpath(name).read_text("utf-8")


def load_yaml(name: str) -> Any:
    """A data file parsed as YAML."""
    return yaml.safe_load(read_text(name))


def pattern(text: str, flags: int = re.IGNORECASE) -> re.Pattern[str]:
    """A regex from a data file; long ones are folded over lines, and the folds are not
    spaces."""
    return re.compile("".join(line.strip() for line in text.splitlines()), flags)


def domain_pattern(name: str, flags: int = re.IGNORECASE) -> re.Pattern[str]:
    """One of the patterns of ``domain.yaml``."""
    return pattern(load_yaml("domain.yaml")[name], flags)


def load_wording() -> dict[str, str]:
    """The vetted fixed wording (``wording.yaml``), whitespace-normalised."""
    return {k: " ".join(str(v).split()) for k, v in load_yaml("wording.yaml").items()}
