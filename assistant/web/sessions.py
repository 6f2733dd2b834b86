"""Bounding what Gradio keeps per session.

Gradio keeps a ``SessionState`` per session hash: a copy of every component's config
(about 110 KB for this page) plus its ``gr.State`` values, up to
``state_session_capacity`` sessions, oldest dropped first. A browser page is one
session; every call of the ``/ask`` API from a plain HTTP client is a new one. So
``launch`` caps the number of sessions (``SKINQA_MAX_SESSIONS``), and each API call's
session is dropped as soon as it is answered, which keeps API traffic from pushing the
chats of real visitors out of that cap.

Gradio 6.31's queue also keeps, per session hash, the set of its pending event ids; the
set is emptied when the events finish but stays in the table for ever (one entry per API
call and per page visit, about 0.3 KB each). ``drop_finished_event_sets`` removes the
empty ones. (Its other per-session and per-event tables are bounded: 2,000 message
queues, 10,000 analytics records.)
"""

from __future__ import annotations

import contextlib
from typing import Any

import anyio.from_thread


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


def drop_finished_event_sets(blocks: Any) -> int:
    """Remove the empty sets of finished events from Gradio's queue; how many.

    Must run on the event loop's thread: Gradio reads a session's set, removes an event
    from it and checks whether it is empty with no ``await`` in between, so between two
    of its steps an empty set is never one that is still in use.
    """
    pending = getattr(getattr(blocks, "_queue", None), "pending_event_ids_session", None)
    if not isinstance(pending, dict):
        return 0
    empty = [session for session, events in pending.items() if not events]
    for session in empty:
        del pending[session]
    return len(empty)


def sweep_from_worker(blocks: Any) -> None:
    """``drop_finished_event_sets`` on the event loop, called from a Gradio worker thread
    (where a synchronous event handler runs); elsewhere it does nothing."""
    # RuntimeError: not in a worker thread of a running event loop.
    with contextlib.suppress(RuntimeError):
        anyio.from_thread.run_sync(drop_finished_event_sets, blocks)


def session_count(blocks: Any) -> int:
    holder = getattr(blocks, "state_holder", None)
    return len(holder.session_data) if holder is not None else 0
