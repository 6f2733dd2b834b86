"""Bounding what Gradio keeps per session.

Gradio keeps a ``SessionState`` per session hash: a copy of every component's config
(about 110 KB for this page) plus its ``gr.State`` values, up to
``state_session_capacity`` sessions, oldest dropped first. A browser page is one
session; every call of the ``/ask`` API from a plain HTTP client is a new one. So
``launch`` caps the number of sessions (``SKINQA_MAX_SESSIONS``), and each API call's
session is dropped as soon as it is answered, which keeps API traffic from pushing the
chats of real visitors out of that cap.
"""

from __future__ import annotations

from typing import Any


def forget_api_session(blocks: Any, session_hash: str | None) -> bool:
    """Drop the session of an API call; True if one was dropped.

    Only a session holding no ``gr.State`` value is dropped: an API call never touches
    one, while a browser page does at once (the staff view's login flag on load), so a
    call naming a page's session hash cannot wipe that page's conversation.
    """
    holder = getattr(blocks, "state_holder", None)
    if holder is None or not session_hash:
        return False
    with holder.lock:
        session = holder.session_data.get(session_hash)
        if session is None or session.state_data:
            return False
        del holder.session_data[session_hash]
        holder.time_last_used.pop(session_hash, None)
    return True


def session_count(blocks: Any) -> int:
    holder = getattr(blocks, "state_holder", None)
    return len(holder.session_data) if holder is not None else 0
