"""No markup from LLM mode reaches the JSON API: the real app on a free port, LLM mode on
the scripted OpenAI-compatible server (tests/fake_openai.py)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from assistant.answer.pipeline import Assistant
from tests.fake_openai import FakeOpenAI
from tests.scripted_llm import number_of
from tests.servers import app_settings, running_app

pytestmark = [
    pytest.mark.filterwarnings("ignore:'future.no_silent_downcasting'"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]
QUESTION = "Does it hurt?"
STAFF_TOKEN = "a-staff-token-for-the-llm-web-test"


def numbered(text: str, snippet: str):
    def content(request: dict[str, Any]) -> str:
        return f"{text} [{number_of(request, snippet)}]"

    return content


MARKED = "It can generally be performed without any numbing solution.<script>alert(1)</script>"


def test_markup_never_reaches_the_json_api(
    llm_bot: Assistant, fake: FakeOpenAI, built_settings, tmp_path
) -> None:
    fake.push(numbered(MARKED + " <img src=x onerror=alert(1)>", "without any numbing"))
    # The staff view: the public one has no ``generator`` or ``dropped`` fields.
    settings = app_settings(built_settings, tmp_path, staff_token=SecretStr(STAFF_TOKEN))
    staff = {"authorization": f"Bearer {STAFF_TOKEN}"}
    with running_app(llm_bot, settings) as url:
        public = httpx.post(f"{url}/api/ask", json={"question": QUESTION}, timeout=60).json()
        fake.push(numbered(MARKED + " <img src=x onerror=alert(1)>", "without any numbing"))
        reply = httpx.post(
            f"{url}/api/ask", json={"question": QUESTION}, headers=staff, timeout=60
        ).json()
    assert "generator" not in public and "dropped" not in public
    for field in ("answer", "body"):
        assert "<" not in public[field] and "alert" not in public[field]
    assert reply["generator"] == "llm"
    assert "without any numbing solution." in reply["answer"]
    for field in ("answer", "body"):
        assert "<" not in reply[field] and "alert" not in reply[field]
    # Listed for staff as the stream revealed them: the tag names only, never the markup.
    removed = " ".join(d["reason"] for d in reply["dropped"] if d["reason"].startswith("HTML"))
    assert "<script>" in removed and "<img>" in removed and "alert" not in removed
