"""The clinic the chat hands clients over to, and which messages call for it.

``Clinic.load(path)`` reads ``data/clinic.yaml`` (or the file ``SKINQA_CLINIC_FILE``
names) and checks it, so a typo stops the app at start with the file and field named.
``Handoff`` tells a booking or price request from the word lists in
``data/handoff.yaml``.

>>> Clinic.load().phone_href
'tel:+15550100'
>>> Handoff.from_package().kind("can I book an appointment for Friday?")
'booking'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..data import load_yaml, pattern
from ..errors import AssistantError

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9][0-9 ().-]{3,30}$")


class ClinicFileError(AssistantError):
    """The clinic file is missing, not YAML, or a field is missing or malformed."""


@dataclass(frozen=True)
class Clinic:
    """The clinic's contact details, as shown to clients."""

    name: str
    phone: str
    email: str
    booking_url: str
    hours: tuple[str, ...]
    sample: bool = False  # the shipped, clearly fake values

    @property
    def phone_href(self) -> str:
        return "tel:" + re.sub(r"[^0-9+]", "", self.phone)

    @property
    def email_href(self) -> str:
        return f"mailto:{self.email}"

    @classmethod
    def load(cls, path: Path | None = None) -> Clinic:
        """The clinic of ``path``, or the packaged sample; ``ClinicFileError`` names the
        problem (the file and the field)."""
        where = str(path) if path else "assistant/data/clinic.yaml"
        try:
            data = yaml.safe_load(path.read_text("utf-8")) if path else load_yaml("clinic.yaml")
        except OSError as err:
            raise ClinicFileError(f"cannot read the clinic file {where}: {err.strerror}") from err
        except (yaml.YAMLError, UnicodeDecodeError) as err:
            raise ClinicFileError(f"the clinic file {where} is not valid YAML: {err}") from err
        if not isinstance(data, dict):
            raise ClinicFileError(f"the clinic file {where} must be a YAML mapping")
        return cls.from_dict(data, where)

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "the clinic file") -> Clinic:
        def text(field: str, check: re.Pattern[str] | None = None) -> str:
            value = data.get(field)
            if not isinstance(value, str) or not value.strip():
                raise ClinicFileError(f"{where}: '{field}' must be a non-empty string")
            value = value.strip()
            if check is not None and not check.match(value):
                raise ClinicFileError(f"{where}: '{field}' is not valid: {value!r}")
            return value

        url = text("booking_url")
        if not url.startswith(("https://", "http://")):
            raise ClinicFileError(f"{where}: 'booking_url' must start with https:// or http://")
        hours = data.get("hours", [])
        if isinstance(hours, str):
            hours = [hours]
        if not isinstance(hours, list) or not all(isinstance(h, str) for h in hours):
            raise ClinicFileError(f"{where}: 'hours' must be a list of lines of text")
        return cls(
            name=text("name"),
            phone=text("phone", PHONE),
            email=text("email", EMAIL),
            booking_url=url,
            hours=tuple(h.strip() for h in hours if h.strip()),
            sample=bool(data.get("sample", False)),
        )


class Handoff:
    """Which messages ask the clinic itself for something: ``booking`` or ``price``."""

    def __init__(self, patterns: dict[str, re.Pattern[str]]) -> None:
        self.patterns = patterns

    @classmethod
    def from_package(cls) -> Handoff:
        return cls({kind: pattern(text) for kind, text in load_yaml("handoff.yaml").items()})

    def kind(self, message: str) -> str | None:
        """The first kind of request the message makes, or None."""
        for kind, regex in self.patterns.items():
            if regex.search(message or ""):
                return kind
        return None
